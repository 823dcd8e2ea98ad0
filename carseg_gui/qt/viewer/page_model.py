"""A page of 50 rows as a table model, a delegate painting thumbnails, and the prediction cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from ...core.metrics import dice
from ...session.viewer import PredictionStore
from .loader import Thumb, grey_image

__all__ = ["PageModel", "PredictionStore", "RowData", "page_table"]  # the store lives in session.viewer

PAGE_SIZE = 50
COLUMNS = ["Image", "Mask", "Prediction", "File"]
IMAGE, MASK, PRED, FILE = range(4)
ImageRole = Qt.ItemDataRole.UserRole + 1
AspectRole = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


@dataclass
class RowData:
    row: int  # row of the cache
    number: int  # 1-based position in the chosen set
    name: str
    key: str
    orig: tuple[int, int]  # (height, width) of the original image
    image: QImage | None = None
    mask: QImage | None = None
    mask_array: np.ndarray | None = None
    prob: np.ndarray | None = None  # uint8 0..255 at cache size
    pred: QImage | None = None
    dice: float | None = None
    note: str = "loading…"
    badge: str = ""  # review status, e.g. "✎ corrected"
    source: str = ""  # where the mask shown (the one training uses) comes from, e.g. "mask: corrected by you"
    score: str = ""  # the order's score in words, e.g. "expected Dice 0.93 (confidence)"


class PageModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RowData] = []
        self._by_row: dict[int, int] = {}
        self.size = 0  # the cache's side: thumbnails and their Dice are at size x size

    def set_rows(self, rows: list[RowData]) -> None:
        self.beginResetModel()
        self.rows = rows
        self._by_row = {r.row: i for i, r in enumerate(rows)}
        self.endResetModel()

    def set_thumbs(self, thumbs: list[Thumb]) -> None:
        for t in thumbs:
            i = self._by_row.get(t.row)
            if i is None:
                continue
            r = self.rows[i]
            r.image, r.mask, r.mask_array = t.image, t.mask, t.mask_array
            if r.note == "loading…":
                r.note = ""
            self._score(r)
        self._changed_all()

    def set_mask(self, row: int, image: QImage, mask: np.ndarray) -> None:
        i = self._by_row.get(row)
        if i is None:
            return
        r = self.rows[i]
        r.mask, r.mask_array = image, mask
        self._score(r)
        self._changed_all()

    def set_prediction(self, row: int, prob: np.ndarray) -> None:
        i = self._by_row.get(row)
        if i is None:
            return
        r = self.rows[i]
        r.prob = prob
        r.pred = grey_image(np.where(prob > 127, 255, 0).astype(np.uint8))
        self._score(r)

    def set_note(self, note: str) -> None:
        for r in self.rows:
            if r.pred is None:
                r.note = note
        self._changed_all()

    def changed(self) -> None:
        self._changed_all()

    def _score(self, r: RowData) -> None:
        if r.prob is not None and r.mask_array is not None:
            r.dice = dice(r.mask_array, (r.prob > 127).astype(np.uint8))

    def _changed_all(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def missing_predictions(self) -> list[int]:
        return [r.row for r in self.rows if r.prob is None]

    # ----- Qt model API
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return str(self.rows[section].number) if section < len(self.rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r, col = self.rows[index.row()], index.column()
        if role == ImageRole:
            return {IMAGE: r.image, MASK: r.mask, PRED: r.pred}.get(col)
        if role == AspectRole:
            return r.orig[1] / max(r.orig[0], 1)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == FILE:
                # At the cache's size: the editor's Dice, at the photo's full size, differs a little.
                at = f" at {self.size}×{self.size}" if self.size else ""
                score = f"\nDice {r.dice:.4f}{at}" if r.dice is not None else ""
                extra = "".join(f"\n{line}" for line in (r.score, r.source, r.badge) if line)
                return f"{r.name}\n#{r.number} · {r.orig[1]}×{r.orig[0]}{score}{extra}"
            if col == PRED and r.pred is None:
                return r.note
            if col == MASK and r.mask is None and r.image is not None:
                return "no mask"
            if col == IMAGE and r.image is None:
                return "loading…"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{r.key}\nDouble-click to open it large"
        return None


class ThumbDelegate(QStyledItemDelegate):
    """Paints a thumbnail at the original image's aspect ratio, centred in its cell."""

    def __init__(self, width: int = 150, parent: Any = None) -> None:
        super().__init__(parent)
        self.set_width(width)

    def set_width(self, width: int) -> None:
        self.width, self.height = width, round(width * 2 / 3)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.width + 8, self.height + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        image = index.data(ImageRole)
        if image is None:
            super().paint(painter, option, index)
            return
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        aspect = float(index.data(AspectRole) or 1.5)
        box = option.rect.adjusted(4, 4, -4, -4)
        w = min(box.width(), round(box.height() * aspect))
        h = min(box.height(), round(w / aspect))
        target = QRect(box.x() + (box.width() - w) // 2, box.y() + (box.height() - h) // 2, w, h)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)
        painter.setPen(QColor(0, 0, 0, 60))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.restore()


def page_table(model: PageModel) -> tuple[QTableView, ThumbDelegate]:
    """The table of a page: thumbnails at the photos' aspect ratio, whole rows selected, not editable."""
    table = QTableView()
    table.setObjectName("pageTable")
    table.setModel(model)
    delegate = ThumbDelegate(parent=table)
    for col in range(FILE):
        table.setItemDelegateForColumn(col, delegate)
        table.setColumnWidth(col, delegate.width + 8)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(delegate.height + 8)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    return table, delegate
