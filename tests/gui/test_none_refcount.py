"""The PySide6 bug the guard is for is still there, and the guard keeps None alive through it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from patchcore_gui.gui.none_refcount import _RESERVE, make_none_immortal
from patchcore_gui.gui.model_document import ModelDocument
from patchcore_gui.gui.results_model import InspectedImage, ResultsTableModel

needs_guard = pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from CPython 3.12")


@needs_guard
def test_qt_asking_a_model_for_an_unserved_role_loses_a_reference_to_none(qtbot):
    table = ResultsTableModel(ModelDocument())
    table.append(InspectedImage(path=Path("a.png"), score=1.0))
    index = table.index(0, ResultsTableModel.SCORE)
    index.data(Qt.ItemDataRole.CheckStateRole)  # data() returns None for it
    before = sys.getrefcount(None)
    for _ in range(1000):
        index.data(Qt.ItemDataRole.CheckStateRole)
    lost = before - sys.getrefcount(None)
    if lost < 900:
        pytest.skip(f"this PySide6 no longer loses references to None ({lost} of 1000): the guard may go")
    assert lost <= 1000


@needs_guard
def test_importing_the_gui_makes_none_immortal():
    assert sys.getrefcount(None) > _RESERVE // 2  # done when patchcore_gui.gui was imported
    again = sys.getrefcount(None)
    assert make_none_immortal()
    assert abs(sys.getrefcount(None) - again) < 1000  # raised once only, not again on every call
