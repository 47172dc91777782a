"""The shift's counters that the CLI's summary line and the window's line panel show."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Deque, Dict, Optional

import numpy as np

#: Median and 95th percentile are over the most recent parts: the line as it runs now, not its morning.
RECENT_PARTS = 1000


@dataclass(frozen=True)
class ShiftSnapshot:
    """The counters at one moment. ``yield_`` is OK over all results (an ERROR is no good part, a part
    sent to REVIEW has not passed yet); ``review`` counts the parts sent to a person."""

    inspected: int
    ok: int
    ng: int
    errors: int
    already_recorded: int
    parts_per_minute: float
    median_ms: Optional[float]
    p95_ms: Optional[float]
    backlog: int
    oldest_waiting_s: float
    review: int = 0
    #: the camera folder is gone: no part can arrive until it is back
    folder_missing: bool = False
    #: seconds between looks at the folder's listing (0: file events), and the network file system that
    #: made the line list it; both as the watch last decided (a folder back on another file system changes them)
    listed_every: float = 0.0
    network: Optional[str] = None
    #: when the shift these counts cover started (with a shift plan, parts recorded before this start count too)
    shift_started: Optional[datetime] = None
    #: of ``ng``, the NG parts recorded in this shift before this start (a restart within a shift)
    ng_before_start: int = 0
    #: while parts in a row do not look like the model's good parts (line/unlike_parts.py): how many, and one
    #: line that says so and why; 0 and empty otherwise
    unlike_in_a_row: int = 0
    unlike_parts: str = ""
    #: while NG parts come in a row (line/ng_in_a_row.py): how many, and one line that says so; 0 and empty otherwise
    ng_in_a_row: int = 0
    ng_run: str = ""
    #: while a disk the line uses is nearly full (line/disk_space.py): one line that says so, else empty
    disk_nearly_full: str = ""

    @property
    def yield_(self) -> Optional[float]:
        return self.ok / self.inspected if self.inspected else None

    def line(self) -> str:
        """One line for a log.

        >>> ShiftSnapshot(10, 8, 1, 1, 0, 12.0, 41.5, 60.2, 0, 0.0).line()
        'inspected 10: OK 8, NG 1, errors 1, yield 80.0%; 12.0 parts/min; 41.5 ms median, 60.2 ms p95; backlog 0'
        >>> ShiftSnapshot(10, 7, 1, 1, 0, 12.0, None, None, 0, 0.0, review=1).line()
        'inspected 10: OK 7, REVIEW 1, NG 1, errors 1, yield 70.0%; 12.0 parts/min; backlog 0'
        >>> ShiftSnapshot(0, 0, 0, 0, 0, 0.0, None, None, 0, 0.0, folder_missing=True).line()
        'inspected 0: OK 0, NG 0, errors 0, yield -; 0.0 parts/min; backlog 0; the camera folder is gone'
        >>> ShiftSnapshot(6, 0, 6, 0, 0, 6.0, None, None, 0, 0.0, unlike_in_a_row=6, unlike_parts="...").line()
        'inspected 6: OK 0, NG 6, errors 0, yield 0.0%; 6.0 parts/min; backlog 0; 6 parts in a row unlike the good parts'
        >>> ShiftSnapshot(9, 3, 6, 0, 0, 6.0, None, None, 0, 0.0, ng_in_a_row=6, ng_run="...").line()
        'inspected 9: OK 3, NG 6, errors 0, yield 33.3%; 6.0 parts/min; backlog 0; 6 NG in a row'
        >>> ShiftSnapshot(1, 1, 0, 0, 0, 6.0, None, None, 0, 0.0, disk_nearly_full="...").line()
        'inspected 1: OK 1, NG 0, errors 0, yield 100.0%; 6.0 parts/min; backlog 0; a disk nearly full'
        """
        yield_ = "-" if self.yield_ is None else f"{100 * self.yield_:.1f}%"
        ms = "" if self.median_ms is None else f"; {self.median_ms:.1f} ms median, {self.p95_ms:.1f} ms p95"
        backlog = f"backlog {self.backlog}" + (f" (oldest {self.oldest_waiting_s:.1f} s)" if self.backlog else "")
        review = f"REVIEW {self.review}, " if self.review else ""
        gone = "; the camera folder is gone" if self.folder_missing else ""
        run = f"; {self.unlike_in_a_row:,} parts in a row unlike the good parts" if self.unlike_parts else ""
        if self.ng_run and not self.unlike_parts:  # those are NG too, and that says why
            run = f"; {self.ng_in_a_row:,} NG in a row"
        return (f"inspected {self.inspected}: OK {self.ok}, {review}NG {self.ng}, errors {self.errors}, yield {yield_}; "
                f"{self.parts_per_minute:.1f} parts/min{ms}; {backlog}{gone}{run}"
                f"{'; a disk nearly full' if self.disk_nearly_full else ''}")


class ShiftCounters:
    """Counts results as the line records them; read from any thread."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = {"OK": 0, "REVIEW": 0, "NG": 0, "ERROR": 0}
        self._already = 0
        self._ms: Deque[float] = deque(maxlen=RECENT_PARTS)
        self._last_minute: Deque[float] = deque()
        self.shift_started: Optional[datetime] = None
        self._ng_carried = 0

    def start_shift(self, started: datetime, carried: Optional[Dict[str, int]] = None) -> None:
        """Count a new shift from ``started``, from the verdicts it ``carried`` (already recorded in it).

        The rate and the inspection times go on: they say how the line runs now, not what the shift made.
        """
        with self._lock:
            self._counts = {verdict: (carried or {}).get(verdict, 0) for verdict in self._counts}
            self._already = 0
            self._ng_carried = (carried or {}).get("NG", 0)
            self.shift_started = started

    def add(self, verdict: str, inspection_ms: Optional[float]) -> None:
        now = self._clock()
        with self._lock:
            self._counts[verdict] += 1
            if inspection_ms is not None:
                self._ms.append(inspection_ms)
            self._last_minute.append(now)

    def add_already_recorded(self) -> None:
        with self._lock:
            self._already += 1

    def snapshot(self, backlog: int = 0, oldest_waiting_s: float = 0.0) -> ShiftSnapshot:
        now = self._clock()
        with self._lock:
            while self._last_minute and now - self._last_minute[0] > 60.0:
                self._last_minute.popleft()
            ms = np.asarray(self._ms, dtype=np.float64)
            counts = dict(self._counts)
            per_minute = float(len(self._last_minute))
            already = self._already
        median, p95 = (float(np.median(ms)), float(np.percentile(ms, 95))) if len(ms) else (None, None)
        return ShiftSnapshot(inspected=sum(counts.values()), ok=counts["OK"], ng=counts["NG"], errors=counts["ERROR"],
                             already_recorded=already, parts_per_minute=per_minute, median_ms=median, p95_ms=p95,
                             backlog=backlog, oldest_waiting_s=oldest_waiting_s, review=counts["REVIEW"],
                             shift_started=self.shift_started, ng_before_start=self._ng_carried)
