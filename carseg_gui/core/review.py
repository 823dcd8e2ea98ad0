"""Finding the masks that need a correction, and judging a retrained run.

After a run predicts, each labelled image gets the Dice between its training mask (the Otsu mask,
or the user's correction) and the run's prediction (with the run's own TTA and post-processing, so
the masks judged are the ones export writes), at cache size. Sorted worst first, that is the
review queue: where mask and model disagree most, one of them is wrong. The scores are cached in
the run's folder (``review.json``) under the dataset fingerprint they were computed for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .cache import Cache
from .imageio import CorruptFile, atomic_write_json, read_json
from .jobs import CancelToken, Progress, ProgressFn, no_progress
from .metrics import dice
from .postprocess import PostProcess
from .predict import predict_rows
from .project import RunInfo


def review_scores(
    cache: Cache,
    run: RunInfo,
    model: Any,
    threshold: float = 0.5,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, float]:
    """{record key: Dice(mask, prediction)} for every labelled image; cached per dataset fingerprint."""
    path = run.folder / "review.json"
    post = PostProcess.from_config(run.config)
    stamp = {"fingerprint": cache.fingerprint, "threshold": threshold, "post": [post.keep_largest, post.fill_holes]}
    try:
        cached = read_json(path, default=None) or {}
    except CorruptFile:
        cached = {}  # a score cache: computed again
    if isinstance(cached, dict) and all(cached.get(k) == v for k, v in stamp.items()):
        return dict(cached["dice"])
    rows = [i for i, r in enumerate(cache.rows) if r["labelled"]]
    masks = cache.masks()
    scores: dict[str, float] = {}
    for done, (row, prob) in enumerate(predict_rows(model, cache, rows, cancel=cancel), start=1):
        scores[cache.rows[row]["key"]] = round(dice(masks[row], predicted_mask(prob, post, threshold)), 5)
        if done % 16 == 0 or done == len(rows):
            progress(Progress("review", done, len(rows)))
    atomic_write_json(path, {**stamp, "dice": scores})
    return scores


def predicted_mask(prob: np.ndarray, post: PostProcess, threshold: float = 0.5) -> np.ndarray:
    """The run's mask at cache size: thresholded, then its own post-processing (as export does)."""
    binary = (prob > threshold).astype(np.uint8)
    return post(binary) if post.active else binary


def worst_first(scores: dict[str, float]) -> list[str]:
    """Keys from the lowest Dice up; ties keep the dataset's order (stable sort by key)."""
    return sorted(scores, key=lambda k: (scores[k], k))


def compare_runs(
    cache: Cache,
    new: RunInfo,
    new_model: Any,
    old: RunInfo,
    old_model: Any,
    cancel: CancelToken | None = None,
    keys: set[str] | None = None,
) -> dict[str, Any]:
    """Validation Dice of the previous run and of the new one on the *same* images: ``keys`` (default the
    new run's validation set), scored against today's masks (with the corrections), at cache size."""
    keys = set(new.config.get("val_keys", [])) if keys is None else set(keys)
    rows = [i for i, r in enumerate(cache.rows) if r["key"] in keys and r["labelled"]]
    if not rows:
        return {"images": 0, "before_run": old.id, "dice_before": None, "dice_after": None, "size": cache.size}
    masks = cache.masks()

    def mean_dice(run: RunInfo, model: Any) -> float:
        post = PostProcess.from_config(run.config)
        predictions = predict_rows(model, cache, rows, cancel=cancel)
        return round(float(np.mean([dice(masks[row], predicted_mask(prob, post)) for row, prob in predictions])), 5)

    result = {"images": len(rows), "before_run": old.id, "size": cache.size, "dice_before": mean_dice(old, old_model)}
    result["dice_after"] = mean_dice(new, new_model)
    atomic_write_json(Path(new.folder) / "comparison.json", result)
    return result
