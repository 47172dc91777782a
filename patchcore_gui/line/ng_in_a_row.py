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

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional, Tuple

from .runs_in_a_row import PartsInARow, RunChange

#: NG parts in a row before the line warns (the default of ``LineSettings.ng_in_a_row`` and ``watch --ng-in-a-row``)
NG_IN_A_ROW = 5
#: the audit trail's entries (``patchcore log --changes``)
NG_RUN_BEGAN, NG_RUN_ENDED = "NG parts in a row", "an OK part after NG parts in a row"
#: what a verdict does to a run: an NG part is one of it, an OK part ends it; REVIEW and ERROR do neither
_IN_RUN = {"NG": True, "OK": False}


class NgInARow(PartsInARow):
    """The run of NG parts, said with its newest part."""

    began, ended = NG_RUN_BEGAN, NG_RUN_ENDED

    def __init__(self, in_a_row: int = NG_IN_A_ROW) -> None:
        super().__init__(in_a_row)
        self._newest = ""
        self._at: Optional[datetime] = None  # when the run is said: its start shows its day if that was another

    def add(self, verdict: str, path: Path, time: datetime) -> Optional[RunChange]:
        """Count one recorded part's verdict; the change when a run of NG parts begins or ends, else None."""
        self._newest, self._at = path.name, time
        return self._part(_IN_RUN.get(verdict), time)

    def resume(self, newest_first: Iterable[Tuple[str, Path, datetime]]) -> Optional[RunChange]:
        """Go on with the run the line's recorded parts end with, ``(verdict, path, time)`` newest first (a line
        restarted in a run of NG parts warns at its fifth, not at the fifth after the restart); its start again
        when the run was already said (``PartsInARow._resume``)."""
        count, since, self._at = 0, None, datetime.now(timezone.utc)
        for verdict, path, time in newest_first:
            in_run = _IN_RUN.get(verdict)
            if in_run is None:
                continue
            if not in_run:
                break
            if not count:
                self._newest = path.name
            count, since = count + 1, time
        return None if since is None else self._resume(count, since)

    def _state(self, count: int, since: datetime) -> str:
        return (f"{_parts(count)} in a row since {_when(since, self._at)}, the newest {self._newest}: "
                "look at these parts and at what makes them")

    def _shown(self, since: datetime) -> str:
        return f"NG parts in a row since {_when(since, self._at)}: look at these parts and at what makes them"

    def _ended_detail(self, count: int) -> str:
        return f"after {_parts(count)} in a row"

    def _ended_said(self, detail: str) -> str:
        return f"an OK part again, {detail}"


def _when(since: datetime, at: Optional[datetime]) -> str:
    """The time a run began, with its day where that was not the day it is said ``at`` (a run over midnight, or
    recorded before a restart the next morning)."""
    local = since.astimezone()
    same_day = at is None or local.date() == at.astimezone().date()
    return f"{local:%H:%M:%S}" if same_day else f"{local:%Y-%m-%d %H:%M:%S}"


def _parts(count: int) -> str:
    return f"{count:,} NG part{'' if count == 1 else 's'}"
