"""The History panel on a real store: filters, yield per hour, a past part again, CSV, reading beside a writer."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from patchcore_gui.gui.csv_choice import CsvChoice
from patchcore_gui.gui.history_panel import HistoryPanel, days_shown
from patchcore_gui.gui.window_record import RecordedAs
from patchcore_gui.line.kept_images import OkImagesKept
from patchcore_gui.line.shifts import ShiftPlan
from patchcore_gui.record import InspectionRecord, RecordFilter, open_store

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tests" / "record" / "writer.py"
TIMEOUT_MS = 30_000


@pytest.fixture
def recorded(tmp_path):
    """Nine parts over the last three hours (two NG, one ERROR) by two models; the first image exists."""
    store_path = tmp_path / "inspections.sqlite"
    image = tmp_path / "part_000.png"
    image.write_bytes(b"\x89PNG stand-in")
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    with open_store(store_path, "line3") as store:
        for number in range(9):
            verdict = "NG" if number in (2, 5) else "ERROR" if number == 7 else "OK"
            model = "bottle" if number < 6 else "bottle-v2"
            path = image if number == 0 else tmp_path / f"part_{number:03d}.png"
            store.add(InspectionRecord(now - timedelta(hours=2) + timedelta(minutes=20 * number), str(path),
                                       image.stat().st_size if number == 0 else 1000, "0" * 64, model[-2:] * 32,
                                       model, 2.5, None if verdict == "ERROR" else (3.1 if verdict == "NG" else 1.2),
                                       verdict, "cannot read" if verdict == "ERROR" else None, 40.0 + number))
    return store_path, image


def load(qtbot, panel: HistoryPanel) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.refresh()


@pytest.fixture
def panel(qtbot, recorded, settings):
    widget = HistoryPanel(str(recorded[0]), csv_choice=CsvChoice(settings))  # remembered in the test's own file
    qtbot.addWidget(widget)
    widget.show()
    load(qtbot, widget)
    yield widget
    widget.shutdown()


def test_lists_the_newest_parts_counts_them_and_charts_yield_per_hour(panel):
    assert panel.table_model.rowCount() == 9
    assert panel.table_model.row(0).record.verdict == "OK" and panel.table_model.row(1).record.verdict == "ERROR"
    assert "9 parts: 6 OK, 2 NG, 1 errors, yield 66.67%" in panel.status.text()
    assert len(panel.chart.starts) == 3 and panel.chart.yields.tolist() == pytest.approx([200 / 3] * 3)  # one of three not OK each hour


def test_the_chart_says_the_days_its_axis_shows_as_it_is_panned(panel):
    axis = panel.chart.getAxis("bottom")
    start, end = panel.chart.viewRange()[0]
    assert axis.labelText == days_shown(start, end) and axis.labelText.startswith(f"{datetime.now():%Y-%m-%d}"[:8])
    month_ago = (datetime.now() - timedelta(days=30)).replace(hour=12, minute=0)
    panel.chart.setXRange(month_ago.timestamp(), (month_ago + timedelta(hours=1)).timestamp(), padding=0)
    assert axis.labelText == month_ago.date().isoformat()  # hours of a day a month ago: the axis says 12:00 only
    panel.chart.setXRange(month_ago.timestamp(), (month_ago + timedelta(days=1)).timestamp(), padding=0)
    assert axis.labelText == f"{month_ago.date().isoformat()} to {(month_ago + timedelta(days=1)).date().isoformat()}"


def test_filters_by_verdict_and_model(qtbot, panel):
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("NG")
    assert [panel.table_model.row(i).record.verdict for i in range(panel.table_model.rowCount())] == ["NG", "NG"]
    assert [panel.model_box.itemText(i).split()[0] for i in range(panel.model_box.count())] == ["All", "bottle",
                                                                                               "bottle-v2"]
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("All")
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.model_box.setCurrentIndex(2)
    assert panel.table_model.rowCount() == 3 and "3 parts" in panel.status.text()


def test_finds_a_part_by_its_file_name_and_filters_by_station(qtbot, panel, recorded):
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        qtbot.keyClicks(panel.part_edit, "PART_002")  # one read once typing pauses; 80-140 min ago
    assert panel.table_model.rowCount() == 1 and panel.table_model.row(0).record.image_path.endswith("part_002.png")
    assert "1 parts: 0 OK, 1 NG" in panel.status.text()
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.period.setCurrentText("Last hour")
    assert panel.table_model.rowCount() == 0 and '"Everything" reaches older parts' in panel.status.text()
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.period.setCurrentText("Everything")
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.part_edit.clear()
    assert panel.table_model.rowCount() == 9

    with open_store(recorded[0], "line4") as store:
        store.add(InspectionRecord(datetime.now(timezone.utc), "/cam/line4_part.png", 10, "1" * 64, "cd" * 32,
                                   "gasket", 1.0, 0.5, "OK", None, 30.0))
    load(qtbot, panel)
    assert [panel.station_box.itemText(i) for i in range(panel.station_box.count())] == ["All", "line3", "line4"]
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.station_box.setCurrentText("line4")
    assert [panel.table_model.row(i).station for i in range(panel.table_model.rowCount())] == ["line4"]


def test_filters_by_time(qtbot, panel):
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.period.setCurrentText("Last hour")
    newest = panel.table_model.row(0).record.time
    assert all(datetime.now(timezone.utc) - panel.table_model.row(i).record.time <= timedelta(hours=1)
               for i in range(panel.table_model.rowCount()))
    assert panel.table_model.rowCount() < 9 and newest >= datetime.now(timezone.utc) - timedelta(hours=1)
    assert not panel._until_label.isVisibleTo(panel)  # no stray "to" beside a named period
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.period.setCurrentText("Between…")
    assert panel.since_edit.isVisibleTo(panel) and panel._until_label.isVisibleTo(panel)


def test_a_past_part_opens_again_when_its_image_is_there_and_says_so_when_not(qtbot, panel, recorded):
    rows = {Path(panel.table_model.row(i).record.image_path).name: i for i in range(panel.table_model.rowCount())}
    with qtbot.waitSignal(panel.reopen, timeout=1000) as opened:
        panel.open_row(rows["part_000.png"])
    assert opened.args == [recorded[1], RecordedAs("line3", str(recorded[1]))]  # its record, to compare with
    assert panel.status.text().startswith("Inspecting part_000.png again with the model open now (recorded ")
    with qtbot.assertNotEmitted(panel.reopen):
        panel.open_row(rows["part_004.png"])
    assert panel.status.text().startswith(f"The image is no longer at {recorded[1].parent / 'part_004.png'}")
    assert "OK, score 1.2000, model bottle, threshold 2.5000" in panel.status.text()
    recorded[1].write_bytes(b"another part now")
    with qtbot.waitSignal(panel.reopen, timeout=1000):
        panel.open_row(rows["part_000.png"])
    assert "The file has changed since" in panel.status.text()


def test_a_part_the_line_moved_opens_from_where_it_was_sorted(qtbot, panel, recorded):
    camera_path = recorded[1].parent / "part_004.png"
    sorted_path = recorded[1].parent / "sorted" / "OK" / "part_004.png"
    sorted_path.parent.mkdir(parents=True)
    sorted_path.write_bytes(b"x" * 1000)
    with open_store(recorded[0], "line3") as store:
        assert store.note_sorted(str(camera_path), "0" * 64, str(sorted_path)) == 1
    load(qtbot, panel)
    row = next(i for i in range(panel.table_model.rowCount())
               if panel.table_model.row(i).record.image_path == str(camera_path))
    tip = panel.table_model.data(panel.table_model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip == f"{camera_path} -> {sorted_path}"  # both places, where the list shows the name only
    with qtbot.waitSignal(panel.reopen, timeout=1000) as opened:
        panel.open_row(row)
    assert opened.args == [sorted_path, RecordedAs("line3", str(camera_path))]
    assert "has changed" not in panel.status.text()
    sorted_path.unlink()
    with qtbot.assertNotEmitted(panel.reopen):
        panel.open_row(row)
    assert panel.status.text().startswith(f"The image is no longer at {camera_path} or {sorted_path}")


def test_a_part_whose_sorted_ok_image_the_line_removed_says_when_and_why(qtbot, panel, recorded, tmp_path):
    camera_path = recorded[1].parent / "part_004.png"
    day = (datetime.now() - timedelta(days=30)).date()
    sorted_path = tmp_path / "sorted" / day.isoformat() / "OK" / "batch-7" / "part_004.png"
    sorted_path.parent.mkdir(parents=True)
    sorted_path.write_bytes(b"x" * 1000)
    with open_store(recorded[0], "line3") as store:
        store.note_sorted(str(camera_path), "0" * 64, str(sorted_path))
        # as a line keeping 14 days of OK images sweeps and audits it
        for change in OkImagesKept(tmp_path / "sorted", 14).sweep(datetime.now().date()):
            store.record_model_change(change.kind, "ab" * 32, "bottle", 2.5, change.detail)
    assert not sorted_path.exists()
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("OK")
    row = next(i for i in range(panel.table_model.rowCount())
               if panel.table_model.row(i).record.image_path == str(camera_path))
    with qtbot.assertNotEmitted(panel.reopen):
        panel.open_row(row)
    assert panel.status.text().startswith(
        f"The image is no longer at {camera_path} or {sorted_path}: line3's line removed it on "
        f"{datetime.now():%Y-%m-%d} ")
    assert (f"with its day's sorted OK images ({tmp_path / 'sorted' / day.isoformat() / 'OK'}: 1 image, 1 kB, "
            "older than 14 days), so it cannot be shown again (recorded ") in panel.status.text()


def test_exports_every_part_of_the_filter_as_csv(qtbot, panel, tmp_path):
    target = tmp_path / "export.csv"
    threads = []
    panel.exported.connect(lambda _: threads.append(threading.current_thread()))
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT_MS) as done:
        panel.export_csv(target)
    assert done.args == [f"Wrote 9 parts to {target}"]
    assert threads == [threading.main_thread()]  # said on the window's thread, not the worker's
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 9 and {r["model_name"] for r in rows} == {"bottle", "bottle-v2"}


def test_a_store_with_nothing_yet_says_so(qtbot, tmp_path):
    panel = HistoryPanel(str(tmp_path / "none.sqlite"))
    qtbot.addWidget(panel)
    load(qtbot, panel)
    assert panel.status.text() == f"Nothing recorded yet in {tmp_path / 'none.sqlite'}"
    assert not (tmp_path / "none.sqlite").exists()
    # the chart's time axis spans the filter's time (last 7 days), not 0 to 1 s of 1970 ("00.050 00.100 ...")
    (left, right), _ = panel.chart.viewRange()
    week = 7 * 24 * 3600
    assert abs((right - left) - 1.04 * week) < 0.01 * week and abs(right - 0.02 * week - time.time()) < 600


def test_reading_while_a_line_writes_neither_fails_nor_harms_the_store(qtbot, panel, recorded):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    line = subprocess.Popen([sys.executable, str(WRITER), str(recorded[0]), "line4", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line.stdout.readline()  # it writes
        counts = []
        for _ in range(5):
            load(qtbot, panel)
            assert not panel.status.text().startswith("Cannot read"), panel.status.text()
            counts.append(panel.snapshot.count)
        assert counts == sorted(counts) and counts[-1] > 9
    finally:
        line.send_signal(signal.SIGKILL)
        line.wait(30)
    with sqlite3.connect(recorded[0]) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_changes_tab_shows_the_audit_trail_of_the_filter_newest_first(qtbot, panel, recorded):
    """A gap in the parts is explained beside them: the camera folder gone, a threshold moved."""
    now = datetime.now(timezone.utc)
    with open_store(recorded[0], "line3") as store:
        store.record_model_change("camera folder gone", "ab" * 32, "bottle", 2.5, "/srv/cam",
                                  time=now - timedelta(minutes=50))
        store.record_model_change("camera folder back", "ab" * 32, "bottle", 2.5, "/srv/cam",
                                  time=now - timedelta(minutes=10))
        store.record_model_change("threshold moved", "ab" * 32, "bottle", 2.0, "", time=now - timedelta(days=9))
    load(qtbot, panel)
    assert panel.tabs.tabText(1) == "Changes (2)"  # the last 7 days: the older change is left out
    rows = [[panel.changes_model.data(panel.changes_model.index(row, column)) for column in (1, 2, 3, 4, 5)]
            for row in range(panel.changes_model.rowCount())]
    assert rows == [["line3", "camera folder back", "bottle (abababab)", "2.5000", "/srv/cam"],
                    ["line3", "camera folder gone", "bottle (abababab)", "2.5000", "/srv/cam"]]
    panel.period.setCurrentText("Everything")
    qtbot.waitUntil(lambda: panel.tabs.tabText(1) == "Changes (3)", timeout=TIMEOUT_MS)
    # the export follows the shown tab: on Changes, the changes of the filter
    panel.tabs.setCurrentIndex(1)
    target = recorded[0].parent / "changes.csv"
    with qtbot.waitSignal(panel.exported, timeout=TIMEOUT_MS) as done:
        panel.export_csv(target)
    assert done.args == [f"Wrote 3 changes to {target}"]
    assert [row["what"] for row in csv.DictReader(target.open())] == [
        "threshold moved", "camera folder gone", "camera folder back"]


def test_this_shift_and_the_previous_follow_the_plants_shifts_or_the_day(panel):
    plan = ShiftPlan.parse("06:00 14:00 22:00")
    panel.shifts = lambda: plan
    now = datetime.now().astimezone()
    panel.period.setCurrentText("This shift")
    this = panel.record_filter()
    start = plan.start_of(now)
    assert (this.since, this.until) == (start, None)
    panel.period.setCurrentText("Previous shift")
    previous = panel.record_filter()
    assert (previous.since, previous.until) == (start - timedelta(hours=8), start)
    panel.shifts = ShiftPlan  # none given on the Line tab: a shift is a day
    midnight = datetime.combine(now.date(), datetime.min.time()).astimezone()
    assert (panel.record_filter().since, panel.record_filter().until) == (midnight - timedelta(days=1), midnight)


def test_the_chart_gives_the_yield_per_shift_by_the_plants_shifts(qtbot, panel):
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = (hour - timedelta(hours=1)).astimezone()  # the parts are from two hours before this hour on
    plan = ShiftPlan.parse(f"{start:%H:%M}")
    panel.shifts = lambda: plan
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.per.setCurrentIndex(panel.per.findData("shift"))
    # three parts (one NG) before the shift's start, six (one NG, one error) since; each bar a day wide
    assert panel.chart.yields.tolist() == pytest.approx([200 / 3, 400 / 6])
    assert panel.chart.starts.tolist() == [(start - timedelta(days=1)).timestamp(), start.timestamp()]
    assert panel.chart.ends.tolist() == [start.timestamp(), (start + timedelta(days=1)).timestamp()]
    assert "9 parts: 6 OK, 2 NG, 1 errors" in panel.status.text()
    odd = ShiftPlan.parse("06:10")
    panel.shifts = lambda: odd
    load(qtbot, panel)
    assert panel.status.text() == ("Cannot read the inspection record: a summary per shift needs shifts that start "
                                   "on the quarter hour (06:10 does not)")


def test_every_model_is_read_once_then_the_audit_trails_and_the_parts_models(qtbot, panel, recorded, monkeypatch):
    """Each refresh read every part for its model (0.7 s per million parts, a refresh per part recorded)."""
    from patchcore_gui.record.store import InspectionStore

    def models_of(box):
        return [box.itemText(i).split()[0] for i in range(box.count())]

    assert models_of(panel.model_box) == ["All", "bottle", "bottle-v2"]
    every_part_read = []
    monkeypatch.setattr(InspectionStore, "models", lambda store: every_part_read.append(store) or [])
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("NG")  # the parts read are bottle's only: bottle-v2 stays offered
    assert models_of(panel.model_box) == ["All", "bottle", "bottle-v2"]
    with open_store(recorded[0], "line4") as store:  # a new model, opened by a recorder, its parts not read yet
        store.record_model_change("model opened", "cd" * 32, "gasket", 1.0)
    load(qtbot, panel)
    assert models_of(panel.model_box) == ["All", "bottle", "bottle-v2", "gasket"]
    assert every_part_read == []


def test_a_person_decides_the_selected_part_and_the_list_and_counts_follow(qtbot, panel, recorded):
    rows = {Path(panel.table_model.row(i).record.image_path).name: i for i in range(panel.table_model.rowCount())}
    panel.table.selectRow(rows["part_002.png"])  # an NG part: a false reject, passed after a look
    bar = panel.decision_bar
    bar.person.clear()
    assert len(panel.chart.decided_at) == 0  # nobody decided anything yet
    with qtbot.assertNotEmitted(panel.decided):
        bar.buttons["OK"].click()
    assert panel.status.text().startswith("Write your name beside the buttons first")
    bar.person.setText("A. Meyer")
    bar.note.setText("dust on the lens")
    threads = []
    panel.decided.connect(lambda *_decided: threads.append(threading.current_thread()))
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        bar.buttons["OK"].click()
    assert panel.status.text().startswith("Recorded: part_002.png (the machine's verdict NG) decided OK by A. Meyer ")
    assert ("(dust on the lens). So that the model passes such parts itself: Open part, then Model > This part is "
            "good. 9 parts: 6 OK, 2 NG, 1 errors, yield 66.67%") in panel.status.text()
    assert panel.status.text().endswith("; after people's decisions 7 OK, yield 77.78%")
    assert bar.note.text() == "" and panel.csv_choice.settings.value("history/decided_by") == "A. Meyer"
    assert threads == [threading.main_thread()]  # the list read again from the window's thread
    row = next(i for i in range(panel.table_model.rowCount())
               if panel.table_model.row(i).record.image_path.endswith("part_002.png"))
    cell = panel.table_model.index(row, panel.table_model.HEADERS.index("Decided"))
    assert panel.table_model.data(cell) == "OK by A. Meyer"
    assert panel.table_model.data(cell, Qt.ItemDataRole.ToolTipRole).endswith("(dust on the lens), at " +
                                                                             panel.station())
    assert panel.table_model.data(panel.table_model.index(row, 2)) == "NG"  # the machine's verdict stays
    # the chart marks the hour's yield once the decision counts, beside its bar of the machine's verdicts
    assert panel.chart.yields_after_decisions.tolist() == pytest.approx([100.0])
    middle = panel.chart.decided_at[0]
    [hour] = np.flatnonzero((panel.chart.starts < middle) & (middle < panel.chart.ends))
    assert panel.chart.yields[hour] == pytest.approx(200 / 3)
    assert panel.chart.decided.data["y"].tolist() == pytest.approx([100.0])
    assert panel.chart.getAxis("bottom").labelText.endswith("; ▬ yield after people's decisions")
    with open_store(recorded[0], "reader") as store:
        (stored,) = store.inspections(RecordFilter(part="part_002"))
    assert (stored.decision.verdict, stored.decision.person, stored.decision.note) == ("OK", "A. Meyer",
                                                                                       "dust on the lens")


def test_the_review_parts_nobody_decided_are_a_filter_of_their_own(qtbot, panel, recorded):
    with open_store(recorded[0], "line3") as store:
        ids = [store.add(InspectionRecord(datetime.now(timezone.utc) - timedelta(minutes=minutes),
                                          f"/camera/review_{minutes}.png", 1000, "0" * 64, "ab" * 32, "bottle", 2.5,
                                          2.2, "REVIEW", None, 40.0, review_from=2.0)) for minutes in (5, 6)]
        store.decide(ids[0], "NG", "A. Meyer")
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("REVIEW, undecided")
    assert [panel.table_model.row(i).id for i in range(panel.table_model.rowCount())] == [ids[1]]
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("Decided NG")  # what people rejected, by their newest decision
    assert [panel.table_model.row(i).id for i in range(panel.table_model.rowCount())] == [ids[0]]
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("Decided OK")
    assert panel.table_model.rowCount() == 0 and panel.status.text().startswith("No recorded part matches")
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("All")
    assert ", 2 REVIEW (1 undecided), " in panel.status.text()


def test_a_person_decides_review_part_after_part_from_the_keys_and_the_list_goes_on(qtbot, panel, recorded, tmp_path):
    """The reviewer's round: the undecided REVIEW parts, the first opened, then Alt+O / Alt+N part after part; each
    decision selects and opens the next, until the list is done."""
    images = []
    with open_store(recorded[0], "line3") as store:
        for minutes in (5, 6, 7):
            image = tmp_path / f"review_{minutes}.png"
            image.write_bytes(b"\x89PNG stand-in")
            images.append(image)
            store.add(InspectionRecord(datetime.now(timezone.utc) - timedelta(minutes=minutes), str(image),
                                       image.stat().st_size, "0" * 64, "ab" * 32, "bottle", 2.5, 2.2, "REVIEW", None,
                                       40.0, review_from=2.0))
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("REVIEW, undecided")
    names = lambda: [Path(panel.table_model.row(i).record.image_path).name  # noqa: E731
                     for i in range(panel.table_model.rowCount())]
    assert names() == ["review_5.png", "review_6.png", "review_7.png"]
    panel.decision_bar.person.setText("A. Meyer")
    opened = []
    panel.reopen.connect(lambda path, _recorded: opened.append(path.name))
    panel.table.selectRow(0)
    panel.open_selected()
    assert opened == ["review_5.png"]

    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        qtbot.keyClick(panel.decision_bar.buttons["OK"], Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert names() == ["review_6.png", "review_7.png"]  # decided: it left the filter, the next took its place
    assert [index.row() for index in panel.table.selectionModel().selectedRows()] == [0]
    assert opened == ["review_5.png", "review_6.png"]  # opened, as the decided one was
    assert "decided OK by A. Meyer" in panel.status.text() and "Inspecting review_6.png again" in panel.status.text()

    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        qtbot.keyClick(panel.decision_bar.buttons["NG"], Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert names() == ["review_7.png"] and opened[-1] == "review_7.png"
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.decision_bar.buttons["OK"].click()
    assert names() == [] and panel.status.text().endswith("That was the last part of the list.")
    with open_store(recorded[0], "reader") as store:
        decided = {Path(stored.record.image_path).name: stored.decision.verdict
                   for stored in store.inspections(RecordFilter(verdict="REVIEW"))}
    assert decided == {"review_5.png": "OK", "review_6.png": "NG", "review_7.png": "OK"}

    # in a list the decided part stays in, the next one below it is selected; not opened, as it was not
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.verdict.setCurrentText("REVIEW")
    panel.table.selectRow(1)
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        panel.decision_bar.buttons["NG"].click()
    assert [index.row() for index in panel.table.selectionModel().selectedRows()] == [2]
    assert opened[-1] == "review_7.png" and len(opened) == 3


def test_the_selected_part_stays_selected_when_the_list_is_read_again_with_new_parts(qtbot, panel, recorded):
    """The list is read again after every part the window records (a part opened again from it is recorded again
    where it differs): a person's selection must not go."""
    panel.table.selectRow(2)
    selected = panel.table_model.row(2).id
    with open_store(recorded[0], "line3") as store:
        # after every part of the fixture's, some of which lie later this hour
        store.add(InspectionRecord(datetime.now(timezone.utc) + timedelta(hours=1), "/camera/newest.png", 1000,
                                   "0" * 64, "ab" * 32, "bottle", 2.5, 1.2, "OK", None, 40.0))
    load(qtbot, panel)
    assert Path(panel.table_model.row(0).record.image_path).name == "newest.png"
    [row] = panel.table.selectionModel().selectedRows()
    assert (row.row(), panel.table_model.row(row.row()).id) == (3, selected)
