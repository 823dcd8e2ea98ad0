"""The viewer's model, no Qt: which images are listed (set, status filter, order), which are on the page,
where each row's mask comes from, the scores the orders use, and the prediction store.

The viewer panel (qt/panels/viewer_panel.py) shows what this says; tests drive it with a cache and a
project folder and no widget. Pages are aligned (1-50, 51-100, ...) for First, Last, the page number and
going to an image; Random is the recipe's view, a run of ``size`` *sequential* images from a random start
anywhere in the set, so it is not aligned ("images 137-186"), and Next and Previous then step by ``size``.

The two sets follow what training can use, not the folders: *labelled* holds every image with a mask
(the dataset's own file, or one a person corrected or approved: an unlabelled photo approved in the editor
is labelled from then on), *unlabelled* the images without any (export writes the run's prediction).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.cache import Cache
from ..core.confidence import least_confident_first
from ..core.corrections import STATUSES, corrected_masks
from ..core.review import worst_first
from .store import StateStore

SETS = [("train", "Labelled (with a mask)"), ("test", "Unlabelled (no mask yet)")]
FILTERS = [("all", "All images"), *[(s, s.capitalize()) for s in STATUSES]]
ORDERS = {
    "train": [("dataset", "Dataset order"), ("worst", "Worst Dice first")],
    "test": [("dataset", "Dataset order"), ("confidence", "Least confident first")],
}
BADGES = {"unreviewed": "", "corrected": "✎ corrected", "approved": "✓ approved", "excluded": "⊘ excluded"}
SOURCE_WORDS = {  # where the mask a row shows (the one training uses) comes from
    "mask": "mask: the dataset's file",
    "corrected": "mask: corrected by you",
    "approved": "mask: approved draft (a prediction you accepted)",
    "approved_correction": "mask: your correction, approved",
    "approved_mask": "mask: the dataset's file, approved",  # approved without a correction file of its own
    "predicted": "no mask: the run's prediction",
}


@dataclass
class Paging:
    size: int = 50
    total: int = 0
    start: int = 0  # 0-based position of the first image shown

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def page(self) -> int:
        """The (aligned) page holding the first image shown, 0-based."""
        return self.start // self.size

    @property
    def stop(self) -> int:
        return min(self.start + self.size, self.total)

    @property
    def at_first(self) -> bool:
        return self.start <= 0

    @property
    def at_last(self) -> bool:
        return self.stop >= self.total

    def clamp(self, start: int) -> int:
        return max(0, min(int(start), max(self.total - 1, 0)))

    def set_total(self, total: int) -> None:
        """The list changed length (a status filter after a review): past its end, show its last page."""
        self.total = max(0, int(total))
        if self.start >= self.total > 0:  # an empty list (no cache yet) keeps a restored start
            self.start = self.last()

    # ----- where to go; each returns the new start (the caller shows it)
    def first(self) -> int:
        return 0

    def last(self) -> int:
        return (self.pages - 1) * self.size

    def page_start(self, page: int) -> int:
        return self.clamp(max(0, min(int(page), self.pages - 1)) * self.size)

    def next(self) -> int:
        return self.start + self.size if self.start + self.size < self.total else self.start

    def previous(self) -> int:
        return max(self.start - self.size, 0)

    def holding(self, position: int) -> int:
        """A start that shows ``position``: the current one when it is on screen, else its page."""
        if self.start <= position < self.stop:
            return self.start
        return self.page_start(position // self.size)

    def random(self, rng: random.Random | None = None) -> int:
        """A random start in [0, total - size], so the run of ``size`` images is whole; not the current one."""
        rng = rng or random.Random()
        highest = max(self.total - self.size, 0)
        if highest == 0:
            return 0
        choice = rng.randint(0, highest - 1)
        return choice + 1 if choice >= self.start else choice  # every start but the current one

    def label(self) -> str:
        """ "Images 137–186 of 288" (1-based, inclusive), or "No images" for an empty list."""
        if self.total == 0:
            return "No images"
        return f"Images {self.start + 1}–{self.stop} of {self.total}"


class PredictionStore:
    """Probability maps per (model stamp, record key), least recently used dropped past a budget."""

    def __init__(self, budget_bytes: int = 256 * 2**20) -> None:
        self.budget = budget_bytes
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._bytes = 0

    def get(self, stamp: str, key: str) -> np.ndarray | None:
        item = self._items.get((stamp, key))
        if item is not None:
            self._items.move_to_end((stamp, key))
        return item

    def put(self, stamp: str, key: str, prob: np.ndarray) -> None:
        old = self._items.pop((stamp, key), None)
        self._bytes -= old.nbytes if old is not None else 0
        self._items[(stamp, key)] = prob
        self._bytes += prob.nbytes
        while self._bytes > self.budget and self._items:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= dropped.nbytes

    def __len__(self) -> int:
        return len(self._items)


def statuses(project: Path | None) -> dict[str, str]:
    return {} if project is None else StateStore(project).statuses()


def sources(
    cache: Cache, statuses: Mapping[str, str], human: Mapping[str, Path], originals: Mapping[str, Any]
) -> dict[str, str]:
    """Per row key, where the mask training uses comes from: ``mask`` (the dataset's own file),
    ``corrected`` / ``approved`` (a person's, in corrections/: ``approved`` is an accepted draft of an
    image without a mask, ``approved_correction`` a correction of the dataset's mask, approved),
    ``approved_mask`` (approved, no correction file: the dataset's file) or ``predicted`` (none: the run's
    prediction stands in)."""
    return {row["key"]: source(row, statuses, human, originals) for row in cache.rows}


def source(
    row: Mapping[str, Any], statuses: Mapping[str, str], human: Mapping[str, Path], originals: Mapping[str, Any]
) -> str:
    """One cache row's source (see :func:`sources`)."""
    key = row["key"]
    own = originals.get(key) is not None or (row["labelled"] and not row.get("corrected"))
    if key in human and statuses[key] == "approved" and originals.get(key) is not None:
        return "approved_correction"  # the dataset has a mask: the approved file is a correction of it
    if key in human:
        return statuses[key]
    if own:
        return "approved_mask" if statuses.get(key) == "approved" else "mask"
    return "predicted"


def training_masks(
    rows: list[int], cache_rows: list[dict[str, Any]], counted: Mapping[str, Path], originals: Mapping[str, Path | None]
) -> tuple[tuple[int, str], ...]:
    """(row, mask file) for the rows whose thumbnail must come from another file than the cache's.

    A correction that counts (corrected, approved) is always read: the cache may predate it or an
    edit since. A row whose cache was built from a correction that no longer counts (undone, reset,
    marked unreviewed) shows the user's own mask again: what training uses now.
    """
    out = []
    for row in rows:
        rec = cache_rows[row]
        key, built = rec["key"], rec.get("mask")
        want = counted.get(key) or originals.get(key)
        if key in counted or (want is not None and built and Path(built) != Path(want)):
            out.append((row, str(want)))
    return tuple(out)


@dataclass
class Ranking:
    """Scores of one run for an order: ``scores`` per key, ``ranked`` keys first to last."""

    run: str
    scores: dict[str, float]
    ranked: list[str]


@dataclass
class ViewerModel:
    """What the viewer lists. ``refresh`` reads the project's decisions (call it after the editor saved
    one, or when the cache, the run or the dataset changed); everything else is computed in memory."""

    paging: Paging = field(default_factory=Paging)
    which: str = "train"
    show: str = "all"
    order: str = "dataset"
    cache: Cache | None = None
    project: Path | None = None
    originals: dict[str, Any] = field(default_factory=dict)  # key -> the dataset's own mask file (or None)
    status_of: dict[str, str] = field(default_factory=dict)
    human: dict[str, Path] = field(default_factory=dict)  # key -> correction file training uses
    source_of: dict[str, str] = field(default_factory=dict)
    rankings: dict[tuple[str, str], Ranking] = field(default_factory=dict)  # (order, run id) -> ranking
    store: PredictionStore = field(default_factory=PredictionStore)
    run: str | None = None  # the active run's id: the orders use its scores
    unscored: str = ""  # why the chosen order's scores are not coming (the job could not start, or failed)
    _rows: tuple[tuple, list[int]] | None = None

    # ----- what it is given
    def open(self, project: Path | None, originals: Mapping[str, Any], saved: Mapping[str, Any] | None = None) -> None:
        """Another dataset: its own list from the default filter and order, no scores, no predictions."""
        saved = saved or {}
        which = saved.get("set", "train")
        self.which = which if which in dict(SETS) else "train"
        self.show, self.order = "all", "dataset"
        self.project, self.originals = project, dict(originals)
        self.rankings, self.store = {}, PredictionStore()
        self.paging.start = int(saved.get("page", 0) or 0) * self.paging.size
        self.cache = None
        self._rows = None

    def refresh(self, cache: Cache | None, run: str | None) -> None:
        if cache is not None and self.cache is not None and cache.fingerprint != self.cache.fingerprint:
            self.rankings = {}  # the images changed: scores of the old ones order nothing
        self.cache, self.run = cache, run
        self.status_of = statuses(self.project)
        self.human = corrected_masks(self.project, self.status_of) if self.project else {}
        self.source_of = sources(cache, self.status_of, self.human, self.originals) if cache else {}
        self._rows = None

    def note_decision(self, key: str, status: str | None = None) -> None:
        """The editor wrote one image's decision (``status``; None: its mask file only): that row's status,
        human mask and source follow, in memory and with one file check, without reading state.json on the
        window's thread. Changes made elsewhere (``carseg status`` in a terminal) arrive with ``refresh``."""
        if self.project is None or self.cache is None:
            return
        if status is not None:
            self.status_of[key] = status
        self.human.pop(key, None)
        self.human.update(corrected_masks(self.project, {key: self.status_of.get(key, "unreviewed")}))
        row = next((r for r in self.cache.rows if r["key"] == key), None)
        if row is not None:
            self.source_of[key] = source(row, self.status_of, self.human, self.originals)
        self._rows = None

    def set_ranking(self, order: str, ranking: Ranking) -> None:
        self.rankings[(order, ranking.run)] = ranking
        self._rows = None

    def ranking(self, order: str | None = None) -> Ranking | None:
        order = order or self.order
        return self.rankings.get((order, self.run)) if self.run else None

    def needs_scores(self) -> bool:
        """The chosen order has no scores of the active run yet (a job computes them)."""
        return self.order != "dataset" and self.run is not None and self.ranking() is None

    # ----- the list
    def set_which(self, which: str) -> None:
        self.which = which
        if self.order not in dict(ORDERS[which]):
            self.order = "dataset"
        self.paging.start = 0
        self._rows = None

    def set_show(self, show: str) -> None:
        self.show, self.paging.start, self._rows = show, 0, None

    def set_order(self, order: str) -> None:
        """A new order is a new list: it starts at its first image (page 1)."""
        self.order, self.paging.start, self._rows, self.unscored = order, 0, None, ""

    def rows(self) -> list[int]:
        """Cache rows of the chosen set, after the status filter and the order."""
        cache = self.cache
        if cache is None:
            return []
        ranking = self.ranking()
        key = (id(cache), self.which, self.show, self.order, id(ranking))
        if self._rows is None or self._rows[0] != key:
            self._rows = (key, self._arrange(cache, ranking))
        self.paging.set_total(len(self._rows[1]))
        return self._rows[1]

    def _arrange(self, cache: Cache, ranking: Ranking | None) -> list[int]:
        labelled = self.which == "train"
        rows = [
            i
            for i, r in enumerate(cache.rows)
            if (self.source_of.get(r["key"], "predicted") != "predicted") == labelled
        ]
        if self.show != "all":
            rows = [r for r in rows if self.status_of.get(cache.rows[r]["key"], "unreviewed") == self.show]
        if ranking is not None and self.order != "dataset":
            position = {k: i for i, k in enumerate(ranking.ranked)}
            rows = sorted(rows, key=lambda r: position.get(cache.rows[r]["key"], len(position)))
        return rows

    def page_rows(self) -> list[int]:
        rows = self.rows()
        return rows[self.paging.start : self.paging.stop]

    def go_to(self, text: str) -> int | str:
        """The position of image number ``text`` (1-based) or of the first name containing it, or why not."""
        text, rows = text.strip(), self.rows()
        if not rows or self.cache is None:
            return "this set has no images"
        if text.isdigit():
            position = int(text) - 1
            return (
                position
                if 0 <= position < len(rows)
                else f"There is no image number {text}: this set has {len(rows)} images"
            )
        needle, cache_rows = text.lower(), self.cache.rows
        found = next((i for i, r in enumerate(rows) if needle in Path(cache_rows[r]["image"]).name.lower()), -1)
        return found if found >= 0 else f"No image named like “{text}” in this set"

    # ----- what a row says
    def score(self, key: str) -> str:
        """The run's confidence of an image without a mask in words ("expected Dice 0.93"), once scored
        (whatever the order), or "". A labelled row's Dice is the page's own (mask vs prediction)."""
        if self.which != "test":
            return ""
        ranking = self.ranking("confidence")
        value = ranking.scores.get(key) if ranking else None
        # core.confidence's default method: the Dice the map expects of its own mask (1 = sure).
        return f"expected Dice {value:.3f} (confidence)" if value is not None else ""

    def badge(self, key: str) -> str:
        return BADGES.get(self.status_of.get(key, "unreviewed"), "")

    def source(self, key: str) -> str:
        return SOURCE_WORDS.get(self.source_of.get(key, "predicted"), "")

    def order_note(self) -> str:
        """Words for when the order shown is not the one chosen ("" when it is)."""
        names = {"worst": "Worst Dice first", "confidence": "Least confident first"}
        if self.order == "dataset":
            return ""
        if self.run is None:
            return f" in dataset order ({names[self.order]} needs a run)"
        if self.ranking() is None and self.unscored:
            return f" in dataset order ({names[self.order]} not scored: {self.unscored})"
        if self.ranking() is None:
            return " in dataset order until the queue is scored"
        return ""

    def describe(self, why_no_predictions: str | None, predicting: bool) -> str:
        """The line above the list: which images at which size, in which order, predicted by which run."""
        self.rows()
        images = f"{self.paging.label()} at {self.cache.size}×{self.cache.size}" if self.cache else ""
        images += self.order_note()
        if self.run is None:
            return (
                f"{images} · no predictions — {why_no_predictions}"
                if why_no_predictions
                else f"{images} · no predictions"
            )
        return f"{images} · predictions of run {self.run}{' · predicting…' if predicting else ''}"

    def training_masks(self, chunk: list[int]) -> tuple[tuple[int, str], ...]:
        assert self.cache is not None
        return training_masks(chunk, self.cache.rows, self.human, self.originals)


def dice_ranking(run: str, scores: Mapping[str, float]) -> Ranking:
    return Ranking(run, dict(scores), worst_first(dict(scores)))


def confidence_ranking(run: str, scores: Mapping[str, float], cars: Mapping[str, str] | None = None) -> Ranking:
    """Least confident first, in rounds of one view per car and per angle (core.confidence.least_confident_first)."""
    return Ranking(run, dict(scores), least_confident_first(dict(scores), dict(cars) if cars else None))
