"""Confidence scores of probability maps: a crisp map is surer than a blurry one, by every method."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from carseg_gui.core import confidence as conf


def car_map(h: int = 128, w: int = 128, blur: float = 0.0, shift: int = 0) -> np.ndarray:
    """A car-like ellipse as a probability map: crisp (0.01 / 0.99) or Gaussian-blurred by ``blur`` px."""
    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (w // 2 + shift, h // 2 + 8), (w // 3, h // 5), 0, 0, 360, 1.0, -1)
    cv2.rectangle(m, (w // 2 - 20 + shift, h // 2 - 22), (w // 2 + 18 + shift, h // 2 + 8), 1.0, -1)  # the cabin
    if blur > 0:
        m = cv2.GaussianBlur(m, (0, 0), blur)
    return np.clip(m, 0.01, 0.99)


def test_crisp_beats_blurry_for_every_method() -> None:
    crisp = car_map()
    blurry = car_map(blur=4.0)
    # The crisp model agrees with itself on the mirrored photo; the blurry one does not (a shifted guess).
    crisp_flip, blurry_flip = car_map(), car_map(blur=4.0, shift=5)
    for method in conf.METHODS:
        sure = conf.confidence(crisp, crisp_flip, method=method)
        unsure = conf.confidence(blurry, blurry_flip, method=method)
        assert 0.0 <= unsure < sure <= 1.0, method


def test_more_blur_is_less_confident() -> None:
    # Up to 2 px of blur: past the band's width (3 px here) the band method is saturated at 0.
    levels = ((0.5, 1), (1.0, 2), (2.0, 3))
    for method in conf.METHODS:
        scores = [conf.confidence(car_map(blur=b), car_map(blur=b, shift=s), method) for b, s in levels]
        assert scores[0] > scores[1] > scores[2], (method, scores)


def test_default_method_and_inputs() -> None:
    crisp = car_map()
    assert conf.DEFAULT_METHOD in conf.METHODS
    assert conf.DEFAULT_METHOD not in conf.NEEDS_FLIP  # the queue can be scored from the one map it has
    assert conf.confidence(crisp) == conf.confidence(crisp, method=conf.DEFAULT_METHOD)
    as_uint8 = np.round(car_map(blur=2.0) * 255).astype(np.uint8)  # a 0-255 map reads as value / 255
    for method in set(conf.METHODS) - conf.NEEDS_FLIP:
        assert conf.confidence(as_uint8[..., None], method=method) == pytest.approx(
            conf.confidence(as_uint8 / np.float32(255), method=method), abs=1e-6
        )
    assert set(conf.all_confidences(crisp)) == set(conf.METHODS) - conf.NEEDS_FLIP
    assert set(conf.all_confidences(crisp, crisp)) == set(conf.METHODS)


def test_no_car_found_is_least_confident() -> None:
    empty = np.full((64, 64), 0.02, np.float32)
    for method in conf.METHODS:
        assert conf.confidence(empty, empty, method) == 0.0


def test_bad_calls_say_what_is_wrong() -> None:
    crisp = car_map()
    with pytest.raises(ValueError, match="unknown confidence method"):
        conf.confidence(crisp, method="vibes")
    with pytest.raises(ValueError, match="prob_flipped"):
        conf.confidence(crisp, method="flip")
    with pytest.raises(ValueError, match="differ"):
        conf.confidence(crisp, crisp[:-1], method="flip")
    with pytest.raises(ValueError, match="2-D"):
        conf.confidence(np.zeros((2, 8, 8)))


def test_outline_band_surrounds_the_edge() -> None:
    mask = car_map() > 0.5
    band = conf.outline_band(mask, radius=2)
    edge = mask ^ cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert band[edge].all()
    inside = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert not band[inside].any() and not band[0, 0]


class LeftHalfModel:
    """Predicts car on the image's bright pixels: mirroring in, mirroring back must give the same map."""

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        return (batch[..., :1].astype(np.float32) / 255.0) * 0.9


def test_flipped_probs_line_up_with_the_photo() -> None:
    batch = np.zeros((2, 16, 24, 3), np.uint8)
    batch[:, :, :6] = 255  # a bright left strip: not symmetric
    plain = LeftHalfModel().predict_on_batch(batch)[..., 0]
    flipped = conf.flipped_probs(LeftHalfModel(), batch)
    assert flipped.shape == (2, 16, 24)
    np.testing.assert_array_equal(flipped, plain)
    assert conf.confidence(plain[0], flipped[0], "flip") == 1.0
