"""The editor's view controls: zoom by wheel and keys, brush size, overlay, panning without painting."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from carseg_gui.qt.editor import MaskEditor
from tests.qt.test_editor import LEFT, NONE, mouse, open_editor, write_items


@pytest.fixture
def editor(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "project").mkdir()
    ed = open_editor(qtbot, tmp_path / "project", write_items(tmp_path / "data"))
    yield ed
    ed.close()


def wheel(editor: MaskEditor, notches: float, modifiers=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QWheelEvent

    vp = editor.canvas.viewport()
    pos = QPointF(vp.width() / 2, vp.height() / 2)
    event = QWheelEvent(
        pos,
        QPointF(vp.mapToGlobal(pos.toPoint())),
        QPoint(),
        QPoint(0, round(120 * notches)),
        NONE,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp, event)


def test_view_controls(qtbot, editor: MaskEditor) -> None:  # type: ignore[no-untyped-def]
    canvas = editor.canvas
    fit = canvas.zoom()
    wheel(editor, 2)
    assert canvas.zoom() == pytest.approx(fit * 1.25**2)
    canvas.set_brush_size(30)
    wheel(editor, 1, Qt.KeyboardModifier.ControlModifier)
    assert canvas.brush_size == 33 and editor.panel.brush_size.value() == 33
    wheel(editor, 0.5, Qt.KeyboardModifier.ControlModifier)  # half a notch: not yet
    assert canvas.brush_size == 33
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size == 30
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size == 33
    qtbot.keyClick(canvas, Qt.Key.Key_V)
    assert not canvas.overlay.isVisible() and not editor.panel.overlay_on.isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_V)
    assert canvas.overlay.isVisible()
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    assert canvas.zoom() == 1.0
    # Middle-drag pans (zoomed in, so there is room to) and changes nothing in the mask.
    canvas.set_zoom(4.0)
    before, h = editor.document.mask.copy(), canvas.horizontalScrollBar().value()
    centre = QPoint(canvas.viewport().width() // 2, canvas.viewport().height() // 2)
    mid = Qt.MouseButton.MiddleButton
    mouse(editor, QEvent.Type.MouseButtonPress, centre, mid, mid)
    mouse(editor, QEvent.Type.MouseMove, centre + QPoint(-40, 0), NONE, mid)
    mouse(editor, QEvent.Type.MouseButtonRelease, centre + QPoint(-40, 0), mid, NONE)
    assert canvas.horizontalScrollBar().value() == h + 40
    v = canvas.verticalScrollBar().value()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)  # Space held: the left button pans instead of painting
    mouse(editor, QEvent.Type.MouseButtonPress, centre, LEFT, LEFT)
    mouse(editor, QEvent.Type.MouseMove, centre + QPoint(0, -30), NONE, LEFT)
    mouse(editor, QEvent.Type.MouseButtonRelease, centre + QPoint(0, -30), LEFT, NONE)
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.verticalScrollBar().value() == v + 30
    assert np.array_equal(editor.document.mask, before) and editor.document.stack.count() == 0
    qtbot.keyClick(canvas, Qt.Key.Key_0)
    assert canvas.zoom() == pytest.approx(fit)
    editor.panel.opacity.setValue(20)
    assert canvas.overlay.opacity() == pytest.approx(0.2)
