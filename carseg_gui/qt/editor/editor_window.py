"""MaskEditor: correct one image's mask, step through a list of images, decide their status.

It knows nothing about the viewer: it gets a project folder and a list of :class:`EditorItem`, and
says where it is through signals (``currentChanged`` so the viewer can follow, ``statusChanged``
and ``correctionSaved`` so rows and thumbnails can refresh).

Nothing is lost: a change is written (whole mask, atomic) 300 ms after a stroke ends, and at once
when the next stroke starts with the previous one still unwritten, when the image changes, when a
status is set and on close. So a SIGKILL loses at most the stroke in progress. The indicator says
"Saved" only after the bytes are on disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeyEvent, QKeySequence, QShowEvent, QUndoGroup
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from ...core import masks
from ...core.imageio import UnreadableImage, read_image
from ...core.metrics import dice
from ...session.store import StateStore
from .canvas import MaskCanvas
from .document import EditorItem, MaskDocument, load_document, status_after_save
from .menus import menus
from .overlay import MODE_LABELS, MODES
from .panel import SidePanel, StatusRow
from .tools import Tool, make_tools

SAVE_DELAY_MS = 300
KEEP_DOCUMENTS = 4  # images whose undo history survives going back and forth
BRUSH_SETTING = "editor/brush_size"  # a preference of the person, not of the project: QSettings

__all__ = ["EditorItem", "MaskEditor"]


class MaskEditor(QWidget):
    currentChanged = Signal(int, str)  # index in items, key
    statusChanged = Signal(str, str)  # key, status
    correctionSaved = Signal(str, object)  # key, the mask (0/1, full size) whose PNG was just written
    problemFound = Signal(str, str)  # key, message (an unreadable image, a rejected correction)
    closed = Signal()

    def __init__(
        self, project: Path, items: Sequence[EditorItem], index: int = 0, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.project = Path(project)
        self.store = StateStore(self.project)  # review statuses live in state.json, through the store
        self.items = list(items)
        self.index = -1
        self.document: MaskDocument | None = None
        self._documents: OrderedDict[str, MaskDocument] = OrderedDict()
        self._status = "unreviewed"
        self._save_error: str | None = None
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.flush)
        self.group = QUndoGroup(self)
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
    def _action(self, text: str, slot, keys: Sequence[str | QKeySequence.StandardKey] = ()) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        # Only while the editor has focus: embedded in the main window, its keys must not leak out.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build(self) -> None:
        a = self._action
        self.act_prev = a("◀ Previous", lambda: self.set_index(self.index - 1), ["Left", "PgUp"])
        self.act_next = a("Next ▶", lambda: self.set_index(self.index + 1), ["Right", "PgDown"])
        self.act_undo = a("Undo", self.undo, [QKeySequence.StandardKey.Undo])
        self.act_redo = a("Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.group.canUndoChanged.connect(self.act_undo.setEnabled)
        self.group.canRedoChanged.connect(self.act_redo.setEnabled)
        # What would be undone goes in the tooltip: a changing button text would shift the toolbar.
        self.group.undoTextChanged.connect(lambda t: self.act_undo.setToolTip(f"Undo {t}  (Ctrl+Z)"))
        self.group.redoTextChanged.connect(lambda t: self.act_redo.setToolTip(f"Redo {t}  (Ctrl+Shift+Z, Ctrl+Y)"))
        self.act_take_all = a("Take whole prediction", self.take_whole_prediction, ["Shift+P"])
        self.act_reset = a("Reset to original mask", self.reset_to_original)
        self.act_fit = a("Fit", self.canvas.fit, ["Ctrl+0", "0"])
        self.act_100 = a("100%", self.canvas.zoom_100, ["Ctrl+1", "1"])
        # Esc closes too, but not as a shortcut: a shortcut would take Esc from an open polygon
        # (keyPressEvent below gets it only when the canvas's tool did not want it).
        self.act_close = a("Close editor", lambda: self.close(), ["Ctrl+W"])
        self.act_close.setToolTip("Close the editor (Esc, Ctrl+W); every change is already saved")
        self.act_overlay = a("Show overlay", lambda on: self.panel.overlay_on.setChecked(on), ["V"])
        self.act_outline = a("Outline only", lambda on: self.panel.outline.setChecked(on), ["O"])
        for act, box in ((self.act_overlay, self.panel.overlay_on), (self.act_outline, self.panel.outline)):
            act.setCheckable(True)
            act.setChecked(box.isChecked())
            box.toggled.connect(act.setChecked)
        a("Smaller brush", lambda: self._step_brush(-1), ["["])
        a("Larger brush", lambda: self._step_brush(+1), ["]"])
        self.act_status = {
            "approved": a("Approve", lambda: self.set_status("approved"), ["A"]),
            "excluded": a("Exclude from training", lambda: self.set_status("excluded"), ["X"]),
            "unreviewed": a("Mark unreviewed", lambda: self.set_status("unreviewed"), ["U"]),
        }
        tool_group = QActionGroup(self)
        self.act_tools: dict[str, QAction] = {}
        for name, tool in self.tools.items():
            act = a(tool.text, lambda _=False, n=name: self.set_tool(n), [tool.shortcut])
            act.setCheckable(True)
            act.setToolTip(f"{tool.tip}  ({tool.shortcut})")
            tool_group.addAction(act)
            self.act_tools[name] = act
        self.act_modes: dict[str, QAction] = {}
        mode_group = QActionGroup(self)
        for n, mode in enumerate(MODES, 1):
            act = a(f"Show {MODE_LABELS[mode].lower()}", lambda _=False, m=mode: self.set_mode(m), [f"Alt+{n}"])
            act.setCheckable(True)
            mode_group.addAction(act)
            self.act_modes[mode] = act

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
        self.set_index(index)

    def set_index(self, index: int) -> None:
        if not (0 <= index < len(self.items)) or index == self.index:
            return
        if self.canvas.tool is not None:
            self.canvas.tool.finish()
        self.flush()
        self.index = index
        item = self.items[index]
        document, rgb, problems = self._open(item)
        self.document = document
        self.canvas.set_document(document, rgb)
        self.group.setActiveStack(document.stack if document else None)  # type: ignore[arg-type]
        self.status_row.problem.setText("; ".join(problems))
        self._status = self.store.status(item.key)
        self._refresh()
        self.currentChanged.emit(index, item.key)

    def _open(self, item: EditorItem) -> tuple[MaskDocument | None, np.ndarray | None, list[str]]:
        """The item's document (from the cache, keeping its undo history, or loaded) and photo."""
        document = self._documents.get(item.key)
        try:
            if document is not None:
                rgb = read_image(item.image_path)[0]
            else:
                document, rgb = load_document(self.project, item)
                self._adopt(document)
                for text in document.problems:  # reported once, shown while the image is open
                    self.problemFound.emit(item.key, text)
        except (UnreadableImage, OSError, ValueError) as exc:
            problem = f"cannot open {item.image_path.name}: {exc}"
            self.problemFound.emit(item.key, problem)
            return None, None, [problem]
        document.set_threshold(self.panel.threshold.value() / 100.0)
        self._documents[item.key] = document
        self._documents.move_to_end(item.key)  # most recent last
        self._evict()
        return document, rgb, document.problems

    def _adopt(self, document: MaskDocument) -> None:
        document.setParent(self)
        document.modified.connect(self._modified)
        document.aboutToEdit.connect(self._about_to_edit)
        document.changed.connect(lambda _: self._show_saved())  # "Unsaved" from the first segment on
        self.group.addStack(document.stack)

    def _evict(self) -> None:
        while len(self._documents) > KEEP_DOCUMENTS:
            _, old = self._documents.popitem(last=False)
            self.group.removeStack(old.stack)
            old.deleteLater()

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
        if self.document is not None:
            self.document.set_threshold(value / 100.0)
            self._show_dice()

    # -- saving and status --------------------------------------------------------------------
    def _about_to_edit(self) -> None:
        # The previous stroke must be on disk before this one can be half-done and lost.
        self._save_timer.stop()
        self.flush()

    def _modified(self) -> None:
        self._save_timer.start()
        self._show_saved()
        self._show_dice()

    def flush(self) -> bool:
        """Write every unsaved change now; False if a write failed (the indicator says why)."""
        self._save_timer.stop()
        ok = True
        for doc in list(self._documents.values()):
            try:
                wrote = doc.save(self.project)
            except OSError as exc:
                self._save_error = f"{doc.key}: {exc.strerror or exc}"
                ok = False
                continue
            if wrote:
                self._save_error = None
                self.correctionSaved.emit(doc.key, doc.mask)
            if doc.edited_since_status and not doc.dirty:
                doc.edited_since_status = False
                status = self.store.status(doc.key)
                new = status_after_save(status, doc.saved_original, doc.status_before_edit)
                if new is not None:
                    doc.status_before_edit = status if new == "corrected" else doc.status_before_edit
                    self._write_status(doc.key, new)
        self._show_saved()
        return ok

    def set_status(self, status: str) -> None:
        key = self.current_key
        if key is None:
            return
        if self.canvas.tool is not None:
            self.canvas.tool.finish()
        self.flush()
        self._write_status(key, status)

    def _write_status(self, key: str, status: str) -> None:
        self.store.set_status(key, status)
        if key == self.current_key:
            self._status = status
            self.panel.show_status(status)
        self.statusChanged.emit(key, status)

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
        self.act_prev.setEnabled(self.index > 0)
        self.act_next.setEnabled(self.index < len(self.items) - 1)
        self.set_mode(self.panel.mode.currentData())
        self.panel.show_status(self._status)
        key = self.current_key or ""
        self.status_row.where.setText(f"{self.index + 1} / {len(self.items)}   {key}")
        self.setWindowTitle(f"Mask editor: {key}")
        self._show_saved()
        self._show_dice()

    def _show_saved(self) -> None:
        if self._save_error:
            text, colour = f"Not saved: {self._save_error}", "#b91c1c"
        elif self.document is not None and self.document.dirty:
            text, colour = "● Unsaved changes", "#b45309"
        else:
            text, colour = "✓ Saved", "#15803d"
        self.status_row.show_saved(text, colour)

    def _show_dice(self) -> None:
        doc = self.document
        if doc is None or doc.pred is None:
            text = "no prediction"
        else:  # at the photo's size: the viewer's thumbnails score at the cache's smaller size
            h, w = doc.shape
            text = f"{dice(doc.mask, doc.pred):.4f} at {w}×{h}"
        self.panel.dice.setText(text)

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
        self.flush()
        self.closed.emit()
        super().closeEvent(event)


def _saved_brush_size(default: int) -> int:
    try:
        return int(QSettings().value(BRUSH_SETTING, default))
    except (TypeError, ValueError):
        return default
