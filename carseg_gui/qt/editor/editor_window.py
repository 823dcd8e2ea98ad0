"""MaskEditor: correct one image's mask, step through a list of images, decide their status.

It knows nothing about the viewer: it gets a project folder and a list of :class:`EditorItem`, and
says where it is through signals (``currentChanged`` so the viewer can follow, ``statusChanged``
and ``correctionSaved`` so rows and thumbnails can refresh).

Nothing is lost: a change is written (whole mask, atomic) 300 ms after a stroke ends, and at once
when the next stroke starts with the previous one still unwritten, when the image changes, when a
status is set and on close (:mod:`.autosave`; the writing is the saver thread's). So a SIGKILL loses at
most the stroke in progress. The indicator says "Saved" only after the bytes are on disk.

Images load in a background thread and the neighbours of the one shown are prefetched (:mod:`.loading`);
while an image loads the canvas says so and takes no edits. Any image opens: one without a mask starts
from its *draft*, the active run's prediction (:mod:`carseg_gui.session.editor`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent, QUndoGroup
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from ...core import masks
from ...core.metrics import dice
from ...session.editor import mask_note
from .autosave import AutoSave
from .canvas import MaskCanvas
from .document import EditorItem, MaskDocument
from .loading import KEEP_DOCUMENTS, Documents
from .menus import make_actions, menus
from .panel import SidePanel, StatusRow
from .tools import Tool, make_tools

BRUSH_SETTING = "editor/brush_size"  # a preference of the person, not of the project: QSettings

__all__ = ["KEEP_DOCUMENTS", "EditorItem", "MaskEditor"]


class MaskEditor(QWidget):
    currentChanged = Signal(int, str)  # index in items, key
    statusChanged = Signal(str, str)  # key, status
    correctionSaved = Signal(str, object)  # key, the mask (0/1, full size) whose PNG was just written
    problemFound = Signal(str, str)  # key, message (an unreadable image, a rejected correction)
    shown = Signal(str)  # key: the current image is on screen (loaded, or said to be unreadable)
    closed = Signal()

    def __init__(
        self, project: Path, items: Sequence[EditorItem], index: int = 0, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.project = Path(project)
        self.items = list(items)
        self.index = -1
        self.document: MaskDocument | None = None
        self._status = "unreviewed"
        self.group = QUndoGroup(self)
        self.documents = Documents(self.project, self._adopt, self._drop, self)
        self.documents.arrived.connect(self._arrived)
        self.documents.statusRead.connect(lambda key: self._status_shown(key, self.documents.statuses[key]))
        self.documents.problemFound.connect(self.problemFound)
        self.documents.predictionReady.connect(lambda key: self._show_dice() if key == self.current_key else None)
        self.autosave = AutoSave(self.project, lambda: self.documents, self.documents.get, self)
        self.autosave.saved.connect(self.correctionSaved)
        self.autosave.statusWritten.connect(self._status_written)
        self.autosave.failed.connect(self._save_failed)
        self.autosave.drained.connect(lambda: self._show_saved())
        self.canvas = MaskCanvas()
        self.panel = SidePanel(self.group)
        self.tools: dict[str, Tool] = {t.name: t for t in make_tools(self.canvas)}
        self._build()
        self.resize(1280, 800)
        self.set_index(index)
        self.set_tool("brush")
        self.canvas.set_brush_size(_saved_brush_size(self.canvas.brush_size))
        self._show_brush_size(self.canvas.brush_size)

    # -- layout and actions -------------------------------------------------------------------
    def _build(self) -> None:
        make_actions(self)
        menubar, toolbar = menus(self)

        p = self.panel
        p.brush_size.valueChanged.connect(self.canvas.set_brush_size)
        self.canvas.brushSizeChanged.connect(self._show_brush_size)
        p.opacity.valueChanged.connect(lambda v: self.canvas.overlay.setOpacity(v / 100.0))
        p.overlay_on.toggled.connect(self.canvas.overlay.setVisible)
        p.outline.toggled.connect(lambda _: self._restyle())
        p.mode.currentIndexChanged.connect(lambda _: self.set_mode(p.mode.currentData()))
        p.threshold.valueChanged.connect(self._threshold_changed)
        p.take_all.clicked.connect(self.take_whole_prediction)
        p.approve.clicked.connect(lambda: self.set_status("approved"))
        p.exclude.clicked.connect(lambda: self.set_status("excluded"))
        p.unreviewed.clicked.connect(lambda: self.set_status("unreviewed"))
        self.canvas.cursorMoved.connect(self._show_cursor)
        self.canvas.zoomChanged.connect(lambda z: self.status_row.zoom.setText(f"{z * 100:.0f}%"))

        splitter = QSplitter()
        splitter.addWidget(self.canvas)
        splitter.addWidget(p)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([980, 300])
        splitter.setCollapsible(0, False)

        self.status_row = StatusRow()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.setMenuBar(menubar)
        layout.addWidget(toolbar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_row)
        self.act_modes["mask"].setChecked(True)

    # -- images -------------------------------------------------------------------------------
    @property
    def current_key(self) -> str | None:
        return self.items[self.index].key if 0 <= self.index < len(self.items) else None

    def set_items(self, items: Sequence[EditorItem], index: int = 0) -> None:
        """A new list (the viewer's filter or order changed), opened at ``index``.

        Images opened recently keep their undo history, whatever their place in the new list.
        """
        self.flush()
        self.items = list(items)
        self.index = -1
        self.documents.reset()
        self.set_index(index)

    def set_index(self, index: int) -> None:
        if not (0 <= index < len(self.items)) or index == self.index:
            return
        if self.canvas.tool is not None:
            self.canvas.tool.finish()
        self.flush()
        self.index = index
        self._show_current()
        self.documents.want(self.items, index)
        self.currentChanged.emit(index, self.items[index].key)

    def _show_current(self) -> None:
        """The current image if it is loaded (at once: kept or prefetched), else "Loading…"."""
        item = self.items[self.index]
        document = self.documents.open(item)
        self.document = document
        self.canvas.set_document(document, document.rgb if document else None)
        self.group.setActiveStack(document.stack if document else None)  # type: ignore[arg-type]
        error = self.documents.errors.get(item.key)
        loading = document is None and error is None
        self.canvas.show_message(f"Loading {item.image_path.name}…" if loading else error or "")
        self.status_row.problem.setText("; ".join(document.problems) if document else error or "")
        self.status_row.show_note(document.note if document else "")
        self._status = self.documents.statuses.get(item.key, "unreviewed")
        self._refresh()
        if not loading:
            self.documents.report(item.key)
            self.shown.emit(item.key)

    def _arrived(self, key: str) -> None:
        if key == self.current_key and self.document is None:
            self._show_current()

    @property
    def loading(self) -> bool:
        """The current image is still being loaded: nothing to edit or decide yet."""
        key = self.current_key
        return key is not None and self.document is None and key not in self.documents.errors

    def _adopt(self, document: MaskDocument) -> None:
        document.setParent(self)
        document.modified.connect(self._modified)
        document.aboutToEdit.connect(self._about_to_edit)
        document.changed.connect(lambda _: self._show_saved())  # "Unsaved" from the first segment on
        self.group.addStack(document.stack)

    def _drop(self, document: MaskDocument) -> None:
        self.group.removeStack(document.stack)
        document.deleteLater()

    # -- editing ------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        tool = self.tools[name]
        if tool.needs_prediction and (self.document is None or self.document.pred is None):
            return
        self.canvas.set_tool(tool)
        self.act_tools[name].setChecked(True)

    def _step_brush(self, direction: int) -> None:
        size = self.canvas.brush_size
        self.canvas.set_brush_size(size + direction * max(1, round(size * 0.1)))

    def _show_brush_size(self, size: int) -> None:
        self.panel.brush_size.blockSignals(True)
        self.panel.brush_size.setValue(size)
        self.panel.brush_size.blockSignals(False)
        self.panel.brush_label.setText(f"{size} px")
        QSettings().setValue(BRUSH_SETTING, size)

    def undo(self) -> None:
        if self.canvas.tool is not None:
            self.canvas.tool.finish()  # a stroke in progress becomes a step first, then is undone
        self.group.undo()

    def redo(self) -> None:
        self.group.redo()

    def _one_shot(self, edit_fn, text: str) -> None:  # type: ignore[no-untyped-def]
        doc = self.document
        if doc is None:
            return
        if self.canvas.tool is not None:
            self.canvas.tool.finish()
        doc.begin_edit()
        edit = edit_fn(doc)
        if not edit.is_empty:
            doc.live_change(edit.bbox)
            doc.push(edit, text)

    def take_whole_prediction(self) -> None:
        if self.document is not None and self.document.pred is not None:
            self._one_shot(lambda d: masks.copy_from(d.mask, d.pred), "Take prediction")

    def reset_to_original(self) -> None:
        self._one_shot(lambda d: masks.reset_to(d.mask, d.original), "Reset to original")

    # -- view ---------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode != "mask" and (self.document is None or self.document.pred is None):
            mode = "mask"
        self.act_modes[mode].setChecked(True)
        combo = self.panel.mode
        combo.blockSignals(True)
        combo.setCurrentIndex(combo.findData(mode))
        combo.blockSignals(False)
        self.panel.show_mode(mode)
        self._restyle()

    def _restyle(self) -> None:
        self.canvas.overlay.set_style(self.panel.mode.currentData(), self.panel.outline.isChecked())

    def _threshold_changed(self, value: int) -> None:
        self.panel.threshold_label.setText(f"{value / 100:.2f}")
        self.documents.threshold = value / 100.0
        if self.document is not None:  # shown when the background thread has it (_show_dice then)
            self.documents.set_threshold(self.document, value / 100.0)

    # -- saving and status --------------------------------------------------------------------
    def _about_to_edit(self) -> None:
        # The previous stroke must be on disk before this one can be half-done and lost.
        self.autosave.before_stroke()
        self._show_saved()

    def _modified(self) -> None:
        self.autosave.schedule()
        self._show_saved()
        self._show_dice()

    def flush(self) -> bool:
        """Write every unsaved change now and wait for it; False if a write failed (the indicator says why)."""
        ok = self.autosave.flush()
        self._show_saved()
        return ok

    def set_status(self, status: str) -> None:
        key = self.current_key
        if key is None or self.loading:
            return  # no decision on an image not on screen yet
        if self.canvas.tool is not None:
            self.canvas.tool.finish()
        self.autosave.set_status(key, status, self.document)

    def _status_written(self, key: str, status: str) -> None:
        self.documents.status_written(key, status)
        self._status_shown(key, status)
        self.statusChanged.emit(key, status)

    def _status_shown(self, key: str, status: str) -> None:
        if key == self.current_key:
            self._status = status
            self.panel.show_status(status)
            doc = self.document
            if doc is not None:  # the note says which mask training and the export use now
                saved = (doc.draft and status == "approved") or not np.array_equal(doc.mask, doc.original)
                doc.note = mask_note(doc.draft, doc.draft_run, doc.draft_note, status, saved)
                self.status_row.show_note(doc.note)

    def _save_failed(self, key: str, message: str) -> None:
        if key == self.current_key:
            self.status_row.problem.setText(message)
        self.problemFound.emit(key, message)

    # -- display ------------------------------------------------------------------------------
    def _refresh(self) -> None:
        doc = self.document
        has_pred = doc is not None and doc.pred is not None
        for name, act in self.act_tools.items():
            act.setEnabled(doc is not None and (has_pred or not self.tools[name].needs_prediction))
        if self.canvas.tool is not None and not self.act_tools[self.canvas.tool.name].isEnabled():
            self.set_tool("brush")
        for mode in ("prediction", "disagreement"):
            self.act_modes[mode].setEnabled(has_pred)
        self.panel.prediction_box.setEnabled(has_pred)
        self.act_take_all.setEnabled(has_pred)
        self.act_reset.setEnabled(doc is not None)
        self.act_reset.setText("Reset to the draft" if doc is not None and doc.draft else "Reset to original mask")
        p = self.panel
        for widget in (*self.act_status.values(), p.approve, p.exclude, p.unreviewed):
            widget.setEnabled(not self.loading)
        self.act_prev.setEnabled(self.index > 0)
        self.act_next.setEnabled(self.index < len(self.items) - 1)
        self.status_row.zoom.setText(f"{self.canvas.zoom() * 100:.0f}%" if doc is not None else "")
        self.set_mode(self.panel.mode.currentData())
        self.panel.show_status(self._status)
        key = self.current_key or ""
        self.status_row.where.setText(f"{self.index + 1} / {len(self.items)}   {key}")
        self.setWindowTitle(f"Mask editor: {key}")
        self._show_saved()
        self._show_dice()

    def _show_saved(self) -> None:
        error = self.autosave.error
        if error and self.document is not None and self.document.dirty:
            text, colour = f"Not saved: {error}", "#b91c1c"
        elif self.document is not None and self.document.dirty:
            text, colour = "● Unsaved changes", "#b45309"
        elif self.document is not None:
            text, colour = "✓ Saved", "#15803d"
        else:  # loading, or an image that cannot be shown: nothing to be saved or not
            text, colour = "", "#15803d"
        self.status_row.show_saved(text, colour)

    def _show_dice(self) -> None:
        doc = self.document
        if doc is None or doc.pred is None:
            text = "no prediction"
        else:  # at the photo's size: the viewer's thumbnails score at the cache's smaller size
            h, w = doc.shape
            text = f"{dice(doc.mask, doc.pred):.4f} at {w}×{h}"
            if doc.draft and np.array_equal(doc.mask, doc.original):  # an untouched draft: 1 by construction
                text += " (draft)"
        self.panel.dice.setText(text)
        self.panel.dice.setToolTip(
            "Dice of the mask against the run's prediction, at the photo's size"
            + ("; a draft starts as that prediction, so 1.0000 means unchanged" if doc and doc.draft else "")
        )

    def _show_cursor(self, x: int, y: int) -> None:
        self.status_row.cursor.setText(f"x {x}  y {y}   " if x >= 0 else "")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.canvas.setFocus()  # Space-to-pan and the tool keys work without a click first

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.close()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.canvas.tool is not None:
            self.canvas.tool.finish()
        self.autosave.close()  # every change written, the saver thread stopped
        self.documents.close()
        self.closed.emit()
        super().closeEvent(event)


def _saved_brush_size(default: int) -> int:
    try:
        return int(QSettings().value(BRUSH_SETTING, default))
    except (TypeError, ValueError):
        return default
