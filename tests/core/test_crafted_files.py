"""Values read from project files are checked before use: no path out of the project, no absurd sizes."""

import json
from pathlib import Path

from carseg_gui.core.cache import inspect_cache
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import find_run, list_runs
from tests.datasets import make_carvana


def make_run(project: Path, run_id: str, **config: object) -> Path:
    folder = project / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"size": 32, **config}))
    (folder / "status.json").write_text(json.dumps({"status": "finished"}))
    (folder / "model.keras").write_bytes(b"model")
    return folder


def test_an_active_run_outside_the_project_is_not_loaded(tmp_path: Path) -> None:
    project = tmp_path / "project"
    good = make_run(project, "20260101-000000")
    outside = make_run(tmp_path / "elsewhere", "x")  # a folder with a model, outside this project
    assert outside.exists()
    for crafted in ("../../elsewhere/runs/x", str(outside), "..", "."):
        assert find_run(project, "active", active=crafted).folder == good


def test_a_crafted_run_size_makes_the_run_broken(tmp_path: Path) -> None:
    project = tmp_path / "project"
    good = make_run(project, "20260101-000000")
    make_run(project, "20260102-000000", size=20000)
    make_run(project, "20260103-000000", size="128")
    make_run(project, "20260104-000000", tta="yes")
    runs = {r.id: r for r in list_runs(project)}
    assert runs[good.name].problem is None
    assert "size 20000 is not a training size" in str(runs["20260102-000000"].problem)
    assert "size '128'" in str(runs["20260103-000000"].problem)
    assert "tta 'yes'" in str(runs["20260104-000000"].problem)
    assert find_run(project, "latest").folder == good


def test_a_crafted_original_size_in_the_index_is_refused(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=1, views=2, test=0)
    project = tmp_path / "project"
    cache = preprocess(data, project, size=32)
    path = cache.folder / "index.json"
    index = json.loads(path.read_text())
    index["rows"][0]["orig"] = [10**9, 10**9]
    index.pop("checksum")
    index["version"] = 1  # an old-format index has no checksum to catch the edit
    path.write_text(json.dumps(index))
    assert "original size" in str(inspect_cache(project, 32)[1])
