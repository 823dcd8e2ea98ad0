"""One damaged project file never locks the whole project: the cache is rebuilt, a broken run is skipped."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.cache import inspect_cache, open_cache
from carseg_gui.core.jobs import InputError, Progress
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import find_run, list_runs
from tests.datasets import make_carvana


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    data = make_carvana(tmp_path / "data", cars=2, views=3, test=1)
    project = tmp_path / "project"
    cache = preprocess(data, project, size=32)
    return data, project, np.asarray(cache.images()).copy()


def rebuild(data: Path, project: Path) -> tuple[np.ndarray, list[str]]:
    notes: list[str] = []

    def progress(p: Progress) -> None:
        if p.info.get("notice"):
            notes.append(p.info["notice"])

    cache = preprocess(data, project, size=32, progress=progress)
    return np.asarray(cache.images()).copy(), notes


def test_truncated_index_is_rebuilt_and_named(built: tuple[Path, Path, np.ndarray]) -> None:
    data, project, before = built
    index = project / "cache" / "s32" / "index.json"
    index.write_bytes(index.read_bytes()[:100])
    assert open_cache(project, 32) is None and "index.json" in str(inspect_cache(project, 32)[1])
    after, notes = rebuild(data, project)
    assert np.array_equal(after, before)
    assert len(notes) == 1 and str(index) in notes[0] and "damaged" in notes[0]
    assert open_cache(project, 32) is not None


def test_truncated_images_npy_is_not_up_to_date(built: tuple[Path, Path, np.ndarray]) -> None:
    data, project, before = built
    cache = open_cache(project, 32)
    assert cache is not None
    npy = cache.folder / cache.index["generation"] / "images.npy"
    os.truncate(npy, npy.stat().st_size - 1000)
    after, notes = rebuild(data, project)
    assert np.array_equal(after, before)
    assert "images.npy" in notes[0] and "truncated" in notes[0]


def test_an_edited_index_fails_its_checksum(built: tuple[Path, Path, np.ndarray]) -> None:
    data, project, before = built
    path = project / "cache" / "s32" / "index.json"
    index = json.loads(path.read_text())
    index["rows"][0]["labelled"] = not index["rows"][0]["labelled"]
    path.write_text(json.dumps(index))
    assert "checksum" in str(inspect_cache(project, 32)[1])
    assert np.array_equal(rebuild(data, project)[0], before)


def test_a_generation_outside_the_cache_is_refused(built: tuple[Path, Path, np.ndarray]) -> None:
    _data, project, _ = built
    path = project / "cache" / "s32" / "index.json"
    index = json.loads(path.read_text())
    index["generation"] = "../../elsewhere"
    path.write_text(json.dumps(index))
    assert "not a generation name" in str(inspect_cache(project, 32)[1])


def make_run(project: Path, run_id: str) -> Path:
    folder = project / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"size": 32}))
    (folder / "status.json").write_text(json.dumps({"status": "finished"}))
    (folder / "metrics.json").write_text(json.dumps({"val_dice": 0.9}))
    (folder / "model.keras").write_bytes(b"not read here")
    return folder


def test_random_bytes_in_a_status_json_make_that_run_broken_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    good = make_run(project, "20260101-000000")
    bad = make_run(project, "20260102-000000")
    (bad / "status.json").write_bytes(os.urandom(64) + b"\xff\xfe")
    runs = {r.id: r for r in list_runs(project)}
    assert runs[good.name].status == "finished" and runs[good.name].problem is None
    assert runs[bad.name].status == "broken" and str(bad / "status.json") in str(runs[bad.name].problem)
    assert find_run(project, "latest").id == good.name  # the newer, broken one is skipped
    with pytest.raises(InputError, match=r"status\.json"):
        find_run(project, bad.name)


def test_a_run_file_that_is_not_an_object_is_broken(tmp_path: Path) -> None:
    project = tmp_path / "project"
    bad = make_run(project, "20260102-000000")
    (bad / "metrics.json").write_text("[1, 2]")
    (run,) = list_runs(project)
    assert run.status == "broken" and "metrics.json" in str(run.problem)
