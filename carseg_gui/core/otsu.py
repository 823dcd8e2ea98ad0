"""Binarising the masks people really have with Otsu's method.

Masks come as 0/1 palette GIFs, 0/255 PNGs, anti-aliased or JPEG-compressed greys, RGB(A), 16-bit.
Everything is first brought to a float image in [0, 1] (the scale is read off the values, not the
dtype, since 0/1 masks are often stored as uint8 or uint16), then thresholded with scikit-image's
Otsu. Otsu needs two classes: a mask that is all background or all car (maybe with JPEG noise)
has none, so a narrow value range is decided by its mean instead.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.filters import threshold_otsu

# Below this spread (in [0, 1] units) a mask is "constant": JPEG noise on an empty mask is ~0.02.
_MIN_CONTRAST = 0.1


def _scale(top: float) -> float:
    """The value that means "car": read off the data, since 0/1 masks come in any dtype."""
    if top <= 1.0:
        return 1.0
    if top <= 255.0:
        return 255.0
    if top <= 65535.0:
        return 65535.0
    return top


def mask_to_unit(raw: np.ndarray) -> np.ndarray:
    """A float32 single-channel image in [0, 1] from any mask layout and bit depth."""
    arr = np.asarray(raw)
    if arr.ndim == 3:
        arr = _one_channel(arr)
    scale = _scale(float(arr.max()) if arr.size else 0.0)
    return arr.astype(np.float32) / np.float32(scale)


def _one_channel(arr: np.ndarray) -> np.ndarray:
    if arr.shape[2] == 1:
        return arr[..., 0]
    colour = arr[..., :3]
    if arr.shape[2] == 4:
        alpha = arr[..., 3]
        # Cut-out style masks draw a uniform colour and put the shape in alpha.
        if np.ptp(colour) == 0 and np.ptp(alpha) > 0:
            return alpha
    # A coloured label on black (red car, white car) is car wherever any channel is lit.
    return colour.max(axis=2)


def binarise(unit: np.ndarray) -> np.ndarray:
    """0/1 uint8 mask from a [0, 1] float image (Otsu, or the mean for a constant mask)."""
    lo, hi = float(unit.min()), float(unit.max())
    if hi - lo < _MIN_CONTRAST:
        return np.full(unit.shape, unit.mean() > 0.5, dtype=np.uint8)
    return (unit > threshold_otsu(unit)).astype(np.uint8)


def otsu_mask(raw: np.ndarray, size: int | None = None) -> np.ndarray:
    """The recipe's mask: resize to ``size`` x ``size`` (if given), then Otsu. 0/1 uint8."""
    arr = np.asarray(raw)
    if arr.ndim == 3:
        arr = _one_channel(arr)
    if size is None or arr.shape == (size, size):
        return binarise(mask_to_unit(arr))
    # Scale is read at full size (a resized noisy mask could look like a 0/1 one), but the
    # float conversion waits until after the resize: 1918x1280 floats cost more than the decode.
    if arr.dtype not in (np.uint8, np.uint16, np.float32):
        arr = arr.astype(np.float32)
    small = cv2.resize(arr, (size, size), interpolation=cv2.INTER_AREA)
    return otsu_small(small, float(arr.max()) if arr.size else 0.0)


def otsu_small(small: np.ndarray, top: float) -> np.ndarray:
    """Otsu on an already resized single-channel mask whose full-size maximum was ``top``."""
    return binarise(small.astype(np.float32) / np.float32(_scale(top)))
