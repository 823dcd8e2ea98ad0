"""The editor's menu bar and tool bar, made from its actions (the editor owns the actions and their keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenuBar, QToolBar

if TYPE_CHECKING:
    from .editor_window import MaskEditor


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
