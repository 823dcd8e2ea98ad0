"""Export panel: the masks of a set at each image's original size (yours where you corrected or approved
one, else the active run's prediction), as PNG, GIF, YOLO polygons, cut-outs, COCO or Carvana's RLE CSV,
with manifest.csv beside them saying where each mask came from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.export import COCO_NAME, ExportSummary, export_names
from ...core.jobs import Progress
from ...core.presets import describe_changes
from ...core.project import RunInfo
from ...session.actions import SUBMISSION_NAME
from ..controller import Controller
from ..progress import Rate, duration
from .choices import choice_box
from .export_options import FORMATS, CutoutOptions, ExistingCheck, exported_text, predictions_box, words

__all__ = ["ExportPanel", "describe_model", "exported_text", "words"]
# The dataset's own sets: a test image you annotated stays a test image (and gets your mask).
SETS = [("test", "Test images (no mask in the dataset)"), ("train", "Train images (the dataset's masks)"),
        ("all", "All images")]  # fmt: skip
NOTHING_YET = (
    "Nothing exported yet. Each image gets your mask where you corrected or approved one, else the run's "
    "prediction, at the image's own size; manifest.csv says which. Files are written whole (temp file, then "
    "rename), so a cancelled export leaves no half-written file."
)


class ExportPanel(QWidget):
    def __init__(self, controller: Controller, ask: Callable[[str, str], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller, self.state = controller, controller.state
        self.ask = ask  # yes/no question, patched by tests
        self.rate = Rate()
        self.setObjectName("exportPanel")

        self.folder = QLineEdit()
        self.folder.setObjectName("exportFolder")
        self.folder.setPlaceholderText("Folder to write the masks into")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.set_box, self.format_box = choice_box(SETS, "exportSet"), choice_box(FORMATS, "exportFormat")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.5)
        self.threshold.setMaximumWidth(90)
        self.threshold.setToolTip("A pixel is car when the model's probability is above this value")
        self.predictions_only = predictions_box()
        self.cutout = CutoutOptions()
        self.overwrite = QCheckBox("Replace existing files without asking")
        self.overwrite.setToolTip("Unchecked: you are asked before any existing file is replaced")
        self.run_label = QLabel("–")
        self.plan = QLabel(" ")
        self.plan.setObjectName("exportPlan")
        self.plan.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Folder:", row)
        form.addRow("Images:", self.set_box)
        form.addRow("Format:", self.format_box)
        form.addRow("Cut-out:", self.cutout)
        form.addRow("Threshold:", self.threshold)
        form.addRow("Masks:", self.predictions_only)
        form.addRow("Existing files:", self.overwrite)
        form.addRow("Model:", self.run_label)
        form.addRow("Will write:", self.plan)
        self.form = form
        settings = QGroupBox("Export masks (at each image's original size)")
        settings.setLayout(form)

        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("exportButton")
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(controller.cancel)
        self.bar = QProgressBar()
        self.bar.setObjectName("exportBar")
        self.bar.setFormat("")
        self.bar.setValue(0)
        self.rate_label = QLabel(" ")
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.bar, 1)
        self.summary = QLabel(NOTHING_YET)
        self.summary.setObjectName("exportSummary")
        self.summary.setWordWrap(True)
        self.open_button = QPushButton("Open folder")
        self.open_button.setObjectName("openExportFolder")
        self.open_button.setVisible(False)
        self.open_button.clicked.connect(self._open_folder)
        result = QGroupBox("Result")
        rlayout = QVBoxLayout(result)
        rlayout.addWidget(self.summary)
        rlayout.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.rate_label)
        layout.addWidget(result)
        layout.addStretch(1)
        self.last: ExportSummary | None = None
        self.check = ExistingCheck(self)  # the files an export would replace, listed off the GUI thread
        self.check.done.connect(self._checked)
        self._pending: tuple | None = None  # (request number, export arguments) while the check runs

        self.state.bind(self.export_button, "export", "Predict the chosen images with the active run and write "
                        "their masks (Ctrl+E)")  # fmt: skip
        self.state.bind(self.cancel_button, "cancel:export", "Stop the export; files already written stay")
        self.state.projectChanged.connect(self._restore)
        self.state.cachesChanged.connect(self._show_plan)
        for signal in (self.set_box.currentIndexChanged, self.format_box.currentIndexChanged, self.folder.textChanged,
                       self.predictions_only.toggled, self.cutout.changed):  # fmt: skip
            signal.connect(self._show_plan)
        self.state.activeRunChanged.connect(self._show_run)
        self.state.activeRunChanged.connect(self._show_plan)  # the images counted are at the active run's size
        # What an export was started with stays as it was until it ends: the result describes what it did.
        self.options = (self.folder, browse, self.set_box, self.format_box, self.cutout, self.threshold,
                        self.predictions_only, self.overwrite)  # fmt: skip
        self.state.runsChanged.connect(self._show_run)
        controller.runner.started.connect(self._started)
        controller.runner.progress.connect(self._progress)
        controller.exported.connect(self._exported)
        controller.jobEnded.connect(self._ended)

    def start(self) -> bool:
        text = self.folder.text().strip()
        if not text:
            self._browse()
            text = self.folder.text().strip()
            if not text:
                return False
        out = Path(text).expanduser()
        which, fmt = self.set_box.currentData(), self.format_box.currentData()
        cache = self.state.caches.get(self.state.view_size())
        if cache is not None and not cache.rows_for_set(which):
            self._show_plan()  # says there is nothing in that set
            return False
        options = {"predictions_only": self.predictions_only.isChecked()}
        if fmt == "cutout":
            options.update(feather=self.cutout.feather.value(), background=self.cutout.colour())
        args = (out, which, fmt, self.threshold.value())
        if self.overwrite.isChecked():
            return self.controller.export(*args, True, **options)
        if self.state.why_not("export"):
            return False
        self._pending = (self.check.start(cache, out, which, fmt), args, options)
        self.summary.setText(f"Looking for files in {out} that the export would replace…")
        return True

    def _checked(self, gen: int, found: object) -> None:
        if self._pending is None or self._pending[0] != gen:
            return  # an older check, or the dataset changed meanwhile
        _, args, options = self._pending
        self._pending = None
        if isinstance(found, str):
            self.summary.setText(f"Not exported: {found}")
            return
        existing: list[Path] = found  # type: ignore[assignment]
        if existing:
            question = f"{len(existing)} file(s) in {args[0]} will be replaced, e.g. {existing[0].name}. Replace them?"
            if not self.ask("Replace existing files?", question):
                self.summary.setText("Not exported: the existing files were kept.")
                return
        if not self.controller.export(*args, bool(existing), **options):
            self.summary.setText(f"Not exported: {self.state.why_not('export') or 'another job is running'}")

    def _browse(self) -> None:
        start = self.folder.text() or (str(self.state.root.parent) if self.state.root else "")
        folder = QFileDialog.getExistingDirectory(self, "Export masks into", start)
        if folder:
            self.folder.setText(folder)

    def _restore(self) -> None:
        saved = self.state.project_state().get("export") or {}
        root = self.state.root
        self.folder.setText(saved.get("out") or (str(root.parent / f"{root.name}-masks") if root else ""))
        self.set_box.setCurrentIndex(max(0, self.set_box.findData(saved.get("set") or self._default_set())))
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(saved.get("format", "png"))))
        self.threshold.setValue(float(saved.get("threshold", 0.5)))
        self.predictions_only.setChecked(bool(saved.get("predictions_only", False)))
        self._pending = None
        self.summary.setText(NOTHING_YET)
        self.open_button.setVisible(False)
        self.last = None
        self.bar.setFormat("")  # no progress of another dataset's export
        self.bar.setValue(0)
        self.rate_label.setText(" ")
        self._show_run()
        self._show_plan()

    def _default_set(self) -> str:
        """The test images, unless the dataset has none (then all of them)."""
        dataset = self.state.dataset
        if dataset is not None and dataset.records and not dataset.unlabelled:
            return "all"
        return "test"

    def _show_run(self) -> None:
        run = self.state.active()
        self.run_label.setText(describe_model(run) if run else "none yet: train a run in the Training tab")

    def _show_plan(self, *_: object) -> None:
        cache = self.state.caches.get(self.state.view_size())
        if cache is None:
            self.plan.setText("(preprocess the dataset to see how many images)")
            return
        which, fmt = self.set_box.currentData(), self.format_box.currentData()
        rows = cache.rows_for_set(which)
        if not rows:
            self.plan.setText(f"nothing: this dataset has no {self.set_box.currentText().lower()}; choose another set")
            return
        sizes = {tuple(cache.rows[r]["orig"]) for r in rows[:2000]}
        size = f"{next(iter(sizes))[1]}×{next(iter(sizes))[0]}" if len(sizes) == 1 else "each image's own size"
        folder = Path(self.folder.text().strip() or "…").name
        self.form.setRowVisible(self.cutout, fmt == "cutout")
        whose = "the run's predictions" if self.predictions_only.isChecked() else "your masks, else predictions"
        if fmt in ("rle", "coco"):
            name = SUBMISSION_NAME if fmt == "rle" else COCO_NAME
            self.plan.setText(f"1 file, {folder}/{name}: {len(rows)} masks at {size} ({whose}), and manifest.csv")
            return
        example = export_names(cache, rows[:1], fmt)[rows[0]][0]
        pixels = {"png": "pixels 0 or 255", "gif": "palette indices 0/1", "yolo": "polygons in 0–1 coordinates",
                  "cutout": self.cutout.words()}[fmt]  # fmt: skip
        self.plan.setText(f"{len(rows)} files in {folder}/ (e.g. {example}), {size}, {pixels} ({whose}), "
                          "and manifest.csv")  # fmt: skip

    def _started(self, name: str) -> None:
        if name == "export":
            for widget in self.options:
                widget.setEnabled(False)
            self.rate.reset()
            self.bar.setValue(0)
            self.summary.setText("Exporting…")
            self.open_button.setVisible(False)

    def _progress(self, name: str, p: Progress) -> None:
        if name != "export":
            return
        if p.stage == "preprocess" and p.total and p.done >= p.total:  # not a stale "72/72" while TF loads
            self.rate_label.setText(f"Cache up to date ({p.total} images); loading the model…")
            return
        if p.stage == "preprocess":
            self.rate_label.setText(f"Bringing the cache up to date: {p.done}/{p.total} images")
            return
        self.bar.setFormat("%v / %m images")
        self.bar.setMaximum(max(p.total, 1))
        self.bar.setValue(p.done)
        rate, left = self.rate.update(p.done, p.total)
        if rate:
            self.rate_label.setText(f"{rate:.1f} images/s · {duration(left)} left")

    def _exported(self, summary: ExportSummary) -> None:
        self.last = summary
        # what the export was started with, not the box now
        self.summary.setText(exported_text(summary, bool(self.controller.export_options.get("predictions_only"))))
        self.open_button.setVisible(True)
        self.rate_label.setText("Done")

    def _ended(self, name: str, outcome: str) -> None:
        if name == "export":
            for widget in self.options:
                widget.setEnabled(True)
        if name == "export" and outcome != "succeeded":
            self.summary.setText("Export cancelled: the files written so far are complete; no file is half-written."
                                 if outcome == "cancelled" else "Export failed: see the message.")  # fmt: skip
            self.rate_label.setText(" ")

    def _open_folder(self) -> None:
        if self.last is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last.out)))


def describe_model(run: RunInfo) -> str:
    """The run and what its masks go through: "run X (best preset, 256 px; flip TTA, largest component)"."""
    c = run.config
    steps = [words for key, words in describe_changes(c) if key in ("tta", "keep_largest", "fill_holes")]
    preset = f"{c['preset']} preset, " if c.get("preset") else ""
    return f"run {run.id} ({preset}{c.get('size')} px; {', '.join(steps) if steps else 'threshold only'})"
