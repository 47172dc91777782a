"""The window's exports ask whom the CSV is for: Excel on this PC (by double-click) or scripts; the answer stays."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from patchcore_gui.gui import csv_choice as choice_module
from patchcore_gui.gui.csv_choice import FOR_EXCEL, FOR_SCRIPTS, CsvChoice
from patchcore_gui.gui.history_panel import HistoryPanel
from patchcore_gui.gui.main_window import MainWindow
from patchcore_gui.record import InspectionRecord, open_store

from .conftest import inspect_and_wait


class SaveDialog:
    """Stands in for the save dialog: answers with ``chosen`` and keeps the file type it offered first."""

    def __init__(self, monkeypatch, path: Path) -> None:
        self.path, self.chosen, self.offered_first = path, FOR_EXCEL, []
        monkeypatch.setattr(choice_module.QFileDialog, "getSaveFileName", self.answer)

    def answer(self, parent, title, start, filters, first):
        assert filters.split(";;") == [FOR_EXCEL, FOR_SCRIPTS]
        self.offered_first.append(first)
        return str(self.path), self.chosen


def test_the_results_go_to_a_german_excel_and_then_to_scripts_as_chosen(qtbot, model_window: MainWindow,
                                                                       synthetic_set, tmp_path, monkeypatch):
    model_window.csv_choice.decimal_mark = lambda: ","  # a German desktop's regional settings
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:2])
    dialog = SaveDialog(monkeypatch, tmp_path / "results.csv")
    model_window.export_csv_dialog()
    text = dialog.path.read_text(encoding="utf-8")
    assert text.startswith("\ufefffile;score;threshold;verdict")
    rows = list(csv.DictReader(text[1:].splitlines(), delimiter=";"))
    assert len(rows) == 2 and all("," in row["score"] and "." not in row["score"] for row in rows)
    assert float(rows[0]["threshold"].replace(",", ".")) == pytest.approx(model_window.model.threshold, abs=1e-6)

    dialog.chosen = FOR_SCRIPTS
    model_window.export_csv_dialog()
    assert dialog.path.read_text(encoding="utf-8").startswith("file,score,threshold,verdict")
    model_window.export_csv_dialog()
    assert dialog.offered_first == [FOR_EXCEL, FOR_EXCEL, FOR_SCRIPTS]  # the last choice offered first
    # and on the next start, from the window's settings
    again = CsvChoice(model_window.settings.settings)
    dialog.chosen = FOR_EXCEL
    assert again.ask(model_window, "Export results", str(tmp_path))[1].byte_order_mark
    assert dialog.offered_first[-1] == FOR_SCRIPTS


def test_the_history_exports_for_excel_as_chosen(qtbot, tmp_path, monkeypatch):
    store_path = tmp_path / "record.sqlite"
    with open_store(store_path, "line3") as store:
        store.add(InspectionRecord(datetime(2026, 12, 1, 15, 4, 5, tzinfo=timezone.utc), str(tmp_path / "Prüf.png"),
                                   1000, "0" * 64, "ab" * 32, "bottle", 2.5, 3.25, "NG", None, 41.5))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    panel = HistoryPanel(str(store_path), csv_choice=CsvChoice(settings, decimal_mark=lambda: ","))
    qtbot.addWidget(panel)
    dialog = SaveDialog(monkeypatch, tmp_path / "inspections.csv")
    with qtbot.waitSignal(panel.exported, timeout=30_000) as done:
        panel.export_dialog()
    assert done.args == [f"Wrote 1 part to {dialog.path}"]
    text = dialog.path.read_text(encoding="utf-8")
    (row,) = csv.DictReader(text[1:].splitlines(), delimiter=";")
    assert text.startswith("\ufeff") and row["image_path"].endswith("Prüf.png")
    assert (row["time_utc"], row["score"], row["threshold"], row["inspection_ms"]) == (
        "2026-12-01 15:04:05", "3,250000", "2,500000", "41,500")
    panel.shutdown()
