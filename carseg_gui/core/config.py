"""The training settings (:class:`TrainConfig`) and their checks, apart from the training itself.

An invalid setting raises :class:`ConfigError`, which names the field (``size``), not a command-line flag:
``carseg`` shows it as ``--size``, the window as the field's label. The presets (presets.py) are values of
this class; training.py consumes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .distributed import STRATEGIES
from .jobs import InputError

# The presets' names, filled in by presets.py (which builds its presets from this class, so this module
# cannot import it).
KNOWN_PRESETS: set[str] = set()


class ConfigError(InputError):
    """A training setting that is not valid: ``field`` (TrainConfig's name) and the ``problem`` in words."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field, self.problem = field, problem


LOSSES = ("bce", "bce_dice")
AUGMENTS = ("none", "flip", "full")
SCHEDULES = ("none", "plateau", "cosine")
UPSAMPLES = ("bilinear", "guided")


@dataclass
class TrainConfig:
    epochs: int = 50
    patience: int = 2
    val_split: float = 0.1
    batch_size: int = 16
    size: int = 128
    filters: int = 16
    seed: int = 0
    learning_rate: float = 1e-3
    preset: str = "recipe"  # the preset these settings started from (presets.py); recorded with the run
    # Beyond the recipe (the defaults are the recipe: off); the "best" preset turns them on.
    loss: str = "bce"  # "bce" or "bce_dice" (binary cross-entropy + soft Dice)
    batch_norm: bool = False
    dropout: bool = True  # the recipe's dropout (0.1-0.3 per level) between the two convolutions of a block
    levels: int = 4  # poolings of the U-Net's encoder (the recipe: 4); size must be a multiple of 2**levels
    augment: str = "none"  # "none", "flip" or "full" (flip, shift/scale, brightness/contrast): augment.py
    lr_schedule: str = "none"  # "none", "plateau" (halve on a val_loss plateau) or "cosine" (over the epochs)
    # Inference settings, applied by prediction, export and evaluation of the run (predict.py, postprocess.py).
    tta: bool = False  # average with the prediction of the horizontally flipped image
    keep_largest: bool = False  # keep the largest connected component of the full-size mask
    fill_holes: bool = False  # fill holes enclosed by the mask (windows, shadows inside the car)
    # How a prediction reaches the photo's size: "bilinear" (the Carvana measure) or "guided" (along the photo's
    # edges, upsample.py: +0.004 full-size Dice at 128 px on 4 unseen cars, 0.17 s more per 1918x1280 photo).
    upsample: str = "bilinear"
    # "auto": float16 on GPUs; on a CPU bfloat16 where it times faster than float32 (precision.py, once per
    # machine); "on"/"off" force it.
    precision: str = "off"
    xla: str = "auto"  # XLA compilation: on for GPUs, off on CPUs (measured slower there)
    strategy: str = "auto"  # see distributed.py
    init_from: str | None = None  # a run folder whose best weights start this run (warm start)
    # Progressive resizing: the first ``warmup_epochs`` train at ``warmup_size`` (a quarter of the pixels at
    # half the size), the rest at ``size`` from those weights; 0: off. The run's model is the ``size`` one.
    warmup_size: int = 0
    warmup_epochs: int = 0
    # A quick retrain (a warm start from init_from): train on the images its start run did not train on or
    # that were corrected since (the new masks) and ``replay`` times as many of the others, drawn with the
    # seed, so the epochs are short and the rest is not forgotten; 0: every image, as a fresh run does.
    replay: int = 0
    checkpoint_every: int = 0  # also keep the model every N epochs in checkpoints/ (time-to-accuracy curves)

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first setting that is not valid."""
        if not 3 <= self.levels <= 6:
            raise ConfigError("levels", f"must be between 3 and 6, got {self.levels}")
        step = 2**self.levels
        if self.size < step or self.size % step:
            raise ConfigError(
                "size", f"must be a multiple of {step} (the U-Net halves it {self.levels} times), got {self.size}"
            )
        if not 0 <= self.val_split < 1:
            raise ConfigError("val_split", f"must be in [0, 1), got {self.val_split}")
        for name in ("epochs", "batch_size", "filters"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "must be at least 1")
        if self.precision not in ("auto", "on", "off"):
            raise ConfigError("precision", f"must be auto, on or off, got {self.precision!r}")
        if self.xla not in ("auto", "on", "off"):
            raise ConfigError("xla", f"must be auto, on or off, got {self.xla!r}")
        if self.strategy not in STRATEGIES:
            raise ConfigError("strategy", f"must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.init_from and not (Path(self.init_from) / "model.keras").exists():
            raise ConfigError("init_from", f"{self.init_from} has no model.keras to start from")
        if self.warmup_size or self.warmup_epochs:
            if self.warmup_size < step or self.warmup_size % step or self.warmup_size >= self.size:
                below = f"must be a multiple of {step} below size {self.size} (0: off)"
                raise ConfigError("warmup_size", f"{below}, got {self.warmup_size}")
            if not 0 < self.warmup_epochs < self.epochs:
                raise ConfigError(
                    "warmup_epochs", f"must be between 1 and epochs - 1 ({self.epochs - 1}), got {self.warmup_epochs}"
                )
        if self.replay < 0:
            raise ConfigError("replay", "must be at least 0")
        if self.replay and not self.init_from:
            raise ConfigError("replay", "needs a run to start from (a warm start)")
        if self.checkpoint_every < 0:
            raise ConfigError("checkpoint_every", "must be at least 0")
        if self.patience < 0:
            raise ConfigError("patience", "must be at least 0")
        if self.learning_rate <= 0:
            raise ConfigError("learning_rate", "must be positive")
        choices = {"loss": LOSSES, "augment": AUGMENTS, "lr_schedule": SCHEDULES, "upsample": UPSAMPLES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(name, f"must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not self.preset or (KNOWN_PRESETS and self.preset not in KNOWN_PRESETS):
            raise ConfigError("preset", f"must be one of {', '.join(sorted(KNOWN_PRESETS))}, got {self.preset!r}")
