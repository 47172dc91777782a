"""CSV for scripts (plain, every file's default) and CSV for Excel on this PC (opened by double-click)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from patchcore_gui.core.csv_style import BYTE_ORDER_MARK, PLAIN, CsvStyle, this_pcs_decimal_mark
from patchcore_gui.core.results import CSV_COLUMNS, ResultRow, results_csv_text
from patchcore_gui.core.regions import DefectRegion

GERMAN_EXCEL = CsvStyle.for_excel(",")
ENGLISH_EXCEL = CsvStyle.for_excel(".")


def rows():
    region = DefectRegion(120, 3, 4, 20, 10, 50.25, (9.5, 12.0))
    return [ResultRow("Prüfteil 1,5.png", 42.5, 40.125, inspected_at="2026-12-01T16:04:05.123+01:00",
                      review_from=35.0, regions=(region,), min_defect_area=12.5, pixel_size_mm=0.05),
            ResultRow("gone.png", None, 40.125, error="no such file", inspected_at="2026-12-01T16:04:06.001+01:00")]


def read(text: str, delimiter: str):
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_plain_is_what_scripts_read_and_what_the_files_always_were():
    text = results_csv_text(rows())
    assert not text.startswith(BYTE_ORDER_MARK)
    first, second = read(text, ",")
    assert (first["score"], first["threshold"], first["review_from"]) == ("42.500000", "40.125000", "35.000000")
    assert first["inspected_at"] == "2026-12-01T16:04:05.123+01:00" and first["file"] == "Prüfteil 1,5.png"
    assert (first["min_defect_area_px"], first["largest_region_mm2"]) == ("12.5", "0.3")
    assert second["score"] == "" and second["error"] == "no such file"


def test_for_a_german_excel_a_byte_order_mark_semicolons_decimal_commas_and_times_it_reads():
    text = results_csv_text(rows(), style=GERMAN_EXCEL)
    assert text.startswith(BYTE_ORDER_MARK + ";".join(CSV_COLUMNS[:3]))
    first, second = read(text[1:], ";")
    assert (first["score"], first["threshold"], first["review_from"]) == ("42,500000", "40,125000", "35,000000")
    assert first["inspected_at"] == "2026-12-01 16:04:05"  # local, as inspected; whole seconds
    assert (first["min_defect_area_px"], first["largest_region_mm2"]) == ("12,5", "0,3")
    assert first["file"] == "Prüfteil 1,5.png" and first["region_count"] == "1"
    assert second["score"] == "" and second["inspected_at"] == "2026-12-01 16:04:06"
    # every row has as many cells as the header: no decimal comma splits a cell
    assert {len(line.split(";")) for line in text[1:].splitlines()} == {len(CSV_COLUMNS)}


def test_for_an_english_excel_commas_and_decimal_points_with_the_mark_and_plain_times():
    text = results_csv_text(rows(), style=ENGLISH_EXCEL)
    assert text.startswith(BYTE_ORDER_MARK)
    first, _ = read(text[1:], ",")
    assert (first["score"], first["inspected_at"]) == ("42.500000", "2026-12-01 16:04:05")


def test_times_and_numbers_of_each_style():
    moment = datetime(2026, 12, 1, 15, 4, 5, 123456, tzinfo=timezone.utc)
    assert PLAIN.time(moment) == "2026-12-01T15:04:05.123456+00:00"
    assert GERMAN_EXCEL.time(moment.astimezone(timezone(timedelta(hours=1)))) == "2026-12-01 16:04:05"
    assert GERMAN_EXCEL.time_text("") == "" and GERMAN_EXCEL.time_text("not a time") == "not a time"
    assert (GERMAN_EXCEL.number(-0.5, 2), GERMAN_EXCEL.number(None), PLAIN.number(1 / 3, 3)) == ("-0,50", "", "0.333")


def test_this_pcs_decimal_mark_leaves_the_process_locale_as_it_was(monkeypatch):
    import locale

    before = locale.setlocale(locale.LC_NUMERIC)
    monkeypatch.setenv("LC_ALL", "C")
    assert this_pcs_decimal_mark() == "."
    monkeypatch.setenv("LC_ALL", "xx_NOWHERE.UTF-8")  # a language the C library was not given
    assert this_pcs_decimal_mark() == "."
    assert locale.setlocale(locale.LC_NUMERIC) == before
