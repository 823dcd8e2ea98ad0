"""Qt tests run offscreen, with throw-away settings, and fail when a test leaves a QThread running."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gc
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QSettings, QStandardPaths, Qt, QThread, QTimer

from carseg_gui.core.sample import generate_sample
from carseg_gui.qt import workers

SAMPLE = {"count": 20, "width": 160, "height": 112}


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["carseg-gui-tests"]


@pytest.fixture(scope="session")
def qapp_cls() -> type:
    from carseg_gui.qt.application import Application

    return Application  # the app's own QApplication subclass, as carseg-gui runs it


@pytest.fixture(autouse=True)
def temp_settings(qapp: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """QSettings and QStandardPaths of a test never touch the user's own."""
    folder = tmp_path_factory.mktemp("settings")
    QCoreApplication.setOrganizationName("carseg-tests")
    QCoreApplication.setApplicationName("carseg-gui-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QStandardPaths.setTestModeEnabled(True)
    yield folder


@pytest.fixture(autouse=True)
def no_thread_left(qapp: object) -> Iterator[None]:
    """Fail a test that leaves a QThread running (and stop it, so the next test starts clean)."""
    started: list[QThread] = []
    original = QThread.start

    def tracking_start(self: QThread, *args: object) -> None:
        started.append(self)
        original(self, *args)

    QThread.start = tracking_start  # type: ignore[method-assign]
    try:
        yield
    finally:
        QThread.start = original  # type: ignore[method-assign]
    threads = {id(t): t for t in [*started, *workers.THREADS]}.values()
    running = [t for t in threads if shiboken6.isValid(t) and t.isRunning()]
    for t in running:
        t.quit()
        t.wait(60000)
    if running:
        pytest.fail(f"test left {len(running)} QThread(s) running: {[t.objectName() for t in running]}")


@pytest.fixture(scope="session")
def sample_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "cars"
    generate_sample(out, **SAMPLE)
    return out


@pytest.fixture
def sample(sample_source: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny sample (20 labelled + 2 test images), so each test has its own project."""
    dest = tmp_path / "cars"
    shutil.copytree(sample_source, dest)
    return dest


@pytest.fixture
def window(qtbot: object, qapp: object) -> Iterator[object]:
    from carseg_gui.qt.controller import Controller
    from carseg_gui.qt.main_window import MainWindow

    win = MainWindow(Controller())
    win.ask = lambda *_: True  # type: ignore[method-assign]
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.controller.shutdown()
    win.close()
    win.viewer_panel.stop()


class GapRecorder(QObject):
    """A 10 ms timer on the GUI thread; the largest interval between its ticks is how long the
    event loop was blocked (plus the 10 ms)."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.last = 0.0

    def start(self) -> None:
        # Earlier tests in this process leave Keras models and TensorFlow graphs behind; a full
        # garbage collection over them stalls whichever thread triggers it (300-800 ms seen).
        # The app, a fresh process, does not carry them: park them where the collector skips them.
        gc.collect()
        gc.freeze()
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        gc.unfreeze()
        return max(self.gaps)


@pytest.fixture
def gaps() -> Iterator[GapRecorder]:
    recorder = GapRecorder()
    yield recorder
    recorder.timer.stop()
