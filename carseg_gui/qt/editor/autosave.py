"""The editor's autosave: when to write (300 ms after an edit, before the next stroke, on switching image,
on a status, on close), done by the saver thread of :mod:`carseg_gui.session.editor_workers`.

The GUI thread only copies the mask (a memcpy, under a millisecond at 1918x1280) and hands it over; the
PNG encode, the fsync and the ``state.json`` update run in the saver. "Saved" is shown once the saver
says the bytes are on disk (its results come back queued, or at once when :meth:`flush` waits for it).
So a SIGKILL loses at most the stroke in progress: a stroke's press waits for the previous one's file (not for
the status update after it).
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ...session.editor_workers import Saved, SaveJob, Saver
from .document import MaskDocument

SAVE_DELAY_MS = 300


class Relay(QObject):
    """Calls from a worker thread become a queued signal, handled on the GUI thread."""

    delivered = Signal(str, object)

    def __call__(self, key: str = "", result: object = None) -> None:
        self.delivered.emit(key, result)


class AutoSave(QObject):
    saved = Signal(str, object)  # key, the mask (0/1, full size) whose PNG was just written
    statusWritten = Signal(str, str)  # key, status
    failed = Signal(str, str)  # key, message
    drained = Signal()  # results were applied: the indicator may change

    def __init__(
        self,
        project: object,
        documents: Callable[[], Iterable[MaskDocument]],
        find: Callable[[str], MaskDocument | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._documents, self._find = documents, find
        self._results: queue.Queue[Saved] = queue.Queue()
        self._relay = Relay(self)
        self._relay.delivered.connect(self.drain, Qt.ConnectionType.QueuedConnection)
        self.saver = Saver(project, self._deliver)  # type: ignore[arg-type]
        self.error: str | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.write_pending)

    def _deliver(self, saved: Saved) -> None:  # in the saver thread
        self._results.put(saved)
        self._relay()

    def schedule(self) -> None:
        self.timer.start()

    def submit(self, doc: MaskDocument) -> None:
        """Hand the document's mask to the saver if this revision is not on its way yet."""
        if not doc.revisions.unqueued:
            return
        revision, edited = doc.revisions.queue()
        self.saver.submit(SaveJob(doc.key, doc.mask.copy(), doc.original, revision, edited, doc.draft, doc.draft_run))

    def write_pending(self) -> None:
        self.timer.stop()
        for doc in list(self._documents()):
            self.submit(doc)

    def flush(self) -> bool:
        """Everything unsaved written, and waited for; False if a write failed (``error`` says why)."""
        self.write_pending()
        self.saver.flush()
        self.drain()
        return self.error is None

    def before_stroke(self) -> None:
        """A stroke starts: the previous one's mask must be on disk first (its status may follow later)."""
        self.write_pending()
        self.saver.wait_for_files()
        self.drain()

    def set_status(self, key: str, status: str, doc: MaskDocument | None) -> bool:
        """Record a decision after the pending writes; approving an untouched draft writes it as the mask."""
        self.write_pending()
        draft = doc is not None and doc.draft
        mask = doc.mask.copy() if doc is not None and draft else None
        self.saver.submit(SaveJob(key, mask, None, 0, False, draft, doc.draft_run if doc else None, status))
        self.saver.flush()
        self.drain()
        return self.error is None

    def drain(self, *_: object) -> None:
        """Apply what the saver has done (on the GUI thread)."""
        while True:
            try:
                s = self._results.get_nowait()
            except queue.Empty:
                break
            doc = self._find(s.key)
            if s.error:
                self.error = f"{s.key}: {s.error}"  # for the indicator, which names the image
                if doc is not None and s.revision:
                    doc.revisions.failed(edited=True)
                self.failed.emit(s.key, s.error)
                continue
            self.error = None
            if doc is not None and s.revision:
                doc.revisions.written(s.revision)
            if s.wrote and s.mask is not None:
                self.saved.emit(s.key, s.mask)
            if s.status:
                self.statusWritten.emit(s.key, s.status)
        self.drained.emit()

    def close(self) -> None:
        self.flush()
        self.saver.close()
        self.drain()
