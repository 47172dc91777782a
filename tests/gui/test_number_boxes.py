"""Numbers are read as the window writes them on every desktop: a German locale never turns 42.5 into 425."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox

from patchcore_gui.gui.dialogs import BuildOptionsDialog
from patchcore_gui.gui.number_boxes import CountBox, DecimalBox


@pytest.fixture
def german_desktop():
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    yield
    QLocale.setDefault(before)


def _type(qtbot, box: QAbstractSpinBox, text: str) -> float:
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

    count = CountBox()
    qtbot.addWidget(count)
    count.setRange(2, 1_000_000)
    count.setValue(1000)
    assert count.text() == "1,000"  # as the window's texts write counts ("NG parts of this shift: 1,000")
    for typed in ("2.000", "2,000", "2 000", "2000"):
        assert _type(qtbot, count, typed) == 2000 and count.text() == "2,000"


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
    one_in = window.side_panel.threshold_panel.one_in
    assert isinstance(one_in, CountBox) and "." not in one_in.text()
    # the network input's side (64..1024) is the one plain whole-number box: it never reaches a thousands mark
    assert [box for box in window.findChildren(QSpinBox) + dialog.findChildren(QSpinBox)
            if not isinstance(box, CountBox)] == [dialog.size_spin]
