"""The editor's images, loaded off the GUI thread: open documents (with their undo history), prefetched
arrays of the neighbours, images that cannot be read, and the threshold's re-binarising.

A load (:func:`carseg_gui.session.editor.load_arrays`: the full-size decode, the mask and its Otsu, the
correction, the prediction or the draft) runs in the loader thread; the image asked for first, then the
next and the previous one of the list, so Next/Previous finds its image ready and shows it at once. The
best preset's post-processing of a new threshold (~40 ms at 1918x1280) runs in its own thread, the newest
value winning; the document shows it when it is ready.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from ...session.editor import EditorItem, Loaded, load_arrays, prediction_at
from ...session.editor_workers import Loader
from ...session.store import StateStore
from .autosave import Relay
from .document import MaskDocument

KEEP_DOCUMENTS = 4  # images whose undo history survives going back and forth
PREFETCH = (1, -1)  # the next image first: the usual direction
STATUS = "status:"  # a loader task reading one image's review status


class Documents(QObject):
    arrived = Signal(str)  # key: its load finished (a document is ready, or it failed)
    problemFound = Signal(str, str)  # key, message: each once, when it is found
    predictionReady = Signal(str)  # key: its prediction at the new threshold is shown
    statusRead = Signal(str)  # key: its status was read again from state.json

    def __init__(self, project: Path, adopt: Callable[[MaskDocument], None], drop: Callable[[MaskDocument], None],
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.project = Path(project)
        self.store = StateStore(self.project)
        self._adopt, self._drop = adopt, drop
        self._docs: OrderedDict[str, MaskDocument] = OrderedDict()
        self._ready: dict[str, tuple[Loaded, EditorItem]] = {}  # prefetched, not opened yet
        self.errors: dict[str, str] = {}  # images that cannot be read
        self.statuses: dict[str, str] = {}  # as read by the loader, then as the editor wrote them
        self._unreported: dict[str, list[str]] = {}  # problems found while prefetching: said when shown
        self._written: dict[str, int] = {}  # statuses the editor wrote, per image: a read from before is stale
        self._relay = Relay(self)
        self._relay.delivered.connect(self._arrived, Qt.ConnectionType.QueuedConnection)
        self._thresholds = Relay(self)
        self._thresholds.delivered.connect(self._thresholded, Qt.ConnectionType.QueuedConnection)
        self.loader = Loader(self._relay)
        self.thresholder = Loader(self._thresholds, "editor-threshold")
        self._items: dict[str, EditorItem] = {}
        self.threshold = 0.5

    # ----- what is there
    def get(self, key: str) -> MaskDocument | None:
        return self._docs.get(key)

    def __iter__(self) -> Iterator[MaskDocument]:
        return iter(list(self._docs.values()))

    def loading(self, key: str) -> bool:
        return key not in self._docs and key not in self._ready and key not in self.errors

    def open(self, item: EditorItem) -> MaskDocument | None:
        """The item's document if it is loaded (kept, or prefetched), most recently used last."""
        doc = self._docs.get(item.key)
        if doc is None and item.key in self._ready:
            loaded, _ = self._ready.pop(item.key)
            doc = MaskDocument.from_loaded(loaded, item.post)
            self._adopt(doc)
        if doc is None:
            return None
        self._docs[item.key] = doc
        self._docs.move_to_end(item.key)
        while len(self._docs) > KEEP_DOCUMENTS:
            _, old = self._docs.popitem(last=False)
            self._drop(old)
        if doc.threshold != self.threshold:
            self.set_threshold(doc, self.threshold)
        return doc

    # ----- loading
    def reset(self) -> None:
        """A new list: prefetched arrays and read errors may be out of date (documents keep their history)."""
        self._ready.clear()
        self.errors.clear()
        self._unreported.clear()

    def want(self, items: Sequence[EditorItem], index: int) -> None:
        """Load ``items[index]`` if it is not there, then its neighbours; forget prefetches far away."""
        self._items = {item.key: item for item in items}
        near = [items[i] for i in (index, *(index + d for d in PREFETCH)) if 0 <= i < len(items)]
        keep = {item.key for item in near}
        for key in [k for k in self._ready if k not in keep]:
            del self._ready[key]
        tasks = [(item.key, self._task(item)) for item in near if self.loading(item.key)]
        current = tasks[0] if tasks and tasks[0][0] == items[index].key else None
        key = items[index].key
        if current is None and key in self._docs:  # kept with its history: its status may have changed meanwhile
            store, asked = self.store, self._written.get(key, 0)  # (the viewer, `carseg status`)
            current = (STATUS + key, lambda: (asked, store.status(key)))
        self.loader.want(current, tasks[1:] if current and current[0] == key else tasks)

    def _task(self, item: EditorItem) -> Callable[[], Loaded]:
        threshold, project, store = self.threshold, self.project, self.store
        return lambda: load_arrays(project, item, threshold, store)

    def _arrived(self, key: str, result: object) -> None:
        if key.startswith(STATUS):
            key = key[len(STATUS) :]
            # Dropped when the editor wrote a status since it was asked for: that one is newer.
            if isinstance(result, tuple) and result[0] == self._written.get(key, 0):
                self.statuses[key] = result[1]
                self.statusRead.emit(key)
            return
        item = self._items.get(key)
        if isinstance(result, Exception) or not isinstance(result, Loaded):
            result = Loaded(key, error=f"cannot open {key}: {result}")
        if result.error:
            self.errors[key] = result.error
            self._unreported.setdefault(key, []).append(result.error)
        elif item is not None and key not in self._docs:
            self._ready[key] = (result, item)
            self.statuses[key] = result.status
            self._unreported.setdefault(key, []).extend(result.problems)
        self.arrived.emit(key)

    def status_written(self, key: str, status: str) -> None:
        self.statuses[key] = status
        self._written[key] = self._written.get(key, 0) + 1

    def report(self, key: str) -> None:
        """The image is on screen: say its problems now (once), not when it was prefetched."""
        for text in self._unreported.pop(key, []):
            self.problemFound.emit(key, text)

    # ----- the threshold
    def set_threshold(self, doc: MaskDocument, threshold: float) -> None:
        """Re-binarise ``doc``'s prediction at ``threshold`` in the background (the newest request wins)."""
        self.threshold = threshold
        if doc.prob is None:
            doc.threshold = threshold
            return
        prob, post, key = doc.prob, doc.post, doc.key
        self.thresholder.want((f"{key}@{threshold}", lambda: (key, threshold, prediction_at(prob, post, threshold))))

    def _thresholded(self, _task: str, result: object) -> None:
        if not isinstance(result, tuple):
            return
        key, threshold, pred = result
        doc = self._docs.get(key)
        if doc is None:
            return
        if threshold == self.threshold:  # an older value that finished late is not shown
            doc.set_prediction(pred, threshold)
            self.predictionReady.emit(key)

    def close(self) -> None:
        self.loader.close()
        self.thresholder.close()
