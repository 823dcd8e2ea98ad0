"""Clicks on a mask: where the next corrective click goes, the click maps a refiner reads, and the crop
around a click.

The simulator follows the protocol of interactive segmentation papers (RITM, SimpleClick): compare the
current mask with the ground truth, take the largest error region, and click at its most interior pixel
(the maximum of the distance transform; the region is padded with background first, so the image border
counts as boundary). The click is positive ("this is car") when that region is a missed part and negative
("not car") when it is a false part. The papers take the region whose interior point is deepest; the
default here is the region with the most pixels, which is what Dice counts (``by="depth"`` gives theirs).

Coordinates: a click is a pixel ``(y, x)`` = (row, column) of the full-size image; boxes are
``(y0, y1, x0, x1)``, half-open, as in :mod:`.masks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

BBox = tuple[int, int, int, int]

# The crop side a click refines when the error near it is small (measured in benchmarks/bench_clicks.py:
# the model sees it at full resolution), the largest it grows to, and how many times the distance from the
# click to the mask's nearest opposite pixel the crop must span.
BASE_CROP = 256
MAX_CROP = 1024
_SPAN = 4.0
DISC_RADIUS = 5  # click disc radius in model pixels (the papers' choice)


@dataclass(frozen=True)
class Click:
    y: int
    x: int
    positive: bool  # True: "this is car" (left click); False: "not car" (right click)


def error_regions(truth: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(missed, false): in the truth but not the mask, and in the mask but not the truth (booleans)."""
    t, m = np.asarray(truth) > 0, np.asarray(mask) > 0
    return t & ~m, m & ~t


def interior_point(region: np.ndarray) -> tuple[int, int, float]:
    """(y, x, depth): the pixel of ``region`` farthest from its boundary, the image border counting as
    boundary; ties go to the first in raster order, so the choice is deterministic."""
    y0, y1, x0, x1 = _tight_bbox(region)
    sub = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)
    sub[1:-1, 1:-1] = region[y0:y1, x0:x1]
    dist = cv2.distanceTransform(sub, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    k = int(np.argmax(dist))
    py, px = divmod(k, dist.shape[1])
    return y0 + py - 1, x0 + px - 1, float(dist.flat[k])


def _tight_bbox(region: np.ndarray) -> BBox:
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _components(error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, stats) of the 8-connected components of ``error`` (label 0 = outside)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(error.astype(np.uint8), connectivity=8)
    return labels, stats


def next_click(truth: np.ndarray, mask: np.ndarray, by: str = "area") -> Click | None:
    """The next corrective click, or None when the mask equals the truth.

    ``by="area"``: the error region (8-connected, missed and false parts apart) with the most pixels;
    ``by="depth"``: the one whose interior point is farthest from its boundary (RITM's choice)."""
    missed, false = error_regions(truth, mask)
    best: tuple[float, int, int, bool] | None = None  # (score, y, x, positive)
    for error, positive in ((missed, True), (false, False)):
        if not error.any():
            continue
        labels, stats = _components(error)
        order = np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1
        candidates = order[:1] if by == "area" else order[:8]  # the deepest is among the largest few
        for label in candidates:
            x0, y0, w, h, area = (int(v) for v in stats[label])
            y, x, depth = interior_point(labels[y0 : y0 + h, x0 : x0 + w] == label)
            score = float(area) if by == "area" else depth
            if best is None or score > best[0]:
                best = (score, y0 + y, x0 + x, positive)
    if best is None:
        return None
    return Click(best[1], best[2], best[3])


def crop_side(mask: np.ndarray, click: Click, base: int = BASE_CROP, max_side: int = MAX_CROP) -> int:
    """The side of the square crop a click refines: ``base``, grown when the error looks larger.

    Without the truth, the size of the error is judged from the click alone: a click lands in the interior
    of what it corrects, so its distance to the nearest pixel of the mask's other value (the nearest car
    pixel for a positive click outside the mask) is at least the error's half-width; the crop spans a few
    times that, in steps of 32 px."""
    if base >= max_side:
        return base
    half = max_side // 2
    h, w = mask.shape[:2]
    y0, y1 = max(0, click.y - half), min(h, click.y + half)
    x0, x1 = max(0, click.x - half), min(w, click.x + half)
    window = mask[y0:y1, x0:x1] > 0
    value = bool(window[click.y - y0, click.x - x0])
    if value == click.positive:
        return base  # the click agrees with the mask: nothing large to fix under it
    same = (window == value).astype(np.uint8)
    if same.all():
        return max_side
    dist = float(cv2.distanceTransform(same, cv2.DIST_L2, 5)[click.y - y0, click.x - x0])
    side = int(np.ceil(_SPAN * dist / 32.0) * 32)
    return int(min(max(base, side), max_side))


def crop_box(shape: Sequence[int], click: Click, side: int) -> BBox:
    """The ``side`` x ``side`` box centred on the click, shifted to lie inside the image (and clipped
    where the image is smaller than the box)."""
    h, w = int(shape[0]), int(shape[1])

    def span(centre: int, extent: int) -> tuple[int, int]:
        lo = centre - side // 2
        lo = min(max(0, lo), max(0, extent - side))
        return lo, min(extent, lo + side)

    y0, y1 = span(click.y, h)
    x0, x1 = span(click.x, w)
    return y0, y1, x0, x1


def click_maps(clicks: Sequence[Click], box: BBox, out: int, radius: int = DISC_RADIUS) -> np.ndarray:
    """(out, out, 2) float32: discs of ``radius`` at the positive (channel 0) and negative (channel 1)
    clicks inside ``box``, drawn in the coordinates of the box resized to ``out`` x ``out``."""
    y0, y1, x0, x1 = box
    sy, sx = out / max(1, y1 - y0), out / max(1, x1 - x0)
    maps = np.zeros((2, out, out), np.uint8)
    for c in clicks:
        if y0 <= c.y < y1 and x0 <= c.x < x1:
            centre = (int((c.x - x0 + 0.5) * sx), int((c.y - y0 + 0.5) * sy))
            cv2.circle(maps[0 if c.positive else 1], centre, radius, 1, -1)
    return np.ascontiguousarray(maps.transpose(1, 2, 0), dtype=np.float32)
