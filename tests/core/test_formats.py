"""The export formats decode back to the masks written: COCO RLE exactly (pycocotools), YOLO polygons
rasterised back (holes included), the cut-out's alpha (exact, or feathered only near the edge)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from carseg_gui.core import formats
from carseg_gui.core.jobs import InputError
from carseg_gui.core.metrics import iou
from carseg_gui.core.sample import render_view

# pycocotools' decode uses a NumPy 1 idiom that NumPy 2 warns about (harmless: the masks are compared).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.*")


def sample_mask(seed: int = 0, car: int = 0, view: int = 1, w: int = 480, h: int = 320) -> np.ndarray:
    """A mask of the built-in sample (a rendered car: body, cabin, wheels), 0/1."""
    _, mask = render_view(seed, car, view, w, h)
    return (mask > 0).astype(np.uint8)


def holed_mask(h: int = 200, w: int = 300) -> np.ndarray:
    """A car-like ellipse with two holes (windows) and a separate blob with a hole of its own."""
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (130, 100), (100, 60), 0, 0, 360, 1, -1)
    cv2.rectangle(m, (80, 70), (110, 100), 0, -1)
    cv2.circle(m, (170, 100), 18, 0, -1)
    cv2.circle(m, (265, 40), 25, 1, -1)
    cv2.circle(m, (265, 40), 8, 0, -1)
    return m


# --- COCO ---------------------------------------------------------------------------------------------


def test_coco_round_trip_is_exact(tmp_path: Path) -> None:
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    masks = {f"car_{v:02d}.jpg": sample_mask(view=v) for v in (1, 5, 9)}
    masks["holes.png"] = holed_mask()
    masks["nothing.jpg"] = np.zeros((40, 60), np.uint8)
    path = tmp_path / "annotations.json"
    with formats.CocoWriter(path) as writer:
        ids = [writer.add(name, m * 255 if name == "holes.png" else m) for name, m in masks.items()]
    assert ids == [1, 2, 3, 4, 5]
    assert not list(tmp_path.glob(".*.tmp"))

    coco = COCO(str(path))  # the reference reader loads it
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car"]
    for img in coco.loadImgs(coco.getImgIds()):
        truth = masks[img["file_name"]]
        assert (img["height"], img["width"]) == truth.shape
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
        if not truth.any():
            assert anns == []  # an empty mask is an image without annotations
            continue
        (ann,) = anns
        np.testing.assert_array_equal(coco.annToMask(ann), truth)
        np.testing.assert_array_equal(mask_utils.decode(ann["segmentation"]), truth)
        assert ann["area"] == int(truth.sum())
        x, y, w, h = ann["bbox"]
        ys, xs = np.nonzero(truth)
        assert (x, y, x + w - 1, y + h - 1) == (xs.min(), ys.min(), xs.max(), ys.max())
    decoded = formats.read_coco_masks(path)
    assert set(decoded) == set(masks)
    for name, truth in masks.items():
        np.testing.assert_array_equal(decoded[name], truth)


def test_coco_abort_and_errors_leave_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    with pytest.raises(RuntimeError), formats.CocoWriter(path) as writer:
        writer.add("x.jpg", sample_mask())
        raise RuntimeError("cancelled")
    assert list(tmp_path.iterdir()) == []

    writer = formats.CocoWriter(path)
    writer.add("x.jpg", sample_mask())
    with pytest.raises(ValueError, match="already"):
        writer.add("x.jpg", sample_mask())
    with pytest.raises(ValueError, match="2-D"):
        writer.add("y.jpg", np.zeros((4, 4, 3), np.uint8))
    writer.abort()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_coco_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with formats.CocoWriter(tmp_path / "a.json") as writer:
            writer.add("x.jpg", sample_mask())
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    assert json.loads((tmp_path / "a.json").read_text())["images"][0]["file_name"] == "x.jpg"


# --- YOLO ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", [1, 3, 5, 8, 12, 16])
def test_yolo_polygons_rasterise_back(tmp_path: Path, view: int) -> None:
    mask = sample_mask(car=view % 3, view=view)
    path = tmp_path / "car.txt"
    assert formats.write_yolo(path, mask) >= 1
    lines = path.read_text().splitlines()
    for line in lines:
        values = line.split()
        assert values[0] == "0" and len(values) % 2 == 1 and len(values) >= 7
        coords = np.array(values[1:], float)
        assert coords.min() >= 0.0 and coords.max() <= 1.0
    back = formats.read_yolo(path, mask.shape)
    assert iou(mask, back) >= 0.98


def test_yolo_holes_come_back(tmp_path: Path) -> None:
    mask = holed_mask()
    path = tmp_path / "holes.txt"
    assert formats.write_yolo(path, mask) == 2  # two outer outlines, each with its holes joined to it
    back = formats.read_yolo(path, mask.shape)
    assert iou(mask, back) >= 0.98
    assert back[85, 95] == 0 and back[100, 170] == 0 and back[40, 265] == 0  # the holes' centres
    assert back[100, 60] == 1 and back[40, 285] == 1
    # The tolerance simplifies the outline and keeps the holes.
    formats.write_yolo(path, mask, tolerance=1.0)
    coarse = formats.read_yolo(path, mask.shape)
    assert iou(mask, coarse) >= 0.98 and coarse[100, 170] == 0


def test_yolo_empty_and_tiny(tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    assert formats.write_yolo(path, np.zeros((30, 40), np.uint8)) == 0
    assert path.read_text() == ""  # a background image's label file
    one = np.zeros((30, 40), np.uint8)
    one[5, 5] = 1  # a single pixel has no polygon
    one[10:20, 10:30] = 1
    assert formats.write_yolo(path, one, class_id=3) == 1
    assert path.read_text().startswith("3 ")


# --- cut-out ------------------------------------------------------------------------------------------


def photo_and_mask() -> tuple[np.ndarray, np.ndarray]:
    img, mask = render_view(0, 1, 2, 240, 160)
    return img, (mask > 0).astype(np.uint8)


def test_cutout_alpha_is_the_mask(tmp_path: Path) -> None:
    img, mask = photo_and_mask()
    path = tmp_path / "cut.png"
    formats.write_cutout(path, img, mask)
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        rgba = np.asarray(im)
    np.testing.assert_array_equal(rgba[..., 3], mask * 255)
    np.testing.assert_array_equal(rgba[..., :3], img)


def test_cutout_feather_only_near_the_edge(tmp_path: Path) -> None:
    img, mask = photo_and_mask()
    n = 4
    path = tmp_path / "cut.png"
    formats.write_cutout(path, img, mask, feather=n)
    with Image.open(path) as im:
        alpha = np.asarray(im)[..., 3]
    assert (alpha[mask == 0] == 0).all()  # no background bleeds in
    between = (alpha > 0) & (alpha < 255)
    assert between.any()
    # Distance of every pixel to the edge: inside to the background, outside to the car.
    inside = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    assert inside[between].max() <= n
    assert (alpha[inside >= n + 1] == 255).all()  # deeper inside: opaque
    # Monotone in the distance to the edge.
    order = np.argsort(inside[mask > 0])
    assert (np.diff(alpha[mask > 0][order].astype(int)) >= 0).all()


def test_cutout_on_a_background_colour(tmp_path: Path) -> None:
    img, mask = photo_and_mask()
    path = tmp_path / "cut.png"
    formats.write_cutout(path, img, mask, background=formats.parse_colour("#00ff80"))
    with Image.open(path) as im:
        assert im.mode == "RGB"
        rgb = np.asarray(im)
    np.testing.assert_array_equal(rgb[mask > 0], img[mask > 0])
    assert (rgb[mask == 0] == (0, 255, 128)).all()
    soft = formats.cutout(img, mask, feather=3, background=(255, 255, 255))
    a = formats.feather_alpha(mask, 3)[..., None] / 255.0
    expected = img * a + 255 * (1 - a)  # alpha blending over white
    assert np.abs(soft.astype(float) - expected).max() <= 0.5 + 1e-9
    assert ((a > 0) & (a < 1)).any()


def test_cutout_bad_input() -> None:
    img, mask = photo_and_mask()
    with pytest.raises(ValueError, match="differ"):
        formats.cutout(img, mask[:-1])
    assert formats.parse_colour("white") == (255, 255, 255)
    assert formats.parse_colour("10, 20,30") == (10, 20, 30)
    with pytest.raises(InputError, match="#rrggbb"):
        formats.parse_colour("purple-ish")
