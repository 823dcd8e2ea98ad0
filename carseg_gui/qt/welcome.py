"""The welcome page the main window shows until a dataset is open: the sample, a folder, recent folders,
and the workflow in three steps."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..session.recent import Recent
from .state import AppState

STEPS = """<ol style="margin-left: 0px">
<li><p><b>Preprocess and train.</b> The images are resized and the masks binarised into a cache
(Dataset panel, <i>Preprocess</i>); then <i>Train</i> a U-Net in the Training tab and watch the curves.
The best model is kept, even when you cancel.</p></li>
<li><p><b>Review, correct, annotate, retrain.</b> The Viewer tab pages through the predictions, worst
first if you like. Double-click an image to correct its mask (the smart click, S, redraws the mask
around a click), approve or exclude it. Images without a mask open with the model's prediction as a draft: approve
or correct it and it joins the training. Then train again and compare the validation Dice before and
after.</p></li>
<li><p><b>Export.</b> Write the masks (your corrections where you made them, else the predictions) to a
folder: PNG, Carvana GIF or RLE CSV, YOLO polygons, COCO JSON or cut-outs (File ▸ Export masks…,
Ctrl+E).</p></li>
</ol>"""


class WelcomePage(QWidget):
    sampleRequested = Signal()
    folderRequested = Signal()
    recentRequested = Signal(object)  # a session.recent.Recent: the dataset and its project

    def __init__(self, state: AppState, recent: Callable[[], list[Recent]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        self.state = state
        self._recent = recent
        outer = QHBoxLayout(self)
        column = QWidget()
        column.setMaximumWidth(720)
        outer.addStretch(1)
        outer.addWidget(column, 4)
        outer.addStretch(1)
        layout = QVBoxLayout(column)
        layout.addStretch(1)
        title = QLabel("<h2>Welcome to carseg-gui</h2><p>Segment cars in photos with a U-Net.</p>")
        layout.addWidget(title)

        buttons = QHBoxLayout()
        self.sample_button = QPushButton("Open the sample dataset")
        self.sample_button.setObjectName("welcomeSample")
        self.sample_button.setDefault(True)
        self.sample_button.clicked.connect(self.sampleRequested)
        self.folder_button = QPushButton("Open a folder…")
        self.folder_button.setObjectName("welcomeOpen")
        self.folder_button.clicked.connect(self.folderRequested)
        state.bind(self.sample_button, "sample", "64 synthetic car photos with masks, generated the first time")
        state.bind(self.folder_button, "open", "A dataset folder: train/ + train_masks/, or images/ + masks/")
        buttons.addWidget(self.sample_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.recent_title = QLabel("<b>Recent folders</b>")
        layout.addWidget(self.recent_title)
        self.recent_box = QVBoxLayout()
        layout.addLayout(self.recent_box)
        self.recent_buttons: list[QPushButton] = []

        steps = QLabel("<b>How it works</b>" + STEPS)
        steps.setObjectName("welcomeSteps")
        steps.setWordWrap(True)
        steps.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(steps)
        layout.addStretch(2)
        state.changed.connect(self._update_enabled)
        self.fill_recent()

    def fill_recent(self) -> None:
        for button in self.recent_buttons:
            self.recent_box.removeWidget(button)
            button.deleteLater()
        self.recent_buttons = []
        for entry in self._recent():
            button = QPushButton(entry.label())
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("text-align: left; color: palette(link);")
            button.setToolTip(f"Open {entry.dataset}" + (f" with its project {entry.project}" if entry.project else ""))
            button.clicked.connect(lambda _=False, e=entry: self.recentRequested.emit(e))
            self.recent_box.addWidget(button)
            self.recent_buttons.append(button)
        self.recent_title.setVisible(bool(self.recent_buttons))
        self._update_enabled()

    def _update_enabled(self) -> None:
        enabled = self.state.why_not("open") is None
        for button in self.recent_buttons:
            button.setEnabled(enabled)
