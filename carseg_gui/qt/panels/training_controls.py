"""The training panel's settings table and its controls beyond Train: the validation split the project keeps
(and a training that draws it again), and the training of the editor's click refiner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ...core.jobs import InputError
from ...session.actions import QUICK_EPOCHS, QUICK_RATE, QUICK_REPLAY, quick_retrain_config
from ...session.store import StateStore
from ..controller import Controller

# (field, label, minimum, maximum, step, suffix, tooltip)
SETTINGS = [
    ("epochs", "Epochs", 1, 1000, 1, "", "The most passes over the training images. Early stopping usually "
     "ends the run sooner."),
    ("patience", "Patience", 0, 100, 1, " epochs", "Stop when the validation loss has not improved for this "
     "many epochs; the best model is kept."),
    ("val_split", "Validation", 0, 50, 5, " %", "Share of the labelled images held out to measure the model. "
     "All views of one car go to the same side, so the score is honest. The cars are chosen at the project's "
     "first training and kept (see below)."),
    ("size", "Image size", 16, 1024, 16, " px", "Images and masks are resized to size × size for training "
     "(a multiple of 16 for the recipe's 4-level U-Net, of 32 for best's 5 levels). Larger is sharper and "
     "slower."),
    ("batch_size", "Batch size", 1, 512, 1, "", "Images per training step. Lower it if memory runs out."),
    ("filters", "Base filters", 4, 128, 4, "", "Width of the U-Net's first level (doubling at each level: "
     "4 for the recipe, 5 for best). More filters: a bigger, slower model."),
    ("seed", "Seed", 0, 2**31 - 1, 1, "", "Random seed of the split, the shuffling and the initial weights: "
     "the same seed gives the same run."),
]  # fmt: skip

# The training settings as this panel's labels name them (ConfigError names TrainConfig's field).
FIELD_WORDS = {
    "size": "image size",
    "batch_size": "batch size",
    "val_split": "validation split",
    "learning_rate": "learning rate",
    "init_from": "the warm-start run",
    "precision": "mixed precision",
}


def split_words(split: dict[str, Any] | None) -> str:
    """ "Validation: 3 cars kept since run X (10 %)", or what the first training will do."""
    if not split or not split.get("val_groups"):
        return "Validation: the first training chooses the cars and the project keeps them for every round."
    groups = list(split["val_groups"])
    cars = "1 car" if len(groups) == 1 else f"{len(groups)} cars"
    share = f", {round(float(split['val_split']) * 100)} % when chosen" if split.get("val_split") is not None else ""
    return f"Validation: {cars} kept since run {split.get('chosen_by_run', '?')}{share}."


class TrainingControls(QWidget):
    """The split line, "New validation split" and "Train the click refiner"."""

    def __init__(self, controller: Controller, config: Callable[[], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller, self.state, self.config = controller, controller.state, config
        self.split_label = QLabel()
        self.split_label.setObjectName("splitLabel")
        self.split_label.setWordWrap(True)
        self.split_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.new_split = QPushButton("New validation split")
        self.new_split.setObjectName("newSplit")
        self.new_split.clicked.connect(lambda: controller.train(self.config(), new_split=True))
        self.quick = QPushButton("Quick retrain")
        self.quick.setObjectName("quickRetrain")
        self.quick.clicked.connect(self._quick)
        self.refiner = QPushButton("Train the click refiner")
        self.refiner.setObjectName("trainRefiner")
        self.refiner_label = QLabel(" ")
        self.refiner_label.setObjectName("refinerLabel")
        self.refiner_label.setWordWrap(True)
        self.refiner_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.split_label, self.new_split, self.quick, self.refiner, self.refiner_label):
            layout.addWidget(w)

        self._split: dict[str, Any] | None = None  # the project's record, read when it can have changed
        self.state.changed.connect(self._apply)
        if hasattr(controller, "train_refiner"):
            self.refiner.clicked.connect(lambda: controller.train_refiner())
            self.state.bind(
                self.refiner,
                "refiner",
                "Train the editor's smart click tool (S) on your masks and the dataset's, at full size "
                "(carseg train-refiner)",
            )
        else:
            self.refiner.setEnabled(False)
            self.refiner.setToolTip("Not in this version of the app")
        if hasattr(controller, "refinerTrained"):
            controller.refinerTrained.connect(self._refiner_trained)
        self.state.projectChanged.connect(self.show_split)
        self.state.runsChanged.connect(self.show_split)
        self.state.projectChanged.connect(lambda: self.refiner_label.setText(" "))
        self.show_split()

    def split(self) -> dict[str, Any] | None:
        return StateStore(self.state.project).split() if self.state.project is not None else None

    def show_split(self) -> None:
        self._split = self.split()
        self.split_label.setText(split_words(self._split))
        self._apply()

    def _apply(self) -> None:
        """Enabled as Train is, once there is a split to draw again (rules.why_not("train") first)."""
        tip = ("Train now with these settings, drawing the validation cars again (carseg train --new-split): the "
               "next rounds keep the new ones. Scores of runs validated on other cars do not compare.")  # fmt: skip
        reason = self.state.why_not("train")
        if reason is None and not (self._split and self._split.get("val_groups")):
            reason = "no validation cars are recorded yet: the first training (Train) chooses them"
        self.new_split.setEnabled(reason is None)
        self.new_split.setToolTip(tip if reason is None else f"{tip}\nNot now: {reason}")
        quick_tip = (f"Retrain the active run on the images corrected or approved since it trained, and {QUICK_REPLAY} "
                     f"times as many of the others: its own settings, from its best weights, {QUICK_EPOCHS} epochs "
                     f"at {QUICK_RATE:g}x its learning rate (carseg train --quick). Measured: 2 minutes for 16 "
                     "corrections at 256 px on 2 CPU cores; the before/after Dice is shown when it ends.")  # fmt: skip
        why = self.state.why_not("train")
        active = self.state.active()
        if why is None and (active is None or not active.has_model):
            why = "there is no active run to start from: Train one first"
        self.quick.setEnabled(why is None)
        self.quick.setToolTip(quick_tip if why is None else f"{quick_tip}\nNot now: {why}")

    def _quick(self) -> None:
        active = self.state.active()
        if active is None:
            return
        try:
            config = quick_retrain_config(active)
        except InputError as exc:
            self.controller.status.emit(f"Quick retrain did not start: {exc}")
            return
        self.controller.train(config, remember=False)

    def _refiner_trained(self, run: Any) -> None:
        summary = getattr(run, "summary", None)
        self.refiner_label.setText(f"{summary()}." if callable(summary) else "The click refiner was trained.")
