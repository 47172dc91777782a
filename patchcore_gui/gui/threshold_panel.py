"""Threshold calibration by eye: a slider, a number box and a draggable line on a score histogram.

The three controls are one threshold: moving any of them moves the other two and emits
``threshold_changed`` once. The histogram shows the scores of the good parts held out when the
model was built (what "good" looks like to this model) next to the scores of the inspected
images, so a person can put the line in the gap between them.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from ..core.model import PatchCoreModel
from .results_model import VERDICT_COLOURS

SLIDER_STEPS = 1000
GOOD_COLOUR = QColor(40, 110, 200)
INSPECTED_COLOUR = QColor(245, 140, 20)


def score_axis_range(good: np.ndarray, inspected: np.ndarray, thresholds: Tuple[float, ...]) -> Tuple[float, float]:
    """A range that holds every score and threshold, with a margin to drag the line past them.

    Scores are distances (never negative), and good parts crowd together well above zero, so the
    range starts just below the lowest value rather than at zero: the crowd gets the room.
    """
    values = np.concatenate([good.astype(np.float64).ravel(), inspected.astype(np.float64).ravel(),
                             np.asarray(thresholds, dtype=np.float64)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 0.05 * abs(high), 1e-6)
    return max(0.0, low - 0.2 * span) if low >= 0 else low - 0.2 * span, high + 0.25 * span


def histogram(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(np.clip(scores, edges[0], edges[-1]), bins=edges)
    return counts.astype(np.float64)


def _bars(colour: QColor, alpha: int, name: str) -> pg.BarGraphItem:
    fill = QColor(colour)
    fill.setAlpha(alpha)
    return pg.BarGraphItem(x0=[], x1=[], height=[], brush=fill, pen=pg.mkPen(colour.darker(120), width=1), name=name)


def _set_bars(bars: pg.BarGraphItem, edges: np.ndarray, counts: np.ndarray) -> None:
    shown = counts > 0  # an empty bin drawn at height 0 would leave a coloured line on the axis
    bars.setOpts(x0=edges[:-1][shown], x1=edges[1:][shown], height=counts[shown])


class ThresholdPanel(QWidget):
    threshold_changed = Signal(float)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._threshold = 1.0
        self._default: Optional[float] = None
        self._good = np.zeros(0)
        self._inspected = np.zeros(0)
        self._range = (0.0, 1.0)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("Threshold: a score above it is NG")
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(3)
        self.spin.setRange(0.0, 1e6)
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip("Threshold: type a value, or use the arrow keys")
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance("0000.000") + 40)
        self.reset_button = QPushButton("Default")
        self.reset_button.setToolTip("Back to the threshold learned when the model was built")

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        # files dropped on the histogram are for the window (a graphics view would swallow them)
        self.plot.setAcceptDrops(False)
        self.plot.viewport().setAcceptDrops(False)
        self.plot.setMinimumHeight(180)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        item = self.plot.getPlotItem()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen("k")
            axis.setTextPen("k")
        item.setLabel("bottom", "anomaly score")
        item.setLabel("left", "images")
        self.legend = item.addLegend(offset=(-8, 8), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 220),
                                     pen=pg.mkPen(200, 200, 200))
        self.good_bars = _bars(GOOD_COLOUR, 120, "good parts, held out")
        self.inspected_bars = _bars(INSPECTED_COLOUR, 170, "inspected")
        item.addItem(self.good_bars)
        item.addItem(self.inspected_bars)
        threshold_pen = pg.mkPen(VERDICT_COLOURS["NG"], width=3)
        self.line = pg.InfiniteLine(angle=90, movable=True, pen=threshold_pen,
                                    hoverPen=pg.mkPen(VERDICT_COLOURS["NG"], width=5),
                                    label="threshold {value:.3f}",
                                    labelOpts={"position": 0.62, "color": VERDICT_COLOURS["NG"], "anchors":
                                               [(0, 0.5), (0, 0.5)], "fill": pg.mkBrush(255, 255, 255, 200)})
        self.line.setZValue(10)
        item.addItem(self.line)
        self.default_line = pg.InfiniteLine(angle=90, movable=False,
                                            pen=pg.mkPen(120, 120, 120, width=1, style=Qt.PenStyle.DashLine))
        item.addItem(self.default_line)
        # the legend is for the line too; an empty curve with the line's pen stands in for it
        self.legend.addItem(pg.PlotDataItem(pen=threshold_pen), "threshold (drag me)")

        self.hint = QLabel("A part scoring above the threshold is NG. Drag the red line, move the slider or type "
                           "a value; the dashed line is the default learned from the good parts.")
        self.hint.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(QLabel("Threshold"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hint)

        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self.set_threshold)
        self.line.sigPositionChanged.connect(self._line_moved)
        self.reset_button.clicked.connect(self.reset_to_default)
        self.set_model(None)

    # --- what the window calls -----------------------------------------------------------------------
    def threshold(self) -> float:
        return self._threshold

    def set_model(self, model: Optional[PatchCoreModel]) -> None:
        """Show a model's held-out good scores and threshold (without emitting ``threshold_changed``)."""
        enabled = model is not None
        for widget in (self.slider, self.spin, self.reset_button):
            widget.setEnabled(enabled)
        self.line.setMovable(enabled)
        self.line.setVisible(enabled)
        self.default_line.setVisible(enabled)
        if model is None:
            self._good, self._default = np.zeros(0), None
            self._inspected = np.zeros(0)
            self._redraw()
            return
        self._good = np.asarray(model.good_scores, dtype=np.float64)
        self._default = float(model.default_threshold)
        self._threshold = float(model.threshold)
        self.default_line.setValue(self._default)
        self._redraw()
        self._show_threshold()

    def set_inspected_scores(self, scores: np.ndarray) -> None:
        self._inspected = np.asarray(scores, dtype=np.float64)
        self._redraw()
        self._show_threshold()

    def set_threshold(self, value: float) -> None:
        """Move all three controls to ``value``; emits ``threshold_changed`` if it changed."""
        value = float(value)
        if not np.isfinite(value) or value == self._threshold:
            return
        self._threshold = value
        if not self._range[0] <= value <= self._range[1]:
            self._redraw()
        self._show_threshold()
        self.threshold_changed.emit(value)

    def reset_to_default(self) -> None:
        if self._default is not None:
            self.set_threshold(self._default)

    # --- internals -----------------------------------------------------------------------------------
    def _slider_moved(self, position: int) -> None:
        low, high = self._range
        self.set_threshold(low + (high - low) * position / SLIDER_STEPS)

    def _line_moved(self) -> None:
        self.set_threshold(float(self.line.value()))

    def _show_threshold(self) -> None:
        """Put the three controls on the current threshold without any of them echoing back."""
        low, high = self._range
        for widget in (self.slider, self.spin, self.line):
            widget.blockSignals(True)
        try:
            self.slider.setValue(round((self._threshold - low) / max(high - low, 1e-12) * SLIDER_STEPS))
            self.spin.setValue(self._threshold)
            self.line.setValue(self._threshold)
        finally:
            for widget in (self.slider, self.spin, self.line):
                widget.blockSignals(False)
        # the label of the line follows its value through sigPositionChanged, which was blocked
        self.line.label.valueChanged()

    def _redraw(self) -> None:
        thresholds = (self._threshold,) + (() if self._default is None else (self._default,))
        low, high = score_axis_range(self._good, self._inspected, thresholds if self._good.size else ())
        self._range = (low, high)
        self.spin.setSingleStep(float(f"{(high - low) / 200:.1g}") or 0.001)
        edges = np.linspace(low, high, 41)
        good, inspected = histogram(self._good, edges), histogram(self._inspected, edges)
        _set_bars(self.good_bars, edges, good)
        _set_bars(self.inspected_bars, edges, inspected)
        self._rename(self.good_bars, f"good parts, held out ({self._good.size})")
        self._rename(self.inspected_bars, f"inspected ({self._inspected.size})")
        self.plot.setXRange(low, high, padding=0.02)
        peak = max(good.max(initial=0), inspected.max(initial=0), 1)
        self.plot.setYRange(0, peak * 1.5, padding=0)  # headroom for the legend

    def _rename(self, bars: pg.BarGraphItem, name: str) -> None:
        for sample, label in self.legend.items:
            if sample.item is bars:
                label.setText(name)
