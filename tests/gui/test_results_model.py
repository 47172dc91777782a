"""The results table: verdicts follow the threshold, sorting by number, the NG-only filter, memory per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from patchcore_gui.core.patchcore import Inspection
from patchcore_gui.gui.results_model import (MAP_SIDE, InspectedImage, ResultsFilterProxy, ResultsTableModel,
                                             display_name)


def _item(name: str, score, error: str = "") -> InspectedImage:
    if score is None:
        return InspectedImage.failure(Path("lot7") / name, error)
    return InspectedImage(path=Path("lot7") / name, score=score)


def _table(qtbot) -> tuple:
    table = ResultsTableModel()
    for item in (_item("a.png", 3.0), _item("b.png", 1.0), _item("c.png", None, "cannot read 'c.png'"),
                 _item("d.png", 2.0)):
        table.append(item)
    proxy = ResultsFilterProxy()
    proxy.setSourceModel(table)
    return table, proxy


def test_verdicts_and_counts_follow_the_threshold(qtbot):
    table, _ = _table(qtbot)
    table.set_threshold(1.5)
    assert table.counts() == {"OK": 1, "NG": 2, "ERROR": 1}
    assert table.index(0, ResultsTableModel.VERDICT).data() == "NG"
    table.set_threshold(2.5)
    assert table.counts() == {"OK": 2, "NG": 1, "ERROR": 1}
    assert [row.verdict for row in table.result_rows()] == ["NG", "OK", "ERROR", "OK"]
    assert table.index(2, ResultsTableModel.FILE).data() == "lot7/c.png\ncannot read 'c.png'"


def test_sorting_is_numeric_and_the_filter_shows_ng_only(qtbot):
    table, proxy = _table(qtbot)
    table.set_threshold(1.5)
    proxy.sort(ResultsTableModel.SCORE, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, ResultsTableModel.SCORE).data() for r in range(4)] == ["3.000", "2.000", "1.000", "–"]
    proxy.sort(ResultsTableModel.VERDICT, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, ResultsTableModel.VERDICT).data() for r in range(4)] == ["NG", "NG", "ERROR", "OK"]
    proxy.set_ng_only(True)
    assert proxy.rowCount() == 2
    table.set_threshold(2.5)
    proxy.refilter()
    assert proxy.rowCount() == 1


def test_a_row_keeps_a_small_map_not_the_full_one():
    image = np.zeros((1536, 2048, 3), np.uint8)
    anomaly_map = np.random.default_rng(0).random((1536, 2048)).astype(np.float32)
    item = InspectedImage.from_inspection(Path("big.png"), image, Inspection(5.0, anomaly_map, np.zeros((28, 28))))
    assert max(item.small_map.shape) == MAP_SIDE and item.small_map.dtype == np.float16
    assert item.small_map.nbytes + item.thumbnail.nbytes < 64 * 1024  # against 12 MB for the full map
    assert item.inspection().anomaly_map.shape == (1536, 2048)  # scaled back up for display
    assert display_name(Path("/x/good/000.png")) == "good/000.png"
