"""The signal command: the plant's program told of each part that is not good and each change of the line's state,
in order, never holding the line, its failures said once."""

from __future__ import annotations

import json
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


def test_a_persons_decision_is_told_with_who_and_the_machines_verdict_good_parts_asked_or_not(event_writer):
    signals = SignalCommand(event_writer.command)
    signals.start()
    signals.decided("OK", Path("/cam/c.png"), AT, "A. Meyer", "a speck of dust", "REVIEW", Path("/sorted/REVIEW/c.png"))
    signals.decided("NG", Path("/cam/e.png"), AT, "B. Kaya", "", "REVIEW", None)
    signals.close()
    events = event_writer.events()
    assert [arguments for arguments, _ in events] == [["decided-ok", "/cam/c.png"], ["decided-ng", "/cam/e.png"]]
    assert events[0][1] == {"PATCHCORE_EVENT": "decided-ok", "PATCHCORE_PART": "/cam/c.png", "PATCHCORE_VERDICT": "OK",
                            "PATCHCORE_MACHINE_VERDICT": "REVIEW", "PATCHCORE_PERSON": "A. Meyer",
                            "PATCHCORE_NOTE": "a speck of dust", "PATCHCORE_TIME": "2026-12-02T09:30:05+00:00",
                            "PATCHCORE_SORTED_TO": str(Path("/sorted/REVIEW/c.png"))}
    assert events[1][1]["PATCHCORE_NOTE"] == "" and events[1][1]["PATCHCORE_SORTED_TO"] == ""


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
    signals.part("NG", Path("h.png"), AT, 3.0, 2.0, None)
    signals.close(wait_s=0.1)
    assert signals.take_said() == ["error: the signal command had not sent every event 0.1 s after the line ended: "
                                   "the rest were not sent"]
    time.sleep(1.5)  # the slow one ended after 0.5 s: the one behind it is not sent after the line's end
    assert [arguments[1] for arguments, _ in event_writer.events()] == ["b.png", "c.png"]


READER = """import sys
with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
        if line.startswith('{"event": "quit"'):
            sys.exit(4)
"""


def test_held_open_the_program_is_started_once_and_reads_each_event_as_a_json_line(tmp_path):
    (tmp_path / "reader.py").write_text(READER)
    lines = tmp_path / "events.jsonl"
    signals = SignalCommand((sys.executable, str(tmp_path / "reader.py"), str(lines)), ok_parts=True, held_open=True)
    signals.start()
    signals.state("line-started", "inspecting the parts in /cam", AT)
    signals.part("NG", Path("/cam/b.png"), AT, 3.25, 2.0, Path("/sorted/NG/b.png"))
    signals.part("OK", Path("/cam/c.png"), AT, 1.5, 2.0, None)
    wait_until(lambda: signals.sent == 3)
    program = signals._program
    signals.close()
    assert program is not None and program.returncode == 0  # its input closed at the end: it ended itself
    told = [json.loads(line) for line in lines.read_text().splitlines()]
    assert told == [
        {"event": "line-started", "detail": "inspecting the parts in /cam", "time": "2026-12-02T09:30:05+00:00"},
        {"event": "ng", "part": str(Path("/cam/b.png")), "verdict": "NG", "time": "2026-12-02T09:30:05+00:00",
         "score": 3.25, "threshold": 2.0, "sorted_to": str(Path("/sorted/NG/b.png"))},
        {"event": "ok", "part": str(Path("/cam/c.png")), "verdict": "OK", "time": "2026-12-02T09:30:05+00:00",
         "score": 1.5, "threshold": 2.0, "sorted_to": None}]
    assert signals.take_said() == []


def test_held_open_a_program_that_ends_is_started_again_said_once(tmp_path):
    (tmp_path / "reader.py").write_text(READER)
    lines = tmp_path / "events.jsonl"
    signals = SignalCommand((sys.executable, str(tmp_path / "reader.py"), str(lines)), held_open=True)
    signals.start()
    for round_ in range(2):
        signals.state("quit", "", AT)  # it ends after reading this
        wait_until(lambda: signals.sent == round_ + 1 and signals._program.poll() is not None)
    signals.state("shift started", "", AT)
    wait_until(lambda: signals.sent == 3)
    signals.close()
    assert [json.loads(line)["event"] for line in lines.read_text().splitlines()] == ["quit", "quit", "shift-started"]
    assert signals.take_said() == ["the signal command ended by itself (exit code 4): it is started again at each "
                                   "event that finds it ended"]


def test_held_open_a_program_that_does_not_read_is_ended_at_the_line_s_end(tmp_path):
    signals = SignalCommand((sys.executable, "-c", "import time; time.sleep(60)"), held_open=True, waiting=5)
    signals.start()
    long = "x" * 20_000  # a pipe holds 64 KB: a few of these and the writing waits for a reader that never reads
    for index in range(12):
        signals.state("shift started", long, AT)
    started = time.monotonic()
    signals.close(wait_s=0.5)
    assert time.monotonic() - started < 5
    said = signals.take_said()
    assert said[0].startswith("error: the signal command falls behind (5 events waiting)")
    assert said[-1].startswith("error: the signal command had not sent every event 0.5 s after the line ended")


def test_the_command_is_read_as_typed_and_a_program_this_pc_cannot_run_is_refused_in_one_line():
    assert parse_signal_command(f'"{sys.executable}" -c "print(1)"') == (sys.executable, "-c", "print(1)")
    assert parse_signal_command("   ") == ()
    with pytest.raises(PatchCoreError, match="^the signal command's program 'stacklight-nowhere' is not a program "
                                             "this PC can run"):
        parse_signal_command("stacklight-nowhere --red")
    with pytest.raises(PatchCoreError, match="cannot be read"):
        parse_signal_command('stacklight "--red')
    assert event_name("an OK part after NG parts in a row") == "an-ok-part-after-ng-parts-in-a-row"


def test_a_windows_command_keeps_its_backslashes_and_loses_its_quotes(tmp_path):
    program = tmp_path / "plant files" / "light.exe"  # a folder with a space, as "Program Files"
    program.parent.mkdir()
    program.write_text("")
    program.chmod(0o755)
    typed = f'"{program}" COM4 "red and green"'
    assert parse_signal_command(typed, posix=False) == (str(program), "COM4", "red and green")
    backslashed = tmp_path / "plant\\light.bat"  # one file whose name holds a backslash, as a Windows path does
    backslashed.write_text("")
    backslashed.chmod(0o755)
    assert parse_signal_command(f"{backslashed} COM4", posix=False) == (str(backslashed), "COM4")


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
    assert events[0][0][1] == f"inspecting the parts in {folder}, threshold {inspector.model.threshold:.4f}"
    assert events[-1][0][1].startswith("stopped; inspected 3: OK 1, NG 2")
    assert not [notice for notice in running.notices if "signal command" in notice]


def test_a_line_whose_signal_command_fails_says_so_once_and_keeps_it_in_the_audit_trail(
        tmp_path, inspector, synthetic_set, run_line, event_writer):
    from .test_runner import Audited

    folder = tmp_path / "camera"
    folder.mkdir()
    (event_writer.folder / "fail").write_text("2 no relay board on COM4")
    store = Audited()
    line = InspectionLine(inspector, folder, store, settings=replace(FAST, signal_command=event_writer.command))
    running = run_line(line)
    for index in range(2):
        drop(synthetic_set.test_defective[index], folder, f"part{index}.png")
        running.wait_for(index + 1)
    running.wait_until(lambda: line.signals._failed == 3)  # line-started and both parts, none told
    (event_writer.folder / "fail").unlink()
    drop(synthetic_set.test_defective[2], folder, "part2.png")
    running.wait_until(lambda: any(notice.startswith("the signal command works again") for notice in running.notices))
    running.stop()
    failed = "error: the signal command failed for 'line-started': exit code 2 (no relay board on COM4); the line " \
             "goes on, and says when it works again"
    told = [notice for notice in running.notices if "signal command" in notice]
    assert told == [failed, "the signal command works again, after 3 events it could not send"]
    # in the audit trail, where quality asking why the stack light stayed dark finds it; not told to the command
    assert [change for change in store.changes if change[0] == "signal command"] == [
        ("signal command", text) for text in told]
    assert event_writer.names() == ["ng", "line-stopped"]


def test_a_line_holding_its_signal_program_open_writes_it_the_same_events(tmp_path, inspector, synthetic_set,
                                                                          run_line):
    folder = tmp_path / "camera"
    folder.mkdir()
    (tmp_path / "reader.py").write_text(READER)
    lines = tmp_path / "events.jsonl"
    line = InspectionLine(inspector, folder, settings=replace(
        FAST, ng_in_a_row=0, signal_command=(sys.executable, str(tmp_path / "reader.py"), str(lines)),
        signal_ok_parts=True, signal_held_open=True))
    running = run_line(line)
    for index, source in enumerate([synthetic_set.test_defective[0], synthetic_set.test_good[0]]):
        drop(source, folder, f"part{index}.png")
        running.wait_for(index + 1)
    running.stop()
    told = [json.loads(text) for text in lines.read_text().splitlines()]
    assert [event["event"] for event in told] == ["line-started", "ng", "ok", "line-stopped"]
    assert told[1]["part"] == str(folder / "part0.png") and told[1]["score"] == running.results[0].score


def test_a_model_taken_up_and_a_moved_threshold_are_told_with_the_rule_in_force(tmp_path, inspector, synthetic_set,
                                                                              run_line, event_writer):
    folder = tmp_path / "camera"
    folder.mkdir()
    line = InspectionLine(inspector, folder, settings=replace(FAST, signal_command=event_writer.command))
    running = run_line(line)
    running.wait_until(lambda: line.ready.is_set())
    tuned = inspector.model.with_threshold(inspector.model.threshold * 2).with_review_band(inspector.model.threshold)
    line.take_up(tuned)  # a tuned model written over the line's file: judged anew, between parts
    drop(synthetic_set.test_good[0], folder, "part0.png")
    running.wait_for(1)
    running.stop()
    told = {arguments[0]: arguments[1] for arguments, _ in event_writer.events()}
    assert told["model-taken-up"] == (f"threshold {tuned.threshold:.4f}, review from {tuned.review_from:.4f}")
    line.set_threshold(inspector.model.threshold)  # the window's slider, unlocked: the line's thread applies it
    assert line.signals is not None
    moved = line.signals._events.get_nowait()  # sent no more: the line has ended
    assert (moved.name, moved.arguments) == ("threshold-moved", (f"threshold {inspector.model.threshold:.4f}",))


def test_a_line_tells_a_persons_decision_on_its_part_made_anywhere_in_its_record_once(tmp_path, inspector,
                                                                                     synthetic_set, run_line,
                                                                                     event_writer):
    from patchcore_gui.core.model_file import save_model
    from patchcore_gui.line.recording import StoreRecorder
    from patchcore_gui.record import InspectionRecord, RecordFilter, open_store
    from patchcore_gui.record.records import to_time_us
    from patchcore_gui.record.schema import decisions

    target = str(tmp_path / "line.sqlite")
    model_path = save_model(inspector.model, tmp_path / "m.patchcore")
    with open_store(target, "line3") as store:  # decided before the line started: not told
        part = tmp_path / "camera" / "old.png"
        old = store.add(InspectionRecord(time=AT, image_path=str(part), file_size=1, sha256="0" * 64,
                                         model_sha256="m", model_name="m", threshold=1.0, score=1.5, verdict="NG",
                                         error=None, inspection_ms=None))
        store.decide(old, "OK", "A. Meyer")
    folder = tmp_path / "camera"
    folder.mkdir()
    recorder = StoreRecorder.open(target, "line3", model_path, inspector.model.threshold)
    line = InspectionLine(inspector, folder, recorder, settings=replace(FAST, signal_command=event_writer.command))
    running = run_line(line)
    drop(synthetic_set.test_defective[0], folder, "p0.png")
    running.wait_for(1)
    # a person at another PC of the plant's record passes the part; another station's part is not this line's
    with open_store(target, "quality-office") as office:
        (recorded,) = office.inspections(RecordFilter(station="line3", part="p0.png"))
        office.decide(recorded.id, "OK", "B. Kaya", "a speck of dust")
        other = office.add(InspectionRecord(time=AT, image_path=str(folder / "x.png"), file_size=1, sha256="1" * 64,
                                            model_sha256="m", model_name="m", threshold=1.0, score=1.5, verdict="NG",
                                            error=None, inspection_ms=None))
        office.decide(other, "OK", "B. Kaya")
    wait_until(lambda: "decided-ok" in event_writer.names())
    drop(synthetic_set.test_defective[1], folder, "p1.png")
    running.wait_for(2)
    # two PCs deciding at once on a plant's record: the later id committed first, the earlier one after a look
    with open_store(target, "quality-office") as office:
        parts = {Path(p.record.image_path).name: p.id for p in office.inspections(RecordFilter(station="line3"))}
        newest = office.newest_decision_id()

        def decided_at(number, part, verdict, person):
            with office.engine.begin() as connection:
                connection.execute(decisions.insert().values(
                    id=number, time_us=to_time_us(datetime.now(timezone.utc)), station="quality-office",
                    inspection_id=parts[part], verdict=verdict, person=person, note=""))

        decided_at(newest + 5, "p1.png", "NG", "C. First")
        wait_until(lambda: "decided-ng" in event_writer.names())
        decided_at(newest + 2, "p0.png", "NG", "D. Late")
    wait_until(lambda: event_writer.names().count("decided-ng") == 2)
    running.stop()
    recorder.close()
    events = event_writer.events()
    assert [arguments[0] for arguments, _ in events] == ["line-started", "ng", "decided-ok", "ng", "decided-ng",
                                                         "decided-ng", "line-stopped"]
    decided = events[2][1]
    assert events[2][0][1] == str(folder / "p0.png") and decided["PATCHCORE_PERSON"] == "B. Kaya"
    assert decided["PATCHCORE_MACHINE_VERDICT"] == "NG" and decided["PATCHCORE_NOTE"] == "a speck of dust"
    assert [particulars["PATCHCORE_PERSON"] for _, particulars in events[4:6]] == ["C. First", "D. Late"]
