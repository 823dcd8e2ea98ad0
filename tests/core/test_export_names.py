"""Export writes one mask per image and one CSV row per image, whatever the names (no TensorFlow)."""

import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from carseg_gui.core.export import export_masks
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import RunInfo
from carseg_gui.core.rle import rle_decode
from tests.datasets import BlobModel, make_carvana


@pytest.fixture
def colliding(tmp_path: Path) -> tuple[Path, Path]:
    """train/X.jpg + test/X.jpg, and test/Y.jpg + test/Y.png."""
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=1)
    shutil.copy(data / "train" / "car000abcdef_01.jpg", data / "test" / "car000abcdef_01.jpg")
    img = cv2.imread(str(data / "test" / "testcar000ab_01.jpg"))
    cv2.imwrite(str(data / "test" / "testcar000ab_01.png"), img[:80])  # another size: another mask
    return data, tmp_path / "project"


def run_info(tmp_path: Path) -> RunInfo:
    return RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {})


def test_colliding_names_get_one_mask_each(colliding: tuple[Path, Path], tmp_path: Path) -> None:
    data, project = colliding
    cache = preprocess(data, project, size=32)
    out, sub = tmp_path / "out", tmp_path / "sub.csv"
    summary = export_masks(cache, run_info(tmp_path), BlobModel(), out, "all", "png", sub)
    images = cache.rows
    files = sorted(p.name for p in out.iterdir() if p.suffix == ".png")
    assert len(summary.written) == len(images) == len(files) == len(set(summary.written))
    assert {"train__car000abcdef_01.jpg.png", "test__car000abcdef_01.jpg.png"} <= set(files)
    assert {"testcar000ab_01.jpg.png", "testcar000ab_01.png.png"} <= {f.split("__")[-1] for f in files}
    assert {k for k, _ in summary.renamed} == {
        "train/car000abcdef_01.jpg", "test/car000abcdef_01.jpg", "test/testcar000ab_01.jpg", "test/testcar000ab_01.png"
    }  # fmt: skip
    with open(sub, newline="") as f:
        table = list(csv.DictReader(f))
    names = [row["img"] for row in table]
    assert len(names) == len(set(names)) == len(images)
    assert {"train/car000abcdef_01.jpg", "test/car000abcdef_01.jpg", "testcar000ab_01.png"} <= set(names)
    png = next(r for r in table if r["img"] == "testcar000ab_01.png")
    written = cv2.imread(str(out / "test__testcar000ab_01.png.png"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (80, 144)
    assert np.array_equal(rle_decode(png["rle_mask"], (80, 144)), (written > 0).astype(np.uint8))
