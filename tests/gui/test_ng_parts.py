"""The line panel's NG list model: bounded, each row's picture made only when drawn."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from patchcore_gui.gui.ng_parts import KEY_ROLE, NgPartsModel, NgRow
from patchcore_gui.gui.results_model import decode_thumbnail, encode_thumbnail


def row(key: int, thumbnail: bytes = b"") -> NgRow:
    return NgRow(key, f"part{key}.png", f"/camera/part{key}.png", thumbnail)


def test_only_the_newest_rows_stay_listed_and_every_one_is_counted(qtbot):
    model = NgPartsModel(listed=3)
    for key in range(5):
        model.add(row(key))
    assert model.rowCount() == 3 and model.total == 5
    assert [model.data(model.index(i), KEY_ROLE) for i in range(3)] == [2, 3, 4]
    assert model.data(model.index(0)) == "part2.png"
    model.clear()
    assert model.rowCount() == 0 and model.total == 0


def test_a_row_keeps_its_picture_as_jpeg_bytes_and_draws_it_as_a_pixmap(qtbot):
    picture = np.zeros((120, 200, 3), np.uint8)
    picture[:, :100] = (200, 30, 30)
    thumbnail = encode_thumbnail(picture, 96)
    assert decode_thumbnail(thumbnail).shape == (58, 96, 3) and len(thumbnail) < 4096
    model = NgPartsModel()
    model.add(row(0, thumbnail))
    model.add(row(1))
    pixmap = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert (pixmap.width(), pixmap.height()) == (96, 58)
    assert model.data(model.index(1), Qt.ItemDataRole.DecorationRole) is None  # no picture: none drawn
