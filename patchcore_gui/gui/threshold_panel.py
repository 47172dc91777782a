"""Threshold calibration by eye or by rate: a slider, a number box and a draggable line on a score
histogram, "reject at most 1 good part in N", and an optional review band.

The three controls are one threshold, the document's: moving any of them moves the document's,
and all three follow it. The histogram shows the scores of the good parts held out when the model
was built (what "good" looks like to this model) beside the scores of the inspected images, each
bin split in two halves so neither hides the other, and a person can put the line in the gap.
"Reject at most 1 in N" sets the threshold from those held-out scores
(:func:`~patchcore_gui.core.calibration.threshold_for_reject_rate`) and says how many parts the
estimate rests on. The review band's start is a second, violet line (OK / REVIEW / NG).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from ..core.calibration import RejectRateThreshold, threshold_for_reject_rate
from ..core.model import PatchCoreModel
from .model_document import ModelDocument
from .number_boxes import CountBox, DecimalBox
from .results_model import VERDICT_COLOURS

SLIDER_STEPS = 1000
#: the histogram's height before the page shares out what it has to spare
PREFERRED_PLOT_HEIGHT = 200
#: "Reject at most 1 in N" starts at N = 1000 (a line's usual wish) and goes up to a million.
DEFAULT_ONE_IN, MOST_ONE_IN = 1000, 1_000_000
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


def _set_bars(bars: pg.BarGraphItem, edges: np.ndarray, counts: np.ndarray, half: int) -> None:
    """Bars in the left (``half`` 0) or right (1) half of each bin."""
    shown = counts > 0  # an empty bin drawn at height 0 would leave a coloured line on the axis
    middle = (edges[:-1] + edges[1:]) / 2
    left, right = (edges[:-1], middle) if half == 0 else (middle, edges[1:])
    bars.setOpts(x0=left[shown], x1=right[shown], height=counts[shown])


def _swatch(colour: QColor, text: str) -> str:
    return f"<span style='color:{colour.name()}'>&#9632;</span>&nbsp;{text}"


class CountAxis(pg.AxisItem):
    """A count axis: ticks on whole numbers only (no tick at 0.5 images), one level of them."""

    def tickValues(self, minVal: float, maxVal: float, size: float):  # type: ignore[no-untyped-def] # noqa: N802,N803
        levels = [(spacing, values) for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        return levels[:1] or [(1.0, list(np.arange(np.ceil(minVal), np.floor(maxVal) + 1)))]


class HistogramPlot(pg.PlotWidget):
    """The score histogram, asking for less height than a plot's default 480 px: the page it sits on scrolls
    to its preferred height, and at 1366 x 768 that left the score axis and the threshold's number under the
    fold. It still takes whatever height the page has to spare."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(super().sizeHint().width(), PREFERRED_PLOT_HEIGHT)


class ThresholdPanel(QWidget):
    """Shows and moves the threshold of ``document``; keeps no threshold of its own."""

    def __init__(self, document: ModelDocument, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document = document
        self._good = np.zeros(0)
        self._inspected = np.zeros(0)
        self._range = (0.0, 1.0)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("Threshold: a score above it is NG")
        self.spin = DecimalBox()
        self.spin.setDecimals(3)
        self.spin.setRange(0.0, 1e6)
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip("Threshold: type a value, or use the arrow keys")
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance("000.000") + 36)
        self.slider.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance("0") * 8)
        self.reset_button = QPushButton("Default")
        self.reset_button.setToolTip("Back to the threshold learned when the model was built")

        self.plot = HistogramPlot(background="w", axisItems={"left": CountAxis("left")})
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        # files dropped on the histogram are for the window (a graphics view would swallow them)
        self.plot.setAcceptDrops(False)
        self.plot.viewport().setAcceptDrops(False)
        self.plot.setMinimumHeight(120)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        item = self.plot.getPlotItem()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen("k")
            axis.setTextPen("k")
        item.setLabel("bottom", "anomaly score")
        item.setLabel("left", "images")
        self.good_bars = _bars(GOOD_COLOUR, 170, "good parts, held out")
        self.inspected_bars = _bars(INSPECTED_COLOUR, 170, "inspected")
        item.addItem(self.good_bars)
        item.addItem(self.inspected_bars)
        threshold_pen = pg.mkPen(VERDICT_COLOURS["NG"], width=3)
        self.line = pg.InfiniteLine(angle=90, movable=True, pen=threshold_pen,
                                    hoverPen=pg.mkPen(VERDICT_COLOURS["NG"], width=5),
                                    label="threshold {value:.3f}",
                                    # pyqtgraph's own anchors put the label on the side with room
                                    labelOpts={"position": 0.85, "color": VERDICT_COLOURS["NG"],
                                               "fill": pg.mkBrush(255, 255, 255, 200)})
        self.line.setZValue(10)
        item.addItem(self.line)
        self.default_line = pg.InfiniteLine(angle=90, movable=False,
                                            pen=pg.mkPen(120, 120, 120, width=1, style=Qt.PenStyle.DashLine))
        item.addItem(self.default_line)
        review = VERDICT_COLOURS["REVIEW"]
        self.review_line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(review, width=3),
                                           hoverPen=pg.mkPen(review, width=5), label="review {value:.3f}",
                                           labelOpts={"position": 0.65, "color": review,
                                                      "fill": pg.mkBrush(255, 255, 255, 200)})
        self.review_line.setZValue(9)
        self.review_line.setVisible(False)
        item.addItem(self.review_line)
        # the legend sits under the plot, where it cannot cover a bar at any size
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip("A part scoring above the threshold is NG. Drag the red line, move the slider or "
                               "type a value; the dashed line is the default learned from the good parts.")

        # "at most 1 good part in N rejected"
        self.one_in = CountBox()
        self.one_in.setRange(2, MOST_ONE_IN)
        self.one_in.setValue(DEFAULT_ONE_IN)
        self.one_in.setKeyboardTracking(False)
        self.one_in.setToolTip("Set the threshold so that at most 1 good part in this many is rejected, "
                               "estimated from the good parts held out when the model was built")
        self.rate_button = QPushButton("Set")
        self.rate_button.setToolTip(self.one_in.toolTip())
        self.trust = QLabel()  # what the last rate-set threshold rests on
        self.trust.setWordWrap(True)
        self.last_rate: Optional[RejectRateThreshold] = None
        rate_row = QHBoxLayout()
        rate_label = QLabel("Reject at most 1 good part in")
        # it wraps rather than set the side panel's least width (the page scrolled sideways at 125 % scaling)
        rate_label.setWordWrap(True)
        rate_row.addWidget(rate_label, 1)
        rate_row.addWidget(self.one_in)
        rate_row.addWidget(self.rate_button)
        rate_row.addStretch(1)
        # the review band: OK / REVIEW / NG
        self.review_box = QCheckBox("Review band from")
        self.review_box.setToolTip("Parts scoring above this and at or below the threshold are REVIEW: a person "
                                   "looks at them. Drag the violet line or type a value.")
        self.review_spin = DecimalBox()
        self.review_spin.setDecimals(3)
        self.review_spin.setRange(0.0, 1e6)
        self.review_spin.setKeyboardTracking(False)
        self.review_spin.setMinimumWidth(self.spin.minimumWidth())
        review_row = QHBoxLayout()
        review_row.addWidget(self.review_box)
        review_row.addWidget(self.review_spin)
        review_row.addStretch(1)

        row = QHBoxLayout()  # the group around it says "Threshold": no label of its own, room for the slider
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addLayout(rate_row)
        layout.addWidget(self.trust)
        layout.addLayout(review_row)

        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self.set_threshold)
        # Enter ends the typing: the window's keys (Ctrl+E, H) work again, not the box's
        self.spin.editingFinished.connect(self.spin.clearFocus)
        self.line.sigPositionChanged.connect(self._line_moved)
        self.reset_button.clicked.connect(document.reset_threshold)
        self.rate_button.clicked.connect(self._rate_clicked)
        self.one_in.editingFinished.connect(self.one_in.clearFocus)
        self.review_box.toggled.connect(self._review_toggled)
        self.review_spin.valueChanged.connect(self.set_review_from)
        self.review_spin.editingFinished.connect(self.review_spin.clearFocus)
        self.review_line.sigPositionChanged.connect(self._review_line_moved)
        document.model_changed.connect(self._show_model)
        document.threshold_changed.connect(self._threshold_moved)
        self._show_model(document.model)

    # --- what the window calls -----------------------------------------------------------------------
    def _show_model(self, model: Optional[PatchCoreModel]) -> None:
        """A model's held-out good scores and threshold; a new model starts with no inspected scores."""
        enabled = model is not None
        self.last_rate = None
        self.trust.setText("")
        for widget in (self.slider, self.spin, self.reset_button, self.review_box):
            widget.setEnabled(enabled)
        self.one_in.setEnabled(model is not None and len(model.good_scores) >= 2)
        self.rate_button.setEnabled(self.one_in.isEnabled())
        self.line.setMovable(enabled)
        self.line.setVisible(enabled)
        self.default_line.setVisible(enabled)
        if model is None:
            self._good, self._default = np.zeros(0), None
            self._inspected = np.zeros(0)
            self._redraw()
            self.review_spin.setEnabled(False)
            self.review_line.setVisible(False)
            return
        self._good = np.asarray(model.good_scores, dtype=np.float64)
        self._default = float(model.default_threshold)
        self._inspected = np.zeros(0)
        self.default_line.setValue(self._default)
        self._redraw()
        self._show_threshold()
        self._show_trust()

    def set_inspected_scores(self, scores: np.ndarray) -> None:
        self._inspected = np.asarray(scores, dtype=np.float64)
        self._redraw()
        self._show_threshold()

    def set_threshold(self, value: float) -> None:
        """What any of the three controls does: moves the document's threshold (the others follow)."""
        if np.isfinite(value):
            self.document.set_threshold(float(value))

    def set_reject_rate(self, one_in: Optional[int] = None) -> RejectRateThreshold:
        """Set the threshold for "at most 1 good part in ``one_in``" (the box's value if None) rejected,
        and say what that estimate rests on."""
        model = self.document.model
        if model is None:
            raise ValueError("no model")
        if one_in is not None:
            self.one_in.setValue(int(one_in))
        chosen = threshold_for_reject_rate(model.good_scores, 1.0 / self.one_in.value())
        self.set_threshold(chosen.threshold)
        self.last_rate = chosen
        self._show_trust()
        return chosen

    def set_review_from(self, value: Optional[float]) -> None:
        """Start the document's review band at ``value`` (None: no band)."""
        if value is None or np.isfinite(value):
            self.document.set_review_from(None if value is None else float(value))

    def _threshold_moved(self, value: float) -> None:
        review = self.document.review_from
        band_shown = "review band from" in self.legend.text()
        if (not self._range[0] <= value <= self._range[1] or (review is not None and review < self._range[0])
                or band_shown != (review is not None)):
            self._redraw()
        if self.last_rate is not None and self.document.threshold != self.last_rate.threshold:
            self.last_rate = None  # moved by hand since: the rate's note no longer describes it
        self._show_trust()
        self._show_threshold()

    # --- internals -----------------------------------------------------------------------------------
    def _rate_clicked(self) -> None:
        self.set_reject_rate()  # (clicked's "checked" argument is no rate)

    def _review_toggled(self, on: bool) -> None:
        if not on:
            self.set_review_from(None)
        elif self.document.review_from is None:
            # a band just below the threshold, as wide as the gap between the typical and the worst good part
            good = self._good
            width = float(np.max(good) - np.median(good)) if good.size >= 2 else 0.05 * self.document.threshold
            self.set_review_from(self.document.threshold - max(width, 1e-6))

    def _review_line_moved(self) -> None:
        if self.document.review_from is not None:
            self.set_review_from(min(float(self.review_line.value()), self.document.threshold))

    def _show_trust(self) -> None:
        chosen = self.last_rate
        if chosen is None:
            n = self._good.size
            self.trust.setText(f"Estimates rest on the {n} good parts held out when the model was built." if n else "")
            return
        self.trust.setText(f"<b>1 in {chosen.one_in:,.0f}</b>: {chosen.trust()}")

    def _slider_moved(self, position: int) -> None:
        low, high = self._range
        self.set_threshold(low + (high - low) * position / SLIDER_STEPS)

    def _line_moved(self) -> None:
        self.set_threshold(float(self.line.value()))

    def _show_threshold(self) -> None:
        """Put the three controls on the current threshold without any of them echoing back."""
        low, high = self._range
        threshold, review = self.document.threshold, self.document.review_from
        controls = (self.slider, self.spin, self.line, self.review_box, self.review_spin, self.review_line)
        for widget in controls:
            widget.blockSignals(True)
        try:
            self.slider.setValue(round((threshold - low) / max(high - low, 1e-12) * SLIDER_STEPS))
            self.spin.setValue(threshold)
            self.line.setValue(threshold)
            self.review_box.setChecked(review is not None)
            self.review_spin.setEnabled(review is not None)
            self.review_line.setVisible(review is not None)
            self.review_line.setMovable(review is not None and self.document.model is not None)
            if review is not None:
                self.review_spin.setValue(review)
                self.review_line.setValue(review)
        finally:
            for widget in controls:
                widget.blockSignals(False)
        # the label of a line follows its value through sigPositionChanged, which was blocked
        self.line.label.valueChanged()
        self.review_line.label.valueChanged()

    def _redraw(self) -> None:
        review = self.document.review_from
        thresholds = ((self.document.threshold,) + (() if self._default is None else (self._default,))
                      + (() if review is None else (review,)))
        low, high = score_axis_range(self._good, self._inspected, thresholds if self._good.size else ())
        self._range = (low, high)
        self.spin.setSingleStep(float(f"{(high - low) / 200:.1g}") or 0.001)
        self.review_spin.setSingleStep(self.spin.singleStep())
        edges = np.linspace(low, high, 41)
        good, inspected = histogram(self._good, edges), histogram(self._inspected, edges)
        _set_bars(self.good_bars, edges, good, 0)
        _set_bars(self.inspected_bars, edges, inspected, 1)
        entries = [_swatch(GOOD_COLOUR, f"good parts, held out ({self._good.size})"),
                   _swatch(INSPECTED_COLOUR, f"inspected ({self._inspected.size})"),
                   _swatch(VERDICT_COLOURS["NG"], "threshold (drag it)")]
        if review is not None:
            entries.append(_swatch(VERDICT_COLOURS["REVIEW"], "review band from"))
        self.legend.setText("&nbsp;&nbsp; ".join(entries))
        self.plot.setXRange(low, high, padding=0.02)
        peak = max(good.max(initial=0), inspected.max(initial=0), 1)
        # room above the highest bar for the line's label, and the top tick not on the edge
        self.plot.setYRange(0, np.ceil(peak * 1.25) + 0.5, padding=0)

