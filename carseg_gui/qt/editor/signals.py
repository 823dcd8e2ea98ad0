"""Emitting Python-defined signals without PySide6 6.12.0's reference-count bug.

In PySide6 6.12.0, ``SignalInstance.emit()`` and ``.disconnect()`` return ``True`` without taking a
reference to it: every call made from Python lowers True's reference count by one, and after a few
hundred brush segments CPython aborts ("Fatal Python error: bool_dealloc", often at exit). The leak
is measured once at import; where present, each call made through this module gives the reference
back. A PySide6 without the bug measures 0 and pays nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def _noop() -> None:
    pass


def _lost_per_call(call: Callable[[], Any]) -> int:
    calls = 16
    before = sys.getrefcount(True)
    for _ in range(calls):
        call()
    lost = before - sys.getrefcount(True)
    # Anything but an exact multiple means the measurement was disturbed: then do nothing.
    return lost // calls if lost > 0 and lost % calls == 0 else 0


def _connect_disconnect() -> Any:
    _PROBE.ping.connect(_noop)
    return _PROBE.ping.disconnect(_noop)


_PROBE = _Probe()
_EMIT_LOSS = _lost_per_call(_PROBE.ping.emit)
_DISCONNECT_LOSS = _lost_per_call(_connect_disconnect)


def emit(signal: SignalInstance, *args: Any) -> None:
    signal.emit(*args)
    for _ in range(_EMIT_LOSS):
        _incref(True)


def disconnect(signal: SignalInstance, slot: Callable[..., Any]) -> None:
    signal.disconnect(slot)
    for _ in range(_DISCONNECT_LOSS):
        _incref(True)


def losses() -> tuple[int, int]:
    """(per emit, per disconnect): what this PySide6 loses; for tests and bug reports."""
    return _EMIT_LOSS, _DISCONNECT_LOSS
