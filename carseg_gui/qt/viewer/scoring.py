"""The scores behind the viewer's orders ("Worst Dice first", "Least confident first"): the job that computes
them for the active run, started when the order is chosen and again whenever the list is shown without them
(another active run, a rebuilt cache), and what the list says when it could not run."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from ...session.viewer import ViewerModel
from ..controller import Controller

SCORING = {"worst": "review", "confidence": "confidence"}  # the order -> the job that scores it


class OrderScoring(QObject):
    def __init__(
        self, controller: Controller, view: ViewerModel, said: Callable[[], None], parent: QObject | None = None
    ) -> None:
        """``said``: the viewer says its line again (the order's note changed)."""
        super().__init__(parent)
        self.controller, self.view, self.said = controller, view, said
        self.blocked = False  # the job could not start because another one ran: it starts when that one ends
        # From a signal (a job's result changed the active run), the job starts after that job's handlers.
        self.timer = QTimer(self, singleShot=True, interval=0)
        self.timer.timeout.connect(self.start)
        controller.jobEnded.connect(self._ended)

    def start(self) -> bool:
        """Start the job that scores the chosen order for the active run, if the list needs one and none runs."""
        self.timer.stop()
        view, c = self.view, self.controller
        job = SCORING.get(view.order)
        if job is None or not view.needs_scores() or view.unscored or c.runner.name in SCORING.values():
            return False
        started = c.review() if job == "review" else c.score_confidence()
        if not started:
            self.blocked = c.runner.busy
            view.unscored = c.state.why_not(job) or "another job is running"
            self.said()
        return started

    def later(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.blocked = False

    def _ended(self, name: str, outcome: str) -> None:
        if name in SCORING.values():
            if outcome != "succeeded":
                self.view.unscored = f"scoring {outcome}; choose the order again to retry"
                self.said()
        elif self.blocked:  # the job that kept the scoring from starting is over
            self.blocked = False
            self.view.unscored = ""
            self.said()
            self.later()
