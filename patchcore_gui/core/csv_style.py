"""How a CSV writes its cells: plain for scripts, or as a spreadsheet on this PC reads a file opened by double-click.

A plain CSV (every file's default) is UTF-8 without a byte-order mark, commas between cells, a decimal point and
ISO times with their UTC offset: what ``csv``, pandas and a database's import read alike on every PC. Excel reads
such a file opened by double-click with the PC's own conventions instead: without the byte-order mark it takes
UTF-8 for the PC's code page (a file named ``Prüfteil.png`` shows as ``PrÃ¼fteil.png``); on a desktop whose
decimal mark is a comma (German, French, ...) it splits cells at semicolons only, so each row lands in one
column; and it reads neither ``42.5`` there as a number nor a time with an offset anywhere. The style for Excel
writes the mark, the PC's decimal mark (with semicolons between cells where it is a comma) and times as
``2026-12-01 16:04:05`` (in the zone their column names, whole seconds), which Excel reads as a date and time in
every language.
"""

from __future__ import annotations

import argparse
import csv
import locale
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional, TextIO

BYTE_ORDER_MARK = "\ufeff"


@dataclass(frozen=True)
class CsvStyle:
    """The cell separator, decimal mark, byte-order mark and time format of one CSV file."""

    separator: str = ","
    decimal_mark: str = "."
    byte_order_mark: bool = False
    #: times without offset or fraction of a second (what Excel reads as a time in every language); otherwise
    #: ISO 8601 as given
    spreadsheet_times: bool = False

    @classmethod
    def for_excel(cls, decimal_mark: str) -> "CsvStyle":
        """The style Excel reads by double-click on a desktop whose decimal mark is ``decimal_mark``.

        >>> CsvStyle.for_excel(",").separator, CsvStyle.for_excel(".").separator
        (';', ',')
        """
        return cls(";" if decimal_mark == "," else ",", decimal_mark, True, True)

    def number(self, value: Optional[float], digits: int = 6) -> str:
        """``value`` to ``digits`` decimals with this style's mark; "" for None.

        >>> CsvStyle.for_excel(",").number(42.5, 3), PLAIN.number(None)
        ('42,500', '')
        """
        return "" if value is None else self.numeral(f"{value:.{digits}f}")

    def numeral(self, text: str) -> str:
        """A number already written with a point (``f"{x:g}"``) with this style's decimal mark."""
        return text if self.decimal_mark == "." else text.replace(".", self.decimal_mark)

    def time(self, moment: datetime) -> str:
        """An aware ``moment`` as this style writes it (already in the zone the column names).

        >>> moment = datetime.fromisoformat("2026-12-01T16:04:05.123456+01:00")
        >>> PLAIN.time(moment), CsvStyle.for_excel(",").time(moment)
        ('2026-12-01T16:04:05.123456+01:00', '2026-12-01 16:04:05')
        """
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.spreadsheet_times else moment.isoformat()

    def time_text(self, text: str) -> str:
        """A time kept as ISO text (a result's ``inspected_at``) as this style writes it; other text as it is."""
        if not self.spreadsheet_times or not text:
            return text
        try:
            return self.time(datetime.fromisoformat(text))
        except ValueError:
            return text

    def begin(self, stream: TextIO) -> Any:
        """A ``csv.writer`` on ``stream``, after the byte-order mark where this style has one."""
        if self.byte_order_mark:
            stream.write(BYTE_ORDER_MARK)
        return csv.writer(stream, delimiter=self.separator, lineterminator="\n")


#: every file's default: what scripts read (module doc)
PLAIN = CsvStyle()


def this_pcs_decimal_mark() -> str:
    """The decimal mark of this PC's language settings (Windows' regional settings, ``LC_NUMERIC``/``LANG``
    elsewhere): "." where they cannot be read. The window asks Qt instead, which reads the same settings."""
    previous = locale.setlocale(locale.LC_NUMERIC)
    try:
        locale.setlocale(locale.LC_NUMERIC, "")
        return locale.localeconv()["decimal_point"] or "."
    except locale.Error:  # a language the C library was not given (a container's de_DE without its locale files)
        return "."
    finally:
        locale.setlocale(locale.LC_NUMERIC, previous)


def add_excel_option(parser: argparse.ArgumentParser) -> None:
    """``--excel``, beside a command's ``--csv``."""
    parser.add_argument("--excel", action="store_true",
                        help="with --csv: write it as Excel opens it by double-click on this PC (a byte-order mark, "
                             "this PC's decimal mark with ';' between cells where that is a comma, times without "
                             "their offset); without: plain UTF-8, commas and ISO times, as scripts read it")


def csv_style_of(args: argparse.Namespace) -> CsvStyle:
    return CsvStyle.for_excel(this_pcs_decimal_mark()) if getattr(args, "excel", False) else PLAIN
