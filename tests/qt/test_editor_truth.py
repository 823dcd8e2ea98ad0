"""What the editor says and keeps matches what happened: undo to the start, the take-prediction tool."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from carseg_gui.core.corrections import corrected_masks, correction_path
from carseg_gui.session.store import StateStore
from tests.qt.test_editor import drag, write_items
from tests.qt.test_editor_keys import open_editor


def test_undo_back_to_opened_leaves_no_correction(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    editor = open_editor(qtbot, project, write_items(tmp_path / "data", n=1))
    key, store = editor.current_key, StateStore(project)
    drag(editor, [(30, 30), (120, 90)])
    qtbot.waitUntil(lambda: store.status(key) == "corrected")
    assert correction_path(project, key).exists()
    qtbot.waitUntil(lambda: editor.panel.status.text() == "Corrected")
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # back to "Opened"
    assert editor.document.stack.index() == 0
    qtbot.waitUntil(lambda: store.status(key) == "unreviewed")
    assert not correction_path(project, key).exists()
    assert corrected_masks(project, store.statuses()) == {}  # training uses the user's own mask
    qtbot.waitUntil(lambda: editor.panel.status.text() == "Unreviewed")  # on disk first, then shown
    assert [h["status"] for h in store.history(key)] == ["corrected", "unreviewed"]
    # Redo brings the correction back, and an approved image edited and reset is approved again.
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: store.status(key) == "corrected" and correction_path(project, key).exists())
    saved = correction_path(project, key).read_bytes()
    assert saved and not np.array_equal(editor.document.mask, editor.document.original)
    editor.reset_to_original()
    qtbot.waitUntil(lambda: store.status(key) == "unreviewed")
    editor.set_status("approved")
    drag(editor, [(200, 30), (300, 90)])
    qtbot.waitUntil(lambda: store.status(key) == "corrected")
    editor.reset_to_original()
    qtbot.waitUntil(lambda: store.status(key) == "approved")
    assert not correction_path(project, key).exists()
    editor.close()


def test_take_prediction_needs_a_region_and_shows_a_cross_hair(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from tests.qt.test_editor import at_100

    editor = open_editor(qtbot, tmp_path / "project", write_items(tmp_path / "data", n=1))
    doc, canvas = editor.document, editor.canvas
    before = doc.mask.copy()
    at_100(editor)
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    assert canvas.tool is editor.tools["take"]
    QApplication.sendEvent(canvas.viewport(), QEvent(QEvent.Type.Enter))
    assert canvas._cursor.isVisible() and canvas._cursor.shape_name == "cross"  # a mark where it acts
    # A straight drag across the disagreement strip: no region, so nothing changes and no step.
    drag(editor, [(20.0 + i * 10, 150.0) for i in range(37)])
    assert np.array_equal(doc.mask, before) and doc.stack.count() == 0
    # A real lasso takes the prediction inside it, as one step.
    drag(editor, [(0, 0), (100, 0), (200, 0), (200, 150), (200, 299), (100, 299), (0, 299), (0, 150)])
    assert doc.stack.count() == 1 and not np.array_equal(doc.mask, before)
    # The tool's tip says what the help says: a region, and Shift+P for everything.
    assert "region" in editor.act_tools["take"].toolTip() and "Shift+P" in editor.act_tools["take"].toolTip()
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    assert canvas._cursor.shape_name == "ring"
    editor.close()


def test_each_dice_names_the_size_it_was_measured_at(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.core.metrics import dice
    from carseg_gui.qt.viewer.loader import grey_image
    from carseg_gui.qt.viewer.page_model import FILE, PageModel, RowData

    editor = open_editor(qtbot, tmp_path / "project", write_items(tmp_path / "data", n=1, h=300, w=400))
    doc = editor.document
    assert editor.panel.dice.text() == f"{dice(doc.mask, doc.pred):.4f} at 400×300"
    editor.close()
    model = PageModel()
    model.size = 32
    model.set_rows([RowData(0, 1, "a.jpg", "train/a.jpg", (300, 400))])
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 1
    model.set_mask(0, grey_image(mask * 255), mask)
    model.set_prediction(0, mask * 255)
    text = model.data(model.index(0, FILE))
    assert "Dice 1.0000 at 32×32" in text


def test_status_after_save_is_the_rule_the_editor_follows() -> None:
    from carseg_gui.session.editor import status_after_save

    assert status_after_save("unreviewed", False, None) == "corrected"
    assert status_after_save("approved", False, None) == "corrected"
    assert status_after_save("excluded", False, None) is None  # editing does not bring it back
    assert status_after_save("corrected", True, None) == "unreviewed"  # back to the original
    assert status_after_save("corrected", True, "approved") == "approved"
    assert status_after_save("excluded", True, "unreviewed") is None
