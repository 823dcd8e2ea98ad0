"""The mask editor driven as a user would: mouse events on the canvas viewport, keys, buttons."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from carseg_gui.core import masks
from carseg_gui.core.corrections import correction_path
from carseg_gui.core.imageio import read_mask
from carseg_gui.qt.editor import EditorItem, MaskEditor
from carseg_gui.session.store import StateStore
from tests.datasets import car_pair


def get_status(project: Path, key: str) -> str:
    return StateStore(project).status(key)


LEFT, RIGHT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.NoButton


def write_items(folder: Path, n: int = 3, h: int = 300, w: int = 400) -> list[EditorItem]:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        img, mask = car_pair(h, w, seed=i)
        cv2.imwrite(str(folder / f"img{i}.png"), img)
        cv2.imwrite(str(folder / f"img{i}_mask.png"), mask * 255)
        # The "model" sees the car shifted 6 px right: a strip of disagreement on each side.
        prob = np.roll(mask.astype(np.float32) * 0.9, 6, axis=1)
        items.append(
            EditorItem(f"train/img{i}.png", folder / f"img{i}.png", folder / f"img{i}_mask.png", lambda p=prob: p)
        )
    return items


@pytest.fixture
def items(tmp_path: Path) -> list[EditorItem]:
    return write_items(tmp_path / "data")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def open_editor(qtbot, project: Path, items: Sequence[EditorItem], index: int = 0) -> MaskEditor:  # type: ignore[no-untyped-def]
    editor = MaskEditor(project, items, index)
    qtbot.addWidget(editor)
    editor.resize(1000, 700)
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    editor.canvas.setFocus()
    qtbot.waitUntil(lambda: editor.document is not None)  # loaded in the background
    return editor


@pytest.fixture
def editor(qtbot, project: Path, items: list[EditorItem]) -> MaskEditor:  # type: ignore[no-untyped-def]
    ed = open_editor(qtbot, project, items)
    yield ed
    ed.close()


def mouse(editor: MaskEditor, kind: QEvent.Type, pos: QPoint, button=LEFT, buttons=LEFT) -> None:  # type: ignore[no-untyped-def]
    vp = editor.canvas.viewport()
    event = QMouseEvent(
        kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(vp, event)


def view_pos(editor: MaskEditor, p: tuple[float, float]) -> QPoint:
    """Where image point p is in the viewport: tests name image positions, events need the view's."""
    return editor.canvas.mapFromScene(QPointF(*p))


def drag(editor: MaskEditor, points: Sequence[tuple[float, float]], button=LEFT) -> None:  # type: ignore[no-untyped-def]
    """Press, move through and release at image points (mapped to the viewport like a user's hand)."""
    pts = [view_pos(editor, p) for p in points]
    mouse(editor, QEvent.Type.MouseButtonPress, pts[0], button, button)
    for p in pts[1:]:
        mouse(editor, QEvent.Type.MouseMove, p, NONE, button)
    mouse(editor, QEvent.Type.MouseButtonRelease, pts[-1], button, NONE)


def click(editor: MaskEditor, p: tuple[float, float], button=LEFT) -> None:  # type: ignore[no-untyped-def]
    drag(editor, [p], button)


def at_100(editor: MaskEditor) -> None:
    editor.canvas.zoom_100()


def scene(editor: MaskEditor, p: tuple[float, float]) -> tuple[float, float]:
    """The scene point the canvas gets for a click aimed at image point p (view pixels are whole)."""
    return editor.canvas.scene_pos(view_pos(editor, p))


def test_stroke_changes_exactly_the_brushed_pixels(editor: MaskEditor) -> None:
    at_100(editor)
    editor.set_tool("brush")
    editor.canvas.set_brush_size(12)
    doc = editor.document
    before = doc.mask.copy()
    points = [(20, 20), (60, 35), (120, 40), (160, 120)]
    drag(editor, points)
    # Independent of the brush code: pixel centres within r of the stroke's polyline in the scene.
    ys, xs = np.mgrid[0 : before.shape[0], 0 : before.shape[1]] + 0.5
    dist = np.full(before.shape, np.inf)
    for a, b in itertools.pairwise([scene(editor, p) for p in points]):
        d = np.subtract(b, a)
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / (d @ d), 0, 1)
        dist = np.minimum(dist, np.hypot(xs - a[0] - t * d[0], ys - a[1] - t * d[1]))
    assert (doc.mask[dist <= 5.99] == 1).all()
    assert np.array_equal(doc.mask[dist > 6.01], before[dist > 6.01])
    # And exactly what the core operation gives for the same mapped points.
    expected = before.copy()
    for a, b in itertools.pairwise([points[0], *points]):
        masks.paint_segment(expected, scene(editor, a), scene(editor, b), 6.0, 1)
    assert np.array_equal(doc.mask, expected)
    assert doc.stack.count() == 1  # one stroke, one undo step
    # The overlay was repainted where the stroke went (mask colour, opaque in the buffer).
    x, y = (int(v) for v in scene(editor, (60, 35)))
    assert editor.canvas.overlay.pixel(x, y) >> 24 == 255


def test_undo_redo_restore_bit_exactly_by_keys(qtbot, editor: MaskEditor) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    states = [doc.mask.copy()]
    editor.canvas.set_brush_size(25)
    for tool, pts in [
        ("brush", [(50, 50), (300, 80)]),
        ("eraser", [(200, 200), (250, 120)]),
        ("brush", [(10, 300), (400, 310)]),
    ]:
        editor.set_tool(tool)
        drag(editor, pts)
        states.append(doc.mask.copy())
    assert doc.stack.count() == 3
    for expected in reversed(states[:-1]):
        qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert np.array_equal(doc.mask, expected)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(doc.mask, states[1])
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.mask, states[3])


def test_right_button_erases_with_the_brush(editor: MaskEditor) -> None:
    at_100(editor)
    doc = editor.document
    inside = (int(doc.mask.shape[1] / 2), int(doc.mask.shape[0] / 2))
    assert doc.mask[inside[1], inside[0]] == 1
    editor.set_tool("brush")
    drag(editor, [inside, (inside[0] + 10, inside[1])], RIGHT)
    assert doc.mask[inside[1], inside[0]] == 0


def test_flood_fill_fills_a_hole(qtbot, tmp_path: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    img = np.full((200, 300, 3), 200, np.uint8)
    ring = np.zeros((200, 300), np.uint8)
    cv2.circle(ring, (150, 100), 60, 1, 8)
    cv2.imwrite(str(tmp_path / "r.png"), img)
    cv2.imwrite(str(tmp_path / "r_mask.png"), ring * 255)
    ed = open_editor(qtbot, project, [EditorItem("r.png", tmp_path / "r.png", tmp_path / "r_mask.png")])
    at_100(ed)
    ed.set_tool("fill")
    click(ed, (150.5, 100.5))
    expected = ring.copy()
    cv2.floodFill(expected, None, (150, 100), 1)
    assert np.array_equal(ed.document.mask, expected)
    assert ed.document.stack.count() == 1
    ed.close()


def test_polygon_fill_cut_and_lasso(editor: MaskEditor) -> None:
    at_100(editor)
    doc = editor.document
    editor.set_tool("polyfill")
    corners = [(10, 10), (80, 10), (80, 60), (10, 60)]
    expected = doc.mask.copy()
    masks.polygon_fill(expected, [scene(editor, p) for p in corners], 1)
    for p in corners:
        click(editor, p)
    click(editor, corners[0])  # a click on the first corner closes the polygon
    assert np.array_equal(doc.mask, expected)

    editor.set_tool("polycut")
    square = [(20, 20), (50, 20), (50, 40), (20, 40)]
    masks.polygon_fill(expected, [scene(editor, p) for p in square], 0)
    for p in square:
        click(editor, p)
    mouse(editor, QEvent.Type.MouseButtonDblClick, view_pos(editor, square[-1]))
    assert np.array_equal(doc.mask, expected)

    # A lasso: press, drag around, release closes it.
    editor.set_tool("polyfill")
    lasso = [(300, 10), (340, 12), (350, 50), (310, 60), (295, 30)]
    drag(editor, lasso)
    assert doc.mask[int(scene(editor, (325, 35))[1]), int(scene(editor, (325, 35))[0])] == 1
    assert doc.stack.count() == 3


def test_escape_cancels_a_polygon(qtbot, editor: MaskEditor) -> None:  # type: ignore[no-untyped-def]
    before = editor.document.mask.copy()
    editor.set_tool("polyfill")
    for p in [(10, 10), (80, 10), (80, 60)]:
        click(editor, p)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Escape)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)
    assert np.array_equal(editor.document.mask, before) and editor.document.stack.count() == 0


def test_take_prediction_reset_and_disagreement(qtbot, editor: MaskEditor) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    original = doc.mask.copy()
    editor.take_whole_prediction()
    assert np.array_equal(doc.mask, doc.pred)
    editor.reset_to_original()
    assert np.array_equal(doc.mask, original)
    at_100(editor)
    editor.set_tool("take")
    region = [(0, 0), (200, 0), (200, 300), (0, 300)]
    for p in region:
        click(editor, p)
    click(editor, region[0])
    bbox, inside = masks.polygon_region(doc.shape, [scene(editor, p) for p in region])
    y0, y1, x0, x1 = bbox
    assert np.array_equal(doc.mask[y0:y1, x0:x1][inside], doc.pred[y0:y1, x0:x1][inside])
    assert np.array_equal(doc.mask[:, x1:], original[:, x1:])
    # Disagreement colouring: mask-only and prediction-only pixels get their own colours.
    editor.reset_to_original()
    editor.set_mode("disagreement")
    missed, extra = masks.disagreement(doc.mask, doc.pred)
    overlay = editor.canvas.overlay
    my, mx = np.argwhere(missed)[0]
    ey, ex = np.argwhere(extra)[0]
    assert overlay.pixel(mx, my) != overlay.pixel(ex, ey) and overlay.pixel(ex, ey) >> 24 == 255
    # The threshold slider re-binarises the prediction, in the background (0.9 * car: nothing above 0.95).
    editor.panel.threshold.setValue(95)
    qtbot.waitUntil(lambda: doc.threshold == 0.95)
    assert doc.pred is not None and not doc.pred.any()


def test_status_buttons_and_corrected_on_first_edit(qtbot, editor: MaskEditor, project: Path) -> None:  # type: ignore[no-untyped-def]
    key = editor.current_key
    with qtbot.waitSignal(editor.statusChanged) as signal:
        qtbot.keyClick(editor.canvas, Qt.Key.Key_A)
    assert signal.args == [key, "approved"] and get_status(project, key) == "approved"
    drag(editor, [(30, 30), (90, 90)])
    qtbot.waitUntil(lambda: get_status(project, key) == "corrected")
    qtbot.waitUntil(lambda: editor.panel.status.text() == "Corrected")
    editor.panel.exclude.click()
    assert get_status(project, key) == "excluded"
    drag(editor, [(100, 30), (150, 90)])
    editor.flush()
    assert get_status(project, key) == "excluded"  # editing does not bring an excluded image back
    editor.panel.unreviewed.click()
    history = json.loads((project / "state.json").read_text())["images"][key]["history"]
    assert [h["status"] for h in history] == ["approved", "corrected", "excluded", "unreviewed"]


def test_saved_indicator_is_honest_and_work_persists(qtbot, editor: MaskEditor, project, items) -> None:  # type: ignore[no-untyped-def]
    key = editor.current_key
    path = correction_path(project, key)
    drag(editor, [(30, 30), (200, 60)])
    assert "Unsaved" in editor.status_row.saved.text() and not path.exists()
    qtbot.waitUntil(lambda: editor.status_row.saved.text() == "✓ Saved")
    saved = (read_mask(path) > 0).astype(np.uint8)  # "Saved" is only shown once the bytes are there
    assert np.array_equal(saved, editor.document.mask)
    drag(editor, [(30, 200), (200, 260)])
    edited = editor.document.mask.copy()
    editor.close()  # closing writes what the timer had not written yet
    again = open_editor(qtbot, project, items)
    assert np.array_equal(again.document.mask, edited)
    assert get_status(project, key) == "corrected"
    again.close()


def test_next_previous_follow_and_keep_undo_per_image(qtbot, editor: MaskEditor, project: Path) -> None:  # type: ignore[no-untyped-def]
    drag(editor, [(30, 30), (200, 60)])
    first = editor.document
    with qtbot.waitSignal(editor.currentChanged) as signal:
        qtbot.keyClick(editor.canvas, Qt.Key.Key_Right)
    assert signal.args == [1, "train/img1.png"]
    assert correction_path(project, "train/img0.png").exists()  # switching image saved it
    qtbot.waitUntil(lambda: editor.document is not None)  # prefetched by now, or soon
    assert editor.document is not first and editor.document.stack.count() == 0
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Left)
    assert editor.document is first and first.stack.count() == 1
    editor.undo()
    assert not first.stack.canUndo()


def test_corrupt_correction_is_reported_and_set_aside(qtbot, project: Path, items: list[EditorItem]) -> None:  # type: ignore[no-untyped-def]
    bad = correction_path(project, items[0].key)
    bad.parent.mkdir(parents=True)
    cv2.imwrite(str(bad), np.zeros((10, 10), np.uint8))
    editor = MaskEditor(project, [])
    qtbot.addWidget(editor)
    with qtbot.waitSignal(editor.problemFound) as signal:
        editor.set_items(items, 0)
    assert "rejected" in signal.args[1] and not bad.exists()
    qtbot.waitUntil(lambda: editor.document is not None)
    assert np.array_equal(editor.document.mask, editor.document.original)
    editor.close()


def test_full_size_image_stroke_and_undo(qtbot, tmp_path: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    [item] = write_items(tmp_path / "big", n=1, h=1280, w=1918)
    ed = open_editor(qtbot, project, [item])
    doc = ed.document
    assert doc.shape == (1280, 1918) and ed.canvas.zoom() < 1  # opened fitted
    start = doc.mask.copy()
    ed.canvas.set_brush_size(50)
    drag(ed, [(100 + 5 * i, 100 + 2 * i) for i in range(100)])
    changed = np.argwhere(doc.mask != start)
    y0, x0 = changed.min(axis=0)
    y1, x1 = changed.max(axis=0) + 1
    step = doc.stack.command(0)
    sy0, sy1, sx0, sx1 = step.edit.bbox
    assert sy0 <= y0 and y1 <= sy1 and sx0 <= x0 and x1 <= sx1
    assert step.nbytes < 20_000  # packed bbox diff, not a 2.4 MB copy
    ed.undo()
    assert np.array_equal(doc.mask, start)
    ed.close()


def test_unreadable_image_is_reported_and_the_next_one_opens(qtbot, tmp_path: Path, project, items) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    editor = MaskEditor(project, [])
    qtbot.addWidget(editor)
    with qtbot.waitSignal(editor.problemFound) as signal:
        editor.set_items([EditorItem("broken.jpg", broken), *items], 0)
    assert signal.args[0] == "broken.jpg" and "cannot open" in signal.args[1]
    qtbot.waitUntil(lambda: "cannot open broken.jpg" in editor.canvas.message.text())
    assert editor.document is None and not editor.act_tools["brush"].isEnabled()
    assert not editor.loading and editor.act_next.isEnabled()  # said, not stuck "Loading"
    drag(editor, [(10, 10), (50, 50)])  # nothing to paint on, and nothing breaks
    editor.set_index(1)
    qtbot.waitUntil(lambda: editor.document is not None)
    assert editor.act_tools["brush"].isEnabled() and not editor.canvas.message.isVisible()
    editor.close()


def test_prediction_follows_the_threshold_and_the_runs_post_processing(qapp) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.core.postprocess import PostProcess
    from carseg_gui.qt.editor.document import MaskDocument

    prob = np.zeros((60, 80), np.float32)
    prob[10:50, 10:70] = 0.9  # the car
    prob[25:30, 30:40] = 0.2  # a window the model left open
    prob[52:58, 72:78] = 0.7  # a shadow blob ...
    prob[51:59, 71:79] = np.maximum(prob[51:59, 71:79], 0.35)  # ... with a soft rim
    empty = np.zeros(prob.shape, np.uint8)
    raw = MaskDocument("k", empty.copy(), empty, prob)
    clean = MaskDocument("k", empty.copy(), empty, prob, post=PostProcess(keep_largest=True, fill_holes=True))
    assert raw.pred is not None and clean.pred is not None
    assert raw.pred[55, 75] == 1 and raw.pred[27, 35] == 0
    assert clean.pred[55, 75] == 0 and clean.pred[27, 35] == 1
    for threshold in (0.3, 0.5, 0.8):
        clean.set_threshold(threshold)
        assert clean.pred[51:59, 71:79].sum() == 0, f"a piece of the blob shows at threshold {threshold}"
        assert clean.pred[10:50, 10:70].all()
