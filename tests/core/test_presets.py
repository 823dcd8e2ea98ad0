"""The presets: ``recipe`` is the recipe exactly, ``best`` differs only where it was measured to pay."""

from dataclasses import asdict

import pytest

from carseg_gui.core.config import ConfigError, TrainConfig
from carseg_gui.core.jobs import InputError
from carseg_gui.core.presets import PRESETS, describe_changes, make_config, preset_names

# The recipe as written: U-Net 16 filters, binary cross-entropy, Adam 1e-3, 128x128, early stopping with
# patience 2, 10 % validation, batch 16, no augmentation (and nothing the recipe does not have).
RECIPE = {
    "filters": 16,
    "loss": "bce",
    "learning_rate": 1e-3,
    "size": 128,
    "patience": 2,
    "val_split": 0.1,
    "batch_size": 16,
    "epochs": 50,
    "augment": "none",
    "batch_norm": False,
    "dropout": True,
    "levels": 4,
    "lr_schedule": "none",
    "tta": False,
    "keep_largest": False,
    "fill_holes": False,
    "precision": "off",  # float32: the recipe's arithmetic (mixed precision is the best preset's)
}


def test_recipe_preset_is_exactly_the_recipe() -> None:
    config = make_config("recipe")
    assert {k: getattr(config, k) for k in RECIPE} == RECIPE
    assert config.preset == "recipe"
    # The defaults of TrainConfig (what the GUI starts from) are the recipe too, but for its precision,
    # which config.py still defaults to "auto" (a change asked of its owner).
    assert {**asdict(TrainConfig()), "precision": "off"} == asdict(config)


def test_only_the_recipe_is_float32() -> None:
    assert make_config("recipe").precision == "off" and make_config("best").precision == "auto"
    assert make_config("recipe", precision="auto").precision == "auto"  # --mixed-precision auto still applies


def test_every_preset_has_a_one_line_description_and_valid_settings() -> None:
    assert preset_names()[:2] == ["recipe", "best"]
    for name, preset in PRESETS.items():
        assert preset.name == name and preset.description and "\n" not in preset.description
        make_config(name).validate()


def test_best_changes_only_settings_beyond_the_recipe_shape() -> None:
    best = make_config("best")
    assert best.preset == "best"
    assert best.loss == "bce_dice" and best.augment != "none" and best.tta
    assert best.learning_rate == RECIPE["learning_rate"] and best.val_split == RECIPE["val_split"]


def test_fast_is_best_with_a_cheaper_block_stopped_early_and_guided() -> None:
    """``fast``: best's model, data, loss and inference with 8 base filters, a 48-epoch cosine ended by
    early stopping on the validation loss (patience 2); the guided upsampling is best's own (ACCURACY.md)."""
    fast, best = asdict(make_config("fast")), asdict(make_config("best"))
    changed = {k for k in best if fast[k] != best[k]}
    assert changed == {"preset", "filters", "epochs", "patience"}
    assert (fast["filters"], fast["epochs"], fast["patience"], fast["upsample"]) == (8, 48, 2, "guided")
    assert (fast["size"], fast["levels"], fast["batch_norm"], fast["lr_schedule"]) == (256, 5, True, "cosine")
    words = dict(describe_changes(fast))
    assert words["filters"] == "filters 8" and words["upsample"] == "outline guided by the photo"
    assert dict(describe_changes(best))["upsample"] == "outline guided by the photo"  # chosen nested, bench_select
    assert make_config("fast", filters=16).filters == 16  # an explicit setting still wins


def test_overrides_apply_on_top_and_none_means_the_preset_value() -> None:
    config = make_config("best", epochs=3, size=None, filters=8)
    assert config.epochs == 3 and config.filters == 8 and config.size == PRESETS["best"].settings["size"]
    assert config.preset == "best"


@pytest.mark.parametrize(
    ("name", "overrides", "needle"),
    [("quickest", {}, "unknown preset"), ("recipe", {"colour": 1}, "unknown training setting")],
)
def test_bad_preset_or_setting_is_an_input_error(name: str, overrides: dict, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        make_config(name, **overrides)


@pytest.mark.parametrize(
    ("field", "value"), [("loss", "focal"), ("augment", "mixup"), ("lr_schedule", "step"), ("preset", "x")]
)
def test_validate_rejects_unknown_choices(field: str, value: str) -> None:
    config = TrainConfig(**{field: value})
    with pytest.raises(ConfigError) as caught:
        config.validate()
    assert caught.value.field == field and repr(value) in caught.value.problem


def test_size_must_suit_the_number_of_levels() -> None:
    make_config("recipe", size=80).validate()  # 80 = 5 x 16
    with pytest.raises(InputError, match="multiple of 32"):
        make_config("recipe", size=80, levels=5).validate()


def test_describe_changes_names_each_difference_from_a_preset() -> None:
    from dataclasses import asdict

    from carseg_gui.core.presets import describe_changes

    assert describe_changes(asdict(make_config("recipe"))) == []
    words = dict(describe_changes(PRESETS["best"].settings))
    assert words["size"] == "size 256" and words["levels"] == "5 levels" and words["batch_norm"] == "BatchNorm"
    assert words["loss"] == "BCE + Dice loss" and words["tta"] == "flip TTA"
    assert describe_changes(asdict(make_config("best", size=128, val_split=0.2)), "best") == [
        ("val_split", "validation 20%"),
        ("size", "size 128"),
    ]


def test_precision_is_in_the_description_not_a_listed_change() -> None:
    from carseg_gui.core.presets import describe_changes

    assert "float32" in PRESETS["recipe"].description
    assert "mixed precision" in PRESETS["best"].description
    assert "precision" not in dict(describe_changes(asdict(make_config("best"))))
