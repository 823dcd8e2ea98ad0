"""A combo box of (key, label) choices: the label is shown, ``currentData()`` gives the key."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox


def choice_box(items: Iterable[tuple[str, str]], name: str = "") -> QComboBox:
    box = QComboBox()
    if name:
        box.setObjectName(name)
    for key, label in items:
        box.addItem(label, key)
    return box
