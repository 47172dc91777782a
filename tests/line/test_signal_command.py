"""The signal command: the plant's program told of each part that is not good and each change of the line's state,
in order, never holding the line, its failures said once."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from patchcore_gui.core import PatchCoreError
from patchcore_gui.line import InspectionLine
from patchcore_gui.line.signal_command import SignalCommand, event_name, parse_signal_command

from .conftest import FAST, drop

AT = datetime(2026, 12, 2, 9, 30, 5, tzinfo=timezone.utc)


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_parts_that_are_not_good_and_the_line_s_states_are_told_in_order_with_their_particulars(event_writer):
    signals = SignalCommand(event_writer.command)
    signals.start()
    signals.part("OK", Path("/cam/a.png"), AT, 1.5, 2.0, None)  # good parts are not told unless asked
    signals.part("NG", Path("/cam/b.png"), AT, 3.25, 2.0, Path("/sorted/NG/b.png"))
    signals.state("NG parts in a row", "5 NG parts in a row since 09:30:05", AT)
    signals.part("REVIEW", Path("/cam/c.png"), AT, 1.9, 2.0, None)
    signals.part("ERROR", Path("/cam/d.png"), AT, None, 2.0, None)
    signals.close()
    events = event_writer.events()
    assert [arguments for arguments, _ in events] == [
        ["ng", "/cam/b.png"], ["ng-parts-in-a-row", "5 NG parts in a row since 09:30:05"], ["review", "/cam/c.png"],
        ["error", "/cam/d.png"]]
    ng = events[0][1]
    assert ng == {"PATCHCORE_EVENT": "ng", "PATCHCORE_PART": "/cam/b.png", "PATCHCORE_VERDICT": "NG",
                  "PATCHCORE_TIME": "2026-12-02T09:30:05+00:00", "PATCHCORE_SCORE": "3.25",
                  "PATCHCORE_THRESHOLD": "2", "PATCHCORE_SORTED_TO": str(Path("/sorted/NG/b.png"))}
    assert events[1][1]["PATCHCORE_DETAIL"] == "5 NG parts in a row since 09:30:05"
    assert events[3][1]["PATCHCORE_SCORE"] == ""
    assert signals.sent == 4 and signals.take_said() == []


def test_good_parts_are_told_when_asked(event_writer):
    signals = SignalCommand(event_writer.command, ok_parts=True)
    signals.start()
    signals.part("OK", Path("a.png"), AT, 1.5, 2.0, None)
    signals.close()
    assert event_writer.names() == ["ok"]


def test_a_failing_command_is_said_once_and_again_when_it_works(event_writer):
    signals = SignalCommand(event_writer.command)
    signals.start()
    (event_writer.folder / "fail").write_text("3 no relay board on COM4")
    for name in "abc":
        signals.part("NG", Path(f"{name}.png"), AT, 3.0, 2.0, None)
    wait_until(lambda: signals._failed == 3)
    said = signals.take_said()
    assert said == ["error: the signal command failed for 'ng': exit code 3 (no relay board on COM4); the line goes "
                    "on, and says when it works again"]
    (event_writer.folder / "fail").unlink()
    signals.part("NG", Path("d.png"), AT, 3.0, 2.0, None)
    signals.close()
    assert signals.take_said() == ["the signal command works again, after 3 events it could not send"]
    assert event_writer.names() == ["ng"]


def test_a_command_that_hangs_is_ended_and_one_that_lags_drops_events_and_says_so(event_writer):
    signals = SignalCommand(event_writer.command, timeout_s=0.5, waiting=2)
    signals.start()
    started = time.monotonic()
    signals.part("NG", Path("slow-30.png"), AT, 3.0, 2.0, None)
    wait_until(lambda: signals._events.qsize() == 0)  # taken: the command runs
    for name in "bcdef":  # two waiting, three dropped: the line is never held
        signals.part("NG", Path(f"{name}.png"), AT, 3.0, 2.0, None)
    assert time.monotonic() - started < 0.5
    said = signals.take_said()
    assert len(said) == 1 and said[0].startswith("error: the signal command falls behind (2 events waiting): 'ng' ")
    wait_until(lambda: signals.sent == 2 and len(signals._said) == 3)
    assert signals.take_said() == [
        "error: the signal command failed for 'ng': it had not ended after 0.5 s, and was ended; the line goes on, "
        "and says when it works again",
        "the signal command works again, after 1 event it could not send",
        "the signal command caught up, after 3 events dropped"]
    assert event_writer.events()[0][0] == ["ng", "b.png"]
    signals.part("NG", Path("slow-30.png"), AT, 3.0, 2.0, None)
    signals.close(wait_s=0.1)
    assert signals.take_said() == ["error: the signal command had not sent every event 0.1 s after the line ended: "
                                   "the rest were not sent"]


def test_the_command_is_read_as_typed_and_a_program_this_pc_cannot_run_is_refused_in_one_line():
    assert parse_signal_command(f'"{sys.executable}" -c "print(1)"') == (sys.executable, "-c", "print(1)")
    assert parse_signal_command("   ") == ()
    with pytest.raises(PatchCoreError, match="^the signal command's program 'stacklight-nowhere' is not a program "
                                             "this PC can run"):
        parse_signal_command("stacklight-nowhere --red")
    with pytest.raises(PatchCoreError, match="cannot be read"):
        parse_signal_command('stacklight "--red')
    assert event_name("an OK part after NG parts in a row") == "an-ok-part-after-ng-parts-in-a-row"


def test_a_line_tells_its_start_its_ng_parts_its_runs_and_its_end(tmp_path, inspector, synthetic_set, run_line,
                                                                event_writer):
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector, folder, settings=replace(FAST, ng_in_a_row=2,
                                                              signal_command=event_writer.command))
    running = run_line(line)
    parts = [synthetic_set.test_defective[0], synthetic_set.test_defective[1], synthetic_set.test_good[0]]
    for index, source in enumerate(parts):
        drop(source, folder, f"part{index}.png")
        running.wait_for(index + 1)
    running.stop()
    events = event_writer.events()
    # as the console says them: a run's warning before the part that made it
    assert [arguments[0] for arguments, _ in events] == [
        "line-started", "ng", "ng-parts-in-a-row", "ng", "an-ok-part-after-ng-parts-in-a-row", "line-stopped"]
    assert events[1][0][1] == str(folder / "part0.png") and events[1][1]["PATCHCORE_VERDICT"] == "NG"
    assert events[0][0][1] == f"inspecting the parts in {folder}"
    assert events[-1][0][1].startswith("stopped; inspected 3: OK 1, NG 2")
    assert not [notice for notice in running.notices if "signal command" in notice]
