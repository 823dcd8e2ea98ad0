"""Grouped split, RLE round-trip, Dice/IoU."""

import numpy as np
import pytest

from carseg_gui.core.metrics import dice, iou
from carseg_gui.core.rle import rle_decode, rle_encode
from carseg_gui.core.split import grouped_split


def test_grouped_split_never_puts_a_car_on_both_sides() -> None:
    rows = list(range(18 * 16))
    cars = [f"car{r // 16:02d}" for r in rows]
    for seed in range(5):
        train, val = grouped_split(rows, cars, 0.1, seed)
        assert sorted(train + val) == rows
        assert {cars[r] for r in train}.isdisjoint({cars[r] for r in val})
        assert 16 <= len(val) <= 48
    assert grouped_split(rows, cars, 0.1, 1) == grouped_split(rows, cars, 0.1, 1)
    assert grouped_split(rows, cars, 0.1, 1) != grouped_split(rows, cars, 0.1, 2)


def test_split_edge_cases() -> None:
    assert grouped_split([0, 1, 2], ["a", "a", "a"], 0.1, 0) == ([0, 1, 2], [])
    assert grouped_split([0, 1], ["a", "b"], 0.0, 0) == ([0, 1], [])
    train, val = grouped_split(list(range(24)), ["x"] * 16 + ["y"] * 8, 0.1, 0)
    assert len(val) == 8 and len(train) == 16  # never the whole data set


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (1280, 1918)])
def test_rle_round_trip(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    mask = (rng.random(shape) > 0.6).astype(np.uint8)
    mask.flat[0] = 1
    mask.flat[-1] = 1
    assert np.array_equal(rle_decode(rle_encode(mask), shape), mask)


def test_rle_matches_kaggle_definition() -> None:
    mask = np.array([[0, 1, 1], [1, 0, 0]], np.uint8)  # row-major pixels 2,3,4
    assert rle_encode(mask) == "2 3"
    assert rle_encode(np.zeros((3, 3))) == ""
    assert rle_decode("", (2, 2)).sum() == 0


def test_dice_iou() -> None:
    a = np.zeros((10, 10), np.uint8)
    b = np.zeros((10, 10), np.uint8)
    assert dice(a, b) == 1.0 and iou(a, b) == 1.0
    a[:5] = 1
    b[:, :5] = 1
    assert dice(a, b) == pytest.approx(0.5)
    assert iou(a, b) == pytest.approx(25 / 75)
