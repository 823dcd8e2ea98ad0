"""Mask edit operations: exact pixels, exact bbox diffs, small undo steps; and corrections on disk."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from carseg_gui.core import masks as M
from carseg_gui.core.corrections import corrected_masks, correction_path, load_correction, save_correction


def _centres(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    return xs + 0.5, ys + 0.5


def _segment_distance(h: int, w: int, p0: tuple[float, float], p1: tuple[float, float]) -> np.ndarray:
    """Distance of every pixel centre to the segment, written independently of the module (float64)."""
    xs, ys = _centres(h, w)
    a, b = np.array(p0), np.array(p1)
    d = b - a
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / max(d @ d, 1e-12), 0, 1)
    return np.hypot(xs - a[0] - t * d[0], ys - a[1] - t * d[1])


def test_paint_segment_paints_the_round_brush_and_only_inside_its_bbox() -> None:
    mask = np.zeros((60, 80), np.uint8)
    edit = M.paint_segment(mask, (10.2, 12.7), (50.4, 30.1), 6, 1)
    dist = _segment_distance(60, 80, (10.2, 12.7), (50.4, 30.1))
    # Pixel centres clearly inside/outside agree; float32 rounding may only decide exact ties.
    assert mask[dist < 5.999].all() and not mask[dist > 6.001].any()
    y0, y1, x0, x1 = edit.bbox
    outside = np.ones_like(mask, bool)
    outside[y0:y1, x0:x1] = False
    assert not mask[outside].any()
    assert edit.before.shape == edit.after.shape == (y1 - y0, x1 - x0)


def test_dab_at_image_corner_is_clipped() -> None:
    mask = np.zeros((20, 20), np.uint8)
    edit = M.paint_segment(mask, (0.0, 0.0), (0.0, 0.0), 5, 1)
    assert edit.bbox[0] == 0 and edit.bbox[2] == 0
    assert mask[0, 0] == 1 and mask[4, 0] == 1 and mask[5, 0] == 0  # centres 4.53 and 5.52 away
    off = M.paint_segment(mask, (-50.0, -50.0), (-40.0, -40.0), 5, 1)
    assert off.is_empty


def test_tiny_brush_still_paints_the_pixel_under_the_cursor() -> None:
    mask = np.zeros((10, 10), np.uint8)
    M.paint_segment(mask, (3.0, 3.0), (3.0, 3.0), 0.1, 1)  # on a pixel corner
    assert mask[3, 3] == 1


def test_apply_and_revert_are_bit_exact() -> None:
    rng = np.random.default_rng(1)
    mask = (rng.random((50, 70)) > 0.5).astype(np.uint8)
    start = mask.copy()
    edit = M.paint_segment(mask, (5, 5), (60, 40), 4, 0)
    painted = mask.copy()
    edit.revert(mask)
    assert np.array_equal(mask, start)
    edit.apply(mask)
    assert np.array_equal(mask, painted)
    packed = edit.pack()
    packed.revert(mask)
    assert np.array_equal(mask, start)
    packed.apply(mask)
    assert np.array_equal(mask, painted)
    assert np.array_equal(packed.unpack().before, edit.before)


def test_merged_stroke_is_one_edit_equal_to_its_segments() -> None:
    rng = np.random.default_rng(2)
    mask = (rng.random((120, 160)) > 0.7).astype(np.uint8)
    start = mask.copy()
    pts = [(10.0, 10.0), (40.0, 20.0), (35.0, 90.0), (150.0, 110.0), (20.0, 15.0)]
    segs = [M.paint_segment(mask, a, b, 7, 1) for a, b in itertools.pairwise(pts)]
    end = mask.copy()
    stroke = M.merge_edits(segs, mask)
    stroke.revert(mask)
    assert np.array_equal(mask, start)
    stroke.apply(mask)
    assert np.array_equal(mask, end)
    assert stroke.bbox == (
        min(s.bbox[0] for s in segs),
        max(s.bbox[1] for s in segs),
        min(s.bbox[2] for s in segs),
        max(s.bbox[3] for s in segs),
    )


def test_undo_step_of_a_brush_stroke_is_small() -> None:
    mask = np.zeros((1280, 1918), np.uint8)
    cv2.ellipse(mask, (959, 640), (700, 350), 0, 0, 360, 1, -1)
    xs = np.linspace(300, 1600, 200)
    ys = 640 + 300 * np.sin(np.linspace(0, 3, 200))
    pts = list(zip(xs.tolist(), ys.tolist(), strict=True))
    segs = [M.paint_segment(mask, a, b, 25, 0) for a, b in itertools.pairwise(pts)]
    packed = M.merge_edits(segs, mask).pack()
    assert packed.nbytes < 40_000  # the raw bbox diff is ~1.3 MB, a full mask copy 2.4 MB


def test_flood_fill_fills_a_hole_and_nothing_across_the_wall() -> None:
    mask = np.zeros((40, 40), np.uint8)
    cv2.rectangle(mask, (10, 10), (30, 30), 1, 2)  # a ring with a hole inside
    start = mask.copy()
    edit = M.flood_fill(mask, (20.5, 20.5), 1)
    assert mask[12:29, 12:29].all() and not mask[:9].any() and not mask[:, :9].any()
    assert edit.bbox == (12, 29, 12, 29)
    edit.revert(mask)
    assert np.array_equal(mask, start)
    assert M.flood_fill(mask, (15.0, 10.0), 1).is_empty  # already that value
    assert M.flood_fill(mask, (99.0, 5.0), 1).is_empty  # outside the image


def test_polygon_fill_and_cut_by_pixel_centre() -> None:
    mask = np.zeros((30, 30), np.uint8)
    square = [(5.0, 5.0), (15.0, 5.0), (15.0, 15.0), (5.0, 15.0)]
    edit = M.polygon_fill(mask, square, 1)
    expected = np.zeros_like(mask)
    expected[5:15, 5:15] = 1  # centres 5.5 .. 14.5 lie inside the 5..15 square
    # cv2.fillPoly includes the boundary row/col through pixel centres; the interior is exact.
    assert mask[5:15, 5:15].all()
    assert not mask[:4].any() and not mask[17:].any()
    assert edit.bbox[0] <= 5 and edit.bbox[1] >= 15
    M.polygon_fill(mask, [(8.0, 8.0), (12.0, 8.0), (12.0, 12.0), (8.0, 12.0)], 0)
    assert not mask[8:12, 8:12].any() and mask[5, 5] == 1
    assert M.polygon_fill(mask, [(1.0, 1.0), (2.0, 2.0)], 1).is_empty  # fewer than 3 points


def test_copy_from_takes_only_what_differs_inside_the_region() -> None:
    mask = np.zeros((50, 50), np.uint8)
    pred = np.zeros_like(mask)
    pred[10:20, 10:40] = 1
    region = np.zeros_like(mask, bool)
    region[:, :25] = True
    edit = M.copy_from(mask, pred, region)
    assert edit.bbox == (10, 20, 10, 25)
    assert mask[10:20, 10:25].all() and not mask[:, 25:].any()
    whole = M.copy_from(mask, pred)
    assert np.array_equal(mask, pred) and whole.bbox == (10, 20, 25, 40)
    assert M.copy_from(mask, pred).is_empty


def test_reset_to_the_original() -> None:
    original = np.zeros((20, 20), np.uint8)
    original[5:10, 5:10] = 1
    mask = original.copy()
    M.paint_segment(mask, (15, 15), (18, 2), 2, 1)
    edit = M.reset_to(mask, original)
    assert np.array_equal(mask, original) and not edit.is_empty


def test_disagreement() -> None:
    mask = np.array([[1, 1, 0, 0]], np.uint8)
    pred = np.array([[1, 0, 1, 0]], np.uint8)
    missed, extra = M.disagreement(mask, pred)
    assert missed.tolist() == [[False, True, False, False]]
    assert extra.tolist() == [[False, False, True, False]]


def test_correction_round_trip_and_status_history(tmp_path: Path) -> None:
    mask = np.zeros((30, 40), np.uint8)
    mask[3:9, 4:20] = 1
    save_correction(tmp_path, "train/a.jpg", mask)
    assert correction_path(tmp_path, "train/a.jpg").exists()
    loaded, problem = load_correction(tmp_path, "train/a.jpg", (30, 40))
    assert problem is None and loaded is not None and np.array_equal(loaded, mask)
    assert load_correction(tmp_path, "other.jpg", (30, 40)) == (None, None)

    # An approved correction is still the mask training uses; an unreviewed one is not.
    assert corrected_masks(tmp_path, {"train/a.jpg": "approved"}) == {
        "train/a.jpg": correction_path(tmp_path, "train/a.jpg")
    }
    assert corrected_masks(tmp_path, {"train/a.jpg": "unreviewed"}) == {}


@pytest.mark.parametrize("content", ["wrong size", "garbage"])
def test_bad_correction_is_reported_and_set_aside(tmp_path: Path, content: str) -> None:
    path = correction_path(tmp_path, "b.jpg")
    if content == "garbage":
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not a png")
    else:
        save_correction(tmp_path, "b.jpg", np.ones((10, 10), np.uint8))
    mask, problem = load_correction(tmp_path, "b.jpg", (30, 40))
    assert mask is None and problem and "rejected" in problem
    assert not path.exists()
    assert len(list((tmp_path / "corrections" / "rejected").iterdir())) == 1
