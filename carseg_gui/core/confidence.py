"""How sure the model is of one image's mask, from its probability map: the order of the unlabelled queue.

:func:`confidence` returns a number in [0, 1], higher meaning more confident, by one of these methods
(``benchmarks/bench_confidence.py`` measures how well each ranks images by their real error, and the
default is the one that ranks best; see ``benchmarks/ACCURACY.md``). The default, ``expected_dice``,
had Spearman 0.73 between 1 - confidence and 1 - Dice on 64 held-out Carvana images (4 cars), tied with
``uncertain_area`` and ``entropy_area`` (0.72, 0.71) within the noise of so few cars; it needs one map
only (no second forward pass) and reads as a Dice, so the queue can show it as one:

* ``band``: 1 - the share of the predicted outline's band (the pixels within ``r`` px of the edge of the
  thresholded map, r = 2 % of the shorter side, at least 1) whose probability is between 0.1 and 0.9.
* ``flip``: Dice of the map and of the map predicted for the mirrored photo (mirrored back), both
  thresholded at 0.5: 1 - flip-TTA disagreement. Needs ``prob_flipped``.
* ``flip_soft``: 1 - sum |p - p_flipped| / (sum p + sum p_flipped), the same without thresholds.
* ``entropy``: 1 - the mean binary entropy (bits) over the image.
* ``entropy_area``: 1 - the summed entropy divided by twice the predicted area (clipped at 0): entropy
  per car pixel, so a small car is not judged surer than a large one because it covers less of the photo.
* ``uncertain_area``: 1 - the pixels with 0.1 < p < 0.9 divided by twice the predicted area (clipped).
* ``expected_dice``: the Dice the map expects of its own mask, 2 sum(p m) / (sum p + sum m) with
  m = p > 0.5: what Dice would be if each pixel were car with probability p.

A map with no pixel above 0.5 (no car found in a photo of a car) scores 0 by every method: the least
confident. Maps are float in [0, 1] or uint8 0-255, shape (h, w) or (h, w, 1); the cache-size map the
run predicts (with its own TTA, as export uses it) is what the session scores. Give the float map where
there is one: the entropy methods weigh the near-0 background, which a 0-255 map rounds up to 1/255.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from .imageio import CorruptFile, atomic_write_json, read_json
from .jobs import CancelToken, Progress, ProgressFn, no_progress

if TYPE_CHECKING:
    from .cache import Cache
    from .project import RunInfo

METHODS = ("band", "flip", "flip_soft", "entropy", "entropy_area", "uncertain_area", "expected_dice")
NEEDS_FLIP = frozenset({"flip", "flip_soft"})
DEFAULT_METHOD = "expected_dice"
LOW, HIGH = 0.1, 0.9  # "uncertain" probabilities
_EPS = 1e-6


def _prob(p: np.ndarray, name: str = "prob") -> np.ndarray:
    a = np.asarray(p)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D probability map, not of shape {a.shape}")
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.float32) / 255.0
    return np.clip(a.astype(np.float32), 0.0, 1.0)


def confidence(prob: np.ndarray, prob_flipped: np.ndarray | None = None, method: str = DEFAULT_METHOD) -> float:
    """The image's confidence in [0, 1] (higher: surer). ``prob_flipped``: the prediction for the
    left-right mirrored photo, mirrored back so it lines up with ``prob`` (see :func:`flipped_probs`);
    needed by the ``flip`` methods only."""
    if method not in METHODS:
        raise ValueError(f"unknown confidence method {method!r} (choose from {', '.join(METHODS)})")
    p = _prob(prob)
    mask = p > 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    if method in NEEDS_FLIP:
        if prob_flipped is None:
            raise ValueError(f"the {method!r} confidence needs the mirrored photo's prediction (prob_flipped)")
        q = _prob(prob_flipped, "prob_flipped")
        if q.shape != p.shape:
            raise ValueError(f"prob {p.shape} and prob_flipped {q.shape} differ in size")
        if method == "flip":
            other = q > 0.5
            return 2.0 * float(np.logical_and(mask, other).sum()) / (area + int(other.sum()))
        return 1.0 - float(np.abs(p - q).sum()) / (float(p.sum() + q.sum()) + _EPS)
    if method == "band":
        band = outline_band(mask)
        uncertain = (p > LOW) & (p < HIGH)
        return 1.0 - float(uncertain[band].mean())
    if method == "entropy":
        return 1.0 - float(binary_entropy(p).mean())
    if method == "entropy_area":
        return max(0.0, 1.0 - float(binary_entropy(p).sum()) / (2.0 * area))
    if method == "uncertain_area":
        return max(0.0, 1.0 - float(((p > LOW) & (p < HIGH)).sum()) / (2.0 * area))
    # expected_dice
    return 2.0 * float(p[mask].sum()) / (float(p.sum()) + area)


def all_confidences(prob: np.ndarray, prob_flipped: np.ndarray | None = None) -> dict[str, float]:
    """Every method's score (the flip ones only when ``prob_flipped`` is given)."""
    return {m: confidence(prob, prob_flipped, m) for m in METHODS if prob_flipped is not None or m not in NEEDS_FLIP}


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """Per-pixel entropy in bits of a probability map (0 where p is 0 or 1, 1 at p = 0.5)."""
    q = np.clip(p.astype(np.float64), _EPS, 1.0 - _EPS)
    return -(q * np.log2(q) + (1.0 - q) * np.log2(1.0 - q))


def outline_band(mask: np.ndarray, radius: int | None = None) -> np.ndarray:
    """Boolean band of pixels within ``radius`` px of the mask's edge, on both sides (default 2 % of the
    shorter side, at least 1)."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    r = max(1, round(0.02 * min(m.shape))) if radius is None else max(1, int(radius))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return (cv2.dilate(m, kernel) - cv2.erode(m, kernel)).astype(bool)


def flipped_probs(model: Any, batch: np.ndarray) -> np.ndarray:
    """(n, h, w) float32: the model's maps for the left-right mirrored ``batch`` (n, h, w, 3), mirrored
    back so they line up with the photos. Give it the plain model (not the TTA one, whose output is
    already the mean of both)."""
    mirrored = np.ascontiguousarray(np.asarray(batch)[:, :, ::-1])
    probs = np.asarray(model.predict_on_batch(mirrored))
    probs = probs[..., 0] if probs.ndim == 4 else probs
    return np.ascontiguousarray(probs[:, :, ::-1], dtype=np.float32)


CACHE_FILE = "confidence.json"  # in the run's folder, beside review.json


def confidence_scores(
    cache: Cache,
    run: RunInfo,
    model: Any,
    rows: Sequence[int] | None = None,
    method: str = DEFAULT_METHOD,
    plain_model: Any = None,
    batch_size: int = 32,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, float]:
    """{record key: confidence} of ``rows`` (default: the cache's unlabelled rows), from ``model`` (the
    run's, with its own TTA: the map export uses). Cached in the run's folder under the dataset
    fingerprint and the method: a second call with the same keys reads the file, a changed dataset or
    another method computes again. The flip methods also need ``plain_model`` (the run's model without
    TTA; default ``model``) for the mirrored photo's map."""
    if method not in METHODS:
        raise ValueError(f"unknown confidence method {method!r} (choose from {', '.join(METHODS)})")
    rows = list(cache.unlabelled_rows() if rows is None else rows)
    keys = [str(cache.rows[r]["key"]) for r in rows]
    path = run.folder / CACHE_FILE
    stamp = {"fingerprint": cache.fingerprint, "method": method}
    try:
        cached = read_json(path, default=None) or {}
    except CorruptFile:
        cached = {}  # a score cache: computed again
    known: dict[str, float] = {}
    if isinstance(cached, dict) and all(cached.get(k) == v for k, v in stamp.items()):
        known = {str(k): float(v) for k, v in dict(cached.get("scores", {})).items()}
        if all(k in known for k in keys):
            return {k: known[k] for k in keys}
    todo = [r for r, k in zip(rows, keys, strict=True) if k not in known]
    flip_model = (plain_model or model) if method in NEEDS_FLIP else None
    total = len(todo)
    progress(Progress("confidence", 0, total))
    for start in range(0, total, batch_size):
        if cancel:
            cancel.check()
        chunk = todo[start : start + batch_size]
        batch = cache.read_images(chunk)
        probs = np.asarray(model.predict_on_batch(batch))[..., 0]
        flipped = flipped_probs(flip_model, batch) if flip_model is not None else [None] * len(chunk)
        for row, prob, prob_flipped in zip(chunk, probs, flipped, strict=True):
            known[str(cache.rows[row]["key"])] = round(confidence(prob, prob_flipped, method), 5)
        progress(Progress("confidence", min(start + batch_size, total), total))
    if todo:
        atomic_write_json(path, {**stamp, "scores": known})
    return {k: known[k] for k in keys}


def least_confident_first(
    scores: dict[str, float], groups: dict[str, str] | None = None, views: dict[str, str] | None = None
) -> list[str]:
    """Keys from the lowest confidence up; ties keep the dataset's order (stable sort by key).

    With ``groups`` (key -> car), in rounds of one view per car: each round takes, least confident first,
    the least confident view left of each car, and with ``views`` (key -> view number) also at most one
    image per view (angle) in a round, so the first images cover cars *and* angles. The score ranks cars
    more than views, and per car it ranks the same angles lowest (front and back): a plain sort spends a
    correction budget on one or two cars, a per-car one on front and back views; benchmarks/bench_active.py
    measured both (ACCURACY.md).
    """
    ranked = sorted(scores, key=lambda k: (scores[k], k))
    if not groups:
        return ranked
    all_groups = {groups.get(k, k) for k in ranked}
    all_views = {views[k] for k in ranked if views and views.get(k)}
    out: list[str] = []
    remaining = ranked
    while remaining:
        used_groups: set[str] = set()
        used_views: set[str] = set()
        rest: list[str] = []
        for i, k in enumerate(remaining):
            group, view = groups.get(k, k), (views or {}).get(k)
            if group in used_groups or (view and view in used_views):
                rest.append(k)
                continue
            out.append(k)
            used_groups.add(group)
            if view:
                used_views.add(view)
            if len(used_groups) == len(all_groups) or (all_views and len(used_views) == len(all_views)):
                rest.extend(remaining[i + 1 :])  # this round is full
                break
        remaining = rest
    return out
