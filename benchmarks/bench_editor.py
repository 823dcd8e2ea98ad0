"""Brush latency and undo memory of the mask editor on a 1918x1280 mask, through the real canvas.

Three scripted strokes of 200 segments each at brush size 50 are sent as mouse events to the
canvas viewport of a MaskEditor (offscreen, 1280x800, "fit" zoom); a segment's time is from the
mouse event to the end of the repaint it causes. The baseline, in the same run, is the same stroke
re-colouring and repainting the whole overlay per segment (what a naive overlay would do).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_editor.py [--photos DIR] [--no-gaps]

Then the GUI-thread budget (editor_gaps.py): the longest event-loop gap while painting 200 strokes with
autosave, switching Next/Previous through 20 full-size photos (``--photos``: a Carvana train_images folder
with train_masks beside it; synthetic 1918x1280 JPEGs otherwise) and dragging the threshold slider with
the best preset's post-processing; each beside a baseline doing the same work on the GUI thread.

The last line is one JSON object (stroke_ms_median, undo_step_bytes_median, gui_gap_worst_ms_strokes, ...).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, qInstallMessageHandler
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from carseg_gui.core import masks
from carseg_gui.qt.editor import EditorItem, MaskEditor

SEGMENTS, BRUSH, H, W = 200, 50, 1280, 1918


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def write_data(folder: Path) -> EditorItem:
    shade = (230 - 40 * np.arange(H) / H).astype(np.uint8)[:, None]
    photo = np.dstack([np.repeat(shade, W, axis=1)] * 3)
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(photo, (W // 2, H // 2 + 100), (700, 300), 0, 0, 360, (40, 60, 150), -1)
    cv2.ellipse(mask, (W // 2, H // 2 + 100), (700, 300), 0, 0, 360, 1, -1)
    cv2.imwrite(str(folder / "car.jpg"), photo)
    cv2.imwrite(str(folder / "car_mask.png"), mask * 255)
    return EditorItem("car.jpg", folder / "car.jpg", folder / "car_mask.png")


def send(viewport, kind: QEvent.Type, pos: QPoint, button, buttons) -> None:  # type: ignore[no-untyped-def]
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, buttons, Qt.NoModifier)
    QApplication.sendEvent(viewport, event)


def settle(app: QApplication, counter: PaintCounter) -> None:
    """Run the event loop until the repaint the last event caused has happened (or nothing is due)."""
    before = counter.paints
    for _ in range(4):
        app.processEvents()
        if counter.paints > before:
            return


def stroke(app, editor, counter, path, full_refresh=False) -> list[float]:  # type: ignore[no-untyped-def]
    vp = editor.canvas.viewport()
    left = Qt.MouseButton.LeftButton
    send(vp, QEvent.Type.MouseButtonPress, path[0], left, left)
    settle(app, counter)
    times = []
    for p in path[1:]:
        t0 = time.perf_counter()
        send(vp, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
        if full_refresh:
            editor.canvas.overlay.refresh(None)
        settle(app, counter)
        times.append((time.perf_counter() - t0) * 1000)
    send(vp, QEvent.Type.MouseButtonRelease, path[-1], left, Qt.MouseButton.NoButton)
    settle(app, counter)
    return times


def path(y: int, amplitude: int, phase: float) -> list[QPoint]:
    # 201 points, ~5 screen px apart (~10 image px at fit zoom): a brisk but ordinary drag.
    return [QPoint(60 + 4 * i, y + round(amplitude * math.sin(phase + i / 25))) for i in range(SEGMENTS + 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, help="a folder of Carvana train_images (train_masks beside it)")
    parser.add_argument("--no-gaps", action="store_true", help="skip the GUI-thread budget")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # The offscreen platform warns at each relayout of the status row; nothing to do with the measure.
    qInstallMessageHandler(lambda kind, ctx, text: None if "propagateSizeHints" in text else print(text))
    with tempfile.TemporaryDirectory() as tmp:
        item = write_data(Path(tmp))
        editor = MaskEditor(Path(tmp), [item], 0)
        editor.resize(1280, 800)
        editor.show()
        while editor.document is None:  # loaded in the background
            app.processEvents()
        canvas = editor.canvas
        canvas.set_brush_size(BRUSH)
        counter = PaintCounter()
        canvas.viewport().installEventFilter(counter)
        doc = editor.document
        assert doc is not None

        # Brush over background, eraser across the car, brush across both: every segment edits.
        runs = [("brush", path(150, 40, 0.0)), ("eraser", path(420, 60, 1.0)), ("brush", path(360, 200, 2.0))]
        seg_ms: list[float] = []
        undo_bytes: list[int] = []
        raw_bytes: list[int] = []
        for tool, points in runs:
            editor.set_tool(tool)
            seg_ms += stroke(app, editor, counter, points)
            command = doc.stack.command(doc.stack.count() - 1)
            undo_bytes.append(command.nbytes)
            raw_bytes.append(command.edit.unpack().nbytes)
        steps = doc.stack.count()

        t0 = time.perf_counter()
        editor.undo()
        settle(app, counter)
        undo_ms = (time.perf_counter() - t0) * 1000

        editor.set_tool("brush")
        base_ms = stroke(app, editor, counter, path(600, 30, 0.5), full_refresh=True)

        canvas.zoom_100()
        app.processEvents()
        z100_ms = stroke(app, editor, counter, path(300, 100, 0.0))

        mask = np.zeros((H, W), np.uint8)
        t0 = time.perf_counter()
        for i in range(SEGMENTS):
            masks.paint_segment(mask, (100 + 8 * i, 500.0), (108 + 8 * i, 505.0), BRUSH / 2, 1)
        core_ms = (time.perf_counter() - t0) * 1000 / SEGMENTS
        editor.close()

    def q(values: list[float], pct: float) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * pct))]

    rows = [
        ("segment, fit zoom (ours: bbox repaint)", statistics.median(seg_ms), q(seg_ms, 0.95), max(seg_ms)),
        ("segment, 100% zoom", statistics.median(z100_ms), q(z100_ms, 0.95), max(z100_ms)),
        ("segment, baseline: whole overlay", statistics.median(base_ms), q(base_ms, 0.95), max(base_ms)),
        ("core paint_segment only", core_ms, core_ms, core_ms),
        ("undo of a 200-segment stroke", undo_ms, undo_ms, undo_ms),
    ]
    print(f"{'ms (1918x1280, brush 50)':42s} {'median':>8s} {'p95':>8s} {'max':>8s}")
    for name, med, p95, top in rows:
        print(f"{name:42s} {med:8.2f} {p95:8.2f} {top:8.2f}")
    print(f"undo step bytes per stroke (packed): {undo_bytes}; unpacked bbox diff: {raw_bytes}; full mask: {H * W}")
    result = {
        "stroke_ms_median": round(statistics.median(seg_ms), 3),
        "stroke_ms_p95": round(q(seg_ms, 0.95), 3),
        "stroke_ms_median_100pct_zoom": round(statistics.median(z100_ms), 3),
        "baseline_full_overlay_ms_median": round(statistics.median(base_ms), 3),
        "core_paint_segment_ms": round(core_ms, 4),
        "undo_ms": round(undo_ms, 3),
        "undo_step_bytes_median": int(statistics.median(undo_bytes)),
        "undo_step_raw_bytes_median": int(statistics.median(raw_bytes)),
        "undo_steps": steps,
        "segments_per_stroke": SEGMENTS,
        "brush_size": BRUSH,
        "image": f"{W}x{H}",
    }
    if not args.no_gaps:
        from editor_gaps import measure

        with tempfile.TemporaryDirectory() as tmp:
            gaps = measure(app, Path(tmp), args.photos)
        head = ("worst", "median", "p95", "base worst", "base med", "base p95")
        print(f"\n{'GUI-thread gap, ms (5 ms heartbeat)':38s} " + " ".join(f"{h:>10s}" for h in head))
        for name in ("strokes", "switch", "threshold"):
            values = [
                gaps[f"{base}gui_gap_{k}_ms_{name}"] for base in ("", "baseline_") for k in ("worst", "median", "p95")
            ]
            print(f"{name:38s} " + " ".join(f"{v:10.1f}" for v in values))
        for name in ("strokes", "switch", "threshold"):
            print(
                f"{name}: {gaps[f'gui_gaps_over_50ms_{name}']} of {gaps[f'gui_gaps_{name}']} gaps over 50 ms; "
                f"largest {gaps[f'gui_gaps_top5_ms_{name}']} (baseline {gaps[f'baseline_gui_gaps_top5_ms_{name}']})"
            )
        print(f"switches shown at once (prefetched): {gaps['switches_shown_at_once']} / {gaps['switches']}")
        print(
            f"GUI thread waiting for the saver at a press (ms): median {gaps['saver_wait_ms_median_strokes']}, "
            f"max {gaps['saver_wait_ms_max_strokes']}"
        )
        result.update(gaps, photos=str(args.photos) if args.photos else "synthetic 1918x1280 JPEG")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
