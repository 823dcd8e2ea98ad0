"""Scanning: both layouts, car ids, and every problem reported with the file's name."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from carseg_gui.core.dataset import scan
from carseg_gui.core.jobs import InputError
from carseg_gui.core.preprocess import preprocess
from tests.datasets import car_pair, make_carvana


def test_carvana_layout_pairs_and_car_ids(carvana: Path) -> None:
    ds = scan(carvana)
    assert ds.layout == "carvana"
    assert len(ds.labelled) == 12 and len(ds.unlabelled) == 2
    rec = ds.labelled[0]
    assert rec.car == "car000abcdef" and rec.view == "01"
    assert rec.mask is not None and rec.mask.name == "car000abcdef_01_mask.gif"
    assert ds.problems == []


def test_generic_layout_pairs_by_stem_with_optional_mask_suffix(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    img, mask = car_pair()
    for name, ext in (("a", ".png"), ("b", ".bmp"), ("c", ".tif")):
        cv2.imwrite(str(tmp_path / "images" / f"{name}{ext}"), img)
    cv2.imwrite(str(tmp_path / "masks" / "a.png"), mask * 255)
    cv2.imwrite(str(tmp_path / "masks" / "b_mask.png"), mask * 255)
    ds = scan(tmp_path)
    assert ds.layout == "generic"
    assert {r.stem for r in ds.labelled} == {"a", "b"}
    assert [r.stem for r in ds.unlabelled] == ["c"]
    assert ds.labelled[0].car is None


def test_every_problem_is_named_and_the_rest_is_used(carvana: Path, tmp_path: Path) -> None:
    (carvana / "train" / "notes.txt").write_text("hello")
    (carvana / "train_masks" / "orphan99abcd_01_mask.gif").write_bytes(b"GIF89a")
    (carvana / "train" / "car000abcdef_02.jpg").write_bytes(b"not a jpeg")  # corrupt image
    (carvana / "train_masks" / "car001abcdef_01_mask.gif").write_bytes(b"\x00" * 50)  # corrupt mask
    img, _ = car_pair()
    cv2.imwrite(str(carvana / "train" / "nomask12abcd_01.jpg"), img)
    small = np.zeros((10, 10), np.uint8)
    cv2.imwrite(str(carvana / "train_masks" / "car002abcdef_01_mask.png"), small)
    (carvana / "train_masks" / "car002abcdef_01_mask.gif").unlink()

    cache = preprocess(carvana, tmp_path / "p", size=32)
    reasons = {Path(p["path"]).name: p["reason"] for p in cache.problems}
    assert "not an image file" in reasons["notes.txt"]
    assert "mask without an image" in reasons["orphan99abcd_01_mask.gif"]
    assert "cannot decode" in reasons["car000abcdef_02.jpg"] or "not an image" in reasons["car000abcdef_02.jpg"]
    assert "image used unlabelled" in reasons["car001abcdef_01_mask.gif"]
    assert "no mask found" in reasons["nomask12abcd_01.jpg"]
    assert "10x10 but the image is 144x96" in reasons["car002abcdef_01_mask.png"]
    keys = {r["key"]: r for r in cache.rows}
    assert "train/car000abcdef_02.jpg" not in keys  # unusable image left out
    assert keys["train/car001abcdef_01.jpg"]["labelled"] is False  # bad mask: image kept unlabelled
    assert keys["train/nomask12abcd_01.jpg"]["labelled"] is False
    assert len(cache.labelled_rows()) == 12 - 3


def test_no_dataset_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no dataset found"):
        scan(tmp_path)
    (tmp_path / "train").mkdir()
    with pytest.raises(InputError, match="no images found"):
        scan(tmp_path)


def test_only_corrupt_files_names_them(tmp_path: Path) -> None:
    root = make_carvana(tmp_path / "d", cars=1, views=1, test=0)
    (root / "train" / "car000abcdef_01.jpg").write_bytes(b"junk")
    with pytest.raises(InputError, match=r"car000abcdef_01\.jpg"):
        preprocess(root, tmp_path / "p", size=32)
