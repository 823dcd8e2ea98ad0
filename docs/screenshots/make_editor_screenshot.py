"""Render docs/screenshots/editor.png: the mask editor at 1280x800 on a synthetic 1918x1280 car.

    xvfb-run -a .venv/bin/python docs/screenshots/make_editor_screenshot.py   # or QT_QPA_PLATFORM=offscreen

The scene: a mask with a stray blob and a missing chunk, a prediction that misses part of the roof,
shown as disagreement; the blob was just erased (one undo step, saved) and a "take the prediction"
polygon is being drawn around the missing chunk.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from shot_wait import wait  # beside this script

from carseg_gui.qt.editor import EditorItem, MaskEditor

H, W = 1280, 1918


def car(folder: Path) -> EditorItem:
    shade = (235 - 40 * np.arange(H) / H).astype(np.uint8)[:, None]
    img = np.dstack([np.repeat(shade, W, axis=1)] * 3)
    mask = np.zeros((H, W), np.uint8)
    body = np.array(
        [[300, 820], [420, 560], [760, 420], [1180, 410], [1480, 560], [1650, 640], [1660, 840], [300, 860]]
    )
    cv2.fillPoly(img, [body], (40, 60, 150))
    cv2.fillPoly(mask, [body], 1)
    cv2.fillPoly(img, [np.array([[560, 570], [800, 460], [1150, 455], [1360, 570]])], (60, 70, 80))
    for cx in (520, 1400):
        cv2.circle(img, (cx, 850), 120, (25, 25, 25), -1)
        cv2.circle(img, (cx, 850), 60, (170, 170, 175), -1)
        cv2.circle(mask, (cx, 850), 120, 1, -1)
    prob = cv2.GaussianBlur(mask.astype(np.float32), (31, 31), 0)
    prob[380:440, 820:1120] = 0.2  # the model misses part of the roof
    bad = mask.copy()
    cv2.rectangle(bad, (1500, 600), (1700, 700), 0, -1)  # the mask misses the car's nose
    cv2.circle(bad, (200, 300), 60, 1, -1)  # and has a stray blob in the background
    cv2.imwrite(str(folder / "car_01.jpg"), cv2.GaussianBlur(img, (5, 5), 0)[..., ::-1])
    cv2.imwrite(str(folder / "car_01_mask.png"), bad * 255)
    return EditorItem("train/car_01.jpg", folder / "car_01.jpg", folder / "car_01_mask.png", lambda: prob)


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        item = car(Path(tmp))
        others = [EditorItem(f"train/car_0{i}.jpg", item.image_path, item.mask_path) for i in range(2, 5)]
        editor = MaskEditor(Path(tmp), [item, *others], 0)
        editor.resize(1280, 800)
        editor.show()
        wait(app, lambda: editor.document is not None and not editor.loading, "the image", 60.0)  # a thread loads it
        canvas, vp = editor.canvas, editor.canvas.viewport()
        editor.set_mode("disagreement")

        def send(kind: QEvent.Type, x: float, y: float, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
            pos = QPointF(canvas.mapFromScene(QPointF(x, y)))
            event = QMouseEvent(kind, pos, QPointF(vp.mapToGlobal(pos.toPoint())), button, buttons, Qt.NoModifier)
            QApplication.sendEvent(vp, event)

        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        editor.set_tool("eraser")
        canvas.set_brush_size(90)
        send(QEvent.Type.MouseButtonPress, 160, 260, left, left)
        for x, y in [(240, 260), (240, 300), (160, 310), (160, 350), (240, 350)]:
            send(QEvent.Type.MouseMove, x, y, none, left)
        # Wait for the debounced save (then the status turns "corrected") in an event loop, not a
        # busy processEvents() loop.
        loop = QEventLoop()
        editor.statusChanged.connect(loop.quit)
        QTimer.singleShot(5000, loop.quit)
        send(QEvent.Type.MouseButtonRelease, 240, 350, left, none)
        loop.exec()
        editor.set_tool("take")
        for x, y in [(1480, 585), (1730, 600), (1735, 715)]:
            send(QEvent.Type.MouseButtonPress, x, y, left, left)
            send(QEvent.Type.MouseButtonRelease, x, y, left, none)
        send(QEvent.Type.MouseMove, 1490, 720, none, none)
        app.processEvents()
        editor.grab().save(str(out))
        editor.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("editor.png"))
