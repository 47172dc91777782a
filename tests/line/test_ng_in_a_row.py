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
