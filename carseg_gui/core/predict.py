"""Batch prediction from the cache, and probability maps brought back to the original size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import cv2
import numpy as np

from .cache import Cache
from .jobs import CancelToken, Progress, ProgressFn, no_progress


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


def to_original_size(prob: np.ndarray, orig: Sequence[int], threshold: float = 0.5) -> np.ndarray:
    """Upsample (bilinear, the Carvana measure) to (height, width) and threshold: 0/1 uint8."""
    h, w = int(orig[0]), int(orig[1])
    full = cv2.resize(prob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return (full > threshold).astype(np.uint8)
