"""One image being corrected: its mask, the original to reset to, the prediction, its undo stack.

What the editor edits is always the full-resolution 0/1 mask; training derives its 128x128 input
from the saved correction by the same resize + Otsu as any mask. Saving is "write the whole mask
atomically" (a 1918x1280 0/255 PNG is ~10 KB and ~12 ms): simpler and safer than appending diffs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ...core.corrections import correction_path, load_correction, save_correction
from ...core.imageio import read_image, read_mask
from ...core.masks import BBox, MaskEdit
from ...core.otsu import otsu_mask
from ...core.postprocess import PostProcess
from .commands import UNDO_LIMIT, EditCommand


@dataclass(frozen=True)
class EditorItem:
    """What the editor needs to know about one image; the viewer builds these from its rows.

    ``prediction`` returns the probability map (float, 0..1) at the image's full size, or None when
    there is none; it is called when the image is opened, so it can load lazily. ``post`` is the
    run's post-processing, applied after the editor's threshold, so the prediction shown and taken
    is the mask the run exports.
    """

    key: str
    image_path: Path
    mask_path: Path | None = None
    prediction: Callable[[], np.ndarray | None] | None = None
    post: PostProcess | None = None


class MaskDocument(QObject):
    """The state of one image in the editor. Views listen; tools change the mask through it."""

    changed = Signal(object)  # bbox (y0, y1, x0, x1) of a repaint, or None for everything
    modified = Signal()  # the mask differs from before a stroke/undo/redo: time to (re)start saving
    aboutToEdit = Signal()  # a stroke starts: whatever is unsaved belongs to the previous one
    predictionChanged = Signal()

    def __init__(
        self,
        key: str,
        mask: np.ndarray,
        original: np.ndarray,
        prob: np.ndarray | None,
        parent: QObject | None = None,
        post: PostProcess | None = None,
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.mask = mask
        self.original = original
        self.prob = prob
        self.post = post or PostProcess()
        self.threshold = 0.5
        self.pred = self._predicted()
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        # A revision counter, not QUndoStack's clean index: saving happens on a timer, and "the bytes
        # on disk are revision N" stays true whatever the stack does after.
        self.revision = 0
        self.saved_revision = 0
        self.edited_since_status = False
        self.status_before_edit: str | None = None  # what the edits made "corrected" was before
        self.saved_original = False  # the last save found the original mask again (no correction kept)
        self.problems: list[str] = []

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.mask.shape[0]), int(self.mask.shape[1]))

    @property
    def dirty(self) -> bool:
        return self.revision != self.saved_revision

    def begin_edit(self) -> None:
        self.aboutToEdit.emit()

    def live_change(self, bbox: BBox) -> None:
        """A stroke segment changed the mask in place: repaint, the undo step comes at its end."""
        self.revision += 1
        self.changed.emit(bbox)

    def push(self, edit: MaskEdit, text: str) -> bool:
        """Record an applied edit as one undo step; an edit that changed nothing is dropped."""
        if edit.is_empty:
            return False
        self.stack.push(EditCommand(self, edit.pack(), text))
        return True

    def notify_modified(self, bbox: BBox | None) -> None:
        self.revision += 1
        self.edited_since_status = True
        if bbox is not None:
            self.changed.emit(bbox)
        self.modified.emit()

    def set_threshold(self, threshold: float) -> None:
        if self.pred is not None and float(threshold) == self.threshold:
            return
        self.threshold = float(threshold)
        if self.prob is not None:
            self.pred = self._predicted()
            self.predictionChanged.emit()

    def _predicted(self) -> np.ndarray | None:
        if self.prob is None:
            return None
        binary = (self.prob >= self.threshold).astype(np.uint8)
        return self.post(binary) if self.post.active else binary

    def save(self, project: Path) -> bool:
        """Write the mask if it changed since the last write; True when something was written.

        A mask that is the original again (undone back to "Opened", or reset) is no correction: its
        file is removed, so training, the viewer and the status all see the user's own mask.
        """
        if not self.dirty:
            return False
        revision = self.revision
        self.saved_original = bool(np.array_equal(self.mask, self.original))
        if self.saved_original:
            correction_path(project, self.key).unlink(missing_ok=True)
        else:
            save_correction(project, self.key, self.mask)
        self.saved_revision = revision
        return True

    def undo_bytes(self) -> int:
        return sum(self.stack.command(i).nbytes for i in range(self.stack.count()))  # type: ignore[attr-defined]


def status_after_save(status: str, saved_original: bool, before_edit: str | None) -> str | None:
    """The review status once an edit's bytes are on disk, or None to leave it.

    An edit makes an unreviewed or approved image "corrected" (an excluded one stays excluded); a mask
    that is the original again is no correction: "corrected" goes back to what it was before the edits.
    """
    if saved_original:
        return (before_edit or "unreviewed") if status == "corrected" else None
    return "corrected" if status in ("unreviewed", "approved") else None


def _fit(arr: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    return arr if arr.shape[:2] == shape else cv2.resize(arr, shape[::-1], interpolation=interpolation)


def load_document(project: Path, item: EditorItem) -> tuple[MaskDocument, np.ndarray]:
    """(document, RGB image). Raises UnreadableImage/OSError when the image itself cannot be read.

    The mask is the saved correction if there is a good one, else the Otsu-binarised original; a
    correction that is corrupt or the wrong size is set aside (reported in ``document.problems``).
    """
    rgb, (h, w) = read_image(item.image_path)
    problems: list[str] = []
    if item.mask_path is not None:
        raw = read_mask(item.mask_path)
        if raw.shape[:2] != (h, w):
            problems.append(f"the mask is {raw.shape[1]}x{raw.shape[0]}, the image {w}x{h}: resized to the image")
            raw = _fit(np.asarray(raw, np.float32), (h, w), cv2.INTER_LINEAR)
        original = np.ascontiguousarray(otsu_mask(raw))
    else:
        original = np.zeros((h, w), np.uint8)
    correction, problem = load_correction(project, item.key, (h, w))
    if problem:
        problems.append(problem)
    mask = correction if correction is not None else original.copy()
    prob = item.prediction() if item.prediction is not None else None
    if prob is not None:
        prob = np.asarray(prob)
        # Probabilities are 0..1 floats; a provider handing over an 8-bit map is read as 0..255.
        prob = prob.astype(np.float32) / 255.0 if prob.dtype == np.uint8 else prob.astype(np.float32)
        prob = _fit(prob, (h, w), cv2.INTER_LINEAR)
    document = MaskDocument(item.key, np.ascontiguousarray(mask, np.uint8), original, prob, post=item.post)
    document.problems = problems
    return document, rgb
