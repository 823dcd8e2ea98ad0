"""Ctrl+C during `carseg train` (a real subprocess): the run ends "cancelled", keeps its best finished epoch,
and the command says so with exit status 130, instead of a run stuck "running" for good."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carseg_gui.core.sample import generate_sample
from tests.cli.interrupt import ctrl_c_after_first_epoch


@pytest.mark.slow
def test_ctrl_c_ends_the_run_cancelled_with_its_last_finished_epoch(tmp_path: Path) -> None:
    data = generate_sample(tmp_path / "cars", count=8, width=160, height=112).out
    project = tmp_path / "project"
    tiny = ["--epochs", "50", "--patience", "50", "--size", "32", "--filters", "4", "--batch-size", "4"]
    returncode, out, err = ctrl_c_after_first_epoch("train", str(data), "--project", str(project), *tiny)
    assert returncode == 130, err
    assert "cancelling after this batch" in err and "carseg: cancelled" in err and "Traceback" not in err
    (run,) = (project / "runs").iterdir()
    assert json.loads((run / "status.json").read_text())["status"] == "cancelled"
    metrics = json.loads((run / "metrics.json").read_text())
    assert 1 <= metrics["epochs_run"] < 50 and (run / "model.keras").is_file()
    assert f"run {run.name} cancelled" in out
