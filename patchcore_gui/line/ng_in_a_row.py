"""NG parts in a row: the process, not one part, has gone wrong (a worn tool, a new batch of blanks, a dirty lens).

On a line that makes few NG parts, a run of them is the first sign that every part from now on is scrap; the
line sorts and counts each one and goes on, so an operator who is not watching the screen learns it from the NG
bin. :data:`NG_IN_A_ROW` in a row is said once as a warning when it begins, shown while it lasts, and said once
more at the first OK part; both moments go into the audit trail. At a 1% NG rate five in a row by chance come
once in ten billion parts; at 20%, about once in 4,000 (``LineSettings.ng_in_a_row`` sets it; 0: never).

A part sent to REVIEW (a person decides) and a part that could not be inspected neither count nor end a run.
Parts unlike the model's good parts are NG too, and make such a run; :mod:`.unlike_parts` then says why.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

from .runs_in_a_row import PartsInARow, RunChange

#: NG parts in a row before the line warns (the default of ``LineSettings.ng_in_a_row`` and ``watch --ng-in-a-row``)
NG_IN_A_ROW = 5
#: the audit trail's entries (``patchcore log --changes``)
NG_RUN_BEGAN, NG_RUN_ENDED = "NG parts in a row", "an OK part after NG parts in a row"


class NgInARow(PartsInARow):
    """The run of NG parts, said with its newest part."""

    began, ended = NG_RUN_BEGAN, NG_RUN_ENDED

    def __init__(self, in_a_row: int = NG_IN_A_ROW) -> None:
        super().__init__(in_a_row)
        self._newest = ""

    def add(self, verdict: str, path: Path, time: datetime) -> Optional[RunChange]:
        """Count one recorded part's verdict; the change when a run of NG parts begins or ends, else None."""
        self._newest = path.name
        return self._part({"NG": True, "OK": False}.get(verdict), time)

    def _state(self, count: int, since: datetime) -> str:
        return (f"{_parts(count)} in a row since {since.astimezone():%H:%M:%S}, the newest {self._newest}: "
                "look at these parts and at what makes them")

    def _shown(self, since: datetime) -> str:
        return f"NG parts in a row since {since.astimezone():%H:%M:%S}: look at these parts and at what makes them"

    def _ended_detail(self, count: int) -> str:
        return f"after {_parts(count)} in a row"

    def _ended_said(self, detail: str) -> str:
        return f"an OK part again, {detail}"


def _parts(count: int) -> str:
    return f"{count:,} NG part{'' if count == 1 else 's'}"
