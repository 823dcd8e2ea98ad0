"""The list of past runs with their best validation Dice, and the choice of the active run."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.project import RunInfo
from ..controller import Controller
from .run_words import dice_cell, preset_text, run_status, settings_tooltip

COLUMNS = ["Active", "Run", "Preset", "Status", "Val Dice at best epoch", "Best epoch", "Size", "Device"]
HEADER_TIPS = {
    4: "Validation Dice of the kept model: the epoch with the lowest validation loss, not the highest Dice "
    "seen (the panel above names the highest when it differs)",
    5: "The epoch with the lowest validation loss; its model is the one kept and used",
}


class RunsList(QWidget):
    selected = Signal(str)  # run id ("" for none)

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller, self.state = controller, controller.state
        self.tree = QTreeWidget()
        self.tree.setObjectName("runs")
        self.tree.setHeaderLabels(COLUMNS)
        for column, tip in HEADER_TIPS.items():
            self.tree.headerItem().setToolTip(column, tip)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemSelectionChanged.connect(self._selection)
        self.tree.itemDoubleClicked.connect(lambda *_: self.activate())
        self.use_button = QPushButton("Use for prediction")
        self.use_button.setObjectName("useRun")
        self.use_button.clicked.connect(self.activate)
        self.folder_button = QPushButton("Open run folder")
        self.folder_button.clicked.connect(self._open_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addLayout(buttons)
        self.state.runsChanged.connect(lambda: self.refresh())
        self.state.activeRunChanged.connect(lambda: self.refresh())
        self.state.changed.connect(self._update_buttons)
        self._update_buttons()

    def current(self) -> RunInfo | None:
        item = self.tree.currentItem()
        return self.state.run(item.text(1)) if item else None

    def refresh(self, select: str | None = None) -> None:
        """Rebuild the list, keeping the selected run (or selecting ``select``)."""
        keep = select or (self.current().id if self.current() else self.state.active_run)
        self.tree.blockSignals(True)
        self.tree.clear()
        training = self.controller.runner.name == "train"
        bold = QFont(self.tree.font())
        bold.setBold(True)
        chosen = None
        for run in reversed(self.state.runs):  # newest first
            dice, dice_tip = dice_cell(run)  # "0.9120", or "0.9120 (training)" for a run without validation
            active = run.id == self.state.active_run
            item = QTreeWidgetItem([
                "●" if active else "",
                run.id,
                preset_text(run),
                run_status(run, training),
                dice,
                str(run.metrics.get("best_epoch", "–")),
                str(run.config.get("size", "–")),
                str(run.config.get("device", "–")),
            ])  # fmt: skip
            if active:
                for col in range(len(COLUMNS)):
                    item.setFont(col, bold)
            tip = settings_tooltip(run)
            for col in range(len(COLUMNS)):
                item.setToolTip(col, tip)
            if dice_tip:
                item.setToolTip(4, f"{dice_tip}\n\n{tip}".strip())
            if run.problem:  # a file of the run does not read back: say which, for every column
                for col in range(len(COLUMNS)):
                    item.setToolTip(col, f"Run {run.id} cannot be used: {run.problem}")
            elif not run.has_model:
                item.setToolTip(3, "no saved model: it stopped before its first epoch ended")
            self.tree.addTopLevelItem(item)
            if run.id == keep:
                chosen = item
        if chosen is None and self.tree.topLevelItemCount():
            chosen = self.tree.topLevelItem(0)
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        self.tree.blockSignals(False)
        self._selection()

    def activate(self) -> None:
        run = self.current()
        if run is not None and run.has_model and self.use_button.isEnabled():
            self.controller.set_active_run(run.id)

    def _selection(self) -> None:
        run = self.current()
        self._update_buttons()
        self.selected.emit(run.id if run else "")

    def _update_buttons(self) -> None:
        run = self.current()
        reason = self.state.why_not_activate(run)
        tip = "Predict and export with the selected run"
        self.use_button.setEnabled(reason is None)
        self.use_button.setToolTip(tip if reason is None else f"{tip}\nNot now: {reason}")
        self.folder_button.setEnabled(run is not None)

    def _open_folder(self) -> None:
        run = self.current()
        if run is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(run.folder)))
