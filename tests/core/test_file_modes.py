"""Files the app writes get the mode the umask gives (as open() would), not mkstemp's 0600."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.export import export_masks
from carseg_gui.core.imageio import atomic_write_json
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import RunInfo
from carseg_gui.core.sample import generate_sample
from tests.datasets import BlobModel, make_carvana


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    expected = 0o666 & ~umask
    atomic_write_json(tmp_path / "a.json", {"a": 1})
    assert mode(tmp_path / "a.json") == expected
    project = tmp_path / "project"
    assert mode(save_correction(project, "train/x.jpg", np.ones((4, 4), np.uint8))) == expected
    data = make_carvana(tmp_path / "data", cars=1, views=1, test=1)
    cache = preprocess(data, project, size=32)
    run = RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {})
    summary = export_masks(cache, run, BlobModel(), tmp_path / "out", "all", "png", tmp_path / "sub.csv")
    assert {mode(p) for p in summary.written} == {expected}
    assert mode(tmp_path / "sub.csv") == expected and mode(cache.folder / "index.json") == expected
    info = generate_sample(tmp_path / "sample", count=2, seed=0)
    assert {mode(p) for p in Path(info.out).rglob("*") if p.is_file()} == {expected}
