"""Milliseconds from a click to the mask updated, in the editor, with the smart click (S) and GrabCut (G).

bench_clicks.py times the methods alone; this times what the user waits for: from the mouse press on the
canvas, through the click thread computing the crop and the result crossing back to the GUI thread, to
the crop written into the mask as one undo step and into the overlay's buffer (the paint on screen
follows in the same pass of the event loop, not timed). The photo is a real 1918x1280 Carvana one; its mask is the
truth eroded by 6 px (the thin slivers a segmentation model misses), and each click is the simulator's
(core.clicks.next_click). The refiner has the default architecture (RefinerConfig: 8 filters, 4 levels,
256 px input) with untrained weights whose output is pushed to "car" everywhere in the crop: the same
compute as a trained one, and the largest write-back a click can make. It measures time, not accuracy.

Run: nice -n 10 python benchmarks/bench_click_tool.py --image IMG.jpg --mask IMG_mask.gif [--clicks 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2
import numpy as np


def make_refiner(project: Path) -> Path:
    from carseg_gui.core.imageio import atomic_write_json
    from carseg_gui.core.refiner import FORMAT_VERSION, build_refiner
    from carseg_gui.core.refiner_training import RefinerConfig

    config = RefinerConfig()
    model = build_refiner(config.input_size, config.filters, config.levels)
    layer = model.get_layer("correction")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, np.full_like(bias, 6.0)])  # logit -5 + 6 > 0: "car" in the whole crop
    run = project / "refiner_runs" / "bench"
    run.mkdir(parents=True)
    model.save(run / "model.keras")
    from dataclasses import asdict

    atomic_write_json(run / "config.json", {**asdict(config), "format_version": FORMAT_VERSION})
    atomic_write_json(run / "status.json", {"status": "finished"})
    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", type=Path, required=True)
    ap.add_argument("--mask", type=Path, required=True)
    ap.add_argument("--clicks", type=int, default=20)
    args = ap.parse_args()

    from PySide6.QtCore import QEventLoop, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from carseg_gui.core.clicks import next_click
    from carseg_gui.core.imageio import read_mask
    from carseg_gui.core.otsu import otsu_mask
    from carseg_gui.qt.editor import EditorItem, MaskEditor

    app = QApplication(sys.argv[:1])
    project = Path(tempfile.mkdtemp(prefix="bench-click-tool-"))
    make_refiner(project)
    truth = otsu_mask(read_mask(args.mask))
    editor = MaskEditor(project, [EditorItem("bench.jpg", args.image, args.mask)], 0)
    editor.resize(1280, 860)
    editor.show()

    def wait(predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise SystemExit("timed out")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    wait(lambda: editor.document is not None)
    doc = editor.document
    eroded = cv2.erode(truth, np.ones((13, 13), np.uint8))
    doc.mask[:] = eroded
    editor.canvas.zoom_100()
    vp = editor.canvas.viewport()
    out: dict[str, object] = {"image": f"{doc.shape[1]}x{doc.shape[0]}"}
    for tool in ("smart", "grabcut"):
        doc.mask[:] = eroded
        editor.set_tool(tool)
        session = editor.tools[tool].session  # type: ignore[attr-defined]
        session.clear()
        wait(lambda s=session: s.refiner_state in ("ready", "missing"))
        totals, computes = [], []
        for _ in range(args.clicks):
            click = next_click(truth, doc.mask)
            if click is None:
                break
            editor.canvas.centerOn(QPointF(click.x + 0.5, click.y + 0.5))
            pos = editor.canvas.mapFromScene(QPointF(click.x + 0.5, click.y + 0.5))
            button = Qt.MouseButton.LeftButton if click.positive else Qt.MouseButton.RightButton
            done: list[object] = []
            session.applied.connect(done.append)
            for kind, buttons in (
                (QMouseEvent.Type.MouseButtonPress, button),
                (QMouseEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
            ):
                ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons,
                                 Qt.KeyboardModifier.NoModifier)  # fmt: skip
                QApplication.sendEvent(vp, ev)
            wait(lambda d=done: bool(d))
            session.applied.disconnect(done.append)
            QTimer.singleShot(0, lambda: None)
            app.processEvents()  # the repaint the write-back asked for
            totals.append(session.last_ms)
            computes.append(done[0].compute_ms)  # type: ignore[attr-defined]
            assert done[0].method == ("refiner" if tool == "smart" else "grabcut")  # type: ignore[attr-defined]
        method = "refiner" if tool == "smart" else "grabcut"
        out[f"{method}_ms_median"] = round(float(np.median(totals)), 1)
        out[f"{method}_ms_p90"] = round(float(np.percentile(totals, 90)), 1)
        out[f"{method}_compute_ms_median"] = round(float(np.median(computes)), 1)
        out[f"{method}_clicks"] = len(totals)
        median, p90, alone = (out[f"{method}_{k}"] for k in ("ms_median", "ms_p90", "compute_ms_median"))
        print(f"{tool}: {len(totals)} clicks, click to mask updated median {median} ms, p90 {p90} ms "
              f"(computing alone median {alone} ms)")  # fmt: skip
    editor.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
