"""A person's verdict on a recorded part: kept beside the machine's, the newest counting, read back with the part,
filtered on, and counted in the summary (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from patchcore_gui.record import RecordFilter, StoreError, open_store

from .test_queries import BERLIN, record

HOUR = datetime(2026, 3, 10, 8, 0, tzinfo=BERLIN)


@pytest.fixture
def line(store_target):
    """Line 3, 08:00-09:59: six parts, two of them REVIEW; line 4 one REVIEW part."""
    with open_store(store_target, "line3") as line3, open_store(store_target, "line4") as line4:
        ids = {}
        for number, (minutes, verdict) in enumerate([(0, "OK"), (10, "REVIEW"), (20, "NG"), (30, "OK"),
                                                     (70, "REVIEW"), (80, "OK")]):
            part = record(HOUR + timedelta(minutes=minutes), "NG" if verdict == "REVIEW" else verdict, number=number)
            ids[number] = line3.add(replace(part, verdict=verdict, review_from=0.5))
        ids["line4"] = line4.add(replace(record(HOUR, "NG", number=99), verdict="REVIEW", review_from=0.5))
        yield line3, ids


def test_a_decision_is_read_back_with_its_part_and_the_newest_counts(line):
    store, ids = line
    first = store.decide(ids[1], "ok", "  A.   Meyer ", "scratch  within tolerance",
                         time=HOUR + timedelta(minutes=15))
    assert (first.verdict, first.person, first.note, first.station) == ("OK", "A. Meyer", "scratch within tolerance",
                                                                        "line3")
    (part,) = store.inspections(RecordFilter(id=ids[1]))
    assert part.record.verdict == "REVIEW" and part.decision == first and part.final_verdict == "OK"
    store.decide(ids[1], "NG", "B. Chef", time=HOUR + timedelta(minutes=40))  # looked at again: the newest counts
    (part,) = store.inspections(RecordFilter(id=ids[1]))
    assert (part.decision.verdict, part.decision.person, part.final_verdict) == ("NG", "B. Chef", "NG")
    assert part.decision.said().startswith("NG by B. Chef ")
    others = [stored for stored in store.inspections() if stored.id != ids[1]]
    assert len(others) == 6 and all(stored.decision is None for stored in others)
    assert [stored.final_verdict for stored in others] == [stored.record.verdict for stored in others]


def test_a_decision_names_a_person_a_verdict_and_a_recorded_part(line):
    store, ids = line
    with pytest.raises(ValueError, match="names the person"):
        store.decide(ids[1], "OK", "   ")
    with pytest.raises(ValueError, match="OK or NG, not 'REVIEW'"):
        store.decide(ids[1], "REVIEW", "A. Meyer")
    with pytest.raises(StoreError, match="no part with id 999999"):
        store.decide(999999, "OK", "A. Meyer")
    assert all(stored.decision is None for stored in store.inspections())


def test_undecided_parts_are_those_nobody_decided(line):
    store, ids = line
    waiting = RecordFilter(verdict="REVIEW", undecided=True)
    assert sorted(stored.id for stored in store.inspections(waiting)) == sorted([ids[1], ids[4], ids["line4"]])
    store.decide(ids[4], "OK", "A. Meyer")
    assert sorted(stored.id for stored in store.inspections(waiting)) == sorted([ids[1], ids["line4"]])
    assert store.count(replace(waiting, station="line3")) == 1


def test_parts_are_found_by_their_newest_decision(line):
    """Which rejected parts did people pass? The newest decision counts: a part decided NG, then OK, is OK."""
    store, ids = line
    store.decide(ids[2], "NG", "A. Meyer", time=HOUR + timedelta(minutes=25))
    store.decide(ids[2], "OK", "B. Chef", "a false reject", time=HOUR + timedelta(minutes=50))
    store.decide(ids[1], "NG", "A. Meyer")
    store.decide(ids["line4"], "OK", "A. Meyer")
    passed = RecordFilter(decided="OK")
    assert sorted(stored.id for stored in store.inspections(passed)) == sorted([ids[2], ids["line4"]])
    assert [stored.id for stored in store.inspections(RecordFilter(decided="NG"))] == [ids[1]]
    assert [stored.id for stored in store.inspections(replace(passed, verdict="NG"))] == [ids[2]]  # false rejects
    assert store.count(replace(passed, station="line3")) == 1
    assert [stored.record.image_path for stored in store.iter_inspections(passed)] == [
        stored.record.image_path for stored in store.inspections(passed)]
    assert store.summary(passed).total.count == 2 and store.summary(passed).total.decided_ok == 2
    with pytest.raises(ValueError, match="OK or NG, not 'REVIEW'"):
        RecordFilter(decided="REVIEW")
    with pytest.raises(ValueError, match="both undecided and decided"):
        RecordFilter(decided="OK", undecided=True)


def test_the_summary_counts_what_decisions_changed_per_period(line):
    store, ids = line
    before = store.summary(RecordFilter(station="line3"), by="hour", zone=BERLIN)
    assert not before.total.decided and before.total.review_open == 2
    assert before.total.yield_after_decisions == before.total.yield_ == 3 / 6
    store.decide(ids[1], "OK", "A. Meyer")  # REVIEW at 08:10 passed
    store.decide(ids[2], "OK", "A. Meyer")  # the NG at 08:20 was a false reject
    store.decide(ids[3], "OK", "A. Meyer")
    store.decide(ids[3], "NG", "B. Chef")  # the OK at 08:30 had a defect the machine missed (the newest counts)
    store.decide(ids["line4"], "NG", "C. Kurz")  # another station's: not in line 3's summary
    after = store.summary(RecordFilter(station="line3"), by="hour", zone=BERLIN)
    eight, nine = after.periods
    assert (eight.count, eight.ok, eight.decided_ok, eight.ok_decided_ng, eight.review_decided) == (4, 2, 2, 1, 1)
    assert (eight.ok_after_decisions, eight.yield_after_decisions, eight.review_open) == (3, 3 / 4, 0)
    assert (nine.count, nine.ok_after_decisions, nine.review_open, nine.decided) == (2, 1, 1, False)
    assert (after.total.ok_after_decisions, after.total.review_open, after.total.yield_) == (4, 1, 3 / 6)
    assert store.summary(RecordFilter(since=HOUR + timedelta(minutes=25))).total.ok_after_decisions == 1
    everywhere = store.summary().total
    assert (everywhere.review_decided, everywhere.review_open) == (2, 1)


def test_a_stations_part_is_found_by_the_path_it_recorded_it_under_the_newest_record_first(line, store_target):
    store, ids = line
    path = store.inspections(RecordFilter(id=ids[2]))[0].record.image_path
    assert store.newest_of_image(path).id == ids[2]
    again = store.add(replace(store.inspections(RecordFilter(id=ids[2]))[0].record,
                              time=HOUR + timedelta(hours=3)))  # looked at again later: that record is the newest
    assert store.newest_of_image(path).id == again
    assert store.newest_of_image(path, station="line4") is None  # line 4 never recorded it
    assert store.newest_of_image("/camera/never.png") is None


def test_the_decisions_after_one_are_those_on_this_stations_parts_in_order_each_with_its_part(line, store_target):
    store, ids = line
    assert store.newest_decision_id() == 0 and store.decisions_after(0) == []
    before = store.decide(ids[1], "OK", "A. Meyer", time=HOUR + timedelta(minutes=15))
    start = store.newest_decision_id()
    assert start == before.id
    with open_store(store_target, "quality-office") as office:  # decided elsewhere: on line 3's parts, or line 4's
        on_line3 = office.decide(ids[4], "NG", "B. Kaya", "a crack", time=HOUR + timedelta(minutes=75))
        office.decide(ids["line4"], "OK", "B. Kaya", time=HOUR + timedelta(minutes=76))
    again = store.decide(ids[1], "NG", "B. Chef", time=HOUR + timedelta(minutes=77))
    found = store.decisions_after(start)
    assert [(part.id, part.decision.id) for part in found] == [(ids[4], on_line3.id), (ids[1], again.id)]
    assert (found[0].record.verdict, found[0].decision.person, found[0].decision.note) == ("REVIEW", "B. Kaya",
                                                                                          "a crack")
    assert found[0].decision.station == "quality-office" and store.decisions_after(again.id) == []
    assert [part.id for part in store.decisions_after(0, limit=1)] == [ids[1]]
