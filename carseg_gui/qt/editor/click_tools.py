"""The click tools: smart click (S, the project's click refiner) and GrabCut (G).

Left click = "this is car", right click = "not car". Each click recomputes the crop around it (the
refiner, or GrabCut where no refiner can be loaded) on the engine's thread (:mod:`.click_engine`), and
its answer replaces the mask inside that crop only: one undo step per click; every pixel outside the
crop, holes included, stays as it was. Shift+click adds a click without computing: the next plain click
uses all of them. With G, dragging a box runs GrabCut on the box, with the clicks inside it as certain.

The clicks belong to the image: green discs for car, red for not car, cleared when the image changes
(Backspace removes the last one, Esc all). The refiner is loaded off the GUI thread the first time
the tool is chosen; when there is none, or it cannot be read, a line over the image says why and the
clicks use GrabCut.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QLabel

from ...core.clicks import BBox, Click
from ...core.masks import MaskEdit, Point
from .click_engine import ClickEngine, ClickRequest, ClickResult, LoadRequest
from .click_marks import ClickMarkers, action_of, photo_of, project_of
from .tool_base import Button, Tool

if TYPE_CHECKING:
    from .canvas import MaskCanvas
    from .document import MaskDocument


@dataclass
class _Pending:
    clicks: int  # the clicks the computation uses (the first n of the list)
    method: str
    box: BBox | None
    asked: float  # time.perf_counter() at the click


class ClickSession(QObject):
    """What the S and G tools share for the current image: the clicks, the engine, the refiner's state."""

    message = Signal(str)  # what the click tools say over the image ("" for nothing)
    applied = Signal(object)  # ClickResult, once its edit is on the mask (or found to change nothing)

    def __init__(self, canvas: MaskCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.engine = ClickEngine(self)
        self.engine.loaded.connect(self._loaded)
        self.engine.computed.connect(self._computed)
        self.engine.failed.connect(self._failed)
        self.clicks: list[Click] = []
        self.document: MaskDocument | None = None
        self.refiner_state = "unloaded"  # unloaded, loading, ready, missing
        self.problem = ""  # why there is no refiner, when missing
        self.folder: Path | None = None  # the refiner's run folder, when ready
        self.chosen: ClickTool | None = None  # the click tool the canvas has, once it has heard of it
        self.last_ms: float | None = None  # click to mask updated, the last click's
        self._waiting: list[_Pending] = []
        self._in_flight = False
        self._gen = 0
        # Undoing a click's step takes its clicks away too (as interactive segmentation tools do), redoing it
        # brings them back: for each step, the undo stack's index after it, how many clicks there were
        # before it, and its clicks.
        self._steps: list[tuple[int, int, list[Click]]] = []
        self._redo: list[tuple[int, int, list[Click]]] = []
        self._used = 0  # clicks used by the last step
        self.markers = ClickMarkers()
        canvas.scene().addItem(self.markers)
        self.banner = QLabel(canvas)
        self.banner.setWordWrap(True)
        self.banner.setMaximumWidth(560)
        self.banner.setStyleSheet("color: white; background: rgba(20, 20, 24, 200); padding: 4px 8px;")
        self.banner.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.banner.hide()
        # The scene changes when the image does (a new pixmap), whoever changed it: the clicks go.
        canvas.scene().changed.connect(lambda _: self.follow_document())
        canvas.installEventFilter(self)

    # -- the image and the tool's life ------------------------------------------------------
    def follow_document(self) -> None:
        if self.canvas.document is not self.document:
            if self.document is not None:
                self.document.stack.indexChanged.disconnect(self._undone)
            self.document = self.canvas.document
            if self.document is not None:
                self.document.stack.indexChanged.connect(self._undone)
            self._gen += 1  # whatever is computing is for the previous image
            self._waiting.clear()
            self._steps, self._redo, self._used = [], [], 0
            self.set_clicks([])
        active = isinstance(self.canvas.tool, ClickTool)
        if self.banner.isVisible() != (active and bool(self.banner.text())):
            self.banner.setVisible(active and bool(self.banner.text()))

    def _undone(self, index: int) -> None:
        """The undo stack moved to ``index``: the clicks follow the steps undone or redone. Clicks placed
        after the step and not computed yet (Shift+click) stay: they belong to no step."""
        while self._steps and self._steps[-1][0] > index:
            step = self._steps.pop()
            self._redo.append(step)
            self.set_clicks(self.clicks[: step[1]] + self.clicks[len(step[2]) :])
            self._used = step[1]
        while self._redo and self._redo[-1][0] <= index:
            step = self._redo.pop()
            self._steps.append(step)
            self.set_clicks(list(step[2]) + self.clicks[self._used :])
            self._used = len(step[2])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide:
            self.engine.stop()  # the editor closed or hid: no thread left behind; loaded refiners stay cached
            if self.refiner_state == "loading":
                self.refiner_state = "unloaded"
            self._in_flight, self._waiting = False, []
        return False

    def activate(self, load: bool = True) -> None:
        """A click tool was chosen: for the smart click, load the refiner (again, in case one was trained
        since) off the GUI thread; GrabCut needs none."""
        project = project_of(self.canvas)
        if not load:
            self.say("GrabCut: drag a box around what to cut out, or click: left = car, right = not car")
        elif project is not None and self.refiner_state != "loading":
            if self.refiner_state in ("unloaded", "missing"):
                self.refiner_state = "loading"
                self.say("Smart click: loading the click refiner…")
            elif self.folder is not None:
                self.say(f"Smart click: click refiner {self.folder.name} ready")
            self.engine.submit(LoadRequest(project))
        elif project is None and self.refiner_state == "unloaded":
            self._loaded(None, "the editor has no project folder to look for a click refiner in")
        self.follow_document()

    def say(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.adjustSize()
        self.banner.move(8, 8)
        self.banner.setVisible(bool(text) and isinstance(self.canvas.tool, ClickTool))
        smart = action_of(self.canvas, SmartClickTool.text)
        if smart is not None:
            tip = self.problem if self.refiner_state == "missing" else ""
            smart.setToolTip(f"{SmartClickTool.tip}  (S)" + (f"\n{tip}; the clicks use GrabCut" if tip else ""))
        self.message.emit(text)

    def _loaded(self, folder: Path | None, problem: str) -> None:
        if problem:
            self.refiner_state, self.problem = "missing", problem
            self.say(f"Smart click uses GrabCut: {problem}")
        else:
            new = self.refiner_state != "ready" or folder != self.folder
            self.refiner_state, self.problem, self.folder = "ready", "", folder
            if new:
                self.say(f"Smart click: click refiner {folder.name if folder else ''} ready")
        self._next()

    # -- clicks -----------------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        """No click waits for or is in a computation."""
        return not self._waiting and not self._in_flight

    def set_clicks(self, clicks: list[Click]) -> None:
        self.clicks = clicks
        doc = self.canvas.document
        h, w = doc.shape if doc is not None else (0, 0)
        self.markers.set_clicks(clicks, QRectF(0, 0, w, h))

    def add(self, click: Click | None, compute: bool, method: str, box: BBox | None = None) -> None:
        """Place ``click`` (None: a GrabCut box alone); ``compute`` asks for one computation, one undo step."""
        asked = time.perf_counter()
        self.follow_document()
        if click is not None:
            self.set_clicks([*self.clicks, click])
        if self.refiner_state == "unloaded" and method == "refiner":
            self.activate()  # the tool was in use when the editor hid (its thread ended): load again
        if compute and (self.clicks or box is not None):
            self._waiting.append(_Pending(len(self.clicks), method, box, asked))
            self._next()

    def _next(self) -> None:
        """Send the next waiting click to the engine, once the last one is applied and the refiner known."""
        doc = self.canvas.document
        if self._in_flight or not self._waiting or doc is None:
            return
        if self._waiting[0].method == "refiner" and self.refiner_state in ("unloaded", "loading"):
            return  # sent when the refiner is loaded (or known to be missing)
        pending = self._waiting.pop(0)
        image = getattr(doc, "rgb", None)
        if image is None:
            image = photo_of(self.canvas)
        if image is None:
            self.say("Click tools: the photo is not loaded yet")
            return
        prob = getattr(doc, "prob", None)
        self._in_flight = True
        request = ClickRequest(
            self._gen, doc, image, doc.mask.copy(), tuple(self.clicks[: pending.clicks]), pending.method,
            pending.box, prob, pending.asked,
        )  # fmt: skip
        self.engine.submit(request)

    def _computed(self, result: ClickResult) -> None:
        self._in_flight = False
        doc = self.canvas.document
        if result.gen == self._gen and doc is not None and result.document is doc:
            self._apply(doc, result)
        self._next()

    def _apply(self, doc: MaskDocument, result: ClickResult) -> None:
        y0, y1, x0, x1 = result.box
        now = doc.mask[y0:y1, x0:x1]
        if not np.array_equal(now, result.before):  # an undo or another edit came first: not on top of it
            self.say("The mask changed while the click was computed: click again")
            return
        changed = now != result.after
        if changed.any():
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            by0, by1, bx0, bx1 = y0 + int(rows[0]), y0 + int(rows[-1]) + 1, x0 + int(cols[0]), x0 + int(cols[-1]) + 1
            before = doc.mask[by0:by1, bx0:bx1].copy()
            after = result.after[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0].copy()
            edit = MaskEdit((by0, by1, bx0, bx1), before, after)
            doc.begin_edit()
            edit.apply(doc.mask)
            doc.live_change(edit.bbox)
            self._redo = []  # the push drops the stack's redo steps
            if doc.push(edit, "Smart click" if result.method == "refiner" else "GrabCut"):
                self._steps.append((doc.stack.index(), self._used, self.clicks[: result.clicks]))
        self._used = max(self._used, result.clicks)
        self.last_ms = (time.perf_counter() - result.asked) * 1000
        words = "click refiner" if result.method == "refiner" else "GrabCut"
        what = f"{int(changed.sum())} px changed" if changed.any() else "no pixel changed"
        h, w = doc.shape
        fell_back = result.method == "grabcut" and result.requested == "refiner"  # S without a refiner
        fallback = f" ({self.problem})" if fell_back and self.problem else ""
        self.say(
            f"{words}{fallback}: {what} in the {x1 - x0}×{y1 - y0} crop, {self.last_ms:.0f} ms from the click "
            f"({result.compute_ms:.0f} ms computing) on the {w}×{h} photo"
        )
        self.applied.emit(result)

    def _failed(self, gen: int, message: str) -> None:
        if gen >= 0:
            self._in_flight = False
            self._next()
            self.say(f"The click could not be computed: {message}")
        else:
            self._loaded(None, message)

    def undo_click(self) -> bool:
        if not self.clicks:
            return False
        self.set_clicks(self.clicks[:-1])
        return True

    def clear(self) -> bool:
        if not self.clicks:
            return False
        self.set_clicks([])
        return True


class ClickTool(Tool):
    """What both click tools do with the mouse; ``method`` says which computation a plain click asks for."""

    method = "refiner"

    def __init__(self, canvas: MaskCanvas, session: ClickSession) -> None:
        super().__init__(canvas)
        self.session = session

    @property
    def shows_brush(self) -> bool:  # type: ignore[override]
        # The canvas reads this when the tool is chosen (to draw the ring or the cross hair), the one moment
        # a tool hears of it: the refiner starts loading just after, if the choice stands.
        QTimer.singleShot(0, self._chosen)
        return False

    def _chosen(self) -> None:
        if self.canvas.tool is self and self.session.chosen is not self:  # once per choice, however often read
            self.session.chosen = self
            self.session.activate(load=self.method == "refiner")

    @staticmethod
    def click_at(pos: Point, button: Qt.MouseButton, shape: tuple[int, int]) -> Click | None:
        x, y = math.floor(pos[0]), math.floor(pos[1])
        if not (0 <= y < shape[0] and 0 <= x < shape[1]) or button not in (Button.LeftButton, Button.RightButton):
            return None
        return Click(y, x, button == Button.LeftButton)

    def press(self, pos: Point, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        click = self.click_at(pos, button, self.document.shape)
        if click is not None:
            shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
            self.session.add(click, compute=not shift, method=self.method)

    def cancel(self) -> None:
        """Another tool is chosen: the line over the image belongs to the click tools."""
        self.session.banner.hide()
        self.session.chosen = None

    def key(self, key: int) -> bool:
        if key == Qt.Key.Key_Backspace:
            return self.session.undo_click()
        if key == Qt.Key.Key_Escape:
            return self.session.clear()
        return False


class SmartClickTool(ClickTool):
    name, text, shortcut = "smart", "Smart click", "S"
    tip = (
        "Click to correct the mask around the click with the project's click refiner: left = car, "
        "right = not car, Shift+click adds a click without computing; Backspace / Esc remove the clicks"
    )


class GrabCutTool(ClickTool):
    name, text, shortcut = "grabcut", "GrabCut", "G"
    tip = (
        "Drag a box to cut the car out of it with GrabCut (the clicks inside are certain), or click: left = car, "
        "right = not car, Shift+click adds a click without computing"
    )
    method = "grabcut"
    DRAG_PX = 4

    def __init__(self, canvas: MaskCanvas, session: ClickSession) -> None:
        super().__init__(canvas, session)
        self._from: Point | None = None
        self._button = Button.NoButton
        self._shift = False
        self._box: QGraphicsRectItem | None = None

    def press(self, pos: Point, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if button in (Button.LeftButton, Button.RightButton):
            self._from, self._button = pos, button
            self._shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)

    def move(self, pos: Point, buttons: Qt.MouseButton) -> None:
        if self._from is None or not buttons & Button.LeftButton or self._button != Button.LeftButton:
            return
        if self._box is None and math.dist(pos, self._from) * self.canvas.zoom() < self.DRAG_PX:
            return
        if self._box is None:
            self._box = QGraphicsRectItem()
            pen = QPen(QColor(255, 230, 0), 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            self._box.setPen(pen)
            self._box.setZValue(5)
            self.canvas.scene().addItem(self._box)
        self._box.setRect(QRectF(QPointF(*self._from), QPointF(*pos)).normalized())

    def release(self, pos: Point, button: Qt.MouseButton) -> None:
        start, self._from = self._from, None
        if start is None or button != self._button:
            return
        if self._box is None:
            click = self.click_at(start, button, self.document.shape)
            if click is not None:
                self.session.add(click, compute=not self._shift, method="grabcut")
            return
        self._drop_box()
        h, w = self.document.shape
        x0, x1 = sorted((start[0], pos[0]))
        y0, y1 = sorted((start[1], pos[1]))
        box = (max(0, math.floor(y0)), min(h, math.ceil(y1)), max(0, math.floor(x0)), min(w, math.ceil(x1)))
        if box[1] - box[0] >= 2 and box[3] - box[2] >= 2:
            self.session.add(None, compute=True, method="grabcut", box=box)

    def cancel(self) -> None:
        self._drop_box()
        super().cancel()

    def _drop_box(self) -> None:
        if self._box is not None:
            self.canvas.scene().removeItem(self._box)
            self._box = None


def make_click_tools(canvas: MaskCanvas) -> list[Tool]:
    session = ClickSession(canvas)
    return [SmartClickTool(canvas, session), GrabCutTool(canvas, session)]
