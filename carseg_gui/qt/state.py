"""AppState: the Qt face of the session model (:class:`carseg_gui.session.model.Session`).

It re-emits the session's events as Qt signals and applies :func:`carseg_gui.session.rules.why_not` to
the widgets bound to an action; the decisions themselves live in ``session/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from ..core.cache import Cache
from ..core.dataset import Dataset
from ..core.project import RunInfo
from ..session.actions import ProjectSnapshot
from ..session.model import Session
from ..session.rules import Job

log = logging.getLogger("carseg_gui")

JOB_LABELS = {job.value: job.label for job in Job}


class Switchable(Protocol):
    def setEnabled(self, on: bool) -> None: ...
    def setToolTip(self, tip: str) -> None: ...


@dataclass
class Binding:
    target: Switchable
    action: str
    tip: str


class AppState(QObject):
    changed = Signal()  # anything that may change what is enabled
    projectChanged = Signal()  # a dataset was opened
    cachesChanged = Signal()
    runsChanged = Signal()
    activeRunChanged = Signal()

    def __init__(self, parent: QObject | None = None, session: Session | None = None) -> None:
        super().__init__(parent)
        self.session = session or Session()
        self._bindings: list[Binding] = []
        events = self.session.events
        events.connect("project", self.projectChanged.emit)
        events.connect("caches", self.cachesChanged.emit)
        events.connect("runs", self.runsChanged.emit)
        events.connect("active_run", self.activeRunChanged.emit)
        events.connect("changed", self.refresh)

    # ----- the session's fields, read-only here
    @property
    def root(self) -> Path | None:
        return self.session.root

    @property
    def project(self) -> Path | None:
        return self.session.project

    @property
    def dataset(self) -> Dataset | None:
        return self.session.dataset

    @property
    def caches(self) -> dict[int, Cache]:
        return self.session.caches

    @property
    def runs(self) -> list[RunInfo]:
        return self.session.runs

    @property
    def active_run(self) -> str | None:
        return self.session.active_run

    @property
    def busy(self) -> str:
        return self.session.busy.value if self.session.busy else ""

    @property
    def size(self) -> int:
        return self.session.size

    @property
    def config_problem(self) -> str | None:
        return self.session.config_problem

    # ----- changes, through the session
    def set_snapshot(self, snap: ProjectSnapshot) -> None:
        self.session.set_snapshot(snap)

    def set_cache(self, cache: Cache | None) -> None:
        self.session.set_cache(cache)

    def reload_runs(self) -> None:
        self.session.reload_runs()

    def set_active_run(self, run_id: str | None) -> None:
        try:
            self.session.set_active_run(run_id)
        except OSError:
            log.exception("cannot write %s/state.json", self.project)

    def set_busy(self, name: str) -> None:
        self.session.set_busy(Job(name) if name else None)

    def set_size(self, size: int, problem: str | None) -> None:
        self.session.set_size(size, problem)

    def update_project_state(self, **values: Any) -> None:
        """Remember UI choices (training settings, export settings, viewer page) in the project."""
        try:
            for name, value in values.items():
                self.session.set_preference(name, value)
        except OSError:
            log.exception("cannot write %s/state.json", self.project)

    def project_state(self) -> dict[str, Any]:
        """The remembered UI choices (read when the project opened, kept current in memory)."""
        return dict(self.session.prefs)

    # ----- derived
    def active(self) -> RunInfo | None:
        return self.session.active()

    def run(self, run_id: str) -> RunInfo | None:
        return self.session.run(run_id)

    def view_size(self) -> int:
        return self.session.view_size()

    def view_cache(self) -> Cache | None:
        return self.session.view_cache()

    # ----- what is enabled, decided in session.rules
    def why_not(self, action: str) -> str | None:
        return self.session.why_not(action)

    def why_not_activate(self, run: RunInfo | None) -> str | None:
        """Whether the run selected in the runs list can become the active one."""
        reason = self.why_not("activate")
        if reason is None and run is None:
            return "select a run in the list"
        if reason is None and run is not None and not run.has_model:
            return "this run has no saved model (it stopped before its first epoch ended)"
        if reason is None and run is not None and run.id == self.active_run:
            return "this run is already the active one"
        if reason is None and run is not None and run.status == "running" and self.busy == "train":
            return "this run is still training: it becomes the active one when it finishes"
        return reason

    def bind(self, target: Switchable, action: str, tip: str) -> None:
        self._bindings.append(Binding(target, action, tip))
        self._apply(self._bindings[-1])

    def refresh(self) -> None:
        for binding in self._bindings:
            self._apply(binding)
        self.changed.emit()

    def _apply(self, b: Binding) -> None:
        reason = self.why_not(b.action)
        b.target.setEnabled(reason is None)
        b.target.setToolTip(b.tip if reason is None else f"{b.tip}\nNot now: {reason}")
