"""The mask editor's model, outside Qt: the items it steps through, loading one image's arrays, drafts for
images without a mask, and the rules of saving (revisions, the status an edit leads to).

Everything here runs in plain Python and is tested without a QApplication; the Qt editor
(``qt/editor``) shows what these functions return and runs them on background threads
(:mod:`.editor_workers`): the GUI thread never decodes a photo, predicts or writes a file.

A *draft* is the starting mask of an image that has no mask: the active run's prediction at the image's
original size, with the run's TTA and post-processing (:func:`.annotate.draft_mask`, what export
writes for it). Without a trained run the draft is empty and says so.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.cache import Cache
from ..core.corrections import load_correction
from ..core.imageio import UnreadableImage, read_image, read_mask
from ..core.otsu import otsu_mask
from ..core.postprocess import PostProcess
from ..core.project import RunInfo
from ..core.review import predicted_mask
from .store import HUMAN_STATUSES, StateStore

NO_RUN_NOTE = "no trained run yet: the draft is empty; paint the car"
DRAFT_THRESHOLD = 0.5  # the run's threshold: what export writes by default


@dataclass(frozen=True)
class Draft:
    """The starting mask of an image without a mask (0/1, full size) and the probability it came from."""

    mask: np.ndarray
    prob: np.ndarray | None = None  # float32 0..1 at full size; None for an empty draft
    note: str = ""
    run_id: str | None = None  # the run whose prediction this is; None: empty (no run, or it failed)


@dataclass(frozen=True)
class EditorItem:
    """What the editor needs to know about one image; the viewer builds these from its rows.

    ``prediction`` returns the probability map (float 0..1, or uint8 0..255) of a labelled image, or None;
    ``draft`` makes the draft of an image without a mask, given the photo's (height, width). Both are
    called in the editor's loader thread, so they may load or predict. ``post`` is the run's
    post-processing, applied after the editor's threshold: the prediction shown is the one the run exports.
    """

    key: str
    image_path: Path
    mask_path: Path | None = None
    prediction: Callable[[], np.ndarray | None] | None = None
    post: PostProcess | None = None
    draft: Callable[[tuple[int, int]], Draft] | None = None


@dataclass
class Loaded:
    """One image's arrays, ready to show: built in the loader thread by :func:`load_arrays`."""

    key: str
    rgb: np.ndarray | None = None  # HxWx3 uint8, the full-size photo
    mask: np.ndarray | None = None  # what is edited: the correction, else the original
    original: np.ndarray | None = None  # what "reset" goes back to: the Otsu mask, or the draft
    prob: np.ndarray | None = None
    pred: np.ndarray | None = None  # prob at ``threshold``, post-processed
    threshold: float = 0.5
    status: str = "unreviewed"
    problems: list[str] = field(default_factory=list)
    note: str = ""  # what the editor says about the starting mask (a draft, an empty draft)
    draft: bool = False  # the image has no mask of its own: ``original`` is the draft
    draft_run: str | None = None
    error: str | None = None  # the photo cannot be read: nothing else is set
    draft_note: str = ""  # the draft's own words (which run), for mask_note after a decision


def mask_note(draft: bool, draft_run: str | None, draft_note: str, status: str, has_correction: bool) -> str:
    """What the editor says about the mask on screen, so that it matches what training and the export use.

    A saved correction counts only while the image is corrected or approved (core.corrections): shown
    under another status, the editor says that it is not used, and what is used instead."""
    if has_correction and status not in HUMAN_STATUSES:
        used = "the run's prediction" if draft else "the dataset's mask"
        return (
            f"your saved mask is shown, but while the image is {status} training and the export use {used}: "
            "approve (A) to use yours, or reset"
        )
    if has_correction and draft:
        source = f" (it started as the draft of run {draft_run})" if draft_run else ""
        return f"your mask{source}: training and the export use it"
    return draft_note


def prediction_at(prob: np.ndarray | None, post: PostProcess | None, threshold: float) -> np.ndarray | None:
    """The run's mask from a probability map: thresholded (``>``, as export does), then post-processed."""
    if prob is None:
        return None
    return predicted_mask(prob, post or PostProcess(), threshold)


def _fit(arr: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    return arr if arr.shape[:2] == shape else cv2.resize(arr, shape[::-1], interpolation=interpolation)


def as_probability(prob: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """float32 0..1 at ``shape``; an 8-bit map is read as 0..255."""
    prob = np.asarray(prob)
    prob = prob.astype(np.float32) / 255.0 if prob.dtype == np.uint8 else prob.astype(np.float32)
    return _fit(prob, shape, cv2.INTER_LINEAR)


def load_arrays(project: Path, item: EditorItem, threshold: float = 0.5, store: StateStore | None = None) -> Loaded:
    """Everything the editor shows of one image. A photo that cannot be read gives ``error``, never raises.

    The mask is the saved correction if there is a good one, else the Otsu-binarised original (or the draft,
    for an image without a mask); a correction that is corrupt or the wrong size is set aside (reported in
    ``problems``)."""
    store = store or StateStore(project)
    try:
        rgb, (h, w) = read_image(item.image_path)
        if rgb.shape[:2] != (h, w):
            h, w = rgb.shape[:2]
    except (UnreadableImage, OSError, ValueError) as exc:
        return Loaded(item.key, error=f"cannot open {item.image_path.name}: {exc}")
    problems: list[str] = []
    note, draft_run, prob = "", None, None
    try:
        if item.mask_path is not None:
            raw = read_mask(item.mask_path)
            if raw.shape[:2] != (h, w):
                problems.append(f"the mask is {raw.shape[1]}x{raw.shape[0]}, the image {w}x{h}: resized to the image")
                raw = _fit(np.asarray(raw, np.float32), (h, w), cv2.INTER_LINEAR)
            original = np.ascontiguousarray(otsu_mask(raw))
        elif item.draft is not None:
            made = item.draft((h, w))
            original = np.ascontiguousarray(_fit(made.mask.astype(np.uint8), (h, w), cv2.INTER_NEAREST))
            prob, note, draft_run = made.prob, made.note, made.run_id
        else:
            original = np.zeros((h, w), np.uint8)
    except (UnreadableImage, OSError, ValueError) as exc:
        name = item.mask_path.name if item.mask_path is not None else item.image_path.name
        problems.append(f"the mask {name} cannot be read ({exc}): starting from an empty mask")
        original = np.zeros((h, w), np.uint8)
    correction, problem = load_correction(project, item.key, (h, w))
    if problem:
        problems.append(problem)
    mask = correction if correction is not None else original.copy()
    status = store.status(item.key)
    draft_note, note = note, mask_note(item.mask_path is None, draft_run, note, status, correction is not None)
    if prob is None and item.prediction is not None:
        try:
            prob = item.prediction()
        except Exception as exc:  # the photo and its mask still open: only the prediction is missing
            problems.append(f"the prediction cannot be shown ({exc})")
    prob = as_probability(prob, (h, w)) if prob is not None else None
    post = item.post or PostProcess()
    return Loaded(
        item.key, rgb, np.ascontiguousarray(mask, np.uint8), original, prob, prediction_at(prob, post, threshold),
        threshold, status, problems, note, item.mask_path is None, draft_run, draft_note=draft_note,
    )  # fmt: skip


# ----- drafts
class DraftSource:
    """Drafts of a cache's images from one run, or empty drafts without one.

    The run's model is loaded once, by the first thread that asks (the editor's loader thread, never the
    GUI thread), and kept while the run's model file is unchanged: one load per editor session.
    ``prepare`` runs before the first load (the window's quiet TensorFlow import)."""

    def __init__(self, cache: Cache | None, run: RunInfo | None, prepare: Callable[[], None] | None = None) -> None:
        self.cache = cache
        self.run = run
        self.prepare = prepare
        self._rows = {r["key"]: i for i, r in enumerate(cache.rows)} if cache is not None else {}

    def for_key(self, key: str) -> Callable[[tuple[int, int]], Draft]:
        return lambda shape: self.draft(key, shape)

    def draft(self, key: str, shape: tuple[int, int]) -> Draft:
        empty = np.zeros(shape, np.uint8)
        if self.run is None or self.cache is None:
            return Draft(empty, None, NO_RUN_NOTE)
        row = self._rows.get(key)
        if row is None:
            return Draft(empty, None, f"{key} is not in the preprocessed images yet: the draft is empty")
        try:
            from .annotate import draft_mask

            model = _Keeping(_model_for(self.run, self.prepare))
            mask = draft_mask(self.cache, row, self.run, model, DRAFT_THRESHOLD)
        except Exception as exc:  # a model that cannot load or predict: the user can still paint
            return Draft(empty, None, f"the prediction of run {self.run.id} failed ({exc}): the draft is empty")
        small = np.asarray(model.last, np.float32)[0, ..., 0]  # the probability the draft was made from
        prob = cv2.resize(small, shape[::-1], interpolation=cv2.INTER_LINEAR)
        note = f"draft: the prediction of run {self.run.id}; approve (A) accepts it as the mask, or correct it first"
        return Draft(mask, prob, note, self.run.id)


class _Keeping:
    """A model that keeps its last output: the draft (:func:`.annotate.draft_mask`, what export writes) and the
    probability the editor shows come from one prediction."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.last: Any = None

    def predict_on_batch(self, batch: Any) -> Any:
        self.last = self.model.predict_on_batch(batch)
        return self.last


_model_lock = threading.Lock()
_model: tuple[tuple[Any, ...], Any] | None = None


def _model_for(run: RunInfo, prepare: Callable[[], None] | None) -> Any:
    """The run's model (with its TTA), loaded once per model file."""
    global _model
    from .actions import load_run_model

    path = Path(run.model_path)
    st = os.stat(path)
    stamp = (str(path), st.st_mtime_ns, st.st_size, bool(run.config.get("tta", False)))
    with _model_lock:
        if _model is None or _model[0] != stamp:
            if prepare is not None:
                prepare()
            _model = (stamp, load_run_model(run))
        return _model[1]


# ----- the rules of saving
@dataclass
class Revisions:
    """Which version of a mask is on disk. A counter, not an undo stack's clean index: saving happens on a
    timer in another thread, and "the bytes on disk are revision N" stays true whatever the stack does after."""

    revision: int = 0
    saved: int = 0  # on disk
    queued: int = 0  # handed to the saver (on disk soon)
    edited_since_status: bool = False  # an edit since the status was last brought up to date

    @property
    def dirty(self) -> bool:
        return self.revision != self.saved

    def bump(self, edited: bool = False) -> None:
        self.revision += 1
        self.edited_since_status = self.edited_since_status or edited

    @property
    def unqueued(self) -> bool:
        return self.revision != self.queued

    def queue(self) -> tuple[int, bool]:
        """Hand the current revision to the saver: (revision, whether it holds edits the status must follow)."""
        edited, self.edited_since_status = self.edited_since_status, False
        self.queued = self.revision
        return self.revision, edited

    def written(self, revision: int) -> None:
        """The saver says revision ``revision`` is on disk (a later one may be pending)."""
        self.saved = max(self.saved, revision)

    def failed(self, edited: bool) -> None:
        """The write failed: the next flush tries again (and the status still has to follow)."""
        self.queued = self.saved
        self.edited_since_status = self.edited_since_status or edited


def status_after_save(status: str, saved_original: bool, before_edit: str | None) -> str | None:
    """The review status once an edit's bytes are on disk, or None to leave it.

    An edit makes an unreviewed or approved image "corrected" (an excluded one stays excluded); a mask
    that is the original again is no correction: "corrected" goes back to what it was before the edits.
    """
    if saved_original:
        return (before_edit or "unreviewed") if status == "corrected" else None
    return "corrected" if status in ("unreviewed", "approved") else None


def keeps_file(saved_original: bool, draft: bool, status_after: str) -> bool:
    """Whether a saved mask is kept as a correction file. The original mask again is no correction (the
    file goes); but an approved draft *is* the image's mask: its file stays, or the image would be unlabelled."""
    return not saved_original or (draft and status_after == "approved")
