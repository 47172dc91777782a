"""Number boxes that write and read numbers as the rest of the window does, whatever the desktop's locale."""

from __future__ import annotations

from typing import Optional, Tuple

from PySide6.QtCore import QLocale
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget


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


# thousands marks as people type them: point, comma, apostrophe, spaces (plain, no-break, narrow no-break)
_SEPARATORS = str.maketrans("", "", ".,' \u00a0\u202f")


class CountBox(QSpinBox):
    """A QSpinBox of whole numbers shown as the window's texts show them (``1,000``) that reads any thousands
    mark typed: ``1.000``, ``1,000``, ``1 000`` and ``1000`` are all 1000, as no whole number has a decimal part.

    A plain one on a German desktop shows ``1.000`` a few rows under a threshold written ``42.798``.
    """

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        locale = QLocale.c()  # which by itself leaves thousands marks out
        locale.setNumberOptions(QLocale.NumberOption.DefaultNumberOptions)
        self.setLocale(locale)
        self.setGroupSeparatorShown(True)

    def validate(self, text: str, position: int) -> Tuple[QValidator.State, str, int]:
        as_shown = super().validate(text, position)  # its own "1,000" stays as it is
        if as_shown[0] == QValidator.State.Acceptable:
            return as_shown
        bare = text.translate(_SEPARATORS)
        return super().validate(bare, max(0, position - (len(text) - len(bare))))

    def valueFromText(self, text: str) -> int:
        return super().valueFromText(text.translate(_SEPARATORS))
