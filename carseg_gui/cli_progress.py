"""What `carseg` shows while it works: a tqdm bar per stage on a terminal, one line per stage otherwise."""

from __future__ import annotations

import sys
from typing import Any

from .core.jobs import Progress


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
