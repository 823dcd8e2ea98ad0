"""One QUndoCommand per user action (a whole brush stroke, a fill, a polygon), holding a bbox diff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from ...core.masks import PackedEdit

if TYPE_CHECKING:
    from .document import MaskDocument

# The issue asks for at least 100; a packed stroke is a few KiB, so 500 steps cost little.
UNDO_LIMIT = 500


class EditCommand(QUndoCommand):
    """A change already made to the mask when pushed: the first redo() only records it."""

    def __init__(self, document: MaskDocument, edit: PackedEdit, text: str) -> None:
        super().__init__(text)
        self._document = document
        self.edit = edit
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:
            # QUndoStack.push() calls redo(); the tool has applied the edit already (live feedback).
            self._pushed = True
            self._document.notify_modified(None)
            return
        self.edit.apply(self._document.mask)
        self._document.notify_modified(self.edit.bbox)

    def undo(self) -> None:
        self.edit.revert(self._document.mask)
        self._document.notify_modified(self.edit.bbox)

    @property
    def nbytes(self) -> int:
        return self.edit.nbytes
