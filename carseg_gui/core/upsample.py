"""Edge-aware upsampling: the probability map brought to the photo's size along the photo's own edges.

Bilinear upsampling (the Carvana measure, :func:`.predict.to_original_size`) draws the outline of a
128 or 256 px prediction 7-15 photo pixels wide and smooth, so the full-size error is thin blobs
along the car's outline. A guided filter (He, Sun and Tang, "Guided Image Filtering", 2010/2013)
fits, in every small window, the upsampled probability as a linear function of the photo's colours:
where the photo has an edge, the probability steps with it. This is the colour-guide version, with
box filters from OpenCV (the installed wheel has no ``cv2.ximgproc``; opencv-contrib would, but it
replaces the cv2 module the project installs).

The filter may only move the outline: pixels farther than ``band`` upsampling factors (2: 30 photo
pixels for a 128 px prediction of a 1918x1280 photo) from the bilinear mask's outline keep the
bilinear decision, so the car's body (and the background far from the car) is never changed,
whatever the photo looks like. Measured on unseen Carvana cars (benchmarks/ACCURACY.md): +0.004
full-size Dice over bilinear at 128 px, for about 0.17 s more per photo.
"""

from __future__ import annotations

import cv2
import numpy as np


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float, subsample: int = 1) -> np.ndarray:
    """He et al.'s guided filter with a colour guide: ``guide`` (h, w, 3) float32 in [0, 1], ``src``
    (h, w) float32; returns the filtered ``src``. ``eps`` is the regulariser on the local colour
    covariance: the smaller it is, the more closely the output follows the guide's edges. With
    ``subsample`` > 1 the linear coefficients are fitted on the images shrunk that many times and
    enlarged again (He and Sun's "fast guided filter", 2015): subsample**2 less work, the same edges
    while the radius stays several times the step."""
    if subsample > 1:
        h, w = src.shape
        size = (max(1, w // subsample), max(1, h // subsample))
        small_guide = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
        small_src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        coef, offset = _coefficients(small_guide, small_src, max(1, round(radius / subsample)), eps)
        coef = [cv2.resize(k, (w, h), interpolation=cv2.INTER_LINEAR) for k in coef]
        offset = cv2.resize(offset, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        coef, offset = _coefficients(guide, src, radius, eps)
    return sum(k * guide[..., c] for c, k in enumerate(coef)) + offset


def _coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[list[np.ndarray], np.ndarray]:
    """The window-averaged linear coefficients: filtered = sum(coef[c] * guide[..., c]) + offset.
    In float64: the covariances are differences of window means, and with a small ``eps`` the
    determinant of a flat window's matrix (~eps**3) is lost in float32's rounding."""
    src = src.astype(np.float64)
    g = [guide[..., c].astype(np.float64) for c in range(3)]
    mean_g = [_box(c, radius) for c in g]
    mean_p = _box(src, radius)
    cov_gp = [_box(c * src, radius) - m * mean_p for c, m in zip(g, mean_g, strict=True)]

    def var(i: int, j: int) -> np.ndarray:
        return _box(g[i] * g[j], radius) - mean_g[i] * mean_g[j] + (eps if i == j else 0.0)

    # The symmetric 3x3 covariance [[a, b, c], [b, d, e], [c, e, f]] per pixel, inverted by its adjugate.
    a, b, c, d, e, f = var(0, 0), var(0, 1), var(0, 2), var(1, 1), var(1, 2), var(2, 2)
    i00, i01, i02 = d * f - e * e, c * e - b * f, b * e - c * d
    i11, i12, i22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * i00 + b * i01 + c * i02
    x, y, z = cov_gp
    coef = [
        (i00 * x + i01 * y + i02 * z) / det,
        (i01 * x + i11 * y + i12 * z) / det,
        (i02 * x + i12 * y + i22 * z) / det,
    ]
    offset = mean_p - sum(k * m for k, m in zip(coef, mean_g, strict=True))
    return [_box(k, radius).astype(np.float32) for k in coef], _box(offset, radius).astype(np.float32)


def guided_upsample(
    prob: np.ndarray,
    image: np.ndarray,
    threshold: float = 0.5,
    radius: float = 2.0,
    eps: float = 1e-5,
    band: float = 2.0,
    subsample: int = 4,
) -> np.ndarray:
    """The 0/1 uint8 mask at the photo's size, (H, W), from ``prob`` (h, w) in [0, 1] and the photo
    ``image`` (H, W, 3) or (H, W), uint8. ``radius`` and ``band`` are in units of the upsampling
    factor (max(H/h, W/w): 15 for 128 px predictions of Carvana's 1918x1280 photos, 7.5 for 256 px):
    the filter's window radius, and how far from the bilinear outline the filter may change a pixel.
    ``subsample``: see :func:`guided_filter`. The defaults are the setting chosen on held-out
    Carvana cars (benchmarks/ACCURACY.md, "Edge-aware upsampling")."""
    prob = np.asarray(prob, np.float32)
    image = np.asarray(image)
    if prob.ndim != 2 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected a (h, w) probability map and an (H, W[, 3]) photo, got {prob.shape}, {image.shape}")
    h, w = image.shape[:2]
    full = cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)
    mask = (full > threshold).astype(np.uint8)
    scale = max(h / prob.shape[0], w / prob.shape[1])
    reach = max(1, round(band * scale))
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    near = cv2.dilate(mask, kernel) > cv2.erode(mask, kernel)  # within `reach` of the outline
    if not near.any():
        return mask
    guide = image.astype(np.float32) / 255.0
    if guide.ndim == 2:
        guide = np.repeat(guide[..., None], 3, axis=2)
    # Only the rows and columns around the outline are filtered: the rest keeps its decision anyway.
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    r = max(1, round(radius * scale))
    top, bottom = max(0, rows[0] - 2 * r), min(h, rows[-1] + 2 * r + 1)
    left, right = max(0, cols[0] - 2 * r), min(w, cols[-1] + 2 * r + 1)
    crop = np.s_[top:bottom, left:right]
    filtered = guided_filter(guide[crop], full[crop], r, eps, subsample)
    out = mask.copy()
    window = near[crop]
    out[crop][window] = (filtered[window] > threshold).astype(np.uint8)
    return out
