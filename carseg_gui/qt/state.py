"""AppState: the open dataset and project, and the one place that decides what is enabled.

Panels never enable or disable each other: they bind their buttons to an action name, and
:meth:`AppState.why_not` says, for the current state, why an action is unavailable (or None).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from ..core.cache import Cache
from ..core.dataset import Dataset
from ..core.project import RunInfo, list_runs, load_state, save_state
from .jobs import ProjectSnapshot

log = logging.getLogger("carseg_gui")

JOB_LABELS = {
    "open": "Opening the dataset",
    "sample": "Generating the sample",
    "preprocess": "Preprocessing",
    "train": "Training",
    "export": "Exporting",
    "review": "Scoring the review queue",
}
HEAVY = ("open", "sample", "preprocess", "train", "export", "review")


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

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.project: Path | None = None
        self.dataset: Dataset | None = None
        self.caches: dict[int, Cache] = {}
        self.runs: list[RunInfo] = []
        self.active_run: str | None = None
        self.busy = ""  # name of the running heavy job
        self.size = 128  # the training panel's image size: preprocessing builds the cache at it
        self.config_problem: str | None = None  # why the training settings are not valid
        self._bindings: list[Binding] = []

    # ----- what the app holds
    def set_snapshot(self, snap: ProjectSnapshot) -> None:
        self.root, self.project, self.dataset = snap.root, snap.project, snap.dataset
        self.caches = dict(snap.caches)
        self.runs = snap.runs
        self.active_run = snap.state.get("active_run")
        self.projectChanged.emit()
        self.cachesChanged.emit()
        self.runsChanged.emit()
        self.activeRunChanged.emit()
        self.refresh()

    def set_cache(self, cache: Cache | None) -> None:
        if cache is None:
            return
        self.caches[cache.size] = cache
        self.cachesChanged.emit()
        self.refresh()

    def reload_runs(self) -> None:
        """Runs and the active run as on disk (training writes them from its thread)."""
        if self.project is None:
            return
        self.runs = list_runs(self.project)
        active = load_state(self.project).get("active_run")
        self.runsChanged.emit()
        if active != self.active_run:
            self.active_run = active
            self.activeRunChanged.emit()
        self.refresh()

    def set_active_run(self, run_id: str | None) -> None:
        if run_id == self.active_run or self.project is None:
            return
        self.active_run = run_id
        self.update_project_state(active_run=run_id)
        self.activeRunChanged.emit()
        self.refresh()

    def set_busy(self, name: str) -> None:
        self.busy = name
        self.refresh()

    def set_size(self, size: int, problem: str | None) -> None:
        changed = size != self.size
        self.size, self.config_problem = size, problem
        if changed:
            self.cachesChanged.emit()  # the viewer may show a cache of another size
        self.refresh()

    def update_project_state(self, **values: Any) -> None:
        """Read-modify-write of state.json, so keys written by others (e.g. the editor) survive."""
        if self.project is None:
            return
        try:
            state = load_state(self.project)
            state.update(values)
            save_state(self.project, state)
        except OSError:
            log.exception("cannot write %s/state.json", self.project)

    def project_state(self) -> dict[str, Any]:
        return load_state(self.project) if self.project else {}

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

    # ----- what is enabled, decided here only
    def why_not(self, action: str) -> str | None:
        if action.startswith("cancel"):  # "cancel" or "cancel:train,export": only those jobs
            names = action.partition(":")[2]
            if not self.busy:
                return "nothing is running"
            if names and self.busy not in names.split(","):
                return f"{JOB_LABELS.get(self.busy, self.busy)} is running; cancel it where it was started"
            return None
        if self.busy and action in HEAVY:
            return f"{JOB_LABELS.get(self.busy, self.busy)} is running: wait for it to end or press Cancel"
        if action in ("open", "sample"):
            return None
        if self.root is None:
            return "open a dataset first (File ▸ Open folder…, Ctrl+O)"
        if action == "preprocess":
            return None
        if action == "train":
            return self.config_problem
        if action in ("export", "activate", "predict", "review"):
            if not any(r.has_model for r in self.runs):
                return "no trained model yet: train a run first (Training tab)"
            if action != "activate" and self.active() is None:
                return "choose the run to predict with in the Training tab (Use for prediction)"
            return None
        if action == "page":
            return None if self.view_cache() is not None else "preprocess the dataset first"
        return None

    def why_not_activate(self, run: RunInfo | None) -> str | None:
        """Whether the run selected in the runs list can become the active one."""
        reason = self.why_not("activate")
        if reason is None and run is None:
            return "select a run in the list"
        if reason is None and run is not None and not run.has_model:
            return "this run has no saved model (it stopped before its first epoch ended)"
        if reason is None and run is not None and run.id == self.active_run:
            return "this run is already the active one"
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
