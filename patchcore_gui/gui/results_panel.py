"""The results list as a widget: the table, the "NG only" filter, the counts, and moving through rows."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QTableView, QVBoxLayout, QWidget)

from .model_document import ModelDocument
from .results_model import ITEM_ROLE, VERDICT_COLOURS, Index, InspectedImage, ResultsFilterProxy, ResultsTableModel


class VerdictDelegate(QStyledItemDelegate):
    """Draws the verdict as a coloured badge that stays coloured when its row is selected."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        verdict = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        style_option = QStyleOptionViewItem(option)
        self.initStyleOption(style_option, index)
        style_option.text = ""
        widget = option.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else None
        if style is not None:  # the row's selection background first, the badge on top
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, style_option, painter, widget)
        colour = VERDICT_COLOURS.get(verdict)
        if colour is None:
            return
        painter.save()
        rect = option.rect.adjusted(4, 8, -4, -8)  # type: ignore[attr-defined]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(rect, 5, 5)
        font = option.font  # type: ignore[attr-defined]
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), verdict)
        painter.restore()


class ResultsPanel(QGroupBox):
    """Emits ``current_changed`` with the selected :class:`InspectedImage` (or None)."""

    current_changed = Signal(object)

    def __init__(self, document: ModelDocument, parent: Optional[QWidget] = None) -> None:
        super().__init__("Results", parent)
        self._follow_next = False
        self._awaited: Optional[Path] = None
        self.results = ResultsTableModel(document, self)
        self.proxy = ResultsFilterProxy(self)
        self.proxy.setSourceModel(self.results)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        # arrival order until a header is clicked (enabling sorting sorts by the indicator at once)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(44, 44))
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setItemDelegateForColumn(ResultsTableModel.VERDICT, VerdictDelegate(self.table))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(50)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(ResultsTableModel.FILE, QHeaderView.ResizeMode.Stretch)
        digit = self.fontMetrics().horizontalAdvance("0")
        for column, width in ((ResultsTableModel.THUMB, 52), (ResultsTableModel.SCORE, 8 * digit),
                              (ResultsTableModel.VERDICT, 9 * digit)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.proxy.layoutChanged.connect(self._keep_current_in_view)  # sorting moves the shown row
        document.threshold_changed.connect(self._threshold_moved)
        # room for "folder/part_017.png" beside the fixed columns: a name cut to "blow….png" tells nothing
        fixed = sum(self.table.columnWidth(column) for column in (ResultsTableModel.THUMB, ResultsTableModel.SCORE,
                                                                    ResultsTableModel.VERDICT))
        self.setMinimumWidth(fixed + self.fontMetrics().horizontalAdvance("contamination/000.png") + 36)

        self.ng_only = QCheckBox("NG only")
        self.ng_only.setToolTip("Show only the parts above the threshold")
        self.ng_only.toggled.connect(self._ng_only_toggled)
        self.counts = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.ng_only)
        top.addStretch(1)
        top.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.refresh_counts()

    def follow_next(self) -> None:
        """Show the next row that arrives (the first of a batch a person just added)."""
        self._follow_next = True

    def follow_part(self, path: Optional[Path]) -> None:
        """Show ``path``'s row when it arrives, and no other before it: the part a person was looking at when
        the model changed under it (a region drawn on it, a part taught), inspected again with the new one."""
        self._awaited = path

    def stop_awaiting(self) -> None:
        """The batch ended without the awaited part (cancelled, or it was not in it): show the first row."""
        if self._awaited is not None:
            self._awaited = None
            if not self.table.selectionModel().hasSelection():
                self.select_row(0)

    def append(self, item: InspectedImage) -> None:
        self.results.append(item)
        if self._awaited is not None:
            if item.path == self._awaited:
                self._awaited = None
                self._follow_next = True
            else:
                return
        if self._follow_next or not self.table.selectionModel().hasSelection():
            shown = self.proxy.mapFromSource(self.results.index(self.results.rowCount() - 1, 0))
            if shown.isValid():  # not hidden by "NG only"
                self._follow_next = False
                self.select_row(shown.row())

    def clear(self) -> None:
        self.results.clear()
        self.proxy.keep_row(None)
        self.refresh_counts()

    def _threshold_moved(self) -> None:
        self.proxy.refilter()
        self.refresh_counts()

    def refresh_counts(self) -> None:
        shown, total = self.proxy.rowCount(), self.results.rowCount()
        self.counts.setText(f"{shown} of {total}" if shown != total else f"{total} images")

    def select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            self.table.selectRow(row)
            self.table.scrollTo(self.proxy.index(row, 0))

    def select_next(self) -> None:
        self.select_row(min(self.table.currentIndex().row() + 1, self.proxy.rowCount() - 1))

    def select_previous(self) -> None:
        self.select_row(max(self.table.currentIndex().row() - 1, 0))

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.proxy.keep_row(self.proxy.mapToSource(current).row() if current.isValid() else None)
        self.current_changed.emit(current.data(ITEM_ROLE) if current.isValid() else None)

    def _keep_current_in_view(self) -> None:
        current = self.table.currentIndex()
        if current.isValid():
            self.table.scrollTo(current, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _ng_only_toggled(self, checked: bool) -> None:
        self.proxy.set_ng_only(checked)
        self.refresh_counts()
