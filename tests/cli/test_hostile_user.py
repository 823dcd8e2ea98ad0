"""What a hostile user did to `carseg` (issue 14), as real subprocesses: each ends in words, not a crash."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasets import make_carvana

LATIN1 = os.fsdecode(b"v\xe9")  # a name byte that is not UTF-8 ('v\udce9')


def carseg(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-m", "carseg_gui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        errors="surrogateescape",
    )


TINY = ("--epochs", 2, "--size", 32, "--filters", 4, "--batch-size", 4, "--val-split", 0.25)


def test_a_second_writer_exits_2_naming_the_holder(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    project = tmp_path / "project"
    project.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom carseg_gui.core.locking import project_lock\n"
         "with project_lock(sys.argv[1], 'train', 'run 20260101-000000'):\n"
         "    print('held', flush=True); sys.stdin.read()\n", str(project)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        r = carseg("preprocess", data, "--project", project)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    assert r.returncode == 2, r.stderr
    assert f"project busy: training run 20260101-000000 (pid {holder.pid}) since " in r.stderr
    assert "Traceback" not in r.stderr and not (project / "cache").exists()


@pytest.mark.slow
def test_a_diverging_learning_rate_fails_the_run(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=3, views=4, test=1)
    project = tmp_path / "project"
    r = carseg("train", data, "--project", project, *TINY, "--learning-rate", "1e30")
    assert r.returncode == 2, r.stderr
    assert "failed: training diverged" in r.stderr and "--learning-rate" in r.stderr
    (run,) = (project / "runs").iterdir()
    assert json.loads((run / "status.json").read_text())["status"] == "failed"
    assert not (run / "model.keras").exists()
    state = project / "state.json"
    assert not state.exists() or json.loads(state.read_text()).get("active_run") != run.name
    r = carseg("predict", data, "--project", project, "--out", tmp_path / "out")
    assert r.returncode == 2 and "no trained run" in r.stderr


@pytest.mark.slow
def test_names_that_are_not_utf8_go_through_train_predict_and_rle(tmp_path: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("only Linux file systems keep names that are not UTF-8")
    # Written under an ASCII name first: the fixture's cv2.imwrite would crash on the other one.
    data = make_carvana(tmp_path / "data", cars=3, views=4, test=1).rename(tmp_path / f"data{LATIN1}")
    for stem in ("car000abcdef_01", "car000abcdef_02"):
        (data / "train" / f"{stem}.jpg").rename(data / "train" / f"{LATIN1}{stem}.jpg")
        (data / "train_masks" / f"{stem}_mask.gif").rename(data / "train_masks" / f"{LATIN1}{stem}_mask.gif")
    shutil.copy(data / "test" / "testcar000ab_01.jpg", data / "test" / f"{LATIN1}_01.jpg")
    r = carseg("train", data, *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    out, sub = tmp_path / "out", tmp_path / "sub.csv"
    r = carseg("predict", data, "--out", out, "--set", "all", "--rle", sub)
    assert r.returncode == 0, r.stderr[-3000:]
    assert {f"{LATIN1}car000abcdef_01.png", f"{LATIN1}_01.png"} <= {p.name for p in out.iterdir()}
    rows = sub.read_bytes().splitlines()
    assert any(line.startswith(b"v\xe9_01.jpg,") for line in rows) and len(rows) == 1 + 3 * 4 + 2
    r = carseg("evaluate", data, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["images"] == 12, r.stderr[-3000:]
