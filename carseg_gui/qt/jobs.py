"""The functions the GUI's workers run: thin adapters over :mod:`carseg_gui.core`, no Qt.

Each follows the core contract ``fn(..., progress, cancel)`` and gathers in the worker thread what
the GUI thread would otherwise read from disk (a 100k-row cache index is a slow JSON parse).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.cache import Cache, open_cache
from ..core.dataset import Dataset, scan
from ..core.export import ExportSummary, mask_name
from ..core.jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from ..core.project import RunInfo, list_runs, load_state, resolve_project

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


@dataclass
class TrainResult:
    run: RunInfo
    cache: Cache | None
    comparison: dict[str, Any] | None = None  # validation Dice before/after, when a run was replaced


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
    snapshot = ProjectSnapshot(root, folder, dataset, caches, list_runs(folder), load_state(folder))
    progress(Progress("open", 1, 1))
    return snapshot


def sample_then_open(
    out: Path, count: int = 64, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> ProjectSnapshot:
    """Generate the built-in sample (a no-op when it is already there) and open it."""
    from ..core.sample import generate_sample

    generate_sample(Path(out), count=count, progress=progress, cancel=cancel)
    return open_project(Path(out), progress=progress, cancel=cancel)


def train_job(
    root: Path,
    project: Path,
    config: Any,
    previous: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """``workflow.run_training`` plus the device it runs on, reported as a "device" progress."""
    from ..core.workflow import run_training

    device: list[str] = []

    def relay(p: Progress) -> None:
        if p.stage in ("batch", "epoch") and not device:
            from ..core.unet import compute_device  # TensorFlow is loaded by now: cheap

            device.append(compute_device())
            progress(Progress("device", 0, 0, device[0], {"device": device[0]}))
        progress(p)

    run = run_training(root, project, config, progress=relay, cancel=cancel)
    cache = open_cache(project, config.size)
    comparison = None
    if previous is not None and run.has_model and cache is not None:
        # Judge the new run against the one it replaces, on the new run's validation images.
        from ..core.project import find_run
        from ..core.review import compare_runs
        from ..core.workflow import load_run_model

        try:
            old = find_run(project, previous)
            if int(old.config.get("size", 0)) == config.size:
                comparison = compare_runs(cache, run, load_run_model(run), old, load_run_model(old), cancel)
        except InputError:
            comparison = None  # the previous run has no model any more: nothing to compare with
    return TrainResult(run, cache, comparison)


def review_job(
    root: Path, project: Path, run_id: str, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> tuple[str, dict[str, float]]:
    """Per-image Dice of mask vs. prediction of the run, for the viewer's "worst first" order."""
    from ..core.project import find_run
    from ..core.review import review_scores
    from ..core.workflow import load_run_model, prepare

    run = find_run(project, run_id)
    cache = prepare(root, project, int(run.config.get("size", 128)), progress, cancel)
    return run.id, review_scores(cache, run, load_run_model(run), progress=progress, cancel=cancel)


def prepare_job(
    root: Path, project: Path, size: int, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> Cache:
    from ..core.workflow import prepare

    return prepare(root, project, size, progress, cancel)


def export_job(
    root: Path,
    project: Path,
    out: Path,
    run: str,
    which: str,
    fmt: str,
    threshold: float,
    overwrite: bool,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> ExportSummary:
    """Masks as PNG/GIF files or one RLE CSV, both through ``workflow.predict_to_folder``."""
    from ..core.workflow import predict_to_folder

    if fmt == "rle":  # one CSV in the folder, no mask files
        csv = Path(out) / SUBMISSION_NAME
        return predict_to_folder(
            root, project, Path(out), run, which, None, csv, threshold, overwrite, progress=progress, cancel=cancel
        )
    return predict_to_folder(
        root, project, Path(out), run, which, fmt, None, threshold, overwrite, progress=progress, cancel=cancel
    )


def existing_outputs(cache: Cache | None, out: Path, which: str, fmt: str) -> list[Path]:
    """The files an export would replace, so the GUI can ask before overwriting."""
    out = Path(out)
    if fmt == "rle":
        return [out / SUBMISSION_NAME] if (out / SUBMISSION_NAME).exists() else []
    if cache is None or not out.is_dir():
        return []
    names = {mask_name(cache.rows[r]["image"], fmt) for r in cache.rows_for_set(which)}
    return [out / n for n in sorted(names) if (out / n).exists()]
