"""The shift's NG parts (and REVIEW parts, waiting for a person) as the line panel lists them: a name, a time and
a small picture each, bounded.

A line runs unattended for hours, and a bad batch can make most parts NG. Listed as widgets with
their pictures, the list grew by 40 KB per NG part (docs/benchmarks.md, "The window at full rate"):
gigabytes in a shift. So each row keeps its thumbnail as JPEG bytes, as the results list does (a few
KB), made into a pixmap only when the row is drawn, and only the newest :data:`LISTED_NG` rows stay
listed; every NG part is in the record (History), whatever this list keeps.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Deque, Optional, Union

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from ..line.sorting import where_the_part_is
from ..record import Decision
from .results_model import VERDICT_COLOURS, ThumbnailPixmaps

Index = Union[QModelIndex, QPersistentModelIndex]

#: NG parts listed at most; older ones leave the list (not the record).
LISTED_NG = 2000
#: the verdicts listed, each with its picture: NG, and REVIEW (a part waiting for a person)
LISTED_VERDICTS = ("NG", "REVIEW")
#: The role that hands back a row's key, by which the panel finds the part's kept picture.
KEY_ROLE = Qt.ItemDataRole.UserRole
#: The role that hands back where the part's image is now (its sorted copy, else the camera folder's).
IMAGE_ROLE = Qt.ItemDataRole.UserRole + 1
#: The role that hands back where the camera wrote the part: the path its record holds.
RECORDED_PATH_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class NgRow:
    key: int
    text: str
    tooltip: str
    #: JPEG bytes (results_model.encode_thumbnail); empty: no picture.
    thumbnail: bytes
    #: where the camera wrote the part, and where the line sorted it (if it did)
    path: Optional[Path] = None
    sorted_to: Optional[Path] = None
    #: NG, or REVIEW: a part waiting for a person, listed beside the NG ones
    verdict: str = "NG"
    #: a person's newest verdict on the part, once one decided (History, or this list's menu)
    decision: Optional[Decision] = None


class NgPartsModel(QAbstractListModel):
    """The newest NG parts of the shift, oldest first: ``listed`` rows at most; ``total`` counts every one."""

    def __init__(self, listed: int = LISTED_NG, parent: Any = None) -> None:
        super().__init__(parent)
        self.listed = listed
        self.total = 0
        #: of ``total``, the REVIEW parts, and of those the ones a person decided while listed
        self.review = self.review_decided = 0
        self._rows: Deque[NgRow] = deque()
        self._pixmaps = ThumbnailPixmaps()

    def add(self, row: NgRow) -> None:
        if len(self._rows) >= self.listed:
            self.beginRemoveRows(QModelIndex(), 0, 0)
            self._pixmaps.forget(self._rows.popleft().key)
            self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append(row)
        self.total += 1
        self.review += row.verdict == "REVIEW"
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._pixmaps.clear()
        self.total = self.review = self.review_decided = 0
        self.endResetModel()

    def decided(self, image_path: str, decision: Decision) -> int:
        """Marks the listed rows of the part recorded at ``image_path`` with a person's ``decision``: their text,
        tooltip and colour say it; the number of rows marked (none once the part left the list)."""
        marked = 0
        for number, row in enumerate(self._rows):
            if row.path is None or os.path.abspath(row.path) != image_path:
                continue
            self.review_decided += row.verdict == "REVIEW" and row.decision is None
            name = row.text.splitlines()[0]  # the second line, its time or REVIEW, gives way to the decision
            self._rows[number] = replace(row, decision=decision, text=f"{name}\ndecided {decision.verdict}",
                                         tooltip=f"{row.tooltip}\ndecided {decision.said()}")
            index = self.index(number, 0)
            self.dataChanged.emit(index, index)
            marked += 1
        return marked

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # type: ignore[override]
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # type: ignore[override]
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmaps.get(row.key, row.thumbnail)
        if role == KEY_ROLE:
            return row.key
        if role == IMAGE_ROLE:
            return None if row.path is None else where_the_part_is(row.path, row.sorted_to)
        if role == RECORDED_PATH_ROLE:
            return row.path
        if role == Qt.ItemDataRole.ForegroundRole and (row.decision is not None or row.verdict == "REVIEW"):
            return VERDICT_COLOURS[row.decision.verdict if row.decision is not None else row.verdict]
        return None
