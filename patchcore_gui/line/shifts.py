"""Shifts: the line's counters and NG parts start again when a shift starts, without stopping the line.

A plant names the local times its shifts start (``06:00 14:00 22:00``); the shift in progress is the one
that started last. Without a plan the shift is the line's run, as before.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterator, Optional, Tuple

from ..core import PatchCoreError

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class ShiftPlan:
    """The local times of day at which shifts start, earliest first; none: one shift, the line's run."""

    starts: Tuple[time, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "ShiftPlan":
        """``"06:00 14:00 22:00"`` (commas or spaces between); raises PatchCoreError in one line.

        >>> ShiftPlan.parse("22:00, 6:00 14:00").text()
        '06:00 14:00 22:00'
        >>> ShiftPlan.parse("").starts
        ()
        """
        starts = set()
        for word in re.split(r"[\s,;]+", text.strip()):
            if not word:
                continue
            start = time_of_day(word)
            if start is None:
                raise PatchCoreError(f"'{word}' is not a time of day for a shift to start (write it as 06:00)")
            starts.add(start)
        return cls(tuple(sorted(starts)))

    @classmethod
    def argument(cls, text: str) -> "ShiftPlan":
        """:meth:`parse` as an argparse type: a wrong time is the command's usage error."""
        try:
            return cls.parse(text)
        except PatchCoreError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def require_quarter_hours(self) -> None:
        """PatchCoreError unless there are starts and each is on a quarter hour: a summary per shift is added
        up from the record's quarter hours.

        >>> ShiftPlan.parse("05:45 13:45").require_quarter_hours()
        >>> ShiftPlan.parse("06:10").require_quarter_hours()
        Traceback (most recent call last):
        ...
        patchcore_gui.core.errors.PatchCoreError: a summary per shift needs shifts that start on the quarter hour (06:10 does not)
        """
        if not self.starts:
            raise PatchCoreError("a summary per shift needs the times the shifts start (--shifts '06:00 14:00 22:00')")
        for start in self.starts:
            if start.minute % 15:
                raise PatchCoreError(f"a summary per shift needs shifts that start on the quarter hour "
                                     f"({start:%H:%M} does not)")

    def text(self) -> str:
        return " ".join(start.strftime("%H:%M") for start in self.starts)

    def _around(self, moment: datetime) -> Iterator[datetime]:
        """The starts of the day before ``moment``'s local day, that day and the next, as aware local times."""
        day = moment.astimezone().date()
        for offset in (-1, 0, 1):
            for start in self.starts:
                yield _local(day + timedelta(days=offset), start)

    def start_of(self, moment: datetime) -> Optional[datetime]:
        """When the shift in progress at ``moment`` started (None without a plan)."""
        return max((start for start in self._around(moment) if start <= moment), default=None)

    def next_start(self, moment: datetime) -> Optional[datetime]:
        """When the next shift after ``moment`` starts (None without a plan)."""
        return min((start for start in self._around(moment) if start > moment), default=None)


def time_of_day(word: str) -> Optional[time]:
    """``"6:00"`` or ``"06:00"`` as a time of day; None when ``word`` is not one.

    >>> time_of_day("6:05"), time_of_day("24:00"), time_of_day("0600")
    (datetime.time(6, 5), None, None)
    """
    match = _TIME.match(word.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _local(day: date, clock: time) -> datetime:
    # a naive time made aware in this PC's zone, as the plant's clocks read it (a start that a clock change
    # skips is taken an hour later, as the zone's rules place it)
    return datetime.combine(day, clock).astimezone()
