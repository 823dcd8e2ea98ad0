"""The preset chooser in the training panel: choosing "best" applies all its settings (shown or not),
the panel says what the preset adds and what was changed from it, and the run records and shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carseg_gui.qt.panels.runs_list import COLUMNS
from tests.qt.qt_helpers import open_dataset, set_training, wait_job

pytestmark = pytest.mark.slow


def choose_preset(panel, name: str) -> None:  # type: ignore[no-untyped-def]
    index = panel.preset.findData(name)
    panel.preset.setCurrentIndex(index)
    panel.preset.activated.emit(index)  # what a click on the item sends


def test_best_preset_from_the_panel_trains_and_is_shown(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    panel = window.training_panel
    assert panel.preset.currentData() == "recipe"
    assert panel.preset_note.text() == "The recipe exactly as published."
    set_training(window, epochs=10)
    assert panel.preset_note.text() == "Changed from recipe: epochs 10."

    choose_preset(panel, "best")
    assert (panel.spins["size"].value(), panel.spins["batch_size"].value(), panel.spins["epochs"].value()) == (
        256,
        8,
        60,
    )
    config = panel.config()
    assert config.preset == "best" and config.loss == "bce_dice" and config.batch_norm and config.levels == 5
    assert config.tta and config.keep_largest and config.fill_holes and config.augment == "full"
    note = panel.preset_note.text()
    assert note.startswith("Beyond the recipe: BCE + Dice loss, BatchNorm")
    assert "flip TTA" in note and "Changed from" not in note

    # A small run of the best preset's model on the tiny sample: the spins change, the rest stays "best".
    set_training(window, size=32, epochs=2, patience=2, batch_size=8)
    assert "Changed from best: epochs 2, patience 2, size 32." in panel.preset_note.text()
    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert wait_job(qtbot, window, "train", lambda: panel.train_button.click()) == "succeeded"
    assert "Training a best run" not in panel.outcome.text()  # replaced by the outcome
    run = window.state.active()
    assert run is not None and run.status == "finished"
    recorded = json.loads((run.folder / "config.json").read_text())
    assert recorded["preset"] == "best" and recorded["size"] == 32 and recorded["loss"] == "bce_dice"
    assert recorded["levels"] == 5 and recorded["tta"] and recorded["augment"] == "full"

    row = panel.runs.tree.topLevelItem(0)
    assert row.text(COLUMNS.index("Preset")) == "best · epochs 2 · patience 2 · size 32"
    assert "loss: bce_dice" in row.toolTip(0) and "levels: 5" in row.toolTip(0)
    panel.show_run(run.id)
    assert f"Run {run.id} (best preset): finished" in panel.outcome.text()
    expected = f"run {run.id} (best preset, 32 px; flip TTA, largest component, holes filled)"
    assert window.export_panel.run_label.text() == expected

    # Back to the recipe: every hidden setting goes back too.
    choose_preset(panel, "recipe")
    config = panel.config()
    assert config.preset == "recipe" and config.loss == "bce" and not config.batch_norm and config.levels == 4
    assert not config.tta and config.augment == "none" and panel.spins["size"].value() == 128
    assert panel.preset_note.text() == "The recipe exactly as published."


def test_a_project_trained_from_the_cli_opens_with_its_active_runs_settings(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.core.presets import make_config
    from carseg_gui.core.project import default_project
    from carseg_gui.session.actions import train as run_training

    config = make_config("best", size=32, epochs=1, batch_size=8, filters=4)
    run_training(sample, default_project(sample), config)  # as `carseg train --preset best ...` does
    assert open_dataset(qtbot, window, sample) == "succeeded"
    panel = window.training_panel
    assert panel.preset.currentData() == "best" and panel.spins["size"].value() == 32
    assert panel.spins["filters"].value() == 4 and panel.config().loss == "bce_dice"
    assert panel.problem.text() == ""  # the run's resolved xla/precision are not taken as settings
    assert panel.train_button.isEnabled()


def test_the_fast_preset_in_the_panel_sets_its_spins_and_says_what_it_changes(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training_panel
    choose_preset(panel, "fast")
    spins = {name: panel.spins[name].value() for name in ("size", "epochs", "patience", "filters", "batch_size")}
    assert spins == {"size": 256, "epochs": 48, "patience": 2, "filters": 8, "batch_size": 8}
    config = panel.config()
    assert (config.preset, config.upsample, config.warmup_size, config.levels) == ("fast", "guided", 0, 5)
    assert "outline guided by the photo" in panel.preset_note.text()  # what the spins do not show
    assert panel.problem.text() == ""  # valid settings (training waits for a dataset)


@pytest.fixture
def warm_preset(monkeypatch: pytest.MonkeyPatch) -> str:
    """A preset that warms up (none ships now), registered before the window builds its chooser."""
    from carseg_gui.core import config, presets

    settings = {**presets.BEST, "epochs": 36, "warmup_size": 128, "warmup_epochs": 24}
    preset = presets.Preset("warm", "test: progressive resizing", settings)
    monkeypatch.setitem(presets.PRESETS, "warm", preset)
    monkeypatch.setattr(config, "KNOWN_PRESETS", {*config.KNOWN_PRESETS, "warm"})  # what validate() accepts
    return "warm"


def test_a_warming_preset_in_the_panel_fits_its_warmup_to_the_spins(qtbot, warm_preset, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training_panel
    choose_preset(panel, warm_preset)
    config = panel.config()
    assert (config.preset, config.size, config.epochs, config.warmup_size, config.warmup_epochs) == (
        "warm", 256, 36, 128, 24
    )  # fmt: skip
    assert "first 24 epochs at 128 px" in panel.preset_note.text()
    set_training(window, epochs=20)
    assert panel.config().warmup_epochs == 13
    assert "first 13 epochs at 128 px" in panel.preset_note.text() and panel.problem.text() == ""
    set_training(window, size=128)
    assert (panel.config().warmup_size, panel.config().warmup_epochs) == (0, 0)
    assert panel.problem.text() == "" and "epochs at 128 px" not in panel.preset_note.text()
    set_training(window, size=256)
    assert panel.config().warmup_size == 128  # back with the size
