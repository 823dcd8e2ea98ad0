"""The training panel tells the truth: the curves show the run that just ran, scores are named for
what they are, and a comparison of equal numbers is no "better"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carseg_gui.core.project import RunInfo
from carseg_gui.qt.panels.run_words import comparison_word, describe_run, device_words, score_words
from carseg_gui.qt.panels.runs_list import COLUMNS
from tests.qt.qt_helpers import open_dataset, set_training, wait_job


def test_the_status_line_names_which_dice_an_epoch_reports() -> None:
    from carseg_gui.core.jobs import Progress
    from carseg_gui.qt.progress import status_line

    val = Progress("epoch", 3, 50, info={"val_dice": 0.5, "dice": 0.6, "best_epoch": 3})
    assert status_line("train", val) == "Training: epoch 3/50 done · val Dice 0.5000 · best epoch 3"
    no_val = Progress("epoch", 3, 50, info={"dice": 0.6, "best_epoch": 3})
    assert status_line("train", no_val) == "Training: epoch 3/50 done · Dice 0.6000 · best epoch 3"


def test_the_device_line_names_the_precision_and_why() -> None:
    reason = "auto: float32 (bfloat16 needs 1.15x), measured earlier on this CPU: bfloat16 0.13x float32's speed"
    assert device_words("CPU", "float32", reason) == ("Device: CPU · float32", f"Precision: {reason}")
    assert device_words("GPU: H200", "mixed_float16", None) == ("Device: GPU: H200 · float16 compute", "")
    assert device_words("CPU", None, None) == ("Device: CPU", "")  # a run from before precision was recorded


def test_comparison_word_is_at_the_shown_precision() -> None:
    assert comparison_word(0.0, 0.0) == "no change"
    assert comparison_word(0.0, 0.00001) == "no change"  # both read 0.0000
    assert comparison_word(0.5, 0.5001) == "better" and comparison_word(0.5, 0.4999) == "worse"


def test_the_kept_models_score_is_named_and_the_highest_too(tmp_path: Path) -> None:
    run = RunInfo("r1", tmp_path, "finished", {}, {"val_dice": 0.0004, "best_epoch": 3})
    history = [{"val_dice": d} for d in (0.01, 0.02, 0.0004, 0.09, 0.14)]
    text = score_words(run, history)
    assert text.startswith("val Dice 0.0004 at epoch 3, the best (lowest val. loss)")
    assert text.endswith("highest 0.1400 at epoch 5")
    assert "at epoch 3 of 5" in describe_run(run, history)
    assert score_words(run, [{"val_dice": 0.0004}]).endswith("(lowest val. loss)")  # no higher peak: no extra
    assert "Val Dice at best epoch" in COLUMNS


def fake_run(project: Path, run_id: str, epochs: int) -> None:
    folder = project / "runs" / run_id
    folder.mkdir(parents=True)
    history = [{"loss": 9.0 - e, "val_loss": 9.5 - e, "val_dice": 0.1 * e} for e in range(epochs)]
    files = {"config.json": {"size": 32}, "status.json": {"status": "finished"}, "history.json": history,
             "metrics.json": {"val_dice": 0.1, "best_epoch": 2}}  # fmt: skip
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data))


@pytest.mark.slow
def test_curves_show_the_run_that_just_ran(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    st, panel = window.state, window.training_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    fake_run(st.project, "20000101-000000", epochs=3)
    st.reload_runs()
    panel.runs.refresh(select="20000101-000000")
    assert len(panel.curves.history) == 3  # the old run, selected
    set_training(window, size=32, epochs=1, batch_size=8, patience=1)
    said: list[str] = []  # the dataset panel's cache line while the training's batches run
    window.controller.runner.progress.connect(
        lambda _n, p: said.append(window.dataset_panel.cache_label.text()) if p.stage == "batch" else None
    )
    assert wait_job(qtbot, window, "train", lambda: panel.train_button.click()) == "succeeded"
    assert said and all(text.endswith("at 32×32 (built)") for text in said), said  # not "not built yet"
    new = st.runs[-1]
    assert new.id != "20000101-000000"
    assert panel.runs.current().id == new.id  # the list selects the run that ran...
    history = json.loads((new.folder / "history.json").read_text())
    assert panel.curves.history == history and len(history) == 1  # ...and the curves are its own
    assert panel.outcome.text().startswith(f"Run {new.id} finished")
    # The device line names the precision the run computed in; its tooltip says why (the recipe: off).
    assert new.config["dtype_policy"] == "float32"
    assert panel.device_label.text() == "Device: CPU · float32"
    assert panel.device_label.toolTip() == "Precision: float32: mixed precision off"
    # The status bar names the score for what it is: the kept (best-loss) epoch's validation Dice.
    line = window.status.text()
    assert line.startswith(f"Run {new.id} finished: val Dice ") and "at epoch 1, the best (lowest val. loss)" in line
    assert line.endswith("It is now used for prediction") and "best Dice" not in line
    panel.runs.refresh(select="20000101-000000")  # the user picks the old one: its curves
    assert len(panel.curves.history) == 3


def test_chart_axes_follow_the_data_and_legends_cover_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.qt.panels.curves import CurvesView, epoch_axis, loss_decades

    assert epoch_axis(0) == (0.5, 5.5, 1) and epoch_axis(1) == (0.5, 5.5, 1)  # not 0.6-1.4
    assert epoch_axis(50) == (0.5, 50.5, 5) and epoch_axis(12)[2] == 2
    assert loss_decades([]) == (-2.0, 0.0)  # an empty chart: 0.01-1, not 2-9
    assert loss_decades([0.31, 0.05]) == (-2.0, 0.0) and loss_decades([0.5]) == (-1.0, 0.0)
    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(900, 320)
    view.show()
    qtbot.waitExposed(view)
    view.set_history([{"loss": 0.5, "val_loss": 0.6, "dice": 0.2, "val_dice": 0.0004}], best_epoch=1)
    (x0, x1), (y0, y1) = view.loss_plot.getViewBox().viewRange()
    assert (round(x0, 2), round(x1, 2)) == (0.5, 5.5) and (round(y0, 2), round(y1, 2)) == (-1.0, 0.0)
    for plot in (view.loss_plot, view.score_plot):  # the legends are laid out under the plots
        legends = [i for i in plot.getPlotItem().childItems() if type(i).__name__ == "LegendItem"]
        assert legends and all(legend.parentItem() is not plot.getViewBox() for legend in legends)
        qtbot.waitUntil(lambda legend=legends[0]: legend.pos().y() > 0)  # laid out
        box, legend = plot.getViewBox().sceneBoundingRect(), legends[0].sceneBoundingRect()
        assert legend.top() >= box.bottom()
    # The "best" label goes to the left of its line in the right half of the plot: at the last epoch it
    # was drawn past the plot's edge and cut off ("be").
    history = [{"loss": 1.0 / e, "val_loss": 1.2 / e, "dice": 0.1 * e, "val_dice": 0.1 * e} for e in range(1, 10)]
    view.set_history(history, best_epoch=9)
    assert view.loss_best.label.anchors[0] == (1, 0.5) and view.score_best.label.anchors[0] == (1, 0.5)
    view.set_history(history, best_epoch=2)
    assert view.loss_best.label.anchors[0] == (0, 0.5) and view.score_best.label.anchors[0] == (0, 0.5)


@pytest.mark.slow
def test_a_cancelled_run_is_described_as_what_it_kept(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    st, panel = window.state, window.training_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32, epochs=5, batch_size=8, patience=5)

    seen: list[tuple[str, bool, str]] = []

    def cancel_after_the_first_epoch(_name: str, p) -> None:  # type: ignore[no-untyped-def]
        if p.stage == "epoch" and p.done >= 1:
            runs = panel.runs
            current = runs.current()
            seen.append((current.status if current else "", runs.use_button.isEnabled(), runs.use_button.toolTip()))
            window.controller.cancel()

    window.controller.runner.progress.connect(cancel_after_the_first_epoch)
    assert wait_job(qtbot, window, "train", lambda: panel.train_button.click()) == "cancelled"
    run = st.runs[-1]
    assert run.has_model
    # while it trained, the running run could not be made active by hand (training activates it at the end)
    assert seen and seen[0][0] == "running" and not seen[0][1] and "still training" in seen[0][2], seen
    text = panel.outcome.text()
    assert text.startswith(f"Run {run.id} cancelled after ") and text.endswith("Its best model is kept.")
    assert "preparing the cache" not in text and "no run was started" not in text
    assert panel.epoch_label.text().startswith("Cancelled in epoch ")  # not "Epoch 2 / 5" as if running
    # The status bar says the same thing as the panel: what the cancel kept, not "no run was started".
    line = window.status.text()
    assert line.startswith(f"Run {run.id} cancelled after ") and line.endswith("Its best model is kept."), line
