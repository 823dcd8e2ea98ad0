"""The mask editor's GUI-thread budget: the longest event-loop gap while a scripted user works.

A 5 ms PreciseTimer on the GUI thread records the time between its ticks; a gap is how long the event
loop could not run (plus the 5 ms period). The "user" is driven by timers on the same loop, so the
loop runs between their events as it does for a person:

* strokes: 200 brush strokes of 10 segments, a mouse event every 8 ms, 60 ms between strokes (under the
  300 ms save delay: every press waits for the previous stroke's write), autosave on, 1918x1280 mask;
* switch: Next through 20 full-size photos and Previous back, one key every 250 ms, each image with its
  mask (Otsu) and a prediction (upsampled from 128x128, best preset's post-processing);
* threshold: the slider dragged 0.30 -> 0.70 -> 0.30 in 0.01 steps, one every 16 ms, with the best
  preset's post-processing (largest component + holes filled) at 1918x1280.

Used by bench_editor.py; the baseline rows run the same work on the GUI thread (as before this round).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.postprocess import PostProcess
from carseg_gui.qt.editor import EditorItem, MaskEditor
from carseg_gui.session.editor import load_arrays, prediction_at

BEST_POST = PostProcess(keep_largest=True, fill_holes=True)
Step = tuple[int, Callable[[], None]]  # (ms to wait before, action)


class Heartbeat:
    def __init__(self, period_ms: int = 5) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(period_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000)
        self.last = now

    def run(self, steps: Iterator[Step]) -> tuple[float, float, float]:
        """Play the steps on the event loop; (worst, median, 95th percentile) gap in ms."""
        loop = QEventLoop()
        self.gaps = []

        def next_step() -> None:
            try:
                wait, action = next(steps)
            except StopIteration:
                QTimer.singleShot(50, loop.quit)
                return
            QTimer.singleShot(wait, lambda: (action(), next_step()))

        self.last = time.perf_counter()
        self.timer.start()
        next_step()
        loop.exec()
        self.timer.stop()
        p95 = sorted(self.gaps)[int(0.95 * (len(self.gaps) - 1))]
        return max(self.gaps), statistics.median(self.gaps), p95


def send(editor: MaskEditor, kind: QEvent.Type, x: float, y: float, button, buttons) -> None:  # type: ignore[no-untyped-def]
    vp = editor.canvas.viewport()
    pos = editor.canvas.mapFromScene(QPointF(x, y))
    QApplication.sendEvent(vp, QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons,
                                           Qt.KeyboardModifier.NoModifier))  # fmt: skip


def strokes(editor: MaskEditor, baseline: bool, project: Path, n: int = 200) -> Iterator[Step]:
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    h, w = editor.document.shape if editor.document else (1280, 1918)
    for i in range(n):
        x0, y = 100 + (i * 37) % (w - 500), 100 + (i * 53) % (h - 200)
        yield 60, lambda x0=x0, y=y: send(editor, QEvent.Type.MouseButtonPress, x0, y, left, left)
        for k in range(1, 11):
            yield 8, lambda x=x0 + 30 * k, y=y + 3 * k: send(editor, QEvent.Type.MouseMove, x, y, none, left)
        yield 8, lambda x=x0 + 300, y=y + 30: send(editor, QEvent.Type.MouseButtonRelease, x, y, left, none)
        if baseline:  # before: the save (PNG encode + fsync) on the GUI thread at each stroke's end
            yield 0, lambda: save_correction(project, "baseline", editor.document.mask)  # type: ignore[union-attr]


def switches(
    editor: MaskEditor, baseline: bool, project: Path, items: list[EditorItem], shown: list[bool]
) -> Iterator[Step]:
    order = [*range(1, len(items)), *range(len(items) - 2, -1, -1)]
    for i in order:
        if baseline:  # before: the decode, Otsu and prediction on the GUI thread at each switch
            yield 250, lambda i=i: load_arrays(project, items[i], 0.5)
        else:
            # shown: the image was on screen when set_index returned (prefetched), without a "Loading…"
            yield 250, lambda i=i: (editor.set_index(i), shown.append(editor.document is not None))


def thresholds(editor: MaskEditor, baseline: bool) -> Iterator[Step]:
    values = [*range(30, 71), *range(69, 29, -1)]
    doc = editor.document
    assert doc is not None
    for v in values:
        if baseline:  # before: the post-processing on the GUI thread at each tick
            yield 16, lambda v=v: prediction_at(doc.prob, BEST_POST, v / 100)
        else:
            yield 16, lambda v=v: editor.panel.threshold.setValue(v)


def photos(folder: Path, n: int = 20, real: Path | None = None) -> list[EditorItem]:
    """n full-size photos with masks and a 128x128 prediction: real Carvana pairs if given, else synthetic."""
    items = []
    names = sorted(real.glob("*.jpg"))[:n] if real else []
    for i in range(n):
        if names:
            image = names[i]
            mask_path = real.parent / "train_masks" / f"{image.stem}_mask.gif"  # type: ignore[union-attr]
            from carseg_gui.core.imageio import read_mask

            mask = (read_mask(mask_path) > 127).astype(np.uint8)
        else:
            mask = np.zeros((1280, 1918), np.uint8)
            cv2.ellipse(mask, (959 + 20 * i, 740), (700, 300), 0, 0, 360, 1, -1)
            photo = np.full((1280, 1918, 3), 210, np.uint8)
            photo[mask > 0] = (40 + 5 * i, 60, 150)
            photo = cv2.GaussianBlur(photo, (0, 0), 3) + np.random.default_rng(i).integers(0, 20, photo.shape, np.uint8)
            image, mask_path = folder / f"car{i:02d}.jpg", folder / f"car{i:02d}_mask.png"
            cv2.imwrite(str(image), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
            cv2.imwrite(str(mask_path), mask * 255)
        small = cv2.resize(
            cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 9), (128, 128), interpolation=cv2.INTER_AREA
        )
        prob = np.round(np.roll(small, 2, axis=1) * 255).astype(np.uint8)
        items.append(EditorItem(f"train/{Path(image).name}", Path(image), mask_path, lambda p=prob: p, BEST_POST))
    return items


def measure(app: QApplication, folder: Path, real: Path | None = None) -> dict[str, float | int]:
    """Worst and median gaps per scenario, ours and the baseline (the same work on the GUI thread)."""
    items = photos(folder, 20, real)
    out: dict[str, float | int] = {}
    for baseline in (False, True):
        project = folder / ("project-baseline" if baseline else "project")
        project.mkdir(exist_ok=True)
        editor = MaskEditor(project, items, 0)
        editor.resize(1280, 800)
        editor.show()
        while editor.document is None:
            app.processEvents()
        editor.canvas.set_brush_size(40)
        waits: list[float] = []  # how long the GUI thread waited for the saver (a press after an unwritten stroke)
        before = editor.autosave.before_stroke

        def timed_wait(before: Callable[[], None] = before, waits: list[float] = waits) -> None:
            t0 = time.perf_counter()
            before()
            waits.append((time.perf_counter() - t0) * 1000)

        editor.autosave.before_stroke = timed_wait  # type: ignore[method-assign]
        beat, tag, shown = Heartbeat(), "baseline_" if baseline else "", []
        for name, steps in (
            ("strokes", strokes(editor, baseline, project)),
            ("threshold", thresholds(editor, baseline)),
            ("switch", switches(editor, baseline, project, items, shown)),
        ):
            editor.flush()
            waits.clear()
            worst, median, p95 = beat.run(steps)
            if name == "strokes":
                out[f"{tag}saver_wait_ms_max_strokes"] = round(max(waits, default=0.0), 1)
                out[f"{tag}saver_wait_ms_median_strokes"] = round(statistics.median(waits or [0.0]), 1)
            out[f"{tag}gui_gap_worst_ms_{name}"] = round(worst, 1)
            out[f"{tag}gui_gap_median_ms_{name}"] = round(median, 1)
            out[f"{tag}gui_gap_p95_ms_{name}"] = round(p95, 1)
            out[f"{tag}gui_gaps_over_50ms_{name}"] = sum(g > 50 for g in beat.gaps)
            out[f"{tag}gui_gaps_top5_ms_{name}"] = [round(g, 1) for g in sorted(beat.gaps)[-5:]]  # type: ignore[assignment]
            out[f"{tag}gui_gaps_{name}"] = len(beat.gaps)
        if not baseline:
            out["switches"], out["switches_shown_at_once"] = len(shown), sum(shown)
        editor.close()
    return out
