"""Viewer panel: pages of 50 sequential images with their mask and the active run's prediction.

What is listed (set, filter, order, page, go-to, scores, predictions) is session.viewer.ViewerModel's
(``self.view``); this panel shows it, asks the loader for thumbnails and predictions, and the controller for
the orders' scores.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.cache import Cache
from ...core.otsu import otsu_mask
from ...session.viewer import SETS, Paging, PredictionStore, ViewerModel, confidence_ranking, dice_ranking
from ..controller import Controller
from ..viewer.loader import PageLoader, PageRequest, grey_image
from ..viewer.nav import NavBar
from ..viewer.page_model import MASK, PAGE_SIZE, PageModel, RowData, page_table
from ..viewer.scoring import OrderScoring
from ..workers import ServiceThread
from .viewer_empty import EmptyView


class ViewerPanel(QWidget):
    openImage = Signal(int)  # a cache row: MainWindow.open_image decides what opens
    pageShown = Signal(int, float)  # page index, seconds from the request to the last thumbnail/prediction
    decisionsChanged = Signal()  # the editor saved a correction or set a status: counts elsewhere follow

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller, self.state = controller, controller.state
        self.setObjectName("viewerPanel")
        self.view = ViewerModel(Paging(PAGE_SIZE))  # what is listed and which of it is on screen
        self.model = PageModel()
        self.gen = 0
        self.stamps: dict[str, str] = {}  # run id -> its model's version, as the loader last found it
        self._t0 = 0.0
        self._waiting = {"thumbs": False, "preds": False}
        self.last_switch_s: float | None = None
        self._failed_stamps: set[str] = set()
        self.loader = PageLoader()
        self.service: ServiceThread | None = None
        self.save_timer = QTimer(self, singleShot=True, interval=600)
        self.save_timer.timeout.connect(self._save_state)

        self.nav = NavBar(SETS)
        for name in ("set_box", "page_spin", "page_total", "goto", "info", "first_b", "prev_b", "next_b", "last_b",
                     "random_b", "show_box", "order_box"):  # fmt: skip
            setattr(self, name, getattr(self.nav, name))  # the panel's names for its controls, as before
        self.set_box.currentIndexChanged.connect(lambda _i: self.set_set(self.set_box.currentData()))
        self.first_b.clicked.connect(lambda: self.show_at(self.paging.first()))
        self.prev_b.clicked.connect(self.previous_page)
        self.next_b.clicked.connect(self.next_page)
        self.last_b.clicked.connect(lambda: self.show_at(self.paging.last()))
        self.random_b.clicked.connect(self.random_page)
        self.page_spin.valueChanged.connect(lambda v: self.show_page(v - 1))
        self.goto.returnPressed.connect(lambda: self.go_to(self.goto.text()))
        self.show_box.currentIndexChanged.connect(lambda _i: self._show_changed())
        self.order_box.currentIndexChanged.connect(lambda _i: self._order_changed())
        self.cancel_b = self.nav.cancel_b
        self.cancel_b.clicked.connect(controller.cancel)
        self.state.bind(self.cancel_b, "cancel:review,confidence", "Stop scoring the images for this order; "
                        "the list stays in dataset order (Esc)")  # fmt: skip
        self.scoring = OrderScoring(controller, self.view, lambda: self._describe(self.state.active(), ()), self)

        self.table, self.delegate = page_table(self.model)
        # activated = double-click or Enter on the selected row (the editor opens either way)
        self.table.activated.connect(lambda index: self.openImage.emit(self.model.rows[index.row()].row))

        self.empty = EmptyView(controller)
        self.empty_button = self.empty.button
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)

        self.loader.thumbsReady.connect(self._thumbs)
        self.loader.predsReady.connect(self._preds)
        self.loader.predsFailed.connect(self._preds_failed)
        self.state.projectChanged.connect(self._restore)
        self.state.cachesChanged.connect(self.reload)
        self.state.activeRunChanged.connect(self.reload)
        self.state.changed.connect(self._update_nav)
        controller.reviewed.connect(self._reviewed)
        if hasattr(controller, "confidenceScored"):
            controller.confidenceScored.connect(self._confidence_scored)
        self.reload()

    # ----- the set and its pages
    @property
    def paging(self) -> Paging:
        return self.view.paging

    @property
    def store(self) -> PredictionStore:
        return self.view.store

    @store.setter
    def store(self, store: PredictionStore) -> None:
        self.view.store = store

    @property
    def which(self) -> str:
        return self.view.which

    def rows(self) -> list[int]:
        """Cache rows of the chosen set, after the status filter and the order."""
        return self.view.rows()

    def _order_changed(self) -> None:
        self.view.set_order(self.order_box.currentData() or "dataset")
        self.reload(first=True)  # the queue starts at its first (worst) image, not where the old order was
        self.scoring.start()  # the user's choice: at once (when it cannot start, the list says why)

    def _show_changed(self) -> None:
        self.view.set_show(self.show_box.currentData() or "all")
        self.reload(first=True)  # a new list: from its start

    def _reviewed(self, run_id: str, scores: dict) -> None:
        self.view.set_ranking("worst", dice_ranking(run_id, scores))
        self.reload(first=self.view.order == "worst")

    def _confidence_scored(self, run_id: str, scores: dict, ranked: list) -> None:
        ranking = confidence_ranking(run_id, scores)
        ranking.ranked = list(ranked) or ranking.ranked  # the queue's order: one view per car and angle at a time
        self.view.set_ranking("confidence", ranking)
        self.reload(first=self.view.order == "confidence")

    def refresh_statuses(self, key: str | None = None, status: str | None = None) -> None:
        """The editor changed a status or saved a correction (of ``key``: only that row is looked at again;
        None: all, from state.json): badges, sources, the filter and the sets follow (an approved or
        corrected image without a mask is labelled now)."""
        before = dict(self.view.source_of)
        if key is None:
            self.view.refresh(self._cache, self.view.run)
        else:
            self.view.note_decision(key, status)
        for r in self.model.rows:
            r.badge, r.source = self.view.badge(r.key), self.view.source(r.key)
        self.model.changed()
        moved = any((before.get(k) == "predicted") != (v == "predicted") for k, v in self.view.source_of.items())
        self.decisionsChanged.emit()
        if self.view.show != "all" or moved:
            self.reload()

    def show_corrected_mask(self, key: str, mask: np.ndarray) -> None:
        """The editor saved a correction: its row shows the new mask and Dice now, not after the next
        preprocess (one image, resized and binarised as preprocessing does: a few ms)."""
        self.refresh_statuses(key)
        row = next((r for r in self.model.rows if r.key == key), None)
        cache = self._cache
        if row is None or cache is None:
            return
        small = otsu_mask(np.asarray(mask, dtype=np.uint8) * 255, cache.size)
        self.model.set_mask(row.row, grey_image(small * 255), small)

    def reveal_row(self, row: int) -> None:
        """Show the page holding cache row ``row`` and select it (the editor moved to that image)."""
        rows = self.rows()
        if row not in rows:
            return
        self._select_position(rows.index(row))

    def _select_position(self, position: int) -> None:
        self.show_at(self.paging.holding(position))
        self.table.selectRow(position - self.paging.start)
        self.table.scrollTo(self.model.index(position - self.paging.start, 0))

    # The aligned page of 50, for the page box, the keys and the tests; ``paging`` holds the start.
    @property
    def page_size(self) -> int:
        return self.paging.size

    @page_size.setter
    def page_size(self, size: int) -> None:
        self.paging.size = size

    @property
    def page(self) -> int:
        return self.paging.page

    def page_count(self) -> int:
        return Paging(self.paging.size, len(self.rows())).pages

    def set_set(self, which: str) -> None:
        if which != self.which:
            self.view.set_which(which)
            self.nav.set_orders(which, self.view.order)
            self.table.setColumnHidden(MASK, which == "test")
            self.show_page(0, force=True)  # page 0 of another set: not the page on screen

    def next_page(self) -> None:
        self.show_at(self.paging.next())

    def previous_page(self) -> None:
        self.show_at(self.paging.previous())

    def random_page(self) -> None:
        """The recipe's view: 50 sequential images from a random start (not a page boundary)."""
        self.paging.set_total(len(self.rows()))
        self.show_at(self.paging.random())

    def go_to(self, text: str) -> bool:
        if not text.strip() or not self.rows():
            return False
        position = self.view.go_to(text)
        if isinstance(position, str):
            self._say(position)
            return False
        self._select_position(position)
        return True

    def reload(self, first: bool = False) -> None:
        """Show the current images again (the cache, the active run or the set changed), or the
        list's first ones (``first``: a new filter or order is a new list)."""
        run = self.state.active()
        if (run.id if run else None) != self.view.run:
            self.view.unscored = ""  # another run: its scores may well come
        self.view.refresh(self.state.view_cache(), run.id if run else None)
        # A job scores the chosen order when the list has no scores of this run: once the other handlers of
        # the signal that brought a new run or cache have run (a job's result must not start the next job).
        self.scoring.later()
        self.show_at(0 if first else self.paging.start, force=True)

    @property
    def _cache(self) -> Cache | None:
        return self.view.cache

    def show_page(self, page: int, force: bool = False) -> None:
        """Show aligned page ``page`` (0-based): images page*50+1 to page*50+50."""
        self.paging.set_total(len(self.rows()))
        self.show_at(self.paging.page_start(page), force)

    def show_at(self, start: int, force: bool = False) -> None:
        """Show the images from position ``start`` of the list (0-based)."""
        cache = self._cache
        if cache is None:
            self._show_empty()
            return
        rows = self.rows()
        self.paging.set_total(len(rows))
        start = self.paging.clamp(start)
        if start == self.paging.start and not force and self.model.rows:
            return
        self.paging.start = start
        self.stack.setCurrentWidget(self.table)
        # Room for the set's largest number ("224"), whatever the page: the header neither cuts nor jumps.
        digits = self.table.fontMetrics().horizontalAdvance("0" * len(str(max(self.paging.total, 1))))
        self.table.verticalHeader().setFixedWidth(digits + 14)
        chunk = rows[self.paging.start : self.paging.stop]
        run = self.state.active()
        stamp = self._stamp(run)
        data, view = [], self.view
        for n, r in enumerate(chunk, start=self.paging.start + 1):
            rec, key = cache.rows[r], cache.rows[r]["key"]
            data.append(RowData(r, n, Path(rec["image"]).name, key, tuple(rec["orig"]), badge=view.badge(key),
                                source=view.source(key), score=view.score(key)))  # fmt: skip
        self.model.size = cache.size
        self.model.set_rows(data)
        if run is not None:
            for r in data:
                prob = self.store.get(stamp, r.key)
                if prob is not None:
                    self.model.set_prediction(r.row, prob)
        missing = tuple(self.model.missing_predictions()) if run is not None else ()
        self.model.set_note("predicting…" if missing else "no active run")
        self.gen += 1
        self.loader.latest = self.gen
        self._t0 = time.perf_counter()
        self._waiting = {"thumbs": bool(chunk), "preds": bool(missing)}
        self._update_nav()
        self._describe(run, missing)
        self.table.scrollToTop()
        if chunk:
            masks = view.training_masks(chunk)
            self._service().submit(PageRequest(self.gen, cache, tuple(chunk), run, stamp, missing, masks))
        self.save_timer.start()

    def _stamp(self, run: object) -> str:
        """The run's model version as the loader last found it (it stats the file, off this thread)."""
        return self.stamps.get(getattr(run, "id", ""), "") if run is not None else ""

    def _service(self) -> ServiceThread:
        if self.service is None:
            self.service = ServiceThread("viewer-pages", self.loader.serve, self)
        return self.service

    def stop(self) -> None:
        self.loader.latest = -1  # stops a prediction in progress at its next batch
        self.scoring.stop()
        if self.service is not None:
            self.service.stop()
            self.service = None

    # ----- results from the loader
    def _thumbs(self, gen: int, thumbs: list) -> None:
        if gen != self.gen:
            return  # a page the user already left
        self.model.set_thumbs(thumbs)
        self._waiting["thumbs"] = False
        self._maybe_done()

    def _preds(self, gen: int, stamp: str, probs: dict) -> None:
        self.stamps[stamp.partition("@")[0]] = stamp
        for row, prob in probs.items():
            if self._cache is not None and row < len(self._cache.rows):
                self.store.put(stamp, self._cache.rows[row]["key"], prob)
        if gen != self.gen:
            return
        for row, prob in probs.items():
            self.model.set_prediction(row, prob)
        self.model.changed()
        if not self.model.missing_predictions():
            self._waiting["preds"] = False
            self._describe(self.state.active(), ())
            self._maybe_done()

    def _preds_failed(self, gen: int, stamp: str, message: str, details: str) -> None:
        if gen != self.gen:
            return
        self._waiting["preds"] = False
        self.model.set_note("prediction failed")
        self._say(f"Predictions unavailable: {message}")
        if stamp not in self._failed_stamps:
            self._failed_stamps.add(stamp)
            self.controller.error.emit("Cannot predict this page", message, details)

    def _maybe_done(self) -> None:
        if not any(self._waiting.values()):
            self.last_switch_s = time.perf_counter() - self._t0
            self.pageShown.emit(self.page, self.last_switch_s)

    # ----- display
    def _describe(self, run: object, missing: tuple) -> None:
        self._say(self.view.describe(self.state.why_not("predict") if run is None else None, bool(missing)))

    def _say(self, text: str) -> None:
        self.info.setText(text)
        self.info.setToolTip(text.strip())  # all of it, when the row is too narrow to show it

    def _show_empty(self) -> None:
        self.model.set_rows([])
        self.stack.setCurrentIndex(0)
        self.empty.update_text()
        self._say(" ")
        self._update_nav()

    def _update_nav(self) -> None:
        has = self._cache is not None and bool(self.rows())
        n = self.page_count()
        self.page_spin.blockSignals(True)
        self.page_spin.setRange(1, n)
        self.page_spin.setValue(self.page + 1)
        self.page_spin.blockSignals(False)
        self.page_total.setText(f"of {n}" if has else "of –")
        at_first, at_last = self.paging.at_first, self.paging.at_last
        for button, on in ((self.first_b, not at_first), (self.prev_b, not at_first), (self.next_b, not at_last),
                           (self.last_b, not at_last), (self.random_b, n > 1)):  # fmt: skip
            button.setEnabled(has and on)
        for w in (self.page_spin, self.goto, self.set_box):
            w.setEnabled(has or w is self.set_box)

    # ----- project state
    def _restore(self) -> None:
        """Another dataset: its own list, from the default filter and order, no typed text, no scores."""
        ds = self.state.dataset
        originals = {r.key: r.mask for r in ds.records} if ds else {}
        self.view.open(self.state.project, originals, self.state.project_state().get("viewer") or {})
        self.stamps = {}
        self.set_box.blockSignals(True)
        self.set_box.setCurrentIndex(max(0, self.set_box.findData(self.which)))
        self.set_box.blockSignals(False)
        self.nav.set_orders(self.which, self.view.order)
        self.table.setColumnHidden(MASK, self.which == "test")
        self.show_box.blockSignals(True)
        self.show_box.setCurrentIndex(0)
        self.show_box.blockSignals(False)
        self.goto.clear()
        self.reload()

    def _save_state(self) -> None:
        if self.state.project is not None and self._cache is not None:
            self.state.update_project_state(viewer={"set": self.which, "page": self.page})
