"""`carseg train --preset best` end to end on a tiny sample, and the run's settings applied afterwards."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.datasets import make_carvana


def carseg(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carseg_gui.cli", *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_preset_best_trains_predicts_and_evaluates_with_its_own_settings(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "d", cars=3, views=4, test=2)
    project, out = tmp_path / "p", tmp_path / "o"
    tiny = ("--size", 32, "--filters", 4, "--batch-size", 4, "--epochs", 2, "--val-split", 0.25)
    r = carseg("train", data, "--project", project, "--preset", "best", *tiny)
    assert r.returncode == 0, r.stderr
    assert "preset best" in r.stdout and "Traceback" not in r.stderr
    run_id = r.stdout.split()[1]
    config = json.loads((project / "runs" / run_id / "config.json").read_text())
    # Every resolved setting is recorded: the preset's own, and the ones given on the command line.
    assert config["preset"] == "best" and config["size"] == 32 and config["epochs"] == 2
    for key in ("loss", "batch_norm", "augment", "lr_schedule", "tta", "keep_largest", "fill_holes"):
        assert key in config, key
    assert config["loss"] == "bce_dice" and config["tta"] and config["keep_largest"] and config["fill_holes"]
    history = json.loads((project / "runs" / run_id / "history.json").read_text())
    assert len(history) == 2 and history[1]["learning_rate"] < history[0]["learning_rate"]  # cosine decays

    r = carseg("evaluate", data, "--project", project, "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["tta"] and ev["keep_largest"] and ev["fill_holes"]
    assert {"dice_full", "dice_full_no_post", "iou_full_no_post"} <= set(ev)

    r = carseg("evaluate", data, "--project", project, "--json", "--tta", "off", "--post", "off")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert not ev["tta"] and not ev["keep_largest"] and "dice_full_no_post" not in ev

    r = carseg("predict", data, "--project", project, "--out", out)
    assert r.returncode == 0, r.stderr
    import cv2

    for png in out.glob("*.png"):  # the masks (manifest.csv beside them)
        m = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        assert m.shape == (96, 144) and set(np.unique(m)) <= {0, 255}
        # keep_largest + fill_holes: a single component without holes, whatever the tiny model predicted.
        if m.any():
            n, _ = cv2.connectedComponents((m > 0).astype(np.uint8), connectivity=8)
            assert n == 2


@pytest.mark.slow
def test_recipe_is_still_the_default_of_carseg_train(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "d", cars=2, views=2, test=0)
    r = carseg("train", data, "--project", tmp_path / "p", "--size", 32, "--filters", 4, "--epochs", 1)
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.split()[1]
    config = json.loads((tmp_path / "p" / "runs" / run_id / "config.json").read_text())
    assert config["preset"] == "recipe" and config["loss"] == "bce" and not config["batch_norm"]
    assert config["augment"] == "none" and config["lr_schedule"] == "none" and not config["tta"]
    assert config["patience"] == 2 and config["batch_size"] == 16 and config["learning_rate"] == 1e-3
    assert config["precision"] == "off" and config["dtype_policy"] == "float32"  # the recipe's arithmetic
    assert config["precision_reason"] == "float32: mixed precision off" and config["precision_measured"] is None
