"""Dataset panel: the open folder, what was found in it, its problems, and preprocessing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.dataset import Dataset
from ...core.jobs import Progress
from ...core.project import default_project
from ...session.annotate import counts
from ...session.labels import dataset_counts
from ..controller import Controller
from ..progress import Rate, duration

LAYOUT_NAMES = {"carvana": "Carvana", "generic": "images + masks"}


def layout_text(ds: Dataset) -> str:
    """The layout and the folders this dataset really has: "Carvana (train/, train_masks/)" when it
    has no test/ folder, "Carvana (train_images/, train_masks/, test_images/)" for the other naming."""
    folders: list[str] = []
    labelled = [r for r in ds.records if r.labelled]
    for r in labelled[:1]:
        folders.append(Path(r.key).parts[0] + "/")
        if r.mask is not None:
            folders.append(r.mask.parent.name + "/")
    for r in ds.records:
        top = Path(r.key).parts[0] + "/" if len(Path(r.key).parts) > 1 else ""
        if top and top not in folders:
            folders.append(top)
    name = LAYOUT_NAMES.get(ds.layout, ds.layout)
    return f"{name} ({', '.join(folders)})" if folders else name


class DatasetPanel(QWidget):
    openRequested = Signal()

    def __init__(self, controller: Controller, recent_menu: QMenu, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.state = controller.state
        self.rate = Rate()
        self.setObjectName("datasetPanel")

        self.open_button = QPushButton("Open folder…")
        self.open_button.clicked.connect(self.openRequested)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_button.setMenu(recent_menu)
        top = QHBoxLayout()
        top.addWidget(self.open_button, 1)
        top.addWidget(self.recent_button)

        self.name = QLabel("No dataset open")
        font = QFont(self.name.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name.setFont(font)
        self.path = QLabel("Open a folder with train/ + train_masks/ (Carvana) or images/ + masks/, "
                           "or drop it on this window.")  # fmt: skip
        self.path.setWordWrap(True)
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout_label, self.labelled, self.unlabelled = QLabel("–"), QLabel("–"), QLabel("–")
        self.problem_count, self.cache_label = QLabel("–"), QLabel("–")
        self._built_by_job: tuple[int, int] | None = None  # (size, images) of a cache a running job built
        self._drawn = False  # the running job showed its progress in the bar below
        for label in (self.layout_label, self.cache_label):  # wrap: long folder names never widen the panel
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        facts.addRow("Layout:", self.layout_label)
        facts.addRow("Labelled:", self.labelled)
        facts.addRow("Unlabelled:", self.unlabelled)
        facts.addRow("Problems:", self.problem_count)
        facts.addRow("Cache:", self.cache_label)
        # The project folder (cache, runs, corrections) only when it is not the default <dataset>/.carseg.
        self.project_label = QLabel()
        self.project_label.setObjectName("projectFolder")
        self.project_label.setWordWrap(True)
        self.project_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.project_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        facts.addRow("Project:", self.project_label)
        self.facts = facts
        facts.setRowVisible(self.project_label, False)

        self.problems = QTreeWidget()
        self.problems.setObjectName("problems")
        self.problems.setHeaderLabels(["File", "Reason"])
        self.problems.setRootIsDecorated(False)
        self.problems.setAlternatingRowColors(True)
        self.problems.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.problems.header().resizeSection(0, 150)
        problems_box = QGroupBox("Problems found")
        QVBoxLayout(problems_box).addWidget(self.problems)

        self.preprocess_button = QPushButton("Preprocess")
        self.preprocess_button.clicked.connect(lambda: controller.preprocess())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(controller.cancel)
        self.bar = QProgressBar()
        self.bar.setObjectName("preprocessBar")
        self.bar.setFormat("")  # no numbers before a job has any
        self.bar.setValue(0)
        self.rate_label = QLabel(" ")
        buttons = QHBoxLayout()
        buttons.addWidget(self.preprocess_button, 1)
        buttons.addWidget(self.cancel_button)
        prep_box = QGroupBox("Preprocessing")
        prep = QVBoxLayout(prep_box)
        self.size_note = QLabel()
        self.size_note.setWordWrap(True)
        prep.addWidget(self.size_note)
        prep.addLayout(buttons)
        prep.addWidget(self.bar)
        prep.addWidget(self.rate_label)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.name)
        layout.addWidget(self.path)
        layout.addLayout(facts)
        layout.addWidget(problems_box, 1)
        layout.addWidget(prep_box)

        st = self.state
        st.bind(self.open_button, "open", "Open a dataset folder (Ctrl+O)")
        st.bind(self.recent_button, "open", "Reopen a recent dataset folder")
        st.bind(self.preprocess_button, "preprocess",
                "Decode every image, resize it to the training size and binarise its mask (Otsu) into the "
                "project's cache. Only changed files are decoded again.")  # fmt: skip
        st.bind(self.cancel_button, "cancel:open,sample,preprocess", "Stop preprocessing; the previous cache stays")
        st.projectChanged.connect(self.show_dataset)
        st.cachesChanged.connect(self.show_cache)
        st.cachesChanged.connect(self.show_counts)
        st.activeRunChanged.connect(self.show_counts)  # the viewer's cache is the active run's size
        st.changed.connect(self._update_size_note)
        controller.runner.progress.connect(self._progress)
        controller.runner.started.connect(self._started)
        controller.jobEnded.connect(self._ended)
        self._update_size_note()

    def show_dataset(self) -> None:
        st, ds = self.state, self.state.dataset
        if ds is None or st.root is None:
            return
        self.name.setText(st.root.name)
        self.path.setText(str(st.root))
        self.path.setToolTip(f"Dataset: {st.root}\nProject folder (cache, runs, logs): {st.project}")
        self.layout_label.setText(layout_text(ds))
        elsewhere = st.project is not None and Path(st.project) != default_project(st.root)
        self.project_label.setText(str(st.project) if elsewhere else "")
        self.project_label.setToolTip("The project folder: cache, runs, corrections and logs of this dataset")
        self.facts.setRowVisible(self.project_label, elsewhere)
        # Nothing of the previous dataset's jobs stays on screen.
        self.bar.setFormat("")
        self.bar.setValue(0)
        self.rate_label.setText(" ")
        self.show_cache()
        self.show_counts()

    def show_cache(self) -> None:
        st, ds = self.state, self.state.dataset
        if ds is None:
            return
        cache = st.caches.get(st.size)
        built = self._built_by_job
        if cache is None and built is not None and built[0] == st.size:  # the running job built it just now
            self.cache_label.setText(f"{built[1]} images at {built[0]}×{built[0]} (built)")
        elif cache is None:
            others = ", ".join(f"{s}×{s}" for s in sorted(st.caches))
            extra = f" (exists at {others})" if others else ""
            self.cache_label.setText(f"not built yet at {st.size}×{st.size}{extra}")
        else:
            usable = len(cache.rows)
            self.cache_label.setText(f"{usable} images at {cache.size}×{cache.size} (built)")
        problems = cache.problems if cache is not None else [{"path": p.path, "reason": p.reason} for p in ds.problems]
        self.problem_count.setText(str(len(problems)) if problems else "none")
        self.problems.clear()
        items = []
        for p in problems[:5000]:  # a list this long is already a "look at the folder" message
            item = QTreeWidgetItem([Path(p["path"]).name, p["reason"]])
            item.setToolTip(0, p["path"])
            item.setToolTip(1, p["reason"])
            items.append(item)
        if not items:
            none = QTreeWidgetItem(["No problems found", "every image and mask could be read"])
            none.setDisabled(True)
            items.append(none)
        self.problems.addTopLevelItems(items)

    def show_counts(self) -> None:
        """ "N labelled (M by you)": the dataset's masks and the ones a person corrected or approved (the
        editor saved one, or set a status: the window calls this), from the cache training reads."""
        st, ds = self.state, self.state.dataset
        if ds is None:
            return
        cache = st.view_cache() or st.caches.get(st.size)
        if st.project is None:
            return
        # from the cache training reads; before there is one, the folders and the masks a person made
        c = counts(cache, Path(st.project)) if cache is not None else dataset_counts(ds, Path(st.project))
        by_you = f" ({c.by_you} by you)" if c.by_you else ""
        self.labelled.setText(f"{c.labelled} labelled{by_you}")
        self.labelled.setToolTip("Images training can use: the dataset's own masks and the ones you corrected or "
                                 "approved in the editor (an approved draft counts as a mask)")  # fmt: skip
        self.unlabelled.setText(f"{c.unlabelled} without a mask")
        self.unlabelled.setToolTip("Export writes the active run's prediction for these")

    def _update_size_note(self) -> None:
        s = self.state.size
        self.size_note.setText(f"Images are resized to {s}×{s}, the size set in the Training tab.")
        self.show_cache()

    def _started(self, name: str) -> None:
        if name in ("preprocess", "train", "export", "sample", "open"):
            self.rate.reset()
            self.bar.setFormat("")  # no "0 / N images" unless this job prepares the cache (then _progress says)
            self.bar.setValue(0)
            self.rate_label.setText(" ")
        self._drawn = False

    def _progress(self, name: str, p: Progress) -> None:
        if p.stage not in ("preprocess", "sample"):
            return
        self._drawn = True
        self.bar.setFormat("%v / %m images" if p.stage == "preprocess" else "sample: %v / %m images generated")
        self.bar.setMaximum(max(p.total, 1))
        self.bar.setValue(p.done)
        rate, left = self.rate.update(p.done, p.total)
        rate = p.info.get("rate", rate)
        if p.stage == "preprocess" and p.total and p.done >= p.total:
            self.rate_label.setText(f"Cache up to date: {p.total} images")  # training or export go on
            if name != "preprocess":  # the job built it and goes on: the facts above must not say "not built"
                self._built_by_job = (int(p.info.get("size", self.state.size)), p.total)
                self.show_cache()
        elif p.message and p.done == 0:
            self.rate_label.setText(p.message)
        elif rate:
            self.rate_label.setText(f"{rate:.0f} images/s · {duration(left)} left")

    def _ended(self, name: str, outcome: str) -> None:
        self._built_by_job = None  # the state's caches say it from now on
        if name == "preprocess" and outcome == "cancelled":
            self.rate_label.setText("Cancelled: the previous cache is unchanged")
        elif name == "preprocess" and outcome == "succeeded":
            self.rate_label.setText("Done")
        elif name == "preprocess":
            self.rate_label.setText("Failed: see the message")
        elif self._drawn and outcome != "succeeded":  # a training, export... stopped while preparing the cache
            self.bar.setFormat("")
            self.bar.setValue(0)
            self.rate_label.setText(" ")
        self._drawn = False
