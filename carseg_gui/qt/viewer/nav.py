"""The viewer's two rows of controls: the set and the pages; the filter, the order and what is shown.

Widgets only: the viewer panel connects them to its paging, filter and order.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from ...session.viewer import FILTERS, ORDERS
from ..panels.choices import choice_box

ORDER_TIPS = {
    "train": "Worst Dice first: the images whose mask and prediction disagree most come first; work down "
    "this review queue and correct them (double-click or Enter opens the editor)",
    "test": "Least confident first: the images whose prediction the active run is least sure of (its expected "
    "Dice, 1 = sure) come first, one view per car and per angle at a time; open one, fix the draft and approve it",
}


class NavBar(QWidget):
    def __init__(self, sets: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_box = choice_box(sets)
        self.set_box.setToolTip("Which images to page through")
        self.first_b, self.prev_b = QPushButton("First"), QPushButton("Previous")
        self.next_b, self.last_b = QPushButton("Next"), QPushButton("Last")
        self.random_b = QPushButton("Random")
        self.prev_b.setToolTip("Previous page (PageUp)")
        self.next_b.setToolTip("Next page (PageDown)")
        self.random_b.setToolTip("The recipe's random view: 50 sequential images from a random start in the set")
        self.page_spin = QSpinBox()
        self.page_spin.setObjectName("pageSpin")
        self.page_spin.setKeyboardTracking(False)
        self.page_total = QLabel("of –")
        self.goto = QLineEdit()
        self.goto.setObjectName("goto")
        self.goto.setPlaceholderText("Go to image number or name")
        self.goto.setMinimumWidth(200)
        self.goto.setToolTip("Type an image number (1 = first of the set) or part of a file name, then Enter")
        self.show_box, self.order_box = choice_box(FILTERS, "showFilter"), choice_box(ORDERS["train"], "order")
        self.show_box.setToolTip("Show only the images with this review status")
        self.order_box.setToolTip(ORDER_TIPS["train"])
        self.cancel_b = QPushButton("Cancel")
        self.cancel_b.setObjectName("cancelScoring")
        self.info = QLabel(" ")
        self.info.setObjectName("viewerInfo")
        # Its words change with every page: they take the room there is, never push the layout wider.
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        pages = QHBoxLayout()
        pages.addWidget(self.set_box)
        for w in (self.first_b, self.prev_b, QLabel("Page"), self.page_spin, self.page_total, self.next_b, self.last_b,
                  self.random_b):  # fmt: skip
            pages.addWidget(w)
        pages.addStretch(1)
        pages.addWidget(self.goto)
        shown = QHBoxLayout()
        shown.addWidget(self.show_box)
        shown.addWidget(self.order_box)
        shown.addWidget(self.info, 1)
        shown.addWidget(self.cancel_b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(pages)
        layout.addLayout(shown)

    def set_orders(self, which: str, order: str) -> None:
        """The orders that apply to the set (Worst Dice needs masks, confidence is for images without)."""
        box = self.order_box
        box.blockSignals(True)
        box.clear()
        for key, label in ORDERS[which]:
            box.addItem(label, key)
        box.setCurrentIndex(max(0, box.findData(order)))
        box.setToolTip(ORDER_TIPS[which])
        box.blockSignals(False)
