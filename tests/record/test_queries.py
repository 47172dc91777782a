"""Reading the record: filters, the audit trail, and summaries per local hour and day (DST included)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from patchcore_gui.record import InspectionRecord, RecordFilter, open_store
from patchcore_gui.record.queries import select_inspections, summarize

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +5:30: hours that start at :30 UTC


def record(moment: datetime, verdict: str, ms: float = 40.0, model: str = "bottle", number: int = 0) -> InspectionRecord:
    score = {"OK": 1.0, "NG": 3.0, "ERROR": None}[verdict]
    return InspectionRecord(moment, f"/camera/{moment:%H%M%S}_{number}.png", 10, f"{number:064x}",
                            ("a" if model == "bottle" else "b") * 64, model, 2.5, score, verdict,
                            "cannot read" if verdict == "ERROR" else None, None if verdict == "ERROR" else ms)


@pytest.fixture
def shift(store_target):
    """Line 3 on 2026-03-10 in Berlin (UTC+1): 08:00-08:59 four parts, 09:00-09:59 three; line 4 one part."""
    local = lambda hour, minute: datetime(2026, 3, 10, hour, minute, tzinfo=BERLIN)  # noqa: E731
    with open_store(store_target, "line3") as line3, open_store(store_target, "line4") as line4:
        for number, (moment, verdict, ms) in enumerate([
                (local(8, 0), "OK", 40.0), (local(8, 20), "OK", 44.0), (local(8, 40), "NG", 41.0),
                (local(8, 59), "ERROR", 0), (local(9, 0), "OK", 50.0), (local(9, 30), "NG", 52.0),
                (local(9, 45), "OK", 60.0)]):
            line3.add(record(moment, verdict, ms, number=number))
        line4.add(record(local(8, 10), "OK", 30.0, model="gasket", number=99))
        line3.record_model_change("model opened", "a" * 64, "bottle", 2.5, time=local(7, 55))
        line3.record_model_change("threshold moved", "a" * 64, "bottle", 2.7, detail="from 2.5000 to 2.7000",
                                  time=local(9, 10))
        yield line3


def test_records_come_back_as_written_in_time_order(shift):
    records = shift.inspections(RecordFilter(station="line3"))
    assert [r.record.verdict for r in records] == ["OK", "OK", "NG", "ERROR", "OK", "NG", "OK"]
    assert records[0].station == "line3" and records[0].record.time == datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc)
    assert records[3].record.score is None and records[3].record.error == "cannot read"
    assert [r.record.verdict for r in shift.inspections(RecordFilter(station="line3"), limit=2, newest_first=True)] == ["OK", "NG"]


def test_filters_by_time_verdict_model_and_station(shift):
    at = lambda hour, minute: datetime(2026, 3, 10, hour, minute, tzinfo=BERLIN)  # noqa: E731
    assert shift.count() == 8
    assert shift.count(RecordFilter(since=at(9, 0))) == 3  # since is inclusive
    assert shift.count(RecordFilter(until=at(9, 0))) == 5  # until is not
    assert shift.count(RecordFilter(since=at(8, 20), until=at(9, 30))) == 4
    assert shift.count(RecordFilter(verdict="NG")) == 2
    assert shift.count(RecordFilter(model="gasket")) == 1
    assert shift.count(RecordFilter(model="AAAAAAAA")) == 7  # a sha256 prefix, any case
    assert shift.count(RecordFilter(model="bott")) == 0  # names match whole
    assert shift.count(RecordFilter(station="line4")) == 1
    assert shift.models() == [("bottle", "a" * 64), ("gasket", "b" * 64)]
    with pytest.raises(ValueError, match="verdict"):
        RecordFilter(verdict="ng")


def test_finds_a_part_by_text_in_its_path_in_any_case_or_by_its_sha256(shift):
    (found,) = shift.inspections(RecordFilter(part="_5.PNG"))  # the camera named it; case does not matter
    assert found.record.image_path.endswith("_5.png") and found.record.verdict == "NG"
    assert shift.count(RecordFilter(part="%5")) == 0  # a LIKE wildcard in the text is a plain character
    assert shift.count(RecordFilter(part="/camera/")) == 8
    assert [r.station for r in shift.inspections(RecordFilter(part=f"{99:064x}"))] == ["line4"]  # the whole sha256
    assert shift.count(RecordFilter(part="0" * 12)) == 8  # its start
    assert shift.count(RecordFilter(part="_5.png", verdict="OK")) == 0  # with the other filters
    assert shift.summary(RecordFilter(part="_5.png")).total.ng == 1
    assert len(shift.model_changes(RecordFilter(part="_5.png"))) == 2  # the audit trail has no parts
    assert shift.stations() == ["line3", "line4"]


def test_the_audit_trail_says_who_moved_the_threshold_when(shift):
    changes = shift.model_changes(RecordFilter(since=datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)))
    assert [(c.kind, c.station, c.threshold, c.detail) for c in changes] == [
        ("threshold moved", "line3", 2.7, "from 2.5000 to 2.7000")]
    assert changes[0].time == datetime(2026, 3, 10, 8, 10, tzinfo=timezone.utc)
    assert len(shift.model_changes()) == 2


def test_summary_per_local_hour(shift):
    hours = shift.summary(RecordFilter(station="line3"), by="hour", zone=BERLIN).periods
    assert [(h.start, h.count, h.ok, h.ng, h.errors, h.median_ms) for h in hours] == [
        (datetime(2026, 3, 10, 8, tzinfo=BERLIN), 4, 2, 1, 1, 41.0),  # the ERROR has no time: median of 40, 41, 44
        (datetime(2026, 3, 10, 9, tzinfo=BERLIN), 3, 2, 1, 0, 52.0)]
    assert hours[0].yield_ == 0.5
    total = shift.summary(RecordFilter(station="line3"), by="hour", zone=BERLIN).total
    assert (total.start, total.count, total.ok, total.ng, total.errors, total.median_ms) == (None, 7, 4, 2, 1, 47.0)  # (44 + 50) / 2


def test_hours_in_a_half_hour_zone_start_at_half_past_utc(shift):
    hours = shift.summary(RecordFilter(station="line3"), by="hour", zone=KOLKATA).periods
    # 07:00-07:59 UTC is 12:30-13:29 in Kolkata: 08:00, 08:20 and 08:40 Berlin are in hour 12, the rest in 13
    assert [(h.start.hour, h.start.minute, h.count) for h in hours] == [(12, 0, 2), (13, 0, 3), (14, 0, 2)]


def test_an_empty_selection_summarises_to_zero_without_a_yield(shift):
    summary = shift.summary(RecordFilter(verdict="NG", model="gasket"), by="day")
    assert summary.periods == [] and (summary.total.count, summary.total.yield_, summary.total.median_ms) == (0, None, None)
    assert shift.summary().periods == []  # no periods unless asked


def test_days_follow_the_local_calendar_across_a_dst_change(store_target):
    # Berlin moves to summer time on 2026-03-29 at 02:00; the day of 03-29 has 23 hours
    with open_store(store_target, "line3") as store:
        moments = [datetime(2026, 3, 28, 23, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN),
                   datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 23, 59, tzinfo=BERLIN),
                   datetime(2026, 3, 30, 0, 1, tzinfo=BERLIN)]
        for number, moment in enumerate(moments):
            store.add(record(moment, "OK", number=number))
        days = store.summary(by="day", zone=BERLIN).periods
    assert [(d.start.isoformat(), d.count) for d in days] == [
        ("2026-03-28T00:00:00+01:00", 1), ("2026-03-29T00:00:00+01:00", 3), ("2026-03-30T00:00:00+02:00", 1)]


def test_without_a_zone_periods_are_in_this_pcs_local_time(shift):
    hours = shift.summary(RecordFilter(station="line3"), by="hour").periods
    assert [h.start.utcoffset() is not None for h in hours] == [True] * len(hours)
    assert hours[0].start.astimezone(timezone.utc) <= datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc)


def test_sqlite_summary_reads_the_summary_index_and_sorts_nothing(tmp_path):
    with open_store(tmp_path / "s.sqlite", "line3") as store, store.engine.connect() as connection:
        for where in (RecordFilter(), RecordFilter(since=datetime(2026, 3, 1, tzinfo=timezone.utc),
                                                   until=datetime(2026, 3, 2, tzinfo=timezone.utc)),
                      RecordFilter(since=datetime(2026, 3, 1, tzinfo=timezone.utc), station="line3"),
                      RecordFilter(station="line3")):
            statement = _summary_statement(connection, where)
            plan = " / ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement))
            assert "COVERING INDEX inspections_quarter" in plan and "TEMP B-TREE" not in plan, plan


def test_sqlite_summary_reads_the_decisions_and_each_decided_part_by_its_id_not_every_part(tmp_path):
    with open_store(tmp_path / "s.sqlite", "line3") as store, store.engine.connect() as connection:
        for where in (RecordFilter(), RecordFilter(since=datetime(2026, 3, 1, tzinfo=timezone.utc), station="line3")):
            plan = " / ".join(row[-1] for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + _summary_statement(connection, where, which=-1)))
            assert "SCAN decisions" in plan and "SEARCH inspections USING INTEGER PRIMARY KEY" in plan, plan
            assert "SCAN inspections" not in plan, plan


def test_sqlite_reads_a_stations_newest_parts_by_time_not_through_the_station_and_path_index(tmp_path):
    """Through that index a million parts of the one station were read and sorted for the newest 2,000
    (1.1 s for 7 days; by the time index 30 ms: docs/benchmarks.md)."""
    with open_store(tmp_path / "s.sqlite", "line3") as store, store.engine.connect() as connection:
        for where in (RecordFilter(station="line3"), RecordFilter(since=datetime(2026, 3, 1, tzinfo=timezone.utc),
                                                                  station="line3")):
            statement = str(select_inspections(where, limit=2000, newest_first=True).compile(
                store.engine, compile_kwargs={"literal_binds": True}))
            plan = " / ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement))
            assert "INDEX inspections_time" in plan and "autoindex" not in plan, plan


def _summary_statement(connection, where: RecordFilter, which: int = -2) -> str:
    """The SQL summarize runs (its last two statements: -2 the parts, -1 the decisions), with its parameters
    written in (as EXPLAIN needs them)."""
    captured = []
    from sqlalchemy import event

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        summarize(connection, where)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    statement, parameters = captured[which]
    for value in parameters:
        statement = statement.replace("?", repr(value) if isinstance(value, str) else str(value), 1)
    return statement


def test_select_inspections_can_limit_newest_first():
    assert "LIMIT" in str(select_inspections(RecordFilter(), limit=5, newest_first=True))
