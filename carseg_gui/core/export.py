"""Write predicted masks at each image's original size: PNG 0/255, Carvana GIF, RLE CSV."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cache import Cache, skipped_note
from .formats import CocoWriter, write_cutout, write_yolo
from .imageio import atomic_open, atomic_write_bytes, encode_mask, read_image, read_mask
from .jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from .locking import project_lock
from .otsu import mask_to_unit
from .postprocess import PostProcess
from .predict import predict_rows, to_original_size
from .project import RunInfo
from .rle import rle_encode

# png: 0/255 masks; gif: Carvana's; yolo: segmentation polygons (.txt); cutout: the photo as RGBA (alpha = mask);
# coco: one COCO instance JSON with RLE masks for the whole export (formats.py).
FORMATS = ("png", "gif", "yolo", "cutout", "coco")
COCO_NAME = "annotations.json"


@dataclass
class ExportSummary:
    out: Path
    written: list[Path] = field(default_factory=list)
    rle: Path | None = None
    set: str = "test"
    run: str = ""
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (image key, name used) on name collisions
    skipped: list[dict[str, str]] = field(default_factory=list)  # images of the set that could not be used
    by_person: int = 0  # images whose written mask is a person's (corrected or approved), not a prediction
    images: int = 0  # images exported (a COCO file holds them all)


def mask_name(image_name: str, fmt: str) -> str:
    stem = Path(image_name).stem
    return {"gif": f"{stem}_mask.gif", "yolo": f"{stem}.txt"}.get(fmt, f"{stem}.png")


def export_names(cache: Cache, rows: list[int], fmt: str | None) -> dict[int, tuple[str, str]]:
    """(mask file name, CSV ``img`` name) per row: the image's own names, except where two images of the
    export would share one (``train/X.jpg`` and ``test/X.jpg``, ``X.jpg`` and ``X.png``; compared without
    case, as Windows and macOS do): those use their whole key, so no mask overwrites another."""
    keys = {r: str(cache.rows[r]["key"]) for r in rows}
    csv = _dedupe({r: Path(cache.rows[r]["image"]).name for r in rows}, {r: keys[r] for r in rows})
    if not fmt or fmt == "coco":  # no file per image (the COCO file names each image by its CSV name)
        return {r: ("", csv[r]) for r in rows}
    flat = {r: mask_name(keys[r].replace("/", "__").replace("\\", "__") + ".x", fmt) for r in rows}
    masks = _dedupe({r: mask_name(cache.rows[r]["image"], fmt) for r in rows}, flat)
    return {r: (masks[r], csv[r]) for r in rows}


def _dedupe(names: dict[int, str], fallback: dict[int, str]) -> dict[int, str]:
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return {r: fallback[r] if counts[name.casefold()] > 1 else name for r, name in names.items()}


def export_masks(
    cache: Cache,
    run: RunInfo,
    model: Any,
    out: Path,
    which: str = "test",
    fmt: str | None = "png",
    rle: Path | None = None,
    threshold: float = 0.5,
    overwrite: bool = False,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    post: PostProcess | None = None,
    human: Mapping[str, Path] | None = None,
    feather: int = 0,
    background: tuple[int, int, int] | None = None,
) -> ExportSummary:
    """Mask files (``fmt`` png or gif; None: none) and/or a submission CSV (``rle``), at original size.

    ``human``: record key -> a mask a person made or approved (a correction PNG at the image's size),
    written instead of the prediction for that image. ``feather`` (px) and ``background`` (RGB) shape the
    ``cutout`` format: a soft edge, or the car on a plain colour instead of transparency.

    ``post``: the clean-up of each full-size mask; ``None`` means the run's own settings. The CSV is
    streamed to a temp file and renamed at the end: Carvana's test set has 100,064 images whose RLE
    strings are kilobytes each, too much to hold in memory, and a cancelled export leaves no half CSV.
    """
    with project_lock(cache.folder.parent.parent, "export", f"masks of run {run.id}"):
        return _export(
            cache, run, model, out, which, fmt, rle, threshold, overwrite, progress, cancel, post, human,
            feather, background,
        )  # fmt: skip


def _export(
    cache: Cache,
    run: RunInfo,
    model: Any,
    out: Path,
    which: str,
    fmt: str | None,
    rle: Path | None,
    threshold: float,
    overwrite: bool,
    progress: ProgressFn,
    cancel: CancelToken | None,
    post: PostProcess | None,
    human: Mapping[str, Path] | None = None,
    feather: int = 0,
    background: tuple[int, int, int] | None = None,
) -> ExportSummary:
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    if fmt is None and rle is None:
        raise InputError("nothing to export: choose a mask format or an RLE file")
    rows = cache.rows_for_set(which)
    if not rows:
        raise InputError(f"no {which} images to predict in {cache.index.get('root')}")
    out = Path(out)
    for folder in ([out] if fmt else []) + ([rle.parent] if rle else []):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} is a file, not a folder: choose a folder for the masks")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from exc
    names = export_names(cache, rows, fmt)
    targets = {r: out / names[r][0] for r in rows} if fmt and fmt != "coco" else {}
    coco_path = out / COCO_NAME if fmt == "coco" else None
    singles = [p for p in (rle, coco_path) if p is not None]
    _remove_leftovers([*targets.values(), *singles])
    if not overwrite:
        existing = [p for p in targets.values() if p.exists()] + [p for p in singles if p.exists()]
        if existing:
            raise InputError(
                f"{len(existing)} file(s) already exist, e.g. {existing[0]}; pass --overwrite to replace them"
            )
    summary = ExportSummary(out=out, set=which, run=run.id)
    summary.renamed = [
        (cache.rows[r]["key"], names[r][0] or names[r][1])
        for r in rows
        if (fmt and fmt != "coco" and names[r][0] != mask_name(cache.rows[r]["image"], fmt))  # COCO: one file
        or names[r][1] != Path(cache.rows[r]["image"]).name
    ]
    post = PostProcess.from_config(run.config) if post is None else post

    upsample = str(run.config.get("upsample", "bilinear"))
    by_person = {r: Path(human[cache.rows[r]["key"]]) for r in rows if human and cache.rows[r]["key"] in human}

    def write(row: int, prob: Any) -> tuple[Path | None, tuple[str, str] | None]:
        if row in by_person:
            mask = (mask_to_unit(read_mask(by_person[row])) > 0.5).astype(np.uint8)
        else:
            mask = to_original_size(prob, cache.rows[row]["orig"], threshold, post, cache.rows[row]["image"], upsample)
        if fmt in ("png", "gif"):
            atomic_write_bytes(targets[row], encode_mask(mask, fmt))
        elif fmt == "yolo":
            write_yolo(targets[row], mask)
        elif fmt == "cutout":
            photo, _size = read_image(Path(cache.rows[row]["image"]))
            write_cutout(targets[row], photo, mask, feather, background)
        elif coco is not None:
            coco.add(names[row][1], mask)
        line = (names[row][1], rle_encode(mask)) if rle else None
        return targets.get(row), line

    total = len(rows)
    progress(Progress("export", 0, total))
    with ExitStack() as stack:
        # The csv module quotes a name holding a comma or a quote, which a plain join would split in two.
        table = csv.writer(stack.enter_context(atomic_open(rle, "w")), lineterminator="\n") if rle else None
        if table is not None:
            table.writerow(("img", "rle_mask"))
        coco = stack.enter_context(CocoWriter(coco_path)) if coco_path is not None else None
        pending: list[Future[tuple[Path | None, tuple[str, str] | None]]] = []
        done = 0

        def drain(keep: int) -> None:
            nonlocal done
            while len(pending) > keep:
                path, line = pending.pop(0).result()
                if path is not None:
                    summary.written.append(path)
                if table is not None and line is not None:
                    table.writerow(line)
                done += 1
                if done % 8 == 0 or done == total:
                    progress(Progress("export", done, total))

        # Upsampling and encoding full-size masks is the slow half: it runs beside the next prediction,
        # with a bounded queue so memory stays flat however many images there are.
        workers = os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
            for row in by_person:  # a person's mask: nothing to predict
                pending.append(pool.submit(write, row, None))
            for row, prob in predict_rows(model, cache, [r for r in rows if r not in by_person], cancel=cancel):
                pending.append(pool.submit(write, row, prob))
                drain(keep=4 * workers + 32)
            drain(keep=0)
    summary.rle = rle
    summary.by_person, summary.images = len(by_person), len(rows)
    if coco_path is not None:
        summary.written.append(coco_path)
    summary.skipped = cache.skipped(which)
    if summary.skipped:
        progress(Progress("notice", 0, 0, info={"notice": skipped_note(summary.skipped, "the export")}))
    return summary


def _remove_leftovers(paths: list[Path]) -> None:
    """Temp files a killed export left beside its targets (``.<name>.<random>.tmp``, see atomic_open)."""
    for folder in {p.parent for p in paths}:
        names = {p.name for p in paths if p.parent == folder}
        for tmp in folder.glob(".*.tmp"):
            if tmp.name[1:].rsplit(".", 2)[0] in names:
                tmp.unlink(missing_ok=True)
