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
from .locking import ProjectBusy, project_lock
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
    lock (:mod:`.locking`). While another process holds it (a training in a terminal), a cache that is
    already up to date is still returned, read-only, so listing the review queue or recording a decision
    goes on; only a cache that would have to change raises ``ProjectBusy``.
    """
    dataset = ds.scan(root)  # before the lock: a folder that is no dataset gets nothing written into it
    args = (dataset, root, project, size, mask_overrides, excluded, workers, progress, cancel)
    try:
        with project_lock(project, "preprocess"):
            cache = _preprocess(*args)
    except ProjectBusy:
        cache = _preprocess(*args, write=False)
        if cache is None:
            raise
    assert cache is not None
    return cache


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
    write: bool = True,
) -> Cache | None:
    """The up-to-date cache; with ``write=False`` (no lock held) None when it would have to change."""
    cancel = cancel or CancelToken()
    overrides = {key: Path(path).resolve() for key, path in (mask_overrides or {}).items()}
    excluded = excluded or set()
    workers = workers or min(8, os.cpu_count() or 1)
    old, damage = inspect_cache(project, size)
    if not write and (damage or old is None):
        return None
    if damage:  # derived data: rebuilt from the dataset, and the user told which file was damaged
        progress(Progress("notice", 0, 0, info={"notice": f"{damage}; rebuilding the cache"}))
    old_rows = {r["key"]: (i, r) for i, r in enumerate(old.rows)} if old else {}

    plan: list[tuple[ds.Record, Path | None, str]] = []
    for rec in dataset.records:
        mask = overrides.get(rec.key, rec.mask)
        plan.append((rec, mask, file_fingerprint(rec.image, mask)))
    old_problems = {p["path"] for p in old.problems} if old else set()
    reuse: dict[str, int] = {}
    rechecked: dict[str, Decoded] = {}
    for rec, mask, fp in plan:
        prev = old_rows.get(rec.key)
        # A file that had a problem last time is decoded again every time: a fix can keep its mtime and
        # size (chmod, cp -p), and the problem must stay listed for as long as it lasts.
        if prev is None:
            if str(rec.image) in old_problems:
                rechecked[rec.key] = decode_pair(rec.image, mask, size)
        elif prev[1]["fp"] == fp and prev[1]["usable"]:
            if _had_mask_problem(prev[1]):
                rechecked[rec.key] = decode_pair(rec.image, mask, size)
            else:
                reuse[rec.key] = prev[0]
    todo = [(rec.image, mask) for rec, mask, _ in plan if rec.key not in reuse and rec.key not in rechecked]

    scan_problems = [{"path": p.path, "reason": p.reason} for p in dataset.problems]
    if old is not None and not todo:
        rows: list[dict[str, Any]] = []
        problems: list[dict[str, str]] = []
        for rec, mask, fp in plan:
            base = _base_row(rec, mask, fp, excluded, overrides)
            if rec.key in reuse:
                rows.append(_reused(base, old_rows[rec.key][1]))
            else:
                row, found = _outcome(base, rechecked[rec.key])
                rows.extend([row] if row else [])
                problems.extend(found)
        if rows == old.rows and scan_problems + problems == old.problems:
            progress(Progress("preprocess", len(plan), len(plan), "cache up to date"))
            return old
    if not write:
        return None
    total = len(plan)
    progress(Progress("preprocess", 0, total, f"{len(reuse)} unchanged, {len(todo) + len(rechecked)} to decode"))
    start = time.perf_counter()
    # One row per record at most; rows of unusable images stay unused at the tail (never indexed).
    writer = CacheWriter(project, size, total, f"gen-{uuid.uuid4().hex[:8]}")
    rows, problems = [], list(scan_problems)
    decoded_count = 0
    try:
        decoded = _decode_all(todo, size, workers, cancel)
        for done, (rec, mask, fp) in enumerate(plan, start=1):
            base = _base_row(rec, mask, fp, excluded, overrides)
            if rec.key in reuse:
                i = old_rows[rec.key][0]
                assert old is not None
                writer.put(len(rows), old.read_images([i])[0], old.read_masks([i])[0])
                rows.append(_reused(base, old_rows[rec.key][1]))
            else:
                d = rechecked[rec.key] if rec.key in rechecked else next(decoded)
                decoded_count += 1
                row, found = _outcome(base, d)
                problems.extend(found)
                if row is not None:
                    assert d.image is not None
                    writer.put(len(rows), d.image, d.mask)
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


def _had_mask_problem(row: dict[str, Any]) -> bool:
    """A row with a mask that is not labelled: its mask could not be used last time."""
    return bool(row.get("mask")) and not row["labelled"]


def _base_row(
    rec: ds.Record, mask: Path | None, fp: str, excluded: set[str], overrides: Mapping[str, Path]
) -> dict[str, Any]:
    return {
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


def _reused(base: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
    return {**base, "orig": prev["orig"], "labelled": prev["labelled"], "usable": True}


def _outcome(base: dict[str, Any], d: Decoded) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The row a decode gives (None for an unusable image) and the problems it found."""
    # "skips" says what the problem costs: the image (left out of every set) or its label (not trained on).
    where = {"key": base["key"], "split": base["split"]}
    if d.problem:
        return None, [{"path": base["image"], "reason": d.problem, **where, "skips": "image"}]
    row = {**base, "orig": list(d.orig), "labelled": d.mask is not None, "usable": True}
    if d.mask_problem:
        reason = f"{d.mask_problem}; image used unlabelled"
        return row, [{"path": d.mask_path or "", "reason": reason, **where, "skips": "label"}]
    return row, []


def require_labelled(cache: Cache) -> list[int]:
    rows = cache.labelled_rows()
    if not rows:
        names = "; ".join(f"{Path(p['path']).name}: {p['reason']}" for p in cache.problems[:5])
        detail = f" ({names})" if names else ""
        raise InputError(f"no usable labelled images (image + readable mask of the same size){detail}")
    return rows
