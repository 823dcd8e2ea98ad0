"""What the screenshot scripts share: wait for the window's threads without a test framework."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def wait(app: QApplication, done: Callable[[], bool], what: str, seconds: float = 180.0) -> None:
    """Run the event loop until ``done()``; a script that waits longer than ``seconds`` stops and says why."""
    end = time.monotonic() + seconds
    while not done():
        if time.monotonic() > end:
            raise SystemExit(f"no screenshot: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)
