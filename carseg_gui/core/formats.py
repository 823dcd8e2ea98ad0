"""Mask formats other tools read: COCO instance JSON (RLE), YOLO segmentation polygons, and the cut-out.

Every file is written atomically (:mod:`.imageio`'s helpers): it appears whole or not at all, with the
umask's mode.

* **COCO** (:class:`CocoWriter`): one JSON file for a whole export, one category ``car`` (id 1), one
  annotation per image holding the whole mask as a compressed RLE (pycocotools' own encoder, so every
  COCO reader decodes it exactly), with its area and bounding box; an empty mask gives the image entry
  and no annotation, COCO's way of saying "no car here". Annotations are streamed to the file as they
  come (only the small image entries are held until :meth:`CocoWriter.close`), so 100,000 full-size
  masks do not have to fit in memory.
* **YOLO** (:func:`write_yolo`): one ``.txt`` per image, one line per outer outline: ``0 x1 y1 x2 y2 ...``
  with x/width and y/height (OpenCV contour points are pixel indices; the same convention as Ultralytics'
  own mask converter, so multiplying back and filling gives the mask's pixels). YOLO has one polygon per
  line and no holes, so each hole is joined to its outer outline by a zero-width cut: the polygon walks
  the outer contour to the point nearest the hole, round the hole (traced in the opposite direction) and
  back the same way. Filled with the even-odd or the non-zero rule the hole stays empty, and the cut runs
  between two outline points through the car's own pixels, so filling gives the mask back (exactly, on
  the 64 validation masks of the Carvana data with their 102 holes). Blobs of fewer than 3 outline
  points (a pixel or a line of pixels) have no area as polygons and are left out. An empty mask gives an
  empty file (YOLO's background image).
* **Cut-out** (:func:`cutout`, :func:`write_cutout`): the photo as RGBA whose alpha is the mask, or
  composited on a plain colour (RGB). A feather of N px ramps the alpha from the edge inwards, linearly
  with the Euclidean distance to the background: pixels N px or more inside stay opaque and the
  background stays transparent, so no background colour bleeds into the edge.
"""

from __future__ import annotations

import json
import re
import threading
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from .imageio import atomic_open, atomic_write_bytes
from .jobs import InputError

COCO_CATEGORY = {"id": 1, "name": "car", "supercategory": "vehicle"}


class _Aborted(Exception):
    """Thrown into the atomic file to make it remove its temp file."""


def _binary(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D (height, width), not of shape {m.shape}")
    return np.ascontiguousarray(m > 0, dtype=np.uint8)


def coco_rle(mask: np.ndarray) -> dict[str, Any]:
    """pycocotools' compressed RLE of a mask, with ``counts`` as text (what COCO JSON holds)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(_binary(mask)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


class CocoWriter:
    """A COCO instance-segmentation JSON file written one image at a time.

    ``add`` may be called from several threads (the RLE encoding runs outside the lock). The file appears
    at ``path`` on :meth:`close`; :meth:`abort` (or leaving a ``with`` block by an exception) removes it
    without a trace. File names must be unique within the file.
    """

    def __init__(self, path: Path, description: str = "carseg-gui masks") -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stack = ExitStack()
        self._file: IO[Any] = self._stack.enter_context(atomic_open(self.path, "w"))
        self._images: list[dict[str, Any]] = []
        self._names: set[str] = set()
        self._annotations = 0
        self._open = True
        head = {
            "info": {"description": description, "date_created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
            "licenses": [],
            "categories": [COCO_CATEGORY],
        }
        self._file.write(json.dumps(head)[:-1] + ',\n"annotations": [')

    def add(self, file_name: str, mask: np.ndarray) -> int:
        """Add an image and its mask (any 2-D array; > 0 is car); returns the image's id (1, 2, ...)."""
        binary = _binary(mask)
        rle = coco_rle(binary) if binary.any() else None
        area, bbox = (int(binary.sum()), _bbox(binary)) if rle else (0, None)
        with self._lock:
            if not self._open:
                raise ValueError(f"{self.path}: the COCO writer is closed")
            if file_name in self._names:
                raise ValueError(f"{file_name!r} is already in {self.path.name}")
            self._names.add(file_name)
            image_id = len(self._images) + 1
            h, w = binary.shape
            self._images.append({"id": image_id, "file_name": file_name, "height": h, "width": w})
            if rle is not None:
                self._annotations += 1
                ann = {
                    "id": self._annotations,
                    "image_id": image_id,
                    "category_id": COCO_CATEGORY["id"],
                    "segmentation": rle,
                    "area": area,
                    "bbox": bbox,
                    "iscrowd": 0,
                }
                self._file.write(("\n" if self._annotations == 1 else ",\n") + json.dumps(ann))
            return image_id

    @property
    def count(self) -> int:
        """Images added so far."""
        return len(self._images)

    def close(self) -> None:
        """Write the image list and put the file in place (idempotent)."""
        with self._lock:
            if not self._open:
                return
            self._open = False
            try:
                self._file.write('\n],\n"images": [\n')
                self._file.write(",\n".join(json.dumps(im) for im in self._images))
                self._file.write("\n]}\n")
            except BaseException as exc:
                self._stack.__exit__(type(exc), exc, exc.__traceback__)
                raise
            self._stack.close()

    def abort(self) -> None:
        """Drop the file: nothing appears at ``path`` (idempotent; a no-op after :meth:`close`)."""
        with self._lock:
            if not self._open:
                return
            self._open = False
            self._stack.__exit__(_Aborted, _Aborted(), None)

    def __enter__(self) -> CocoWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _bbox(binary: np.ndarray) -> list[int]:
    """COCO's [x, y, width, height] of the mask's pixels."""
    x, y, w, h = cv2.boundingRect(binary)
    return [int(x), int(y), int(w), int(h)]


def read_coco_masks(path: Path) -> dict[str, np.ndarray]:
    """file name -> 0/1 uint8 mask (the union of its annotations) of a COCO file: the round trip's reader."""
    from pycocotools import mask as mask_utils

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[int, np.ndarray] = {im["id"]: np.zeros((im["height"], im["width"]), np.uint8) for im in data["images"]}
    for ann in data["annotations"]:
        seg = dict(ann["segmentation"])
        if isinstance(seg["counts"], list):  # uncompressed RLE
            seg = mask_utils.frPyObjects(seg, *seg["size"])
        with warnings.catch_warnings():  # pycocotools' NumPy 1 idiom, harmless under NumPy 2
            warnings.simplefilter("ignore", DeprecationWarning)
            decoded = mask_utils.decode(seg)
        out[ann["image_id"]] |= decoded.astype(np.uint8)
    return {im["file_name"]: out[im["id"]] for im in data["images"]}


# --- YOLO segmentation polygons ---------------------------------------------------------------------


def yolo_polygons(mask: np.ndarray, tolerance: float = 0.0) -> list[np.ndarray]:
    """The mask's outlines as (N, 2) int32 arrays of pixel (x, y), one per outer contour, each hole
    joined to its outer contour by a zero-width cut. ``tolerance`` > 0 simplifies each contour
    (Douglas-Peucker, in pixels); 0 keeps every corner (lossless)."""
    binary = _binary(mask)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    tree = hierarchy[0]  # [next, previous, first child, parent]
    polygons = []
    for i, contour in enumerate(contours):
        if tree[i][3] != -1:  # a hole: joined to its parent below
            continue
        outer = _simplify(contour, tolerance)
        if len(outer) < 3:
            continue
        child = tree[i][2]
        while child != -1:
            hole = _simplify(contours[child], tolerance)
            if len(hole) >= 3:
                outer = _join_hole(outer, hole)
            child = tree[child][0]
        polygons.append(outer)
    return polygons


def _simplify(contour: np.ndarray, tolerance: float) -> np.ndarray:
    pts = cv2.approxPolyDP(contour, tolerance, True) if tolerance > 0 else contour
    return pts.reshape(-1, 2).astype(np.int32)


def _join_hole(outer: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """outer[..i] -> hole[j..] -> hole[..j] -> outer[i..]: a cut between the closest pair of points."""
    # The nearest pair by brute force, in chunks of at most ~1M distances (a full-size car outline has a
    # few thousand points; a big hole as many).
    best, bi, bj = np.inf, 0, 0
    step = max(1, 1_000_000 // len(hole))
    holes = hole.astype(np.int64)[None, :, :]
    for start in range(0, len(outer), step):
        chunk = outer[start : start + step].astype(np.int64)
        d = ((chunk[:, None, :] - holes) ** 2).sum(axis=2)
        k = int(np.argmin(d))
        if d.flat[k] < best:
            best, bi, bj = d.flat[k], start + k // d.shape[1], k % d.shape[1]
    return np.concatenate([outer[: bi + 1], hole[bj:], hole[: bj + 1], outer[bi:]])


def yolo_lines(mask: np.ndarray, class_id: int = 0, tolerance: float = 0.0) -> list[str]:
    """The label file's lines: ``class x1 y1 ...`` normalised by the mask's width and height."""
    h, w = _binary(mask).shape
    lines = []
    for poly in yolo_polygons(mask, tolerance):
        xy = poly.astype(np.float64) / np.array([w, h], np.float64)
        lines.append(f"{class_id} " + " ".join(f"{v:.6f}" for v in xy.reshape(-1)))
    return lines


def write_yolo(path: Path, mask: np.ndarray, class_id: int = 0, tolerance: float = 0.0) -> int:
    """Write one image's YOLO segmentation label file; returns the number of polygons (lines)."""
    lines = yolo_lines(mask, class_id, tolerance)
    atomic_write_bytes(Path(path), "".join(line + "\n" for line in lines).encode("ascii"))
    return len(lines)


def read_yolo(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A YOLO label file rasterised at (height, width): 0/1 uint8, each polygon filled even-odd."""
    h, w = shape
    out = np.zeros((h, w), np.uint8)
    for line in Path(path).read_text(encoding="ascii").splitlines():
        values = line.split()[1:]
        if len(values) < 6:
            continue
        xy = np.array(values, np.float64).reshape(-1, 2) * np.array([w, h], np.float64)
        layer = np.zeros_like(out)
        cv2.fillPoly(layer, [np.round(xy).astype(np.int32)], 1)
        out |= layer
    return out


# --- cut-out ------------------------------------------------------------------------------------------


def feather_alpha(mask: np.ndarray, feather: int = 0) -> np.ndarray:
    """uint8 alpha: mask * 255, or with ``feather`` N > 0 a ramp from the edge inwards (a car pixel at
    distance d from the background gets 255 * min(d, N) / N), so values between 0 and 255 lie only
    within N px of the edge and the background stays 0."""
    binary = _binary(mask)
    if feather <= 0:
        return binary * np.uint8(255)
    dist = cv2.distanceTransform(binary, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.round(np.minimum(dist, float(feather)) * (255.0 / feather)).astype(np.uint8)


def cutout(
    image: np.ndarray, mask: np.ndarray, feather: int = 0, background: tuple[int, int, int] | None = None
) -> np.ndarray:
    """The RGB photo cut out by its mask: RGBA with the (feathered) mask as alpha, or with ``background``
    an RGB image composited over that colour."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] not in (3, 4) or img.dtype != np.uint8:
        raise ValueError(f"the photo must be RGB uint8 of shape (h, w, 3), not {img.dtype} {img.shape}")
    alpha = feather_alpha(mask, feather)
    if alpha.shape != img.shape[:2]:
        raise ValueError(f"mask {alpha.shape} and photo {img.shape[:2]} differ in size")
    rgb = img[..., :3]
    if background is None:
        return np.dstack([rgb, alpha])
    a = alpha[..., None].astype(np.float32) / 255.0
    bg = np.asarray(background, np.float32).reshape(1, 1, 3)
    return np.round(rgb.astype(np.float32) * a + bg * (1.0 - a)).astype(np.uint8)


def write_cutout(
    path: Path,
    image: np.ndarray,
    mask: np.ndarray,
    feather: int = 0,
    background: tuple[int, int, int] | None = None,
) -> None:
    """Write :func:`cutout` as a PNG (RGBA, or RGB on a background colour)."""
    out = cutout(image, mask, feather, background)
    bgr = cv2.cvtColor(out, cv2.COLOR_RGBA2BGRA if out.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise OSError(f"PNG encoding failed for {path}")
    atomic_write_bytes(Path(path), buf.tobytes())


_NAMED = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128), "gray": (128, 128, 128)}


def parse_colour(text: str) -> tuple[int, int, int]:
    """'#rrggbb', 'rrggbb', 'r,g,b' (0-255) or white/black/grey -> (r, g, b); InputError saying the forms."""
    t = text.strip().lower()
    if t in _NAMED:
        return _NAMED[t]
    if re.fullmatch(r"#?[0-9a-f]{6}", t):
        t = t.lstrip("#")
        return int(t[0:2], 16), int(t[2:4], 16), int(t[4:6], 16)
    parts = [p.strip() for p in t.split(",")]
    if len(parts) == 3 and all(p.isdigit() and int(p) <= 255 for p in parts):
        return int(parts[0]), int(parts[1]), int(parts[2])
    raise InputError(f"background colour {text!r}: use #rrggbb, r,g,b (0-255), white, black or grey")
