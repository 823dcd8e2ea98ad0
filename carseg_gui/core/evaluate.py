"""Score a run on the labelled images of a dataset: Dice and IoU at cache size and at original size.

"Original size" is the Carvana measure: the probability map upsampled (bilinear) to the image's size,
thresholded, and compared with the original mask binarised by Otsu at full resolution. The run's own
post-processing (config.json: keep_largest, fill_holes) is applied to the full-size masks; when it is
on, the scores without it are reported too (``dice_full_no_post``), since they cost one comparison more.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .cache import Cache
from .imageio import read_mask
from .jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from .metrics import dice, iou
from .otsu import otsu_mask
from .postprocess import PostProcess
from .predict import predict_rows, to_original_size
from .preprocess import require_labelled
from .project import RunInfo


def evaluate(
    cache: Cache,
    run: RunInfo,
    model: Any,
    threshold: float = 0.5,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    post: PostProcess | None = None,
    compare_post: bool = False,
    leave_out: Collection[str] = (),
) -> dict[str, Any]:
    """Scores of ``model`` on the labelled rows. ``post`` defaults to the run's post-processing;
    ``compare_post`` adds the full-size Dice of every post-processing choice (for benchmarks).
    ``leave_out``: keys not scored (the run's own predictions that a person accepted as masks: a run
    scored on them meets itself), counted in ``left_out``."""
    labelled = require_labelled(cache)
    rows = [r for r in labelled if cache.rows[r]["key"] not in leave_out]
    if not rows:
        raise InputError(
            f"all {len(labelled)} labelled images have this run's own accepted predictions as masks: "
            "nothing is left to score it on"
        )
    masks = cache.masks()
    per_image: list[dict[str, Any]] = []
    post = PostProcess.from_config(run.config) if post is None else post
    upsample = str(run.config.get("upsample", "bilinear"))
    variants = {"raw": PostProcess(), "largest": PostProcess(True, False), "filled": PostProcess(False, True)}
    variants["largest_filled"] = PostProcess(True, True)

    def score(row: int, prob: np.ndarray) -> dict[str, Any]:
        rec = cache.rows[row]
        small = masks[row]
        pred_small = (prob > threshold).astype(np.uint8)
        truth = otsu_mask(read_mask(Path(rec["mask"])))
        raw = to_original_size(prob, rec["orig"], threshold, None, rec["image"], upsample)
        full = post(raw) if post.active else raw
        out = {
            "key": rec["key"],
            "dice_128": dice(small, pred_small),
            "iou_128": iou(small, pred_small),
            "dice_full": dice(truth, full),
            "iou_full": iou(truth, full),
        }
        if post.active:
            out["dice_full_no_post"] = dice(truth, raw)
            out["iou_full_no_post"] = iou(truth, raw)
        if compare_post:
            for name, variant in variants.items():
                out[f"dice_full_{name}"] = dice(truth, variant(raw) if variant.active else raw)
        return out

    total = len(rows)
    progress(Progress("evaluate", 0, total))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="evaluate") as pool:
        futures = []
        for row, prob in predict_rows(model, cache, rows, cancel=cancel):
            futures.append(pool.submit(score, row, prob))
        for done, fut in enumerate(futures, start=1):
            per_image.append(fut.result())
            if done % 8 == 0 or done == total:
                progress(Progress("evaluate", done, total))

    def mean(key: str) -> float:
        return round(float(np.mean([p[key] for p in per_image])), 5)

    result = {
        "run": run.id,
        "size": cache.size,
        "threshold": threshold,
        "tta": bool(getattr(model, "name", "").endswith("_tta")),
        "keep_largest": post.keep_largest,
        "fill_holes": post.fill_holes,
        "images": len(per_image),
        "left_out": len(labelled) - len(rows),
        "dice_128": mean("dice_128"),
        "iou_128": mean("iou_128"),
        "dice_full": mean("dice_full"),
        "iou_full": mean("iou_full"),
        "dice_full_min": round(min(p["dice_full"] for p in per_image), 5),
        "skipped": [{"path": p["path"], "reason": p["reason"]} for p in cache.skipped("train")],
    }
    extra = [k for k in per_image[0] if k.startswith(("dice_full_", "iou_full_"))] if per_image else []
    result.update({k: mean(k) for k in extra})
    result["splits"] = split_scores(per_image, run.config)
    return {**result, "per_image": per_image}


SPLITS = ("train", "validation", "other")


def split_scores(per_image: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The means per split of the run: the images it trained on (its scores flatter it), its validation
    images (chose its best epoch), and the others (never seen: the honest measure). The headline
    ``dice_full`` is over all of them."""
    sets = {"train": set(config.get("train_keys", [])), "validation": set(config.get("val_keys", []))}
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name in SPLITS}
    for p in per_image:
        name = next((n for n, keys in sets.items() if p["key"] in keys), "other")
        groups[name].append(p)
    out: dict[str, dict[str, Any]] = {}
    for name, items in groups.items():
        scores: dict[str, Any] = {"images": len(items)}
        for key in ("dice_128", "iou_128", "dice_full", "iou_full"):
            scores[key] = round(float(np.mean([p[key] for p in items])), 5) if items else None
        out[name] = scores
    return out
