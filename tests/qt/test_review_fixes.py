"""Regressions found in review: the editor writes into the project that is open, the viewer follows it into
another list, the orders get scored for a new active run, and the panels say what the jobs really did."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from carseg_gui.core.corrections import correction_path
from carseg_gui.core.export import ExportSummary
from carseg_gui.core.imageio import atomic_write_json
from carseg_gui.core.jobs import Cancelled, Progress
from carseg_gui.core.project import read_run
from carseg_gui.session import actions, annotate
from carseg_gui.session.actions import QUICK_EPOCHS, TrainResult
from carseg_gui.session.store import StateStore
from tests.qt.qt_helpers import open_dataset, set_training, wait_job

R1, R2 = "20250101-000001", "20250101-000002"


@pytest.fixture(autouse=True)
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The jobs here run stand-ins of the session functions: TensorFlow need not load first."""
    monkeypatch.setattr("carseg_gui.qt.workers.preload_tensorflow", lambda: None)


class FakeModel:
    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        return np.full((*np.asarray(batch).shape[:3], 1), 0.75, dtype=np.float32)


def make_run(project: Path, run_id: str, size: int = 32, model: bool = True, **metrics: Any) -> Path:
    folder = project / "runs" / run_id
    folder.mkdir(parents=True)
    files = {"config.json": {"size": size, "device": "CPU", "preset": "recipe", "epochs": 50, "batch_size": 8},
             "status.json": {"status": "finished"}, "history.json": [{"loss": 0.3, **metrics}],
             "metrics.json": {"best_epoch": 1, "epochs_run": 1, **(metrics or {"val_dice": 0.5})}}  # fmt: skip
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data))
    if model:
        (folder / "model.keras").write_bytes(b"a stand-in: the viewer's loader is given FakeModel")
    return folder


def open_with_runs(qtbot: Any, window: Any, sample: Path, *runs: tuple[str, int], active: str = R1) -> Path:
    """Open ``sample`` with fake runs (id, size), ``active`` the active one, and preprocess at 32 px."""
    project = sample / ".carseg"
    project.mkdir()
    for run_id, size in runs:
        make_run(project, run_id, size)
    atomic_write_json(project / "state.json", {"active_run": active})
    window.viewer_panel.loader.load_model = lambda run: FakeModel()
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    return project


def wait_running(qtbot: Any, window: Any, name: str, start: Any) -> None:
    with qtbot.waitSignal(window.controller.runner.started, check_params_cb=lambda job: job == name):
        start()


# ----- 1, 2: the editor and the viewer
def test_the_editor_of_another_dataset_is_closed_and_the_new_one_writes_into_the_open_project(
    qtbot, window, sample: Path, sample_source: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "second" / "cars"
    shutil.copytree(sample_source, other)
    viewer = window.viewer_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    editor = window.open_image(viewer.rows()[0])
    qtbot.waitUntil(lambda: editor.document is not None)
    doc = editor.document
    doc.mask[:6, :6] = 1 - doc.mask[:6, :6]  # an edit still waiting for its autosave when B opens
    doc.notify_modified(None)
    first_key = editor.current_key

    assert open_dataset(qtbot, window, other) == "succeeded"
    assert window._editor is None  # closed with the dataset it belonged to...
    assert correction_path(sample / ".carseg", first_key).is_file()  # ...after writing its edit into A
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    second = window.open_image(viewer.rows()[1])
    assert second is not editor and second.project == other / ".carseg"
    qtbot.waitUntil(lambda: second.document is not None)
    key = second.current_key
    assert second.items[second.index].image_path.is_relative_to(other)
    second.set_status("approved")
    assert StateStore(other / ".carseg").statuses().get(key) == "approved"
    assert key not in StateStore(sample / ".carseg").statuses()
    assert not correction_path(sample / ".carseg", key).exists() or key == first_key
    second.close()


def test_the_viewer_follows_the_editor_into_a_longer_list(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    viewer = window.viewer_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("test"))
    assert len(viewer.rows()) == 2
    editor = window.open_image(viewer.rows()[0])
    qtbot.waitUntil(lambda: editor.document is not None or editor.current_key in editor.documents.errors)
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("train"))
    rows = viewer.rows()
    target = rows[5]  # past the end of the old two-image list
    assert window.open_image(target) is editor
    assert editor.current_key == window.state.view_cache().rows[target]["key"]
    selected = [viewer.model.rows[i.row()].row for i in viewer.table.selectionModel().selectedRows()]
    assert selected == [target]
    editor.set_index(7)  # stepping in the editor moves the viewer's selection along the new list
    selected = [viewer.model.rows[i.row()].row for i in viewer.table.selectionModel().selectedRows()]
    assert selected == [rows[7]]
    editor.close()


# ----- 3, 7: the viewer's orders are scored for the run that is active, and can be cancelled
def test_a_new_active_run_gets_its_worst_first_queue_scored(qtbot, window, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    scored: list[str] = []
    worst: dict[str, str] = {}

    def fake_review(root, project, run_id, progress, cancel):  # type: ignore[no-untyped-def]
        scored.append(run_id)
        return run_id, {k: (0.1 if k == worst[run_id] else 0.9) for k in keys}

    monkeypatch.setattr(actions, "review", fake_review)
    open_with_runs(qtbot, window, sample, (R1, 32), (R2, 32))
    cache = window.state.view_cache()
    keys = [cache.rows[r]["key"] for r in cache.rows_for_set("train")]
    worst.update({R1: keys[3], R2: keys[11]})
    viewer = window.viewer_panel
    box = viewer.order_box
    assert wait_job(qtbot, window, "review", lambda: box.setCurrentIndex(box.findData("worst"))) == "succeeded"
    assert scored == [R1] and viewer.model.rows[0].key == keys[3]
    assert "until the queue is scored" not in viewer.info.text()

    # Another run becomes the active one (a training ended, or the runs list): its queue is scored too
    assert wait_job(qtbot, window, "review", lambda: window.controller.set_active_run(R2)) == "succeeded"
    assert scored == [R1, R2]
    assert viewer.model.rows[0].key == keys[11] and viewer.view.ranking().run == R2
    assert "until the queue is scored" not in viewer.info.text() and f"run {R2}" in viewer.info.text()


def test_the_viewer_and_the_training_panel_cancel_their_jobs(qtbot, window, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def endless(*_args, cancel, **_kwargs):  # type: ignore[no-untyped-def]
        while not cancel.cancelled:
            time.sleep(0.02)  # the worker's thread waits for the Cancel
        raise Cancelled()

    monkeypatch.setattr(actions, "review", endless)
    monkeypatch.setattr("carseg_gui.session.refiner.train_refiner", endless)
    open_with_runs(qtbot, window, sample, (R1, 32))
    viewer, panel = window.viewer_panel, window.training_panel
    assert not viewer.cancel_b.isEnabled()
    box = viewer.order_box
    wait_running(qtbot, window, "review", lambda: box.setCurrentIndex(box.findData("worst")))
    assert viewer.cancel_b.isEnabled() and "Not now" not in viewer.cancel_b.toolTip()
    assert wait_job(qtbot, window, "review", viewer.cancel_b.click) == "cancelled"
    assert "scoring cancelled" in viewer.info.text()

    wait_running(qtbot, window, "refiner", panel.controls.refiner.click)
    assert panel.cancel_button.isEnabled() and "Not now" not in panel.cancel_button.toolTip()
    assert wait_job(qtbot, window, "refiner", panel.cancel_button.click) == "cancelled"
    assert "Training the click refiner cancelled" in window.status.text()


# ----- 4, 5, 10: the training panel's words
def test_a_quick_retrain_is_described_with_its_own_settings(qtbot, window, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, Any] = {}

    def fake_train(root, project, config, progress, cancel, previous=None, new_split=False):  # type: ignore[no-untyped-def]
        seen["config"] = config
        while not cancel.cancelled:
            time.sleep(0.02)
        raise Cancelled()

    monkeypatch.setattr(actions, "train", fake_train)
    open_with_runs(qtbot, window, sample, (R1, 32))
    panel = window.training_panel
    set_training(window, epochs=40, size=64, batch_size=4)  # the boxes: not what a quick retrain uses
    wait_running(qtbot, window, "train", panel.controls.quick.click)
    text = panel.outcome.text()
    assert text.startswith(f"Quick retrain of run {R1}") and f"{QUICK_EPOCHS} epochs" in text
    assert "32×32, batch 8" in text and "up to 40" not in text and "64×64" not in text
    assert wait_job(qtbot, window, "train", window.controller.cancel) == "cancelled"
    assert seen["config"].epochs == QUICK_EPOCHS and seen["config"].size == 32


@pytest.mark.parametrize("with_model", [False, True])
def test_a_run_without_validation_says_dice_and_active_only_when_it_is(  # type: ignore[no-untyped-def]
    qtbot, window, sample: Path, monkeypatch, with_model: bool
) -> None:
    new = "20991231-000000"

    def fake_train(root, project, config, progress, cancel, previous=None, new_split=False):  # type: ignore[no-untyped-def]
        progress(Progress("epoch", 1, 1, info={"dice": 0.8, "loss": 0.2, "best_epoch": 1}))
        run = read_run(make_run(project, new, 32, model=with_model, dice=0.8))
        if with_model:
            StateStore(project).set_active_run(new)  # as session.actions.train does for a run with a model
        return TrainResult(run, None, None, with_model)

    monkeypatch.setattr(actions, "train", fake_train)
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, epochs=1, size=32, val_split=0)
    panel = window.training_panel
    assert wait_job(qtbot, window, "train", panel.train_button.click) == "succeeded"
    assert panel.epoch_label.text() == "Epoch 1 / 1 done · Dice 0.8000 · best epoch 1"  # not "val Dice"
    item = panel.runs.tree.topLevelItem(0)
    assert item.text(1) == new and item.text(4) == "0.8000 (training)"
    assert "No validation images" in item.toolTip(4)
    outcome = panel.outcome.text()
    assert outcome.startswith(f"Run {new} finished") and "Dice 0.8000" in outcome and "val Dice" not in outcome
    assert (window.state.active_run == new) is with_model
    assert ("It is now active." in outcome) is with_model
    if not with_model:
        assert "without a saved model" in outcome and "The active run is unchanged." in outcome


# ----- 6, 9: the export panel
def test_the_export_result_says_what_the_export_was_started_with(  # type: ignore[no-untyped-def]
    qtbot, window, sample: Path, monkeypatch, tmp_path: Path
) -> None:
    go = threading.Event()
    asked: dict[str, Any] = {}

    def fake_export(root, project, out, run, which, fmt, rle, threshold, overwrite, progress, cancel, **kw):  # type: ignore[no-untyped-def]
        asked.update(kw)
        progress(Progress("export", 0, 2))
        go.wait(60)
        written = [Path(out) / "a.png", Path(out) / "b.png"]
        return ExportSummary(Path(out), written, None, which, run, by_person=1, images=2)

    monkeypatch.setattr(annotate, "export", fake_export)
    open_with_runs(qtbot, window, sample, (R1, 32))
    panel = window.export_panel
    panel.folder.setText(str(tmp_path / "out"))
    panel.overwrite.setChecked(True)
    panel.predictions_only.setChecked(False)
    wait_running(qtbot, window, "export", panel.start)
    assert not any(w.isEnabled() for w in (panel.predictions_only, panel.format_box, panel.folder, panel.cutout))
    panel.predictions_only.setChecked(True)  # changed on screen while it runs (a script, or a stale click)
    with qtbot.waitSignal(window.controller.jobEnded):
        go.set()
    assert asked["predictions_only"] is False
    assert "1 by you, 1 prediction" in panel.summary.text() and "all predictions" not in panel.summary.text()
    assert all(w.isEnabled() for w in (panel.predictions_only, panel.format_box, panel.folder, panel.cutout))


def test_the_export_plan_follows_the_cutout_options_and_the_active_run(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    open_with_runs(qtbot, window, sample, (R1, 32), (R2, 48))
    panel = window.export_panel
    panel.set_box.setCurrentIndex(panel.set_box.findData("train"))
    panel.format_box.setCurrentIndex(panel.format_box.findData("cutout"))
    assert panel.plan.text().startswith("20 files")
    assert "RGBA (transparent background), a hard edge" in panel.plan.text()
    panel.cutout.background.setCurrentIndex(panel.cutout.background.findData("white"))
    assert "on white (RGB)" in panel.plan.text() and "RGBA" not in panel.plan.text()
    panel.cutout.feather.setValue(3)
    assert "on white (RGB), a 3 px soft edge" in panel.plan.text()
    window.controller.set_active_run(R2)  # 48 px: no cache at that size yet
    assert panel.plan.text() == "(preprocess the dataset to see how many images)"
    window.controller.set_active_run(R1)
    assert panel.plan.text().startswith("20 files")


# ----- 8: the dataset panel
def test_the_dataset_bar_is_cleared_when_training_stops_preprocessing(qtbot, window, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def fake_train(root, project, config, progress, cancel, previous=None, new_split=False):  # type: ignore[no-untyped-def]
        progress(Progress("preprocess", 0, 16, info={"size": config.size}))
        while not cancel.cancelled:
            progress(Progress("preprocess", 6, 16, info={"size": config.size}))
            time.sleep(0.02)
        raise Cancelled()

    monkeypatch.setattr(actions, "train", fake_train)
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    panel = window.dataset_panel
    wait_running(qtbot, window, "train", window.training_panel.train_button.click)
    qtbot.waitUntil(lambda: panel.bar.value() == 6 and panel.rate_label.text().strip() != "")
    assert panel.bar.text() == "6 / 16 images"
    assert wait_job(qtbot, window, "train", window.controller.cancel) == "cancelled"
    assert panel.bar.text() == "" and panel.bar.value() == 0 and panel.rate_label.text().strip() == ""
