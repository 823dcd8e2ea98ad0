"""The editor's keyboard and remembered preferences: Esc and Ctrl+W close it, the brush size stays."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from carseg_gui.qt.editor import MaskEditor
from tests.qt.test_editor import click, write_items
from tests.qt.test_editor import open_editor as _open


def open_editor(qtbot, project: Path, items: list) -> MaskEditor:  # type: ignore[no-untyped-def]
    """An editor that is the active window: window shortcuts (Ctrl+W) only reach the active window,
    and offscreen a second window opened in one test is not activated by the first request."""
    project.mkdir(exist_ok=True)
    editor = _open(qtbot, project, items)
    qtbot.waitUntil(lambda: (editor.activateWindow(), QApplication.activeWindow() is editor)[1])
    editor.canvas.setFocus()
    return editor


def test_escape_and_ctrl_w_close_the_editor(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = write_items(tmp_path / "data", n=1)
    ctrl, plain = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.NoModifier
    for keys in ((Qt.Key.Key_Escape, plain), (Qt.Key.Key_W, ctrl)):
        editor = open_editor(qtbot, tmp_path / "project", items)
        with qtbot.waitSignal(editor.closed, timeout=2000):
            qtbot.keyClick(editor.canvas, *keys)
        assert not editor.isVisible()


def test_escape_in_an_open_polygon_cancels_it_and_keeps_the_editor(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    editor = open_editor(qtbot, tmp_path / "project", write_items(tmp_path / "data", n=1))
    editor.set_tool("polyfill")
    for p in [(10, 10), (80, 10), (80, 60)]:
        click(editor, p)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Escape)
    assert editor.isVisible() and editor.tools["polyfill"].points == []
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Escape)  # nothing open now: Esc closes
    assert not editor.isVisible()


def test_brush_size_is_remembered_between_openings(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = write_items(tmp_path / "data", n=1)
    editor = open_editor(qtbot, tmp_path / "project", items)
    assert editor.canvas.brush_size == 30  # the first time: the default
    for _ in range(5):
        qtbot.keyClick(editor.canvas, Qt.Key.Key_BracketRight)
    size = editor.canvas.brush_size
    assert size > 30
    editor.close()
    again = open_editor(qtbot, tmp_path / "project", items)
    assert again.canvas.brush_size == size
    assert again.panel.brush_size.value() == size and again.panel.brush_label.text() == f"{size} px"
    again.close()


def test_key_1_zooms_to_100_percent_about_the_mouse(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEvent

    from tests.qt.test_editor import NONE, mouse, view_pos

    editor = open_editor(qtbot, tmp_path / "project", write_items(tmp_path / "data", n=1, h=1200, w=1800))
    canvas = editor.canvas
    assert canvas.zoom() < 0.7  # fitted: the whole photo in the view
    target = (1400.0, 900.0)  # lower right of the car photo, far from the top-left corner
    at = view_pos(editor, target)
    mouse(editor, QEvent.Type.MouseMove, at, NONE, NONE)
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    assert canvas.zoom() == 1.0
    x, y = canvas.scene_pos(at)
    assert abs(x - target[0]) <= 2 and abs(y - target[1]) <= 2  # the same image point under the mouse
    # Mouse gone from the view: zooming keeps the middle of the view in place.
    QApplication.sendEvent(canvas.viewport(), QEvent(QEvent.Type.Leave))
    middle = canvas.viewport().rect().center()
    before = canvas.scene_pos(middle)
    canvas.set_zoom(2.0)
    after = canvas.scene_pos(middle)
    assert abs(after[0] - before[0]) <= 1 and abs(after[1] - before[1]) <= 1
