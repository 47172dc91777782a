"""When a file in the watched folder is a whole part: the completeness rule and the watcher behind it.

A camera, or the software behind it, writes one image per part. It may write the file in chunks,
write ``x.tmp`` and rename it into place, or write through a second name (a hard link or a symlink
whose target grows). Events say that a file changed, never that it is finished, so the rule is ours:

A file is a **part** when its name has an image suffix and does not look temporary (no leading
``.`` or ``~``; ``x.tmp``, ``x.png.part``, ``x.png.tmp`` have no image suffix and are never parts).
A part is **complete** when all of these hold:

1. its content looks whole for its format: PNG ends with its ``IEND`` chunk, JPEG with its end
   marker, BMP and WebP are as long as their headers say, GIF ends with its trailer (for TIFF and
   other formats the file cannot say, so only rule 2 with the quiet interval counts);
2. the writer is done with it: it closed the file after writing (Linux reports that), or it renamed
   the file into place, or nothing happened to it for ``settle`` seconds and its size and
   modification time are what they were ``settle`` seconds ago (the last also catches writes through
   another name, which raise no event for this one, and platforms without close events);
3. a file that stays unwhole and unchanged for ``give_up`` seconds is handed on all the same, and
   the decoder then names it damaged: a half-written file is never reported while it still grows.

New files are seen through watchdog's events plus one scan of the folder at start; the files still
settling are looked at again on a timer, never the whole folder. A folder on a network file system
(an SMB or NFS share, sshfs, WSL's drive mounts) is listed every ``poll_every`` seconds instead: the
operating system raises no file events there for what other machines write, and a camera PC writing
into a share is such a machine. Complete parts go into the
:class:`PartQueue` in the order they completed, with their size and sha256 at that moment; the parts
found by the scan at start go first (one that lands just after the start waits for them).
"""

from __future__ import annotations

import os
import stat
import sys
import struct
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.utils.dirsnapshot import DirectorySnapshot, DirectorySnapshotDiff

from ..core import IMAGE_SUFFIXES, ImageReadError
from ..record import file_identity

#: Parts a line remembers it handed on (their names, sizes and mtimes here; in a run without a store, that
#: they were recorded): a camera rarely rewrites an older name, and a line that runs for weeks must not keep
#: every part it saw.
REMEMBERED_PARTS = 10_000
#: Bytes read from the end of a file to find its format's end marker (JPEG may be padded after it).
_TAIL = 64


def is_part_name(path: Path) -> bool:
    """Whether a file name is one a camera gives a finished part (see the module's rule).

    >>> [is_part_name(Path(n)) for n in ("p1.png", "p1.png.tmp", ".p1.png", "~p1.jpg", "p1.tmp", "P2.JPG")]
    [True, False, False, False, False, True]
    """
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith((".", "~"))


def looks_whole(path: Path, size: int) -> Optional[bool]:
    """Whether the file's bytes end as its format requires; None when the format cannot say (TIFF).

    Reads the first and last few bytes only. A missing or unreadable file is not whole.
    """
    try:
        with open(path, "rb") as stream:
            head = stream.read(16)
            stream.seek(max(0, size - _TAIL))
            tail = stream.read(_TAIL)
    except OSError:
        return False
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return tail.endswith(b"IEND\xaeB`\x82")
    if head.startswith(b"\xff\xd8"):
        return tail.rstrip(b"\x00").endswith(b"\xff\xd9")
    if head.startswith(b"BM") and len(head) >= 6:
        return size >= struct.unpack("<I", head[2:6])[0]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return size >= struct.unpack("<I", head[4:8])[0] + 8
    if head.startswith((b"GIF87a", b"GIF89a")):
        return tail.endswith(b";")
    if len(head) < 16 and not head.startswith(b"II") and not head.startswith(b"MM"):
        return False  # too short to say what it is: still being written
    return None


@dataclass(frozen=True)
class Part:
    """One part as it became complete: its file, and the bytes' size and sha256 at that moment.

    ``gone`` is set, with ``size``/``sha256`` unknown, for a part file deleted before it was whole.
    ``complete_at`` is wall-clock time (``time.time()``), ``waited_from`` the monotonic clock's.
    """

    path: Path
    seq: int
    size: Optional[int]
    sha256: Optional[str]
    complete_at: float
    waited_from: float
    gone: bool = False


class PartQueue:
    """Complete parts waiting for inspection, in the order they completed; nothing is dropped.

    >>> queue = PartQueue()
    >>> queue.put(Part(Path("a.png"), 1, 3, "00", time.time(), time.monotonic()))
    >>> queue.backlog()[0], [p.path.name for p in queue.take(8, timeout=0)]
    (1, ['a.png'])
    """

    def __init__(self) -> None:
        self._parts: Deque[Part] = deque()
        self._ready = threading.Condition()
        self._woken = False

    def put(self, part: Part) -> None:
        with self._ready:
            self._parts.append(part)
            self._ready.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a part (or a :meth:`wake`, also one that came just before);
        True if one is waiting."""
        with self._ready:
            if not self._parts and not self._woken and timeout > 0:
                self._ready.wait(timeout)
            self._woken = False
            return bool(self._parts)

    def take(self, most: int, timeout: float = 0.0) -> List[Part]:
        """Up to ``most`` parts, oldest first; waits up to ``timeout`` seconds for the first."""
        with self._ready:
            if not self._parts and timeout > 0:
                self._ready.wait(timeout)
            return [self._parts.popleft() for _ in range(min(most, len(self._parts)))]

    def wake(self) -> None:
        """Let a :meth:`wait` or :meth:`take` that waits return now (to stop or pause, or a batch is done)."""
        with self._ready:
            self._woken = True
            self._ready.notify_all()

    def backlog(self) -> Tuple[int, float]:
        """``(parts waiting, seconds the oldest has waited)``."""
        with self._ready:
            if not self._parts:
                return 0, 0.0
            return len(self._parts), time.monotonic() - self._parts[0].waited_from


@dataclass
class _Settling:
    """A part file seen but not yet complete."""

    seq: int
    last_event: float
    signature: Tuple[int, int] = (-1, -1)
    changed_at: float = 0.0
    closed: bool = False
    #: found by the scan at start, not by an event: nothing says whether its writer was done
    found_at_start: bool = False


@dataclass(frozen=True)
class ArrivalSettings:
    """The completeness rule's intervals, in seconds (module docstring), and how new files are seen.

    ``poll``: None lists the folder every :data:`POLL_EVERY_S` where it lies on a network file system and
    takes file events elsewhere; a number of seconds lists it that often wherever it lies; 0 takes file
    events wherever it lies.
    """

    settle: float = 0.5
    give_up: float = 10.0
    poll: Optional[float] = None
    #: watch the folder's subfolders too (a camera that writes into a new dated folder each day)
    subfolders: bool = False


#: Seconds between two listings of a folder whose file events cannot be trusted.
POLL_EVERY_S = 1.0
#: The most of one core's time that listing a folder may take: a folder of many files is listed less often.
LISTING_SHARE = 0.2
#: Seconds between two looks at whether the watched folder is still the one being watched.
FOLDER_LOOK_EVERY_S = 1.0
#: File systems on which a file written by another machine raises no event on this one (Linux, macOS
#: and BSD names; FUSE file systems, ``fuse.*``, mostly serve remote stores and are counted too).
NETWORK_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "v9fs", "afs", "ceph", "glusterfs", "lustre", "gpfs",
    "beegfs", "davfs", "webdav", "afpfs", "coda", "drvfs"})


def network_file_system(folder: Path, partitions: Optional[Sequence[Any]] = None) -> Optional[str]:
    """The kind of network file system ``folder`` lies on (``"cifs"``, ``"Windows network drive"``, ...),
    or None for a local one. ``partitions``: psutil's ``disk_partitions(all=True)`` (read when not given).
    """
    text = os.path.abspath(folder)
    if sys.platform == "win32" and (text.startswith("\\\\?\\UNC\\") or (
            text.startswith("\\\\") and not text.startswith(("\\\\?\\", "\\\\.\\")))):
        return "Windows network share"  # \\server\share, not a local device or long-path name
    if partitions is None:
        import psutil
        partitions = psutil.disk_partitions(all=True)
    text = os.path.normcase(os.path.realpath(text))
    best = None
    for part in partitions:
        mount = os.path.normcase(part.mountpoint)
        if (text == mount or text.startswith(mount.rstrip("\\/") + os.sep)) and \
                (best is None or len(mount) > len(os.path.normcase(best.mountpoint))):
            best = part
    if best is None:
        return None
    kind = best.fstype.lower()
    if kind in NETWORK_FILE_SYSTEMS or kind.startswith("fuse."):
        return best.fstype
    if "remote" in best.opts.split(","):  # how psutil marks a mapped network drive on Windows
        return "Windows network drive"
    return None


def polling_interval(folder: Path, settings: ArrivalSettings) -> Tuple[float, Optional[str]]:
    """``(seconds between listings, why)``: 0 where file events serve; ``why`` names the network file system
    when the listing is the automatic choice."""
    if settings.poll is not None:
        return settings.poll, None
    kind = network_file_system(folder)
    return (POLL_EVERY_S, kind) if kind else (0.0, None)


class ArrivalTracker:
    """Turns file events into complete :class:`Part` s (no thread of its own: :class:`FolderWatch` drives it).

    ``note(kind, path)`` takes an event (any thread); ``step()`` looks at what is settling and puts
    what is complete into ``queue``; ``next_look()`` says how long ``step`` may wait.
    """

    def __init__(self, queue: PartQueue, settings: ArrivalSettings = ArrivalSettings(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self._events: Deque[Tuple[str, Path, Optional[Path]]] = deque()
        self._settling: Dict[Path, _Settling] = {}
        self._seq = 0
        # what was last handed on under each name, so a late close or a touch of the same bytes is no new part
        self._handed: "OrderedDict[Path, Tuple[int, int]]" = OrderedDict()
        self._lock = threading.Lock()
        self.has_events = threading.Event()

    def note(self, kind: str, path: Path, dest: Optional[Path] = None) -> None:
        """``kind`` one of "seen" (found at start), "written", "closed", "moved", "deleted"."""
        with self._lock:
            self._events.append((kind, path, dest))
        self.has_events.set()

    def note_existing(self, paths: Sequence[Path]) -> None:
        """The parts found by the scan at start, oldest first: they go before any event noted meanwhile,
        since the watcher starts before the scan and a part written in between would otherwise overtake them."""
        with self._lock:
            self._events.extendleft(("seen", path, None) for path in reversed(paths))
        self.has_events.set()

    @property
    def settling(self) -> int:
        return len(self._settling)

    def _touch(self, path: Path, now: float) -> _Settling:
        entry = self._settling.get(path)
        if entry is None:
            self._seq += 1
            entry = self._settling[path] = _Settling(self._seq, now, changed_at=now)
        entry.last_event = now
        return entry

    def _apply(self, kind: str, path: Path, dest: Optional[Path], now: float) -> None:
        if kind == "moved":
            self._settling.pop(path, None)  # renamed away, not deleted: no part is lost under the old name
            if dest is not None and is_part_name(dest):
                self._touch(dest, now).closed = True  # renamed into place: its writer is done
            return
        if not is_part_name(path):
            return
        if kind == "deleted":
            entry = self._settling.pop(path, None)
            if entry is not None:
                self.queue.put(Part(path, entry.seq, None, None, time.time(), now, gone=True))
            return
        entry = self._touch(path, now)
        entry.closed = kind == "closed" or (kind == "seen" and entry.closed)
        if kind == "seen":
            entry.found_at_start = True
            self._quiet_since_mtime(path, entry, now)

    def _quiet_since_mtime(self, path: Path, entry: _Settling, now: float) -> None:
        # A file found at start whose last write is already ``settle`` seconds old has been quiet that
        # long: it goes in the first step, so a part that lands just after the start cannot overtake it.
        signature = _signature(path)
        quiet_for = None if signature is None else time.time() - signature[1] / 1e9
        if quiet_for is not None and quiet_for >= self.settings.settle:
            entry.signature = signature
            # quiet since its last write, not since exactly ``settle`` ago: ``now - (now - settle)`` can
            # come out a hair under ``settle`` in floating point (it did, with the clock at 27,000 s)
            entry.changed_at = entry.last_event = now - quiet_for

    def step(self) -> None:
        """Apply the events noted since the last step, then hand on every settling file now complete."""
        self.has_events.clear()
        now = self.clock()
        with self._lock:
            events = list(self._events)
            self._events.clear()
        first_new = self._seq + 1
        for kind, path, dest in events:
            self._apply(kind, path, dest, now)
        self._in_write_order(first_new)
        complete = [(entry.seq, path) for path, entry in self._settling.items() if self._is_complete(path, entry, now)]
        # A part written just before the start waits out the quiet interval (its close went unseen), while
        # one renamed into place just after is complete at once: it must not overtake the ones found first
        done = {path for _, path in complete}
        first_waiting = min((entry.seq for path, entry in self._settling.items()
                             if entry.found_at_start and path not in done), default=None)
        for seq, path in sorted(complete):
            if first_waiting is not None and seq > first_waiting:
                break
            entry = self._settling.pop(path)
            if entry.signature == self._handed.get(path):
                continue
            if path in self._handed and _signature(path) is None:
                continue  # a late word of a part handed on and since sorted away (a slow listing's), no new part
            try:
                size, sha256 = file_identity(path)
            except ImageReadError:
                self.queue.put(Part(path, entry.seq, None, None, time.time(), now, gone=True))
                continue
            if _signature(path) != entry.signature:  # written to while we read it: not complete after all
                self._settling[path] = entry
                entry.changed_at = entry.last_event = now
                if entry.found_at_start:  # the parts behind it wait for it again
                    first_waiting = entry.seq if first_waiting is None else min(first_waiting, entry.seq)
                continue
            self._handed[path] = entry.signature
            self._handed.move_to_end(path)  # a name the camera writes again is as new as its newest part
            if len(self._handed) > REMEMBERED_PARTS:
                self._handed.popitem(last=False)
            self.queue.put(Part(path, entry.seq, size, sha256, time.time(), now))

    def _in_write_order(self, first_new: int) -> None:
        """Files first seen in one step are ordered by their last write, then name: a listing of a network
        folder reports a second's new files together, in no order of their own (the scan at start is ordered)."""
        new = [(path, entry) for path, entry in self._settling.items()
               if entry.seq >= first_new and not entry.found_at_start]
        if len(new) < 2:
            return
        seqs = sorted(entry.seq for _, entry in new)

        def written(item: Tuple[Path, _Settling]) -> Tuple[float, str]:
            signature = _signature(item[0])
            return (float("inf") if signature is None else signature[1], item[0].name)

        for seq, (_, entry) in zip(seqs, sorted(new, key=written)):
            entry.seq = seq

    def _is_complete(self, path: Path, entry: _Settling, now: float) -> bool:
        signature = _signature(path)
        if signature is None:
            return True  # gone or not a file: hand on, the line names it (a folder is dropped there)
        if signature != entry.signature:
            entry.signature, entry.changed_at = signature, now
            if entry.last_event < now:
                entry.closed = False  # grown without an event of its own: written through another name
        quiet = now - max(entry.changed_at, entry.last_event) >= self.settings.settle
        whole = looks_whole(path, signature[0])
        if whole is None:
            return quiet
        if whole:
            return entry.closed or quiet
        return now - entry.changed_at >= self.settings.give_up

    def next_look(self) -> float:
        """Seconds until a settling file may have become complete by the quiet rule (a bounded wait)."""
        return self.settings.settle / 2 if self._settling else 1.0


def _signature(path: Path) -> Optional[Tuple[int, int]]:
    """``(size, mtime ns)`` of the file behind ``path`` (links followed); None if it is gone or no file."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


class _Events(FileSystemEventHandler):
    """watchdog's events for one folder, translated to the tracker's words."""

    def __init__(self, tracker: ArrivalTracker) -> None:
        self.tracker = tracker

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        kind = {"created": "written", "modified": "written", "closed": "closed", "moved": "moved",
                "deleted": "deleted"}.get(event.event_type)
        if kind is None:
            return  # opened, closed without writing, attributes: the content is the same
        dest = Path(os.fsdecode(event.dest_path)) if kind == "moved" else None
        self.tracker.note(kind, Path(os.fsdecode(event.src_path)), dest)


class _FolderListing:
    """Lists a folder on a timer and notes what changed, where file events cannot be trusted.

    Two looks, since over a network reading a file's size and time costs a round trip each: the names,
    every ``every`` seconds (20,000 names took 0.09 s over sshfs), find new and vanished parts; the names
    with each file's size and time (watchdog's snapshot and its difference: 5.1 s for the same folder), in a
    thread of their own so that new parts are not held up meanwhile, also find a file written again under an
    old name, and wait at least ``1 / LISTING_SHARE - 1`` times as long as they took. A folder that keeps a
    shift's parts so costs at most about that share of a core.
    """

    def __init__(self, folder: Path, tracker: ArrivalTracker, every: float, on_notice: Callable[[str], None],
                 subfolders: bool = False) -> None:
        self.folder, self.tracker, self.every, self.on_notice = folder, tracker, every, on_notice
        self.subfolders = subfolders
        self._names = _names_in(folder, subfolders)  # what is there is no news; OSError when the folder is gone
        self._snapshot: Optional[DirectorySnapshot] = None
        self._stopped = threading.Event()
        self._told_slow = False
        self._threads = [threading.Thread(target=self._list_names, name="folder-names", daemon=True),
                         threading.Thread(target=self._list_sizes_and_times, name="folder-sizes", daemon=True)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _list_names(self) -> None:
        while not self._stopped.wait(self.every):
            try:
                names = _names_in(self.folder, self.subfolders)
            except OSError:
                continue  # gone or out of reach: FolderWatch's look at the folder says so and watches it again
            for name in sorted(names - self._names):
                self.tracker.note("written", self.folder / name)
            for name in sorted(self._names - names):
                self.tracker.note("deleted", self.folder / name)
            self._names = names

    def _list_sizes_and_times(self) -> None:
        wait = 0.0
        while not self._stopped.wait(wait):
            began = time.monotonic()
            try:
                files = self._look_at_sizes_and_times()
            except OSError:
                files = None  # gone or out of reach: as above
            took = time.monotonic() - began
            wait = max(self.every, took * (1 / LISTING_SHARE - 1))
            if files is not None and wait > self.every and not self._told_slow:
                self._told_slow = True
                self.on_notice(f"reading the size and time of every file in {self.folder} takes {took:.1f} s "
                               f"({files:,} files in it): new parts are still seen every {self.every:g} s, a file "
                               f"written again under an old name only every {wait + took:.0f} s; sorting the parts "
                               "out of it (move) keeps it short")

    def _look_at_sizes_and_times(self) -> int:
        """Notes the files written since the last look; returns how many files the folder holds."""
        snapshot = DirectorySnapshot(str(self.folder), recursive=self.subfolders)
        if self._snapshot is not None:
            diff = DirectorySnapshotDiff(self._snapshot, snapshot)
            # new names come from the names' look too; a second note of a file is no second part
            for path in list(diff.files_modified) + list(diff.files_created):
                self.tracker.note("written", Path(os.fsdecode(path)))
        self._snapshot = snapshot
        return len(snapshot.paths) - 1


def _names_in(folder: Path, subfolders: bool = False) -> set:
    """The names in the folder, and with ``subfolders`` their paths below it (as ``sub/name``)."""
    if not subfolders:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries}
    names = set()
    for root, folders, files in os.walk(folder, onerror=_raise):
        below = os.path.relpath(root, folder)
        names.update(name if below == "." else os.path.join(below, name) for name in files)
    return names


def _raise(error: OSError) -> None:
    raise error


@dataclass
class FolderWatch:
    """Watches one folder (its subfolders too where the settings say) and fills ``queue`` with complete parts
    until stopped.

    >>> watch = FolderWatch(Path("camera"), PartQueue()).start()   # doctest: +SKIP
    >>> watch.stop()                                                # doctest: +SKIP
    """

    folder: Path
    queue: PartQueue
    settings: ArrivalSettings = ArrivalSettings()
    #: told, in a line, when the folder goes away and when it is watched again
    on_notice: Callable[[str], None] = lambda line: None
    tracker: ArrivalTracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = ArrivalTracker(self.queue, self.settings)
        #: seconds between listings of the folder (0: file events), and the network file system behind that:
        #: decided each time the folder is watched (:meth:`_observe`), from :meth:`start` on
        self.poll_every: float = 0.0
        self.network: Optional[str] = None
        self._observer: Optional[Union[Observer, _FolderListing]] = None
        self._observing = threading.Lock()
        self._identity: Optional[Tuple[int, int]] = None
        self._checked_at = 0.0
        self._said_unwatchable = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._settle, name="part-arrival", daemon=True)

    def start(self) -> "FolderWatch":
        """Watch first, then scan, so that nothing written in between is missed (a file seen twice is one)."""
        self._identity = _folder_identity(self.folder)
        self._observe()
        self._checked_at = time.monotonic()
        self.tracker.note_existing(list(_existing_parts(self.folder, self.settings.subfolders)))
        self._thread.start()
        return self

    def _observe(self) -> None:
        # the folder may lie on another file system now (a share mounted over it, or taken away)
        self.poll_every, self.network = polling_interval(self.folder, self.settings)
        observer: Union[Observer, _FolderListing]
        if self.poll_every > 0:
            observer = _FolderListing(self.folder, self.tracker, self.poll_every, self.on_notice,
                                      self.settings.subfolders)
        else:
            observer = Observer()
            observer.schedule(_Events(self.tracker), str(self.folder), recursive=self.settings.subfolders)
        observer.start()
        with self._observing:
            self._observer = observer

    def _unobserve(self) -> None:
        with self._observing:
            observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    def _settle(self) -> None:
        while not self._stopping.is_set():
            self.tracker.step()
            self._look_at_the_folder()
            self.tracker.has_events.wait(min(self.tracker.next_look(), FOLDER_LOOK_EVERY_S))

    def _look_at_the_folder(self) -> None:
        """Watch the folder again once it is back when it went away or was replaced (a share mounted again, a
        stick plugged in again, a camera program that makes its folder anew): the watch on the old one sees
        nothing more, and without this the line would wait for parts in silence."""
        now = time.monotonic()
        if now - self._checked_at < FOLDER_LOOK_EVERY_S or self._stopping.is_set():
            return
        self._checked_at = now
        identity = _folder_identity(self.folder)
        if identity == self._identity:
            return
        if self._identity is not None:
            self._unobserve()
            if identity is None:
                self.on_notice(f"the camera folder {self.folder} is gone: the line waits for it to come back")
        if identity is not None:
            listed = self.poll_every
            try:
                self._observe()
                found = list(_existing_parts(self.folder, self.settings.subfolders))
            except OSError as exc:
                self._unobserve()
                if not self._said_unwatchable:  # once, not every second while it lasts
                    self._said_unwatchable = True
                    self.on_notice(f"the camera folder {self.folder} cannot be watched: {exc.strerror or exc}; "
                                   "tried again every second")
                identity = None
            else:
                self._said_unwatchable = False
                again = "is back" if self._identity is None else "is another folder now (made anew or mounted again)"
                self.on_notice(f"the camera folder {self.folder} {again}: watching it again "
                               f"({len(found)} part file(s) in it)")
                if self.poll_every != listed:
                    self.on_notice(self.how())
                self.tracker.note_existing(found)
        self._identity = identity

    def stop(self) -> None:
        self._stopping.set()
        self.tracker.has_events.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._unobserve()

    @property
    def settling(self) -> int:
        return self.tracker.settling

    @property
    def folder_missing(self) -> bool:
        """The folder was gone (or could not be watched) at the last look: no part can arrive."""
        return self._thread.is_alive() and self._identity is None

    def how(self) -> str:
        """How new parts are seen, in a line for the operator (says why when the folder is listed)."""
        if self.poll_every <= 0:
            return f"new parts in {self.folder} are seen by file events"
        why = (f": it is on a network file system ({self.network}), where files that other machines write "
               "raise no file events here") if self.network else ""
        return f"{self.folder} is looked at every {self.poll_every:g} s{why}"


def _folder_identity(folder: Path) -> Optional[Tuple[int, int]]:
    """``(device, inode)`` of the folder, or None when it is not there (or not a folder) now."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _existing_parts(folder: Path, subfolders: bool = False) -> Iterator[Path]:
    """The part files already in the folder (and its subfolders), oldest first: what arrived while the line
    was down."""
    found = []
    below = [folder]
    while below:
        current = below.pop()
        try:
            listing = os.scandir(current)
        except OSError:
            if current == folder:
                raise
            continue  # a subfolder gone between listing and looking
        with listing as entries:
            for entry in entries:
                try:
                    if entry.is_file() and is_part_name(Path(entry.name)):
                        found.append((entry.stat().st_mtime_ns, entry.name, Path(entry.path)))
                    elif subfolders and entry.is_dir(follow_symlinks=False):
                        below.append(Path(entry.path))
                except OSError:
                    continue  # gone between listing and looking
    return (path for _, _, path in sorted(found))
