"""Named training presets: ``recipe`` (the recipe exactly, computed in float32) and ``best`` (the most
accurate masks per minute of CPU training measured in ``benchmarks/ACCURACY.md``).

A preset is a set of :class:`~.training.TrainConfig` values; ``make_config("best", epochs=10)`` starts
from the preset and applies explicit overrides on top. The run's ``config.json`` records the preset's
name and every resolved setting, and prediction, export and evaluation read the inference settings
(``tta``, ``keep_largest``, ``fill_holes``) back from there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .config import KNOWN_PRESETS, TrainConfig
from .jobs import InputError


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # one line, for the CLI help and the training panel
    settings: dict[str, Any]


# The recipe as it is written: plain U-Net with 16 base filters, binary cross-entropy, Adam 1e-3,
# 128x128, early stopping after 2 epochs without val_loss improvement, 10 % of the cars for validation,
# batch 16, no augmentation, no schedule, no test-time augmentation, no post-processing, and float32
# arithmetic: mixed precision (bfloat16 on CPUs that have it, float16 on GPUs) is faster but not the recipe.
RECIPE: dict[str, Any] = {
    "epochs": 50,
    "patience": 2,
    "val_split": 0.1,
    "batch_size": 16,
    "size": 128,
    "warmup_size": 0,  # every epoch at the training size (said first in a preset's note: it sets the time)
    "warmup_epochs": 0,
    "filters": 16,
    "learning_rate": 1e-3,
    "loss": "bce",
    "batch_norm": False,
    "dropout": True,
    "levels": 4,
    "augment": "none",
    "lr_schedule": "none",
    "tta": False,
    "keep_largest": False,
    "fill_holes": False,
    "precision": "off",
    "upsample": "bilinear",  # how masks reach the photo's size (the Carvana measure)
}

# Each change from the recipe is kept because it measured better on held-out cars (ACCURACY.md).
BEST: dict[str, Any] = {
    **RECIPE,
    "epochs": 60,
    "patience": 60,  # the cosine schedule sets the length; the best validation epoch is still kept
    "batch_size": 8,  # twice the steps for the same epoch time: 0.983 -> 0.985 on fold 0
    "size": 256,  # sharper outlines at full size than 128 ...
    "levels": 5,  # ... once the U-Net pools once more, so its bottleneck sees the whole car again
    "batch_norm": True,
    "dropout": False,  # dropout before BatchNorm shifts its statistics: 0.968 with, 0.977 without
    "loss": "bce_dice",  # 3-fold mean 0.9852 -> 0.9860, and fold 0 from 0.9827 to 0.9851
    "augment": "full",  # +0.038 on fold 0 at 128 px; flips alone add nothing, shifts/scales/colour do
    "lr_schedule": "cosine",  # neutral at 128 px; the k-fold was measured with it
    "tta": True,  # +0.0005 to +0.002 on every fold
    "keep_largest": True,  # with fill_holes: +0.0035 on fold 1, neutral on folds 0 and 2
    "fill_holes": True,
    "precision": "auto",  # bfloat16/float16 where it times faster: 4-5x on AMX CPUs, 7.7x slower without BF16
    # Chosen nested (bench_select.py: 48 inference settings scored on the run's validation car only):
    # validation car 0.9910 -> 0.9929, then held-out cars 0.9865 -> 0.9883. The 3-fold 0.986 was bilinear.
    "upsample": "guided",
}

# The best preset's accuracy in a third of its time, where compute sets the time: the same U-Net with 8 base
# filters instead of 16 (0.42x the time per training step at 256 px in float32), a 48-epoch cosine ended by
# early stopping after 2 epochs without improvement. Chosen as the 8-filter run that fits in a third of best's
# time on an AVX2 CPU (the validation car preferred a 60-epoch one, which does not), scored on cars never used
# to choose (ACCURACY.md, "A cheaper block"): 0.9870 held-out against best's 0.9868, one run each. On a CPU
# with fast bfloat16 (AVX-512 BF16) the saving vanishes: best 674 s, fast 632 s, back to back on the same 14
# cars (ACCURACY.md, "Both presets in one session"). The earlier `fast` (progressive resizing, 24 of 36
# epochs at 128 px) is `--preset best --epochs 36 --warmup-size 128 --warmup-epochs 24`: 0.0026-0.0042
# below best on the same cars.
FAST: dict[str, Any] = {**BEST, "filters": 8, "epochs": 48, "patience": 2}

PRESETS: dict[str, Preset] = {
    "recipe": Preset(
        "recipe", "The recipe exactly: U-Net 16 filters, BCE, Adam 1e-3, 128x128, patience 2, float32 (fast)", RECIPE
    ),
    "best": Preset(
        "best",
        "Most accurate: 256x256, 5-level U-Net with BatchNorm, BCE + Dice, flips/shifts/colour, cosine LR, "
        "flip TTA, largest component + filled holes, outline guided by the photo, mixed precision where it "
        "times faster (15-18 min for 200 images on 2 cores of an AMX Xeon, 11 min for 224 on an AVX-512 "
        "BF16 EPYC, about 2 h on 2 cores of a CPU without BF16 units)",
        BEST,
    ),
    "fast": Preset(
        "fast",
        "The best preset's accuracy (within 0.001 on unseen cars) in about a third of its time on CPUs without "
        "bfloat16 units, in about the same time where bfloat16 is fast: its U-Net with 8 filters, a 48-epoch "
        "cosine ended by early stopping (patience 2), outlines guided by the photo",
        FAST,
    ),
}

KNOWN_PRESETS.update(PRESETS)


def preset_names() -> list[str]:
    return list(PRESETS)


def make_config(name: str = "recipe", **overrides: Any) -> TrainConfig:
    """A TrainConfig holding the preset's settings, then ``overrides`` (``None`` values are ignored,
    so argparse defaults of ``None`` mean "the preset's value")."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r} (choose {', '.join(PRESETS)})")
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise InputError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in overrides.items() if v is not None}
    values = fit_warmup({**PRESETS[name].settings, **given, "preset": name}, set(given))
    return TrainConfig(**values)


def fit_warmup(values: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """A preset's progressive resizing follows the size and epochs the user chose, unless the user set it
    too: at a size not above the warm-up size it is off (nothing smaller to start from); for other epochs
    the warm-up keeps its share of them (24 of 36 at 128 px, so 13 of 20). No preset warms up now (the
    progressive ``fast`` measured below best; ACCURACY.md), but one that does gets this."""
    small = values.get("warmup_size", 0)
    if not small or {"warmup_size", "warmup_epochs"} <= given:
        return values
    out = dict(values)
    if "warmup_size" not in given and small >= out["size"]:
        out["warmup_size"] = out["warmup_epochs"] = 0
        return out
    own = PRESETS[out["preset"]].settings if out.get("preset") in PRESETS else {}
    if "warmup_epochs" not in given and own.get("warmup_epochs") and out["epochs"] != own["epochs"]:
        first = round(out["epochs"] * own["warmup_epochs"] / own["epochs"])
        out["warmup_epochs"] = min(max(first, 1), out["epochs"] - 1)
        if out["warmup_epochs"] < 1:  # one epoch in all: at the training size
            out["warmup_size"] = out["warmup_epochs"] = 0
    return out


_WORDS: dict[str, dict[Any, str]] = {
    "loss": {"bce_dice": "BCE + Dice loss", "bce": "BCE loss"},
    "batch_norm": {True: "BatchNorm", False: "no BatchNorm"},
    "dropout": {False: "no dropout", True: "dropout"},
    "augment": {
        "flip": "flip augmentation",
        "full": "flips, shifts/scales, brightness/contrast",
        "none": "no augmentation",
    },
    "lr_schedule": {"cosine": "cosine LR", "plateau": "LR halved on plateaus", "none": "constant LR"},
    "tta": {True: "flip TTA", False: "no TTA"},
    "keep_largest": {True: "largest component", False: "all components"},
    "fill_holes": {True: "holes filled", False: "holes kept"},
    "upsample": {"guided": "outline guided by the photo", "bilinear": "bilinear upsampling"},
}
# Arithmetic, not a modelling choice: said in each preset's description, never listed as a change.
_NOT_CHANGES = {"precision"}
_NAMES = {"batch_size": "batch", "learning_rate": "learning rate", "val_split": "validation"}


def describe_changes(settings: dict[str, Any], base: str = "recipe") -> list[tuple[str, str]]:
    """(setting, short words) for each setting that differs from preset ``base`` ("BatchNorm", "5 levels",
    "size 256"), for the training panel and the runs list; settings no preset sets are skipped."""
    reference = PRESETS[base].settings
    out: list[tuple[str, str]] = []
    for key, ref in reference.items():
        value = settings.get(key, ref)
        if value == ref or key in _NOT_CHANGES:
            continue
        if key == "warmup_epochs" and settings.get("warmup_size", 0) != reference.get("warmup_size", 0):
            continue  # said with warmup_size
        if key in ("warmup_size", "warmup_epochs"):
            small, first = settings.get("warmup_size", 0), settings.get("warmup_epochs", 0)
            words = f"first {first} epochs at {small} px" if small else "every epoch at full size"
        elif key in _WORDS:
            words = _WORDS[key].get(value, f"{key.replace('_', ' ')} {value}")
        elif key == "levels":
            words = f"{value} levels"
        elif key == "val_split":
            words = f"validation {float(value):.0%}"
        else:
            words = f"{_NAMES.get(key, key)} {value}"
        out.append((key, words))
    return out
