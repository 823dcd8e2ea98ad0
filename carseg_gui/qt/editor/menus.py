"""The editor's menu bar and tool bar, made from its actions (the editor owns the actions and their keys)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenuBar, QToolBar

from .overlay import MODE_LABELS, MODES

if TYPE_CHECKING:
    from .editor_window import MaskEditor


def make_actions(editor: MaskEditor) -> None:
    """The editor's actions (``editor.act_*``), each with its keys, active while the editor has the focus."""

    def a(text: str, slot: Callable[..., object], keys: Sequence[str | QKeySequence.StandardKey] = ()) -> QAction:
        action = QAction(text, editor)
        action.setShortcuts([QKeySequence(k) for k in keys])
        # Only while the editor has focus: embedded in the main window, its keys must not leak out.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        editor.addAction(action)
        return action

    editor.act_prev = a("◀ Previous", lambda: editor.set_index(editor.index - 1), ["Left", "PgUp"])
    editor.act_next = a("Next ▶", lambda: editor.set_index(editor.index + 1), ["Right", "PgDown"])
    editor.act_undo = a("Undo", editor.undo, [QKeySequence.StandardKey.Undo])
    editor.act_redo = a("Redo", editor.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
    editor.act_undo.setEnabled(False)  # until a document with something to undo is shown
    editor.act_redo.setEnabled(False)
    editor.group.canUndoChanged.connect(editor.act_undo.setEnabled)
    editor.group.canRedoChanged.connect(editor.act_redo.setEnabled)
    # What would be undone goes in the tooltip: a changing button text would shift the toolbar.
    editor.group.undoTextChanged.connect(lambda t: editor.act_undo.setToolTip(f"Undo {t}  (Ctrl+Z)"))
    editor.group.redoTextChanged.connect(lambda t: editor.act_redo.setToolTip(f"Redo {t}  (Ctrl+Shift+Z, Ctrl+Y)"))
    editor.act_take_all = a("Take whole prediction", editor.take_whole_prediction, ["Shift+P"])
    editor.act_reset = a("Reset to original mask", editor.reset_to_original)
    editor.act_fit = a("Fit", editor.canvas.fit, ["Ctrl+0", "0"])
    editor.act_100 = a("100%", editor.canvas.zoom_100, ["Ctrl+1", "1"])
    # Esc closes too, but not as a shortcut: a shortcut would take Esc from an open polygon
    # (keyPressEvent below gets it only when the canvas's tool did not want it).
    editor.act_close = a("Close editor", lambda: editor.close(), ["Ctrl+W"])
    editor.act_close.setToolTip("Close the editor (Esc, Ctrl+W); every change is already saved")
    editor.act_overlay = a("Show overlay", lambda on: editor.panel.overlay_on.setChecked(on), ["V"])
    editor.act_outline = a("Outline only", lambda on: editor.panel.outline.setChecked(on), ["O"])
    for act, box in ((editor.act_overlay, editor.panel.overlay_on), (editor.act_outline, editor.panel.outline)):
        act.setCheckable(True)
        act.setChecked(box.isChecked())
        box.toggled.connect(act.setChecked)
    a("Smaller brush", lambda: editor._step_brush(-1), ["["])
    a("Larger brush", lambda: editor._step_brush(+1), ["]"])
    editor.act_status = {
        "approved": a("Approve", lambda: editor.set_status("approved"), ["A"]),
        "excluded": a("Exclude from training", lambda: editor.set_status("excluded"), ["X"]),
        "unreviewed": a("Mark unreviewed", lambda: editor.set_status("unreviewed"), ["U"]),
    }
    tool_group = QActionGroup(editor)
    editor.act_tools: dict[str, QAction] = {}
    for name, tool in editor.tools.items():
        act = a(tool.text, lambda _=False, n=name: editor.set_tool(n), [tool.shortcut])
        act.setCheckable(True)
        act.setToolTip(f"{tool.tip}  ({tool.shortcut})")
        tool_group.addAction(act)
        editor.act_tools[name] = act
    editor.act_modes: dict[str, QAction] = {}
    mode_group = QActionGroup(editor)
    for n, mode in enumerate(MODES, 1):
        act = a(f"Show {MODE_LABELS[mode].lower()}", lambda _=False, m=mode: editor.set_mode(m), [f"Alt+{n}"])
        act.setCheckable(True)
        mode_group.addAction(act)
        editor.act_modes[mode] = act


def menus(editor: MaskEditor) -> tuple[QMenuBar, QToolBar]:
    menubar = QMenuBar(editor)
    edit = menubar.addMenu("&Edit")
    edit.addActions([editor.act_undo, editor.act_redo])
    edit.addSeparator()
    edit.addActions([editor.act_take_all, editor.act_reset])
    edit.addSeparator()
    edit.addActions(list(editor.act_tools.values()))
    view = menubar.addMenu("&View")
    view.addActions([editor.act_fit, editor.act_100, editor.act_overlay, editor.act_outline])
    view.addSeparator()
    view.addActions(list(editor.act_modes.values()))
    image = menubar.addMenu("&Image")
    image.addActions([editor.act_prev, editor.act_next])
    image.addSeparator()
    image.addActions(list(editor.act_status.values()))
    image.addSeparator()
    image.addAction(editor.act_close)

    toolbar = QToolBar()
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    toolbar.addActions([editor.act_prev, editor.act_next])
    toolbar.addSeparator()
    toolbar.addActions(list(editor.act_tools.values()))
    toolbar.addSeparator()
    toolbar.addActions([editor.act_undo, editor.act_redo])
    toolbar.addSeparator()
    toolbar.addActions([editor.act_fit, editor.act_100])
    return menubar, toolbar
