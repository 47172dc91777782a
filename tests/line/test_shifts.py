"""Shifts: the counters start again when a shift starts, and count what the shift recorded before a restart."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from patchcore_gui.core import PatchCoreError
from patchcore_gui.line import InspectionLine
from patchcore_gui.line import runner
from patchcore_gui.line.recording import StoreRecorder
from patchcore_gui.line.shifts import ShiftPlan
from patchcore_gui.record import open_store

from .conftest import FAST, drop

PLAN = ShiftPlan.parse("06:00 14:00 22:00")


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second)).astimezone()


def test_a_plan_is_read_in_any_order_and_a_wrong_time_is_one_line():
    assert ShiftPlan.parse("22:00,6:00; 14:00").starts == (time(6), time(14), time(22))
    assert ShiftPlan.parse("  ").starts == ()
    for wrong in ("25:00", "6", "06:60", "six"):
        with pytest.raises(PatchCoreError, match=f"'{wrong}' is not a time of day for a shift to start"):
            ShiftPlan.parse(wrong)


def test_the_shift_in_progress_and_the_next_across_midnight():
    day = date(2026, 11, 30)
    assert PLAN.start_of(local(day, 3)) == local(day - timedelta(days=1), 22)
    assert PLAN.next_start(local(day, 3)) == local(day, 6)
    assert PLAN.start_of(local(day, 14)) == local(day, 14) and PLAN.next_start(local(day, 14)) == local(day, 22)
    assert PLAN.next_start(local(day, 23)) == local(day + timedelta(days=1), 6)
    assert ShiftPlan().start_of(local(day, 3)) is None and ShiftPlan().next_start(local(day, 3)) is None


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def test_the_counters_start_again_when_a_shift_starts_and_when_asked(tmp_path, inspector, synthetic_set, run_line,
                                                                     monkeypatch):
    day = date.today()
    clock = Clock(local(day, 13, 59, 50))
    monkeypatch.setattr(runner, "_local_now", clock)
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector, folder, settings=replace(FAST, shifts=PLAN))
    running = run_line(line)
    assert line.snapshot().shift_started == local(day, 6)
    drop(synthetic_set.test_good[0], folder, "a.png")
    drop(synthetic_set.test_defective[0], folder, "b.png")
    running.wait_for(2)
    clock.moment = local(day, 14, 0, 3)  # the line notices within a second, between parts
    running.wait_until(lambda: len(running.shifts) == 1)
    (ended,) = running.shifts
    assert (ended.shift_started, ended.inspected, ended.ok, ended.ng) == (local(day, 6), 2, 1, 1)
    now = line.snapshot()
    assert (now.shift_started, now.inspected) == (local(day, 14), 0)  # at its time, not when it was noticed
    drop(synthetic_set.test_good[1], folder, "c.png")
    running.wait_for(3)
    running.wait_until(lambda: line.snapshot().inspected == 1)
    line.new_shift()  # the operator's: from now
    running.wait_until(lambda: len(running.shifts) == 2)
    assert running.shifts[1].inspected == 1 and line.snapshot().shift_started == clock.moment
    assert line.snapshot().inspected == 0
    running.stop()


def test_a_part_counts_in_the_shift_its_inspection_time_falls_in(tmp_path, inspector, synthetic_set, run_line,
                                                                   monkeypatch):
    """As the record's summary per shift counts it: a part inspected a moment before the shift starts, and
    concluded after the clock passed the start, is the ended shift's; one inspected after it, the new one's."""
    day = date.today()
    clock = Clock(local(day, 13, 59, 50))
    monkeypatch.setattr(runner, "_local_now", clock)
    inspected_at = [(local(day, 13, 59, 59), local(day, 14, 0, 1)), (local(day, 22, 0, 1), local(day, 21, 59, 59))]

    def inspected_then_the_clock_moves_on() -> datetime:
        at, clock.moment = inspected_at.pop(0)  # where the line's clock is when it concludes the part
        return at.astimezone(timezone.utc)

    monkeypatch.setattr(runner, "_now", inspected_then_the_clock_moves_on)
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector, folder, settings=replace(FAST, shifts=PLAN))
    running = run_line(line)
    drop(synthetic_set.test_defective[0], folder, "before.png")
    running.wait_for(1)
    running.wait_until(lambda: len(running.shifts) == 1)
    (ended,) = running.shifts
    assert (ended.shift_started, ended.inspected, ended.ng) == (local(day, 6), 1, 1)
    drop(synthetic_set.test_good[0], folder, "after.png")  # inspected after 22:00, before the line looked
    running.wait_for(2)
    running.wait_until(lambda: len(running.shifts) == 2)
    assert (running.shifts[1].shift_started, running.shifts[1].inspected) == (local(day, 14), 0)
    assert (line.snapshot().shift_started, line.snapshot().inspected, line.snapshot().ok) == (local(day, 22), 1, 1)
    running.stop()


def clock_at(monkeypatch, moment: datetime) -> Clock:
    """The line's local clock, held at ``moment`` until a test moves it."""
    clock = Clock(moment)
    monkeypatch.setattr(runner, "_local_now", clock)
    return clock


def camera(tmp_path: Path) -> Path:
    folder = tmp_path / "camera"
    folder.mkdir()
    return folder


class HeldInspections:
    """Side by side: the inspection of a part named ``ahead*`` ends only when :meth:`release` is called."""

    def __init__(self, inspector) -> None:
        self.real = inspector.inspect_paths
        self.released = threading.Event()
        self.holding = threading.Event()  # the part ahead is in its inspection

    def release(self) -> None:
        self.released.set()

    def __call__(self, paths, *args, **kwargs):
        if any(Path(path).name.startswith("ahead") for path in paths):
            self.holding.set()
            assert self.released.wait(30)
        return self.real(paths, *args, **kwargs)


def test_side_by_side_a_part_done_before_the_one_ahead_takes_its_time_and_its_shift(
        tmp_path, inspector, synthetic_set, run_line, monkeypatch):
    """The part behind ends at 13:59:59, the part ahead of it at 14:00:01; concluded after it (in arrival order),
    it took its own time and counted in the new shift, while the record's summary put it in the ended one."""
    day = date.today()
    clock_at(monkeypatch, local(day, 13, 59, 50))
    held = HeldInspections(inspector)
    monkeypatch.setattr(inspector, "inspect_paths", held)
    ended_at = [local(day, 13, 59, 59), local(day, 14, 0, 1)]

    def inspection_ended() -> datetime:
        at = ended_at.pop(0)
        if not ended_at:
            return at.astimezone(timezone.utc)
        held.release()  # the part behind is done: now the one ahead may end
        return at.astimezone(timezone.utc)

    monkeypatch.setattr(runner, "_now", inspection_ended)
    folder = camera(tmp_path)
    line = InspectionLine(inspector, folder, settings=replace(FAST, shifts=PLAN, inspectors=2, most_per_batch=1))
    running = run_line(line)
    drop(synthetic_set.test_defective[0], folder, "ahead.png")
    assert held.holding.wait(30)
    drop(synthetic_set.test_good[0], folder, "behind.png")
    running.wait_for(2)
    running.wait_until(lambda: len(running.shifts) == 1)
    assert [result.path.name for result in running.results] == ["ahead.png", "behind.png"]
    assert [result.time for result in running.results] == [local(day, 14, 0, 1).astimezone(timezone.utc)] * 2
    assert running.shifts[0].inspected == 0 and (line.snapshot().shift_started, line.snapshot().inspected) == (
        local(day, 14), 2)
    running.stop()


def test_the_clock_turns_the_shift_while_a_part_is_still_being_inspected(tmp_path, inspector, synthetic_set,
                                                                         run_line, monkeypatch):
    """A part still in the network when the clock passes the start ends after it: the shift need not wait."""
    day = date.today()
    clock = clock_at(monkeypatch, local(day, 13, 59, 50))
    monkeypatch.setattr(runner, "_now", lambda: clock.moment.astimezone(timezone.utc))
    held = HeldInspections(inspector)
    monkeypatch.setattr(inspector, "inspect_paths", held)
    folder = camera(tmp_path)
    line = InspectionLine(inspector, folder, settings=replace(FAST, shifts=PLAN))
    running = run_line(line)
    drop(synthetic_set.test_defective[0], folder, "ahead.png")
    assert held.holding.wait(30)
    clock.moment = local(day, 14, 0, 3)
    running.wait_until(lambda: len(running.shifts) == 1)  # before the part in the network ends
    assert not running.results and line.snapshot().shift_started == local(day, 14)
    held.release()
    running.wait_for(1)
    running.wait_until(lambda: line.snapshot().inspected == 1)
    assert running.shifts[0].inspected == 0 and len(running.shifts) == 1
    running.stop()


def test_a_restart_in_a_shift_counts_what_this_station_recorded_in_it(tmp_path, inspector, synthetic_set, run_line,
                                                                      monkeypatch):
    """The window restarted at ten shows the shift since six, not since ten."""
    day = date.today()
    monkeypatch.setattr(runner, "_local_now", Clock(local(day, 10)))
    model_path = tmp_path / "m.patchcore"
    model_path.write_bytes(b"the model's file: the record names the model by its sha256")
    store = tmp_path / "line.sqlite"
    earlier = StoreRecorder.open(str(store), "line3", model_path, inspector.model.threshold)
    for hour, name, score in ((5, "night.png", 0.0), (7, "ok.png", 0.0), (8, "ng.png", 1e9), (9, "ok2.png", 0.0)):
        earlier.recorder.record(Path(f"/camera/{name}"), score, None, 40.0, identity=(1, f"{hour:064x}"),
                                time=local(day, hour))
    earlier.close()
    other = StoreRecorder.open(str(store), "line4", model_path, inspector.model.threshold)  # another station's
    other.recorder.record(Path("/camera/x.png"), 1e9, None, 40.0, identity=(1, "f" * 64), time=local(day, 9))
    other.close()
    folder = tmp_path / "camera"
    folder.mkdir()
    recorder = StoreRecorder.open(str(store), "line3", model_path, inspector.model.threshold)
    line = InspectionLine(inspector, folder, recorder, settings=replace(FAST, shifts=PLAN))
    running = run_line(line)
    counted = line.snapshot()
    assert (counted.shift_started, counted.inspected, counted.ok, counted.ng) == (local(day, 6), 3, 2, 1)
    drop(synthetic_set.test_defective[0], folder, "p.png")
    running.wait_for(1)
    running.wait_until(lambda: line.snapshot().ng == 2)
    running.stop()
    recorder.close()


def test_each_shift_start_is_in_the_audit_trail_with_the_ended_shifts_counts(tmp_path, inspector, synthetic_set,
                                                                            run_line, monkeypatch):
    """Quality sees when the counters started again, and whether the plan or someone on the line did it."""
    day = date.today()
    clock = Clock(local(day, 13, 59, 50))
    monkeypatch.setattr(runner, "_local_now", clock)
    model_path = tmp_path / "m.patchcore"
    model_path.write_bytes(b"the model's file")
    store = tmp_path / "line.sqlite"
    folder = tmp_path / "camera"
    folder.mkdir()
    recorder = StoreRecorder.open(str(store), "line3", model_path, inspector.model.threshold)
    line = InspectionLine(inspector, folder, recorder, settings=replace(FAST, shifts=PLAN))
    running = run_line(line)
    drop(synthetic_set.test_defective[0], folder, "b.png")
    running.wait_for(1)
    clock.moment = local(day, 14, 0, 3)
    running.wait_until(lambda: len(running.shifts) == 1)
    clock.moment = local(day, 15, 30)
    line.new_shift()
    running.wait_until(lambda: len(running.shifts) == 2)
    running.stop()
    recorder.close()
    with open_store(store, "reader") as reading:
        started = [change for change in reading.model_changes() if change.kind == "shift started"]
    assert [change.detail.split(": inspected")[0] for change in started] == [
        f"by the plan at {day} 14:00:00; the shift since {day} 06:00",
        f"asked on the line at {day} 15:30:00; the shift since {day} 14:00"]
    assert started[0].detail.split(": ", 1)[1].startswith("inspected 1: OK 0, NG 1, errors 0")
    assert {change.station for change in started} == {"line3"}
