"""Which images of the viewer's list are on screen: a window of ``size`` positions from ``start``.

No Qt here (the session layer takes it as is). Pages are aligned (1-50, 51-100, ...) for First, Last,
the page number and going to an image; Random is the recipe's view, a run of ``size`` *sequential*
images from a random start anywhere in the set, so it is not aligned ("images 137-186"), and Next and
Previous then step by ``size`` from there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


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

    # ----- words
    def label(self) -> str:
        """ "Images 137–186 of 288" (1-based, inclusive), or "No images" for an empty list."""
        if self.total == 0:
            return "No images"
        return f"Images {self.start + 1}–{self.stop} of {self.total}"
