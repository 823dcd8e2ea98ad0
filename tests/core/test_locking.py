"""One writer per project across processes; re-entrant within one; a pinned cache generation survives."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.cache import generation_in_use
from carseg_gui.core.locking import INFO_NAME, ProjectBusy, lock_holder, project_lock
from carseg_gui.core.preprocess import preprocess
from tests.datasets import make_carvana

HOLDER = """
import sys
from carseg_gui.core.locking import project_lock
with project_lock(sys.argv[1], "train", "run 20260101-120000"):
    print("held", flush=True)
    sys.stdin.read()
"""


def hold(project: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(project)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_told_who_holds_the_project(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    project = tmp_path / "project"
    proc = hold(project)
    try:
        with pytest.raises(ProjectBusy) as err:
            preprocess(data, project, size=32)
        text = str(err.value)
        assert text.startswith(f"project busy: training run 20260101-120000 (pid {proc.pid}) since 20")
        assert not (project / "cache").exists()  # refused before writing anything
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    assert lock_holder(project) is None
    assert preprocess(data, project, size=32).rows  # free again once the holder ended


def test_an_up_to_date_cache_is_read_while_another_process_writes(tmp_path: Path) -> None:
    """`carseg review` or `carseg status` in a second terminal while a training runs: nothing to write, so
    nothing to refuse; a cache that would have to change is still refused, and nothing is written."""
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    project = tmp_path / "project"
    first = preprocess(data, project, size=32)
    proc = hold(project)
    try:
        again = preprocess(data, project, size=32)
        assert again.index["generation"] == first.index["generation"]
        assert np.array_equal(again.read_masks([0]), first.read_masks([0]))
        os.utime(data / "train" / "car000abcdef_01.jpg", (1e9, 1e9))
        with pytest.raises(ProjectBusy, match="project busy: training run 20260101-120000"):
            preprocess(data, project, size=32)
        assert sorted(p.name for p in first.folder.iterdir() if p.name.startswith("gen-")) == [
            first.index["generation"]
        ]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


def test_a_killed_holder_leaves_the_project_free(tmp_path: Path) -> None:
    project = tmp_path / "project"
    proc = hold(project)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert (project / INFO_NAME).exists()  # its stale sidecar does not matter: the OS dropped the lock
    with project_lock(project, "preprocess"):
        assert lock_holder(project)["pid"] == os.getpid()  # type: ignore[index]


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    project = tmp_path / "project"
    with project_lock(project, "train", "run A") as outer:
        with project_lock(project, "preprocess"):  # train calls preprocess
            assert lock_holder(project)["job"] == "train"  # type: ignore[index]
        seen: list[str] = []
        worker = threading.Thread(target=lambda: seen.append(_enter(project)))
        worker.start()
        worker.join()
        assert seen == ["ok"]
        outer.update("run B")
        assert lock_holder(project)["detail"] == "run B"  # type: ignore[index]
    assert lock_holder(project) is None


def _enter(project: Path) -> str:
    with project_lock(project, "export"):
        return "ok"


def test_a_generation_in_use_by_a_training_is_not_deleted(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    project = tmp_path / "project"
    first = preprocess(data, project, size=32)
    before = np.asarray(first.images()).copy()
    gen = first.folder / first.index["generation"]
    with generation_in_use(first):
        for n in range(3):  # three rebuilds: without the pin, the first generation goes at the second
            os.utime(data / "train" / "car000abcdef_01.jpg", (1e9 + n, 1e9 + n))
            preprocess(data, project, size=32)
        assert gen.is_dir()
        assert np.array_equal(first.read_images(list(range(len(first.rows)))), before)
    preprocess(data, project, size=32)  # unpinned now: the next rebuild cleans it up
    os.utime(data / "train" / "car000abcdef_01.jpg", (2e9, 2e9))
    preprocess(data, project, size=32)
    assert not gen.exists()
