"""One image being corrected: its mask, the original to reset to, the prediction, its undo stack.

What the editor edits is always the full-resolution 0/1 mask; training derives its 128x128 input
from the saved correction by the same resize + Otsu as any mask. The arrays come from
:func:`carseg_gui.session.editor.load_arrays`, run in the editor's loader thread; saving is the
saver thread's (:mod:`carseg_gui.session.editor_workers`). This QObject is the thin part: signals for
the views, and the undo stack.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ...core.masks import BBox, MaskEdit
from ...core.postprocess import PostProcess
from ...session.editor import EditorItem, Loaded, Revisions, prediction_at, status_after_save
from .commands import UNDO_LIMIT, EditCommand

__all__ = ["EditorItem", "MaskDocument", "status_after_save"]


class MaskDocument(QObject):
    """The state of one image in the editor. Views listen; tools change the mask through it.

    ``mask`` (0/1, edited in place), ``original``, ``rgb`` (the full-size photo, HxWx3 uint8 or None),
    ``prob`` (float 0..1 at full size, or None) and ``pred`` (``prob`` at ``threshold``, post-processed)."""

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
        rgb: np.ndarray | None = None,
        pred: np.ndarray | None = None,
        threshold: float = 0.5,
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.mask = mask
        self.original = original
        self.prob = prob
        self.rgb = rgb
        self.post = post or PostProcess()
        self.threshold = float(threshold)
        self.pred = pred if pred is not None or prob is None else prediction_at(prob, self.post, self.threshold)
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self.revisions = Revisions()
        self.problems: list[str] = []
        self.note = ""  # what the editor says about the starting mask (a draft)
        self.draft = False  # no mask of its own: ``original`` is the run's prediction (or empty)
        self.draft_run: str | None = None
        self.draft_note = ""  # the draft's own words, kept for the note after a decision

    @classmethod
    def from_loaded(cls, loaded: Loaded, post: PostProcess | None, parent: QObject | None = None) -> MaskDocument:
        assert loaded.mask is not None and loaded.original is not None
        doc = cls(loaded.key, loaded.mask, loaded.original, loaded.prob, parent, post, loaded.rgb, loaded.pred,
                  loaded.threshold)  # fmt: skip
        doc.problems, doc.note = list(loaded.problems), loaded.note
        doc.draft, doc.draft_run, doc.draft_note = loaded.draft, loaded.draft_run, loaded.draft_note
        return doc

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.mask.shape[0]), int(self.mask.shape[1]))

    @property
    def revision(self) -> int:
        return self.revisions.revision

    @property
    def dirty(self) -> bool:
        return self.revisions.dirty

    def begin_edit(self) -> None:
        self.aboutToEdit.emit()

    def live_change(self, bbox: BBox) -> None:
        """A stroke segment changed the mask in place: repaint, the undo step comes at its end."""
        self.revisions.bump()
        self.changed.emit(bbox)

    def push(self, edit: MaskEdit, text: str) -> bool:
        """Record an applied edit as one undo step; an edit that changed nothing is dropped."""
        if edit.is_empty:
            return False
        self.stack.push(EditCommand(self, edit.pack(), text))
        return True

    def notify_modified(self, bbox: BBox | None) -> None:
        self.revisions.bump(edited=True)
        if bbox is not None:
            self.changed.emit(bbox)
        self.modified.emit()

    def set_threshold(self, threshold: float) -> None:
        """Re-binarise the prediction here and now (the editor does it in a background thread instead)."""
        if self.pred is not None and float(threshold) == self.threshold:
            return
        self.set_prediction(prediction_at(self.prob, self.post, float(threshold)), float(threshold))

    def set_prediction(self, pred: np.ndarray | None, threshold: float) -> None:
        self.threshold = float(threshold)
        if self.prob is not None:
            self.pred = pred
            self.predictionChanged.emit()

    def undo_bytes(self) -> int:
        return sum(self.stack.command(i).nbytes for i in range(self.stack.count()))  # type: ignore[attr-defined]
