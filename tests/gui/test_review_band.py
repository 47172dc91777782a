"""The review band in the window: REVIEW verdicts in the list, the verdict panel, the counts, the export
and the record, all following the document's band as it moves."""

from __future__ import annotations

import csv

import numpy as np

from patchcore_gui.gui.results_model import VERDICT_COLOURS
from patchcore_gui.record import RecordFilter, open_store

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait


def test_doubtful_parts_are_review_everywhere_in_the_window(qtbot, model_window, synthetic_set, tmp_path):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good + synthetic_set.test_defective)
    document = model_window.document
    good_scores = np.sort([i.score for i in model_window.results.items() if "good" in str(i.path)])
    bad_scores = np.sort([i.score for i in model_window.results.items() if "good" not in str(i.path)])
    document.set_threshold(float(good_scores[-1] + bad_scores[0]) / 2)
    document.set_review_from(float(good_scores[-3] + good_scores[-2]) / 2)  # the two worst good parts: REVIEW
    counts = model_window.results.counts()
    assert (counts["OK"], counts["REVIEW"], counts["NG"]) == (len(good_scores) - 2, 2, len(bad_scores))
    shown = model_window.side_panel.verdict_panel.counts.text()
    assert "REVIEW</b> 2" in shown and VERDICT_COLOURS["REVIEW"].name() in shown

    # a REVIEW part, selected: the big verdict says REVIEW in the review colour and why
    panel = model_window.side_panel.verdict_panel
    for row in range(model_window.results_panel.proxy.rowCount()):
        model_window.results_panel.select_row(row)
        if document.verdict(model_window.shown.item.score) == "REVIEW":
            break
    assert panel.text == "REVIEW" and VERDICT_COLOURS["REVIEW"].name() in panel.verdict.styleSheet()
    assert "for a person to look at" in panel.detail.text()

    # the CSV says REVIEW and where the band starts
    table = tmp_path / "results.csv"
    assert model_window.export_csv(table)
    rows = list(csv.DictReader(table.open()))
    assert sum(r["verdict"] == "REVIEW" for r in rows) == 2
    assert {float(r["review_from"]) for r in rows} == {round(document.review_from, 6)}

    # the record: each part with the band in force, and the band's move in the audit trail
    target = model_window.record.target
    qtbot.waitUntil(lambda: _review_moves(target) >= 1, timeout=JOB_TIMEOUT_MS)
    model_window.clear_results()
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good)  # inspected again, now under the band
    qtbot.waitUntil(lambda: _count(target, "REVIEW") >= 2, timeout=JOB_TIMEOUT_MS)
    with open_store(target, "reader", create=False) as store:
        reviewed = store.inspections(RecordFilter(verdict="REVIEW"))
    assert {r.record.review_from for r in reviewed} == {document.review_from}

    document.set_review_from(None)
    assert model_window.results.counts()["REVIEW"] == 0


def _count(target: str, verdict: str) -> int:
    with open_store(target, "reader", create=False) as store:
        return store.count(RecordFilter(verdict=verdict))


def _review_moves(target: str) -> int:
    with open_store(target, "reader", create=False) as store:
        return sum(change.kind == "review band moved" for change in store.model_changes())
