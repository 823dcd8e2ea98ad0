"""The open session: dataset, project, caches, runs, the active run and the running job, with events.

A plain object (no Qt) in the spirit of napari's ``ViewerModel``: the window's bridge
(``qt/state.py``) subscribes to its events and turns them into Qt signals; tests drive it directly.
Every write of a decision goes through the :class:`~carseg_gui.session.store.StateStore`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.cache import Cache
from ..core.dataset import Dataset
from ..core.project import RunInfo, list_runs
from .actions import ProjectSnapshot
from .rules import Job, why_not
from .store import StateStore

EVENTS = ("project", "caches", "runs", "active_run", "changed")
log = logging.getLogger("carseg_gui")


class Writer:
    """One background thread that runs state writes in the order they were asked for, so the window's
    thread never waits for the disk (a locked, fsynced state.json write takes 5-30 ms)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
                self._thread.start()
        self._queue.put(fn)

    def _run(self) -> None:
        while True:
            fn = self._queue.get()
            try:
                if fn is None:
                    return
                fn()
            except Exception:  # a failed preference write is logged; it must not kill later writes
                log.exception("a state.json write failed")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every write asked for so far is on disk."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(30)


class Events:
    """A tiny event hub: ``events.connect("runs", fn)``; ``events.emit("runs")`` calls each ``fn()``."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callable[[], None]]] = {name: [] for name in EVENTS}

    def connect(self, name: str, fn: Callable[[], None]) -> None:
        self._subscribers[name].append(fn)

    def emit(self, name: str) -> None:
        for fn in list(self._subscribers[name]):
            fn()


class Session:
    def __init__(self) -> None:
        self.events = Events()
        self.root: Path | None = None
        self.project: Path | None = None
        self.dataset: Dataset | None = None
        self.caches: dict[int, Cache] = {}
        self.runs: list[RunInfo] = []
        self.active_run: str | None = None
        self.busy: Job | None = None
        self.size = 128  # the training settings' image size: preprocessing builds the cache at it
        self.config_problem: str | None = None  # why the training settings are not valid
        self.recovered: str | None = None  # a broken state.json was set aside when the project opened
        self.store: StateStore | None = None
        self.prefs: dict[str, Any] = {}  # the project's remembered UI choices, as last read or set
        self.writer = Writer()

    # ----- what the session holds
    def set_snapshot(self, snap: ProjectSnapshot) -> None:
        self.writer.flush()  # the previous project's last writes land in its own folder
        self.root, self.project, self.dataset = snap.root, snap.project, snap.dataset
        self.store = StateStore(snap.project)
        self.prefs = {k: v for k, v in snap.state.items() if k not in ("version", "active_run", "images")}
        self.caches = dict(snap.caches)
        self.runs = snap.runs
        active = snap.state.get("active_run")
        self.active_run = active if isinstance(active, str) else None
        self.recovered = snap.recovered
        for name in ("project", "caches", "runs", "active_run"):
            self.events.emit(name)
        self.events.emit("changed")

    def set_cache(self, cache: Cache | None) -> None:
        if cache is None:
            return
        self.caches[cache.size] = cache
        self.events.emit("caches")
        self.events.emit("changed")

    def reload_runs(self) -> None:
        """Runs and the active run as on disk (a training writes them from its thread or process)."""
        if self.project is None or self.store is None:
            return
        self.writer.flush()  # a choice still on its way to disk is not undone by reading the file
        self.runs = list_runs(self.project)
        active = self.store.active_run()
        self.events.emit("runs")
        if active != self.active_run:
            self.active_run = active
            self.events.emit("active_run")
        self.events.emit("changed")

    def set_active_run(self, run_id: str | None) -> None:
        if run_id == self.active_run or self.store is None:
            return
        store = self.store
        self.writer.submit(lambda: store.set_active_run(run_id))
        self.active_run = run_id
        self.events.emit("active_run")
        self.events.emit("changed")

    def set_busy(self, job: Job | None) -> None:
        self.busy = job
        self.events.emit("changed")

    def set_size(self, size: int, problem: str | None) -> None:
        changed = size != self.size
        self.size, self.config_problem = size, problem
        if changed:
            self.events.emit("caches")  # the viewer may show a cache of another size
        self.events.emit("changed")

    def preference(self, name: str, default: Any = None) -> Any:
        return self.prefs.get(name, default)

    def set_preference(self, name: str, value: Any) -> None:
        """Remember a UI choice: at once in memory, on disk by the background writer."""
        if self.store is None:
            return
        self.prefs[name] = value
        store = self.store
        self.writer.submit(lambda: store.set_preference(name, value))

    # ----- derived
    def active(self) -> RunInfo | None:
        for run in self.runs:
            if run.id == self.active_run and run.has_model:
                return run
        return None

    def run(self, run_id: str) -> RunInfo | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def view_size(self) -> int:
        """The cache the viewer pages through: the active run's size, so predictions match rows."""
        run = self.active()
        return int(run.config.get("size", self.size)) if run else self.size

    def view_cache(self) -> Cache | None:
        return self.caches.get(self.view_size())

    def why_not(self, action: str) -> str | None:
        return why_not(self, action)
