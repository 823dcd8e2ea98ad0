"""The long tasks as the CLI and the GUI both call them: one function per user action.

Each takes a dataset folder and a project folder, brings the cache up to date (incrementally),
and follows the ``progress`` / ``cancel`` contract of :mod:`.jobs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .cache import Cache
from .corrections import corrected_masks, excluded_keys
from .evaluate import evaluate
from .export import ExportSummary, export_masks
from .jobs import CancelToken, InputError, ProgressFn, no_progress
from .postprocess import PostProcess
from .preprocess import preprocess
from .project import RunInfo, find_run
from .training import TrainConfig, train


def prepare(
    root: Path, project: Path, size: int = 128, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> Cache:
    """The cache of ``root`` at ``size``, with the project's corrections and exclusions applied."""
    return preprocess(
        root,
        project,
        size,
        mask_overrides=corrected_masks(project),
        excluded=excluded_keys(project),
        progress=progress,
        cancel=cancel,
    )


def run_training(
    root: Path,
    project: Path,
    config: TrainConfig,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> RunInfo:
    cache = prepare(root, project, config.size, progress, cancel)
    return train(root, project, config, progress=progress, cancel=cancel, cache=cache)


def load_run_model(run: RunInfo, tta: bool | None = None) -> Any:
    """The run's model, wrapped with flip test-time augmentation when the run says so (``tta=None``)
    or when asked; every caller (viewer, export, evaluation) then predicts as the run was meant to."""
    from .predict import with_flip_tta
    from .unet import load_model

    try:
        model = load_model(run.model_path)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors...
        raise InputError(f"run {run.id}: its model {run.model_path} cannot be loaded ({exc})") from exc
    use_tta = bool(run.config.get("tta", False)) if tta is None else tta
    return with_flip_tta(model) if use_tta else model


def predict_to_folder(
    root: Path,
    project: Path,
    out: Path,
    run: str | None = "active",
    which: str = "test",
    fmt: str | None = "png",
    rle: Path | None = None,
    threshold: float = 0.5,
    overwrite: bool = False,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    tta: bool | None = None,
    post: PostProcess | None = None,
) -> ExportSummary:
    """``tta`` and ``post`` override the run's inference settings; ``None`` keeps the run's."""
    info = find_run(project, run)
    cache = prepare(root, project, int(info.config.get("size", 128)), progress, cancel)
    model = load_run_model(info, tta)
    return export_masks(cache, info, model, out, which, fmt, rle, threshold, overwrite, progress, cancel, post)


def evaluate_dataset(
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
    info = find_run(project, run)
    cache = prepare(root, project, int(info.config.get("size", 128)), progress, cancel)
    model = load_run_model(info, tta)
    return evaluate(cache, info, model, threshold, progress, cancel, post)
