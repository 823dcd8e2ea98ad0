"""Otsu on the masks people really have, read back from real files of each kind."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from carseg_gui.core.imageio import read_mask
from carseg_gui.core.otsu import otsu_mask
from tests.datasets import car_pair, write_gif_mask


@pytest.fixture
def truth() -> np.ndarray:
    return car_pair(120, 180)[1]


def _agree(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean())


def test_palette_gif_0_1(tmp_path: Path, truth: np.ndarray) -> None:
    write_gif_mask(tmp_path / "m.gif", truth)
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "m.gif")), truth)


def test_raw_index_gif_without_grey_palette(tmp_path: Path, truth: np.ndarray) -> None:
    im = Image.frombytes("P", truth.shape[::-1], truth.tobytes())
    im.putpalette([0, 0, 0, 1, 1, 1])  # indices 0/1 with an almost-black palette
    im.save(tmp_path / "m.gif")
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "m.gif")), truth)


def test_png_0_255_and_0_1(tmp_path: Path, truth: np.ndarray) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), truth * 255)
    cv2.imwrite(str(tmp_path / "b.png"), truth)
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "a.png")), truth)
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "b.png")), truth)


def test_antialiased_and_jpeg_compressed(tmp_path: Path, truth: np.ndarray) -> None:
    soft = cv2.GaussianBlur(truth.astype(np.float32) * 255, (7, 7), 2).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "soft.png"), soft)
    cv2.imwrite(str(tmp_path / "m.jpg"), soft, [cv2.IMWRITE_JPEG_QUALITY, 60])
    for name in ("soft.png", "m.jpg"):
        out = otsu_mask(read_mask(tmp_path / name))
        assert _agree(out, truth) > 0.99, name


def test_rgb_and_rgba_masks(tmp_path: Path, truth: np.ndarray) -> None:
    red = np.zeros((*truth.shape, 3), np.uint8)
    red[..., 2] = truth * 255  # BGR: a red car on black
    cv2.imwrite(str(tmp_path / "rgb.png"), red)
    rgba = np.zeros((*truth.shape, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = truth * 255  # cut-out: shape in alpha only
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "rgb.png")), truth)
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "rgba.png")), truth)


def test_16_bit_masks(tmp_path: Path, truth: np.ndarray) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), truth.astype(np.uint16) * 65535)
    cv2.imwrite(str(tmp_path / "b.tif"), truth.astype(np.uint16))
    assert read_mask(tmp_path / "a.png").dtype == np.uint16
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "a.png")), truth)
    assert np.array_equal(otsu_mask(read_mask(tmp_path / "b.tif")), truth)


@pytest.mark.parametrize(
    ("values", "expected"),
    [((0, 0), 0), ((255, 255), 1), ((1, 1), 1), ((0, 3), 0), ((251, 255), 1), ((65535, 65535), 1)],
)
def test_constant_masks_are_all_background_or_all_car(values: tuple[int, int], expected: int) -> None:
    rng = np.random.default_rng(0)
    dtype = np.uint16 if max(values) > 255 else np.uint8
    raw = rng.integers(values[0], values[1] + 1, size=(50, 70)).astype(dtype)
    out = otsu_mask(raw, size=32)
    assert out.shape == (32, 32) and out.dtype == np.uint8
    assert np.all(out == expected)


def test_resize_then_otsu_keeps_shape(truth: np.ndarray) -> None:
    out = otsu_mask(truth * 255, size=64)
    assert out.shape == (64, 64) and set(np.unique(out)) == {0, 1}
    back = cv2.resize(out, truth.shape[::-1], interpolation=cv2.INTER_NEAREST)
    assert _agree(back, truth) > 0.97


def test_fast_gif_path_agrees_with_the_full_size_path(tmp_path: Path) -> None:
    from carseg_gui.core.imageio import read_gif_mask_small
    from carseg_gui.core.otsu import otsu_small

    big = car_pair(1280, 1918)[1]
    write_gif_mask(tmp_path / "m.gif", big)
    pixels, top, shape = read_gif_mask_small(tmp_path / "m.gif", 128)
    assert shape == (1280, 1918) and top == 255
    assert _agree(otsu_small(pixels, top), otsu_mask(read_mask(tmp_path / "m.gif"), 128)) > 0.995
