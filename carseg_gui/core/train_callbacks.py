"""The callbacks of a training run: progress per batch and epoch, cancel, the best model and the history
on disk, early stopping; for training.py (a run's files are described there)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .imageio import atomic_write_json
from .jobs import CancelToken, Progress, ProgressFn


def _callbacks(
    run: Path,
    epochs: int,
    steps: int,
    monitor: str,
    patience: int,
    progress: ProgressFn,
    cancel: CancelToken,
    plateau: bool = False,
    record_lr: bool = True,
    checkpoint_every: int = 0,
) -> list[Any]:
    import keras

    class Reporter(keras.callbacks.Callback):
        """Progress per batch and epoch, cancel within one batch, best model and history on disk."""

        def __init__(self) -> None:
            super().__init__()
            self.started = time.perf_counter()
            self.size: int | None = None  # the input size of the phase now training (progressive resizing)
            self.save_model = True  # False while a smaller warm-up model trains: model.keras is the final size's
            self.plan: dict[str, int] = {}  # progressive resizing: final_size and warmup_epochs, for the time left
            self.epoch = 0
            self.best = np.inf
            self.best_epoch = 0
            self.history: list[dict[str, float]] = []
            self.diverged: str | None = None  # where the loss stopped being a number (TerminateOnNaN stops there)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            info = {"epoch": self.epoch + 1, "epochs": epochs, **_floats(logs), **self.plan}
            if self.size is not None:
                info["size"] = self.size
            if not np.isfinite(info.get("loss", 0.0)) and self.diverged is None:
                self.diverged = f"epoch {self.epoch + 1}, batch {batch + 1}"
            progress(Progress("batch", batch + 1, steps, info=info))
            cancel.check()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            values = _floats(logs)
            if self.diverged is None and not all(np.isfinite(values.get(k, 0.0)) for k in ("loss", monitor)):
                self.diverged = f"epoch {epoch + 1}"
                self.model.stop_training = True
            if record_lr:
                values.setdefault("learning_rate", _current_lr(self.model))
            values["elapsed_s"] = round(time.perf_counter() - self.started, 2)  # training time so far
            if self.size is not None:
                values["size"] = self.size
            self.history.append(values)
            if checkpoint_every and (epoch + 1) % checkpoint_every == 0:
                _save(self.model, run / "checkpoints" / f"epoch-{epoch + 1:03d}.keras")
            atomic_write_json(run / "history.json", self.history)
            current = values.get(monitor, np.inf)
            if current < self.best and self.save_model:
                self.best, self.best_epoch = current, epoch + 1
                _save(self.model, run / "model.keras")
                atomic_write_json(run / "metrics.json", _best_metrics(self.history, self.best_epoch))
            info = {**values, "best_epoch": self.best_epoch}
            progress(Progress("epoch", epoch + 1, epochs, info=info))
            cancel.check()

    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True)
    # TerminateOnNaN stops at the first batch whose loss is NaN or infinite; Reporter says where.
    callbacks = [Reporter(), keras.callbacks.TerminateOnNaN(), stop]
    if plateau:
        # Halve the rate after 2 epochs without improvement, before early stopping gives up.
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=2, min_lr=1e-5))
    return callbacks


def _save(model: Any, path: Path) -> None:
    """Save atomically: a crash or a full disk leaves the previous file, and no partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".partial.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a disk that filled up gets its space back
        raise


def _current_lr(model: Any) -> float:
    """The optimizer's rate now (a schedule evaluated at the current step), for history.json."""
    try:
        opt = model.optimizer
        lr = opt.learning_rate
        return float(lr(opt.iterations) if callable(lr) else lr)
    except Exception:  # a custom loop's model has no optimizer attached
        return float("nan")


def _floats(logs: Any) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items()}


def _best_metrics(history: list[dict[str, float]], best_epoch: int) -> dict[str, Any]:
    best = history[best_epoch - 1]
    return {"best_epoch": best_epoch, "epochs_run": len(history), **best}
