"""The editing tools. Each turns mouse input on the canvas into core mask operations.

A tool changes the mask live (what you draw shows at once) and pushes exactly one undo step when the
user's action ends: mouse release for a brush stroke, the click for a fill, closing for a polygon.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from ...core import masks
from ...core.masks import MaskEdit, Point
from .tool_base import Button, Tool

__all__ = ["Button", "Tool", "make_tools"]

if TYPE_CHECKING:
    from .canvas import MaskCanvas
    from .document import MaskDocument


class BrushTool(Tool):
    """Round brush; right button does the opposite (paint with the eraser, erase with the brush)."""

    shows_brush = True

    def __init__(self, canvas: MaskCanvas, value: int) -> None:
        super().__init__(canvas)
        self.value = value
        self.name = "brush" if value else "eraser"
        self.text = "Brush" if value else "Eraser"
        self.shortcut = "B" if value else "E"
        self.tip = f"{'Paint' if value else 'Erase'} the mask (right button: {'erase' if value else 'paint'})"
        self._segments: list[MaskEdit] | None = None
        self._last: Point = (0.0, 0.0)
        self._paint = value

    def press(self, pos: Point, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if self._segments is not None or button not in (Button.LeftButton, Button.RightButton):
            return
        self.document.begin_edit()
        self._paint = self.value if button == Button.LeftButton else 1 - self.value
        self._segments = []
        self._last = pos
        self._segment(pos, pos)

    def move(self, pos: Point, buttons: Qt.MouseButton) -> None:
        if self._segments is None:
            return
        self._segment(self._last, pos)
        self._last = pos

    def release(self, pos: Point, button: Qt.MouseButton) -> None:
        self.finish()

    def _segment(self, a: Point, b: Point) -> None:
        assert self._segments is not None
        edit = masks.paint_segment(self.document.mask, a, b, self.canvas.brush_radius, self._paint)
        if not edit.is_empty:  # moving over pixels already painted changes nothing: no repaint
            self._segments.append(edit)
            self.document.live_change(edit.bbox)

    def finish(self) -> None:
        if self._segments is None:
            return
        segments, self._segments = self._segments, None
        self.document.push(masks.merge_edits(segments, self.document.mask), self.text)


class FillTool(Tool):
    name, text, shortcut = "fill", "Fill", "F"
    tip = "Flood fill: click a hole to fill it, or a stray blob to clear it (the clicked region flips)"

    def press(self, pos: Point, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if button != Button.LeftButton:
            return
        mask = self.document.mask
        x, y = math.floor(pos[0]), math.floor(pos[1])
        if not (0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]):
            return
        self.document.begin_edit()
        self.commit(masks.flood_fill(mask, pos, 1 - int(mask[y, x])), self.text)


PolygonOp = Callable[["MaskDocument", list[Point]], MaskEdit]


class PolygonTool(Tool):
    """Click to add corners, or drag to draw freehand (a lasso, closed on release).

    Double-click, Enter or a click on the first corner closes; Backspace removes the last corner;
    Escape or the right button cancels.
    """

    CLOSE_PX = 8  # how near the first corner (in screen pixels) a click closes the polygon
    DRAG_PX = 4  # a press that moves this far is a lasso drag, not a click
    MIN_AREA_PX = 25  # a region smaller than this on screen (a straight drag, a slip) is no region

    def __init__(self, canvas: MaskCanvas, name: str, text: str, shortcut: str, tip: str, op: PolygonOp) -> None:
        super().__init__(canvas)
        self.name, self.text, self.shortcut, self.tip = name, text, shortcut, tip
        self._op = op
        self._points: list[Point] = []
        self._hover: Point | None = None
        self._pressed_at: Point | None = None
        self._lasso = False
        self._item: QGraphicsPathItem | None = None

    def _near(self, a: Point, b: Point, screen_px: float) -> bool:
        return math.dist(a, b) * self.canvas.zoom() <= screen_px

    def press(self, pos: Point, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if button == Button.RightButton:
            self.cancel()
            return
        if button != Button.LeftButton:
            return
        if len(self._points) >= 3 and self._near(pos, self._points[0], self.CLOSE_PX):
            self.close()
            return
        self._points.append(pos)
        self._pressed_at, self._lasso = pos, False
        self._redraw()

    def move(self, pos: Point, buttons: Qt.MouseButton) -> None:
        self._hover = pos
        dragging = self._pressed_at is not None and bool(buttons & Button.LeftButton)
        if dragging and (self._lasso or not self._near(pos, self._pressed_at, self.DRAG_PX)):  # type: ignore[arg-type]
            self._lasso = True
            # Freehand: keep a point per screen pixel or two, not per mouse event.
            if not self._near(pos, self._points[-1], 2):
                self._points.append(pos)
        if self._points:
            self._redraw()

    def release(self, pos: Point, button: Qt.MouseButton) -> None:
        lasso, self._pressed_at = self._lasso, None
        if lasso and button == Button.LeftButton:
            self.close()

    def double_click(self, pos: Point) -> None:
        if len(self._points) >= 3:
            self.close()

    def key(self, key: int) -> bool:
        if not self._points:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close()
        elif key == Qt.Key.Key_Escape:
            self.cancel()
        elif key == Qt.Key.Key_Backspace:
            self._points.pop()
            self._redraw()
        else:
            return False
        return True

    def close(self) -> None:
        points = self._points
        self.cancel()
        # A straight drag is a "polygon" of collinear points: it would cut a 1-px line and add a step.
        if len(points) >= 3 and polygon_area(points) * self.canvas.zoom() ** 2 >= self.MIN_AREA_PX:
            self.document.begin_edit()
            self.commit(self._op(self.document, points), self.text)

    def finish(self) -> None:
        # An open polygon is not a decision yet: switching away drops it rather than applying it.
        self.cancel()

    def cancel(self) -> None:
        self._points, self._hover, self._pressed_at, self._lasso = [], None, None, False
        if self._item is not None:
            self.canvas.scene().removeItem(self._item)
            self._item = None

    @property
    def points(self) -> list[Point]:
        return list(self._points)

    def _redraw(self) -> None:
        if self._item is None:
            self._item = QGraphicsPathItem()
            pen = QPen(QColor(255, 230, 0), 2)
            pen.setCosmetic(True)
            self._item.setPen(pen)
            self._item.setBrush(QBrush(QColor(255, 230, 0, 40)))
            self._item.setZValue(5)
            self.canvas.scene().addItem(self._item)
        path = QPainterPath()
        path.moveTo(QPointF(*self._points[0]))
        for p in self._points[1:]:
            path.lineTo(QPointF(*p))
        if self._hover is not None and not self._lasso:
            path.lineTo(QPointF(*self._hover))
        self._item.setPath(path)


def polygon_area(points: list[Point]) -> float:
    """The area enclosed by a closed polygon (shoelace formula), in square image pixels."""
    if len(points) < 3:
        return 0.0
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def _fill(value: int) -> PolygonOp:
    return lambda doc, points: masks.polygon_fill(doc.mask, points, value)


def _take_prediction(doc: MaskDocument, points: list[Point]) -> MaskEdit:
    if doc.pred is None:
        return masks.polygon_fill(doc.mask, [], 0)  # an empty edit
    bbox, inside = masks.polygon_region(doc.shape, points)
    region = np.zeros(doc.shape, bool)
    y0, y1, x0, x1 = bbox
    region[y0:y1, x0:x1] = inside
    return masks.copy_from(doc.mask, doc.pred, region)


def make_tools(canvas: MaskCanvas) -> list[Tool]:
    tip = "Take the prediction inside a region: draw a polygon or lasso; Shift+P takes the whole prediction"
    take = PolygonTool(canvas, "take", "Take prediction", "P", tip, _take_prediction)
    take.needs_prediction = True
    from .click_tools import make_click_tools  # it builds on Tool: imported here, not at the top

    return [
        BrushTool(canvas, 1),
        BrushTool(canvas, 0),
        FillTool(canvas),
        PolygonTool(canvas, "polyfill", "Polygon fill", "L", "Draw a polygon or lasso: fill it", _fill(1)),
        PolygonTool(canvas, "polycut", "Polygon cut", "K", "Draw a polygon or lasso: cut it out of the mask", _fill(0)),
        take,
        *make_click_tools(canvas),  # S: smart click (the click refiner), G: GrabCut
    ]
