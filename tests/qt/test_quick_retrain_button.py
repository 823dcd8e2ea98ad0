"""The training panel's Quick retrain: off without an active run, says why it did not start when nothing is
new, and retrains the active run on a correction without changing the panel's own settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.imageio import read_image
from carseg_gui.session.annotate import set_status
from tests.qt.qt_helpers import open_dataset, set_training, wait_job

pytestmark = pytest.mark.slow


def test_quick_retrain_from_the_panel(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    panel = window.training_panel
    quick = panel.controls.quick
    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert not quick.isEnabled() and "Not now: there is no active run to start from" in quick.toolTip()

    set_training(window, size=32, epochs=1, filters=4)
    assert wait_job(qtbot, window, "train", panel.train_button.click) == "succeeded"
    base = window.state.active()
    assert base is not None
    qtbot.waitUntil(quick.isEnabled)
    assert "6 epochs at 0.3x its learning rate" in quick.toolTip()

    lines: list[str] = []
    window.controller.status.connect(lines.append)
    assert wait_job(qtbot, window, "train", quick.click) == "failed"
    assert any(s.startswith("Training did not start: nothing new to retrain on") for s in lines), lines
    assert [r.id for r in window.state.runs] == [base.id]  # no run folder for it

    key = base.config["train_keys"][0]
    h, w = read_image(sample / key)[1]
    save_correction(window.state.project, key, np.ones((h, w), np.uint8))
    set_status(sample, window.state.project, key, "corrected", note="test")
    assert wait_job(qtbot, window, "train", quick.click) == "succeeded"
    run = window.state.active()
    assert run is not None and run.id != base.id
    assert run.config["init_from"] == str(base.folder) and run.config["replay"] == 3
    assert key in run.config["train_keys"] and run.config["epochs"] == 6
    saved = window.state.project_state().get("train_config", {})
    assert saved.get("epochs") == 1 and not saved.get("init_from")  # the panel's settings, not the quick one's
    assert panel.spins["epochs"].value() == 1
