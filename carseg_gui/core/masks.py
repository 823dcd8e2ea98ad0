"""Edit operations on 0/1 masks, each returning the bounding-box diff that undoes it.

Every operation changes the mask in place and returns a :class:`MaskEdit`: the bbox it touched and
the pixels there before and after. Undo keeps these diffs, never a copy of the whole mask (napari's
labels layer keeps the same bbox atoms; labelme's deep-copied snapshots are what this avoids). A
drag of the brush is many segments; :func:`merge_edits` folds them into one edit, one undo step.
An edit is packed (:meth:`MaskEdit.pack`) before it is kept: bits + zlib, usually a few KiB.

Coordinates: points are ``(x, y)`` floats in image pixels, pixel ``(row i, col j)`` covering
``[j, j+1) x [i, i+1)``, so its centre is ``(j + 0.5, i + 0.5)``; this is also the scene coordinate
of the Qt canvas, so a point from the mouse needs no conversion. Bboxes are ``(y0, y1, x0, x1)``,
half-open, ready for ``mask[y0:y1, x0:x1]``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

BBox = tuple[int, int, int, int]
Point = tuple[float, float]

# A brush narrower than this could fall between pixel centres and paint nothing at all.
_MIN_RADIUS = 0.71
_EMPTY: BBox = (0, 0, 0, 0)


def _area(bbox: BBox) -> int:
    y0, y1, x0, x1 = bbox
    return max(0, y1 - y0) * max(0, x1 - x0)


def _slices(bbox: BBox) -> tuple[slice, slice]:
    y0, y1, x0, x1 = bbox
    return slice(y0, y1), slice(x0, x1)


@dataclass(frozen=True)
class MaskEdit:
    """The pixels of ``bbox`` before and after one operation (uint8 arrays of the bbox's shape)."""

    bbox: BBox
    before: np.ndarray
    after: np.ndarray

    @property
    def is_empty(self) -> bool:
        """True when nothing changed: callers skip pushing such an edit onto the undo stack."""
        return _area(self.bbox) == 0 or bool(np.array_equal(self.before, self.after))

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)

    def apply(self, mask: np.ndarray) -> None:
        mask[_slices(self.bbox)] = self.after

    def revert(self, mask: np.ndarray) -> None:
        mask[_slices(self.bbox)] = self.before

    def pack(self) -> PackedEdit:
        return PackedEdit.from_edit(self)


@dataclass(frozen=True)
class PackedEdit:
    """A MaskEdit as kept on the undo stack: 1 bit per pixel, zlib-compressed.

    0/1 masks compress to almost nothing along a brush stroke (long runs), and packing first makes
    zlib 8x faster; a mask with other values falls back to zlib of the raw bytes.
    """

    bbox: BBox
    before_z: bytes
    after_z: bytes
    bits: bool

    @classmethod
    def from_edit(cls, edit: MaskEdit) -> PackedEdit:
        bits = bool(edit.before.max(initial=0) <= 1 and edit.after.max(initial=0) <= 1)

        def squeeze(a: np.ndarray) -> bytes:
            raw = np.packbits(a, axis=None) if bits else np.ascontiguousarray(a, np.uint8)
            return zlib.compress(raw.tobytes(), 1)

        return cls(edit.bbox, squeeze(edit.before), squeeze(edit.after), bits)

    def _unpack(self, data: bytes) -> np.ndarray:
        y0, y1, x0, x1 = self.bbox
        shape = (y1 - y0, x1 - x0)
        raw = np.frombuffer(zlib.decompress(data), np.uint8)
        if self.bits:
            raw = np.unpackbits(raw, count=shape[0] * shape[1])
        return raw.reshape(shape)

    @property
    def nbytes(self) -> int:
        return len(self.before_z) + len(self.after_z)

    def unpack(self) -> MaskEdit:
        return MaskEdit(self.bbox, self._unpack(self.before_z), self._unpack(self.after_z))

    def apply(self, mask: np.ndarray) -> None:
        mask[_slices(self.bbox)] = self._unpack(self.after_z)

    def revert(self, mask: np.ndarray) -> None:
        mask[_slices(self.bbox)] = self._unpack(self.before_z)


def _edit(mask: np.ndarray, bbox: BBox, change: np.ndarray, value: int) -> MaskEdit:
    """Set ``mask[bbox][change] = value`` and return the diff."""
    if _area(bbox) == 0:
        return MaskEdit(_EMPTY, np.zeros((0, 0), mask.dtype), np.zeros((0, 0), mask.dtype))
    region = mask[_slices(bbox)]
    before = region.copy()
    region[change] = value
    return MaskEdit(bbox, before, region.copy())


def _clip(mask: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> BBox:
    h, w = mask.shape[:2]
    y0, y1, x0, x1 = max(0, y0), min(h, y1), max(0, x0), min(w, x1)
    return (y0, y1, x0, x1) if y1 > y0 and x1 > x0 else _EMPTY


def bbox_of(where: np.ndarray) -> BBox:
    """The tight bbox of the True pixels of a 2-D boolean array (empty bbox if none)."""
    rows = np.flatnonzero(where.any(axis=1))
    if rows.size == 0:
        return _EMPTY
    cols = np.flatnonzero(where[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def brush_footprint(bbox: BBox, p0: Point, p1: Point, radius: float) -> np.ndarray:
    """Pixels of ``bbox`` whose centre lies within ``radius`` of the segment p0-p1 (a round brush).

    Computed exactly in numpy rather than with cv2.line(thickness=...): OpenCV's fixed-point thick
    lines are off by a pixel here and there, and "a stroke changes exactly these pixels" is what the
    tests and the preview circle promise.
    """
    y0, y1, x0, x1 = bbox
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    ax, ay = p0
    dx, dy = p1[0] - ax, p1[1] - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        d2 = (xs - ax) ** 2 + (ys - ay) ** 2
    else:
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
        d2 = (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2
    return np.asarray(d2 <= radius * radius)


def paint_segment(mask: np.ndarray, p0: Point, p1: Point, radius: float, value: int) -> MaskEdit:
    """A round brush of ``radius`` dragged from p0 to p1 (p0 == p1: a dab)."""
    r = max(float(radius), _MIN_RADIUS)
    bbox = _clip(
        mask,
        math.floor(min(p0[1], p1[1]) - r),
        math.ceil(max(p0[1], p1[1]) + r) + 1,
        math.floor(min(p0[0], p1[0]) - r),
        math.ceil(max(p0[0], p1[0]) + r) + 1,
    )
    if _area(bbox) == 0:
        return _edit(mask, bbox, np.zeros((0, 0), bool), value)
    return _edit(mask, bbox, brush_footprint(bbox, p0, p1, r), value)


def flood_fill(mask: np.ndarray, seed: Point, value: int) -> MaskEdit:
    """Set the 4-connected region of equal pixels around ``seed`` to ``value``."""
    h, w = mask.shape[:2]
    x, y = math.floor(seed[0]), math.floor(seed[1])
    if not (0 <= x < w and 0 <= y < h) or mask[y, x] == value:
        return _edit(mask, _EMPTY, np.zeros((0, 0), bool), value)
    region = np.zeros((h + 2, w + 2), np.uint8)
    # MASK_ONLY: OpenCV marks the region in `region` and reports its rect; the mask itself is
    # changed below through _edit so that the diff is recorded. loDiff/upDiff 0 = equal values only.
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(np.ascontiguousarray(mask), region, (x, y), 0, 0, 0, flags)
    bbox = (ry, ry + rh, rx, rx + rw)
    return _edit(mask, bbox, region[1:-1, 1:-1][_slices(bbox)].astype(bool), value)


def polygon_region(shape: tuple[int, int], points: Sequence[Point]) -> tuple[BBox, np.ndarray]:
    """The bbox of a polygon and the pixels inside it (by pixel centre, as cv2.fillPoly decides)."""
    if len(points) < 3:
        return _EMPTY, np.zeros((0, 0), bool)
    pts = np.asarray(points, np.float64)
    h, w = shape
    y0, y1 = max(0, math.floor(pts[:, 1].min())), min(h, math.ceil(pts[:, 1].max()) + 1)
    x0, x1 = max(0, math.floor(pts[:, 0].min())), min(w, math.ceil(pts[:, 0].max()) + 1)
    if y1 <= y0 or x1 <= x0:
        return _EMPTY, np.zeros((0, 0), bool)
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    # OpenCV puts integer coordinates on pixel centres; ours are at +0.5. 4 fractional bits.
    shift = 4
    fixed = np.round((pts - [x0 + 0.5, y0 + 0.5]) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(inside, [fixed], 1, cv2.LINE_8, shift)
    return (y0, y1, x0, x1), inside.astype(bool)


def polygon_fill(mask: np.ndarray, points: Sequence[Point], value: int) -> MaskEdit:
    """Fill (value 1) or cut (value 0) the polygon through ``points``."""
    bbox, inside = polygon_region(mask.shape[:2], points)
    return _edit(mask, bbox, inside, value)


def copy_from(mask: np.ndarray, source: np.ndarray, region: np.ndarray | None = None) -> MaskEdit:
    """Copy ``source`` into ``mask`` (inside ``region``, a full-size boolean map, if given).

    "Take the prediction": source is the binarised prediction. The bbox is that of the pixels that
    actually change, so taking a prediction that mostly agrees costs a small undo step.
    """
    if source.shape != mask.shape:
        raise ValueError(f"source shape {source.shape} differs from the mask's {mask.shape}")
    differs = mask != source
    if region is not None:
        differs &= region
    bbox = bbox_of(differs)
    if _area(bbox) == 0:
        return _edit(mask, _EMPTY, differs, 0)
    sl = _slices(bbox)
    region_mask = mask[sl]
    before = region_mask.copy()
    change = differs[sl]
    region_mask[change] = source[sl][change]
    return MaskEdit(bbox, before, region_mask.copy())


def reset_to(mask: np.ndarray, original: np.ndarray) -> MaskEdit:
    """Back to the original (Otsu) mask; undoable like any edit."""
    return copy_from(mask, original, None)


def merge_edits(edits: Sequence[MaskEdit], mask: np.ndarray) -> MaskEdit:
    """One edit equivalent to ``edits`` applied in order, given ``mask`` as it is after them.

    The current mask supplies the pixels of the union bbox that no edit touched (unchanged, so
    before == after there); "before" is rebuilt by reverting the edits last to first.
    """
    edits = [e for e in edits if _area(e.bbox) > 0]
    if not edits:
        return _edit(mask, _EMPTY, np.zeros((0, 0), bool), 0)
    y0 = min(e.bbox[0] for e in edits)
    y1 = max(e.bbox[1] for e in edits)
    x0 = min(e.bbox[2] for e in edits)
    x1 = max(e.bbox[3] for e in edits)
    after = mask[y0:y1, x0:x1].copy()
    before = after.copy()
    for e in reversed(edits):
        ey0, ey1, ex0, ex1 = e.bbox
        before[ey0 - y0 : ey1 - y0, ex0 - x0 : ex1 - x0] = e.before
    return MaskEdit((y0, y1, x0, x1), before, after)


def disagreement(mask: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(missed, extra): in the mask but not the prediction, and in the prediction but not the mask."""
    m, p = np.asarray(mask) > 0, np.asarray(pred) > 0
    return m & ~p, p & ~m
