"""GrabCut on a crop and the brush baseline: what changes, and what must not."""

from __future__ import annotations

import cv2
import numpy as np

from carseg_gui.core.clicks import Click, crop_box
from carseg_gui.core.grabcut import brush_click, grabcut_refine


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark car on a light, noisy studio floor, with a light window (a hole in the truth)."""
    rng = np.random.default_rng(0)
    h, w = 400, 600
    image = np.clip(rng.normal(210, 8, (h, w, 3)), 0, 255).astype(np.uint8)
    truth = np.zeros((h, w), np.uint8)
    cv2.rectangle(truth, (100, 120), (500, 300), 1, -1)
    truth[150:200, 380:460] = 0  # the window: a hole in the car
    car = np.clip(rng.normal(60, 8, (h, w, 3)), 0, 255).astype(np.uint8)
    image[truth > 0] = car[truth > 0]
    return image, truth, truth.copy()


def test_grabcut_fills_a_missed_part_and_writes_only_inside_the_crop():
    image, truth, mask = _scene()
    mask[220:290, 150:230] = 0  # a missed part of the body, far from the window
    click = Click(255, 190, True)
    box = crop_box(mask.shape, click, 256)
    out = grabcut_refine(image, mask, [click], box=box)
    y0, y1, x0, x1 = box
    outside = np.ones(mask.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], mask[outside])  # bit-identical outside the crop
    assert out[220:290, 150:230].mean() > 0.98  # the missed part is car again
    assert np.array_equal(out[150:200, 380:460], truth[150:200, 380:460])  # the window survives
    assert out.dtype == np.uint8 and set(np.unique(out)) <= {0, 1}


def test_grabcut_removes_a_false_part_with_a_negative_click():
    image, truth, mask = _scene()
    mask[300:340, 200:300] = 1  # a shadow under the car taken for car
    out = grabcut_refine(image, mask, [Click(320, 250, False)])
    assert out[305:340, 200:300].mean() < 0.05
    assert (out == truth).mean() > 0.995


def test_a_window_in_the_crop_stays_a_hole():
    image, truth, mask = _scene()
    mask[200:215, 300:370] = 0  # a sliver next to the window, which is in the same crop
    out = grabcut_refine(image, mask, [Click(207, 335, True)])
    assert np.array_equal(out[150:200, 380:460], truth[150:200, 380:460])  # the window is inside the crop
    assert out[200:215, 300:370].mean() > 0.95


def test_a_crop_of_one_label_gets_the_click_disc():
    image, _, _ = _scene()
    empty = np.zeros(image.shape[:2], np.uint8)
    out = grabcut_refine(image, empty, [Click(50, 50, True)], box=(0, 100, 0, 100))
    assert out[50, 50] == 1 and out[:, 100:].max() == 0


def test_brush_click_paints_and_erases_a_disc():
    mask = np.zeros((100, 100), np.uint8)
    painted = brush_click(mask, Click(50, 40, True), 10)
    assert mask.max() == 0  # the input is not changed
    assert painted[50, 40] == 1 and painted[50, 49] == 1 and painted[50, 51] == 0
    assert abs(int(painted.sum()) - np.pi * 100) < 20
    erased = brush_click(painted, Click(50, 40, False), 4)
    assert erased[50, 40] == 0 and erased[50, 46] == 1
