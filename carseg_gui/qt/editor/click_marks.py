"""What the click tools show and find around them: the click markers, the editor's project folder and
tool action, and the photo the canvas shows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ...core.clicks import Click

if TYPE_CHECKING:
    from .canvas import MaskCanvas

CAR, NOT_CAR = QColor(34, 197, 94), QColor(239, 68, 68)


class ClickMarkers(QGraphicsItem):
    """The clicks placed, as discs of a fixed size on screen whatever the zoom."""

    RADIUS_PX = 6

    def __init__(self) -> None:
        super().__init__()
        self.clicks: list[Click] = []
        self.extent = QRectF()
        self.setZValue(6)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_clicks(self, clicks: list[Click], extent: QRectF) -> None:
        if extent != self.extent:
            self.prepareGeometryChange()
            self.extent = QRectF(extent)
        self.clicks = list(clicks)
        self.update()

    def boundingRect(self) -> QRectF:
        return self.extent.adjusted(-50, -50, 50, 50)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scale = max(painter.worldTransform().m11(), 1e-3)
        r = self.RADIUS_PX / scale
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for click in self.clicks:
            pen = QPen(QColor(0, 0, 0, 200), 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QBrush(CAR if click.positive else NOT_CAR))
            painter.drawEllipse(QPointF(click.x + 0.5, click.y + 0.5), r, r)


def project_of(canvas: QWidget) -> Path | None:
    """The project folder of the editor the canvas is in (the first ancestor with a ``project`` path)."""
    widget = canvas.parentWidget()
    while widget is not None:
        project = getattr(widget, "project", None)
        if isinstance(project, Path):
            return project
        widget = widget.parentWidget()
    return None


def action_of(canvas: QWidget, text: str) -> QAction | None:
    """The editor's action for a tool (it sets the tool's tooltip), found among the ancestors' actions."""
    widget = canvas.parentWidget()
    while widget is not None:
        for action in widget.actions():
            if action.text() == text:
                return action
        widget = widget.parentWidget()
    return None


def photo_of(canvas: MaskCanvas) -> QImage | None:
    """The photo shown, as a QImage (converted to an array on the engine's thread), when the document has
    no ``rgb``."""
    item = getattr(canvas, "_image_item", None)
    pixmap = item.pixmap() if item is not None else None
    return pixmap.toImage() if pixmap is not None and not pixmap.isNull() else None
