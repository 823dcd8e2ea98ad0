"""Finding the masks that need a correction, and judging a retrained run.

After a run predicts, each labelled image gets the Dice between its training mask (the Otsu mask,
or the user's correction) and the run's prediction, at cache size. Sorted worst first, that is the
review queue: where mask and model disagree most, one of them is wrong. The scores are cached in
the run's folder (``review.json``) under the dataset fingerprint they were computed for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .cache import Cache
from .imageio import atomic_write_json, read_json
from .jobs import CancelToken, Progress, ProgressFn, no_progress
from .metrics import dice
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
    cached = read_json(path, default=None) or {}
    if cached.get("fingerprint") == cache.fingerprint and cached.get("threshold") == threshold:
        return dict(cached["dice"])
    rows = [i for i, r in enumerate(cache.rows) if r["labelled"]]
    masks = cache.masks()
    scores: dict[str, float] = {}
    for done, (row, prob) in enumerate(predict_rows(model, cache, rows, cancel=cancel), start=1):
        scores[cache.rows[row]["key"]] = round(dice(masks[row], prob > threshold), 5)
        if done % 16 == 0 or done == len(rows):
            progress(Progress("review", done, len(rows)))
    atomic_write_json(path, {"fingerprint": cache.fingerprint, "threshold": threshold, "dice": scores})
    return scores


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
) -> dict[str, Any]:
    """Validation Dice of the previous run and of the new one on the *same* images: the new run's
    validation set, scored against today's masks (with the corrections), at cache size."""
    keys = set(new.config.get("val_keys", []))
    rows = [i for i, r in enumerate(cache.rows) if r["key"] in keys and r["labelled"]]
    if not rows:
        return {"images": 0, "dice_before": None, "dice_after": None}
    masks = cache.masks()

    def mean_dice(model: Any) -> float:
        values = [dice(masks[row], prob > 0.5) for row, prob in predict_rows(model, cache, rows, cancel=cancel)]
        return round(float(np.mean(values)), 5)

    result = {"images": len(rows), "before_run": old.id, "dice_before": mean_dice(old_model)}
    result["dice_after"] = mean_dice(new_model)
    atomic_write_json(Path(new.folder) / "comparison.json", result)
    return result
