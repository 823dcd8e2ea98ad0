"""Live training curves (pyqtgraph): loss and validation loss; accuracy and Dice; the best epoch.

The axes are set from the data, never left to autorange: whole epochs from 1 (at least 1-5, so one
epoch is a point at 1, not a range 0.6-1.4), a loss range of whole decades around the values (an empty
chart shows 0.01-1, not 2-9), and the legends sit under the plots, where they cover no point.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

pg.setConfigOptions(antialias=True, background="w", foreground="#333")

# (history key, label, colour, dashed): training solid, validation dashed, one colour per measure.
LOSS = [("loss", "loss", "#1f77b4", False), ("val_loss", "val. loss", "#1f77b4", True)]
SCORES = [
    ("accuracy", "accuracy", "#2ca02c", False),
    ("val_accuracy", "val. accuracy", "#2ca02c", True),
    ("dice", "Dice", "#d62728", False),
    ("val_dice", "val. Dice", "#d62728", True),
]


def epoch_axis(epochs: int) -> tuple[float, float, int]:
    """(first, last, tick step) of the epoch axis: whole epochs from 1, at least 5 of them."""
    last = max(epochs, 5)
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if last / s <= 10)
    return 0.5, last + 0.5, step


def loss_decades(values: list[float]) -> tuple[float, float]:
    """The log10 range of the loss axis: whole decades around the positive values (0.01-1 when none)."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return -2.0, 0.0
    lo, hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    return float(lo), float(max(hi, lo + 1))


def _plot(title: str, series: list[tuple[str, str, str, bool]]) -> tuple[pg.PlotWidget, dict, pg.InfiniteLine]:
    widget = pg.PlotWidget()
    widget.setTitle(title, size="10pt")
    widget.setLabel("bottom", "epoch")
    widget.showGrid(x=True, y=True, alpha=0.25)
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(x=False, y=False)  # the axes follow the data; a stray drag would hide it
    widget.hideButtons()
    widget.setMinimumHeight(180)
    # Under the plot: inside it, a legend covers the points it sits on (val. Dice at 0).
    # Two rows for each plot (so both plots keep one height), two entries wide at most (fits 1280 px).
    legend = pg.LegendItem(labelTextSize="8pt", colCount=max(1, len(series) // 2), frame=False)
    widget.getPlotItem().layout.addItem(legend, 4, 1)
    curves = {}
    for key, label, colour, dashed in series:
        pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        curves[key] = widget.plot([], [], pen=pen, symbol="o", symbolSize=5, symbolBrush=colour)
        legend.addItem(curves[key], label)
    best = pg.InfiniteLine(
        angle=90,
        movable=False,
        pen=pg.mkPen("#ff7f0e", width=1.5, style=Qt.PenStyle.DotLine),
        label="best",
        labelOpts={"position": 0.5, "color": "#c25a00", "fill": (255, 255, 255, 220), "anchors": [(0, 0.5), (0, 0.5)]},
    )
    best.setVisible(False)
    widget.addItem(best)
    return widget, curves, best


class CurvesView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot, loss_curves, self.loss_best = _plot("Loss (log scale)", LOSS)
        # Log scale: the first epoch's loss is often 10-50x the final one and would flatten the rest.
        self.loss_plot.setLogMode(y=True)
        self.score_plot, score_curves, self.score_best = _plot("Accuracy and Dice", SCORES)
        self.score_plot.setYRange(0, 1.02, padding=0)
        self.curves = {**loss_curves, **score_curves}
        # Progressive resizing: where the epochs switch from the warm-up size to the training size.
        self.switches = []
        for plot in (self.loss_plot, self.score_plot):
            line = pg.InfiniteLine(
                angle=90,
                movable=False,
                pen=pg.mkPen("#7f7f7f", width=1, style=Qt.PenStyle.DashLine),
                label="",
                labelOpts={"position": 0.9, "color": "#555555", "fill": (255, 255, 255, 220)},
            )
            line.setVisible(False)
            plot.addItem(line)
            self.switches.append(line)
        self.history: list[dict[str, float]] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.score_plot)

    def set_history(self, history: list[dict[str, float]], best_epoch: int | None) -> None:
        self.history = list(history)
        epochs = list(range(1, len(self.history) + 1))
        for key, curve in self.curves.items():
            points = [(e, h[key]) for e, h in zip(epochs, self.history, strict=True) if key in h]
            curve.setData([p[0] for p in points], [p[1] for p in points])
        first, last, step = epoch_axis(len(self.history))
        for line in (self.loss_best, self.score_best):
            line.setVisible(bool(best_epoch))
            if best_epoch:
                line.setValue(best_epoch)
                # "best" to the right of the line, or to its left when the line is in the right half
                # (at the last epoch the label would be cut off by the plot's edge)
                side = 1 if best_epoch > (first + last) / 2 else 0
                line.label.anchors = [(side, 0.5), (side, 0.5)]
                line.label.updatePosition()
        sizes = [h.get("size") for h in self.history]
        switch = next((i for i in range(1, len(sizes)) if sizes[i] != sizes[i - 1]), None)
        for line in self.switches:
            line.setVisible(switch is not None)
            if switch is not None:
                line.setValue(switch + 0.5)  # between the last small epoch and the first full-size one
                line.label.setFormat(f"{sizes[switch - 1]} → {sizes[switch]} px")
        for plot in (self.loss_plot, self.score_plot):
            plot.setXRange(first, last, padding=0)
            plot.getAxis("bottom").setTickSpacing(step, step)
        losses = [float(h[k]) for h in self.history for k in ("loss", "val_loss") if isinstance(h.get(k), (int, float))]
        self.loss_plot.setYRange(*loss_decades(losses), padding=0)

    def add_epoch(self, values: dict[str, float], best_epoch: int | None) -> None:
        self.set_history([*self.history, values], best_epoch)

    def clear(self) -> None:
        self.set_history([], None)
