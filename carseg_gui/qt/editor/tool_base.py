"""What every editing tool is: the mouse and key hooks the canvas calls, and the one-step commit.

Its own module so that tool families in other modules (click_tools.py) build on it without importing
tools.py, which lists them all (make_tools)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from ...core.masks import MaskEdit, Point

if TYPE_CHECKING:
    from .canvas import MaskCanvas
    from .document import MaskDocument

Button = Qt.MouseButton


class Tool:
    name = ""
    text = ""
    shortcut = ""
    tip = ""
    shows_brush = False
    needs_prediction = False

    def __init__(self, canvas: MaskCanvas) -> None:
        self.canvas = canvas

    @property
    def document(self) -> MaskDocument:
        assert self.canvas.document is not None
        return self.canvas.document

    def commit(self, edit: MaskEdit, text: str) -> None:
        """A one-shot edit (fill, polygon): repaint its bbox and make it one undo step."""
        if not edit.is_empty:
            self.document.live_change(edit.bbox)
            self.document.push(edit, text)

    def press(self, pos: Point, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None: ...

    def move(self, pos: Point, buttons: Qt.MouseButton) -> None: ...

    def release(self, pos: Point, button: Qt.MouseButton) -> None: ...

    def double_click(self, pos: Point) -> None: ...

    def key(self, key: int) -> bool:
        return False

    def finish(self) -> None:
        """Commit what is in progress (before undo, another tool or another image)."""

    def cancel(self) -> None:
        """Drop what is in progress and cannot be committed (an open polygon)."""
