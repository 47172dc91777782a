"""A disk that fills while the line runs, said before it is full.

A line writes all shift: the camera its images (a few MB a part, tens of GB a shift), the line its overlays and
its record, and the sorted images go wherever the plant put them. When the camera folder's disk is full the camera
cannot save its images and parts pass uninspected; when the record's is full no part is recorded (said then, one
part at a time, too late to act). So the line looks at the free space of each disk it uses, on a thread of its
own (a statvfs on a network share that hangs must not hold the inspection), every :data:`CHECK_EVERY_S`; from how
fast the free space fell over the last :data:`RATE_OVER_S` it says, once, when a disk will be full within
:data:`FULL_WITHIN_S` at that rate, or has under :data:`LEAST_FREE_BYTES` left whatever the rate. It is shown while
it lasts and said once more when there is room again (with a quarter's margin, so that a disk on the edge is not
said at every check); both moments go into the audit trail and to the signal command.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Deque, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .handover import take_all

#: Seconds between looks at the disks' free space.
CHECK_EVERY_S = 15.0
#: Seconds of looks the rate at which a disk fills is taken over.
RATE_OVER_S = 600.0
#: Said when a disk will be full within this many seconds at the rate it fills (the default of
#: ``LineSettings.disk_full_within_s`` and ``watch --disk-warning``).
FULL_WITHIN_S = 3600.0
#: Said when a disk has less free space than this, whatever the rate (a disk that fills in bursts): 1 GB, in the
#: decimal units the line says sizes in.
LEAST_FREE_BYTES = 10**9
#: A disk said to be nearly full has room again only with this much more than the limits.
MARGIN = 1.25
#: Seconds the line's end waits for a removal of old images under way (a day's OK images: seconds).
SWEEP_WAITED_S = 60.0
#: the audit trail's entries (``patchcore log --changes``)
DISK_NEARLY_FULL, DISK_ROOM_AGAIN = "disk nearly full", "disk has room again"
#: what becomes of the line when a disk holding each of its folders is full
_WHEN_FULL = {"camera folder": "the camera cannot save its images", "inspection record": "no part is recorded",
              "sorted images": "no part is sorted", "overlays": "no overlay is written"}


class DiskChange(NamedTuple):
    """A disk became nearly full or has room again, or old images were removed from it: ``kind`` and ``detail`` as
    the audit trail has them, ``said`` where the operator looks."""

    kind: str
    detail: str
    said: str


class Usage(NamedTuple):
    total: int
    used: int
    free: int


#: How a disk's space is read, looked up as each :class:`DiskSpace` is made (the test suite's stand-in gives every
#: disk room, so that the disk of the machine the tests run on is not said in their lines).
read_usage: Callable[[str], Usage] = shutil.disk_usage  # type: ignore[assignment]


@dataclass
class _Disk:
    """One disk the line uses: named by its mount point, with the line's folders on it."""

    mount: str
    folders: List[Tuple[str, Path]]
    looks: Deque[Tuple[float, int]]  # (monotonic time, free bytes), the last RATE_OVER_S of them
    low: bool = False


class DiskSpace:
    """Looks at the free space of the disks of ``folders`` (``(what, folder)``: ``("camera folder", ...)``) from
    :meth:`start` to :meth:`close`, after its :attr:`sweeps`; :meth:`take_changes` and :attr:`shown` are read from
    the line's thread. ``full_within_s`` 0: never said."""

    def __init__(self, folders: Sequence[Tuple[str, Path]], full_within_s: float = FULL_WITHIN_S,
                 least_free: int = LEAST_FREE_BYTES, check_every_s: float = CHECK_EVERY_S,
                 usage: Optional[Callable[[str], Usage]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folders = [(what, Path(folder)) for what, folder in folders]
        #: what else makes room on the disks, on the same thread before each look (line/kept_images.py)
        self.sweeps: List[Callable[[], List[DiskChange]]] = []
        self.full_within_s = full_within_s
        self.least_free = least_free
        self.check_every_s = check_every_s
        self._usage = usage or read_usage
        self._clock = clock
        self._disks: Dict[object, _Disk] = {}
        self._changes: Deque[DiskChange] = deque()
        #: while a disk is nearly full, the line that says so (one string: any thread reads it whole), else ""
        self.shown = ""
        self._stop = threading.Event()
        self._sweeping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if (self.full_within_s > 0 or self.sweeps) and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._look_until_closed, name="disk space", daemon=True)
            self._thread.start()

    def close(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(1.0)  # a look that hangs on a share is left to its daemon thread
            if self._sweeping.is_set():  # but a removal under way is waited for, so that it is said and recorded
                thread.join(SWEEP_WAITED_S)

    def take_changes(self) -> List[DiskChange]:
        return take_all(self._changes)

    def _look_until_closed(self) -> None:
        while not self._stop.is_set():
            self._sweeping.set()
            try:
                for sweep in self.sweeps:
                    self._changes.extend(sweep())
            finally:
                self._sweeping.clear()
            if self.full_within_s > 0:
                self.look()
            self._stop.wait(self.check_every_s)

    def look(self) -> None:
        """Look at every disk once (the thread's work; called directly by tests)."""
        for disk in self._group():
            try:
                usage = self._usage(str(disk.folders[0][1]))
            except OSError:  # a folder gone, a share away: the line says that itself
                continue
            now = self._clock()
            disk.looks.append((now, usage.free))
            while disk.looks and disk.looks[0][0] < now - RATE_OVER_S:
                disk.looks.popleft()
            self._judge(disk, usage.free)
        self.shown = " ".join(self._band(disk) for disk in self._disks.values() if disk.low)

    def _group(self) -> List[_Disk]:
        """The disks of the folders that exist now, each once (the camera folder and the record often share one)."""
        found: Dict[object, List[Tuple[str, Path]]] = {}
        for what, folder in self.folders:
            try:
                device = os.stat(folder).st_dev
            except OSError:
                continue
            found.setdefault(device, []).append((what, folder))
        for device, folders in found.items():
            if device not in self._disks:
                self._disks[device] = _Disk(_mount_point(folders[0][1]), folders, deque())
            self._disks[device].folders = folders
        return [self._disks[device] for device in found]

    def _seconds_left(self, disk: _Disk, free: int) -> Optional[float]:
        """At the rate the disk's free space fell over the last looks (a minute of them at least), else None."""
        (first, first_free), (last, _) = disk.looks[0], disk.looks[-1]
        if last - first < 60.0 or first_free <= free:
            return None
        return free / ((first_free - free) / (last - first))

    def _judge(self, disk: _Disk, free: int) -> None:
        left = self._seconds_left(disk, free)
        margin = MARGIN if disk.low else 1.0
        low = free < self.least_free * margin or (left is not None and left < self.full_within_s * margin)
        if low == disk.low:
            return
        disk.low = low
        where = f"{disk.mount} ({', '.join(what for what, _ in disk.folders)})"
        if low:
            detail = f"{where}: {size_said(free)} free{_when_full(left)}"
            said = (f"warning: the disk of {_whats(disk)} is nearly full: {size_said(free)} free{_when_full(left)}; "
                    f"when it is full {_consequences(disk)}: make room on {disk.mount}")
            self._changes.append(DiskChange(DISK_NEARLY_FULL, detail, said))
        else:
            detail = f"{where}: {size_said(free)} free"
            self._changes.append(DiskChange(DISK_ROOM_AGAIN, detail, f"the disk of {_whats(disk)} has room "
                                                                     f"again: {size_said(free)} free on {disk.mount}"))

    def _band(self, disk: _Disk) -> str:
        free = disk.looks[-1][1]
        return (f"The disk of {_whats(disk)} ({disk.mount}) is nearly full: {size_said(free)} free"
                f"{_when_full(self._seconds_left(disk, free))}. When it is full {_consequences(disk)}: make room there.")


def _whats(disk: _Disk) -> str:
    """``"the camera folder and the inspection record"``."""
    return _in_words([f"the {what}" for what, _ in disk.folders])


def _consequences(disk: _Disk) -> str:
    return _in_words([_WHEN_FULL[what] for what, _ in disk.folders if what in _WHEN_FULL]) or "the line stops"


def _in_words(items: List[str]) -> str:
    """The items as a sentence lists them; empty for none.

    >>> [_in_words(["a", "b", "c"][:n]) for n in range(4)]
    ['', 'a', 'a and b', 'a, b and c']
    """
    return f"{', '.join(items[:-1])} and {items[-1]}" if len(items) > 1 else "".join(items)


def _when_full(seconds: Optional[float]) -> str:
    """``", full in about 25 min at this rate"``, or nothing while the rate is not known."""
    if seconds is None:
        return ""
    minutes = max(1, round(seconds / 60))
    told = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f", full in about {told} at the rate it fills"


def size_said(count: int) -> str:
    """Bytes as a person reads them, in decimal units as file managers show them.

    >>> [size_said(n) for n in (512, 1000, 850_000_000, 1_430_000_000)]
    ['512 bytes', '1 kB', '850 MB', '1.4 GB']
    """
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}" if unit == "GB" else f"{count / scale:.0f} {unit}"
    return f"{count} bytes"


def _mount_point(folder: Path) -> str:
    """The folder the disk is mounted at (a drive's root on Windows): the name an operator knows it by."""
    path = os.path.realpath(folder)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path
