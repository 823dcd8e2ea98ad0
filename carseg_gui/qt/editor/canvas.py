"""The mask canvas: the photo at its original resolution, the overlay, zoom/pan, and mouse to tools.

Scene coordinates are image pixels (pixel (i, j) covers [j, j+1) x [i, i+1)), the convention of
:mod:`carseg_gui.core.masks`, so a mouse position mapped to the scene goes to the tools unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QStyleOptionGraphicsItem,
    QWidget,
)

from .overlay import OverlayItem

if TYPE_CHECKING:
    from .document import MaskDocument
    from .tools import Tool

MIN_BRUSH, MAX_BRUSH = 1, 400
MIN_ZOOM, MAX_ZOOM = 0.05, 32.0


class BrushCursor(QGraphicsItem):
    """The tool's mark under the mouse, visible on any photo (a white line inside a dark one): the
    brush's outline for the brush and eraser, a cross hair for the point tools (fill, polygons).

    Its bounding rect adds the pens' width converted to scene units at the current zoom; with a
    plain QGraphicsEllipseItem and a cosmetic pen, zooming out leaves trails of the ring.
    """

    CROSS_PX = 9  # half the cross hair's arm, in screen pixels whatever the zoom

    def __init__(self) -> None:
        super().__init__()
        self.radius = 10.0
        self.zoom = 1.0
        self.shape_name = "ring"  # or "cross"
        self.setZValue(10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_shape(self, radius: float, zoom: float, shape: str | None = None) -> None:
        shape = shape or self.shape_name
        if (radius, zoom, shape) != (self.radius, self.zoom, self.shape_name):
            self.prepareGeometryChange()
            self.radius, self.zoom, self.shape_name = radius, zoom, shape

    def boundingRect(self) -> QRectF:
        zoom = max(self.zoom, 1e-3)
        r = (self.CROSS_PX if self.shape_name == "cross" else self.radius * zoom) / zoom + 3.0 / zoom
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        arm = self.CROSS_PX / max(self.zoom, 1e-3)
        for colour, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255), 1.0)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            if self.shape_name == "cross":
                painter.drawLine(QPointF(-arm, 0), QPointF(arm, 0))
                painter.drawLine(QPointF(0, -arm), QPointF(0, arm))
            else:
                painter.drawEllipse(QPointF(0, 0), self.radius, self.radius)


class MaskCanvas(QGraphicsView):
    brushSizeChanged = Signal(int)
    zoomChanged = Signal(float)
    cursorMoved = Signal(int, int)  # image pixel under the mouse; (-1, -1) outside the image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._image_item = QGraphicsPixmapItem()
        # Smooth when zoomed out (fit is ~0.5 for Carvana); the overlay stays nearest-neighbour so
        # the pixels being edited are the pixels shown.
        self._image_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.overlay = OverlayItem()
        self.overlay.setZValue(1)
        self.overlay.setOpacity(0.5)
        self._cursor = BrushCursor()
        self._cursor.hide()
        for item in (self._image_item, self.overlay, self._cursor):
            self.scene().addItem(item)
        self.document: MaskDocument | None = None
        self.tool: Tool | None = None
        self._brush_size = 30
        self._pan_from: QPoint | None = None
        self._space = False
        self._fitted = True
        self._wheel_brush = 0.0  # trackpads send fractions of a notch: add them up
        self._mouse_at: QPointF | None = None  # the mouse in viewport pixels, None when it is outside
        # Zoom keeps the image point under the mouse in place (napari, image viewers); set_zoom does
        # it itself: Qt's AnchorUnderMouse uses the last position QGraphicsView saw, and this view's
        # own mouseMoveEvent never hands it one, so key 1 jumped to the top-left corner.
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setBackgroundBrush(QColor(45, 45, 48))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Over the view, not in the scene: "Loading…", or why an image cannot be shown.
        self.message = QLabel(self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #e5e7eb; font-size: 15px; background: transparent;")
        self.message.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.message.hide()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message.setGeometry(self.viewport().geometry().adjusted(40, 0, -40, 0))

    # -- content ----------------------------------------------------------------------------
    def set_document(self, document: MaskDocument | None, rgb: np.ndarray | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self.overlay.refresh)
            self.document.predictionChanged.disconnect(self._prediction_changed)
        old_size = self.scene().sceneRect().size()
        self.document = document
        if document is None or rgb is None:
            self._image_item.setPixmap(QPixmap())
            self.overlay.set_arrays(None, None)
            return
        h, w = rgb.shape[:2]
        rgb = np.ascontiguousarray(rgb)
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self._image_item.setPixmap(QPixmap.fromImage(image))  # fromImage copies: rgb may go
        self.overlay.set_arrays(document.mask, document.pred)
        document.changed.connect(self.overlay.refresh)
        document.predictionChanged.connect(self._prediction_changed)
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        # Same-size images (a car's other views) keep the zoom and place, so a region can be compared.
        if self._fitted or old_size != self.scene().sceneRect().size():
            self.fit()

    def _prediction_changed(self) -> None:
        if self.document is not None:
            self.overlay.set_arrays(self.document.mask, self.document.pred)

    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None and self.tool is not tool:
            self.tool.finish()
            self.tool.cancel()
        self.tool = tool
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self._cursor.set_shape(self.brush_radius, self.zoom(), "ring" if tool and tool.shows_brush else "cross")
        self._cursor.setVisible(bool(tool and self.underMouse()))

    # -- brush --------------------------------------------------------------------------------
    @property
    def brush_size(self) -> int:
        return self._brush_size

    @property
    def brush_radius(self) -> float:
        return self._brush_size / 2.0

    def set_brush_size(self, size: int) -> None:
        size = int(min(MAX_BRUSH, max(MIN_BRUSH, size)))
        if size != self._brush_size:
            self._brush_size = size
            self._cursor.set_shape(self.brush_radius, self.zoom())
            self.brushSizeChanged.emit(size)

    # -- zoom and pan -------------------------------------------------------------------------
    def zoom(self) -> float:
        return float(self.transform().m11())

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point at ``anchor`` (viewport pixels) where it is: by default the
        point under the mouse, or the middle of the view when the mouse is elsewhere."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        anchor = anchor if anchor is not None else self._zoom_anchor()
        fixed = self._to_scene(anchor)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        # Scroll so that ``fixed`` is at ``anchor`` again (the scroll bars clamp at the image's edges).
        moved = QPointF(self.mapFromScene(fixed)) - anchor
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(moved.x()))
        v.setValue(v.value() + round(moved.y()))
        self._fitted = False
        self._zoomed()

    def _zoom_anchor(self) -> QPointF:
        if self._mouse_at is not None and self.viewport().rect().contains(self._mouse_at.toPoint()):
            return QPointF(self._mouse_at)
        return QPointF(self.viewport().rect().center())

    def _to_scene(self, viewport_pos: QPointF) -> QPointF:
        return self.viewportTransform().inverted()[0].map(viewport_pos)

    def fit(self) -> None:
        rect = self.scene().sceneRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self._zoomed()

    def zoom_100(self) -> None:
        self.set_zoom(1.0)

    def _zoomed(self) -> None:
        self._cursor.set_shape(self.brush_radius, self.zoom())
        self.zoomChanged.emit(self.zoom())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.message.setGeometry(self.viewport().geometry().adjusted(40, 0, -40, 0))
        if self._fitted:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # ~10% per notch, at least one pixel, so both 3 px and 300 px brushes are quick to reach.
            self._wheel_brush += steps
            notches = int(self._wheel_brush)
            if notches:
                self._wheel_brush -= notches
                step = max(1, round(self._brush_size * 0.1))
                self.set_brush_size(self._brush_size + notches * step)
        elif steps:
            self.set_zoom(self.zoom() * 1.25**steps, event.position())
        self._move_cursor(event.position().toPoint())
        event.accept()

    # -- mouse and keys -----------------------------------------------------------------------
    def scene_pos(self, viewport_pos: QPoint) -> tuple[float, float]:
        p = self.mapToScene(viewport_pos)
        return (p.x(), p.y())

    def _panning_button(self, event: QMouseEvent) -> bool:
        button = event.button()
        return button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._panning_button(event):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self.tool is not None and self.document is not None:
            self.tool.press(self.scene_pos(event.position().toPoint()), event.button(), event.modifiers())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        self._mouse_at = event.position()
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        elif self.tool is not None and self.document is not None:
            self.tool.move(self.scene_pos(pos), event.buttons())
        self._move_cursor(pos)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and self._panning_button(event):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.CrossCursor)
        elif self.tool is not None and self.document is not None:
            self.tool.release(self.scene_pos(event.position().toPoint()), event.button())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool is not None and self.document is not None and event.button() == Qt.MouseButton.LeftButton:
            self.tool.double_click(self.scene_pos(event.position().toPoint()))
        event.accept()

    def _move_cursor(self, pos: QPoint) -> None:
        x, y = self.scene_pos(pos)
        self._cursor.setPos(x, y)
        rect = self.scene().sceneRect()
        inside = rect.contains(QPointF(x, y))
        self.cursorMoved.emit(int(x) if inside else -1, int(y) if inside else -1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif not (self.tool is not None and self.tool.key(event.key())):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            if self._pan_from is None:
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            super().keyReleaseEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        # The brush ring only while the mouse is over the image area and a brush tool is on.
        if event.type() == QEvent.Type.Enter:
            self._cursor.setVisible(self.tool is not None)
        elif event.type() == QEvent.Type.Leave:
            self._cursor.hide()
            self._mouse_at = None
        return super().viewportEvent(event)

    def focusOutEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._space = False
        super().focusOutEvent(event)
