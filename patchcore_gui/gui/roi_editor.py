"""The region of interest in the window: a page that says what the model inspects, and an editor to draw it.

The editor draws on a good part: rectangles and polygons that include, exclude or erase, with undo. What
is drawn is a layer of marks (none, include, exclude): with no include mark the whole part is inspected
but for the excluded marks, with include marks only they are (less the excluded). "Apply" hands the
region to :class:`RegionControl`, which sets it on the model in a worker (the held-out scores and the
threshold are recalibrated there, core/roi.py) and replaces the document's model, so every listed part
is inspected again with it. The inspection view shows the region on every part (dimmed, hatched
outside, outlined).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPen, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (QButtonGroup, QDialog, QFileDialog, QGraphicsRectItem, QHBoxLayout, QLabel,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from ..core.errors import PatchCoreError
from ..core.images import IMAGE_SUFFIXES
from ..core.model import PatchCoreModel
from ..core.roi import RegionOfInterest, fit_to_good_parts, read_roi_image
from ..core.roi import change_summary
from .image_view import REGION_COLOUR, region_layer
from .model_document import ModelDocument
from .workers import Worker

if TYPE_CHECKING:  # the window owns the control; the control only calls it
    from .main_window import MainWindow

UNMARKED, INCLUDE, EXCLUDE = 0, 1, 2
MODES = {"include": INCLUDE, "exclude": EXCLUDE, "erase": UNMARKED}
RECTANGLE, POLYGON = "rectangle", "polygon"
JOB = "region of interest"


def inspected_from_marks(marks: np.ndarray) -> np.ndarray:
    """``(H, W)`` marks -> ``(H, W)`` bool inspected: the includes (or everything, if none) less the excludes.

    >>> inspected_from_marks(np.array([[0, 2], [1, 0]], np.uint8)).tolist()
    [[False, False], [True, False]]
    """
    base = marks == INCLUDE if (marks == INCLUDE).any() else np.ones(marks.shape, bool)
    return base & (marks != EXCLUDE)


class MarkEdit(QUndoCommand):
    """One drawn shape (or "whole part"): the marks before and after, so undo and redo are exact."""

    def __init__(self, canvas: "MaskCanvas", before: np.ndarray, after: np.ndarray, text: str) -> None:
        super().__init__(text)
        self.canvas, self.before, self.after = canvas, before, after

    def redo(self) -> None:
        self.canvas._set_marks(self.after)

    def undo(self) -> None:
        self.canvas._set_marks(self.before)


class MaskCanvas(QObject):
    """The marks on a part of ``shape`` (H, W), with an undo stack; shapes in image pixels (x, y)."""

    changed = Signal()

    def __init__(self, shape: Tuple[int, int], start: Optional[RegionOfInterest] = None,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._marks = np.zeros(shape, np.uint8)
        if start is not None:  # what the model inspects now, as excluded marks on this part
            self._marks[~start.pixels_at(shape)] = EXCLUDE

    @property
    def marks(self) -> np.ndarray:
        return self._marks

    @property
    def inspected(self) -> np.ndarray:
        return inspected_from_marks(self._marks)

    def region(self) -> Optional[RegionOfInterest]:
        """The region drawn: None for the whole part; :class:`ValueError` when nothing is inspected."""
        inspected = self.inspected
        return None if inspected.all() else RegionOfInterest.from_pixels(inspected)

    def rectangle(self, corner: Tuple[float, float], opposite: Tuple[float, float], mode: str) -> None:
        shape = np.zeros(self._marks.shape, np.uint8)
        (x0, x1), (y0, y1) = sorted((corner[0], opposite[0])), sorted((corner[1], opposite[1]))
        cv2.rectangle(shape, (int(round(x0)), int(round(y0))), (int(round(x1)) - 1, int(round(y1)) - 1), 1, -1)
        self._mark(shape > 0, mode, f"{mode} rectangle")

    def polygon(self, points: Sequence[Tuple[float, float]], mode: str) -> None:
        if len(points) < 3:
            return
        shape = np.zeros(self._marks.shape, np.uint8)
        cv2.fillPoly(shape, [np.round(np.asarray(points, np.float64)).astype(np.int32)], 1)
        self._mark(shape > 0, mode, f"{mode} polygon")

    def whole_part(self) -> None:
        """Every mark erased: the whole part is inspected."""
        if self._marks.any():
            self.undo_stack.push(MarkEdit(self, self._marks, np.zeros_like(self._marks), "whole part"))

    def _mark(self, shape: np.ndarray, mode: str, text: str) -> None:
        after = self._marks.copy()
        after[shape] = MODES[mode]
        if not np.array_equal(after, self._marks):
            self.undo_stack.push(MarkEdit(self, self._marks, after, text))

    def _set_marks(self, marks: np.ndarray) -> None:
        self._marks = marks
        self.changed.emit()


class DrawingViewBox(pg.ViewBox):
    """A view box whose left button draws with the editor's tool; the wheel zooms, other drags pan."""

    def __init__(self, editor: "RegionEditor") -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.editor = editor

    def mouseDragEvent(self, ev, axis=None) -> None:  # type: ignore[no-untyped-def]
        if ev.button() != Qt.MouseButton.LeftButton or self.editor.tool != RECTANGLE:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start, now = self.mapSceneToView(ev.buttonDownScenePos()), self.mapSceneToView(ev.scenePos())
        if ev.isFinish():
            self.editor.finish_rectangle((start.x(), start.y()), (now.x(), now.y()))
        else:
            self.editor.preview_rectangle((start.x(), start.y()), (now.x(), now.y()))

    def mouseClickEvent(self, ev) -> None:  # type: ignore[no-untyped-def]
        if self.editor.tool == POLYGON and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if ev.double():
                self.editor.close_polygon()
            else:
                point = self.mapSceneToView(ev.scenePos())
                self.editor.add_point(point.x(), point.y())
        elif self.editor.tool == POLYGON and ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.editor.close_polygon()
        else:
            super().mouseClickEvent(ev)


def _tool_button(text: str, tip: str, checkable: bool = True) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class RegionEditor(QDialog):
    """Draw the region of interest on one part; ``apply_requested`` hands over the region (None: whole part)."""

    apply_requested = Signal(object)

    def __init__(self, part: np.ndarray, start: Optional[RegionOfInterest] = None, title: str = "",
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Region of interest — {title}" if title else "Region of interest")
        self.part = part
        self.canvas = MaskCanvas(part.shape[:2], start, self)
        self.canvas.changed.connect(self._show_marks)
        self.canvas.undo_stack.cleanChanged.connect(self._update_buttons)
        self.canvas.undo_stack.indexChanged.connect(self._update_buttons)
        self._points: List[Tuple[float, float]] = []

        self.view = pg.GraphicsLayoutWidget()
        self.view_box = DrawingViewBox(self)
        self.view.addItem(self.view_box)
        self.part_item = pg.ImageItem(part, axisOrder="row-major", levels=(0, 255))
        self.region_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.part_item)
        self.view_box.addItem(self.region_item)
        pen = QPen(QColor(*REGION_COLOUR))
        pen.setCosmetic(True)
        pen.setWidth(2)
        pen.setStyle(Qt.PenStyle.DashLine)
        self.rectangle_preview = QGraphicsRectItem()
        self.rectangle_preview.setPen(pen)
        self.rectangle_preview.setVisible(False)
        self.view_box.addItem(self.rectangle_preview)
        self.polygon_preview = pg.PlotDataItem(pen=pg.mkPen(REGION_COLOUR, width=2, style=Qt.PenStyle.DashLine),
                                               symbol="o", symbolSize=6, symbolBrush=REGION_COLOUR)
        self.view_box.addItem(self.polygon_preview)

        self.rectangle_button = _tool_button("Rectangle", "Drag to draw a rectangle (R)")
        self.polygon_button = _tool_button("Polygon", "Click the corners; double-click, right-click or Enter to "
                                                      "close it, Esc to drop it (P)")
        self.include_button = _tool_button("Include", "What you draw is inspected (I)")
        self.exclude_button = _tool_button("Exclude", "What you draw is ignored (E)")
        self.erase_button = _tool_button("Erase", "What you draw loses its marks (X)")
        self.tools, self.modes = QButtonGroup(self), QButtonGroup(self)
        for group, buttons, keys in ((self.tools, (self.rectangle_button, self.polygon_button), "RP"),
                                     (self.modes, (self.include_button, self.exclude_button, self.erase_button),
                                      "IEX")):
            group.setExclusive(True)
            for button, key in zip(buttons, keys):
                group.addButton(button)
                button.setShortcut(QKeySequence(key))
        self.rectangle_button.setChecked(True)
        (self.include_button if start is None else self.exclude_button).setChecked(True)
        self.tools.buttonClicked.connect(self._drop_polygon)
        self.undo_button = _tool_button("Undo", "Undo the last shape (Ctrl+Z)", checkable=False)
        self.redo_button = _tool_button("Redo", "Redo (Ctrl+Shift+Z)", checkable=False)
        self.undo_button.clicked.connect(self.canvas.undo_stack.undo)
        self.redo_button.clicked.connect(self.canvas.undo_stack.redo)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.canvas.undo_stack.undo)
        QShortcut(QKeySequence.StandardKey.Redo, self, self.canvas.undo_stack.redo)
        QShortcut(QKeySequence(Qt.Key.Key_Return), self, self.close_polygon)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._escape)
        self.whole_button = _tool_button("Whole part", "Erase every mark: inspect the whole part", checkable=False)
        self.whole_button.clicked.connect(self.canvas.whole_part)
        self.summary = QLabel()
        self.apply_button = QPushButton("Apply to the model")
        self.apply_button.setToolTip("Set this region on the model (saved with it); the listed parts are "
                                     "inspected again")
        self.apply_button.clicked.connect(self.apply)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.reject)

        bar = QHBoxLayout()
        for widget in (self.rectangle_button, self.polygon_button, None, self.include_button, self.exclude_button,
                       self.erase_button, None, self.undo_button, self.redo_button, self.whole_button):
            if widget is None:
                bar.addSpacing(12)
            else:
                bar.addWidget(widget)
        bar.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        self.resize(900, 700)
        self._show_marks()
        self.view_box.autoRange(padding=0.02)

    # --- what the view box calls -------------------------------------------------------------------------
    @property
    def tool(self) -> str:
        return POLYGON if self.polygon_button.isChecked() else RECTANGLE

    @property
    def mode(self) -> str:
        if self.exclude_button.isChecked():
            return "exclude"
        return "erase" if self.erase_button.isChecked() else "include"

    def preview_rectangle(self, corner: Tuple[float, float], opposite: Tuple[float, float]) -> None:
        self.rectangle_preview.setRect(QRectF(QPointF(*corner), QPointF(*opposite)).normalized())
        self.rectangle_preview.setVisible(True)

    def finish_rectangle(self, corner: Tuple[float, float], opposite: Tuple[float, float]) -> None:
        self.rectangle_preview.setVisible(False)
        self.canvas.rectangle(corner, opposite, self.mode)

    def add_point(self, x: float, y: float) -> None:
        self._points.append((x, y))
        self._show_polygon()

    def close_polygon(self) -> None:
        points, self._points = self._points, []
        self._show_polygon()
        self.canvas.polygon(points, self.mode)

    def _drop_polygon(self) -> None:
        self._points = []
        self._show_polygon()

    def _escape(self) -> None:
        if self._points:
            self._drop_polygon()
        else:
            self.reject()

    def _show_polygon(self) -> None:
        if self._points:
            xs, ys = zip(*(self._points + self._points[:1]))
            self.polygon_preview.setData(list(xs), list(ys))
        else:
            self.polygon_preview.setData([], [])

    def _show_marks(self) -> None:
        inspected = self.canvas.inspected
        self.region_item.setImage(region_layer(inspected), autoLevels=False, levels=(0, 255))
        share = float(inspected.mean())
        self.summary.setText("The whole part is inspected" if share == 1.0 else
                             "Nothing is inspected: include something" if share == 0.0 else
                             f"{100 * share:.0f}% of the part is inspected")
        self._update_buttons()

    def _update_buttons(self) -> None:
        stack = self.canvas.undo_stack
        self.undo_button.setEnabled(stack.canUndo())
        self.redo_button.setEnabled(stack.canRedo())
        self.apply_button.setEnabled(bool(self.canvas.inspected.any()))

    def apply(self) -> None:
        if self.canvas.inspected.any():
            self.apply_requested.emit(self.canvas.region())


class RegionWorker(Worker):
    """A model with another region of interest (recalibrated, core/roi.py): finished -> the new model."""

    def __init__(self, model: PatchCoreModel, region: Optional[RegionOfInterest], name: str = "") -> None:
        super().__init__()
        self.model, self.region, self.name = model, region, name

    def work(self) -> PatchCoreModel:
        region = self.region
        if region is not None:
            good = self.model.good_parts
            region = fit_to_good_parts(region, self.name or "the drawn region", good.height if good else None,
                                       good.width if good else None)
        return self.model.with_region_of_interest(region)


class RegionControl(QObject):
    """Sets a region on the open model through a worker, then makes the result the window's model."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.editor: Optional[RegionEditor] = None
        self._before: Optional[PatchCoreModel] = None

    def open_editor(self) -> Optional[RegionEditor]:
        """The editor on the shown part (what a person looks at when they decide); None without one."""
        model, part = self.window.model, self.window.shown.image
        if model is None or part is None:
            self.window.show_error("Show a good part first (select it in the list): the region is drawn on it",
                                   "Region of interest")
            return None
        if self.editor is not None:
            self.editor.close()
        item = self.window.shown.item
        self.editor = RegionEditor(part, model.roi, item.path.name if item else "", self.window)
        self.editor.apply_requested.connect(self.apply)
        self.editor.show()
        return self.editor

    def apply_picture(self, path: Path) -> bool:
        try:
            region = read_roi_image(path)
        except PatchCoreError as exc:
            self.window.show_error(str(exc), "Region of interest")
            return False
        return self.apply(region, path.name)

    def apply(self, region: Optional[RegionOfInterest], name: str = "") -> bool:
        window = self.window
        if window.model is None or window.busy:
            window.show_error("Wait for the running job to end before changing the region",
                              "Region of interest")
            return False
        self._before = window.model
        window.jobs.start(JOB, RegionWorker(window.model, region, name), self._finished)
        return True

    def _finished(self, model: PatchCoreModel) -> None:
        before, self._before = self._before, None
        window = self.window
        window.set_model(model, window.document.path, dirty=True)
        if before is not None:
            window.show_info(change_summary(before, model))


class RegionPanel(QWidget):
    """The side panel's "Region" page: what the open model inspects, and the ways to change it."""

    def __init__(self, document: ModelDocument, control: RegionControl, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document, self.control = document, control
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.draw_button = QPushButton("Draw on the shown part…")
        self.draw_button.setToolTip("Draw what is inspected and what is ignored over the part on screen")
        self.draw_button.clicked.connect(control.open_editor)
        self.picture_button = QPushButton("From a picture…")
        self.picture_button.setToolTip("A black-and-white picture of a good part's size: white is inspected")
        self.picture_button.clicked.connect(self._choose_picture)
        self.clear_button = QPushButton("Inspect the whole part")
        self.clear_button.clicked.connect(self._clear)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.draw_button, self.picture_button, self.clear_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        document.model_changed.connect(self._refresh)
        self._refresh()

    def _refresh(self, *_args: object) -> None:
        model = self.document.model
        for button in (self.draw_button, self.picture_button):
            button.setEnabled(model is not None)
        self.clear_button.setEnabled(model is not None and model.roi is not None)
        if model is None:
            self.status.setText("No model.")
        elif model.roi is None:
            self.status.setText("The whole part is inspected.")
        elif model.recalibrated:
            self.status.setText(f"Region of interest: {100 * model.roi.share:.0f}% of the part is inspected; the "
                                f"held-out good scores and the default threshold are those of the region.")
        else:
            self.status.setText(f"Region of interest: {100 * model.roi.share:.0f}% of the part is inspected. This "
                                f"model file has no record of its held-out parts, so their scores and the threshold "
                                f"are still the whole part's: rebuild to calibrate them on the region.")

    def _choose_picture(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Region of interest picture", "",
                                              f"Black-and-white pictures ({patterns})")
        if path:
            self.control.apply_picture(Path(path))

    def _clear(self) -> None:
        self.control.apply(None)


def install_region_of_interest(window: "MainWindow") -> RegionControl:
    """The "Region" page in the side panel and the control behind it."""
    control = RegionControl(window)
    window.region_panel = RegionPanel(window.document, control)  # type: ignore[attr-defined]
    window.region_panel.setContentsMargins(6, 6, 6, 6)  # type: ignore[attr-defined]
    window.side_panel.pages.addTab(window.region_panel, "Region")  # type: ignore[attr-defined]
    return control
