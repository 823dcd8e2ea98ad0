"""What `carseg` shows while it works: a tqdm bar per stage on a terminal, one line per stage otherwise."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .core.jobs import CancelToken, Progress


class TerminalProgress:
    """A tqdm bar per stage on a terminal; one line per stage change otherwise (logs, CI)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.stage = ""
        self.message = ""
        self.tty = sys.stderr.isatty()

    def __call__(self, p: Progress) -> None:
        if p.stage == "notice":  # something the user must know (a damaged cache rebuilt, files skipped)
            self.close()
            self.stage = ""
            print(f"carseg: note: {p.info.get('notice', p.message)}", file=sys.stderr)
            return
        # A "model" stage says each new step in a sentence (loading TensorFlow, timing the precision, building).
        if p.stage != self.stage or (p.stage == "model" and p.message != self.message):
            self.close()
            self.stage, self.message = p.stage, p.message
            if self.tty and p.stage != "model":  # the model's steps are sentences, not counts: a line each
                from tqdm import tqdm

                desc = f"epoch {p.info.get('epoch')}/{p.info.get('epochs')}" if p.stage == "batch" else p.stage
                self.bar = tqdm(total=p.total, desc=desc, unit="img" if p.stage != "batch" else "batch", leave=False)
            elif p.stage not in ("batch", "epoch"):
                print(stage_line(p), file=sys.stderr)
        if p.stage == "epoch":
            self._epoch_line(p)
            self.stage = ""  # the next batch starts a fresh bar
        elif self.bar is not None:
            self.bar.n = p.done
            if p.stage == "batch" and "loss" in p.info:
                self.bar.set_postfix(loss=f"{p.info['loss']:.4f}", refresh=False)
            self.bar.refresh()

    def _epoch_line(self, p: Progress) -> None:
        self.close()
        keys = ("loss", "val_loss", "val_dice", "val_accuracy")
        parts = " ".join(f"{k}={p.info[k]:.4f}" for k in keys if k in p.info)
        best = f" (best epoch {p.info['best_epoch']})" if "best_epoch" in p.info else ""  # the refiner has none
        if p.info.get("best_epoch") == 0:  # a progressive run's warm-up: none of its epochs can be kept
            best = " (warm-up: the kept model comes from the full-size epochs)"
        size = f" at {p.info['size']} px" if "size" in p.info else ""  # a progressive run names each epoch's
        print(f"epoch {p.done}/{p.total}{size} {parts}{best}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def stage_line(p: Progress) -> str:
    """The one line a stage gets without a terminal: its message ("building the model", the device) when it
    has one, else how many images it works through ("preprocess: 72 image(s)", not "model: 1 image(s)")."""
    if p.message:  # "preprocess: 0 unchanged, 72 to decode", "device: CPU"; the model's is a sentence of its own
        return p.message if p.stage == "model" else f"{p.stage}: {p.message}"
    return f"{p.stage}: {p.total} image(s)" if p.total else f"{p.stage}…"


@contextmanager
def ctrl_c_cancels(what: str = "after this batch (the last finished epoch's model is kept)") -> Iterator[CancelToken]:
    """A cancel token that the first Ctrl+C sets (the job ends cleanly, its run kept as "cancelled"); a
    second Ctrl+C stops at once. The previous SIGINT handler is restored on the way out."""
    cancel = CancelToken()

    def on_ctrl_c(_signum: int, _frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print(f"carseg: cancelling {what}", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def print_splits(result: dict[str, Any]) -> None:
    """The headline above is over all labelled images, the run's own training images included: say so, and
    give each split's Dice at original size (the images it never saw are the honest measure); and what was
    left out of the scores."""
    words = {"train": "trained on", "validation": "its validation", "other": "never seen"}
    splits = result.get("splits") or {}
    parts = [f"{words[k]} {v['images']}: Dice {v['dice_full']:.4f}" for k, v in splits.items() if v.get("images")]
    if parts:
        print("  (the lines above include the images the run trained on) at original size, " + "; ".join(parts))
    if result.get("left_out"):
        print(
            f"  left out: {result['left_out']} image(s) whose mask is this run's own prediction, accepted as it "
            "was (scoring the run on them would compare it with itself)"
        )


def note_state_set_aside() -> None:
    """Tell the user when a damaged state.json was set aside during the command (whatever it was)."""
    store = sys.modules.get("carseg_gui.session.store")  # not imported: nothing was read
    for sentence in getattr(store, "RECOVERED", []):
        print(f"carseg: note: {sentence}", file=sys.stderr)
    if store is not None:
        store.RECOVERED.clear()
