"""Progressive resizing: the first epochs at a smaller size, the rest at the training size from those
weights, one cosine schedule over both; the run's model is always the training size's."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from carseg_gui.core.config import ConfigError
from carseg_gui.core.jobs import CancelToken, Progress
from carseg_gui.core.presets import describe_changes, make_config
from carseg_gui.core.training import train
from tests.datasets import make_carvana


def _tiny(**kw: object) -> dict[str, object]:
    base = {"size": 32, "levels": 3, "filters": 4, "epochs": 3, "batch_size": 8, "val_split": 0.25}
    return {**base, "precision": "off", **kw}


@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        ({"warmup_size": 32, "warmup_epochs": 1}, "warmup_size", "below size 32"),
        ({"warmup_size": 12, "warmup_epochs": 1}, "warmup_size", "multiple of 8"),
        ({"warmup_size": 16, "warmup_epochs": 3}, "warmup_epochs", "between 1 and epochs - 1 (2)"),
        ({"warmup_size": 16, "warmup_epochs": 0}, "warmup_epochs", "got 0"),
        ({"checkpoint_every": -1}, "checkpoint_every", "at least 0"),
    ],
)
def test_warmup_settings_are_checked(settings: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_config("best", **_tiny(**settings)).validate()
    assert err.value.field == field and words in err.value.problem


def test_the_warmup_is_described_in_words() -> None:
    from dataclasses import asdict

    settings = asdict(make_config("best", **_tiny(warmup_size=16, warmup_epochs=2)))
    assert ("warmup_size", "first 2 epochs at 16 px") in describe_changes(settings, "best")
    assert not [k for k, _ in describe_changes(settings, "best") if k == "warmup_epochs"]


@pytest.mark.slow
def test_warmup_trains_small_then_full_size_on_one_schedule(tmp_path: Path) -> None:
    from carseg_gui.core.unet import load_model

    data = make_carvana(tmp_path / "data", cars=4, views=4, test=0)
    config = make_config("best", **_tiny(warmup_size=16, warmup_epochs=2, checkpoint_every=1))
    run = train(data, tmp_path / "project", config)
    assert run.status == "finished"
    history = json.loads((run.folder / "history.json").read_text())
    assert [h["size"] for h in history] == [16, 16, 32]
    rates = [h["learning_rate"] for h in history]
    assert rates == sorted(rates, reverse=True) and rates[0] > rates[-1]  # one cosine, not a restart at 32 px
    assert all(h["elapsed_s"] > 0 for h in history) and history[-1]["elapsed_s"] >= history[0]["elapsed_s"]
    assert run.metrics["best_epoch"] == 3  # only an epoch at the training size can be the kept model
    assert load_model(run.folder / "model.keras").input_shape[1:3] == (32, 32)
    shots = sorted((run.folder / "checkpoints").glob("epoch-*.keras"))
    assert [p.name for p in shots] == ["epoch-001.keras", "epoch-002.keras", "epoch-003.keras"]
    assert [load_model(p).input_shape[1] for p in shots] == [16, 16, 32]
    assert not list(run.folder.rglob("*.partial.keras"))


@pytest.mark.slow
def test_a_cancel_in_the_warmup_leaves_no_model_of_the_wrong_size(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=4, views=4, test=0)
    cancel = CancelToken()

    def progress(p: Progress) -> None:
        if p.stage == "epoch" and p.done == 1:
            cancel.cancel()

    config = make_config("best", **_tiny(warmup_size=16, warmup_epochs=2))
    run = train(data, tmp_path / "project", config, progress=progress, cancel=cancel)
    assert run.status == "cancelled"
    assert not (run.folder / "model.keras").exists()
    assert [h["size"] for h in json.loads((run.folder / "history.json").read_text())] == [16]


def test_the_cli_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from carseg_gui.cli import main

    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    code = main(["train", str(data), "--preset", "best", "--size", "64", "--warmup-size", "64", "--epochs", "2"])
    assert code == 2
    assert "--warmup-size must be a multiple of 32 below size 64 (0: off), got 64" in capsys.readouterr().err


@pytest.fixture
def warm_preset(monkeypatch: pytest.MonkeyPatch) -> str:
    """A preset that warms up, as the progressive ``fast`` of ACCURACY.md did: best, 24 of 36 epochs at 128."""
    from carseg_gui.core import config, presets

    settings = {**presets.BEST, "epochs": 36, "warmup_size": 128, "warmup_epochs": 24, "upsample": "guided"}
    preset = presets.Preset("warm", "test: progressive resizing", settings)
    monkeypatch.setitem(presets.PRESETS, "warm", preset)
    monkeypatch.setattr(config, "KNOWN_PRESETS", {*config.KNOWN_PRESETS, "warm"})  # what validate() accepts
    return "warm"


def test_a_presets_warmup_follows_the_size_and_epochs_chosen(warm_preset: str) -> None:
    warm = make_config(warm_preset)
    assert (warm.size, warm.epochs, warm.warmup_size, warm.warmup_epochs) == (256, 36, 128, 24)
    assert make_config(warm_preset, epochs=20).warmup_epochs == 13  # its share of the epochs
    assert make_config(warm_preset, epochs=2).warmup_epochs == 1
    one = make_config(warm_preset, epochs=1)
    assert (one.warmup_size, one.warmup_epochs) == (0, 0)
    small = make_config(warm_preset, size=128)  # nothing smaller to start from: every epoch at 128
    assert (small.warmup_size, small.warmup_epochs) == (0, 0)
    small.validate()
    mine = make_config(warm_preset, size=128, warmup_size=64, warmup_epochs=5)  # what the user set is kept
    assert (mine.warmup_size, mine.warmup_epochs) == (64, 5)
    for config in (warm, make_config(warm_preset, epochs=20), make_config(warm_preset, epochs=2)):
        config.validate()
    words = dict(describe_changes(asdict(warm)))
    assert words["warmup_size"] == "first 24 epochs at 128 px"


def test_no_shipped_preset_warms_up() -> None:
    for name in ("recipe", "fast", "best"):
        config = make_config(name)
        assert (config.warmup_size, config.warmup_epochs) == (0, 0)
        assert "warmup_size" not in dict(describe_changes(asdict(config)))
