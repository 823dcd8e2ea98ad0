"""The Help dialog: the text of ``help.html`` (beside this file) in a scrolling view that fits the screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

HELP = (Path(__file__).with_name("help.html")).read_text(encoding="utf-8")
__all__ = ["HELP", "HelpDialog"]


class HelpDialog(QDialog):
    """Scrolls instead of growing: on an 800-px screen its Close button stays on screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpBox")
        self.setWindowTitle("carseg-gui help")
        self.text = QTextBrowser(self)
        self.text.setHtml(HELP)
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        screen = (parent.screen() if parent is not None else None) or self.screen()
        available = screen.availableGeometry() if screen is not None else None
        height = 720 if available is None else min(720, int(available.height() * 0.85))
        self.resize(620, height)
