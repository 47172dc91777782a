"""The results CSV says on its own what it holds: which model, which threshold and from where, when,
and whether all rows or only the NG ones were written; standard CSV readers read it as it is."""

from __future__ import annotations

import csv
import dataclasses
from datetime import datetime

import numpy as np

from patchcore_gui.core.model_file import load_model, save_model
from patchcore_gui.core.results import (CSV_COLUMNS, NG_ONLY, ResultRow, ResultsSource, csv_written_message,
                                        inspection_time, model_identity, results_csv_text, rows_to_write,
                                        write_results_csv)

ROWS = [ResultRow("good/000.png", 10.0, 20.0, inspected_at="2026-11-28T09:41:05.123+01:00"),
        ResultRow("crack/000.png", 31.5, 20.0, inspected_at="2026-11-28T09:41:05.190+01:00"),
        ResultRow("bad.png", None, 20.0, "cannot read 'bad.png': empty file (0 bytes)", "2026-11-28T09:41:05.200+01:00")]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_every_row_names_model_threshold_source_time_and_selection(fitted, tmp_path):
    model_file = save_model(fitted.model, tmp_path / "line3.patchcore")
    source = ResultsSource.of(fitted.model, model_file)
    table = write_results_csv(tmp_path / "results.csv", ROWS, source)
    rows = read_rows(table)
    assert tuple(rows[0]) == CSV_COLUMNS and CSV_COLUMNS[:5] == ("file", "score", "threshold", "verdict", "error")
    assert [row["verdict"] for row in rows] == ["OK", "NG", "ERROR"]
    assert {(row["model"], row["model_id"], row["threshold_source"], row["rows_written"]) for row in rows} == {
        ("line3.patchcore", model_identity(fitted.model), "learned", "all")}
    assert [row["inspected_at"] for row in rows] == [row.inspected_at for row in ROWS]
    assert rows[2]["score"] == "" and "empty file" in rows[2]["error"]


def test_a_threshold_moved_by_hand_is_said_to_be_set_by_user(fitted):
    moved = fitted.model.with_threshold(fitted.model.threshold * 1.3)
    assert ResultsSource.of(moved, None).threshold_source == "set by user"
    assert ResultsSource.of(moved, None).model == "not saved"
    back = moved.with_threshold(moved.default_threshold)
    assert ResultsSource.of(back, None).threshold_source == "learned"
    assert ResultsSource.of(None, None) == ResultsSource()  # rows without a model: the columns stay empty


def test_model_identity_names_one_build_whatever_its_threshold_or_file(fitted, tmp_path):
    identity = model_identity(fitted.model)
    assert len(identity) == 12 and int(identity, 16) >= 0
    assert model_identity(fitted.model.with_threshold(99.0)) == identity
    assert model_identity(load_model(save_model(fitted.model, tmp_path / "copy.patchcore"))) == identity
    other_bank = fitted.model.memory_bank.copy()
    other_bank[0, 0] += 1.0
    assert model_identity(dataclasses.replace(fitted.model, memory_bank=other_bank)) != identity
    assert model_identity(dataclasses.replace(fitted.model, created="2020-01-01T00:00:00+00:00")) != identity


def test_ng_only_writes_the_ng_rows_and_says_so(tmp_path):
    source = ResultsSource("line3.patchcore", "0123456789ab", "set by user", NG_ONLY)
    chosen = rows_to_write(ROWS, ng_only=True)
    rows = read_rows(write_results_csv(tmp_path / "ng.csv", chosen, source))
    assert [(row["file"], row["rows_written"]) for row in rows] == [("crack/000.png", "NG only")]
    assert rows_to_write(ROWS, ng_only=False) == ROWS
    assert csv_written_message(tmp_path / "ng.csv", 1, 3, source) == (
        "Wrote 1 of 3 rows (NG only, as the list shows) to ng.csv: model line3.patchcore, threshold set by user")
    assert csv_written_message("all.csv", 3, 3, dataclasses.replace(source, rows_written="all")).startswith(
        "Wrote all 3 rows to all.csv")


def test_odd_file_names_stay_one_field(tmp_path):
    odd = ResultRow('line 3, "left"/part;1\n.png', 1.0, 2.0, inspected_at=inspection_time())
    text = results_csv_text([odd])
    (row,) = list(csv.DictReader(text.splitlines(keepends=True)))
    assert row["file"] == odd.file and row["verdict"] == "OK"


def test_inspection_time_is_iso_with_offset():
    stamp = datetime.fromisoformat(inspection_time())
    assert stamp.utcoffset() is not None and abs((datetime.now().astimezone() - stamp).total_seconds()) < 5
    assert np.isfinite(stamp.timestamp())
