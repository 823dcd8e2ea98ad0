"""The correction loop's quick retrain: the active run's settings from its best weights, on the new and
corrected images plus a replay of the others, a few epochs at a lower rate; refused when nothing is new."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.jobs import InputError
from carseg_gui.core.presets import make_config
from carseg_gui.session import actions
from carseg_gui.session.annotate import set_status
from tests.datasets import car_pair, make_carvana

pytestmark = pytest.mark.slow


def _base(tmp_path: Path) -> tuple[Path, Path, actions.RunInfo]:
    data = make_carvana(tmp_path / "data", cars=4, views=4, test=3)
    project = tmp_path / "project"
    config = make_config("best", size=32, levels=3, filters=4, epochs=2, batch_size=8, val_split=0.25)
    config.precision = "off"
    run = actions.train(data, project, config).run
    assert run.status == "finished"
    return data, project, run


def test_quick_retrain_learns_the_new_masks_with_a_replay_of_the_rest(tmp_path: Path) -> None:
    data, project, base = _base(tmp_path)
    quick = actions.quick_retrain_config(base)
    assert (quick.size, quick.levels, quick.filters, quick.loss, quick.tta) == (32, 3, 4, "bce_dice", True)
    assert (quick.epochs, quick.patience, quick.lr_schedule, quick.replay) == (6, 6, "cosine", 3)
    assert quick.learning_rate == pytest.approx(base.config["learning_rate"] * 0.3)
    assert quick.init_from == str(base.folder) and quick.preset == "best"

    with pytest.raises(InputError, match=r"nothing new to retrain on: run .* trained on every labelled image"):
        actions.train(data, project, quick)
    assert len(list((project / "runs").iterdir())) == 1  # no run folder for a retrain that did not start

    _, mask = car_pair(96, 144, seed=100)
    save_correction(project, "test/testcar000ab_01.jpg", mask)
    set_status(data, project, "test/testcar000ab_01.jpg", "corrected", note="test")
    quick.epochs = quick.patience = 2
    result = actions.train(data, project, quick, previous=base.id)
    run = result.run
    assert run.status == "finished" and result.activated
    keys = run.config["train_keys"]
    assert "test/testcar000ab_01.jpg" in keys
    assert len(keys) == 1 + 3  # the new mask and 3 of the base run's training images
    assert set(keys) - {"test/testcar000ab_01.jpg"} <= set(base.config["train_keys"])
    assert run.config["val_keys"] == base.config["val_keys"]  # the project's validation cars, kept
    history = json.loads((run.folder / "history.json").read_text())
    assert len(history) == 2 and history[0]["learning_rate"] < base.config["learning_rate"] * 0.3
    assert result.comparison is not None  # before/after on the validation images neither trained on


def test_the_cli_quick_retrain_and_its_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from carseg_gui.cli import main

    data, project, base = _base(tmp_path)
    code = main(["train", str(data), "--project", str(project), "--quick", "--size", "64"])
    assert code == 2
    assert "--quick retrains the active run with its own settings: leave out --size" in capsys.readouterr().err
    assert main(["train", str(data), "--project", str(project), "--quick"]) == 2
    assert "nothing new to retrain on" in capsys.readouterr().err

    key = base.config["train_keys"][0]  # a label the base run trained on, corrected since
    save_correction(project, key, np.ones((96, 144), np.uint8))
    set_status(data, project, key, "corrected", note="test")
    assert main(["train", str(data), "--project", str(project), "--quick", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and f"quick retrain of run {base.id} on 4 images" in out
    runs = sorted(p for p in (project / "runs").iterdir() if p.name != base.id)
    config = json.loads((runs[-1] / "config.json").read_text())
    assert config["init_from"] == str(base.folder) and config["epochs"] == 1 and config["replay"] == 3
    assert key in config["train_keys"] and len(config["train_keys"]) == 4
