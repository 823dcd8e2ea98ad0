"""The bridge from the window to the session: runs :mod:`carseg_gui.session.actions` as jobs on the
JobRunner's thread and turns their results into status lines and signals.

Panels call these methods and listen to AppState and the JobRunner; nothing here touches widgets, and
nothing here decides: the actions and :mod:`carseg_gui.session.rules` do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.cache import Cache
from ..core.export import ExportSummary
from ..core.imageio import read_json
from ..core.jobs import Progress
from ..session import actions, annotate
from ..session.rules import Job, job_label
from .errors import log_to
from .panels.run_words import cancelled_text, score_words
from .progress import status_line
from .state import AppState
from .workers import JobRunner

log = logging.getLogger("carseg_gui")


# What a job that raised Cancelled leaves behind (a training cancelled during its epochs ends as a run
# marked cancelled instead, reported by _succeeded).
CANCELLED = {
    "open": "Opening cancelled",
    "sample": "Generating the sample cancelled; the images written so far stay in its folder",
    "preprocess": "Preprocessing cancelled; the cache is as it was before",
    "train": cancelled_text(None),
    "export": "Export cancelled; no half-written file was left, the complete ones stay in the folder",
    "review": "Scoring the review queue cancelled",
    "confidence": "Scoring how sure the model is cancelled; the viewer keeps the dataset order",
    "refiner": "Training the click refiner cancelled before its first epoch; no refiner was saved",
}


class Controller(QObject):
    status = Signal(str)  # the status bar's line
    error = Signal(str, str, str)  # title, one-line message, details
    opened = Signal(object)  # ProjectSnapshot
    trained = Signal(object)  # RunInfo, finished or cancelled
    exported = Signal(object)  # ExportSummary
    reviewed = Signal(str, object)  # run id, {key: Dice of mask vs prediction}
    compared = Signal(object, object)  # RunInfo, {dice_before, dice_after, before_run, images}
    jobEnded = Signal(str, str)  # name, outcome: succeeded, failed, cancelled
    notes = Signal(str, object)  # name, [what the user must know: images left out, a damaged cache rebuilt]
    refinerTrained = Signal(object)  # session.refiner.RefinerRun, finished or cancelled after an epoch
    confidenceScored = Signal(str, object, object)  # run id, {key: confidence}, keys least confident first

    def __init__(self, fallback_projects: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = AppState(self)
        self.runner = JobRunner(self)
        self.fallback_projects = fallback_projects
        self.runner.busyChanged.connect(lambda _busy: self.state.set_busy(self.runner.name))
        self.runner.progress.connect(self._progress)
        self.runner.succeeded.connect(self._succeeded)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        # Notes of a job ("N image(s) left out of training: ...") must outlive the progress lines after
        # them: they are kept and said again with the job's last line.
        self._notes: list[str] = []
        self._last_status = ""
        self.status.connect(self._remember_status)
        # What the running (or last) training and export were started with: the panels describe these, not
        # their widgets, which may say otherwise (a quick retrain's settings; a box changed since).
        self.train_config: Any = None
        self.export_options: dict[str, Any] = {}
        self.runner.started.connect(lambda _name: self._notes.clear())

    # ----- actions
    def open_dataset(self, path: Path | str, project: Path | str | None = None) -> bool:
        if self.state.why_not("open"):
            return False
        self.status.emit(f"Opening {path}…")
        return self.runner.start(
            "open", actions.open_project, Path(path), Path(project) if project else None, self.fallback_projects
        )

    def open_sample(self, folder: Path, count: int = 64) -> bool:
        if self.state.why_not("sample"):
            return False
        self.status.emit(f"Preparing the built-in sample in {folder}…")
        return self.runner.start("sample", actions.sample_then_open, Path(folder), count)

    def preprocess(self, size: int | None = None) -> bool:
        st = self.state
        if st.why_not("preprocess") or st.root is None or st.project is None:
            return False
        return self.runner.start("preprocess", actions.prepare, st.root, st.project, int(size or st.size))

    def train(self, config: Any, new_split: bool = False, remember: bool = True) -> bool:
        """``new_split``: draw the validation cars again (else the project's recorded ones are kept);
        ``remember``: the panel's settings for next time (not a quick retrain's)."""
        st = self.state
        if st.why_not("train") or st.root is None or st.project is None:
            return False
        from dataclasses import asdict

        if remember:
            st.update_project_state(train_config=asdict(config))
        previous = st.active().id if st.active() else None
        self.train_config = config
        return self.runner.start(
            "train", actions.train, st.root, st.project, config, previous=previous, new_split=new_split, uses_tf=True
        )

    def review(self) -> bool:
        """Dice of every labelled image against the active run's prediction (the review queue)."""
        st = self.state
        run = st.active()
        if st.why_not("review") or run is None or st.root is None or st.project is None:
            return False
        self.status.emit(f"Scoring every labelled image against run {run.id} for the review queue…")
        return self.runner.start("review", actions.review, st.root, st.project, run.id, uses_tf=True)

    def export(
        self, out: Path, which: str, fmt: str, threshold: float, overwrite: bool, predictions_only: bool = False,
        feather: int = 0, background: tuple[int, int, int] | None = None,
    ) -> bool:  # fmt: skip
        """``predictions_only``: the run's predictions for every image (no person's masks); ``feather`` (px)
        and ``background`` (RGB, None: transparent) shape the cut-out format."""
        st = self.state
        run = st.active()
        if st.why_not("export") or run is None or st.root is None or st.project is None:
            return False
        st.update_project_state(export={"out": str(out), "set": which, "format": fmt, "threshold": threshold,
                                        "predictions_only": predictions_only})  # fmt: skip
        self.export_options = {"out": Path(out), "set": which, "format": fmt, "predictions_only": predictions_only}
        return self.runner.start(
            "export", annotate.export, st.root, st.project, Path(out), run.id, which, fmt, None, threshold, overwrite,
            predictions_only=predictions_only, feather=feather, background=background, uses_tf=True,
        )  # fmt: skip

    def train_refiner(self, config: Any = None) -> bool:
        """Train the editor's click refiner (session.refiner.train_refiner) on the project's human masks;
        ``config`` is a core.refiner_training.RefinerConfig (default: its defaults)."""
        st = self.state
        if st.why_not("refiner") or st.root is None or st.project is None:
            return False
        from ..session.refiner import train_refiner

        self.status.emit("Training the click refiner: reading the photos and masks at full size…")
        return self.runner.start("refiner", train_refiner, st.root, st.project, config, uses_tf=True)

    def _refiner_trained(self, run: Any) -> str:
        """The status line of a refiner training that ended with a run; its outcome for jobEnded."""
        self.status.emit(f"{run.summary()}. The editor's smart click tool (S) uses it the next time it is chosen")
        self.refinerTrained.emit(run)
        return "succeeded" if run.status == "finished" else "cancelled"

    def score_confidence(self) -> bool:
        """How sure the active run is of each image without a mask (session.annotate.queue: cached in the
        run's folder per dataset fingerprint), for the viewer's "Least confident first"."""
        st = self.state
        run = st.active()
        if st.why_not("confidence") or run is None or st.root is None or st.project is None:
            return False
        self.status.emit(f"Scoring how sure run {run.id} is of each image without a mask…")
        return self.runner.start("confidence", annotate.queue, st.root, st.project, "unlabelled", uses_tf=True)

    def cancel(self) -> None:
        if self.runner.busy:
            self.status.emit(f"Cancelling {job_label(self.runner.name).lower()}…")
            self.runner.cancel()

    def set_active_run(self, run_id: str | None) -> None:
        self.state.set_active_run(run_id)
        if run_id:
            self.status.emit(f"Run {run_id} is now used for prediction and export")

    def shutdown(self, ms: int = 60000) -> bool:
        """Cancel the running job and wait for its thread (the window asked the user first)."""
        self.runner.cancel()
        done = self.runner.wait(ms)
        self.state.session.writer.flush()  # remembered choices reach state.json before the app exits
        return done

    # ----- results
    def _progress(self, name: str, p: Progress) -> None:
        if p.stage == "notice":
            self._notes.append(str(p.info.get("notice") or p.message))
        self.status.emit(status_line(name, p))

    def _remember_status(self, text: str) -> None:
        self._last_status = text

    def _end(self, name: str, outcome: str) -> None:
        if self._notes:
            notes, self._notes = self._notes, []
            self.status.emit(f"{self._last_status} · Note: {'; '.join(notes)}")
            self.notes.emit(name, notes)
        self.jobEnded.emit(name, outcome)

    def _succeeded(self, name: str, result: Any) -> None:
        st = self.state
        outcome = "succeeded"
        if name in ("open", "sample"):
            path = log_to(result.project / "logs")
            log.info("opened %s (project %s, log %s)", result.root, result.project, path)
            st.set_snapshot(result)
            ds = result.dataset
            said = (
                f"{ds.layout} layout: {result.counts.words()}, {len(ds.problems)} problem(s)"
                if result.counts
                else ds.summary()
            )
            self.status.emit(f"Opened {result.root.name}: {said}")
            self.opened.emit(result)
            if result.recovered:
                self.error.emit("The project's state was damaged", result.recovered, "")
        elif name == "preprocess":
            cache: Cache = result
            st.set_cache(cache)
            self.status.emit(
                f"Preprocessed: {len(cache.rows)} images at {cache.size}×{cache.size}, {len(cache.problems)} problem(s)"
            )
        elif name == "train":
            run = result.run
            st.set_cache(result.cache)
            st.reload_runs()
            history = read_json(run.folder / "history.json", default=[]) or []
            score = score_words(run, history)  # "val Dice 0.97 at epoch 5, the best (lowest val. loss)"
            score = f": {score}" if score else ""
            if run.status == "finished" and result.activated:
                self.status.emit(f"Run {run.id} finished{score}. It is now used for prediction")
            elif run.status == "finished":
                self.status.emit(f"Run {run.id} finished{score}, without a saved model: the active run is unchanged")
            else:
                self.status.emit(cancelled_text(run))
                outcome = "cancelled"
            self.trained.emit(run)
            if result.comparison and result.comparison.get("images"):
                c = result.comparison
                self.status.emit(
                    f"Run {run.id}: validation Dice {c['dice_before']:.4f} (run {c['before_run']}) → "
                    f"{c['dice_after']:.4f} at {c.get('size', '?')} px on the same {c['images']} images "
                    "that neither run trained on"
                )
                self.compared.emit(run, c)
        elif name == "review":
            run_id, scores = result
            self.status.emit(f"Review queue ready: {len(scores)} images scored against run {run_id}")
            self.reviewed.emit(run_id, scores)
        elif name == "refiner":
            outcome = self._refiner_trained(result)
        elif name == "confidence":
            items = result["items"]
            scores = {i["key"]: i["score"] for i in items if i["score"] is not None}
            self.status.emit(f"Least confident first: {len(items)} images without a mask scored by run {result['run']}")
            self.confidenceScored.emit(result["run"], scores, [i["key"] for i in items])
        elif name == "export":
            summary: ExportSummary = result
            n = summary.images or len(summary.written)  # a COCO file holds every mask
            what = f"{summary.rle}" if summary.rle else f"{n} mask{'' if n == 1 else 's'} in {summary.out}"
            self.status.emit(f"Exported {what}")
            self.exported.emit(summary)
        self._end(name, outcome)

    def _failed(self, name: str, message: str, details: str) -> None:
        if name == "train":
            self.state.reload_runs()  # the run folder says "failed"
        title = Job(name).failure_title if name in Job._value2member_map_ else f"{name} failed"
        # Another process holds the project, or a quick retrain found nothing to learn: nothing was tried.
        if message.startswith(("project busy", "nothing new to retrain")):
            title = f"{job_label(name)} did not start"
        self.status.emit(f"{title}: {message}")
        self.error.emit(title, message, details)
        self._end(name, "failed")

    def _cancelled(self, name: str) -> None:
        if name == "train":
            self.state.reload_runs()
        self.status.emit(CANCELLED.get(name, f"{job_label(name)} cancelled"))
        self._end(name, "cancelled")
