"""Render the README's "annotate new photos" screenshots from the built-in sample, through the real window:

- ``viewer-unlabelled.png``: the viewer on the images without a mask, least confident first, each row with
  its expected Dice and where its mask would come from;
- ``editor-draft.png``: the least confident one opened in the mask editor: the active run's prediction is
  the draft, to correct or approve;
- ``editor-smart-click.png``: a labelled photo whose mask lost its front (erased with the brush), fixed
  with one smart click in the gap (the project's click refiner when one is trained, else GrabCut: the
  line over the photo says which). The edits are undone afterwards, so the sample is left as it was.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_annotate_screenshots.py SAMPLE [OUT]

SAMPLE needs a trained run (make_screenshots.sh trains one, and a click refiner, the first time).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel
from shot_wait import wait  # beside this script

from carseg_gui.qt.app import APPLICATION, ORGANIZATION
from carseg_gui.qt.controller import Controller
from carseg_gui.qt.main_window import MainWindow


def click(editor, x: float, y: float, button: Qt.MouseButton) -> None:  # type: ignore[no-untyped-def]
    canvas, vp = editor.canvas, editor.canvas.viewport()
    pos = QPointF(canvas.mapFromScene(QPointF(x, y)))
    for kind, buttons in ((QEvent.Type.MouseButtonPress, button), (QEvent.Type.MouseButtonRelease, Qt.NoButton)):
        event = QMouseEvent(kind, pos, QPointF(vp.mapToGlobal(pos.toPoint())), button, buttons, Qt.NoModifier)
        QApplication.sendEvent(vp, event)


def main(sample: Path, out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow(Controller())
    window.resize(1280, 800)
    window.show()
    ended: list[str] = []
    window.controller.jobEnded.connect(lambda name, _outcome: ended.append(name))
    window.controller.open_dataset(sample)
    wait(app, lambda: "open" in ended, "the dataset to open")
    if window.state.active() is None:
        raise SystemExit(f"no screenshot: {sample} has no trained run (run `carseg train {sample}` first)")
    viewer = window.viewer_panel
    window.tabs.setCurrentWidget(viewer)
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("test"))
    viewer.order_box.setCurrentIndex(viewer.order_box.findData("confidence"))
    wait(app, lambda: "confidence" in ended, "the confidence scores")
    wait(app, lambda: bool(viewer.model.rows) and not viewer.model.missing_predictions(), "the page")
    app.processEvents()
    window.grab().save(str(out / "viewer-unlabelled.png"))

    editor = window.open_image(viewer.model.rows[0].row)
    wait(app, lambda: editor.document is not None and not editor.loading, "the editor's draft")
    editor.resize(1280, 800)
    app.processEvents()
    editor.grab().save(str(out / "editor-draft.png"))

    # The smart click on a labelled photo whose mask lost its front: one positive click in the gap.
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("train"))
    wait(app, lambda: bool(viewer.model.rows), "the labelled rows")
    side = [r for r in viewer.model.rows if r.key.endswith("_05.jpg")] or viewer.model.rows  # a side view
    key = side[0].key
    editor = window.open_image(side[0].row)  # the same editor, now on the labelled rows
    wait(app, lambda: editor.current_key == key and editor.document is not None and not editor.loading, key)
    editor.resize(1280, 800)
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    width = int(xs.max() - xs.min())
    front_x, front_y = int(xs.max() - 0.12 * width), int(np.median(ys))
    gap = int(0.3 * width)
    editor.set_tool("eraser")
    editor.canvas.set_brush_size(gap)
    click(editor, front_x, front_y, Qt.MouseButton.LeftButton)
    wait(app, lambda: doc.stack.count() >= 1, "the erased front")
    editor.set_tool("smart")
    banners = editor.canvas.findChildren(QLabel)
    wait(app, lambda: not any("loading" in b.text() for b in banners if b.isVisible()), "the click refiner")
    steps = doc.stack.count()
    # The first click may have waited for the refiner to load (its time "from the click" says so): click,
    # undo, click again, so the line over the photo shows what a click costs once it is loaded.
    click(editor, front_x, front_y, Qt.MouseButton.LeftButton)
    wait(app, lambda: doc.stack.count() > steps, "the smart click", seconds=120)
    editor.undo()
    click(editor, front_x, front_y, Qt.MouseButton.LeftButton)
    wait(app, lambda: doc.stack.count() > steps and doc.stack.index() > steps, "the second click", seconds=120)
    app.processEvents()
    editor.grab().save(str(out / "editor-smart-click.png"))
    while doc.stack.canUndo():  # leave the sample as it was: undone to "Opened" is no correction
        editor.undo()
    editor.close()
    window.controller.shutdown()
    window.close()
    print(f"screenshots: viewer-unlabelled.png, editor-draft.png, editor-smart-click.png in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent)
