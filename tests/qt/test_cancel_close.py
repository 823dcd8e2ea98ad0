"""Cancelling preprocessing and training, and closing the window while a job runs."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from carseg_gui.core import preprocess as preprocess_module
from carseg_gui.core.cache import cache_folder
from carseg_gui.core.project import list_runs
from carseg_gui.qt.panels.runs_list import COLUMNS
from tests.qt.qt_helpers import open_dataset, set_training, wait_job

pytestmark = pytest.mark.slow


def first_progress(qtbot, window, stage: str, timeout: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the running job reports progress of ``stage``."""
    with qtbot.waitSignal(
        window.controller.runner.progress, timeout=timeout, check_params_cb=lambda _n, p: p.stage == stage
    ):
        pass


def test_cancel_preprocessing_keeps_no_partial_cache(qtbot, window, sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = preprocess_module.decode_pair

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.1)  # a dataset big enough to cancel in the middle of
        return real(*args, **kwargs)

    monkeypatch.setattr(preprocess_module, "decode_pair", slow)
    open_dataset(qtbot, window, sample)
    set_training(window, size=32)

    def start_and_cancel() -> bool:
        started = window.controller.preprocess()
        first_progress(qtbot, window, "preprocess")
        assert window.dataset_panel.cancel_button.isEnabled()
        window.dataset_panel.cancel_button.click()
        return started

    assert wait_job(qtbot, window, "preprocess", start_and_cancel, 60_000) == "cancelled"
    assert 32 not in window.state.caches
    folder = cache_folder(window.state.project, 32)
    assert not (folder / "index.json").exists()
    assert not [p for p in folder.glob("*") if p.is_dir()], "a half-built cache generation was left behind"
    assert "Cancelled" in window.dataset_panel.rate_label.text()
    assert not window.dataset_panel.cancel_button.isEnabled()
    assert window.dataset_panel.preprocess_button.isEnabled()


def test_cancel_training_within_a_batch(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    open_dataset(qtbot, window, sample)
    set_training(window, size=32, epochs=30, batch_size=2, patience=30)
    cancelled_at: list[float] = []

    def start_and_cancel() -> bool:
        started = window.controller.train(window.training_panel.config())
        first_progress(qtbot, window, "batch")
        assert window.training_panel.cancel_button.isEnabled()
        assert not window.training_panel.train_button.isEnabled()
        assert "Training is running" in window.dataset_panel.preprocess_button.toolTip()
        cancelled_at.append(time.perf_counter())
        window.training_panel.cancel_button.click()
        return started

    assert wait_job(qtbot, window, "train", start_and_cancel) == "cancelled"
    took = time.perf_counter() - cancelled_at[0]
    print(f"\ncancel to job end: {took:.2f} s")
    assert took < 10, f"cancel took {took:.1f} s"
    runs = list_runs(window.state.project)
    assert len(runs) == 1 and runs[0].status == "cancelled"
    assert "cancelled" in window.training_panel.outcome.text()
    assert window.training_panel.runs.tree.topLevelItem(0).text(COLUMNS.index("Status")) == "cancelled"
    assert window.training_panel.train_button.isEnabled()


def test_cancel_while_timing_the_precision(qtbot, window, sample: Path, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The first auto-precision training on a machine times bfloat16 (tens of seconds): the panel says so,
    a cancel then ends the job with no run and no cached answer, and no line still says "Timing…"."""
    from carseg_gui.core import precision

    def slow_timing(cancel):  # type: ignore[no-untyped-def]
        while True:  # as measure_speeds: checks the token between steps
            cancel.check()
            time.sleep(0.02)

    monkeypatch.setenv("CARSEG_PRECISION_PROBE", "on")
    monkeypatch.setenv("CARSEG_PRECISION_CACHE", str(tmp_path / "precision.json"))
    monkeypatch.setattr(precision, "measure_speeds", slow_timing)
    open_dataset(qtbot, window, sample)
    set_training(window, size=32)
    panel = window.training_panel

    def start_and_cancel() -> bool:
        started = window.controller.train(replace(panel.config(), precision="auto"))  # as the best preset
        qtbot.waitUntil(lambda: panel.epoch_label.text().startswith("Timing bfloat16"), timeout=120_000)
        assert window.status.text().startswith("Timing bfloat16 against float32 on this CPU")
        panel.cancel_button.click()
        return started

    assert wait_job(qtbot, window, "train", start_and_cancel) == "cancelled"
    assert list_runs(window.state.project) == [] and not (tmp_path / "precision.json").exists()
    assert panel.epoch_label.text() == "Epoch –"
    assert window.status.text().startswith("Training cancelled before a run was started")


def test_close_during_training_asks_cancels_and_waits(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    open_dataset(qtbot, window, sample)
    set_training(window, size=32, epochs=30, batch_size=2, patience=30)
    assert window.controller.train(window.training_panel.config())
    first_progress(qtbot, window, "batch")

    questions: list[str] = []
    window.ask = lambda _title, question: questions.append(question) or False
    window.close()  # "no": keep going
    assert window.isVisible() and window.controller.runner.busy

    window.ask = lambda _title, question: questions.append(question) or True
    window.close()
    assert questions and "Training is running" in questions[-1]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert not window.controller.runner.busy
    assert list_runs(window.state.project)[0].status == "cancelled"
