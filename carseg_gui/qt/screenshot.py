"""``--screenshot FILE``: render the main window once the dataset is open and its first page shown.

It is how the README's screenshots are made and how tests look at the window. A dataset with no
cache is preprocessed first, so the viewer has a page to show.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow

TIMEOUT_MS = 10 * 60 * 1000


class Screenshot(QObject):
    def __init__(self, window: MainWindow, path: Path, expect_data: bool) -> None:
        super().__init__(window)
        self.window, self.path = window, Path(path)
        self.done = False
        c = window.controller
        c.jobEnded.connect(self._job_ended)
        window.viewer_panel.pageShown.connect(self._page_shown)
        QTimer.singleShot(TIMEOUT_MS, lambda: self._fail("timed out waiting for the dataset"))
        if not expect_data:
            QTimer.singleShot(300, self._grab)

    def _job_ended(self, name: str, outcome: str) -> None:
        if outcome != "succeeded":
            self._fail(f"{name} {outcome}")
            return
        st = self.window.state
        if name in ("open", "sample") and st.view_cache() is None:
            self.window.controller.preprocess(st.view_size())

    def _page_shown(self, _page: int, _seconds: float) -> None:
        QTimer.singleShot(150, self._grab)  # let pending paints (plots, labels) settle

    def _grab(self) -> None:
        if self.done:
            return
        self.done = True
        self.window.resize(1280, 800)
        QApplication.processEvents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(self.path)):
            print(f"carseg-gui: cannot write {self.path}", file=sys.stderr)
            self._quit(1)
            return
        print(f"screenshot: {self.path}")
        self._quit(0)

    def _fail(self, why: str) -> None:
        if self.done:
            return
        self.done = True
        print(f"carseg-gui: no screenshot: {why}", file=sys.stderr)
        self._quit(1)

    def _quit(self, code: int) -> None:
        self.window.controller.shutdown()
        self.window.viewer_panel.stop()
        QApplication.instance().exit(code)  # type: ignore[union-attr]
