"""The mask editor: correct a mask by hand at the image's full resolution (see editor_window)."""

from .document import EditorItem
from .editor_window import MaskEditor

__all__ = ["EditorItem", "MaskEditor"]
