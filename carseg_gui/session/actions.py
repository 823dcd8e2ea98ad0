"""What the app can do, as plain functions that ``carseg`` (cli.py) and the window (qt/) both call.

Each takes the dataset folder (``root``) and the project folder, follows core's contract
``fn(..., progress, cancel)``, and reads or writes the project's decisions only through
:class:`~carseg_gui.session.store.StateStore`. Nothing here imports Qt; the window runs these functions on a
worker thread and turns their results into what it shows.

Read this module to learn what the app can do: open, preprocess, train (and compare with the run it
replaces), review, evaluate, export, set a review status.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.cache import Cache, open_cache
from ..core.corrections import corrected_masks
from ..core.dataset import Dataset, scan
from ..core.jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from ..core.postprocess import PostProcess
from ..core.preprocess import preprocess
from ..core.project import RunInfo, list_runs, resolve_project
from ..core.project import find_run as _find_run
from ..core.training import TrainConfig
from .labels import Counts, dataset_counts
from .store import StateStore

SUBMISSION_NAME = "submission.csv"


@dataclass
class ProjectSnapshot:
    """Everything the app shows about a dataset right after opening it."""

    root: Path
    project: Path
    dataset: Dataset
    caches: dict[int, Cache] = field(default_factory=dict)
    runs: list[RunInfo] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    recovered: str | None = None  # a broken state.json was set aside: what the user lost
    counts: Counts | None = None  # labelled (by you) and without a mask, the decisions included


@dataclass
class TrainResult:
    run: RunInfo
    cache: Cache | None
    comparison: dict[str, Any] | None = None  # validation Dice before/after, when a run was replaced
    activated: bool = False  # the run became the one used for prediction


# ----- opening
def cache_sizes(project: Path) -> list[int]:
    folder = Path(project) / "cache"
    if not folder.is_dir():
        return []
    return sorted(int(m[1]) for p in folder.iterdir() if (m := re.fullmatch(r"s(\d+)", p.name)) and p.is_dir())


def open_project(
    root: Path,
    project: Path | None = None,
    fallback: Path | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> ProjectSnapshot:
    """Scan ``root`` and read its project folder. ``fallback`` is a per-user folder used when the
    default project folder (inside the dataset) cannot be written, e.g. a read-only dataset."""
    root = Path(root).expanduser().resolve()
    progress(Progress("open", 0, 1, f"reading {root}"))
    dataset = scan(root)  # raises InputError for a folder with no dataset: checked before writing anything
    try:
        folder = resolve_project(root, Path(project) if project else None)
    except InputError:
        if project or fallback is None:
            raise
        digest = hashlib.sha256(str(root).encode()).hexdigest()[:8]
        folder = resolve_project(root, Path(fallback) / f"{root.name}-{digest}")
    caches = {}
    for size in cache_sizes(folder):
        if cancel:
            cancel.check()
        cache = open_cache(folder, size)
        if cache is not None:
            caches[size] = cache
    store = StateStore(folder)
    state = store.read()
    counts = dataset_counts(dataset, folder)
    snapshot = ProjectSnapshot(root, folder, dataset, caches, list_runs(folder), state, store.recovered, counts)
    progress(Progress("open", 1, 1))
    return snapshot


def sample_then_open(
    out: Path, count: int = 64, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> ProjectSnapshot:
    """Generate the built-in sample (a no-op when it is already there) and open it."""
    from ..core.sample import generate_sample

    generate_sample(Path(out), count=count, progress=progress, cancel=cancel)
    return open_project(Path(out), progress=progress, cancel=cancel)


# ----- runs
def find_run(project: Path, which: str | None = "active") -> RunInfo:
    """A run by id or folder, ``latest``, or ``active`` (the project's choice, else the latest)."""
    return _find_run(project, which, active=StateStore(project).active_run())


def load_run_model(run: RunInfo, tta: bool | None = None) -> Any:
    """The run's model, wrapped with flip test-time augmentation when the run says so (``tta=None``)
    or when asked; every caller (viewer, export, evaluation) then predicts as the run was meant to."""
    from ..core.predict import with_flip_tta
    from ..core.unet import load_model

    try:
        model = load_model(run.model_path)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors...
        # Keras says "File not found" for a file that is there but is no model (a truncated copy)
        misleading = run.model_path.is_file() and "not found" in str(exc).lower()
        why = "the file is there but does not read as a Keras model: damaged or truncated?" if misleading else str(exc)
        raise InputError(f"run {run.id}: its model {run.model_path} cannot be loaded ({why})") from exc
    use_tta = bool(run.config.get("tta", False)) if tta is None else tta
    return with_flip_tta(model) if use_tta else model


def set_active_run(project: Path, run_id: str | None) -> None:
    StateStore(project).set_active_run(run_id)


# ----- preprocessing and training
def prepare(
    root: Path, project: Path, size: int = 128, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> Cache:
    """The cache of ``root`` at ``size``, with the project's corrections and exclusions applied."""
    from ..core.project import MAX_SIZE

    if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= MAX_SIZE or size % 16:
        raise InputError(f"size {size!r} is not a cache size: a multiple of 16 from 16 to {MAX_SIZE} px")
    store = StateStore(project)
    statuses = store.statuses()
    return preprocess(
        root,
        project,
        size,
        mask_overrides=corrected_masks(project, statuses),
        excluded={k for k, s in statuses.items() if s == "excluded"},
        progress=progress,
        cancel=cancel,
    )


def train(
    root: Path,
    project: Path,
    config: TrainConfig,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    previous: str | None = None,
    new_split: bool = False,
) -> TrainResult:
    """Bring the cache up to date, train, make a finished run with a model the active one, and, when it
    replaces ``previous``, score both runs on the same validation images.

    The validation cars are chosen once per project (at its first training) and kept in state.json, so
    every round is validated on the same cars and images that join later train; ``new_split`` draws them
    again (``carseg train --new-split``, the training panel's "New validation split").

    The device the run computes on is reported once as a ``device`` progress."""
    from ..core.training import train as train_model

    device: list[str] = []

    def relay(p: Progress) -> None:
        if p.stage in ("batch", "epoch") and not device:
            from ..core.unet import compute_device  # TensorFlow is loaded by now: cheap

            device.append(compute_device())
            progress(Progress("device", 0, 0, device[0], {"device": device[0]}))
        progress(p)

    cache = prepare(root, project, config.size, relay, cancel)
    # Loading TensorFlow and building the model take seconds: say so, not the last cache line.
    progress(Progress("model", 0, 1, "Training: loading TensorFlow and building the model…"))
    store = StateStore(project)
    split = None if new_split else store.split()
    kept = split.get("val_groups") if split else None
    share = split.get("val_split") if split else None
    if kept is not None and share is not None and abs(float(share) - config.val_split) > 1e-9:
        raise InputError(
            f"the project validates on the cars that run {split.get('chosen_by_run', '?')} chose with a "  # type: ignore[union-attr]
            f"{float(share):.0%} split, so a {config.val_split:.0%} split would not be used: draw the cars again "
            "with it (carseg train --new-split, or the training panel's New validation split), or keep "
            f"{float(share):.0%}"
        )
    run = train_model(root, project, config, progress=relay, cancel=cancel, cache=cache, val_groups=kept)
    if kept is None and run.status != "failed":
        # A new draw without validation cars (a 0 % split) ends the kept split too: the next run draws again.
        store.set_split(_split_record(cache, run, config) if run.config.get("val_keys") else None)
    activated = run.status == "finished" and run.has_model
    if activated:
        set_active_run(project, run.id)
    comparison = None
    if previous is not None and run.has_model:
        comparison = _compare(project, cache, run, previous, cancel)
    return TrainResult(run, open_cache(project, config.size) or cache, comparison, activated)


# The correction loop's quick retrain (ACCURACY.md, "A quick retrain for the correction loop").
QUICK_EPOCHS = 6
QUICK_RATE = 0.3  # times the start run's learning rate: fine-tuning, not training again
QUICK_REPLAY = 3  # earlier images per new one, so the model keeps what it knew
_NOT_CARRIED = {"xla", "strategy", "init_from", "checkpoint_every", "warmup_size", "warmup_epochs", "replay"}


def quick_retrain_config(run: RunInfo, epochs: int = QUICK_EPOCHS) -> TrainConfig:
    """A quick retrain of ``run``: its model and settings, from its best weights, on the images it did not
    train on or that were corrected since, with ``QUICK_REPLAY`` times as many of the others; ``epochs``
    epochs at ``QUICK_RATE`` times its learning rate on a cosine, never stopped early (every epoch shows
    the new masks). The run's validation cars stay the project's, so before and after are comparable."""
    from dataclasses import fields

    if not run.has_model:
        raise InputError(f"run {run.id} has no model to retrain from")
    known = {f.name for f in fields(TrainConfig)} - _NOT_CARRIED
    kept = {k: v for k, v in run.config.items() if k in known}
    rate = float(kept.get("learning_rate", 1e-3)) * QUICK_RATE
    values: dict[str, Any] = {"epochs": epochs, "patience": epochs, "learning_rate": rate, "lr_schedule": "cosine"}
    config = TrainConfig(**{**kept, **values, "init_from": str(run.folder), "replay": QUICK_REPLAY})
    config.validate()
    return config


def _split_record(cache: Cache, run: RunInfo, config: TrainConfig) -> dict[str, Any]:
    val = set(run.config.get("val_keys", []))
    groups = sorted({r["car"] or r["key"] for r in cache.rows if r["key"] in val})
    return {"val_groups": groups, "chosen_by_run": run.id, "val_split": config.val_split, "seed": config.seed}


def _compare(
    project: Path, cache: Cache, run: RunInfo, previous: str, cancel: CancelToken | None
) -> dict[str, Any] | None:
    """Validation Dice of the previous run and the new one, on the new run's validation images that the
    previous run did not train on either (scoring a run on its own training images flatters it)."""
    from ..core.review import compare_runs

    try:
        old = _find_run(project, previous)
    except InputError:
        return None  # the previous run has no model any more: nothing to compare with
    if int(old.config.get("size", 0)) != int(run.config.get("size", -1)):
        return None
    unseen = set(run.config.get("val_keys", [])) - set(old.config.get("train_keys", []))
    try:
        old_model = load_run_model(old)
    except InputError:
        return None  # the previous run's model cannot be loaded: the new run stands, without a comparison
    return compare_runs(cache, run, load_run_model(run), old, old_model, cancel, keys=unseen)


# ----- review, evaluation, export
def review(
    root: Path, project: Path, run_id: str, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> tuple[str, dict[str, float]]:
    """Per-image Dice of mask vs. prediction of the run, for the viewer's "worst first" order."""
    from ..core.review import review_scores

    run = find_run(project, run_id)
    cache = prepare(root, project, int(run.config.get("size", 128)), progress, cancel)
    return run.id, review_scores(cache, run, load_run_model(run), progress=progress, cancel=cancel)


def evaluate(
    root: Path,
    project: Path,
    run: str | None = "active",
    threshold: float = 0.5,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    tta: bool | None = None,
    post: PostProcess | None = None,
) -> dict[str, Any]:
    """``tta`` and ``post`` override the run's inference settings; ``None`` keeps the run's."""
    from ..core.evaluate import evaluate as evaluate_cache

    info = find_run(project, run)
    cache = prepare(root, project, int(info.config.get("size", 128)), progress, cancel)
    model = load_run_model(info, tta)
    own = StateStore(project).accepted_drafts(info.id)
    return evaluate_cache(cache, info, model, threshold, progress, cancel, post, leave_out=own)


MANIFEST_CSV = "manifest.csv"  # beside the masks: per image its file, source, confidence, run, threshold


def existing_outputs(cache: Cache | None, out: Path, which: str, fmt: str) -> list[Path]:
    """The files an export would replace, so the window can ask before overwriting (run it off the GUI
    thread: a test set of 100k images is 100k ``stat`` calls)."""
    from ..core.export import COCO_NAME, export_names

    out = Path(out)
    if not out.is_dir():
        return []
    one_file = {"rle": SUBMISSION_NAME, "coco": COCO_NAME}.get(fmt)
    singles = [out / MANIFEST_CSV] + ([out / one_file] if one_file else [])
    found = [p for p in singles if p.exists()]
    if fmt in ("rle", "coco") or cache is None:
        return sorted(found)
    present = {p.name for p in out.iterdir()}
    rows = cache.rows_for_set(which)
    names = {name for name, _csv in export_names(cache, rows, fmt).values()}  # as the export will name them
    return sorted(found + [out / n for n in names & present])


# ----- review decisions
def set_status(project: Path, key: str, status: str, note: str | None = None) -> bool:
    """Record a review decision for one image (its history is kept); False when nothing changed."""
    return StateStore(project).set_status(key, status, note)
