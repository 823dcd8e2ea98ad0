"""Turning Progress events into words: rates, times left, and the status bar line."""

from __future__ import annotations

import time

from ..core.jobs import Progress
from ..session.rules import job_label


def duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = round(seconds)
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Rate:
    """Items per second and time left for one stage, measured from the first event seen."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.start: float | None = None
        self.first = 0

    def update(self, done: int, total: int) -> tuple[float | None, float | None]:
        now = time.monotonic()
        if self.start is None or done < self.first:
            self.start, self.first = now, done
            return None, None
        elapsed = now - self.start
        if elapsed < 0.2 or done <= self.first:
            return None, None
        rate = (done - self.first) / elapsed
        return rate, (total - done) / rate if rate > 0 else None


class TrainingClock:
    """Time left in the epoch, and an upper bound for the run (early stopping may end it sooner)."""

    def __init__(self) -> None:
        self.batch_start: float | None = None
        self.batches = 0
        self.per_batch: float | None = None  # seconds, measured since the first batch ended
        self.size: int | None = None  # the input size being timed (progressive resizing changes it)

    def update(self, p: Progress) -> tuple[float | None, float | None]:
        now = time.monotonic()
        size = p.info.get("size")
        if self.batch_start is None or size != self.size:  # a new size: time it from scratch
            self.batch_start, self.batches, self.size = now, 0, size
            return None, None
        self.batches += 1
        per_batch = self.per_batch = (now - self.batch_start) / self.batches
        epoch, epochs = int(p.info.get("epoch", 1)), int(p.info.get("epochs", 1))
        left_epoch = (p.total - p.done) * per_batch
        later = (epochs - epoch) * p.total * per_batch
        final, warm = p.info.get("final_size"), int(p.info.get("warmup_epochs", 0))
        if size and final and size != final:
            # The epochs after the warm-up, at the training size, counted at the pixel ratio: an upper
            # bound (measured 3.3x for 128 -> 256 px, against 4x).
            full = epochs - max(epoch, warm)
            later += full * p.total * per_batch * ((final / size) ** 2 - 1)
        return left_epoch, left_epoch + later


def status_line(name: str, p: Progress) -> str:
    """The status bar's sentence for a job's progress."""
    if p.stage == "notice":  # something the user must know; the controller says it again at the end
        return f"Note: {p.info.get('notice') or p.message}"
    if p.stage == "open":
        return p.message or "Opening the dataset…"
    if p.stage == "sample":
        return f"Generating the sample: {p.done}/{p.total} images"
    if p.stage == "preprocess" and name != "preprocess" and p.total and p.done >= p.total:
        # The cache is ready; loading TensorFlow and the model take seconds: not a stale "72/72".
        return f"{job_label(name)}: cache up to date ({p.total} images), loading the model…"
    if p.stage == "confidence":
        return f"Scoring how sure the model is: {p.done}/{p.total} images without a mask"
    if p.stage == "preprocess":
        rate = p.info.get("rate")
        extra = f" · {rate:.0f} images/s" if rate else ""
        return f"Preprocessing: {p.done}/{p.total} images{extra}"
    if name == "refiner" and p.stage in ("load", "batch", "epoch"):
        return _refiner_line(p)
    if p.stage == "batch":
        return f"Training: epoch {p.info.get('epoch')}/{p.info.get('epochs')} · batch {p.done}/{p.total}"
    if p.stage == "epoch":
        dice = p.info.get("val_dice", p.info.get("dice"))
        kind = "val Dice" if "val_dice" in p.info else "Dice"  # the panel's words: which Dice it is
        score = f" · {kind} {dice:.4f}" if dice is not None else ""
        return f"Training: epoch {p.done}/{p.total} done{score} · best epoch {p.info.get('best_epoch')}"
    if p.stage == "model":
        return p.message or "Training: building the model…"
    if p.stage == "device":
        return f"Training on {p.message}"
    if p.stage in ("predict", "export"):
        return f"{'Exporting' if name == 'export' else 'Predicting'}: {p.done}/{p.total} images"
    return f"{name}: {p.stage} {p.done}/{p.total}"


def _refiner_line(p: Progress) -> str:
    """The click refiner trains on simulated clicks, without a validation set: its loss is all there is."""
    head = "Training the click refiner"
    if p.stage == "load":
        return f"{head}: reading {p.done}/{p.total} photos and masks at full size"
    loss = p.info.get("loss")
    loss_words = f" · training loss {loss:.4f}" if loss is not None else ""
    if p.stage == "batch":
        return f"{head}: epoch {p.info.get('epoch')}/{p.info.get('epochs')} · batch {p.done}/{p.total}{loss_words}"
    return f"{head}: epoch {p.done}/{p.total} done{loss_words}"
