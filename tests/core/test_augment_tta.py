"""Augmentation keeps image and mask a pair; flip TTA is shaped and left/right symmetric."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from carseg_gui.core.augment import augment_batch

SIZE = 32


def asymmetric_pairs(n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images whose content *is* their mask (car white, background black), a car off to one side so
    a flip of only one of the two would show, and a different car in each image."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, SIZE, SIZE), np.uint8)
    for i in range(n):
        cx, cy = int(rng.integers(6, 14)), int(rng.integers(10, 22))
        cv2.ellipse(masks[i], (cx, cy), (int(rng.integers(4, 7)), int(rng.integers(3, 6))), 0, 0, 360, 1, -1)
        cv2.rectangle(masks[i], (cx, cy - 2), (cx + 10, cy + 1), 1, -1)  # a "bonnet" pointing right
    images = np.repeat(masks[..., None] * 255, 3, axis=-1).astype(np.uint8)
    return images, masks[..., None].astype(np.float32)


@pytest.mark.parametrize("mode", ["flip", "full"])
def test_augmented_image_and_mask_stay_a_pair(mode: str) -> None:
    images, masks = asymmetric_pairs()
    changed = 0
    for _ in range(4):
        x, y = augment_batch(images, masks, mode)
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == np.uint8 and x.shape == images.shape
        assert y.dtype == np.float32 and y.shape == masks.shape and y.min() >= 0 and y.max() <= 1
        # Brightness/contrast move grey levels by far less than half the range: the car stays bright.
        image_says = x[..., 0] > 127
        mask_says = y[..., 0] > 0.5
        # On the outline, resampling leaves values in between; everywhere else the two must agree.
        sure = (y[..., 0] < 0.25) | (y[..., 0] > 0.75)
        assert sure.mean() > 0.9
        assert np.array_equal(image_says[sure], mask_says[sure])
        changed += int((mask_says != (masks[..., 0] > 0.5)).any(axis=(1, 2)).sum())
    assert changed > 0, "nothing was augmented"


def test_flip_mode_mirrors_both_or_neither() -> None:
    images, masks = asymmetric_pairs()
    x, y = augment_batch(images, masks, "flip")
    x, y = np.asarray(x), np.asarray(y)
    for i in range(len(images)):
        flipped = np.array_equal(x[i], images[i, :, ::-1])
        assert flipped or np.array_equal(x[i], images[i])
        assert np.array_equal(y[i], masks[i, :, ::-1] if flipped else masks[i])


def test_none_is_the_identity() -> None:
    images, masks = asymmetric_pairs()
    x, y = augment_batch(images, masks, "none")
    assert np.array_equal(np.asarray(x), images) and np.array_equal(np.asarray(y), masks)


def test_make_batches_with_augmentation_yields_pairs(tmp_path: Path) -> None:
    from carseg_gui.core.preprocess import preprocess
    from carseg_gui.core.training import make_batches
    from tests.datasets import make_carvana

    root = make_carvana(tmp_path / "d", cars=2, views=3, test=0)
    cache = preprocess(root, tmp_path / "p", SIZE)
    rows = cache.labelled_rows()
    x, y = next(iter(make_batches(cache, rows, 4, shuffle=True, seed=0, augment="full")))
    assert x.shape == (4, SIZE, SIZE, 3) and x.dtype.name == "uint8"
    assert y.shape == (4, SIZE, SIZE, 1) and y.dtype.name == "float32"


@pytest.fixture(scope="module")
def tiny_model():
    from carseg_gui.core.unet import build_unet

    return build_unet(SIZE, 4, "float32", batch_norm=True)


def test_flip_tta_shape_and_symmetry(tiny_model) -> None:
    from carseg_gui.core.predict import with_flip_tta

    tta = with_flip_tta(tiny_model)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    out = np.asarray(tta.predict_on_batch(x))
    assert out.shape == (3, SIZE, SIZE, 1) and out.dtype == np.float32
    assert tta.name.endswith("_tta")
    # The mean of the model on the image and (mirrored back) on its mirror image...
    plain = np.asarray(tiny_model.predict_on_batch(x))
    mirrored = np.asarray(tiny_model.predict_on_batch(x[:, :, ::-1]))[:, :, ::-1]
    np.testing.assert_allclose(out, (plain + mirrored) / 2, atol=1e-5)
    # ...so flipping the input flips the output exactly.
    out_of_flipped = np.asarray(tta.predict_on_batch(np.ascontiguousarray(x[:, :, ::-1])))
    np.testing.assert_allclose(out_of_flipped, out[:, :, ::-1], atol=1e-5)


def test_batch_norm_is_a_switch_on_the_same_unet() -> None:
    from carseg_gui.core.unet import build_unet

    plain, bn = build_unet(SIZE, 4), build_unet(SIZE, 4, batch_norm=True)
    kinds = [type(layer).__name__ for layer in plain.layers]
    assert "BatchNormalization" not in kinds
    assert sum(type(layer).__name__ == "FusedBatchNorm" for layer in bn.layers) == kinds.count("Conv2D") - 1
    assert [type(layer).__name__ for layer in bn.layers if type(layer).__name__ != "FusedBatchNorm"].count(
        "Conv2D"
    ) == kinds.count("Conv2D")


def test_levels_and_dropout_keep_the_u_shape() -> None:
    from carseg_gui.core.unet import build_unet

    deep = build_unet(SIZE, 4, levels=5, dropout=False)
    assert deep.output_shape == (None, SIZE, SIZE, 1)
    kinds = [type(layer).__name__ for layer in deep.layers]
    assert kinds.count("MaxPooling2D") == 5 and kinds.count("Conv2DTranspose") == 5
    assert "Dropout" not in kinds
    assert [type(layer).__name__ for layer in build_unet(SIZE, 4).layers].count("Dropout") == 9
