"""Viewer panel: pages of 50 sequential images with their mask and the active run's prediction."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.cache import Cache
from ...core.corrections import corrected_masks
from ...core.otsu import otsu_mask
from ..controller import Controller
from ..viewer.loader import PageLoader, PageRequest, grey_image, model_stamp
from ..viewer.nav import NavBar
from ..viewer.page_model import MASK, PAGE_SIZE, PageModel, PredictionStore, RowData, page_table
from ..viewer.paging import Paging
from ..viewer.review import BADGES, arrange, statuses, training_masks
from ..workers import ServiceThread

SETS = [("train", "Train (labelled)"), ("test", "Test (unlabelled)")]


class ViewerPanel(QWidget):
    openImage = Signal(int)  # a cache row: MainWindow.open_image decides what opens
    pageShown = Signal(int, float)  # page index, seconds from the request to the last thumbnail/prediction

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller, self.state = controller, controller.state
        self.setObjectName("viewerPanel")
        self.store = PredictionStore()
        self.model = PageModel()
        self.paging = Paging(PAGE_SIZE)  # which positions of rows() are on screen
        self.gen = 0
        self.which = "train"
        self._rows_cache: tuple[tuple, list[int]] | None = None
        self.status_of: dict[str, str] = {}
        self.scores: dict[str, dict[str, float]] = {}  # run id -> {key: Dice}, for "worst first"
        self._cache: Cache | None = None
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
        self.show_box.currentIndexChanged.connect(lambda _i: self.reload(first=True))  # a new list: from its start
        self.order_box.currentIndexChanged.connect(lambda _i: self._order_changed())

        self.table, self.delegate = page_table(self.model)
        # activated = double-click or Enter on the selected row (the editor opens either way)
        self.table.activated.connect(lambda index: self.openImage.emit(self.model.rows[index.row()].row))

        self.empty = QLabel()
        self.empty.setObjectName("viewerEmpty")
        self.empty.setWordWrap(True)
        self.empty_button = QPushButton("Preprocess now")
        self.empty_button.clicked.connect(lambda: controller.preprocess(self.state.view_size()))
        self.state.bind(self.empty_button, "preprocess", "Build the cache the viewer pages through")
        empty = QWidget()
        elay = QVBoxLayout(empty)
        elay.addStretch(1)
        elay.addWidget(self.empty)
        elay.addWidget(self.empty_button)
        elay.addStretch(2)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
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
        self.reload()

    # ----- the set and its pages
    def rows(self) -> list[int]:
        """Cache rows of the chosen set, after the status filter and the review order."""
        cache = self._cache
        if cache is None:
            return []
        show, order = self.show_box.currentData(), self.order_box.currentData()
        run = self.state.active()
        scores = self.scores.get(run.id) if run else None
        key = (id(cache), self.which, show, order, id(scores), id(self.status_of))
        if self._rows_cache is None or self._rows_cache[0] != key:
            base = cache.rows_for_set(self.which)
            self._rows_cache = (key, arrange(base, cache.rows, self.status_of, show, order, scores))
        return self._rows_cache[1]

    def _order_changed(self) -> None:
        run = self.state.active()
        wants_scores = self.order_box.currentData() == "worst" and run is not None and run.id not in self.scores
        if wants_scores and self.controller.review():
            self._say("Scoring every labelled image for the review queue…")
        self.reload(first=True)  # the queue starts at its first (worst) image, not where the old order was

    def _reviewed(self, run_id: str, scores: dict) -> None:
        self.scores[run_id] = dict(scores)
        self.reload(first=self.order_box.currentData() == "worst")

    def refresh_statuses(self) -> None:
        """The editor changed a status or saved a correction: badges and the filter follow."""
        self.status_of = statuses(self.state.project)
        for r in self.model.rows:
            r.badge = BADGES.get(self.status_of.get(r.key, "unreviewed"), "")
        self.model.changed()
        if self.show_box.currentData() != "all":
            self.reload()

    def show_corrected_mask(self, key: str, mask: np.ndarray) -> None:
        """The editor saved a correction: its row shows the new mask and Dice now, not after the next
        preprocess (one image, resized and binarised as preprocessing does: a few ms)."""
        self.refresh_statuses()
        row = next((r for r in self.model.rows if r.key == key), None)
        if row is None or self._cache is None:
            return
        small = otsu_mask(np.asarray(mask, dtype=np.uint8) * 255, self._cache.size)
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
            self.which = which
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
        text = text.strip()
        rows = self.rows()
        if not text or not rows:
            return False
        if text.isdigit():
            position = int(text) - 1
            if not 0 <= position < len(rows):
                self._say(f"There is no image number {text}: this set has {len(rows)} images")
                return False
        else:
            needle = text.lower()
            cache_rows = self._cache.rows if self._cache else []
            position = next((i for i, r in enumerate(rows) if needle in Path(cache_rows[r]["image"]).name.lower()), -1)
            if position < 0:
                self._say(f"No image named like “{text}” in this set")
                return False
        self._select_position(position)
        return True

    def reload(self, first: bool = False) -> None:
        """Show the current images again (the cache, the active run or the set changed), or the
        list's first ones (``first``: a new filter or order is a new list)."""
        self._cache = self.state.view_cache()
        self._rows_cache = None
        self.status_of = statuses(self.state.project)
        self.show_at(0 if first else self.paging.start, force=True)

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
        data = []
        for n, r in enumerate(chunk, start=self.paging.start + 1):
            rec = cache.rows[r]
            badge = BADGES.get(self.status_of.get(rec["key"], "unreviewed"), "")
            data.append(RowData(r, n, Path(rec["image"]).name, rec["key"], tuple(rec["orig"]), badge=badge))
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
            counted = corrected_masks(self.state.project, self.status_of) if self.state.project else {}
            originals = {r.key: r.mask for r in self.state.dataset.records} if self.state.dataset else {}
            masks = training_masks(chunk, cache.rows, counted, originals)
            self._service().submit(PageRequest(self.gen, cache, tuple(chunk), run, stamp, missing, masks))
        self.save_timer.start()

    def _stamp(self, run: object) -> str:
        return model_stamp(run)  # type: ignore[arg-type]

    def _service(self) -> ServiceThread:
        if self.service is None:
            self.service = ServiceThread("viewer-pages", self.loader.serve, self)
        return self.service

    def stop(self) -> None:
        self.loader.latest = -1  # stops a prediction in progress at its next batch
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
        self.paging.set_total(len(self.rows()))
        images = f"{self.paging.label()} at {self._cache.size}×{self._cache.size}" if self._cache else ""
        if self.order_box.currentData() == "worst" and run is None:
            images += " in dataset order (Worst Dice first needs a run)"
        elif self.order_box.currentData() == "worst" and run.id not in self.scores:  # type: ignore[attr-defined]
            images += " in dataset order until the queue is scored"
        if run is None:
            why = self.state.why_not("predict") or ""
            self._say(f"{images} · no predictions — {why}" if why else f"{images} · no predictions")
        else:
            doing = " · predicting…" if missing else ""
            self._say(f"{images} · predictions of run {run.id}{doing}")  # type: ignore[attr-defined]

    def _say(self, text: str) -> None:
        self.info.setText(text)
        self.info.setToolTip(text.strip())  # all of it, when the row is too narrow to show it

    def _show_empty(self) -> None:
        self.model.set_rows([])
        self.stack.setCurrentIndex(0)
        size = self.state.view_size()
        if self.state.root is None:
            self.empty.setText("Open a dataset (File ▸ Open folder…, Ctrl+O) to page through its images, "
                               "or try the app on File ▸ Open the built-in sample.")  # fmt: skip
        else:
            self.empty.setText(f"The dataset has no cache at {size}×{size} yet. Preprocess it to page through "
                               "its images (it takes a few seconds per thousand images).")  # fmt: skip
        self.empty_button.setVisible(self.state.root is not None)
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
        saved = self.state.project_state().get("viewer") or {}
        which = saved.get("set", "train")
        self.which = which if which in dict(SETS) else "train"
        self.set_box.blockSignals(True)
        self.set_box.setCurrentIndex(max(0, self.set_box.findData(self.which)))
        self.set_box.blockSignals(False)
        self.table.setColumnHidden(MASK, self.which == "test")
        self.paging.start = int(saved.get("page", 0) or 0) * self.paging.size
        # Another dataset: its own list, from the default filter and order, no typed text, no scores.
        for box in (self.show_box, self.order_box):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.goto.clear()
        self.scores = {}
        self.store = PredictionStore()
        self.reload()

    def _save_state(self) -> None:
        if self.state.project is not None and self._cache is not None:
            self.state.update_project_state(viewer={"set": self.which, "page": self.page})
