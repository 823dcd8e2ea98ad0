"""The click refiner as the app uses it: train it on the project's human masks, load the newest one.

Training (:func:`train_refiner`) is a long job like training the segmentation model: it holds the
project's lock, trains :mod:`carseg_gui.core.refiner_training` on every mask a person made (the dataset's
masks, with the project's corrections and approved masks in place of the originals, and corrected
unlabelled images added), leaves out the excluded images, and records in the run's ``config.json`` what
it was trained on. The editor's smart click tool calls :func:`load_latest`, which returns the refiner or
the reason there is none, in words for the editor to show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.corrections import corrected_masks
from ..core.imageio import atomic_write_json, read_json
from ..core.jobs import CancelToken, InputError, ProgressFn, no_progress
from ..core.refiner import Refiner, load_refiner, refiner_runs
from ..core.refiner_training import RefinerConfig
from .store import StateStore

log = logging.getLogger("carseg_gui")

NO_REFINER = "no click refiner trained yet: train one (Training tab ▸ Train the click refiner, or carseg train-refiner)"


@dataclass
class RefinerRun:
    """A finished or cancelled refiner training: its folder and what its files say."""

    folder: Path
    status: str  # "finished" or "cancelled"
    epochs_run: int
    epochs: int
    loss: float | None
    train_s: float
    images: int
    corrections: int  # of those images, how many used a person's correction instead of the dataset's mask
    excluded: int

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def has_model(self) -> bool:
        return (self.folder / "model.keras").is_file()

    def summary(self) -> str:
        """One line: what was trained, on what, with what result."""
        loss = f", last epoch's training loss {self.loss:.4f}" if self.loss is not None else ""  # no validation
        made = f"{self.corrections} corrected by a person" if self.corrections else "none corrected"
        left = f", {self.excluded} excluded image(s) left out" if self.excluded else ""
        if self.status == "cancelled":
            kept = "its model of the last finished epoch is kept" if self.has_model else "no model was saved"
            head = f"Click refiner {self.id} cancelled after {self.epochs_run} of {self.epochs} epoch(s) ({kept})"
        else:
            head = f"Click refiner {self.id} trained: {self.epochs_run} epoch(s)"
        return f"{head}{loss}, on {self.images} masks ({made}){left}, {self.train_s:.0f} s"


def train_refiner(
    root: Path,
    project: Path,
    config: RefinerConfig | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> RefinerRun:
    """Train a click refiner on the project's human masks; returns the run (finished or cancelled)."""
    from ..core.dataset import require_dataset
    from ..core.locking import project_lock
    from ..core.refiner_training import train_refiner as train_core

    config = config or RefinerConfig()
    config.validate()  # bad settings are refused before anything is written
    require_dataset(Path(root))
    statuses = StateStore(project).statuses()
    excluded = sorted(k for k, s in statuses.items() if s == "excluded")
    masks = corrected_masks(project, statuses)
    with project_lock(project, "training the click refiner") as lock:
        folder = train_core(root, project, config, progress, cancel, masks=masks, exclude=excluded)
        lock.update(f"run {folder.name}")
    record = read_json(folder / "config.json", default={}) or {}
    keys = list(record.get("image_keys", []))
    used = sorted(k for k in keys if k in masks)
    record.update(
        {
            "carseg_version": __version__,
            "human_masks": {"images": len(keys), "corrections": used, "dataset_masks": len(keys) - len(used)},
            "excluded": excluded,
        }
    )
    atomic_write_json(folder / "config.json", record)
    return read_run(folder)


def read_run(folder: Path) -> RefinerRun:
    """What a refiner run's files say (config.json, status.json, history.json)."""
    folder = Path(folder)
    config: dict[str, Any] = read_json(folder / "config.json", default={}) or {}
    status: dict[str, Any] = read_json(folder / "status.json", default={}) or {}
    history = read_json(folder / "history.json", default=[]) or []
    human = config.get("human_masks") or {}
    return RefinerRun(
        folder=folder,
        status=str(status.get("status", "unknown")),
        epochs_run=int(status.get("epochs_run", len(history))),
        epochs=int(config.get("epochs", 0)),
        loss=float(history[-1]["loss"]) if history else None,
        train_s=float(status.get("train_s", 0.0)),
        images=int(human.get("images", len(config.get("image_keys", [])))),
        corrections=len(human.get("corrections", [])),
        excluded=len(config.get("excluded", [])),
    )


@dataclass
class LatestRefiner:
    """The project's newest click refiner, or why there is none (``problem``, words for the editor)."""

    refiner: Refiner | None
    folder: Path | None = None
    problem: str | None = None


def load_latest(project: Path) -> LatestRefiner:
    """The newest refiner run with a model that loads (TensorFlow: call it off the GUI thread). A damaged
    newer run is skipped for an older one that works (and logged); never raises: with none that works,
    the problem says which file and what to do."""
    runs = refiner_runs(Path(project))
    failed: LatestRefiner | None = None
    for folder in reversed(runs):
        try:
            status = (read_json(folder / "status.json", default={}) or {}).get("status")
        except InputError as exc:  # a damaged status.json
            failed = failed or LatestRefiner(None, None, f"{exc}; train the click refiner again")
            continue
        if status not in ("finished", "cancelled") or not (folder / "model.keras").is_file():
            continue
        try:
            refiner = load_refiner(folder)
        except InputError as exc:
            failed = failed or LatestRefiner(None, folder, str(exc))
            continue
        if failed is not None:
            log.warning("click refiner: skipped a newer one that cannot be used (%s); using %s", failed.problem, folder)
        return LatestRefiner(refiner, folder)
    if failed is not None:
        return failed
    if runs:
        why = "no click refiner has a model yet (its training ended before the first epoch or failed)"
        return LatestRefiner(None, None, f"{why}: train the click refiner again")
    return LatestRefiner(None, None, NO_REFINER)
