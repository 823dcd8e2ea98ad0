"""What the window says about a progressively resized run: the chart marks the size switch, the time left
counts the full-size epochs still to come at their cost, and a cancel in the warm-up says why there is
no model."""

from __future__ import annotations

from pathlib import Path

from carseg_gui.core.jobs import Progress
from carseg_gui.core.project import RunInfo
from carseg_gui.qt.panels.run_words import cancelled_text
from carseg_gui.qt.progress import TrainingClock


def test_the_chart_marks_where_the_size_changes(qtbot) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.qt.panels.curves import CurvesView

    view = CurvesView()
    qtbot.addWidget(view)
    history = [{"loss": 0.5, "val_loss": 0.4, "size": s} for s in (128, 128, 128, 256, 256)]
    view.set_history(history, 5)
    for line in view.switches:
        assert line.isVisible() and line.value() == 3.5
        assert line.label.format == "128 → 256 px"
    view.set_history([{"loss": 0.5, "val_loss": 0.4}] * 3, 2)  # a plain run: no mark
    assert not any(line.isVisible() for line in view.switches)


def test_the_time_left_counts_the_full_size_epochs_at_their_cost(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    now = [100.0]
    monkeypatch.setattr("carseg_gui.qt.progress.time.monotonic", lambda: now[0])
    clock = TrainingClock()
    plan = {"epochs": 10, "final_size": 256, "warmup_epochs": 8}

    def batch(epoch: int, done: int, size: int) -> tuple[float | None, float | None]:
        return clock.update(Progress("batch", done, 4, info={"epoch": epoch, "size": size, **plan}))

    assert batch(1, 1, 128) == (None, None)
    now[0] += 1.0
    left_epoch, left_run = batch(1, 2, 128)  # 1 s a batch at 128 px
    assert left_epoch == 2.0
    # the rest of epoch 1 (2 s) + epochs 2-8 at 128 px (7 x 4 s) + epochs 9-10 at 4x (2 x 16 s)
    assert left_run == 2.0 + 28.0 + 32.0
    now[0] += 1.0
    assert batch(9, 1, 256) == (None, None)  # a new size is timed from scratch
    now[0] += 3.0
    left_epoch, left_run = batch(9, 2, 256)
    assert left_epoch == 6.0 and left_run == 6.0 + 12.0


def test_a_cancel_in_the_warmup_says_why_there_is_no_model(tmp_path: Path) -> None:
    import json

    folder = tmp_path / "run1"
    folder.mkdir()
    (folder / "history.json").write_text(json.dumps([{"loss": 0.5, "size": 128}, {"loss": 0.4, "size": 128}]))
    run = RunInfo(id="run1", folder=folder, status="cancelled", config={"size": 256}, metrics={"epochs_run": 2})
    assert cancelled_text(run) == (
        "Run run1 cancelled after 2 warm-up epoch(s) at 128 px: no model was saved "
        "(only an epoch at the training size, 256 px, keeps one)."
    )
