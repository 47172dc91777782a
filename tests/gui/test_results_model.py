"""The results table: verdicts follow the threshold, sorting by number, the NG-only filter, memory per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from patchcore_gui.core.patchcore import Inspector
from patchcore_gui.gui.model_document import ModelDocument
from patchcore_gui.gui.results_model import (PIXMAP_CACHE, THUMB_SIDE, InspectedImage, ResultsFilterProxy,
                                             ResultsTableModel, decode_thumbnail, display_name, encode_thumbnail)


def _item(name: str, score, error: str = "") -> InspectedImage:
    if score is None:
        return InspectedImage.failure(Path("lot7") / name, error)
    return InspectedImage(path=Path("lot7") / name, score=score)


def _table(fitted, threshold: float) -> tuple:
    document = ModelDocument()
    document.set_model(fitted.model.with_threshold(threshold))
    table = ResultsTableModel(document)
    for item in (_item("a.png", 3.0), _item("b.png", 1.0), _item("c.png", None, "cannot read 'c.png'"),
                 _item("d.png", 2.0)):
        table.append(item)
    proxy = ResultsFilterProxy()
    proxy.setSourceModel(table)
    return table, proxy


def test_verdicts_and_counts_follow_the_threshold(qtbot, fitted):
    table, _ = _table(fitted, 1.5)
    assert table.counts() == {"OK": 1, "REVIEW": 0, "NG": 2, "ERROR": 1}
    assert table.index(0, ResultsTableModel.VERDICT).data() == "NG"
    table.document.set_threshold(2.5)
    assert table.counts() == {"OK": 2, "REVIEW": 0, "NG": 1, "ERROR": 1}
    assert [row.verdict for row in table.result_rows()] == ["NG", "OK", "ERROR", "OK"]
    assert table.index(2, ResultsTableModel.FILE).data() == "lot7/c.png\ncannot read 'c.png'"


def test_sorting_is_numeric_and_the_filter_shows_ng_only(qtbot, fitted):
    table, proxy = _table(fitted, 1.5)
    proxy.sort(ResultsTableModel.SCORE, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, ResultsTableModel.SCORE).data() for r in range(4)] == ["3.000", "2.000", "1.000", "–"]
    proxy.sort(ResultsTableModel.VERDICT, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, ResultsTableModel.VERDICT).data() for r in range(4)] == ["NG", "NG", "ERROR", "OK"]
    proxy.set_ng_only(True)
    assert proxy.rowCount() == 2
    table.document.set_threshold(2.5)
    proxy.refilter()
    assert proxy.rowCount() == 1


def test_a_row_keeps_patch_scores_and_a_jpeg_thumbnail_not_the_full_map(fitted, backbone):
    ramp = np.linspace(0, 255, 2048, dtype=np.float32)
    image = np.stack([np.tile(ramp, (1536, 1)), np.tile(ramp[::-1], (1536, 1)), np.full((1536, 2048), 90.0)],
                     axis=2).astype(np.uint8)
    inspection = Inspector(fitted.model, backbone=backbone).inspect(image)
    item = InspectedImage.from_inspection(Path("big.png"), image, inspection)
    assert item.patch_scores.nbytes + len(item.thumbnail) < 8 * 1024  # against 12 MB for the full map
    assert decode_thumbnail(item.thumbnail).shape == (48, THUMB_SIDE, 3)
    rebuilt = item.inspection(fitted.model)
    assert rebuilt.score == inspection.score
    np.testing.assert_array_equal(rebuilt.anomaly_map, inspection.anomaly_map)  # exactly the engine's map
    assert InspectedImage.failure(Path("x.png"), "cannot read 'x.png'").inspection(fitted.model) is None
    assert display_name(Path("/x/good/000.png")) == "good/000.png"


def test_thumbnails_are_drawn_from_jpeg_and_only_recent_pixmaps_are_kept(qtbot):
    table = ResultsTableModel(ModelDocument())
    picture = np.zeros((40, 80, 3), np.uint8)
    picture[:, 40:] = (255, 0, 0)
    item = InspectedImage(path=Path("a.png"), score=1.0, thumbnail=encode_thumbnail(picture))
    for _ in range(PIXMAP_CACHE + 10):
        table.append(item)
    table.append(InspectedImage.failure(Path("b.png"), "cannot read 'b.png'"))
    decoration = Qt.ItemDataRole.DecorationRole
    first = table.index(0, ResultsTableModel.THUMB).data(decoration)
    assert isinstance(first, QPixmap) and (first.width(), first.height()) == (THUMB_SIDE, 32)
    assert first.toImage().pixelColor(60, 16).red() > 240 and first.toImage().pixelColor(10, 16).red() < 15
    for row in range(table.rowCount()):  # scrolling through the whole list
        table.index(row, ResultsTableModel.THUMB).data(decoration)
    assert table.index(table.rowCount() - 1, ResultsTableModel.THUMB).data(decoration) is None
    assert len(table._pixmaps) == PIXMAP_CACHE  # not one pixmap per row ever drawn
