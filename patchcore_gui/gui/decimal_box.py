"""A number box that writes and reads decimals as the rest of the window does, whatever the desktop's locale."""

from __future__ import annotations

from typing import Optional, Tuple

from PySide6.QtCore import QLocale
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget


def point_locale() -> QLocale:
    """Numbers with a point for decimals and no thousands separator, neither written nor read."""
    locale = QLocale.c()
    locale.setNumberOptions(QLocale.NumberOption.OmitGroupSeparator | QLocale.NumberOption.RejectGroupSeparator)
    return locale


class DecimalBox(QDoubleSpinBox):
    """A QDoubleSpinBox that shows ``42.798`` where the scores beside it read ``42.798``, and takes a comma as
    the decimal point.

    A plain spin box follows the desktop's locale: on a German desktop it shows ``42,798`` beside scores
    written ``42.798``, and reads a typed ``42.5`` (a score copied from the list) as 425, which would
    pass every part. Here neither mark is ever a thousands separator: ``42.5`` and ``42,5`` are both 42.5.
    """

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setLocale(point_locale())

    def validate(self, text: str, position: int) -> Tuple[QValidator.State, str, int]:
        # the line edit then shows the point the comma became
        return super().validate(text.replace(",", "."), position)

    def valueFromText(self, text: str) -> float:
        return super().valueFromText(text.replace(",", "."))
