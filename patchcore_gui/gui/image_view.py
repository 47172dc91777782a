"""The part, its anomaly heatmap and the outline of its NG regions, with zoom and pan.

Three ImageItems share one ViewBox (y down, aspect locked): the part in RGB, the anomaly map as a
float image drawn through the JET lookup table, and an RGBA layer with the region outlines. The
colour bar is the heatmap's legend, in the score's own units; its range puts the threshold exactly
mid-scale, so "warmer than green" reads as "above the threshold" on every part and every model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (QCheckBox, QGraphicsRectItem, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout,
                               QWidget)

from ..core.overlay import COLOUR_MAP

if TYPE_CHECKING:
    from ..core.regions import DefectRegion


def jet_colour_map() -> pg.ColorMap:
    """The engine's OpenCV colour map as a pyqtgraph ColorMap, so exported overlays look the same."""
    lut = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(-1, 1), COLOUR_MAP)[:, 0, ::-1]
    return pg.ColorMap(pos=np.linspace(0.0, 1.0, 256), color=lut, name="jet")


def outline_layer(mask: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool -> ``(H, W, 4)`` uint8: white region outlines on a dark halo, transparent elsewhere."""
    height, width = mask.shape
    layer = np.zeros((height, width, 4), np.uint8)
    if not mask.any():
        return layer
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, round(min(height, width) / 256))
    # the halo keeps a white line visible on the heatmap's pale yellows as well as on dark parts
    cv2.drawContours(layer, contours, -1, (0, 0, 0, 200), thickness + 2, lineType=cv2.LINE_AA)
    cv2.drawContours(layer, contours, -1, (255, 255, 255, 255), thickness, lineType=cv2.LINE_AA)
    return layer


#: Colour of the region of interest's outline (RGB): amber, apart from the white NG outlines and the heatmap.
REGION_COLOUR = (255, 190, 0)


def region_layer(inspected: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool inspected pixels -> ``(H, W, 4)`` uint8: the ignored area dimmed and hatched, the
    region outlined; transparent inside. All transparent when everything is inspected."""
    height, width = inspected.shape
    layer = np.zeros((height, width, 4), np.uint8)
    if inspected.all():
        return layer
    step = max(8, round(min(height, width) / 40))
    yy, xx = np.mgrid[0:height, 0:width]
    hatch = ((xx + yy) % step) < max(1, step // 5)
    outside = ~inspected
    layer[outside] = (0, 0, 0, 130)
    layer[outside & hatch] = (*REGION_COLOUR, 110)
    contours, _ = cv2.findContours(inspected.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(layer, contours, -1, (*REGION_COLOUR, 255), max(1, round(min(height, width) / 300)),
                     lineType=cv2.LINE_AA)
    return layer


class InspectionView(pg.GraphicsLayoutWidget):
    """Shows one part; the window feeds it images, maps and masks (it computes none of them)."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        # the window takes the drops (images, folders, models); a graphics view would swallow them
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        self.view_box: pg.ViewBox = self.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.part_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.outline_item = pg.ImageItem(axisOrder="row-major")
        self.region_item = pg.ImageItem(axisOrder="row-major")  # the region of interest, under the outlines
        for z, item in enumerate((self.part_item, self.heat_item, self.region_item, self.outline_item)):
            item.setZValue(z)
            self.view_box.addItem(item)
        self.heat_item.setOpacity(0.45)
        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=jet_colour_map(), interactive=False,
                                          width=14, label="anomaly, in score units   (white mark = threshold)",
                                          colorMapMenu=False)
        self.colour_bar.setImageItem(self.heat_item)
        self.addItem(self.colour_bar, row=0, col=1)
        # the bar is drawn over 0..256 whatever its values; the threshold sits mid-scale by design
        self.threshold_mark = pg.InfiniteLine(pos=128, angle=0, pen=pg.mkPen("w", width=3))
        self.colour_bar.addItem(self.threshold_mark)
        self.caption = pg.TextItem(anchor=(0, 0), color="w", fill=pg.mkBrush(0, 0, 0, 160))
        self.caption.setZValue(10)
        self.caption.setParentItem(self.view_box)
        self.view_box.sigResized.connect(self._fit_caption)  # a long caption wraps instead of running off
        # the defect region selected in a list: a box around it, the view zoomed to it
        self.region_box = QGraphicsRectItem()
        self.region_box.setPen(pg.mkPen((0, 255, 255), width=2, cosmetic=True))
        self.region_box.setZValue(5)
        self.region_box.setVisible(False)
        self.view_box.addItem(self.region_box)
        self._shape: Optional[Tuple[int, int]] = None
        self.show_nothing("Open or build a model, then drop images here")

    def highlight_region(self, region: Optional["DefectRegion"]) -> None:
        """Draw a box around ``region`` and zoom to it with a margin (the region about 60% of the view);
        None takes the box away and leaves the view where it is."""
        if region is None or self._shape is None:
            self.region_box.setVisible(False)
            return
        self.region_box.setRect(QRectF(region.x, region.y, region.width, region.height))
        self.region_box.setVisible(True)
        side = min(max(region.width, region.height, 16) * 1.6, max(self._shape))  # never out past the part
        centre_x, centre_y = region.x + region.width / 2, region.y + region.height / 2
        self.view_box.setRange(QRectF(centre_x - side / 2, centre_y - side / 2, side, side), padding=0)

    def show_nothing(self, message: str = "") -> None:
        self.region_box.setVisible(False)
        for item in (self.part_item, self.heat_item, self.outline_item, self.region_item):
            item.clear()
        self.colour_bar.setOpacity(0.0)  # not setVisible: hiding it lets the layout squeeze its label
        self._shape = None
        self.set_caption(message)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setVisible(bool(text))
        self._fit_caption()

    def _fit_caption(self) -> None:
        self.caption.setTextWidth(-1)  # its natural width first, then at most the view's
        width = max(self.view_box.width() - 8, 40)
        if self.caption.textItem.boundingRect().width() > width:
            self.caption.setTextWidth(width)

    def show_part(self, image: np.ndarray, anomaly_map: Optional[np.ndarray], colour_range: Tuple[float, float],
                  defect_mask: Optional[np.ndarray]) -> None:
        """``image (H, W, 3) uint8``; ``anomaly_map (H, W)`` and ``defect_mask (H, W) bool`` or None (an error)."""
        self.part_item.setImage(image, autoLevels=False, levels=(0, 255))
        if anomaly_map is None:
            self.heat_item.clear()
        else:
            self.heat_item.setImage(anomaly_map.astype(np.float32), autoLevels=False)
            self.set_colour_range(colour_range)
        self.colour_bar.setOpacity(1.0 if anomaly_map is not None else 0.0)  # no legend without a heatmap
        self.set_defect_mask(defect_mask)
        if self._shape != image.shape[:2]:
            self._shape = image.shape[:2]
            # zooming out stops while the part still fills a third of the view, not a stamp in a corner
            side = 3 * max(image.shape[:2])
            self.view_box.setLimits(maxXRange=side, maxYRange=side)
            self.view_box.autoRange(padding=0.02)

    def set_colour_range(self, colour_range: Tuple[float, float]) -> None:
        low, high = colour_range
        self.colour_bar.setLevels((low, high))

    def set_defect_mask(self, mask: Optional[np.ndarray]) -> None:
        if mask is None:
            self.outline_item.clear()
        else:
            self.outline_item.setImage(outline_layer(mask), autoLevels=False, levels=(0, 255))

    def set_region_of_interest(self, inspected: Optional[np.ndarray]) -> None:
        """``(H, W)`` bool inspected pixels of the shown part, or None (the whole part is inspected)."""
        if inspected is None:
            self.region_item.clear()
        else:
            self.region_item.setImage(region_layer(inspected), autoLevels=False, levels=(0, 255))

    def set_heatmap_visible(self, visible: bool) -> None:
        self.heat_item.setVisible(visible)

    def set_outline_visible(self, visible: bool) -> None:
        self.outline_item.setVisible(visible)

    def set_opacity(self, opacity: float) -> None:
        self.heat_item.setOpacity(float(np.clip(opacity, 0.0, 1.0)))

    def fit_to_view(self) -> None:
        self.view_box.autoRange(padding=0.02)

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        # arrow keys belong to the results list (next / previous part), not to panning
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            event.ignore()
            return
        super().keyPressEvent(event)


class InspectionPanel(QWidget):
    """The view with its controls underneath: heatmap and outlines on/off, heatmap opacity, fit."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.view = InspectionView()
        self.heatmap_box = QCheckBox("Heatmap")
        self.heatmap_box.setChecked(True)
        self.heatmap_box.setToolTip("Show the anomaly heatmap over the part (H)")
        self.heatmap_box.toggled.connect(self.view.set_heatmap_visible)
        self.outline_box = QCheckBox("NG regions")
        self.outline_box.setChecked(True)
        self.outline_box.setToolTip("Outline the regions above the threshold")
        self.outline_box.toggled.connect(self.view.set_outline_visible)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(45)
        digit = self.fontMetrics().horizontalAdvance("0")
        self.opacity_slider.setMinimumWidth(digit * 10)  # a slider squeezed to nothing cannot be moved
        self.opacity_slider.setMaximumWidth(digit * 22)
        self.opacity_slider.setToolTip("Heatmap opacity")
        # a method, not a lambda: a lambda connected here that holds the panel crashes PySide on deletion
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        fit_button = QToolButton()
        fit_button.setText("Fit")
        fit_button.setToolTip("Show the whole part (Ctrl+0); zoom with the wheel, pan by dragging")
        fit_button.clicked.connect(self.view.fit_to_view)
        controls = QHBoxLayout()
        for widget in (self.heatmap_box, self.outline_box, QLabel("Opacity"), self.opacity_slider):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)

    def opacity(self) -> float:
        return self.opacity_slider.value() / 100

    def _opacity_changed(self, value: int) -> None:
        self.view.set_opacity(value / 100)
