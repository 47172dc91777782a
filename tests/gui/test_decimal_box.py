"""Decimals are written and read with a point on every desktop: a German locale's comma never turns 42.5 into 425."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QDoubleSpinBox

from patchcore_gui.gui.decimal_box import DecimalBox
from patchcore_gui.gui.dialogs import BuildOptionsDialog


@pytest.fixture
def german_desktop():
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    yield
    QLocale.setDefault(before)


def _type(qtbot, box: QDoubleSpinBox, text: str) -> float:
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    return box.value()


def test_a_typed_point_or_comma_is_the_decimal_mark_on_a_german_desktop(qtbot, german_desktop):
    plain = QDoubleSpinBox()
    qtbot.addWidget(plain)
    plain.setRange(0.0, 1e6)
    assert _type(qtbot, plain, "42.5") == 425.0  # what a plain box does there, and why this one exists

    box = DecimalBox()
    qtbot.addWidget(box)
    box.setDecimals(3)
    box.setRange(0.0, 1e6)
    box.setValue(42.798)
    assert box.text() == "42.798"
    assert _type(qtbot, box, "42.5") == 42.5
    assert _type(qtbot, box, "17,25") == 17.25 and box.text() == "17.250"
    assert _type(qtbot, box, "1234") == 1234.0 and box.text() == "1234.000"  # no thousands separator shown


def test_the_threshold_typed_on_a_german_desktop_is_the_threshold_meant(qtbot, german_desktop, model_window):
    window = model_window  # made after the locale: widgets take the default locale when they are made
    spin = window.side_panel.threshold_panel.spin
    assert "," not in spin.text()
    _type(qtbot, spin, "42.5")
    assert window.document.threshold == pytest.approx(42.5)
    # every decimal box the window and its build dialog hold reads decimals the same way
    dialog = BuildOptionsDialog("")
    qtbot.addWidget(dialog)
    boxes = window.findChildren(QDoubleSpinBox) + dialog.findChildren(QDoubleSpinBox)
    assert len(boxes) >= 6 and all(isinstance(box, DecimalBox) for box in boxes)
