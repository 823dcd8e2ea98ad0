"""The editor's side panel: brush, view, prediction and review controls, and the undo history.

Plain widgets with no logic: the editor connects them and sets them from the document's state under
blocked signals (widgets reflect models; they write back only through the editor's setters).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from .canvas import MAX_BRUSH, MIN_BRUSH
from .overlay import LEGEND, MODE_LABELS, MODES

STATUS_COLOURS = {
    "unreviewed": "#6b7280",
    "corrected": "#2563eb",
    "approved": "#16a34a",
    "excluded": "#b91c1c",
}


def _slider(lo: int, hi: int, value: int) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(lo, hi)
    slider.setValue(value)
    # Arrow keys belong to next/previous image, not to whichever slider was clicked last.
    slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return slider


def swatch(rgb: tuple[int, int, int], text: str) -> str:
    r, g, b = rgb
    return f'<span style="color:rgb({r},{g},{b})">■</span>&nbsp;{text}'


class SidePanel(QWidget):
    def __init__(self, group: QUndoGroup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        brush = QGroupBox("Brush")
        form = QFormLayout(brush)
        self.brush_size = _slider(MIN_BRUSH, MAX_BRUSH, 30)
        self.brush_label = QLabel("30 px")
        self.brush_label.setMinimumWidth(44)
        row = QHBoxLayout()
        row.addWidget(self.brush_size)
        row.addWidget(self.brush_label)
        form.addRow("Size  [ ]", row)
        layout.addWidget(brush)

        view = QGroupBox("View")
        form = QFormLayout(view)
        self.mode = QComboBox()
        self.mode.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for mode in MODES:
            self.mode.addItem(MODE_LABELS[mode], mode)
        form.addRow("Show", self.mode)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("", self.legend)
        self.opacity = _slider(0, 100, 50)
        form.addRow("Opacity", self.opacity)
        self.overlay_on = QCheckBox("Overlay  (V)")
        self.overlay_on.setChecked(True)
        self.outline = QCheckBox("Outline only  (O)")
        for box in (self.overlay_on, self.outline):
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            form.addRow("", box)
        layout.addWidget(view)

        pred = QGroupBox("Prediction")
        form = QFormLayout(pred)
        self.threshold = _slider(1, 99, 50)
        self.threshold_label = QLabel("0.50")
        row = QHBoxLayout()
        row.addWidget(self.threshold)
        row.addWidget(self.threshold_label)
        form.addRow("Threshold", row)
        self.dice = QLabel("–")
        self.dice.setToolTip(
            "Dice of the mask against the prediction at this threshold, at the photo's full size. "
            "The viewer's Dice is measured on its small thumbnails (the cache's size), so it differs a little."
        )
        form.addRow("Dice", self.dice)
        self.take_all = QPushButton("Take whole prediction")
        form.addRow(self.take_all)
        self.prediction_box = pred
        layout.addWidget(pred)

        review = QGroupBox("Review")
        column = QVBoxLayout(review)
        self.status = QLabel()
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.status)
        buttons = QHBoxLayout()
        self.approve = QPushButton("Approve (A)")
        self.exclude = QPushButton("Exclude (X)")
        self.unreviewed = QPushButton("Unreviewed (U)")
        for button in (self.approve, self.exclude, self.unreviewed):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            buttons.addWidget(button)
        column.addLayout(buttons)
        layout.addWidget(review)

        layout.addWidget(QLabel("History"))
        self.history = QUndoView(group)
        self.history.setEmptyLabel("Opened")
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.history, 1)
        self.show_mode("mask")

    def show_mode(self, mode: str) -> None:
        self.legend.setText("<br>".join(swatch(rgb, text) for text, rgb in LEGEND[mode]))

    def show_status(self, status: str) -> None:
        colour = STATUS_COLOURS.get(status, "#6b7280")
        self.status.setText(status.capitalize())
        self.status.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; border-radius: 4px; padding: 3px; font-weight: bold; }}"
        )


class StatusRow(QWidget):
    """Below the canvas: which image, whether it is saved, problems, cursor position, zoom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.where, self.saved, self.problem, self.cursor, self.zoom = (QLabel() for _ in range(5))
        self.note = QLabel()  # about the starting mask: a draft, an empty draft
        self.problem.setStyleSheet("color: #b91c1c; padding-left: 12px;")
        self.note.setStyleSheet("color: #b45309; padding-left: 12px;")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 2)
        for label in (self.where, self.saved, self.note, self.problem):
            row.addWidget(label)
        row.addStretch(1)
        row.addWidget(self.cursor)
        row.addWidget(self.zoom)

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def show_saved(self, text: str, colour: str) -> None:
        if text != self.saved.text():  # called per brush segment: a restyle is not free
            self.saved.setText(text)
            self.saved.setStyleSheet(f"color: {colour}; padding-left: 12px;")
