"""Core functions on QThreads: a Worker forwards ``progress``/``cancel`` as signals, a JobRunner
owns the one heavy job allowed at a time.

The worker never touches widgets; everything it says crosses to the GUI thread as a queued signal.
"""

from __future__ import annotations

import logging
import queue
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.jobs import Cancelled, CancelToken, InputError, Progress
from .tf_preload import preload_tensorflow

log = logging.getLogger("carseg_gui")

# Every QThread this module starts, so tests (and shutdown) can check none is left running.
THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def describe_error(exc: BaseException) -> str:
    """One readable line: InputError messages are written for users; others get their type."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory: try a smaller image size or batch size"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"unexpected error: {type(exc).__name__}: {exc}"


class Worker(QObject):
    """Runs ``fn(*args, progress=..., cancel=..., **kwargs)`` once, in the thread it was moved to."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # the function's result
    failed = Signal(str, str)  # one-line message, trace
    cancelled = Signal()

    # At most one progress signal per interval, except stage changes, ends and epochs: a
    # per-batch flood of queued signals would keep the event loop busy for nothing.
    INTERVAL = 0.05

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, uses_tf: bool = False) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.uses_tf = uses_tf
        self.cancel = CancelToken()
        self._last = 0.0
        self._stage = ""

    def _progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage != self._stage or p.stage in ("epoch", "device") or p.done in (0, p.total):
            self._stage = p.stage
        elif now - self._last < self.INTERVAL:
            return
        self._last = now
        self.progress.emit(p)

    @Slot()
    def run(self) -> None:
        if self.uses_tf:
            preload_tensorflow()
        try:
            result = self.fn(*self.args, progress=self._progress, cancel=self.cancel, **self.kwargs)
        except Cancelled:
            self.cancelled.emit()
        except BaseException as exc:  # everything reaches the user as a message, never a dead thread
            self.failed.emit(describe_error(exc), traceback.format_exc())
        else:
            self.finished.emit(result)


class JobRunner(QObject):
    """Owns the heavy job (preprocess, train, export, ...): one at a time, each on its own QThread.

    ``succeeded``/``failed``/``cancelled`` are emitted after the thread has finished, so their
    handlers may start the next job at once.
    """

    started = Signal(str)  # job name
    progress = Signal(str, object)  # name, Progress
    succeeded = Signal(str, object)  # name, result
    failed = Signal(str, str, str)  # name, message, details
    cancelled = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: Worker | None = None
        self._name = ""
        self._outcome: tuple[str, tuple] = ("", ())

    @property
    def busy(self) -> bool:
        return self._thread is not None

    @property
    def name(self) -> str:
        return self._name if self.busy else ""

    @property
    def cancelling(self) -> bool:
        return self._worker is not None and self._worker.cancel.cancelled

    def start(self, name: str, fn: Callable[..., Any], *args: Any, uses_tf: bool = False, **kwargs: Any) -> bool:
        if self.busy:
            log.warning("job %s refused: %s is running", name, self._name)
            return False
        thread = QThread()
        thread.setObjectName(f"job-{name}")
        worker = Worker(fn, args, kwargs, uses_tf)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Bound methods of this GUI-thread object: queued connections, run in the GUI thread.
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._thread_finished)
        self._thread, self._worker, self._name = thread, worker, name
        self._outcome = ("", ())
        THREADS.add(thread)
        log.info("job %s started", name)
        thread.start()
        self.started.emit(name)
        self.busyChanged.emit(True)
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            log.info("job %s: cancel requested", self._name)
            self._worker.cancel.cancel()

    def wait(self, ms: int = 30000) -> bool:
        """Block until the thread is gone (shutdown only; the GUI normally waits for signals)."""
        if self._thread is None:
            return True
        return self._thread.wait(ms)

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        if self._thread is not None:
            self.progress.emit(self._name, p)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self._ended("succeeded", (result,))

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._ended("failed", (message, details))

    @Slot()
    def _on_cancelled(self) -> None:
        self._ended("cancelled", ())

    def _ended(self, outcome: str, args: tuple) -> None:
        self._outcome = (outcome, args)
        if self._thread is not None:
            self._thread.quit()

    @Slot()
    def _thread_finished(self) -> None:
        name, (outcome, args) = self._name, self._outcome
        self._thread, self._worker, self._name = None, None, ""
        log.info("job %s %s", name, outcome or "ended")
        self.busyChanged.emit(False)
        if outcome == "succeeded":
            self.succeeded.emit(name, args[0])
        elif outcome == "failed":
            self.failed.emit(name, *args)
        else:
            self.cancelled.emit(name)


class ServiceThread(QObject):
    """A long-lived QThread serving light, repeated requests (page thumbnails and predictions).

    The requests go through a queue to ONE long call of ``serve`` rather than one queued slot call
    each: PySide gives every slot call on a non-Python thread a fresh Python thread state, and
    TensorFlow's pybind11 code caches the thread state it first saw on a thread. The second page
    predicted then ran on a freed thread state and crashed (1 run in 4). One call, one state.
    """

    def __init__(self, name: str, serve: Callable[[queue.Queue], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.requests: queue.Queue = queue.Queue()
        self.thread = QThread()
        self.thread.setObjectName(name)
        self._runner = _Serve(serve, self.requests)
        self._runner.moveToThread(self.thread)
        self.thread.started.connect(self._runner.run)
        THREADS.add(self.thread)
        self.thread.start()

    def submit(self, request: object) -> None:
        self.requests.put(request)

    def stop(self, ms: int = 30000) -> bool:
        self.requests.put(None)  # ends serve(); then the thread's (empty) event loop
        self.thread.quit()
        return self.thread.wait(ms)


class _Serve(QObject):
    def __init__(self, serve: Callable[[queue.Queue], None], requests: queue.Queue) -> None:
        super().__init__()
        self.serve, self.requests = serve, requests

    @Slot()
    def run(self) -> None:
        try:
            self.serve(self.requests)
        except BaseException:  # a dead service must not take the app with it; it is logged
            log.exception("service thread %s stopped", QThread.currentThread().objectName())
