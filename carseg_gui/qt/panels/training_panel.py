"""Training panel: the recipe's settings, Train/Cancel, live progress and curves, past runs."""

from __future__ import annotations

from dataclasses import asdict, fields

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.config import ConfigError, TrainConfig
from ...core.imageio import read_json
from ...core.jobs import InputError, Progress
from ...core.presets import PRESETS, describe_changes, fit_warmup, make_config
from ...core.project import RunInfo
from ..controller import Controller
from ..progress import TrainingClock, duration
from .curves import CurvesView
from .run_words import cancelled_text, comparison_word, describe_run, device_words, score_words, training_words
from .runs_list import RunsList
from .training_controls import FIELD_WORDS, SETTINGS, TrainingControls

CPU_BATCHES = 3  # batches timed before the CPU note gives the time per epoch


class TrainingPanel(QWidget):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller, self.state = controller, controller.state
        self.clock = TrainingClock()
        self.live = False  # curves show the running job (True) or the selected run (False)
        self._runs_before: set[str] = set()  # run ids when training started: the new one is what ran
        self.setObjectName("trainingPanel")

        self.spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        self.preset = QComboBox()
        self.preset.setObjectName("preset")
        for preset in PRESETS.values():
            self.preset.addItem(preset.name, preset.name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip(
            "Starting settings: " + "; ".join(f"{p.name}: {p.description}" for p in PRESETS.values())
        )
        self.preset.activated.connect(lambda _i: self.set_config(make_config(self.preset.currentData())))
        preset_label = QLabel("Preset:")
        preset_label.setToolTip(self.preset.toolTip())
        form.addRow(preset_label, self.preset)
        # What the preset changes that has no spin box here, and what the user changed from the preset.
        self.preset_note = QLabel()
        self.preset_note.setObjectName("presetNote")
        self.preset_note.setWordWrap(True)
        # Ignored width: the note wraps to the column's width instead of widening it over the curves.
        self.preset_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.preset_note.setStyleSheet("color: palette(placeholder-text)")
        form.addRow(self.preset_note)
        for name, label, lo, hi, step, suffix, tip in SETTINGS:
            spin = QSpinBox()
            spin.setObjectName(f"spin_{name}")
            spin.setRange(lo, hi)
            spin.setSingleStep(step)
            spin.setSuffix(suffix)
            spin.setToolTip(tip)
            spin.valueChanged.connect(self._config_changed)
            self.spins[name] = spin
            row_label = QLabel(label + ":")
            row_label.setToolTip(tip)
            form.addRow(row_label, spin)
        self.set_config(TrainConfig())
        defaults = QPushButton("Reset to the preset")
        defaults.setToolTip("Back to the chosen preset's values (recipe: epochs 50, patience 2, validation 10 %, "
                            "size 128, batch 16, 16 filters)")  # fmt: skip
        defaults.clicked.connect(lambda: self.set_config(make_config(self.preset.currentData())))
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setWordWrap(True)
        settings = QGroupBox("Settings")
        box = QVBoxLayout(settings)
        box.addLayout(form)
        self.warm = QCheckBox("Start from the active run")
        self.warm.setObjectName("warmStart")
        self.warm.setToolTip(
            "Retrain from the active run's best weights instead of from scratch (warm start): after a few "
            "corrections this usually needs far fewer epochs. Corrected masks and excluded images are always "
            "used, warm or not."
        )
        box.addWidget(self.warm)
        self.controls = TrainingControls(controller, self.config)  # the kept split, the click refiner
        box.addWidget(self.controls)
        box.addWidget(defaults)
        box.addWidget(self.problem)
        box.addStretch(1)

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.clicked.connect(lambda: controller.train(self.config()))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelTraining")
        self.cancel_button.clicked.connect(controller.cancel)
        self.bar = QProgressBar()
        self.bar.setObjectName("batchBar")
        self.bar.setFormat("")
        self.bar.setValue(0)
        self.epoch_label = QLabel("Epoch –")
        self.eta_label = QLabel("Time left –")
        self.device_label = QLabel("Device: shown when training starts")
        self.device: str | None = None  # "CPU" or "GPU: name", once a job found it
        self.precision: tuple[str | None, str | None] = (None, None)  # the running job's dtype policy, and why
        self.cpu_note = QLabel("")
        self.cpu_note.setObjectName("cpuNote")
        self.cpu_note.setWordWrap(True)
        self.cpu_note.hide()
        self.outcome = QLabel("Press Train to start a run. Past runs are listed below.")
        self.outcome.setObjectName("trainingOutcome")
        self.outcome.setWordWrap(True)
        # A layout that does not move while the words change: the buttons keep one width, and the
        # labels take the width they are given (Ignored) instead of widening their column.
        width = max(b.sizeHint().width() for b in (self.train_button, self.cancel_button))
        for button in (self.train_button, self.cancel_button):
            button.setFixedWidth(width)
        for label in (self.epoch_label, self.eta_label, self.device_label, self.cpu_note, self.outcome):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        progress = QGridLayout()
        progress.addWidget(self.train_button, 0, 0)
        progress.addWidget(self.cancel_button, 0, 1)
        progress.addWidget(self.bar, 0, 2, 1, 2)
        progress.addWidget(self.epoch_label, 1, 0, 1, 3)
        progress.addWidget(self.eta_label, 1, 3)
        progress.addWidget(self.device_label, 2, 0, 1, 4)
        progress.addWidget(self.cpu_note, 3, 0, 1, 4)
        progress.addWidget(self.outcome, 4, 0, 1, 4)
        progress.setColumnStretch(2, 1)
        progress.setColumnStretch(3, 1)

        self.curves = CurvesView()
        right = QWidget()
        rlayout = QVBoxLayout(right)
        rlayout.setContentsMargins(0, 0, 0, 0)
        rlayout.addWidget(self.curves, 1)
        rlayout.addLayout(progress)
        top = QWidget()
        tlayout = QHBoxLayout(top)
        tlayout.setContentsMargins(0, 0, 0, 0)
        tlayout.addWidget(settings)
        tlayout.addWidget(right, 1)

        self.runs = RunsList(controller)
        self.runs.selected.connect(self.show_run)
        runs_box = QGroupBox("Runs (the active one ● predicts in the Viewer and exports)")
        QVBoxLayout(runs_box).addWidget(self.runs)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("trainingSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(runs_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(self.splitter)

        self.state.bind(self.train_button, "train", "Train a U-Net with these settings (preprocesses first if needed)")
        self.state.bind(self.cancel_button, "cancel:train,refiner", "Stop the training (or the click refiner's) "
                        "after the current batch; the best model so far is kept (Esc)")  # fmt: skip
        self.state.projectChanged.connect(self._restore_config)
        controller.runner.started.connect(self._started)
        controller.runner.progress.connect(self._progress)
        controller.trained.connect(self._trained)
        controller.compared.connect(self._compared)
        controller.jobEnded.connect(self._ended)
        self._config_changed()

    # ----- settings
    def config(self) -> TrainConfig:
        values = {name: spin.value() for name, spin in self.spins.items()}
        values["val_split"] = values["val_split"] / 100
        active = self.state.active()
        warm = self.warm.isChecked() and active is not None and int(active.config.get("size", 0)) == values["size"]
        values["init_from"] = str(active.folder) if warm and active else None
        merged = {**self.extra, **values}
        own = PRESETS.get(str(merged.get("preset")))
        if own is not None:  # no field for it here: the preset's warm-up, fitted to the size and epochs shown
            merged.update({k: own.settings.get(k, 0) for k in ("warmup_size", "warmup_epochs")})
        return TrainConfig(**fit_warmup(merged, set()))

    def set_config(self, config: TrainConfig) -> None:
        # Settings the panel does not show (loss, augmentation, ...) come from the preset or the saved run.
        self.extra = {k: v for k, v in asdict(config).items() if k not in self.spins and k != "init_from"}
        index = self.preset.findData(config.preset)
        if index >= 0:
            self.preset.setCurrentIndex(index)
        for name, spin in self.spins.items():
            value = getattr(config, name)
            spin.blockSignals(True)
            spin.setValue(round(value * 100) if name == "val_split" else int(value))
            spin.blockSignals(False)
        if hasattr(self, "problem"):
            self._config_changed()

    def _restore_config(self) -> None:
        saved = self.state.project_state().get("train_config") or {}
        active = self.state.active()
        if not saved and active is not None:  # trained elsewhere (the CLI): start from the active run
            # Only the choices a preset makes: the run records xla/precision as resolved (False, a policy).
            choices = {*PRESETS["recipe"].settings, "seed", "preset"}
            saved = {k: v for k, v in active.config.items() if k in choices}
        known = {f.name for f in fields(TrainConfig)}
        if saved:  # a new project keeps what the user chose before opening it
            try:
                self.set_config(TrainConfig(**{k: v for k, v in saved.items() if k in known}))
            except TypeError:
                self.set_config(TrainConfig())
        self.outcome.setText("Press Train to start a run. Past runs are listed below.")
        # Nothing of the previous dataset's training stays on screen.
        self.bar.setFormat("")
        self.bar.setValue(0)
        self.epoch_label.setText("Epoch –")
        self.eta_label.setText("Time left –")
        self.device_label.setText("Device: shown when training starts")
        self.device_label.setToolTip("")
        self.cpu_note.hide()
        self.curves.clear()

    def _config_changed(self) -> None:
        config = self.config()
        try:
            config.validate()
            problem = None
        except ConfigError as exc:  # it names the field: say it with the field's label
            problem = f"{FIELD_WORDS.get(exc.field, exc.field.replace('_', ' '))} {exc.problem}"
        except InputError as exc:
            problem = str(exc)
        self.problem.setText(problem or "")
        self.state.set_size(config.size, problem)
        self._update_preset_note(config)

    def _update_preset_note(self, config: TrainConfig) -> None:
        settings = asdict(config)
        own = PRESETS[config.preset].settings if config.preset in PRESETS else {}
        beyond = [w for k, w in describe_changes(settings, "recipe") if k not in self.spins]
        changed = [w for k, w in describe_changes(settings, config.preset) if k in self.spins] if own else []
        lines = []
        if beyond:
            lines.append("Beyond the recipe: " + ", ".join(beyond) + ".")
        elif config.preset == "recipe" and not changed:
            lines.append("The recipe exactly as published.")
        if changed:
            lines.append(f"Changed from {config.preset}: " + ", ".join(changed) + ".")
        self.preset_note.setText("\n".join(lines))

    # ----- a running job
    def _started(self, name: str) -> None:
        if name != "train":
            return
        self.live = True
        self.precision = (None, None)
        self._runs_before = {r.id for r in self.state.runs}
        self.clock = TrainingClock()
        self.curves.clear()
        self.bar.setValue(0)
        # The job loads TensorFlow before anything else (seconds, the first time), then brings the cache up to date.
        self.epoch_label.setText("Starting: loading TensorFlow…")
        self.eta_label.setText("Time left –")
        # The settings the job was started with (a quick retrain's are the active run's, not the boxes')
        self.outcome.setText(training_words(self.controller.train_config or self.config()))

    def _progress(self, name: str, p: Progress) -> None:
        if name != "train":
            return
        if p.stage == "preprocess" and p.total and p.done >= p.total:
            self.epoch_label.setText(f"Cache ready: {p.total} images")  # not "72/72" while the model builds
        elif p.stage == "preprocess":
            self.epoch_label.setText(f"Preparing the cache: {p.done}/{p.total} images")
        elif p.stage == "model":
            if "dtype_policy" in p.info:  # the precision this run computes in, and why (core/precision.py)
                self.precision = (p.info["dtype_policy"], p.info.get("precision_reason"))
            words = p.message.removeprefix("Training: ")
            self.epoch_label.setText(words[:1].upper() + words[1:] if words else "Building the model…")
        elif p.stage == "device":
            self.device = p.message
            text, tip = device_words(p.message, *self.precision)
            self.device_label.setText(text)
            self.device_label.setToolTip(tip)
            if p.message == "CPU":
                self.cpu_note.setText("No GPU found: training runs on the CPU. Time per epoch: measuring…")
                self.cpu_note.show()
        elif p.stage == "batch":
            if not any(r.id not in self._runs_before for r in self.state.runs):
                self.state.reload_runs()  # the run's folder exists now: list it as "training…"
            self.bar.setFormat("batch %v / %m")
            self.bar.setMaximum(max(p.total, 1))
            self.bar.setValue(p.done)
            self.epoch_label.setText(f"Epoch {p.info.get('epoch')} / {p.info.get('epochs')}")
            left_epoch, left_run = self.clock.update(p)
            if left_epoch is not None:
                self.eta_label.setText(f"Epoch: {duration(left_epoch)} left · run: at most {duration(left_run)}")
            if self.device == "CPU" and self.clock.per_batch is not None and self.clock.batches >= CPU_BATCHES:
                per_epoch = self.clock.per_batch * max(p.total, 1)
                self.cpu_note.setText(
                    f"No GPU found: training runs on the CPU, ≈ {per_epoch:.0f} s per epoch for this dataset "
                    f"({p.total} batches, timed on the first {self.clock.batches})."
                )
        elif p.stage == "epoch":
            values = {k: v for k, v in p.info.items() if isinstance(v, float)}
            if p.info.get("size"):
                values["size"] = p.info["size"]  # progressive resizing: the chart marks the switch
            self.curves.add_epoch(values, p.info.get("best_epoch"))
            dice = values.get("val_dice", values.get("dice"))
            kind = "val Dice" if "val_dice" in values else "Dice"  # without validation: the training Dice
            score = f" · {kind} {dice:.4f}" if dice is not None else ""
            self.epoch_label.setText(f"Epoch {p.done} / {p.total} done{score} · best epoch {p.info.get('best_epoch')}")
            self.state.reload_runs()  # the runs list shows the new best score

    def _trained(self, run: RunInfo) -> None:
        m = run.metrics
        score = score_words(run, read_json(run.folder / "history.json", default=[]) or []) or "no score"
        took = f" in {duration(m.get('train_s'))}" if m.get("train_s") else ""
        if run.status == "finished":
            # Active only if the training made it so (a run without a saved model leaves the active one)
            now = "It is now active." if run.id == self.state.active_run else "The active run is unchanged."
            saved = "" if run.has_model else ", without a saved model"
            text = f"Run {run.id} finished{saved}: {score}, {m.get('epochs_run', '?')} epoch(s){took}. {now}"
        elif run.has_model:
            text = f"Run {run.id} cancelled after {m.get('epochs_run', '?')} epoch(s): {score}. Its best model is kept."
        else:
            text = f"Run {run.id} cancelled before its first epoch ended: no model was saved."
        self.outcome.setText(text)

    def _compared(self, run: RunInfo, c: dict) -> None:
        """Before/after on the same validation images; going back is choosing the old run as active."""
        better = comparison_word(c["dice_before"], c["dice_after"])
        self.outcome.setText(
            f"{self.outcome.text()}\nOn the same {c['images']} validation images (with your corrections): "
            f"Dice {c['dice_before']:.4f} with run {c['before_run']} → {c['dice_after']:.4f} with run {run.id} "
            f"({better}). To go back, select run {c['before_run']} below and press “Use for prediction”."
        )

    def _ended(self, name: str, outcome: str) -> None:
        if name != "train":
            return
        said = self.outcome.text()  # what _trained wrote; refreshing the list would replace it
        self.live = False
        self.eta_label.setText("Time left –")
        if self.cpu_note.text().endswith("measuring…"):  # too few batches ran to time an epoch
            self.cpu_note.setText("No GPU found: training ran on the CPU.")
        # The curves keep showing the run that just ran (the list selects it) until the user picks another.
        new = [r.id for r in self.state.runs if r.id not in self._runs_before]
        self.runs.refresh(select=new[-1] if new else None)
        run = self.state.run(new[-1]) if new else None
        if outcome != "succeeded":  # no line may read as if the job were still at it
            if self.epoch_label.text().startswith("Epoch "):  # not "Epoch 2 / 3"
                self.epoch_label.setText(f"{outcome.capitalize()} in e{self.epoch_label.text()[1:]}")
                self.bar.setFormat(f"{outcome} at batch %v / %m")
            else:  # ended while starting up: not "Timing bfloat16…" or "Building the model…"
                self.epoch_label.setText("Epoch –")
        if outcome == "failed":
            said = "Training failed: see the message. The run is listed as failed."
        elif outcome == "cancelled" and not said.startswith("Run "):
            said = cancelled_text(run)
        self.outcome.setText(said)

    # ----- a past run
    def show_run(self, run_id: str) -> None:
        """The curves and words of a past run (not while one is training: those show the running one)."""
        if self.live:
            return
        run = self.state.run(run_id) if run_id else None
        if run is None:
            self.curves.clear()
            return
        history = read_json(run.folder / "history.json", default=[]) or []
        self.curves.set_history(history, run.metrics.get("best_epoch"))
        if run.config.get("device"):
            text, tip = device_words(
                run.config["device"], run.config.get("dtype_policy"), run.config.get("precision_reason")
            )
            self.device_label.setText(text)
            self.device_label.setToolTip(tip)
        self.outcome.setText(describe_run(run, history))
