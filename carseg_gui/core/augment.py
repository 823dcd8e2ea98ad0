"""Training-time augmentation as tf.data ops, applied to whole batches after they leave the cache.

Geometry (horizontal flip, a small shift and scale) is applied to the image and its mask stacked as one
4-channel tensor, so both go through exactly the same transform and stay a pair; colour (brightness,
contrast) touches the image only. Cars are left/right symmetric and photographed centred in a studio,
so the ranges are small: the augmented images still look like the ones the model will be shown.

``flip`` is the horizontal flip alone; ``full`` adds shift/scale and brightness/contrast.
The mask comes out bilinearly resampled (values in [0, 1] on the edges the transform moved).
"""

from __future__ import annotations

from typing import Any

MODES = ("none", "flip", "full")
SHIFT = 0.0625  # at most this fraction of the side, in x and in y
SCALE = 0.10  # zoom factor in [1 - SCALE, 1 + SCALE]
BRIGHTNESS = 0.10  # added, as a fraction of the full range
CONTRAST = 0.15  # factor around each image's mean in [1 - CONTRAST, 1 + CONTRAST]


def augment_batch(images: Any, masks: Any, mode: str = "full", seed: int | None = None) -> tuple[Any, Any]:
    """(uint8 images (B, S, S, 3), float32 masks (B, S, S, 1)) augmented, same shapes and dtypes."""
    from .tf_runtime import load

    tf = load()
    if mode == "none":
        return images, masks
    if mode not in MODES:
        raise ValueError(f"unknown augmentation {mode!r}")
    n = tf.shape(images)[0]
    both = tf.concat([tf.cast(images, tf.float32), tf.cast(masks, tf.float32)], axis=-1)
    flip = tf.random.uniform([n, 1, 1, 1], seed=seed) < 0.5
    both = tf.where(flip, tf.reverse(both, axis=[2]), both)
    if mode == "full":
        both = _shift_scale(tf, both, seed)
    x, y = both[..., :3], both[..., 3:]
    if mode == "full":
        x = _brightness_contrast(tf, x, seed)
    x = tf.cast(tf.round(tf.clip_by_value(x, 0.0, 255.0)), tf.uint8)
    return x, tf.clip_by_value(y, 0.0, 1.0)


def _shift_scale(tf: Any, both: Any, seed: int | None) -> Any:
    """One random zoom about the centre plus a shift per image (bilinear; borders repeat the edge pixels)."""
    n = tf.shape(both)[0]
    h = tf.cast(tf.shape(both)[1], tf.float32)
    w = tf.cast(tf.shape(both)[2], tf.float32)
    s = tf.random.uniform([n], 1.0 - SCALE, 1.0 + SCALE, seed=seed)
    tx = tf.random.uniform([n], -SHIFT, SHIFT, seed=None if seed is None else seed + 1) * w
    ty = tf.random.uniform([n], -SHIFT, SHIFT, seed=None if seed is None else seed + 2) * h
    cx, cy = (w - 1) / 2, (h - 1) / 2
    inv = 1.0 / s
    zero = tf.zeros_like(s)
    # Output pixel (x, y) reads input pixel (x/s + cx(1 - 1/s) - tx, y/s + cy(1 - 1/s) - ty).
    transforms = tf.stack([inv, zero, cx * (1 - inv) - tx, zero, inv, cy * (1 - inv) - ty, zero, zero], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=both,
        transforms=transforms,
        output_shape=tf.shape(both)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )


def _brightness_contrast(tf: Any, x: Any, seed: int | None) -> Any:
    n = tf.shape(x)[0]
    delta = tf.random.uniform([n, 1, 1, 1], -BRIGHTNESS, BRIGHTNESS, seed=None if seed is None else seed + 3) * 255
    factor = tf.random.uniform([n, 1, 1, 1], 1 - CONTRAST, 1 + CONTRAST, seed=None if seed is None else seed + 4)
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * factor + mean + delta
