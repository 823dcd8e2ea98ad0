"""Predicted masks as one Carvana submission CSV (``img,rle_mask``), without writing mask images.

The lines are streamed into a temp file beside the target and renamed at the end: Carvana's test
set has 100,064 images whose RLE strings are kilobytes each, too much to hold in memory, and a
cancelled or failed export must not leave half a CSV behind.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .cache import Cache
from .export import ExportSummary
from .jobs import CancelToken, InputError, Progress, ProgressFn, no_progress
from .postprocess import PostProcess
from .predict import predict_rows, to_original_size
from .project import RunInfo, find_run
from .rle import rle_encode


def export_rle_csv(
    cache: Cache,
    run: RunInfo,
    model: Any,
    csv: Path,
    which: str = "test",
    threshold: float = 0.5,
    overwrite: bool = False,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> ExportSummary:
    rows = cache.rows_for_set(which)
    if not rows:
        raise InputError(f"no {which} images to predict in {cache.index.get('root')}")
    csv = Path(csv)
    if csv.exists() and not overwrite:
        raise InputError(f"{csv} already exists; choose another file or allow replacing it")
    try:
        csv.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {csv.parent}: {exc.strerror or exc}") from exc

    post = PostProcess.from_config(run.config)

    def encode(row: int, prob: Any) -> str:
        name = Path(cache.rows[row]["image"]).name
        return f"{name},{rle_encode(to_original_size(prob, cache.rows[row]['orig'], threshold, post))}\n"

    total = len(rows)
    progress(Progress("export", 0, total))
    fd, tmp = tempfile.mkstemp(prefix=f".{csv.name}.", suffix=".tmp", dir=csv.parent)
    done = 0
    try:
        with os.fdopen(fd, "w") as f, ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="rle") as pool:
            f.write("img,rle_mask\n")
            pending: list[Future[str]] = []

            def drain(keep: int) -> None:
                nonlocal done
                while len(pending) > keep:
                    f.write(pending.pop(0).result())
                    done += 1
                    if done % 8 == 0 or done == total:
                        progress(Progress("export", done, total))

            for row, prob in predict_rows(model, cache, rows, cancel=cancel):
                pending.append(pool.submit(encode, row, prob))
                drain(keep=64)
            drain(keep=0)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, csv)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportSummary(out=csv.parent, written=[], rle=csv, set=which, run=run.id)


def rle_to_file(
    root: Path,
    project: Path,
    csv: Path,
    run: str | None = "active",
    which: str = "test",
    threshold: float = 0.5,
    overwrite: bool = False,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> ExportSummary:
    """Like :func:`.workflow.predict_to_folder`, writing only the submission CSV."""
    from .workflow import load_run_model, prepare

    info = find_run(project, run)
    cache = prepare(root, project, int(info.config.get("size", 128)), progress, cancel)
    model = load_run_model(info)
    return export_rle_csv(cache, info, model, csv, which, threshold, overwrite, progress, cancel)
