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


def mask_to_unit(raw: np.ndarray) -> np.ndarray:
    """A float32 single-channel image in [0, 1] from any mask layout and bit depth."""
    arr = np.asarray(raw)
    if arr.ndim == 3:
        arr = _one_channel(arr)
    arr = arr.astype(np.float32, copy=False)
    top = float(arr.max()) if arr.size else 0.0
    if top <= 1.0:
        scale = 1.0
    elif top <= 255.0:
        scale = 255.0
    elif top <= 65535.0:
        scale = 65535.0
    else:
        scale = top
    return arr / scale if scale != 1.0 else arr


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
    unit = mask_to_unit(raw)
    if size is not None and unit.shape != (size, size):
        unit = cv2.resize(unit, (size, size), interpolation=cv2.INTER_AREA)
    return binarise(unit)
