"""The two click tools that need no training: GrabCut on a crop, and the brush baseline.

GrabCut (OpenCV's ``cv2.grabCut``) models car and background colours with two Gaussian mixtures and cuts
the crop along the cheapest boundary between them. It is seeded from what the editor already has: the
current mask (or the model's probabilities) marks *probable* car and *probable* background, and the clicks
mark *certain* car / background discs. Only the crop is written back, so every pixel outside it, and every
hole (window, wheel gap) elsewhere, stays bit for bit as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .clicks import BBox, Click, crop_box, crop_side
from .masks import paint_segment

CLICK_RADIUS = 5  # full-size pixels made certain around each click
ITERATIONS = 3


def grabcut_refine(
    image: np.ndarray,
    mask: np.ndarray,
    clicks: Sequence[Click],
    box: BBox | None = None,
    prob: np.ndarray | None = None,
    iterations: int = ITERATIONS,
    click_radius: int = CLICK_RADIUS,
) -> np.ndarray:
    """A new 0/1 mask: ``mask`` with the crop ``box`` (default: the refiner's crop around the last click)
    replaced by GrabCut's cut. ``prob`` (full-size probabilities in [0, 1]) seeds the probable labels
    instead of ``mask`` when given. A crop that holds only one label (GrabCut needs both to model the
    colours) gets the click discs painted instead."""
    if not clicks and box is None:
        raise ValueError("GrabCut needs a box or at least one click")
    if box is None:
        box = crop_box(mask.shape, clicks[-1], crop_side(mask, clicks[-1]))
    y0, y1, x0, x1 = box
    seed = (prob[y0:y1, x0:x1] >= 0.5) if prob is not None else (mask[y0:y1, x0:x1] > 0)
    labels = np.where(seed, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    for c in clicks:
        if y0 <= c.y < y1 and x0 <= c.x < x1:
            cv2.circle(labels, (c.x - x0, c.y - y0), click_radius, cv2.GC_FGD if c.positive else cv2.GC_BGD, -1)
    out = (mask > 0).astype(np.uint8)
    fg = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if fg.all() or not fg.any():
        out[y0:y1, x0:x1] = fg
        return out
    crop = np.ascontiguousarray(image[y0:y1, x0:x1, :3])
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(crop, labels, (0, 0, 0, 0), bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)  # rect unused
    out[y0:y1, x0:x1] = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    return out


def brush_click(mask: np.ndarray, click: Click, radius: float) -> np.ndarray:
    """The brush baseline: a new mask with one stamp of the editor's brush (a disc of ``radius``) at the
    click, painted for a positive click and erased for a negative one."""
    out = (mask > 0).astype(np.uint8)
    centre = (click.x + 0.5, click.y + 0.5)  # masks.py points are (x, y) with pixel centres at +0.5
    paint_segment(out, centre, centre, radius, 1 if click.positive else 0)
    return out
