"""Errors, restoring a project and the window's settings, drag and drop, help, start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from carseg_gui.core.imageio import atomic_write_json
from carseg_gui.qt.controller import Controller
from carseg_gui.qt.errors import LOG_NAME
from carseg_gui.qt.help import HelpDialog
from carseg_gui.qt.main_window import MainWindow
from tests.qt.qt_helpers import open_dataset, wait_job


def fake_run(project: Path, run_id: str, size: int, model: bytes) -> Path:
    folder = project / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"size": size, "device": "CPU"}))
    (folder / "status.json").write_text(json.dumps({"status": "finished"}))
    (folder / "metrics.json").write_text(json.dumps({"best_epoch": 1, "val_dice": 0.5}))
    (folder / "model.keras").write_bytes(model)
    return folder


def test_a_folder_without_a_dataset_is_a_message_not_a_crash(qtbot, window, tmp_path: Path, sample: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "holiday-photos"
    empty.mkdir()
    assert open_dataset(qtbot, window, empty) == "failed"
    box = window.last_error
    assert box is not None and box.isVisible()
    assert "no dataset found" in box.text() and "train/" in box.text()
    assert box.icon() == QMessageBox.Icon.Critical
    assert not (empty / ".carseg").exists(), "nothing may be written into a folder that is not a dataset"
    box.close()
    assert open_dataset(qtbot, window, sample) == "succeeded"  # still usable


def test_reopening_restores_the_project_and_a_broken_model_is_reported(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    """Active run and viewer page come back from state.json; a model that will not load is an error box,
    with the trace in <project>/logs/carseg-gui.log, and the app goes on."""
    project = sample / ".carseg"
    project.mkdir()
    fake_run(project, "20250101-000000", 32, b"not a keras file")
    atomic_write_json(project / "state.json", {"active_run": "20250101-000000", "viewer": {"set": "train", "page": 1}})
    window.viewer_panel.page_size = 8
    window.tabs.setCurrentWidget(window.viewer_panel)
    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert window.state.active() is not None
    assert window.training_panel.runs.tree.topLevelItem(0).text(0) == "●"
    assert window.viewer_panel.empty_button.isVisible()  # no cache at the active run's size (32) yet
    assert wait_job(qtbot, window, "preprocess", window.viewer_panel.empty_button.click) == "succeeded"
    viewer = window.viewer_panel
    assert viewer.page == 1 and viewer.page_spin.value() == 2
    qtbot.waitUntil(lambda: window.last_error is not None and window.last_error.isVisible(), timeout=60_000)
    assert window.last_error.windowTitle() == "Cannot predict this page"
    assert "cannot be loaded" in window.last_error.text()
    assert "prediction failed" in viewer.model.rows[0].note
    log = (project / "logs" / LOG_NAME).read_text()
    assert "Cannot predict this page" in log and "Traceback" in log
    window.last_error.close()
    viewer.next_page()  # the app stays usable; the same broken run is not reported twice
    qtbot.waitUntil(lambda: viewer.model.rows and viewer.model.rows[0].image is not None)
    assert not window.last_error.isVisible()


def test_a_failed_training_is_a_readable_message_with_details(qtbot, window, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise MemoryError()

    monkeypatch.setattr("carseg_gui.core.training.train", broken)
    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert wait_job(qtbot, window, "train", window.training_panel.train_button.click) == "failed"
    box = window.last_error
    assert box.windowTitle() == "Training failed" and "out of memory" in box.text()
    assert "MemoryError" in box.detailedText() and "Traceback" in box.detailedText()
    assert "Training failed" in window.training_panel.outcome.text()
    assert "Training failed" in window.status.text()
    assert window.training_panel.train_button.isEnabled()  # usable again
    box.close()


def test_settings_and_recent_folders_persist(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    assert open_dataset(qtbot, window, sample) == "succeeded"
    window.splitter.setSizes([window.splitter.sizes()[0] + 60, 900])
    left = window.splitter.sizes()[0]
    window.tabs.setCurrentIndex(2)
    window.close()
    settings = QSettings()
    assert settings.value("geometry")
    # The offscreen screen is 800 px wide: restoreGeometry would squeeze the window to its minimum,
    # where no splitter position survives. Splitters are checked at the default window size.
    settings.remove("geometry")
    again = MainWindow(Controller())
    qtbot.addWidget(again)
    again.show()
    assert again.recent()[0].dataset == str(sample.resolve()) and again.recent()[0].project is None
    assert again.tabs.currentIndex() == 2
    assert open_dataset(qtbot, again, sample) == "succeeded"  # the splitters show once a dataset is open
    qtbot.waitUntil(lambda: abs(again.splitter.sizes()[0] - left) <= 10)
    again.close()


def test_drop_a_folder_opens_it_and_f1_shows_help(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample))])
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    wait_job(qtbot, window, "open", lambda: window.dropEvent(drop), 30_000)
    assert window.windowTitle() == "cars — carseg-gui"
    qtbot.keyClick(window, Qt.Key.Key_F1)
    help_box = window.findChild(HelpDialog, "helpBox")
    assert help_box is not None and help_box.isVisible() and "PageUp" in help_box.text.toPlainText()
    help_box.close()


def test_disabled_buttons_say_why(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training_panel
    assert not panel.train_button.isEnabled()
    assert "open a dataset first" in panel.train_button.toolTip()
    panel.spins["size"].setValue(40)
    assert "multiple of 16" in panel.problem.text()
    assert not window.export_action.isEnabled() and "Not now" in window.export_action.toolTip()


def test_startup_does_not_import_tensorflow() -> None:
    code = (
        "import os, sys, time; os.environ['QT_QPA_PLATFORM'] = 'offscreen'; t = time.perf_counter();"
        "from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "from carseg_gui.qt.app import app_icon; from carseg_gui.qt.main_window import MainWindow;"
        "w = MainWindow(); w.show(); app.processEvents();"
        "print(round(time.perf_counter() - t, 2), 'tensorflow' in sys.modules, app_icon().isNull())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    seconds, tf_loaded, no_icon = out.stdout.split()
    print(f"\nwindow up in {seconds} s")
    assert tf_loaded == "False"
    assert no_icon == "False", "the icon in resources/ was not found"
    assert float(seconds) < 5


def test_the_built_in_sample_is_generated_once_and_opened(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "sample"
    assert wait_job(qtbot, window, "sample", lambda: window.controller.open_sample(folder, 20), 60_000) == "succeeded"
    assert window.windowTitle() == "sample — carseg-gui"
    assert window.dataset_panel.labelled.text().startswith("20 ")
    stamp = (folder / "train").stat().st_mtime_ns, sorted(p.stat().st_mtime_ns for p in (folder / "train").iterdir())
    assert wait_job(qtbot, window, "sample", lambda: window.controller.open_sample(folder, 20), 60_000) == "succeeded"
    again = (folder / "train").stat().st_mtime_ns, sorted(p.stat().st_mtime_ns for p in (folder / "train").iterdir())
    assert again == stamp, "opening the sample again rewrote it"


def test_a_file_open_event_from_the_desktop_opens_the_folder(qtbot, window, qapp, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    qapp.fileOpened.connect(window.open_path)  # as carseg_gui.qt.app.main connects it
    try:
        with qtbot.waitSignal(window.controller.jobEnded, timeout=30_000):
            QApplication.sendEvent(qapp, QFileOpenEvent(str(sample)))
        assert window.state.root == sample
        opened: list[Path] = []
        monkeypatch.setattr(window.controller, "open_dataset", lambda folder, *a: opened.append(folder))
        image = next((sample / "train").glob("*.jpg"))
        QApplication.sendEvent(qapp, QFileOpenEvent(str(image)))
        assert opened == [sample / "train"]  # a file stands for the folder it is in
    finally:
        qapp.fileOpened.disconnect(window.open_path)


def test_a_jobs_notes_are_said_again_at_its_end(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    """A note (here: a damaged cache rebuilt) is not lost under the progress lines after it: the job's
    last status line carries it, and the notes signal hands it to whoever shows it."""
    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess(32)) == "succeeded"
    index = window.state.project / "cache" / "s32" / "index.json"
    assert index.exists()
    index.write_text("{ not json")
    with qtbot.waitSignal(window.controller.notes, timeout=60_000) as notes:
        assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess(32)) == "succeeded"
    name, texts = notes.args
    assert name == "preprocess" and len(texts) == 1 and "index.json" in texts[0] and "rebuilding the cache" in texts[0]
    line = window.status.text()
    assert line.startswith("Preprocessed: ") and line.endswith(f"· Note: {texts[0]}"), line


def test_a_project_held_by_another_process_says_who_and_that_nothing_started(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    assert open_dataset(qtbot, window, sample) == "succeeded"
    holder = subprocess.Popen(  # another carseg "training" on the same project
        [sys.executable, "-c", "import sys\nfrom carseg_gui.core.locking import project_lock\n"
         f"with project_lock({str(window.state.project)!r}, 'train', 'run 20990101-000000'):\n"
         "    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with qtbot.waitSignal(window.controller.error, timeout=30_000) as error:
            assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess(32)) == "failed"
        title, message, _details = error.args
        assert title == "Preprocessing did not start"
        assert message.startswith("project busy: training run 20990101-000000 (pid ")
        assert f"(pid {holder.pid})" in message
    finally:
        holder.communicate("", timeout=30)
    # once the other process is done, the same action works
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess(32)) == "succeeded"


def test_a_broken_run_is_listed_with_the_file_that_does_not_read(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    assert open_dataset(qtbot, window, sample) == "succeeded"
    folder = fake_run(window.state.project, "20000101-000000", 32, b"not a model")
    (folder / "status.json").write_text("{ damaged")
    window.state.reload_runs()
    window.training_panel.runs.refresh()
    tree = window.training_panel.runs.tree
    item = next(
        tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(1) == folder.name
    )
    assert item.text(3) == "broken"
    tip = item.toolTip(0)
    assert tip.startswith(f"Run {folder.name} cannot be used: ") and "status.json" in tip
