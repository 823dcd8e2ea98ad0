"""Error reporting: a clear one-line message box with expandable details, the trace in a log file.

Logs go to ``<project>/logs/carseg-gui.log`` once a dataset is open, and to the user's data
folder before that.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("carseg_gui")
LOG_NAME = "carseg-gui.log"
_handler: logging.FileHandler | None = None


def log_to(folder: Path) -> Path | None:
    """Send the app's log to ``folder/carseg-gui.log`` (replacing the previous file handler)."""
    global _handler
    path = Path(folder) / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        log.warning("cannot write the log file %s", path)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s: %(message)s"))
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    _handler = handler
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


def log_path() -> Path | None:
    return Path(_handler.baseFilename) if _handler else None


def close_log() -> None:
    global _handler
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
        _handler = None


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> QMessageBox:
    """A window-modal box that does not block the caller (tests and running jobs go on)."""
    log.error("%s: %s\n%s", title, message, details.rstrip())
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(message)
    where = log_path()
    if where:
        box.setInformativeText(f"The app is still usable. Details were written to {where}")
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setObjectName("errorBox")
    box.open()
    return box


def install_excepthook(parent_getter: object) -> None:
    """Exceptions escaping a slot become an error box and a log entry instead of a silent stderr line."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, exc, tb))
        sys.__stderr__.write(details) if sys.__stderr__ else None
        parent = parent_getter() if callable(parent_getter) else None
        show_error(parent, "Unexpected error", f"{kind.__name__}: {exc}", details)

    sys.excepthook = hook
