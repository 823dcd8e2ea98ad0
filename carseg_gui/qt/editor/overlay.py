"""The coloured overlay drawn over the photo: mask, prediction, or their disagreement.

The overlay is an ARGB32 buffer the size of the image, wrapped (not copied) by a QImage. An edit
re-colours only its bbox with one table lookup (``lut[code]`` where ``code`` packs mask, prediction
and outline bits), and the item repaints only that rect: a brush segment on a 1918x1280 mask costs
a few thousand pixels, never the whole image. Opacity is the item's opacity, so the slider costs no
re-colouring at all.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ...core.masks import BBox

MODES = ("mask", "prediction", "disagreement")
MODE_LABELS = {"mask": "Mask", "prediction": "Prediction", "disagreement": "Disagreement"}

# Colours chosen to stand out on studio photos (white/grey backgrounds, cars of any colour).
MASK_RGB = (255, 0, 200)  # magenta
PRED_RGB = (40, 210, 60)  # green
MISSED_RGB = (255, 140, 0)  # orange: in the mask, not in the prediction
EXTRA_RGB = (0, 160, 255)  # blue: in the prediction, not in the mask
LEGEND = {
    "mask": [("mask", MASK_RGB)],
    "prediction": [("prediction", PRED_RGB)],
    "disagreement": [("mask only", MISSED_RGB), ("prediction only", EXTRA_RGB), ("both", MASK_RGB)],
}

OUTLINE_PX = 3  # at the usual fit zoom (~0.5) still a clear line
_CLEAR = 0


def _argb(rgb: tuple[int, int, int], alpha: int = 255) -> int:
    # Premultiplied, the format QPainter blends fastest.
    r, g, b = (c * alpha // 255 for c in rgb)
    return (alpha << 24) | (r << 16) | (g << 8) | b


def lookup_table(mode: str, outline: bool) -> np.ndarray:
    """Colour per code = mask | prediction << 1 | mask-outline << 2."""
    lut = np.zeros(8, np.uint32)
    for code in range(8):
        m, p, b = code & 1, (code >> 1) & 1, (code >> 2) & 1
        colour = _CLEAR
        if mode == "mask":
            if b if outline else m:
                colour = _argb(MASK_RGB)
        elif mode == "prediction":
            if p:
                colour = _argb(PRED_RGB)
            if outline and b:  # the mask's outline drawn over the prediction: both at once
                colour = _argb(MASK_RGB)
        elif m and not p:
            colour = _argb(MISSED_RGB)
        elif p and not m:
            colour = _argb(EXTRA_RGB)
        elif m and p:
            # Agreement is the quiet part of the picture: faint fill, or just the outline.
            colour = (_argb(MASK_RGB) if b else _CLEAR) if outline else _argb(MASK_RGB, 150)
        lut[code] = colour
    return lut


class OverlayItem(QGraphicsItem):
    """Draws the overlay buffer; :meth:`refresh` re-colours a bbox and schedules its repaint."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._buf = np.zeros((1, 1), np.uint32)
        self._image = QImage()
        self._mask: np.ndarray | None = None
        self._pred: np.ndarray | None = None
        self.mode = "mask"
        self.outline = False
        self._lut = lookup_table(self.mode, self.outline)

    def set_arrays(self, mask: np.ndarray | None, pred: np.ndarray | None) -> None:
        """Follow new arrays (a new image, or a re-thresholded prediction) and re-colour everything."""
        self._mask, self._pred = mask, pred
        if mask is not None and self._buf.shape != mask.shape:
            self.prepareGeometryChange()
            h, w = mask.shape
            self._buf = np.zeros((h, w), np.uint32)
            # The QImage points into self._buf: writes to the array show on the next paint.
            self._image = QImage(self._buf.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied)
        self.refresh(None)

    def set_style(self, mode: str, outline: bool) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown overlay mode {mode!r}")
        if (mode, outline) == (self.mode, self.outline):
            return  # a full re-colour is ~10 ms at 1918x1280: not for nothing, at every image switch
        self.mode, self.outline = mode, outline
        self._lut = lookup_table(mode, outline)
        self.refresh(None)

    def refresh(self, bbox: BBox | None) -> None:
        mask = self._mask
        if mask is None:
            self._buf[:] = _CLEAR
            self.update()
            return
        h, w = mask.shape
        y0, y1, x0, x1 = bbox if bbox is not None else (0, h, 0, w)
        if self.outline:
            # Pixels up to OUTLINE_PX away from a change may have entered or left the outline.
            m = OUTLINE_PX
            y0, y1, x0, x1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
        if y1 <= y0 or x1 <= x0:
            return
        code = mask[y0:y1, x0:x1].copy()
        if self._pred is not None:
            code |= self._pred[y0:y1, x0:x1] << 1
        if self.outline:
            code |= self._outline(mask, (y0, y1, x0, x1)) << 2
        if bbox is None:  # the whole buffer: np.take writing in place is ~2x faster than a fancy-index copy
            np.take(self._lut, code, out=self._buf, mode="clip")  # codes are 0..7
        else:
            self._buf[y0:y1, x0:x1] = self._lut[code]
        self.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    @staticmethod
    def _outline(mask: np.ndarray, bbox: BBox) -> np.ndarray:
        """Inner boundary of the mask (OUTLINE_PX wide) inside bbox, from a crop with enough context."""
        h, w = mask.shape
        y0, y1, x0, x1 = bbox
        m = OUTLINE_PX
        cy0, cy1, cx0, cx1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
        crop = mask[cy0:cy1, cx0:cx1]
        # OpenCV's default border for erode counts outside pixels as set: a car cut by the image
        # edge gets no outline along the edge, and the crop's inner edges are m px of true context.
        eroded = cv2.erode(crop, np.ones((3, 3), np.uint8), iterations=m)
        edge = crop & (eroded ^ 1)
        return edge[y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0]

    def pixel(self, x: int, y: int) -> int:
        """The ARGB value at (x, y), for tests."""
        return int(self._buf[y, x])

    def boundingRect(self) -> QRectF:
        h, w = self._buf.shape
        return QRectF(0, 0, w, h) if self._mask is not None else QRectF()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._mask is None:
            return
        # Only the exposed part: Qt clips anyway, but a smaller source rect is less to transform.
        rect = option.exposedRect.toAlignedRect().intersected(self.boundingRect().toAlignedRect())  # type: ignore[attr-defined]
        if not rect.isEmpty():
            # Zoomed out, nearest-neighbour would drop whole rows of a thin outline or stroke edge;
            # zoomed in, it shows exactly the pixels being edited.
            smooth = painter.worldTransform().m11() < 1.0
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(QRectF(rect), self._image, QRectF(rect))
