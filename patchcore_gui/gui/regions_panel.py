"""The shown part's defect regions as a list, and the model's minimum defect area as a control.

:class:`RegionsPanel` lists the regions :class:`~.shown_part.ShownPart` found (largest first, numbered as
the overlays number them); selecting one asks the view to outline and zoom to it (``region_selected``).
:class:`DefectSizeControl` edits the open model's minimum defect area (pixels, or mm² once a pixel
size is given); the change is the document's, saved with the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..core.regions import DefectRegion, DefectRegions, area_text, min_area_px
from .model_document import ModelDocument
from .number_boxes import DecimalBox
from .region_refresh import RegionRefresher

if TYPE_CHECKING:  # the window imports this module
    from .main_window import MainWindow

#: Rows the list shows before it scrolls: the side panel keeps its room for the threshold.
VISIBLE_ROWS = 5


class RegionsPanel(QGroupBox):
    """Emits ``region_selected`` with the selected :class:`DefectRegion`, or None when none is."""

    region_selected = Signal(object)
    COLUMNS = ("#", "Area", "Where (x, y, w × h px)", "Peak")

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Defect regions", parent)
        self._regions: Sequence[DefectRegion] = ()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setToolTip("Select a region to outline it and zoom to it in the view")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.show_regions(None)

    @property
    def regions(self) -> Sequence[DefectRegion]:
        return self._regions

    def show_regions(self, regions: Optional[Sequence[DefectRegion]], min_defect_area: float = 0.0,
                     pixel_size_mm: Optional[float] = None) -> None:
        """The shown part's regions (None: no part, or no map to measure them on)."""
        self._regions = tuple(regions or ())
        self.table.blockSignals(True)
        try:
            self.table.clearSelection()
            self.table.setRowCount(len(self._regions))
            for row, region in enumerate(self._regions):
                small = min_defect_area > 0 and region.area < min_defect_area
                cells = (str(row + 1), area_text(region.area, pixel_size_mm),
                         f"{region.x}, {region.y}, {region.width} × {region.height}", f"{region.peak:.3f}")
                for column, text in enumerate(cells):
                    cell = QTableWidgetItem(text)
                    if column in (0, 1, 3):
                        cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if small:  # under the minimum area: listed, but it does not make the part NG
                        cell.setForeground(Qt.GlobalColor.gray)
                        cell.setToolTip(f"smaller than the minimum defect area ({area_text(min_defect_area)})")
                    self.table.setItem(row, column, cell)
        finally:
            self.table.blockSignals(False)
        self.summary.setText(self._summary(regions, min_defect_area, pixel_size_mm))
        self._fit_rows(len(self._regions))
        self.region_selected.emit(None)

    def _fit_rows(self, rows: int) -> None:
        """As tall as its rows, from one to VISIBLE_ROWS: empty rows under one region took the height of a
        histogram squeezed to 150 px on a 768 px screen."""
        row_height = self.table.verticalHeader().defaultSectionSize()
        height = self.table.horizontalHeader().sizeHint().height() + min(max(rows, 1), VISIBLE_ROWS) * row_height + 4
        self.table.setFixedHeight(height)

    @staticmethod
    def _summary(regions: Optional[Sequence[DefectRegion]], min_defect_area: float,
                 pixel_size_mm: Optional[float]) -> str:
        if regions is None:
            return "No part with a heatmap shown"
        minimum = f"; minimum {area_text(min_defect_area, pixel_size_mm)}" if min_defect_area > 0 else ""
        if not regions:
            return "No region above the threshold" + minimum
        counted = sum(region.area >= min_defect_area for region in regions) if min_defect_area > 0 else len(regions)
        plural = "region" if len(regions) == 1 else "regions"
        under = f" ({len(regions) - counted} under the minimum)" if counted < len(regions) else ""
        return f"{len(regions)} {plural} above the threshold{under}{minimum}"

    def select(self, index: Optional[int]) -> None:
        """Select region ``index`` (0 = the largest), or none."""
        if index is None or not 0 <= index < len(self._regions):
            self.table.clearSelection()
        else:
            self.table.selectRow(index)

    @Slot()
    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.region_selected.emit(self._regions[rows[0].row()] if rows else None)


class DefectSizeControl(QWidget):
    """The open model's minimum defect area: a part whose every region is smaller is OK."""

    UNITS = ("px", "mm²")

    def __init__(self, document: ModelDocument, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.area = DecimalBox()
        self.area.setDecimals(3)
        self.area.setRange(0.0, 1e9)
        self.area.setKeyboardTracking(False)
        self.area.setSpecialValueText("off")
        self.area.setToolTip("A part whose every defect region is smaller than this is OK (0: every region counts)")
        self.unit = QComboBox()
        self.unit.addItems(list(self.UNITS))
        self.unit.setToolTip("Pixels of the part's image, or mm² once the pixel size is given")
        self.pixel_size = DecimalBox()
        self.pixel_size.setDecimals(4)
        self.pixel_size.setRange(0.0, 1000.0)
        self.pixel_size.setSingleStep(0.01)
        self.pixel_size.setKeyboardTracking(False)
        self.pixel_size.setSpecialValueText("unknown")
        self.pixel_size.setSuffix(" mm/px")
        self.pixel_size.setToolTip("Millimetres per image pixel, so areas read in mm²")
        # two rows: in one, 474 px wide, they set the side panel's least width and made the threshold
        # page scroll sideways on a 1366 px screen
        area = QHBoxLayout()
        area.addWidget(self.area, 1)
        area.addWidget(self.unit)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Minimum defect area", area)
        form.addRow("Pixel size", self.pixel_size)
        self.area.valueChanged.connect(self._area_edited)
        self.pixel_size.valueChanged.connect(self._pixel_size_edited)
        self.unit.currentIndexChanged.connect(self._show)
        self.area.editingFinished.connect(self.area.clearFocus)  # Enter ends the typing, as the threshold's box
        document.model_changed.connect(self._show)
        document.defect_size_changed.connect(self._show)
        self._show()

    def in_mm2(self) -> bool:
        return self.unit.currentText() == "mm²"

    @Slot()
    def _show(self, *_args: object) -> None:
        """Put the controls on the document's values without echoing them back."""
        model = self.document.model
        pixel = model.pixel_size_mm if model is not None else None
        if self.in_mm2() and not pixel:
            self.unit.blockSignals(True)
            self.unit.setCurrentIndex(0)
            self.unit.blockSignals(False)
        self.unit.model().item(1).setEnabled(bool(pixel))
        for widget in (self.area, self.pixel_size, self.unit):
            widget.setEnabled(model is not None)
            widget.blockSignals(True)
        try:
            minimum = model.min_defect_area if model is not None else 0.0
            self.area.setValue(minimum * pixel ** 2 if self.in_mm2() and pixel else minimum)
            self.pixel_size.setValue(pixel or 0.0)
        finally:
            for widget in (self.area, self.pixel_size, self.unit):
                widget.blockSignals(False)

    @Slot()
    def _area_edited(self, *_args: object) -> None:
        model = self.document.model
        if model is None:
            return
        pixel, value = model.pixel_size_mm, self.area.value()
        self.document.set_defect_size(min_area_px(value, pixel) if self.in_mm2() and pixel else value, pixel)
        self._show()

    @Slot()
    def _pixel_size_edited(self, *_args: object) -> None:
        """A new pixel size keeps the minimum area in pixels (what the rule counts); its mm² reading moves."""
        model = self.document.model
        if model is None:
            return
        self.document.set_defect_size(model.min_defect_area, self.pixel_size.value() or None)
        self._show()


def install_regions(window: "MainWindow") -> RegionRefresher:
    """Join the regions to the window: the shown part's regions into the list, a selected region into the
    view, the list's rows measured again as the threshold moves, the counts redrawn when the minimum
    area changes. Returns the refresher (the window shuts it down)."""
    side, view = window.side_panel, window.inspection_panel.view
    document = window.document

    def show_regions(regions: Optional[DefectRegions]) -> None:
        model = document.model
        side.regions_panel.show_regions(None if regions is None else regions.regions,
                                        model.min_defect_area if model else 0.0, model.pixel_size_mm if model else None)

    window.shown.regions_changed.connect(show_regions)
    side.regions_panel.region_selected.connect(view.highlight_region)
    refresher = RegionRefresher(document, window.results, window)
    refresher.idle.connect(window._threshold_moved)  # the counts, once every row is measured
    document.defect_size_changed.connect(window._threshold_moved)
    window.job_done.connect(refresher.schedule)  # rows that came in while the threshold moved
    show_regions(window.shown.regions)
    return refresher
