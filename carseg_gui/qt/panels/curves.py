"""Live training curves (pyqtgraph): loss and validation loss; accuracy and Dice; the best epoch."""

from __future__ import annotations

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


def _plot(
    title: str, series: list[tuple[str, str, str, bool]], legend_at: tuple[int, int]
) -> tuple[pg.PlotWidget, dict, pg.InfiniteLine]:
    widget = pg.PlotWidget()
    widget.setTitle(title, size="10pt")
    widget.setLabel("bottom", "epoch")
    widget.showGrid(x=True, y=True, alpha=0.25)
    widget.setMenuEnabled(False)
    widget.setMinimumHeight(180)
    legend = widget.addLegend(offset=legend_at, labelTextSize="8pt")
    legend.setBrush(pg.mkBrush(255, 255, 255, 200))
    curves = {}
    for key, label, colour, dashed in series:
        pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        curves[key] = widget.plot([], [], pen=pen, name=label, symbol="o", symbolSize=5, symbolBrush=colour)
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
        self.loss_plot, loss_curves, self.loss_best = _plot("Loss (log scale)", LOSS, (-10, 10))  # falls: legend top
        # Log scale: the first epoch's loss is often 10-50x the final one and would flatten the rest.
        self.loss_plot.setLogMode(y=True)
        self.score_plot, score_curves, self.score_best = _plot("Accuracy and Dice", SCORES, (-10, -30))  # they rise
        self.score_plot.setYRange(0, 1.02, padding=0)
        self.curves = {**loss_curves, **score_curves}
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
        for line in (self.loss_best, self.score_best):
            line.setVisible(bool(best_epoch))
            if best_epoch:
                line.setValue(best_epoch)
        xmax = max(len(self.history), 1) + 0.5
        for plot in (self.loss_plot, self.score_plot):
            plot.setXRange(0.5, xmax, padding=0)
        self.loss_plot.enableAutoRange(axis="y")

    def add_epoch(self, values: dict[str, float], best_epoch: int | None) -> None:
        self.set_history([*self.history, values], best_epoch)

    def clear(self) -> None:
        self.set_history([], None)
