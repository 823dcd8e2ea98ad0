"""The one contract every long task follows: ``fn(..., progress, cancel)``.

Progress starts at 0 and ends at ``total``; cancellation is cooperative and raises
:class:`Cancelled` at the next check. The CLI turns progress into a terminal bar, the GUI
into signals; neither needs to know what the task does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Cancelled(Exception):
    """Raised inside a task when its CancelToken was cancelled."""


class InputError(Exception):
    """Bad input the user can fix: the message names the file and the problem (CLI exit 2)."""


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
