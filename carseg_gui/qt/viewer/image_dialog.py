"""One image large: zoom and pan, with the mask and the prediction as coloured overlays.

A simple viewer; the mask editor (carseg_gui.qt.editor) replaces it through MainWindow.open_image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...core.imageio import read_image, read_mask
from ...core.otsu import otsu_mask
from ...core.predict import to_original_size
from .loader import rgb_image

MASK_COLOUR = QColor(0, 200, 80)
PRED_COLOUR = QColor(230, 30, 200)


def overlay_image(mask: np.ndarray, colour: QColor) -> QImage:
    """A 0/1 mask as an indexed image: transparent where 0, ``colour`` where 1."""
    arr = np.ascontiguousarray(mask > 0, dtype=np.uint8)
    h, w = arr.shape
    image = QImage(arr.data, w, h, w, QImage.Format.Format_Indexed8)
    image.setColorTable([QColor(0, 0, 0, 0).rgba(), colour.rgba()])
    return image.copy()


class ZoomView(QGraphicsView):
    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.fitted = True

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.02 < scale < 40:
            self.scale(factor, factor)
            self.fitted = False

    def fit(self) -> None:
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.fitted = True

    def actual_size(self) -> None:
        self.resetTransform()
        self.fitted = False

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.25 if event.angleDelta().y() > 0 else 0.8)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit()


class ImageDialog(QDialog):
    def __init__(
        self,
        title: str,
        image: np.ndarray,
        mask: np.ndarray | None,
        pred: np.ndarray | None,
        info: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("imageDialog")
        self.setWindowTitle(title)
        self.resize(1100, 780)
        self.scene = QGraphicsScene(self)
        self.image_item = QGraphicsPixmapItem(QPixmap.fromImage(rgb_image(image)))
        self.image_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene.addItem(self.image_item)
        self.mask_item = self._overlay(mask, MASK_COLOUR)
        self.pred_item = self._overlay(pred, PRED_COLOUR)
        self.scene.setSceneRect(QRectF(0, 0, image.shape[1], image.shape[0]))
        self.view = ZoomView(self.scene)

        self.show_mask = QCheckBox("Mask (green)")
        self.show_pred = QCheckBox("Prediction (magenta)")
        for box, item, what in (
            (self.show_mask, self.mask_item, "mask"),
            (self.show_pred, self.pred_item, "prediction"),
        ):
            box.setChecked(item is not None)
            box.setEnabled(item is not None)
            if item is None:
                box.setToolTip(f"no {what} for this image")
            box.toggled.connect(self._update_overlays)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("opacity")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.opacity.setToolTip("Opacity of the overlays")
        self.opacity.valueChanged.connect(self._update_overlays)
        fit, one = QPushButton("Fit"), QPushButton("1:1")
        fit.setToolTip("Fit the image in the window (0)")
        one.setToolTip("One image pixel per screen pixel (1)")
        fit.clicked.connect(self.view.fit)
        one.clicked.connect(self.view.actual_size)
        controls = QHBoxLayout()
        for w in (self.show_mask, self.show_pred, QLabel("Opacity:")):
            controls.addWidget(w)
        controls.addWidget(self.opacity, 1)
        controls.addWidget(fit)
        controls.addWidget(one)
        self.info = QLabel(info)
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        layout.addWidget(self.info)
        keys = {
            "+": lambda: self.view.zoom(1.25),
            "=": lambda: self.view.zoom(1.25),
            "-": lambda: self.view.zoom(0.8),
            "0": self.view.fit,
            "1": self.view.actual_size,
        }
        for key, slot in keys.items():
            QShortcut(QKeySequence(key), self, slot)
        self._update_overlays()

    def _overlay(self, mask: np.ndarray | None, colour: QColor) -> QGraphicsPixmapItem | None:
        if mask is None:
            return None
        item = QGraphicsPixmapItem(QPixmap.fromImage(overlay_image(mask, colour)))
        self.scene.addItem(item)
        return item

    def _update_overlays(self) -> None:
        alpha = self.opacity.value() / 100
        for box, item in ((self.show_mask, self.mask_item), (self.show_pred, self.pred_item)):
            if item is not None:
                item.setVisible(box.isChecked())
                item.setOpacity(alpha)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.view.fit()

    @classmethod
    def for_record(
        cls, record: dict[str, Any], prob: np.ndarray | None, run_id: str | None, parent: QWidget | None = None
    ) -> ImageDialog:
        """Read the original image (and mask) at full size; upsample the prediction to it."""
        image, orig = read_image(Path(record["image"]))
        mask = otsu_mask(read_mask(Path(record["mask"]))) if record.get("mask") else None
        if mask is not None and mask.shape != orig:
            mask = None
        pred = to_original_size(prob.astype(np.float32) / 255, orig) if prob is not None else None
        parts = [record["key"], f"{orig[1]}×{orig[0]}"]
        parts.append(f"prediction of run {run_id}" if pred is not None else "no prediction yet for this image")
        if mask is None:
            parts.append("no mask (unlabelled)")
        name = Path(record["image"]).name
        return cls(f"{name} — carseg-gui", image, mask, pred, " · ".join(parts), parent)
