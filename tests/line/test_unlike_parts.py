"""The run of parts unlike the model's good parts: when the line speaks, and what it says."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from patchcore_gui.core.likeness import COLOUR_MODE, FAR, GREY, Unlikeness
from patchcore_gui.line.unlike_parts import UNLIKE_BEGAN, UNLIKE_ENDED, UnlikeParts

LIKE = Unlikeness()
GREY_AND_FAR = Unlikeness((COLOUR_MODE, FAR), GREY)
START = datetime(2026, 12, 1, 14, 2, 11, tzinfo=timezone.utc)


def test_strays_say_nothing_and_a_run_is_said_once_then_its_end(fitted):
    model = fitted.model  # good parts: colour
    run = UnlikeParts(in_a_row=3)
    said = [run.add(model, part, START + timedelta(seconds=i))
            for i, part in enumerate([GREY_AND_FAR, GREY_AND_FAR, LIKE, GREY_AND_FAR, LIKE])]
    assert said == [None] * 5 and run.shown == (0, "")  # two strays, then one: a hand in the picture
    said = [run.add(model, GREY_AND_FAR, START + timedelta(seconds=10 + i)) for i in range(4)]
    assert said[:2] == [None, None] and said[3] is None
    began = said[2]
    assert began is not None and began.kind == UNLIKE_BEGAN
    since = (START + timedelta(seconds=10)).astimezone()
    assert began.detail == (f"3 parts in a row since {since:%H:%M:%S} do not look like the good parts this model was "
                            "built from (3 greyscale where the good parts are colour; 3 unlike any good part almost "
                            "all over): is it the model for these parts, and is the camera as it was?")
    assert began.notice() == f"warning: {began.detail}"
    count, shown = run.shown
    # the band's words stay those of the run's start (a text that changed at every part laid the window out)
    assert count == 4 and shown == "P" + began.detail[len("3 p"):]
    ended = run.add(model, LIKE, START + timedelta(seconds=20))
    assert ended is not None and (ended.kind, ended.detail) == (UNLIKE_ENDED, "after 4 in a row that did not")
    assert ended.notice() == "the parts look like the good parts again, after 4 in a row that did not"
    assert run.shown == (0, "") and run.add(model, LIKE, START) is None
