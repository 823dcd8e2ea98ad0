"""The QApplication of the app: it also turns the desktop's "open this file" events into a signal."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication


class Application(QApplication):
    # macOS hands "Open with" and a folder dropped on the Dock icon to the application object as a
    # QFileOpenEvent, not as a command-line argument. Overriding event() here (rather than an event
    # filter on the application) keeps Python out of every other event's path.
    fileOpened = Signal(str)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent) and event.file():
            self.fileOpened.emit(event.file())
            return True
        return super().event(event)
