"""The results list: one row per inspected file, its verdict re-coloured live as the threshold moves.

Memory: a batch of thousands of images must not keep thousands of full-size float maps, so each
row keeps only a JPEG thumbnail (max side :data:`THUMB_SIDE`, about 2 KB) and the image's patch
scores (a 28 x 28 float32 grid, 3 KB), from which the model rebuilds the exact full-size map for
the one row that is shown; the part itself is re-read from disk when a row is selected. Pixmaps
made for the list are cached for the last :data:`PIXMAP_CACHE` rows drawn only.
Measured with ``benchmarks/bench_batch_memory.py`` (docs/reliability.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from ..core.fingerprint import FileFingerprint
from ..core.model import PatchCoreModel
from ..core.verdict import verdict_of
from ..core.patchcore import Inspection
from ..core.regions import DefectRegion, largest_area
from ..core.results import ResultRow, inspection_time
from .model_document import ModelDocument

THUMB_SIDE = 64
PIXMAP_CACHE = 512

#: Verdict colours shared by the list, the verdict panel and the histogram.
VERDICT_COLOURS = {"OK": QColor(46, 160, 67), "REVIEW": QColor(142, 68, 173), "NG": QColor(215, 38, 56),
                   "ERROR": QColor(128, 128, 128)}

#: The role the proxy sorts by: numbers for scores, an order for verdicts, folded text for names.
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
#: The role that hands back the :class:`InspectedImage` of a row.
ITEM_ROLE = Qt.ItemDataRole.UserRole + 2

Index = Union[QModelIndex, QPersistentModelIndex]


def display_name(path: Path) -> str:
    """``folder/file.png``: the folder tells "good/000.png" from "broken/000.png"."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def downsize(array: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink ``(H, W[, C])`` so its longer side is at most ``max_side``, keeping the aspect ratio."""
    height, width = array.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return array.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def encode_thumbnail(image: np.ndarray, side: int = THUMB_SIDE) -> bytes:
    """``(H, W, 3)`` uint8 RGB -> JPEG bytes of it shrunk to at most ``side`` on its longer side."""
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(downsize(image, side)[:, :, ::-1]),
                               [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:  # cannot happen for a valid uint8 RGB array; an empty thumbnail is drawn as none
        return b""
    return encoded.tobytes()


def decode_thumbnail(data: bytes) -> Optional[np.ndarray]:
    """The other way: JPEG bytes -> ``(h, w, 3)`` uint8 RGB, or None."""
    if not data:
        return None
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if pixels is None else np.ascontiguousarray(pixels[:, :, ::-1])


@dataclass(frozen=True)
class InspectedImage:
    """What the window keeps of one inspected file (see the module note on memory)."""

    path: Path
    score: Optional[float]
    error: str = ""
    thumbnail: bytes = b""
    patch_scores: Optional[np.ndarray] = None
    image_size: Tuple[int, int] = (0, 0)
    #: The content the score was computed from: the view draws the result only over that content.
    fingerprint: Optional[FileFingerprint] = None
    inspected_at: str = field(default_factory=inspection_time)
    #: The defect regions at threshold ``regions_at`` (a few numbers each); measured again when it moves.
    regions: Optional[Tuple[DefectRegion, ...]] = None
    regions_at: Optional[float] = None

    @classmethod
    def from_inspection(cls, path: Path, image: np.ndarray, inspection: Inspection,
                        fingerprint: Optional[FileFingerprint] = None,
                        model: Optional[PatchCoreModel] = None) -> "InspectedImage":
        """The row of an inspection; with ``model`` (the one that scored it) its regions at the model's threshold."""
        regions = inspection.defect_regions(model).regions if model is not None else None
        return cls(path=path, score=float(inspection.score), thumbnail=encode_thumbnail(image),
                   patch_scores=np.array(inspection.patch_scores, np.float32),
                   image_size=(int(image.shape[0]), int(image.shape[1])), fingerprint=fingerprint,
                   regions=regions, regions_at=None if model is None else float(model.threshold))

    @classmethod
    def failure(cls, path: Path, error: str) -> "InspectedImage":
        return cls(path=path, score=None, error=error)

    def regions_for(self, threshold: float) -> Optional[Tuple[DefectRegion, ...]]:
        """The regions at ``threshold`` if they were measured at it, else None (not measured yet)."""
        return self.regions if self.regions is not None and self.regions_at == threshold else None

    def largest_region(self, threshold: float) -> Optional[int]:
        regions = self.regions_for(threshold)
        return None if regions is None else largest_area(regions)

    def measured(self, model: PatchCoreModel) -> "InspectedImage":
        """This row with its regions at ``model``'s threshold, measured from the kept patch scores if needed."""
        if self.regions_for(model.threshold) is not None or self.patch_scores is None:
            return self
        inspection = self.inspection(model)
        assert inspection is not None
        return replace(self, regions=inspection.defect_regions(model).regions, regions_at=float(model.threshold))

    def verdict(self, threshold: float, review_from: Optional[float] = None, min_defect_area: float = 0.0) -> str:
        return verdict_of(self.score, threshold, review_from=review_from, largest_region=self.largest_region(threshold),
                          min_defect_area=min_defect_area)

    def result_row(self, threshold: float, model: Optional[PatchCoreModel] = None) -> ResultRow:
        """The CSV row at ``threshold``, judged by ``model``'s review band and minimum defect area when given."""
        return ResultRow(str(self.path), self.score, threshold, self.error, self.inspected_at,
                         review_from=model.review_from if model is not None else None,
                         regions=self.regions_for(threshold) if self.score is not None else None,
                         min_defect_area=model.min_defect_area if model is not None else 0.0,
                         pixel_size_mm=model.pixel_size_mm if model is not None else None)

    def inspection(self, model: PatchCoreModel) -> Optional[Inspection]:
        """The inspection at the image's size, its map rebuilt by ``model`` (the one that scored it)."""
        if self.patch_scores is None or self.score is None:
            return None
        return Inspection(score=self.score, anomaly_map=model.anomaly_map(self.patch_scores, self.image_size),
                          patch_scores=self.patch_scores)


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    """``(h, w, 3) uint8`` RGB -> a QPixmap of its own (copied, so the array may go)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # copy: the QImage must not outlive the numpy buffer


class ThumbnailPixmaps:
    """Pixmaps of JPEG thumbnails, made when a row is drawn and kept for the last ``size`` rows drawn."""

    def __init__(self, size: int = PIXMAP_CACHE) -> None:
        self.size = size
        self._pixmaps: Dict[int, QPixmap] = {}

    def get(self, key: int, thumbnail: bytes) -> Optional[QPixmap]:
        pixmap = self._pixmaps.pop(key, None)
        if pixmap is None:
            pixels = decode_thumbnail(thumbnail)
            if pixels is None:
                return None
            pixmap = to_pixmap(pixels)
            while len(self._pixmaps) >= self.size:  # the least recently drawn row goes
                del self._pixmaps[next(iter(self._pixmaps))]
        self._pixmaps[key] = pixmap  # (re)inserted last: the dict's order is the order of use
        return pixmap

    def forget(self, key: int) -> None:
        self._pixmaps.pop(key, None)

    def __len__(self) -> int:
        return len(self._pixmaps)

    def clear(self) -> None:
        self._pixmaps.clear()


class ResultsTableModel(QAbstractTableModel):
    """Rows of :class:`InspectedImage`; verdicts come from the document's threshold as it is now."""

    COLUMNS = ("", "File", "Score", "Verdict")
    THUMB, FILE, SCORE, VERDICT = range(4)
    _VERDICT_ORDER = {"NG": 0, "REVIEW": 1, "ERROR": 2, "OK": 3}

    def __init__(self, document: ModelDocument, parent: Any = None) -> None:
        super().__init__(parent)
        self.document = document
        self._items: List[InspectedImage] = []
        self._pixmaps = ThumbnailPixmaps()
        document.threshold_changed.connect(self._verdicts_changed)
        document.model_changed.connect(self._verdicts_changed)
        document.defect_size_changed.connect(self._verdicts_changed)

    # --- data in -----------------------------------------------------------------------------------
    def append(self, item: InspectedImage) -> None:
        row = len(self._items)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.append(item)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self._pixmaps.clear()
        self.endResetModel()

    def _verdicts_changed(self) -> None:
        if self._items:
            self.dataChanged.emit(self.index(0, self.SCORE), self.index(len(self._items) - 1, self.VERDICT))

    def stale_rows(self) -> List[Tuple[int, InspectedImage]]:
        """The rows whose regions were not measured at the current threshold (and can be: they have a map)."""
        threshold = self.document.threshold
        return [(row, item) for row, item in enumerate(self._items)
                if item.patch_scores is not None and item.regions_for(threshold) is None]

    def set_regions(self, measured: Sequence[Tuple[int, InspectedImage]]) -> None:
        """Rows measured again (``(row, the row's item with its regions)``), kept only if the row is still
        that part; the verdicts are then drawn again."""
        changed = False
        for row, item in measured:
            if 0 <= row < len(self._items) and self._items[row].path == item.path \
                    and self._items[row].inspected_at == item.inspected_at:
                self._items[row] = item
                changed = True
        if changed:
            self._verdicts_changed()

    # --- data out ----------------------------------------------------------------------------------
    def _verdict_of(self, item: InspectedImage) -> str:
        return self.document.verdict(item.score, item.largest_region(self.document.threshold))

    def verdict(self, row: int) -> str:
        return self._verdict_of(self._items[row])

    def items(self) -> Sequence[InspectedImage]:
        return tuple(self._items)

    def item(self, row: int) -> InspectedImage:
        return self._items[row]

    def counts(self) -> Dict[str, int]:
        counts = {"OK": 0, "REVIEW": 0, "NG": 0, "ERROR": 0}
        for item in self._items:
            counts[self._verdict_of(item)] += 1
        return counts

    def scores(self) -> np.ndarray:
        return np.array([item.score for item in self._items if item.score is not None], dtype=np.float64)

    def result_rows(self) -> List[ResultRow]:
        """Every row at the current threshold; a row whose regions are still being measured again (the
        threshold just moved) is measured here, so a written file never lacks them."""
        model = self.document.model
        if model is None:
            return [item.result_row(self.document.threshold) for item in self._items]
        return [item.measured(model).result_row(model.threshold, model) for item in self._items]

    # --- Qt model ----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # type: ignore[override]
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # type: ignore[override]
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.InitialSortOrderRole and section == self.SCORE:
            return Qt.SortOrder.DescendingOrder  # the first click puts the worst parts on top
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        column = index.column()
        verdict = self._verdict_of(item)
        if role == ITEM_ROLE:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.FILE:
                name = display_name(item.path)  # and an unreadable file says why below its name
                return f"{name}\n{item.error}" if item.error else name
            if column == self.SCORE:
                return "–" if item.score is None else f"{item.score:.3f}"
            if column == self.VERDICT:
                return verdict
        elif role == Qt.ItemDataRole.DecorationRole and column == self.THUMB and item.thumbnail:
            return self._pixmaps.get(index.row(), item.thumbnail)
        elif role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.path}\n{item.error}" if item.error else str(item.path)
        elif role == Qt.ItemDataRole.ForegroundRole and column == self.FILE and item.error:
            return VERDICT_COLOURS["ERROR"]
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == self.SCORE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == SORT_ROLE:
            if column == self.SCORE:
                return float("-inf") if item.score is None else item.score
            if column == self.VERDICT:
                return self._VERDICT_ORDER[verdict]
            return str(item.path).casefold()
        return None


class ResultsFilterProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE` and can hide everything but the NG parts.

    The part on screen stays listed under "NG only" when a threshold move makes it OK: a person
    looking at it should not see it vanish and another part take its place.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._ng_only = False
        self._kept_row: Optional[int] = None
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    @property
    def ng_only(self) -> bool:
        return self._ng_only

    def set_ng_only(self, ng_only: bool) -> None:
        self._ng_only = bool(ng_only)
        self._kept_row = None
        self._filter_rows_again()

    def keep_row(self, source_row: Optional[int]) -> None:
        """Keep ``source_row`` (the one shown) listed whatever its verdict; None for no such row."""
        self._kept_row = source_row

    def refilter(self) -> None:
        """Call after the threshold moved: which rows are NG may have changed."""
        if self._ng_only:
            self._filter_rows_again()

    def _filter_rows_again(self) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # type: ignore[override]
        if not self._ng_only or source_row == self._kept_row:
            return True
        source = self.sourceModel()
        assert isinstance(source, ResultsTableModel)
        return source.verdict(source_row) == "NG"
