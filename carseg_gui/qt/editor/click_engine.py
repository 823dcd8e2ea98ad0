"""Off the GUI thread: loading the click refiner and computing what a click does to the mask.

One Python thread per engine serves a queue of requests in one long call (as the viewer's service does:
TensorFlow keeps the first thread state it sees on a thread, so requests must not each get a fresh one).
Results cross back to the GUI thread as queued signals; the GUI applies them to the mask (one undo step
each) after checking that the crop did not change meanwhile.

Loaded refiners are kept per run folder and model file version, so a new editor, or the same editor after
it was hidden, gets its refiner back at once; a refiner trained since is loaded the next time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ...core.clicks import BBox, Click, crop_box, crop_side
from ...core.grabcut import grabcut_refine
from ..tf_preload import preload_tensorflow
from ..workers import describe_error

log = logging.getLogger("carseg_gui")

_REFINERS: dict[tuple[str, int], Any] = {}  # (run folder, model.keras mtime_ns) -> core.refiner.Refiner
_REFINERS_LOCK = threading.Lock()
THREAD_NAME = "click-refiner"


@dataclass(frozen=True)
class LoadRequest:
    project: Path


@dataclass(frozen=True)
class ClickRequest:
    """What a click (or a GrabCut box) asks for. ``mask`` is a copy taken when it was asked."""

    gen: int
    document: object  # the MaskDocument it is for (only compared, never touched here)
    image: np.ndarray | QImage  # the full-size photo; a QImage is converted here, off the GUI thread
    mask: np.ndarray
    clicks: tuple[Click, ...]
    method: str  # "refiner" (falls back to GrabCut when none is loaded) or "grabcut"
    box: BBox | None = None  # GrabCut's dragged box; None: the crop around the last click
    prob: np.ndarray | None = None  # the model's probabilities, GrabCut's seed where the mask is empty
    asked: float = 0.0  # time.perf_counter() at the click


@dataclass(frozen=True)
class ClickResult:
    gen: int
    document: object
    box: BBox
    before: np.ndarray  # the crop of the mask as it was asked
    after: np.ndarray  # the crop's new 0/1 mask
    method: str  # what computed it: "refiner" or "grabcut"
    compute_ms: float
    asked: float
    clicks: int  # how many clicks it used
    requested: str = "refiner"  # what the tool asked for: GrabCut asked for is no fallback


def as_rgb(image: np.ndarray | QImage) -> np.ndarray:
    """HxWx3 uint8 RGB from an array or a QImage (a copy of the QImage's pixels)."""
    if isinstance(image, np.ndarray):
        return image
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return np.ascontiguousarray(raw[:, : 3 * w].reshape(h, w, 3))


class ClickEngine(QObject):
    """Loads the refiner and computes clicks on its own thread; say what happened through signals."""

    loaded = Signal(object, str)  # the run folder (Path) or None, the problem ("" when the refiner is ready)
    computed = Signal(object)  # ClickResult
    failed = Signal(int, str)  # gen, one-line message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._requests: queue.Queue[LoadRequest | ClickRequest | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._refiner: Any = None  # read and written on the engine's thread only
        self._rgb: tuple[object, np.ndarray] | None = None  # (document, its photo as an array)

    @property
    def running(self) -> bool:
        """A thread serves this engine's requests (one told to stop may still finish its last request)."""
        return self._thread is not None and self._thread.is_alive()

    def submit(self, request: LoadRequest | ClickRequest) -> None:
        if not self.running:
            self._requests = queue.Queue()  # each thread its own queue: a stopping one never takes a new request
            self._thread = threading.Thread(target=self._serve, args=(self._requests,), name=THREAD_NAME, daemon=True)
            self._thread.start()
        self._requests.put(request)

    def stop(self, timeout: float | None = None) -> bool:
        """Tell the thread to end after the request it is serving. Without ``timeout`` it does not wait (the GUI
        thread must not: a refiner may be loading for seconds); True when the thread has ended."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._requests.put(None)
        if timeout is not None:
            thread.join(timeout)
        return not thread.is_alive()

    def _serve(self, requests: queue.Queue[LoadRequest | ClickRequest | None]) -> None:
        while True:
            request = requests.get()
            if request is None:
                return
            try:
                if isinstance(request, LoadRequest):
                    self._load(request.project)
                else:
                    self._say("computed", self._compute(request))
            except Exception as exc:  # a message for the editor, never a dead thread
                log.warning("click tool: %s", traceback.format_exc())
                gen = request.gen if isinstance(request, ClickRequest) else -1
                self._say("failed", gen, describe_error(exc))

    def _say(self, signal: str, *args: Any) -> None:
        """Emit ``signal``, unless the editor (and this engine with it) was deleted while the request ran."""
        try:
            getattr(self, signal).emit(*args)
        except RuntimeError:  # "Internal C++ object already deleted": nobody is left to tell
            log.debug("click engine: result dropped, the editor is gone")

    def _load(self, project: Path) -> None:
        preload_tensorflow()
        from ...core.refiner import latest_refiner
        from ...session.refiner import load_latest

        try:
            folder = latest_refiner(project)
            stamp = (str(folder), (folder / "model.keras").stat().st_mtime_ns) if folder else None
        except Exception:  # a damaged status.json: load_latest says which
            stamp = None
        with _REFINERS_LOCK:
            cached = _REFINERS.get(stamp) if stamp else None
        if cached is not None:
            self._refiner = cached
            self._say("loaded", cached.folder, "")
            return
        latest = load_latest(project)
        self._refiner = latest.refiner
        if latest.refiner is None:
            self._say("loaded", latest.folder, latest.problem or "no click refiner")
            return
        size = latest.refiner.input_size
        for _ in range(2):  # the first call traces the graph, the second sets up its kernels: not at a click
            latest.refiner.predict(np.zeros((1, size, size, 6), np.float32))
        if stamp:
            with _REFINERS_LOCK:
                _REFINERS[stamp] = latest.refiner
        self._say("loaded", latest.folder, "")

    def _photo(self, request: ClickRequest) -> np.ndarray:
        if self._rgb is None or self._rgb[0] is not request.document:
            self._rgb = (request.document, as_rgb(request.image))
        return self._rgb[1]

    def _compute(self, request: ClickRequest) -> ClickResult:
        started = time.perf_counter()
        image, mask, clicks = self._photo(request), request.mask, list(request.clicks)
        if request.method == "refiner" and self._refiner is not None:
            from ...core.refiner import refine_crop

            box, after = refine_crop(self._refiner, image, mask, clicks)
            method = "refiner"
        else:
            if request.box is not None:
                box = request.box
            else:
                box = crop_box(mask.shape, clicks[-1], crop_side(mask, clicks[-1]))
            seed = _seed(mask, request.prob, box, dragged=request.box is not None)
            after = grabcut_refine(image, mask, clicks, box, prob=seed)
            after = after[box[0] : box[1], box[2] : box[3]]
            method = "grabcut"
        y0, y1, x0, x1 = box
        before = mask[y0:y1, x0:x1]
        ms = (time.perf_counter() - started) * 1000
        after = after.astype(np.uint8)
        n = len(request.clicks)
        asked = request.asked
        return ClickResult(request.gen, request.document, box, before, after, method, ms, asked, n, request.method)


def _seed(mask: np.ndarray, prob: np.ndarray | None, box: BBox, dragged: bool) -> np.ndarray | None:
    """What GrabCut takes as probable car in ``box``: the current mask (None); where the box holds no car
    yet, the model's probabilities; for a dragged box without either, the box inside a thin margin
    (GrabCut's own reading of a box: the car is in it, its edge is background)."""
    y0, y1, x0, x1 = box
    if mask[y0:y1, x0:x1].any():
        return None
    if prob is not None and (prob[y0:y1, x0:x1] >= 0.5).any():
        return prob
    if not dragged:
        return None
    seed = np.zeros(mask.shape, np.float32)
    my, mx = max(1, (y1 - y0) // 20), max(1, (x1 - x0) // 20)
    seed[y0 + my : y1 - my, x0 + mx : x1 - mx] = 1.0
    return seed
