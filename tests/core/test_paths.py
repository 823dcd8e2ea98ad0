"""Paths the cache keeps are absolute: a command run later from another folder reads the same files."""

import json
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.cache import open_cache
from carseg_gui.core.imageio import read_mask
from carseg_gui.core.preprocess import preprocess
from tests.datasets import make_carvana


def test_relative_dataset_path_is_kept_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_carvana(tmp_path / "a" / "data", cars=2, views=2, test=1)
    # Another folder with a dataset of the same name and layout, but other masks: the wrong one to score.
    make_carvana(tmp_path / "b" / "data", cars=2, views=2, test=1, h=64, w=64)
    project = tmp_path / "project"
    monkeypatch.chdir(tmp_path / "a")
    preprocess(Path("data"), project, size=32)
    monkeypatch.chdir(tmp_path / "b")
    cache = open_cache(project, 32)
    assert cache is not None
    for row in cache.rows:
        assert Path(row["image"]).is_absolute() and Path(row["image"]).is_relative_to(tmp_path / "a")
        if row["mask"]:
            assert read_mask(Path(row["mask"])).shape == (96, 144)  # a/'s masks, not b/'s 64x64 ones
    assert Path(cache.index["root"]) == tmp_path / "a" / "data"


def test_an_index_with_relative_paths_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=1)
    project = tmp_path / "project"
    first = preprocess(data, project, size=32)
    # An index as older versions wrote it: paths as typed, relative to the folder the command ran in.
    index_path = first.folder / "index.json"
    index = json.loads(index_path.read_text())
    for row in index["rows"]:
        row["image"] = str(Path(row["image"]).relative_to(tmp_path))
        row["mask"] = str(Path(row["mask"]).relative_to(tmp_path)) if row["mask"] else None
    index_path.write_text(json.dumps(index))
    before = np.asarray(first.images()).copy()
    monkeypatch.chdir(tmp_path / "project")
    second = preprocess(data, project, size=32)
    assert all(Path(r["image"]).is_absolute() and Path(r["image"]).exists() for r in second.rows)
    assert np.array_equal(np.asarray(second.images()), before)
