"""Off the GUI thread: a page's thumbnails from the cache, and its predictions with the active run.

Requests carry a generation number; the GUI bumps ``PageLoader.latest`` when the user leaves a
page, and the loader drops (or stops predicting) anything older, so results never land on the
wrong page and paging fast never queues up work. Everything that touches a file runs here, the model's
version stamp (a ``stat`` of its file) too: the GUI sends the stamp it last heard of, and when the model
changed since, the loader predicts the whole page again and says so with the new stamp.
"""

from __future__ import annotations

import queue
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ...core.cache import Cache
from ...core.imageio import UnreadableImage, read_mask
from ...core.jobs import Cancelled, CancelToken
from ...core.otsu import otsu_mask
from ...core.project import RunInfo
from ..tf_preload import preload_tensorflow
from ..workers import describe_error

PREDICT_BATCH = 25  # two batches per page of 50: the first half shows up sooner


@dataclass(frozen=True)
class PageRequest:
    gen: int
    cache: Cache
    rows: tuple[int, ...]
    run: RunInfo | None = None
    stamp: str = ""  # the run's model version as the GUI last heard it (its cached predictions' stamp)
    predict: tuple[int, ...] = ()  # rows whose predictions are not cached under that stamp
    # (row, correction PNG) for the rows training takes a correction for: the cache may predate it,
    # and a row must show the mask training will use, whatever was reloaded since the edit.
    corrections: tuple[tuple[int, str], ...] = ()


@dataclass
class Thumb:
    row: int
    image: QImage
    mask: QImage | None
    mask_array: np.ndarray | None  # 0/1 at cache size, for the Dice of the prediction


def model_stamp(run: RunInfo | None) -> str:
    """The run's model version ("id@mtime"): predictions are cached under it, so a retrained model is new."""
    if run is None:
        return ""
    try:
        return f"{run.id}@{run.model_path.stat().st_mtime_ns}"
    except OSError:
        return f"{run.id}@missing"


def corrected_thumbnail(path: Path, size: int) -> np.ndarray | None:
    """A correction PNG as training will see it (resized and Otsu-binarised as preprocessing does), 0/1;
    None when it cannot be read (the editor reports it and sets it aside when the image is opened)."""
    try:
        return otsu_mask(read_mask(path), size)
    except (UnreadableImage, OSError, ValueError):
        return None


def rgb_image(arr: np.ndarray) -> QImage:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def grey_image(arr: np.ndarray) -> QImage:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class _Stale(CancelToken):
    """Cancelled as soon as the GUI has asked for another page."""

    def __init__(self, loader: PageLoader, gen: int) -> None:
        super().__init__()
        self.loader, self.gen = loader, gen

    @property
    def cancelled(self) -> bool:
        return self.loader.latest != self.gen

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled()


class PageLoader(QObject):
    thumbsReady = Signal(int, object)  # gen, list[Thumb]
    predsReady = Signal(int, str, object)  # gen, stamp, {row: probability as uint8 0..255}
    predsFailed = Signal(int, str, str, str)  # gen, stamp, message, details

    def __init__(self, load_model: Callable[[RunInfo], Any] | None = None) -> None:
        """``load_model``: the run's model (default: session.actions.load_run_model, with TensorFlow)."""
        super().__init__()
        self.latest = 0  # written by the GUI thread; an int assignment is atomic
        self.load_model = load_model
        self._models: OrderedDict[str, Any] = OrderedDict()

    def serve(self, requests: queue.Queue) -> None:
        """The service thread's whole life: take the newest request, drop older ones, until None."""
        while True:
            req = requests.get()
            while req is not None and not requests.empty():
                req = requests.get_nowait()  # the user paged on: only the newest page matters
            if req is None:
                return
            self.load(req)

    def load(self, req: PageRequest) -> None:
        if req.gen != self.latest:
            return
        try:
            thumbs = self._thumbs(req)
        except (OSError, ValueError) as exc:  # a cache deleted or rebuilt underneath
            self.predsFailed.emit(req.gen, req.stamp, f"cannot read the cache: {exc}", traceback.format_exc())
            return
        self.thumbsReady.emit(req.gen, thumbs)
        if req.run is None:
            return
        stamp = model_stamp(req.run)
        todo = req.predict if stamp == req.stamp else req.rows  # a new model version: the whole page
        if not todo:
            return
        try:
            model = self._model(req.run, stamp)
            from ...core.postprocess import PostProcess, postprocess_probability
            from ...core.predict import predict_rows

            token = _Stale(self, req.gen)
            # The run's own clean-up, so thumbnails and Dice show the masks that export writes.
            post = PostProcess.from_config(req.run.config)
            done: dict[int, np.ndarray] = {}
            for row, prob in predict_rows(model, req.cache, list(todo), PREDICT_BATCH, cancel=token):
                done[row] = postprocess_probability(np.round(prob * 255).astype(np.uint8), post)
                if len(done) == PREDICT_BATCH:
                    self.predsReady.emit(req.gen, stamp, done)
                    done = {}
            if done:
                self.predsReady.emit(req.gen, stamp, done)
        except Cancelled:
            return
        except Exception as exc:
            self.predsFailed.emit(req.gen, stamp, describe_error(exc), traceback.format_exc())

    def _thumbs(self, req: PageRequest) -> list[Thumb]:
        rows = np.asarray(req.rows, dtype=np.int64)
        order = np.argsort(rows)  # sequential reads from the memory map
        images = np.asarray(req.cache.images()[rows[order]])
        masks = np.asarray(req.cache.masks()[rows[order]])
        out: dict[int, Thumb] = {}
        for i, k in enumerate(order):
            row = int(rows[k])
            labelled = bool(req.cache.rows[row]["labelled"])
            mask = masks[i] if labelled else None
            out[row] = Thumb(row, rgb_image(images[i]), grey_image(mask * 255) if mask is not None else None, mask)
        for row, path in req.corrections:
            small = corrected_thumbnail(Path(path), req.cache.size)
            if small is not None and row in out:
                out[row].mask, out[row].mask_array = grey_image(small * 255), small
        return [out[int(r)] for r in rows]

    def _model(self, run: RunInfo, stamp: str) -> Any:
        """Loaded once per run (and model version), here in the worker, never on the GUI thread."""
        if stamp in self._models:
            self._models.move_to_end(stamp)
            return self._models[stamp]
        if self.load_model is not None:
            model = self.load_model(run)
        else:
            preload_tensorflow()
            from ...session.actions import load_run_model

            model = load_run_model(run)
        self._models[stamp] = model
        while len(self._models) > 2:
            self._models.popitem(last=False)
        return model
