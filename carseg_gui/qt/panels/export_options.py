"""The export panel's choices beyond folder and set: the formats, "predictions only", the cut-out's edge and
background; the check for files an export would replace (off the GUI thread); the words of the result."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QColorDialog, QComboBox, QHBoxLayout, QSpinBox, QWidget

from ...core.cache import Cache
from ...core.export import COCO_NAME, ExportSummary
from ...session.actions import SUBMISSION_NAME, existing_outputs
from ...session.annotate import MANIFEST_CSV

FORMATS = [
    ("png", "PNG masks, 0/255 (<name>.png)"),
    ("gif", "GIF masks like Carvana's (<name>_mask.gif)"),
    ("yolo", "YOLO segmentation polygons (<name>.txt)"),
    ("cutout", "Cut-outs: the photo with the mask as alpha (<name>.png)"),
    ("coco", f"COCO instances with RLE masks (one {COCO_NAME})"),
    ("rle", f"RLE CSV, Carvana's submission format ({SUBMISSION_NAME})"),
]
BACKGROUNDS = [("none", "Transparent"), ("white", "White"), ("black", "Black"), ("grey", "Grey"), ("other", "Other…")]
COLOURS = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128)}
SET_WORDS = {"test": "test images", "train": "labelled images", "all": "images"}  # "72 masks of the test images"


class CutoutOptions(QWidget):
    """Feather (px) and background of the cut-out format; shown only for it."""

    changed = Signal()  # the feather or the background (a colour chosen under "Other…" too)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feather = QSpinBox()
        self.feather.setObjectName("exportFeather")
        self.feather.setRange(0, 100)
        self.feather.setSuffix(" px feather")
        self.feather.setToolTip("A soft edge: the alpha fades over this many pixels across the outline (0: hard)")
        self.background = QComboBox()
        self.background.setObjectName("exportBackground")
        for key, label in BACKGROUNDS:
            self.background.addItem(label, key)
        self.background.setToolTip("Transparent: an RGBA PNG; a colour: the car composited on it (RGB PNG)")
        self.other: tuple[int, int, int] = (0, 177, 64)
        self.background.activated.connect(self._chosen)
        self.feather.valueChanged.connect(self.changed)
        self.background.currentIndexChanged.connect(self.changed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.feather)
        row.addWidget(self.background, 1)

    def _chosen(self, _index: int) -> None:
        if self.background.currentData() == "other":
            colour = QColorDialog.getColor(QColor(*self.other), self, "Cut-out background")
            if colour.isValid():
                self.other = (colour.red(), colour.green(), colour.blue())
                hex_code = "".join(f"{c:02x}" for c in self.other)
                self.background.setItemText(self.background.currentIndex(), f"Other: #{hex_code}")
                self.changed.emit()

    def colour(self) -> tuple[int, int, int] | None:
        key = self.background.currentData()
        return None if key == "none" else self.other if key == "other" else COLOURS[key]

    def words(self) -> str:
        """The cut-outs' pixels for the export plan: "RGBA, a 3 px soft edge", "on white (RGB)"."""
        colour = self.colour()
        name = self.background.currentData()
        if colour is None:
            pixels = "RGBA (transparent background)"
        elif name == "other":
            pixels = "on #" + "".join(f"{c:02x}" for c in colour) + " (RGB)"
        else:
            pixels = f"on {name} (RGB)"
        edge = self.feather.value()
        return f"{pixels}, {f'a {edge} px soft edge' if edge else 'a hard edge'}"


def predictions_box() -> QCheckBox:
    box = QCheckBox("Predictions only (ignore my corrections)")
    box.setObjectName("predictionsOnly")
    box.setToolTip(
        "Unchecked: an image you corrected or approved gets your mask, the others the run's prediction. "
        "Checked: the run's prediction for every image, as if nobody had looked at them."
    )
    return box


class ExistingCheck(QObject):
    """Runs :func:`existing_outputs` in a short-lived thread; ``done`` comes back on the GUI thread."""

    done = Signal(int, object)  # request number, list[Path] (or an OSError's words)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gen = 0
        self.thread: threading.Thread | None = None

    def start(self, cache: Cache | None, out: Path, which: str, fmt: str) -> int:
        self.gen += 1
        gen = self.gen

        def run() -> None:
            try:
                found: object = existing_outputs(cache, out, which, fmt)
            except OSError as exc:
                found = f"cannot read {out}: {exc.strerror or exc}"
            self.done.emit(gen, found)

        self.thread = threading.Thread(target=run, name="export-check", daemon=True)
        self.thread.start()
        return gen


def words(which: str) -> str:
    return SET_WORDS.get(which, f"{which} images")


def exported_text(summary: ExportSummary, predictions_only: bool = False) -> str:
    """What the export wrote, truthfully: how many masks, how many a person's, the manifest."""
    n, which = summary.images or len(summary.written), summary.set
    of = "all the images" if which == "all" else f"the {words(which)}"
    mask = "mask" if n == 1 else "masks"
    mine, predicted = summary.by_person, n - summary.by_person
    if predictions_only:
        whose = "all predictions (your corrections ignored)"
    else:
        whose = f"{mine} by you, {predicted} prediction{'' if predicted == 1 else 's'}"
    if summary.rle:
        where = f"to {summary.rle}"
    elif summary.written and summary.written[-1].name == COCO_NAME:
        where = f"in {summary.written[-1]}"
    else:
        where = f"to {summary.out}"
    manifest = (summary.rle.parent if summary.rle else summary.out) / MANIFEST_CSV
    return f"Wrote {n} {mask} of {of} {where} (run {summary.run}): {whose}; {manifest.name} beside them."
