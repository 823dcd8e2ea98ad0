"""`carseg train-refiner` as a user runs it (real subprocesses): a tiny refiner on the sample, what its run
records, bad input, and Ctrl+C."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.dataset import scan
from carseg_gui.core.sample import generate_sample
from carseg_gui.session.refiner import NO_REFINER, load_latest
from carseg_gui.session.store import StateStore
from tests.cli.interrupt import ctrl_c_after_first_epoch

# A refiner small enough for the test suite: 4 filters, 2 poolings, 32-px input, 64-px crops.
TINY = ["--input-size", "32", "--crop", "64", "--max-crop", "128", "--filters", "4", "--levels", "2"]
TINY += ["--samples-per-image", "1", "--batch-size", "4"]


def carseg(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carseg_gui.cli", *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return generate_sample(tmp_path / "cars", count=8, width=160, height=112).out


@pytest.mark.slow
def test_one_epoch_on_the_sample_with_a_correction_and_an_exclusion(data: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    dataset = scan(data)
    corrected, excluded = dataset.labelled[0].key, dataset.labelled[1].key
    unlabelled = dataset.unlabelled[0].key  # a person's mask of a test image is a human mask too
    store = StateStore(project)
    for key in (corrected, unlabelled):
        save_correction(project, key, np.ones((112, 160), np.uint8))
        store.set_status(key, "corrected")
    store.set_status(excluded, "excluded")
    assert load_latest(project).problem == NO_REFINER

    r = carseg("train-refiner", data, "--project", project, "--epochs", 1, *TINY)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "best epoch" not in r.stderr
    assert "trained: 1 epoch(s)" in r.stdout and "2 corrected by a person" in r.stdout
    folder = Path(r.stdout.split("refiner folder: ")[1].strip())
    assert folder.parent == project / "refiner_runs" and (folder / "model.keras").is_file()
    config = json.loads((folder / "config.json").read_text())
    keys = config["image_keys"]
    assert excluded not in keys and corrected in keys and unlabelled in keys
    assert len(keys) == len(dataset.labelled) - 1 + 1
    assert config["human_masks"]["corrections"] == sorted([corrected, unlabelled])
    assert config["excluded"] == [excluded] and config["base_crop"] == 64 and config["epochs"] == 1
    assert json.loads((folder / "status.json").read_text())["status"] == "finished"
    latest = load_latest(project)
    assert latest.problem is None and latest.refiner is not None and latest.folder == folder
    assert latest.refiner.input_size == 32 and latest.refiner.base_crop == 64
    # A newer refiner whose model is damaged does not hide this one: it is skipped (and logged).
    newer = folder.parent / "29991231-235959"
    shutil.copytree(folder, newer)
    (newer / "model.keras").write_bytes((newer / "model.keras").read_bytes()[:100])
    assert load_latest(project).folder == folder and load_latest(project).refiner is not None
    shutil.rmtree(folder)  # with no good one left, the damaged one is named
    alone = load_latest(project)
    assert alone.refiner is None and alone.folder == newer and "model.keras" in (alone.problem or "")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--crop", "16"), "--crop must be at least --input-size"),
        (("--input-size", "50"), "--input-size must be a multiple of 16"),
        (("--levels", "9"), "--levels must be 2 to 6"),
        (("--epochs", "0"), "must be at least 1"),
    ],
)
def test_bad_settings_exit_2_with_one_clear_line(
    data: Path, tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    r = carseg("train-refiner", data, "--project", tmp_path / "p", *args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "p" / "refiner_runs").exists()


def test_a_folder_without_a_dataset_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = carseg("train-refiner", tmp_path / "empty")
    assert r.returncode == 2 and "no dataset found" in r.stderr.lower() and "Traceback" not in r.stderr
    r = carseg("train-refiner", tmp_path / "missing")
    assert r.returncode == 2 and "no such folder" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_ctrl_c_cancels_and_keeps_the_last_finished_epoch(data: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    args = ["train-refiner", str(data), "--project", str(project), "--epochs", "50", *TINY]
    returncode, out, err = ctrl_c_after_first_epoch(*args)
    assert returncode == 130, err
    assert "cancelling after this batch" in err and "Traceback" not in err
    assert "cancelled after" in out and "its model of the last finished epoch is kept" in out
    (folder,) = (project / "refiner_runs").iterdir()
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "cancelled" and 1 <= status["epochs_run"] < 50
    assert (folder / "model.keras").is_file() and load_latest(project).folder == folder
