"""The main window: assembles the panels, menus, shortcuts and status bar; no business logic."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from .. import __version__
from ..core.postprocess import PostProcess
from ..session.recent import Recent, decode, remember
from .controller import Controller
from .errors import show_error
from .help import HelpDialog
from .panels.dataset_panel import DatasetPanel
from .panels.export_panel import ExportPanel
from .panels.training_panel import TrainingPanel
from .panels.viewer_panel import ViewerPanel
from .state import JOB_LABELS
from .welcome import WelcomePage

log = logging.getLogger("carseg_gui")


class MainWindow(QMainWindow):
    imageOpened = Signal(object)  # the dialog (or editor) that open_image showed

    def __init__(self, controller: Controller | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.controller = controller or Controller(parent=self)
        self.state = self.controller.state
        self.settings = QSettings()
        self._close_when_idle = False
        self._shown = False
        self._dialogs: list[QWidget] = []
        self._editor: Any = None  # the one mask editor window, reused for the next image opened
        self._editor_rows: list[int] = []
        self.last_error: QMessageBox | None = None

        self.recent_menu = QMenu("Open &recent", self)
        self.dataset_panel = DatasetPanel(self.controller, self.recent_menu)
        self.dataset_panel.openRequested.connect(self.choose_folder)
        self.training_panel = TrainingPanel(self.controller)
        self.viewer_panel = ViewerPanel(self.controller)
        self.viewer_panel.openImage.connect(self.open_image)
        self.viewer_panel.decisionsChanged.connect(self.dataset_panel.show_counts)  # "N labelled (M by you)"
        self.export_panel = ExportPanel(self.controller, lambda title, question: self.ask(title, question))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(self.training_panel, "Training")
        self.tabs.addTab(self.viewer_panel, "Viewer")
        self.tabs.addTab(self.export_panel, "Export")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.dataset_panel)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 950])
        self.welcome = WelcomePage(self.state, self.recent)
        self.welcome.sampleRequested.connect(self.open_sample)
        self.welcome.folderRequested.connect(self.choose_folder)
        self.welcome.recentRequested.connect(self.open_recent)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.addWidget(self.welcome)  # until the first dataset is open
        self.pages.addWidget(self.splitter)
        self.setCentralWidget(self.pages)
        self._splitters_restored = False

        self.status = QLabel("Open a dataset to start (File ▸ Open folder…, or drop a folder here)")
        self.status.setObjectName("statusLine")
        self.statusBar().addWidget(self.status, 1)
        self._build_menus()
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self.setMinimumSize(900, 600)
        self._update_title()

        c = self.controller
        c.status.connect(self.status.setText)
        c.error.connect(self.show_error)
        c.opened.connect(self._opened)
        c.jobEnded.connect(self._job_ended)
        self.state.projectChanged.connect(self._update_title)
        self.state.projectChanged.connect(self.close_editor)  # the editor belongs to the project it opened in
        self._restore_settings()

    # ----- menus and shortcuts
    def _action(self, menu: QMenu, text: str, slot: Any, keys: Any = None, bind: str | None = None,
                tip: str = "") -> QAction:  # fmt: skip
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work whichever widget has the focus
        if bind:
            self.state.bind(action, bind, tip or text.replace("&", "").rstrip("…"))
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = self._action(
            file, "&Open folder…", self.choose_folder, QKeySequence.StandardKey.Open, "open"
        )
        file.addMenu(self.recent_menu)
        sample_tip = "Generate (the first time) and open 64 synthetic car photos with masks, to try the app"
        self._action(file, "Open the built-in &sample", self.open_sample, None, "sample", sample_tip)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file.addSeparator()
        self.export_action = self._action(file, "&Export masks…", self.export, "Ctrl+E", "export")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        jobs = bar.addMenu("&Jobs")
        self._action(jobs, "&Preprocess", lambda: self.controller.preprocess(), None, "preprocess")
        self._action(jobs, "&Train", lambda: self.controller.train(self.training_panel.config()), None, "train")
        self.cancel_action = self._action(jobs, "&Cancel the running job", self.controller.cancel, "Esc", "cancel")
        view = bar.addMenu("&View")
        v = self.viewer_panel
        self._action(
            view, "&Previous page", self._on_viewer(v.previous_page), QKeySequence.StandardKey.MoveToPreviousPage
        )
        self._action(view, "&Next page", self._on_viewer(v.next_page), QKeySequence.StandardKey.MoveToNextPage)
        self._action(view, "&First page", self._on_viewer(lambda: v.show_page(0)), "Ctrl+Home")
        self._action(view, "&Last page", self._on_viewer(lambda: v.show_page(v.page_count() - 1)), "Ctrl+End")
        self._action(view, "&Random page", self._on_viewer(v.random_page), "Ctrl+R")
        view.addSeparator()
        for i, name in enumerate(("&Training", "&Viewer", "E&xport")):
            self._action(view, name, lambda _=False, i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Help", self.show_help, QKeySequence.StandardKey.HelpContents)
        self._action(help_menu, "&About carseg-gui", self.show_about)

    def _on_viewer(self, slot: Any) -> Any:
        def run(*_: Any) -> None:
            self.tabs.setCurrentWidget(self.viewer_panel)
            slot()

        return run

    # ----- opening datasets
    def choose_folder(self) -> None:
        last = self.recent()[:1]
        start = str(self.state.root.parent) if self.state.root else last[0].dataset if last else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder", start)
        if folder:
            self.controller.open_dataset(folder)

    def open_sample(self) -> None:
        from .paths import SAMPLE_COUNT, user_data_folder

        self.controller.open_sample(user_data_folder() / "sample", SAMPLE_COUNT)

    def recent(self) -> list[Recent]:
        """Recently opened (dataset, project) pairs, the last one first."""
        return decode(self.settings.value("recent", []))

    def open_recent(self, entry: Recent) -> bool:
        """Open a recent pair; a project folder that is gone is not silently replaced by an empty one."""
        if entry.project and not Path(entry.project).is_dir() and Path(entry.dataset).is_dir():
            question = (
                f"The project folder {entry.project} of {Path(entry.dataset).name} no longer exists (its runs, "
                "corrections and decisions were there). Open the dataset with a new, empty project folder there?"
            )
            if not self.ask("Project folder missing", question):
                self.status.setText(f"Not opened: the project folder {entry.project} no longer exists")
                return False
        return self.controller.open_dataset(entry.dataset, entry.project)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for entry in self.recent():
            action = self.recent_menu.addAction(entry.label())
            action.triggered.connect(lambda _=False, e=entry: self.open_recent(e))
            action.setEnabled(self.state.why_not("open") is None)
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _opened(self, snapshot: Any) -> None:
        entries = remember(self.recent(), Recent.of(snapshot.root, snapshot.project))
        self.settings.setValue("recent", [e.encode() for e in entries])
        self._fill_recent()
        self.welcome.fill_recent()
        if self.pages.currentWidget() is self.welcome:
            self.pages.setCurrentWidget(self.splitter)
            if self._shown:
                QTimer.singleShot(0, self._restore_splitters)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.open_path(event.mimeData().urls()[0].toLocalFile()):
            event.acceptProposedAction()

    def open_path(self, path: str) -> bool:
        """A folder dropped on the window or handed over by the desktop ("Open with", macOS Finder);
        a file stands for the folder it is in."""
        folder = Path(path)
        folder = folder if folder.is_dir() else folder.parent
        reason = self.state.why_not("open")
        if reason:
            self.status.setText(f"Cannot open {folder} now: {reason}")
            return False
        self.controller.open_dataset(folder)
        return True

    # ----- the one place an image opens large: the mask editor, for any image (a draft when it has no mask)
    def open_image(self, row: int) -> QWidget | None:
        cache = self.state.view_cache()
        if cache is None or not 0 <= row < len(cache.rows) or self.state.project is None:
            return None
        return self._open_editor(row)

    def _open_editor(self, row: int) -> QWidget:
        from .editor import MaskEditor
        from .editor_items import editor_items

        cache = self.state.view_cache()
        assert cache is not None and self.state.project is not None
        rows = self.viewer_panel.rows() or [row]  # the editor steps through the viewer's list
        rows = rows if row in rows else [row]
        run = self.state.active()
        post = PostProcess.from_config(run.config) if run else None
        store, stamp = self.viewer_panel.store, self.viewer_panel._stamp(run)
        items = editor_items(cache, rows, self.state.dataset, store, stamp, post, run)
        if self._editor is not None and Path(self._editor.project) != Path(self.state.project):
            self.close_editor()  # another project's editor: its saver writes into that project's files
        if self._editor is not None:
            # set_items emits currentChanged at once: the viewer must look the index up in the new list
            self._editor_rows = rows
            self._editor.set_items(items, rows.index(row))
            self._editor.raise_()
            self._editor.activateWindow()
            return self._editor
        editor = MaskEditor(self.state.project, items, rows.index(row))
        editor.setWindowTitle(f"Correct masks — {self.state.root.name if self.state.root else ''}")
        editor.resize(1280, 800)
        self._editor, self._editor_rows = editor, rows
        editor.currentChanged.connect(lambda i, _key, e=editor: self._editor_moved(e, i))
        editor.statusChanged.connect(self.viewer_panel.refresh_statuses)
        editor.correctionSaved.connect(self.viewer_panel.show_corrected_mask)
        editor.problemFound.connect(lambda key, message: self.show_error("Mask editor", f"{key}: {message}", ""))
        editor.closed.connect(lambda e=editor: self._editor_gone(e))
        editor.destroyed.connect(lambda *_, e=editor: self._editor_gone(e))
        return self._show_window(editor)

    def _editor_moved(self, editor: Any, index: int) -> None:
        if editor is self._editor and 0 <= index < len(self._editor_rows):
            self.viewer_panel.reveal_row(self._editor_rows[index])

    def _editor_gone(self, editor: Any) -> None:
        if editor is self._editor:
            self._editor, self._editor_rows = None, []

    def close_editor(self) -> None:
        """Close the mask editor (its changes are written first); the next image opened gets a new one."""
        editor, self._editor, self._editor_rows = self._editor, None, []
        if editor is not None:
            editor.close()  # its closeEvent writes every change and stops its saver thread

    def _show_window(self, widget: QWidget) -> QWidget:
        widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        widget.destroyed.connect(lambda *_: self._dialogs.remove(widget) if widget in self._dialogs else None)
        self._dialogs.append(widget)
        widget.show()
        self.imageOpened.emit(widget)
        return widget

    def export(self) -> None:
        self.tabs.setCurrentWidget(self.export_panel)
        self.export_panel.start()

    # ----- messages
    def show_error(self, title: str, message: str, details: str = "") -> None:
        self.last_error = show_error(self, title, message, details)

    def ask(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(self, title, question)
        return answer == QMessageBox.StandardButton.Yes

    def show_help(self) -> None:
        HelpDialog(self).open()

    def about_text(self) -> str:
        import importlib.metadata

        import PySide6
        from PySide6.QtCore import qVersion

        try:  # the installed version, without importing TensorFlow (seconds)
            tf = importlib.metadata.version("tensorflow")
        except importlib.metadata.PackageNotFoundError:
            tf = "not installed"
        device = self.training_panel.device or "not known yet (shown once a training starts)"
        return (
            f"<h3>carseg-gui {__version__}</h3>"
            "<p>Segment cars in photos: preprocess, train a U-Net, review, correct and export masks.</p>"
            f"<p>Qt {qVersion()} (PySide6 {PySide6.__version__})<br>TensorFlow {tf}<br>"
            f"Compute device: {device}</p>"
        )

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About carseg-gui", self.about_text(),
                          QMessageBox.StandardButton.Close, self)  # fmt: skip
        box.setObjectName("aboutBox")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.open()

    def _update_title(self) -> None:
        root = self.state.root
        self.setWindowTitle(f"{root.name} — carseg-gui" if root else "carseg-gui")

    # ----- settings and closing
    def _restore_settings(self) -> None:
        s = self.settings
        if s.value("geometry"):
            self.restoreGeometry(s.value("geometry"))
        self.tabs.setCurrentIndex(int(s.value("tab", 0) or 0))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown:
            # Splitters are restored once the window has its size: restored earlier, QSplitter
            # rescales the saved sizes to the not-yet-laid-out widget.
            # The splitters are restored when they are first shown (the welcome page hides them).
            self._shown = True
            if self.pages.currentWidget() is self.splitter:
                QTimer.singleShot(0, self._restore_splitters)

    def _restore_splitters(self) -> None:
        if self._splitters_restored:
            return
        self._splitters_restored = True
        for key, splitter in (("splitter", self.splitter), ("trainingSplitter", self.training_panel.splitter)):
            if self.settings.value(key):
                splitter.restoreState(self.settings.value(key))

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        if self.pages.currentWidget() is self.splitter:  # closed on the welcome page: keep the saved ones
            s.setValue("splitter", self.splitter.saveState())
            s.setValue("trainingSplitter", self.training_panel.splitter.saveState())
        s.setValue("tab", self.tabs.currentIndex())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        runner = self.controller.runner
        if runner.busy:
            event.ignore()
            if self._close_when_idle:
                return  # already cancelling; the window closes when the job has stopped
            label = JOB_LABELS.get(runner.name, runner.name)
            if not self.ask("Quit carseg-gui?", f"{label} is running. Cancel it and quit?"):
                return
            self._close_when_idle = True
            self.status.setText(f"Cancelling {label.lower()} before quitting…")
            self.controller.cancel()
            return
        self.save_settings()
        self.viewer_panel.stop()
        for dialog in list(self._dialogs):
            dialog.close()
        event.accept()

    def _job_ended(self, name: str, outcome: str) -> None:
        if self._close_when_idle:
            self.close()
