"""Batch prediction from the cache, and probability maps brought back to the original size.

A run's inference settings live in its config.json: ``tta`` (see :func:`with_flip_tta`, applied when
the run's model is loaded, so every caller of ``predict_on_batch`` gets it) and ``keep_largest`` /
``fill_holes`` (see :mod:`.postprocess`, applied by :func:`to_original_size` when given a PostProcess), and
``upsample`` (bilinear, or guided by the photo: :mod:`.upsample`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .cache import Cache
from .jobs import CancelToken, Progress, ProgressFn, no_progress
from .postprocess import PostProcess


def predict_rows(
    model: Any,
    cache: Cache,
    rows: Sequence[int],
    batch_size: int = 32,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (row, probability map at cache size, float32 in [0, 1]) in the order of ``rows``."""
    total = len(rows)
    progress(Progress("predict", 0, total))
    for start in range(0, total, batch_size):
        if cancel:
            cancel.check()
        chunk = list(rows[start : start + batch_size])
        batch = cache.read_images(chunk)
        probs = np.asarray(model.predict_on_batch(batch))[..., 0]
        yield from zip(chunk, probs, strict=True)
        progress(Progress("predict", min(start + batch_size, total), total))


def to_original_size(
    prob: np.ndarray,
    orig: Sequence[int],
    threshold: float = 0.5,
    post: PostProcess | None = None,
    photo: Path | str | None = None,
    upsample: str = "bilinear",
) -> np.ndarray:
    """Upsample to (height, width), threshold, post-process: 0/1 uint8. The one function that brings a
    prediction to an image's size (export, evaluation, the editor's draft). ``upsample="guided"`` follows
    the edges of ``photo`` (read here, at full size); ``bilinear`` is the Carvana measure."""
    h, w = int(orig[0]), int(orig[1])
    if upsample == "guided" and photo is not None:
        from .imageio import read_image
        from .upsample import guided_upsample

        image, _size = read_image(Path(photo))
        mask = guided_upsample(prob.astype(np.float32), image, threshold)
    else:
        full = cv2.resize(prob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        mask = (full > threshold).astype(np.uint8)
    return post(mask) if post is not None and post.active else mask


def with_flip_tta(model: Any) -> Any:
    """A Keras model returning the mean of ``model(x)`` and the un-flipped ``model(flip(x))``.

    Cars are left/right symmetric, so the flipped photo is as good an input as the original; averaging
    the two halves the variance of the edges. Costs a second forward pass; the output is exactly
    left/right equivariant (flipping the input flips the output)."""
    from .tf_runtime import load

    load()
    import keras
    from keras import ops

    inputs = keras.Input(tuple(model.input_shape[1:]), dtype="uint8", name="image")
    plain = model(inputs)
    mirrored = ops.flip(model(ops.flip(inputs, axis=2)), axis=2)
    outputs = keras.layers.Average(name="mask_tta", dtype="float32")([plain, mirrored])
    return keras.Model(inputs, outputs, name=f"{model.name}_tta")
