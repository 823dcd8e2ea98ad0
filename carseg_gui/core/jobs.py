"""The one contract every long task follows: ``fn(..., progress, cancel)``.

Progress starts at 0 and ends at ``total``; cancellation is cooperative and raises
:class:`Cancelled` at the next check. The CLI turns progress into a terminal bar, the GUI
into signals; neither needs to know what the task does.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Cancelled(Exception):
    """Raised inside a task when its CancelToken was cancelled."""


class InputError(Exception):
    """Bad input the user can fix: the message names the file and the problem (CLI exit 2)."""


class DiskFull(InputError):
    """No space left where the app writes; partial files were removed. The message says how much is free."""


_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_error_words(exc: OSError, where: Path | str | None = None) -> InputError | None:
    """The user's words for an OSError the user can fix (disk full, permission denied, read-only file
    system), naming the file; None for the others, which are bugs or hardware and stay unexpected."""
    path = exc.filename or where or ""
    if exc.errno in _FULL:
        return DiskFull(f"disk full: {free_mb(path)} MB free on {_mount(path)} (writing {path}); free some space"
                        " and try again")  # fmt: skip
    if exc.errno in _DENIED:
        what = "read-only file system" if exc.errno == errno.EROFS else "permission denied"
        return InputError(f"{what}: {path}; choose a folder you can write (--out, --project)")
    return None


def free_mb(path: Path | str) -> int:
    folder = Path(path) if path else Path.cwd()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return int(shutil.disk_usage(folder).free // 2**20)
    except OSError:
        return 0


def _mount(path: Path | str) -> str:
    folder = Path(path).absolute() if path else Path.cwd()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    while not os.path.ismount(folder) and folder != folder.parent:
        folder = folder.parent
    return str(folder)


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressFn = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """Default progress sink for callers that do not care."""


class CancelToken:
    """Thread-safe flag; a task calls :meth:`check` between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()
