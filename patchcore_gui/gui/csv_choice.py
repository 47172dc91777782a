"""Where an exported CSV goes, and for whom: Excel on this PC (opened by double-click) or scripts.

The save dialog offers both as file types (core/csv_style.py says how they differ); the one chosen last is
offered first next time. Excel is offered first until then: the window's exports are for people, and a script
that reads them is better served by ``patchcore log --csv`` or ``predict --csv``, which stay plain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Tuple

from PySide6.QtCore import QLocale, QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.csv_style import PLAIN, CsvStyle

FOR_EXCEL = "CSV for Excel on this PC (*.csv)"
FOR_SCRIPTS = "CSV for scripts: UTF-8, commas, ISO times (*.csv)"
_KEY = "export/csv_for"


def desktop_decimal_mark() -> str:
    """The decimal mark of this desktop's regional settings, as Excel on it reads numbers."""
    return QLocale.system().decimalPoint() or "."


class CsvChoice:
    """Asks for an export's file and whom it is for, remembering the answer in ``settings``."""

    def __init__(self, settings: QSettings, decimal_mark: Callable[[], str] = desktop_decimal_mark) -> None:
        self.settings, self.decimal_mark = settings, decimal_mark

    def ask(self, parent: QWidget, title: str, start: str) -> Optional[Tuple[Path, CsvStyle]]:
        """The file and the style chosen, or None when the dialog was cancelled."""
        first = FOR_SCRIPTS if self.settings.value(_KEY) == "scripts" else FOR_EXCEL
        path, chosen = QFileDialog.getSaveFileName(parent, title, start, f"{FOR_EXCEL};;{FOR_SCRIPTS}", first)
        if not path:
            return None
        for_scripts = chosen == FOR_SCRIPTS
        self.settings.setValue(_KEY, "scripts" if for_scripts else "excel")
        return Path(path), self.style(for_scripts)

    def style(self, for_scripts: bool) -> CsvStyle:
        return PLAIN if for_scripts else CsvStyle.for_excel(self.decimal_mark())
