"""The `carseg` command line end to end, as a user runs it (real subprocesses)."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.datasets import make_carvana


def carseg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carseg_gui.cli", *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_sample_train_predict_evaluate(tmp_path: Path) -> None:
    data, project, out = tmp_path / "s", tmp_path / "p", tmp_path / "o"
    r = carseg("sample", data, "--count", 20, "--seed", 1)
    assert r.returncode == 0, r.stderr
    r = carseg("train", data, "--project", project, "--epochs", 2, "--size", 32, "--filters", 4, "--batch-size", 8)
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.split()[1]
    assert (project / "runs" / run_id / "model.keras").exists()
    assert "Traceback" not in r.stderr

    r = carseg("predict", data, "--project", project, "--out", out, "--set", "test")
    assert r.returncode == 0, r.stderr
    tests = sorted((data / "test").iterdir())
    assert len(tests) >= 2 and sorted(p.name for p in out.glob("*.png")) == [t.stem + ".png" for t in tests]
    for t in tests:
        img = cv2.imread(str(t))
        m = cv2.imread(str(out / f"{t.stem}.png"), cv2.IMREAD_UNCHANGED)
        assert m.shape == img.shape[:2] and set(np.unique(m)) <= {0, 255}

    r = carseg("predict", data, "--project", project, "--out", out)
    assert r.returncode == 2 and "--overwrite" in r.stderr and "Traceback" not in r.stderr

    r = carseg("evaluate", data, "--project", project, "--run", "latest", "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert {"dice_128", "iou_128", "dice_full", "iou_full", "images"} <= set(ev)
    assert ev["images"] == 20 and 0 <= ev["dice_full"] <= 1


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        ("empty", ("preprocess",), "no dataset found"),
        ("junk", ("train", "--epochs", "1"), "a_01"),
        ("good", ("train", "--size", "50"), "multiple of 16"),
        ("good", ("predict", "--out", "o"), "no trained run"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path: Path, setup: str, args: tuple[str, ...], needle: str) -> None:
    data = tmp_path / "d"
    if setup == "empty":
        data.mkdir()
    elif setup == "junk":
        (data / "train").mkdir(parents=True)
        (data / "train_masks").mkdir()
        (data / "train" / "a_01.jpg").write_text("not an image")
        (data / "train_masks" / "a_01_mask.gif").write_bytes(b"\x00" * 300)
    else:
        make_carvana(data, cars=1, views=2, test=0)
    cmd, *rest = args
    r = carseg(cmd, data, "--project", tmp_path / "p", *[str(tmp_path / a) if a == "o" else a for a in rest])
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_unwritable_project_folder_says_to_pass_project(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "d", cars=1, views=2, test=0)
    # Tests run as root, which ignores read-only modes; a file where the folder should be fails the same way.
    (data / ".carseg").write_text("in the way")
    r = carseg("preprocess", data)
    assert r.returncode == 2 and "pass --project" in r.stderr and "Traceback" not in r.stderr
