"""The jobs the app runs, their words, and the one place that says why an action is not available now.

Panels never enable or disable each other: they bind a button to an action name, and :func:`why_not`
says, for the session as it is, why that action is unavailable (or ``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from ..core.project import RunInfo


class Job(str, Enum):
    """A long task; at most one runs at a time. The value is its name in logs and progress."""

    OPEN = "open"
    SAMPLE = "sample"
    PREPROCESS = "preprocess"
    TRAIN = "train"
    EXPORT = "export"
    REVIEW = "review"
    REFINER = "refiner"
    CONFIDENCE = "confidence"

    @property
    def label(self) -> str:
        """What the job is doing, as a status bar says it."""
        return _LABELS[self]

    @property
    def failure_title(self) -> str:
        """The title of the message shown when it fails."""
        return _FAILED[self]

    @property
    def uses_tensorflow(self) -> bool:
        return self in (Job.TRAIN, Job.EXPORT, Job.REVIEW, Job.REFINER, Job.CONFIDENCE)


_LABELS = {
    Job.OPEN: "Opening the dataset",
    Job.SAMPLE: "Generating the sample",
    Job.PREPROCESS: "Preprocessing",
    Job.TRAIN: "Training",
    Job.EXPORT: "Exporting",
    Job.REVIEW: "Scoring the review queue",
    Job.REFINER: "Training the click refiner",
    Job.CONFIDENCE: "Scoring how sure the model is",
}
_FAILED = {
    Job.OPEN: "Cannot open the dataset",
    Job.SAMPLE: "Cannot create the sample",
    Job.PREPROCESS: "Preprocessing failed",
    Job.TRAIN: "Training failed",
    Job.EXPORT: "Export failed",
    Job.REVIEW: "Cannot compute the review queue",
    Job.REFINER: "Training the click refiner failed",
    Job.CONFIDENCE: "Cannot score how sure the model is",
}


def job_label(name: str) -> str:
    try:
        return Job(name).label
    except ValueError:
        return name


class SessionView(Protocol):
    """What the rules read of the session (:class:`carseg_gui.session.model.Session` is one)."""

    @property
    def busy(self) -> Job | None: ...
    @property
    def root(self) -> Path | None: ...
    @property
    def runs(self) -> Sequence[RunInfo]: ...
    @property
    def config_problem(self) -> str | None: ...
    def active(self) -> RunInfo | None: ...
    def view_cache(self) -> Any: ...


def why_not(session: SessionView, action: str) -> str | None:
    """Why ``action`` cannot be done now, in words for a tooltip; ``None`` when it can.

    ``action`` is a job name, ``activate``, ``predict``, ``page``, or ``cancel`` / ``cancel:train,export``
    (cancel only those jobs)."""
    busy = session.busy
    if action.startswith("cancel"):
        names = action.partition(":")[2]
        if busy is None:
            return "nothing is running"
        if names and busy.value not in names.split(","):
            return f"{busy.label} is running; press its own Cancel, Esc or Jobs ▸ Cancel"
        return None
    heavy = action in Job._value2member_map_
    if busy is not None and heavy:
        return f"{busy.label} is running: wait for it to end or press Cancel"
    if action in (Job.OPEN, Job.SAMPLE):
        return None
    if session.root is None:
        return "open a dataset first (File ▸ Open folder…, Ctrl+O)"
    if action == Job.PREPROCESS:
        return None
    if action == Job.TRAIN:
        return session.config_problem
    if action in (Job.EXPORT, "activate", "predict", Job.REVIEW, Job.CONFIDENCE):
        if not any(r.has_model for r in session.runs):
            return "no trained model yet: train a run first (Training tab)"
        if action != "activate" and session.active() is None:
            return "choose the run to predict with in the Training tab (Use for prediction)"
        return None
    if action == "page":
        return None if session.view_cache() is not None else "preprocess the dataset first"
    return None
