"""NG parts in a row: when the line warns, what it says, and what neither counts nor ends a run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from patchcore_gui.line.ng_in_a_row import NG_RUN_BEGAN, NG_RUN_ENDED, NgInARow

START = datetime(2026, 12, 1, 22, 40, 5, tzinfo=timezone.utc)


def verdicts(run: NgInARow, *said: str, first: int = 0) -> list:
    return [run.add(verdict, Path(f"/camera/part{first + i:02d}.png"), START + timedelta(seconds=first + i))
            for i, verdict in enumerate(said)]


def test_a_run_of_ng_parts_is_said_once_when_it_begins_and_once_at_the_first_ok_part():
    run = NgInARow(in_a_row=3)
    assert verdicts(run, "NG", "NG", "OK", "NG", "OK") == [None] * 5 and run.shown == (0, "")  # strays
    said = verdicts(run, "NG", "NG", "NG", "NG", first=10)
    assert said[:2] == [None, None] and said[3] is None
    began = said[2]
    since = (START + timedelta(seconds=10)).astimezone()
    assert began is not None and began.kind == NG_RUN_BEGAN
    assert began.detail == (f"3 NG parts in a row since {since:%H:%M:%S}, the newest part12.png: look at these parts "
                            "and at what makes them")
    assert began.notice() == f"warning: {began.detail}"
    # shown all run long in the same words (a text that changed at every part laid the window out each time)
    assert run.shown == (4, f"NG parts in a row since {since:%H:%M:%S}: look at these parts and at what makes them")
    ended = verdicts(run, "OK", first=20)[0]
    assert ended is not None and (ended.kind, ended.detail) == (NG_RUN_ENDED, "after 4 NG parts in a row")
    assert ended.notice() == "an OK part again, after 4 NG parts in a row"
    assert run.shown == (0, "") and verdicts(run, "OK") == [None]


def test_review_and_error_neither_count_nor_end_a_run_and_0_never_warns():
    run = NgInARow(in_a_row=3)
    said = verdicts(run, "NG", "REVIEW", "NG", "ERROR", "NG")  # a person decides; a file that could not be read
    assert said[:4] == [None] * 4 and said[4] is not None and said[4].kind == NG_RUN_BEGAN
    assert run.shown[0] == 3 and run.shown[1].startswith("NG parts in a row since ")
    never = NgInARow(in_a_row=0)
    assert verdicts(never, *["NG"] * 50, "OK") == [None] * 51 and never.shown == (0, "")


def recorded(*said: str) -> list:
    """``(verdict, path, time)`` of recorded parts given oldest first, as the record gives them: newest first."""
    return [(verdict, Path(f"/camera/part{i:02d}.png"), START + timedelta(seconds=i))
            for i, verdict in enumerate(said)][::-1]


def test_a_run_recorded_before_a_start_goes_on_said_again_if_it_was_said_and_ends_at_an_ok_part():
    run = NgInARow(in_a_row=3)
    going_on = run.resume(recorded("OK", "NG", "NG", "REVIEW", "NG", "ERROR"))
    assert going_on is not None and going_on.kind == NG_RUN_BEGAN
    said = going_on.notice()
    assert said == f"warning: {going_on.detail} (recorded before this start)"
    # shown with its day: it began on another day than the one it is said on
    since = (START + timedelta(seconds=1)).astimezone()
    assert said.startswith(f"warning: 3 NG parts in a row since {since:%Y-%m-%d %H:%M:%S}, the newest part04.png: ")
    assert run.shown == (3, f"NG parts in a row since {since:%Y-%m-%d %H:%M:%S}: look at these parts and at what "
                            "makes them")
    assert verdicts(run, "NG", first=10) == [None] and run.shown[0] == 4  # said before: not begun again
    ended = verdicts(run, "OK", first=11)[0]
    assert ended is not None and (ended.kind, ended.detail) == (NG_RUN_ENDED, "after 4 NG parts in a row")


def test_a_run_too_short_to_say_goes_on_quietly_and_one_ended_by_an_ok_part_or_never_recorded_is_none():
    run = NgInARow(in_a_row=3)
    assert run.resume(recorded("NG", "OK", "NG", "NG")) is None and run.shown == (0, "")
    began = verdicts(run, "NG", first=10)[0]  # the third in a row, the first after the start
    assert began is not None and began.kind == NG_RUN_BEGAN and began.detail.startswith("3 NG parts in a row since ")
    for newest_first in (recorded("NG", "NG", "NG", "OK"), recorded(), recorded("REVIEW")):
        fresh = NgInARow(in_a_row=3)
        assert fresh.resume(newest_first) is None and verdicts(fresh, "NG", "NG") == [None, None]
    assert NgInARow(in_a_row=0).resume(recorded("NG", "NG", "NG")) is None
