"""Annotating the images that have no mask: drafts from the active run, decisions, the queue, the export.

An image without a mask starts from the active run's prediction at its original size (the *draft*), made by
the same function export uses. "Approve" on an untouched draft accepts the prediction as its mask: it is
written to ``corrections/`` like any correction, so from then on the image is labelled, training uses it,
and export writes that mask. Where each image's mask comes from (:func:`mask_sources`) is what the viewer's
badge, the manifest and the dataset panel's "M by you" say.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.cache import Cache
from ..core.corrections import correction_path, save_correction
from ..core.dataset import Record, scan
from ..core.export import ExportSummary, export_names
from ..core.imageio import atomic_write_bytes
from ..core.jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from ..core.postprocess import PostProcess
from ..core.predict import predict_rows, to_original_size
from ..core.project import RunInfo
from .actions import MANIFEST_CSV, find_run, load_run_model, prepare
from .labels import Counts, human_masks
from .store import ACCEPTED_NOTE, StateStore

SOURCES = ("mask", "corrected", "approved", "predicted")  # where an exported mask came from


def find_record(root: Path, key_or_name: str) -> Record:
    """The dataset's image with this key (``test/x.jpg``) or this unique file name (``x.jpg``)."""
    dataset = scan(Path(root))
    by_key = {r.key: r for r in dataset.records}
    if key_or_name in by_key:
        return by_key[key_or_name]
    named = [r for r in dataset.records if r.image.name == key_or_name or r.image.stem == key_or_name]
    if len(named) == 1:
        return named[0]
    if named:
        keys = ", ".join(r.key for r in named[:4])
        raise InputError(f"{key_or_name!r} names {len(named)} images in {root} ({keys}): give the key")
    raise InputError(f"no image {key_or_name!r} in {root} (give its key, e.g. {dataset.records[0].key})")


def mask_sources(cache: Cache, project: Path) -> dict[str, str]:
    """Per cache row key: ``mask`` (the dataset's own file), ``corrected`` or ``approved`` (a person's mask),
    or ``predicted`` (no mask: export writes the active run's prediction)."""
    statuses = StateStore(project).statuses()
    human = human_masks(project, statuses)
    out = {}
    for row in cache.rows:
        key = row["key"]
        if key in human:
            out[key] = statuses[key]
        elif row["labelled"] and not row.get("corrected"):
            out[key] = "mask"
        else:
            out[key] = "predicted"
    return out


def counts(cache: Cache, project: Path) -> Counts:
    sources = mask_sources(cache, project)
    values = list(sources.values())
    human = values.count("corrected") + values.count("approved")
    unlabelled = values.count("predicted")
    return Counts(len(values) - unlabelled, human, unlabelled)


# ----- drafts and decisions
def draft_mask(cache: Cache, row: int, run: RunInfo, model: Any, threshold: float = 0.5) -> np.ndarray:
    """The run's prediction for one image at its original size, with the run's TTA (in ``model``) and
    post-processing: exactly what export writes for it. 0/1 uint8."""
    (_, prob), *_ = predict_rows(model, cache, [row], batch_size=1)
    post, rec = PostProcess.from_config(run.config), cache.rows[row]
    return to_original_size(
        prob, rec["orig"], threshold, post, rec["image"], str(run.config.get("upsample", "bilinear"))
    )


def set_status(
    root: Path,
    project: Path,
    key_or_name: str,
    status: str,
    note: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[str, str]:
    """Record a decision for one image; (key, what happened, in words).

    Approving an image that has neither a mask nor a correction accepts the active run's prediction as its
    mask (written to ``corrections/``); without a trained run that is refused with the reason."""
    record = find_record(root, key_or_name)
    store = StateStore(project)
    said = f"{record.key}: {status}"
    if status == "corrected" and not correction_path(project, record.key).exists():
        raise InputError(
            f"cannot mark {record.key} corrected: there is no corrected mask of it (correct it in the editor, "
            "or approve it to accept its mask as it is)"
        )
    if status == "approved" and record.mask is None and not correction_path(project, record.key).exists():
        try:
            run = find_run(project, "active")
        except InputError as exc:
            raise InputError(
                f"cannot approve {record.key}: it has no mask, and no trained run can draft one ({exc})"
            ) from exc
        cache = prepare(root, project, int(run.config.get("size", 128)), progress, cancel)
        row = next((i for i, r in enumerate(cache.rows) if r["key"] == record.key), None)
        if row is None:
            raise InputError(f"cannot approve {record.key}: the image cannot be read (see the dataset's problems)")
        save_correction(project, record.key, draft_mask(cache, row, run, load_run_model(run)))
        note = note or f"{ACCEPTED_NOTE} {run.id}"
        said = f"{record.key}: approved; the prediction of run {run.id} is its mask now"
    store.set_status(record.key, status, note)
    return record.key, said


# ----- the queue
def queue(
    root: Path,
    project: Path,
    which: str = "unlabelled",
    order: str = "confidence",
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """The review queue as data: ``{"run", "set", "order", "items": [{"key", "status", "source", "score"}]}``.

    ``which``: ``unlabelled`` (images without any mask: scored by the active run's confidence) or
    ``labelled`` (scored by the Dice of mask vs. prediction). ``order``: ``confidence`` (least confident
    first, in rounds of one view per car and per angle: see core.confidence.least_confident_first),
    ``dice`` (worst first) or ``dataset``."""
    from ..core.confidence import least_confident_first
    from ..core.review import review_scores, worst_first

    if which not in ("unlabelled", "labelled"):
        raise InputError(f"unknown set {which!r} (choose unlabelled or labelled)")
    if order not in ("confidence", "dice", "dataset"):
        raise InputError(f"unknown order {order!r} (choose confidence, dice or dataset)")
    if (which, order) in (("unlabelled", "dice"), ("labelled", "confidence")):
        fits = "confidence" if which == "unlabelled" else "dice"
        raise InputError(
            f"order {order!r} does not apply to the {which} set (choose {fits} or dataset): "
            "images without a mask have no Dice, and labelled ones are ranked by their Dice"
        )
    run = find_run(project, "active")
    cache = prepare(root, project, int(run.config.get("size", 128)), progress, cancel)
    sources = mask_sources(cache, project)
    statuses = StateStore(project).statuses()
    if which == "unlabelled":
        keys = [k for k, s in sources.items() if s == "predicted" and statuses.get(k) != "excluded"]
        scores = confidence_scores(cache, run, _Lazy(lambda: load_run_model(run)), progress=progress, cancel=cancel)
        cars = {row["key"]: row.get("car") or row["key"] for row in cache.rows}
        views = {row["key"]: row.get("view") or "" for row in cache.rows}
        known = {k: scores.get(k, 1.0) for k in keys}
        spread = ({k: cars[k] for k in keys}, {k: views[k] for k in keys})
        ranked = least_confident_first(known, *spread) if order != "dataset" else keys
    else:
        keys = [k for k, s in sources.items() if s != "predicted" and statuses.get(k) != "excluded"]
        scores = review_scores(cache, run, _Lazy(lambda: load_run_model(run)), progress=progress, cancel=cancel)
        position = {k: i for i, k in enumerate(worst_first(scores))}
        ranked = sorted(keys, key=lambda k: position.get(k, len(position))) if order != "dataset" else keys
    items = [
        {"key": k, "status": statuses.get(k, "unreviewed"), "source": sources[k], "score": scores.get(k)}
        for k in ranked
    ]
    score = "confidence" if which == "unlabelled" else f"dice_{cache.size}"
    return {"run": run.id, "set": which, "order": order, "score": score, "items": items}


def confidence_scores(
    cache: Cache, run: RunInfo, model: Any, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> dict[str, float]:
    """Confidence of the run's prediction per image without a mask (higher: surer), at cache size; cached
    in the run's folder (``confidence.json``) under the dataset fingerprint and the method, like the review
    scores, so the queue is computed once per run and dataset (core/confidence.py; the method was chosen by
    measurement, benchmarks/ACCURACY.md)."""
    from ..core.confidence import confidence_scores as scores

    return scores(cache, run, model, progress=progress, cancel=cancel)


# ----- the export of what people decided
def export(
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
    predictions_only: bool = False,
    feather: int = 0,
    background: tuple[int, int, int] | None = None,
) -> ExportSummary:
    """Per image, the mask a person made or approved, else the run's prediction; and ``manifest.csv``
    beside the masks: file, key, source, confidence, run, threshold. ``predictions_only``: the run's
    predictions for every image, as before a person looked at any."""
    from ..core.export import export_masks
    from .actions import SUBMISSION_NAME

    if fmt == "rle":
        fmt, rle = None, Path(out) / SUBMISSION_NAME
    if rle is not None and Path(rle).is_dir():
        raise InputError(f"{rle} is a folder: the RLE file needs a file name, e.g. {Path(rle) / SUBMISSION_NAME}")
    _outside_dataset(Path(out), Path(root), Path(project))
    if fmt and Path(out).exists() and not Path(out).is_dir():  # said before a model is loaded for nothing
        raise InputError(f"{out} is a file, not a folder: choose a folder for the masks")
    info = find_run(project, run)
    cache = prepare(root, project, int(info.config.get("size", 128)), progress, cancel)
    model = load_run_model(info, tta)
    target = (Path(out) if fmt else Path(rle).parent if rle else Path(out)) / MANIFEST_CSV
    if target.exists() and not overwrite:  # said before a single mask is written
        raise InputError(f"{target} already exists (from an earlier export); pass --overwrite to replace it")
    human = {} if predictions_only else _usable(project, cache, which, human_masks(project), progress)
    summary = export_masks(
        cache, info, model, out, which, fmt, rle, threshold, overwrite, progress, cancel, post, human=human,
        feather=feather, background=background,
    )  # fmt: skip
    sources = mask_sources(cache, project)
    scores = _cached_confidence(info, cache)
    rows = cache.rows_for_set(which)
    names = export_names(cache, rows, fmt)
    text = io.StringIO()
    table = csv.writer(text, lineterminator="\n")
    table.writerow(["file", "key", "source", "confidence", "run", "threshold"])
    for r in rows:
        key = cache.rows[r]["key"]
        source = sources[key] if key in human else "predicted"  # what was written, not what exists
        score = scores.get(key)
        file = names[r][0] or names[r][1]
        table.writerow([file, key, source, "" if score is None else f"{score:.5f}", info.id, threshold])
    atomic_write_bytes(target, text.getvalue().encode("utf-8", "surrogateescape"))
    return summary


def _outside_dataset(out: Path, root: Path, project: Path) -> None:
    """Masks written into the dataset's folders would be read back as photos (and the user's folders must
    not change): refused, unless the folder is inside the project folder."""
    where, data, own = out.expanduser().resolve(), root.expanduser().resolve(), project.expanduser().resolve()
    if where.is_relative_to(data) and not where.is_relative_to(own):
        raise InputError(
            f"{out} is inside the dataset folder {root}: the masks would be read as new photos; "
            "choose a folder outside it"
        )


def _usable(project: Path, cache: Cache, which: str, human: dict[str, Path], progress: ProgressFn) -> dict[str, Path]:
    """The person's masks of the exported images that can be used: a file that cannot be decoded or has
    the wrong size is moved to ``corrections/rejected/`` (as training does), its image is exported as the
    prediction, and a notice names the file and the problem."""
    from ..core.corrections import load_correction

    out = dict(human)
    problems = []
    for r in cache.rows_for_set(which):
        key = cache.rows[r]["key"]
        if key in out:
            height, width = cache.rows[r]["orig"][:2]
            mask, problem = load_correction(project, key, (int(height), int(width)))
            if problem or mask is None:
                problems.append(problem or f"correction of {key}: missing")
                del out[key]
    if problems:
        words = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        notice = f"{len(problems)} mask(s) by a person could not be used and were exported as predictions: {words}"
        progress(Progress("notice", 0, 0, info={"notice": notice}))
    return out


def _cached_confidence(run: RunInfo, cache: Cache) -> dict[str, float]:
    """The run's confidence scores if the queue computed them for this dataset (export does not predict
    twice for them); scores of another dataset version or method are not this export's."""
    from ..core.confidence import CACHE_FILE, DEFAULT_METHOD
    from ..core.imageio import CorruptFile, read_json

    try:
        cached = read_json(run.folder / CACHE_FILE, default=None) or {}
    except CorruptFile:
        return {}
    if not isinstance(cached, dict) or cached.get("fingerprint") != cache.fingerprint:
        return {}
    if cached.get("method") != DEFAULT_METHOD:
        return {}
    scores = cached.get("scores")
    return dict(scores) if isinstance(scores, dict) else {}


class _Lazy:
    """The run's model, loaded at its first use: a queue whose scores are all cached in the run's folder
    needs no TensorFlow and no model load (seconds) at all."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load, self._model = load, None

    def __getattr__(self, name: str) -> Any:
        if self._model is None:
            self._model = self._load()
        return getattr(self._model, name)
