"""The mask editor's background threads, outside Qt: a loader (the image to show first, then prefetches,
the newest request wins) and a saver (corrections and statuses written in order, off the GUI thread).

Results go to a ``deliver`` callback called in the worker thread; the Qt editor passes one that emits a
signal, so they reach the GUI thread queued. Both threads start on first use and stop on :meth:`close`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.corrections import correction_path, save_correction
from .editor import keeps_file, status_after_save
from .store import ACCEPTED_NOTE, StateStore

Task = tuple[str, Callable[[], Any]]  # (key, work)


class Loader:
    """One thread running the newest wanted tasks: ``current`` first, then ``prefetch`` in order.

    :meth:`want` replaces whatever is still waiting (a user holding the Next key leaves behind only the
    image they stopped at); a task already running finishes and is delivered. ``deliver(key, result)``
    gets each result; a task that raised delivers the exception."""

    def __init__(self, deliver: Callable[[str, Any], None], name: str = "editor-loader") -> None:
        self.deliver = deliver
        self.name = name
        self._pending: list[Task] = []
        self._running: str | None = None
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def want(self, current: Task | None, prefetch: list[Task] | None = None) -> None:
        tasks = ([current] if current else []) + list(prefetch or [])
        with self._cond:
            seen = {self._running}
            self._pending = [t for t in tasks if not (t[0] in seen or seen.add(t[0]))]  # type: ignore[func-returns-value]
            self._closed = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()

    @property
    def running(self) -> str | None:
        return self._running

    def waiting(self) -> list[str]:
        with self._cond:
            return [key for key, _ in self._pending]

    def idle(self) -> bool:
        with self._cond:
            return self._running is None and not self._pending

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                key, work = self._pending.pop(0)
                self._running = key
            try:
                result = work()
            except Exception as exc:  # delivered: the editor says what went wrong
                result = exc
            with self._cond:
                self._running = None
                if self._closed:
                    return  # nobody is listening any more
            try:
                self.deliver(key, result)
            except RuntimeError:  # the receiver went away while this task ran (a closed window)
                return

    def close(self, timeout: float = 2.0) -> None:
        """Drop what waits and stop the thread; a task running (a model's first load can take seconds) is not
        waited for longer than ``timeout``: it ends on its own and delivers nothing."""
        with self._cond:
            self._closed = True
            self._pending = []
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


@dataclass(frozen=True)
class SaveJob:
    """One write: a mask (a copy, made on the GUI thread) at ``revision``, and/or a status to record."""

    key: str
    mask: np.ndarray | None = None
    original: np.ndarray | None = None
    revision: int = 0
    edited: bool = False  # there was an edit since the status was last updated: it may change
    draft: bool = False  # the image has no mask of its own (``original`` is its draft)
    draft_run: str | None = None
    status: str | None = None  # a decision, recorded after the mask


@dataclass(frozen=True)
class Saved:
    """What a job did, for the GUI: ``wrote`` when the correction on disk changed (written or removed)."""

    key: str
    revision: int = 0
    wrote: bool = False
    mask: np.ndarray | None = None
    status: str | None = None  # the status now, when the job changed it
    error: str | None = None


class Saver:
    """Writes :class:`SaveJob` in submission order on one thread; :meth:`flush` waits until all are on disk.

    The status an edit leads to (:func:`status_after_save`) is decided here, after the bytes are written,
    from the status in ``state.json`` and what it was before the edits (kept per image in this thread)."""

    def __init__(self, project: Path, deliver: Callable[[Saved], None]) -> None:
        self.project = Path(project)
        self.store = StateStore(self.project)
        self.deliver = deliver
        self._jobs: queue.Queue[SaveJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._before_edit: dict[str, str] = {}
        self._files = threading.Condition()  # mask files not written yet (the status may still follow)
        self._files_waiting = 0

    def submit(self, job: SaveJob) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="editor-saver", daemon=True)
                self._thread.start()
        if _writes_mask(job):
            with self._files:
                self._files_waiting += 1
        self._jobs.put(job)

    def wait_for_files(self) -> None:
        """Return once the mask of every job submitted so far is on disk (or failed), without waiting for the
        status updates after them: what a new stroke must wait for (``state.json`` of a large project is tens
        of ms to read; the status is not what a SIGKILL would lose)."""
        with self._files:
            while self._files_waiting:
                self._files.wait()

    def _file_done(self) -> None:
        with self._files:
            self._files_waiting -= 1
            self._files.notify_all()

    def flush(self) -> None:
        """Return once every job submitted so far is written (or has failed)."""
        if self._thread is not None:
            self._jobs.join()

    def close(self) -> None:
        self.flush()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(30.0)

    def _serve(self) -> None:
        self._sweep()
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self.deliver(self._do(job))
            finally:
                self._jobs.task_done()

    def _sweep(self, older_than_s: float = 600.0) -> None:
        """Temp files of writes a kill interrupted (``corrections/.NAME.*.tmp``; the masks themselves are whole,
        written atomically): removed when they are old enough not to be a write in progress elsewhere."""
        folder = self.project / "corrections"
        now = time.time()
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
            try:
                if now - tmp.stat().st_mtime > older_than_s:
                    tmp.unlink()
            except OSError:
                pass  # gone already, or not ours to remove

    def _do(self, job: SaveJob) -> Saved:
        wrote, status = False, None
        try:
            if _writes_mask(job):
                wrote, status = self._write_mask(job)
            if job.status is not None:
                wrote = self._approve_draft(job) if job.status == "approved" else False
                self.store.set_status(job.key, job.status, self._note(job) if wrote else None)
                self._before_edit.pop(job.key, None)
                status = job.status
        except (OSError, ValueError) as exc:
            return Saved(job.key, job.revision, wrote, None, status, _reason(exc))
        return Saved(job.key, job.revision, wrote, job.mask if wrote else None, status)

    def _write_mask(self, job: SaveJob) -> tuple[bool, str | None]:
        """The file first, then the status it leads to (read after the write, unless it decides the write)."""
        assert job.mask is not None and job.original is not None
        status: str | None = None
        try:
            saved_original = bool(np.array_equal(job.mask, job.original))
            if saved_original and job.draft:  # an approved draft keeps its file: the status decides
                status = self.store.status(job.key)
                keep = keeps_file(True, True, self._after(job, status, True) or status)
            else:
                keep = not saved_original
            if keep:
                save_correction(self.project, job.key, job.mask)
            else:
                correction_path(self.project, job.key).unlink(missing_ok=True)
        finally:
            self._file_done()
        status = self.store.status(job.key) if status is None and job.edited else status
        new = self._after(job, status, saved_original) if status is not None else None
        if new is not None:
            if new == "corrected" and status is not None:
                self._before_edit[job.key] = status
            self.store.set_status(job.key, new)
        return True, new

    def _after(self, job: SaveJob, status: str, saved_original: bool) -> str | None:
        return status_after_save(status, saved_original, self._before_edit.get(job.key)) if job.edited else None

    def _approve_draft(self, job: SaveJob) -> bool:
        """Approving an image without a mask or a correction accepts its draft: written as the correction
        (:func:`carseg_gui.core.corrections.save_correction`, as ``carseg status KEY approved`` does)."""
        if not job.draft or correction_path(self.project, job.key).exists():
            return False
        if job.draft_run is None or job.mask is None:
            raise ValueError("cannot approve: it has no mask, and no trained run drafted one; paint the car first")
        save_correction(self.project, job.key, job.mask)
        return True

    @staticmethod
    def _note(job: SaveJob) -> str:
        return f"{ACCEPTED_NOTE} {job.draft_run}"


def _writes_mask(job: SaveJob) -> bool:
    return job.mask is not None and job.original is not None and job.status is None


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
