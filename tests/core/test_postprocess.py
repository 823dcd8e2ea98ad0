"""Post-processing removes stray blobs and fills holes, and never removes the car's main body."""

import cv2
import numpy as np
import pytest
from scipy import ndimage

from carseg_gui.core.postprocess import (
    PostProcess,
    fill_holes,
    keep_largest_component,
    postprocess,
    postprocess_probability,
)


def car_with_blob_and_hole(h: int = 64, w: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mask, body, blob, hole): an elliptic body with a window-shaped hole, and a shadow blob apart from it."""
    body = np.zeros((h, w), np.uint8)
    cv2.ellipse(body, (w // 2, h // 2), (w // 3, h // 4), 0, 0, 360, 1, -1)
    hole = np.zeros_like(body)
    cv2.rectangle(hole, (w // 2 - 5, h // 2 - 3), (w // 2 + 5, h // 2 + 2), 1, -1)
    blob = np.zeros_like(body)
    cv2.circle(blob, (5, h - 6), 3, 1, -1)
    mask = (body & (1 - hole)) | blob
    return mask, body, blob, hole


def test_keep_largest_removes_the_blob_and_keeps_every_body_pixel() -> None:
    mask, body, blob, hole = car_with_blob_and_hole()
    out = keep_largest_component(mask)
    assert out.dtype == np.uint8 and set(np.unique(out)) <= {0, 1}
    assert not (out & blob).any()
    assert np.array_equal(out, body & (1 - hole))


def test_fill_holes_fills_the_window_and_nothing_outside_the_car() -> None:
    mask, body, blob, _hole = car_with_blob_and_hole()
    out = fill_holes(mask)
    assert np.array_equal(out, body | blob)
    assert np.array_equal(out, ndimage.binary_fill_holes(mask).astype(np.uint8))


def test_both_steps_give_the_whole_car() -> None:
    mask, body, _blob, _hole = car_with_blob_and_hole()
    assert np.array_equal(postprocess(mask), body)
    assert np.array_equal(PostProcess(True, True)(mask), body)
    assert np.array_equal(PostProcess()(mask), mask) and not PostProcess().active


def test_background_touching_the_border_is_not_a_hole() -> None:
    # A car cut by the bottom edge with a notch open to the border: the notch is background, not a hole.
    mask = np.zeros((40, 60), np.uint8)
    mask[20:, 10:50] = 1
    mask[30:, 28:32] = 0
    assert np.array_equal(fill_holes(mask), mask)


@pytest.mark.parametrize("seed", range(20))
def test_the_main_body_is_never_removed_on_random_masks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask, body, _blob, _hole = car_with_blob_and_hole()
    # Noise speckles everywhere, a few of them touching the body, plus random holes in it.
    noise = (rng.random(mask.shape) < 0.03).astype(np.uint8)
    holes = (rng.random(mask.shape) < 0.05).astype(np.uint8)
    noisy = (mask | noise) & (1 - holes * body)
    labels, _ = ndimage.label(noisy, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    main = labels == 1 + int(np.argmax(sizes))
    out = postprocess(noisy)
    assert (out[main] == 1).all(), "a pixel of the largest component was removed"
    assert np.array_equal(out, ndimage.binary_fill_holes(main).astype(np.uint8))


def test_empty_and_full_masks_are_left_alone() -> None:
    for mask in (np.zeros((8, 8), np.uint8), np.ones((8, 8), np.uint8)):
        assert np.array_equal(postprocess(mask), mask)


def test_from_config_reads_the_run_settings_and_defaults_to_off() -> None:
    assert PostProcess.from_config({}) == PostProcess(False, False)
    assert PostProcess.from_config({"keep_largest": True, "fill_holes": False}) == PostProcess(True, False)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_probability_map_thresholds_to_the_post_processed_mask(dtype: type) -> None:
    rng = np.random.default_rng(3)
    mask = np.zeros((64, 96), np.uint8)
    mask[10:50, 10:80] = 1  # the car
    mask[20:30, 30:40] = 0  # a window
    mask[55:60, 85:92] = 1  # a shadow blob
    top = 255 if dtype is np.uint8 else 1.0
    soft = np.where(mask, 0.6 + 0.4 * rng.random(mask.shape), 0.4 * rng.random(mask.shape))
    prob = (soft * top).astype(dtype)
    post = PostProcess(keep_largest=True, fill_holes=True)
    out = postprocess_probability(prob, post)
    assert out.dtype == prob.dtype
    np.testing.assert_array_equal(out > 0.5 * top, postprocess(prob > 0.5 * top).astype(bool))
    body = postprocess(mask).astype(bool) & mask.astype(bool)
    np.testing.assert_array_equal(out[body], prob[body])  # the car's own values are kept
    assert postprocess_probability(prob, PostProcess()) is prob  # off: untouched
