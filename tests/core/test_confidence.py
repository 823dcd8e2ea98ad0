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


class BlurByColourModel:
    """The dark "car" of each photo as a map, blurred more the redder the car: a known order of doubt."""

    calls = 0

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        BlurByColourModel.calls += 1
        out = []
        for img in batch:
            car = (img.mean(axis=2) < 150).astype(np.float32)
            red = float(img[..., 0][car > 0].mean()) if car.any() else 0.0
            out.append(np.clip(cv2.GaussianBlur(car, (0, 0), 0.3 + red / 40.0), 0.01, 0.99))
        return np.stack(out)[..., None]


def test_confidence_scores_are_cached_per_run_and_dataset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.core.imageio import atomic_write_bytes
    from carseg_gui.core.preprocess import preprocess
    from carseg_gui.core.project import RunInfo
    from tests.datasets import make_carvana

    root = make_carvana(tmp_path / "data", cars=2, views=2, test=4)
    cache = preprocess(root, tmp_path / "project", 32)
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    run = RunInfo(id="r1", folder=run_folder, status="finished", config={}, metrics={})
    model = BlurByColourModel()

    scores = conf.confidence_scores(cache, run, model)
    unlabelled = [cache.rows[r]["key"] for r in cache.unlabelled_rows()]
    assert sorted(scores) == sorted(unlabelled) and len(scores) == 4
    images = cache.read_images(cache.unlabelled_rows())
    probs = model.predict_on_batch(images)[..., 0]
    for key, prob in zip(unlabelled, probs, strict=True):
        assert scores[key] == pytest.approx(conf.confidence(prob), abs=1e-5)
    reds = {k: float(img[..., 0][img.mean(axis=2) < 150].mean()) for k, img in zip(unlabelled, images, strict=True)}
    assert conf.least_confident_first(scores) == sorted(reds, key=lambda k: -reds[k])  # reddest: blurriest

    calls = BlurByColourModel.calls
    assert conf.confidence_scores(cache, run, model) == scores  # from the run's confidence.json
    assert BlurByColourModel.calls == calls
    flip = conf.confidence_scores(cache, run, model, method="flip")  # another method: computed again
    assert BlurByColourModel.calls > calls and set(flip) == set(scores)
    labelled = conf.confidence_scores(cache, run, model, rows=cache.labelled_rows())
    assert len(labelled) == 4

    atomic_write_bytes(run_folder / conf.CACHE_FILE, b"{not json")
    assert conf.confidence_scores(cache, run, model) == scores  # a damaged cache file is computed again

    from tests.datasets import car_pair

    img, _ = car_pair(seed=7)
    cv2.imwrite(str(root / "test" / "newcar000000_01.jpg"), img)  # a new photo: another fingerprint
    grown = preprocess(root, tmp_path / "project", 32)
    assert grown.fingerprint != cache.fingerprint
    calls = BlurByColourModel.calls
    again = conf.confidence_scores(grown, run, model)
    assert BlurByColourModel.calls > calls and len(again) == 5 and "test/newcar000000_01.jpg" in again


def test_least_confident_first_takes_one_view_per_car_at_a_time() -> None:
    scores = {"a_1": 0.1, "a_2": 0.2, "a_3": 0.3, "b_1": 0.5, "b_2": 0.9, "c_1": 0.4}
    cars = {k: k.split("_")[0] for k in scores}
    assert conf.least_confident_first(scores) == ["a_1", "a_2", "a_3", "c_1", "b_1", "b_2"]
    # round 1: each car's least confident view, least confident first; round 2: the second views; ...
    assert conf.least_confident_first(scores, cars) == ["a_1", "c_1", "b_1", "a_2", "b_2", "a_3"]
    assert conf.least_confident_first({}, cars) == []
    assert conf.least_confident_first({"x": 0.5, "y": 0.5}, {}) == ["x", "y"]  # ties: dataset order


def test_least_confident_first_spreads_a_round_over_cars_and_angles() -> None:
    # Every car is least sure of its front (_01) and back (_09) views: per car alone, the first round
    # would be all fronts; with the views, each round takes each angle at most once.
    scores = {
        f"{car}_{v:02d}": base + {1: 0.0, 9: 0.01, 5: 0.3}[v]
        for car, base in (("a", 0.1), ("b", 0.2), ("c", 0.3))
        for v in (1, 9, 5)
    }
    cars = {k: k.split("_")[0] for k in scores}
    views = {k: k.split("_")[1] for k in scores}
    assert conf.least_confident_first(scores, cars)[:3] == ["a_01", "b_01", "c_01"]
    order = conf.least_confident_first(scores, cars, views)
    assert order[:3] == ["a_01", "b_09", "c_05"]  # three cars, three angles
    assert order == ["a_01", "b_09", "c_05", "a_09", "b_01", "c_01", "a_05", "c_09", "b_05"]
