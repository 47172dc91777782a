"""A state of the line that parts in a row show: said once when it begins, shown while it lasts, said once more
when it ends, both moments in the record's audit trail.

One part alone says little (a stray in front of the camera, one bad blank); :attr:`PartsInARow.in_a_row` of them
in a row is the line's state, which an operator or quality asking later must find. The kinds of run
(:mod:`.unlike_parts`, :mod:`.ng_in_a_row`) say what counts and in which words; this says when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Tuple


@dataclass(frozen=True)
class RunChange:
    """A run began or ended: ``kind`` and ``detail`` as the audit trail has them, ``said`` where the operator looks
    (the window's notice, the console's standard error)."""

    kind: str
    detail: str
    said: str

    def notice(self) -> str:
        return self.said


class PartsInARow:
    """Follows one kind of run as the line concludes its parts (in arrival order, in one thread); :attr:`shown` may
    be read from any thread. ``in_a_row`` 0: never said."""

    #: the audit trail's entries when a run begins and when it ends
    began: str = ""
    ended: str = ""

    def __init__(self, in_a_row: int) -> None:
        self.in_a_row = in_a_row
        #: while ``in_a_row`` or more parts came in a row: ``(how many, one line that says so and why, its words
        #: those of the run's start)``, else
        #: ``(0, "")``; one tuple, so that a reader on another thread never sees one without the other
        self.shown: Tuple[int, str] = (0, "")
        self._count = 0
        self._since: Optional[datetime] = None

    def _part(self, in_run: Optional[bool], time: datetime) -> Optional[RunChange]:
        """Count one part: True one of the run, False one that ends it, None one that does neither."""
        if in_run is None or not self.in_a_row:
            return None
        if not in_run:
            ended, self._count, self.shown = self._count, 0, (0, "")
            if ended >= self.in_a_row:
                detail = self._ended_detail(ended)
                return RunChange(self.ended, detail, self._ended_said(detail))
            return None
        if not self._count:
            self._since = time
        self._count += 1
        if self._count < self.in_a_row:
            return None
        assert self._since is not None
        if self._count != self.in_a_row:
            # the same words all run long: a band over the newest part whose text changed at every part laid the
            # window out again each time (0.3-0.5 ms, against 0.03 for the same text; docs/benchmarks.md)
            self.shown = (self._count, self.shown[1])
            return None
        self.shown = (self._count, self._shown(self._since))
        state = self._state(self._count, self._since)
        return RunChange(self.began, state, f"warning: {state}")

    def _resume(self, count: int, since: datetime) -> Optional[RunChange]:
        """Go on with a run of ``count`` parts since ``since`` that the line recorded before this start. A run long
        enough to be said was said then, into the audit trail too: shown again, and its start said again to the
        operator and the signal command (a stack light red again), but not a second start in the trail; its end,
        at the next part that ends it, is recorded."""
        if not count or not self.in_a_row:
            return None
        self._count, self._since = count, since
        if count < self.in_a_row:
            return None
        self.shown = (count, self._shown(since))
        state = self._state(count, since)
        return RunChange(self.began, state, f"warning: {state} (recorded before this start)")

    def _state(self, count: int, since: datetime) -> str:
        """One line: the run so far and why it matters."""
        raise NotImplementedError

    def _shown(self, since: datetime) -> str:
        """The line shown while the run lasts, from its start to its end: no count, which the counters show."""
        raise NotImplementedError

    def _ended_detail(self, count: int) -> str:
        raise NotImplementedError

    def _ended_said(self, detail: str) -> str:
        raise NotImplementedError
