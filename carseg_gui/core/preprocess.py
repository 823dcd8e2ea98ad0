"""Decode, resize to S x S x 3, binarise masks with Otsu, and store the result in the cache.

Decoding runs on a thread pool (OpenCV and Pillow release the GIL while decoding), a bounded
window of files at a time, so memory holds a few originals, never the dataset.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import dataset as ds
from .cache import Cache, CacheWriter, file_fingerprint, inspect_cache
from .imageio import UnreadableImage, read_gif_mask_small, read_image, read_mask
from .jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from .locking import project_lock
from .otsu import otsu_mask, otsu_small


@dataclass(frozen=True)
class Decoded:
    image: np.ndarray | None
    mask: np.ndarray | None
    orig: tuple[int, int]
    problem: str | None = None  # set when the image is unusable
    mask_problem: str | None = None  # set when only the mask is unusable (the image stays, unlabelled)
    mask_path: str | None = None


def decode_pair(image: Path, mask: Path | None, size: int) -> Decoded:
    """One record as the recipe prepares it. Never raises for bad files: it says what is wrong."""
    try:
        rgb, orig = read_image(image, min_side=size)
    except UnreadableImage as exc:
        return Decoded(None, None, (0, 0), problem=str(exc))
    except OSError as exc:
        return Decoded(None, None, (0, 0), problem=f"cannot read: {exc.strerror or exc}")
    small = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    if mask is None:
        return Decoded(small, None, orig)
    try:
        if mask.suffix.lower() == ".gif":
            pixels, top, shape = read_gif_mask_small(mask, size)
            binary = otsu_small(pixels, top)
        else:
            raw = read_mask(mask)
            shape = raw.shape[:2]
            binary = otsu_mask(raw, size)
    except (UnreadableImage, OSError) as exc:
        return Decoded(small, None, orig, mask_problem=str(exc), mask_path=str(mask))
    if shape != orig:
        reason = f"mask is {shape[1]}x{shape[0]} but the image is {orig[1]}x{orig[0]}"
        return Decoded(small, None, orig, mask_problem=reason, mask_path=str(mask))
    return Decoded(small, binary, orig)


def _decode_all(
    jobs: list[tuple[Path, Path | None]], size: int, workers: int, cancel: CancelToken
) -> Iterator[Decoded]:
    """Results in input order, keeping at most 4 * workers decodes in flight."""
    window = 4 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: list[Future[Decoded]] = []
        it = iter(jobs)
        try:
            for image, mask in it:
                pending.append(pool.submit(decode_pair, image, mask, size))
                if len(pending) >= window:
                    cancel.check()
                    yield pending.pop(0).result()
            while pending:
                cancel.check()
                yield pending.pop(0).result()
        finally:
            for f in pending:
                f.cancel()


def preprocess(
    root: Path,
    project: Path,
    size: int = 128,
    mask_overrides: Mapping[str, Path] | None = None,
    excluded: set[str] | None = None,
    workers: int | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Cache:
    """Bring the cache of ``root`` up to date and return it.

    ``mask_overrides`` maps a record key to a corrected mask used instead of the original one;
    ``excluded`` keys stay in the cache but are marked so training leaves them out. Holds the project's
    lock (:mod:`.locking`): another process writing the project makes this raise ``ProjectBusy``.
    """
    dataset = ds.scan(root)  # before the lock: a folder that is no dataset gets nothing written into it
    with project_lock(project, "preprocess"):
        return _preprocess(dataset, root, project, size, mask_overrides, excluded, workers, progress, cancel)


def _preprocess(
    dataset: ds.Dataset,
    root: Path,
    project: Path,
    size: int,
    mask_overrides: Mapping[str, Path] | None,
    excluded: set[str] | None,
    workers: int | None,
    progress: ProgressFn,
    cancel: CancelToken | None,
) -> Cache:
    cancel = cancel or CancelToken()
    overrides = {key: Path(path).resolve() for key, path in (mask_overrides or {}).items()}
    excluded = excluded or set()
    workers = workers or min(8, os.cpu_count() or 1)
    old, damage = inspect_cache(project, size)
    if damage:  # derived data: rebuilt from the dataset, and the user told which file was damaged
        progress(Progress("preprocess", 0, len(dataset.records), info={"notice": f"{damage}; rebuilding the cache"}))
    old_rows = {r["key"]: (i, r) for i, r in enumerate(old.rows)} if old else {}

    plan: list[tuple[ds.Record, Path | None, str]] = []
    for rec in dataset.records:
        mask = overrides.get(rec.key, rec.mask)
        plan.append((rec, mask, file_fingerprint(rec.image, mask)))
    reuse = {
        rec.key: old_rows[rec.key][0]
        for rec, _, fp in plan
        if rec.key in old_rows and old_rows[rec.key][1]["fp"] == fp and old_rows[rec.key][1]["usable"]
    }
    todo = [(rec.image, mask) for rec, mask, _ in plan if rec.key not in reuse]

    problems = [{"path": p.path, "reason": p.reason} for p in dataset.problems]
    if old is not None and _unchanged(old, plan, reuse, excluded, overrides, problems):
        progress(Progress("preprocess", len(plan), len(plan), "cache up to date"))
        return old
    total = len(plan)
    progress(Progress("preprocess", 0, total, f"{len(reuse)} unchanged, {len(todo)} to decode"))
    start = time.perf_counter()
    # One row per record at most; rows of unusable images stay unused at the tail (never indexed).
    writer = CacheWriter(project, size, total, f"gen-{uuid.uuid4().hex[:8]}")
    rows: list[dict[str, Any]] = []
    decoded_count = 0
    try:
        decoded = _decode_all(todo, size, workers, cancel)
        for done, (rec, mask, fp) in enumerate(plan, start=1):
            row: dict[str, Any] = {
                "key": rec.key,
                "image": str(rec.image),
                "mask": str(mask) if mask else None,
                "split": rec.split,
                "car": rec.car,
                "view": rec.view,
                "fp": fp,
                "excluded": rec.key in excluded,
                "corrected": rec.key in overrides,
            }
            if rec.key in reuse:
                i, prev = old_rows[rec.key]
                assert old is not None
                n = len(rows)
                writer.put(n, old.read_images([i])[0], old.read_masks([i])[0])
                row.update(orig=prev["orig"], labelled=prev["labelled"], usable=True)
                rows.append(row)
            else:
                d = next(decoded)
                decoded_count += 1
                if d.problem:
                    problems.append({"path": str(rec.image), "reason": d.problem})
                else:
                    if d.mask_problem:
                        reason = f"{d.mask_problem}; image used unlabelled"
                        problems.append({"path": d.mask_path or "", "reason": reason})
                    n = len(rows)
                    assert d.image is not None
                    writer.put(n, d.image, d.mask)
                    row.update(orig=list(d.orig), labelled=d.mask is not None, usable=True)
                    rows.append(row)
            if done % 8 == 0 or done == total:
                rate = decoded_count / max(time.perf_counter() - start, 1e-6)
                progress(Progress("preprocess", done, total, info={"rate": rate}))
        cancel.check()
    except BaseException:
        writer.abort()
        raise
    cache = writer.commit(rows, problems, dataset.root)
    if not rows:
        names = "; ".join(f"{Path(p['path']).name}: {p['reason']}" for p in problems[:5])
        raise InputError(f"{root}: no usable images ({names})")
    return cache


def _unchanged(
    old: Cache,
    plan: list[tuple[ds.Record, Path | None, str]],
    reuse: dict[str, int],
    excluded: set[str],
    overrides: dict[str, Path],
    scan_problems: list[dict[str, str]],
) -> bool:
    """True when a rebuild would write the same rows: then the current generation is kept as it is."""
    if len(reuse) != len(plan) or len(old.rows) != len(plan):
        return False
    for (rec, mask, _), row in zip(plan, old.rows, strict=True):
        if row["key"] != rec.key or row.get("excluded") != (rec.key in excluded):
            return False
        # The same files under another path (a moved dataset, an index from before paths were absolute).
        if row["image"] != str(rec.image) or row["mask"] != (str(mask) if mask else None):
            return False
        if row.get("corrected") != (rec.key in overrides):
            return False
    # Problems of decoding are in the index too; any new scan-time problem means a rebuild.
    old_scan = [p for p in old.problems if p in scan_problems]
    return len(old_scan) == len(scan_problems)


def require_labelled(cache: Cache) -> list[int]:
    rows = cache.labelled_rows()
    if not rows:
        names = "; ".join(f"{Path(p['path']).name}: {p['reason']}" for p in cache.problems[:5])
        detail = f" ({names})" if names else ""
        raise InputError(f"no usable labelled images (image + readable mask of the same size){detail}")
    return rows
