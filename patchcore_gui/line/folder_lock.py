"""One line per camera folder: on a PC, and across the PCs that reach one network share.

Two lines on one folder (the line PC's ``patchcore watch`` service, and an operator's Run line in the window)
would each inspect, record and sort every part: the counters double, the record holds every part twice, and
with ``--move`` one line moves away the image the other is about to read. A line therefore holds an
operating-system lock (filelock: released when its process ends, however it ends) named after the folder's
real path, in a folder every user of the PC shares, and a second line on the same folder is refused in one
line that says who holds it.

A lock on this PC cannot see a line on another PC watching the same share (a station replaced while the old
one still runs, two line PCs set up alike), and locks over SMB and NFS are not to be trusted. A line that may
write in the camera folder therefore also keeps a note there (:class:`ShareNote`) that it rewrites every few
seconds; a line that finds another line's note changing is refused, and one that finds it unchanged for longer
than the beat (its line ended without removing it: power lost, killed) takes over. A line that finds its own
note replaced by another line's stops. Clocks of two PCs need not agree: only whether the note changes while
this line watches it counts.

A line on a folder and its subfolders and a line on one of those subfolders would inspect the same parts
too: on one PC the second of them is refused (:func:`only_line_on`).

Across PCs the same is done by the notes: a line finds another PC's note on a folder above it (whose line
inspects its subfolders) or, with its own subfolders, below it, and is refused while that note beats. Two such
lines that start within the same few seconds may each miss the other's note; the line below keeps reading the
notes above it as it beats and stops when a tree's line above it runs, so the wider line keeps its parts.

Not covered: a line that may only read the camera folder leaves no note.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import psutil
from filelock import FileLock, Timeout

from ..core import PatchCoreError
from ..core.atomic import atomic_write_text


#: Why a second line on a folder is refused, or stops: said wherever that happens.
TWO_LINES_ON_ONE_FOLDER = "two lines would inspect, record and sort every part twice"


def locks_folder() -> Path:
    """Shared by every user of this PC: a service and the operator's window often run as different users, with
    different temporary folders (TMPDIR, a systemd service's private /tmp), so neither decides it."""
    if sys.platform == "win32":  # the temporary folder is each user's own there
        return Path(os.environ.get("PROGRAMDATA", tempfile.gettempdir())) / "PatchCore Inspector" / "lines"
    for shared in ("/run/lock", "/var/lock", "/tmp"):  # the first that every user may write, sticky
        try:
            if os.stat(shared).st_mode & 0o1777 == 0o1777:
                return Path(shared) / "patchcore-lines"
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / "patchcore-lines"


@contextmanager
def only_line_on(folder: Path, where: Optional[Path] = None, subfolders: bool = False) -> Iterator[None]:
    """Hold the camera folder's lock while the block runs; PatchCoreError if another line holds it.

    With ``subfolders`` the line inspects the folder's whole tree: it is refused where a line on one of its
    subfolders runs, and a line on any folder below it is refused while it runs. Each line takes its own
    locks first and then looks for the other kind, so of two started together at least one sees the other.
    """
    real = os.path.realpath(folder)
    where = where or locks_folder()
    name = _lock_name(real)
    locks = [FileLock(_lock_file(where, name), mode=0o666)]
    if subfolders:  # a second lock that only lines on whole trees hold, for the lines below to look for
        locks.append(FileLock(_lock_file(where, _lock_name(_TREE + real)), mode=0o666))
    try:
        _make_shared(where)
        for lock in locks:
            lock.acquire(timeout=0)
    except Timeout:
        _release(locks)
        raise PatchCoreError(f"another line already inspects {folder}{_holder(where, name)}: stop it "
                             f"first ({TWO_LINES_ON_ONE_FOLDER})") from None
    except OSError:  # no lock can be made here (a folder another user made private): unguarded rather than not at all
        _release(locks)
        yield
        return
    try:
        try:
            # one note per user: in the shared folder a user can replace only their own files
            atomic_write_text(where / f"{name}.{_user_key()}.who",
                              f"process {os.getpid()} on {socket.gethostname()}, since "
                              f"{datetime.now():%Y-%m-%d %H:%M:%S}, watching {real}"
                              f"{_WITH_SUBFOLDERS if subfolders else ''}\n")
        except PatchCoreError:
            pass  # who holds it only makes the refusal clearer
        _refuse_overlapping_lines(folder, real, where, subfolders)
        yield
    finally:
        _release(locks)


#: How a line on a whole tree is told apart in the lock names and in the notes beside the locks.
_TREE = "with its subfolders:"
_WITH_SUBFOLDERS = " and its subfolders"


def _lock_name(real: str) -> str:
    return hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def _lock_file(where: Path, name: str) -> Path:
    """The lock named ``name``; the notes of who holds it lie beside it as ``name.<user>.who``."""
    return where / f"{name}.lock"


def _release(locks: List[FileLock]) -> None:
    for lock in locks:
        if lock.is_locked:
            lock.release()


def _refuse_overlapping_lines(folder: Path, real: str, where: Path, subfolders: bool) -> None:
    """PatchCoreError if a line on a whole tree holds this folder, or (for a line on a tree) a line holds a
    folder below it: either would inspect, record and sort the same parts."""
    above = Path(real).parent
    while True:
        if _held(_lock_file(where, _lock_name(_TREE + str(above)))):
            raise _tree_above(above, _holder(where, _lock_name(str(above))), folder)
        if above.parent == above:
            break
        above = above.parent
    if not subfolders:
        return
    for note in where.glob("*.who"):
        try:
            watched = note.read_text(encoding="utf-8").strip().split(", watching ", 1)[1]
        except (OSError, ValueError, IndexError):
            continue
        watched = watched[:-len(_WITH_SUBFOLDERS)] if watched.endswith(_WITH_SUBFOLDERS) else watched
        name = note.name.split(".")[0]  # the note's lock: name.<user>.who
        if Path(real) in Path(watched).parents and _held(_lock_file(where, name)):
            raise _folder_below(watched, folder, _holder(where, name))


def _tree_above(tree: Path, holder: str, folder: Path, line: str = "a line") -> PatchCoreError:
    """The refusal of a line on ``folder`` while ``line`` inspects ``tree``, above it, with its subfolders."""
    return PatchCoreError(f"{line} already inspects {tree}{_WITH_SUBFOLDERS}{holder}, {folder} among them: stop it "
                          f"first ({TWO_LINES_ON_ONE_FOLDER})")


def _folder_below(below: Any, folder: Path, holder: str, line: str = "another line") -> PatchCoreError:
    """The refusal of a line on ``folder`` and its subfolders while ``line`` inspects ``below``, one of them."""
    return PatchCoreError(f"{line} already inspects {below}, a subfolder of {folder}{holder}: stop it first "
                          f"({TWO_LINES_ON_ONE_FOLDER})")


def _held(lock_file: Path) -> bool:
    """Whether another line holds this lock now (a lock nobody ever took is not held)."""
    if not lock_file.exists():
        return False
    probe = FileLock(lock_file, mode=0o666)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    probe.release()
    return False


def _make_shared(where: Path) -> None:
    if not where.is_dir():
        where.mkdir(parents=True, exist_ok=True)
        os.chmod(where, 0o1777)  # every user may lock in it, and remove only their own files


def _user_key() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this user id (a container)
        user = str(os.getpid())
    return hashlib.sha256(user.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _holder(where: Path, name: str) -> str:
    """Who holds the lock, as the newest note beside it says (the holder wrote it when it took the lock)."""
    try:
        notes = sorted(where.glob(f"{name}.*.who"), key=lambda note: note.stat().st_mtime)
        text = notes[-1].read_text(encoding="utf-8").strip() if notes else ""
    except OSError:
        return ""
    return f" ({text.split(', watching')[0]})" if text else ""


#: The note's name in the camera folder: no image suffix, so no line takes it for a part.
SHARE_NOTE = ".patchcore-line"
#: How often a line rewrites its note, and how long a note must stay unchanged before its line counts as
#: ended: long enough for a busy share to let a beat or two through late.
BEAT_EVERY = 5.0
STILL_FOR = 16.0
FIRST_LOOK_AFTER = 1.0


class ShareNote:
    """This line's note in the camera folder, rewritten every ``beat_every`` seconds while it is held.

    :meth:`claim` raises PatchCoreError when another line's note changes within ``still_for`` seconds, or
    the line of this PC that wrote it still runs; so too for another PC's note on a folder above this one
    whose line inspects its subfolders, and, when this line inspects its own, on a folder below it (two
    lines must not inspect one part). ``took_over_from`` says whose note of an ended line this
    line replaced, and ``taken_over_by`` whose note replaced this line's meanwhile (two lines that started
    at the same moment, or one that took this line for ended while the share stalled): the line whose note
    is in the folder is the one that inspects it.
    A folder this line may not write in is left as it is, and the line runs unguarded.
    """

    def __init__(self, folder: Path, beat_every: Optional[float] = None, still_for: Optional[float] = None,
                 subfolders: bool = False) -> None:
        self.folder = Path(folder)
        self.subfolders = subfolders
        self.beat_every = beat_every or BEAT_EVERY
        self.still_for = still_for or STILL_FOR
        self.identity: Dict[str, Any] = {
            "line": uuid.uuid4().hex, "pc": socket.gethostname(), "machine": _this_machine(), "process": os.getpid(),
            "process_started": psutil.Process().create_time(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds"), "subfolders": subfolders}
        self.took_over_from: Optional[str] = None
        self.taken_over_by: Optional[str] = None
        self._beats = 0
        self._stop = threading.Event()
        self._beating: Optional[threading.Thread] = None
        # other PCs' notes on the trees above, as last read: one that changes (or appears) is a tree's line
        # that runs, started alongside this line without seeing its note
        self._trees_above: Dict[Path, Dict[str, Any]] = {}

    @property
    def path(self) -> Path:
        return self.folder / SHARE_NOTE

    @property
    def _real_folder(self) -> Path:
        """The folder as the notes above and below it are found: the same tree however it was named."""
        return Path(os.path.realpath(self.folder))

    def __enter__(self) -> "ShareNote":
        self.claim()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def claim(self, on_wait: Callable[[str], None] = lambda text: None,
              sleep: Callable[[float], None] = time.sleep) -> None:
        found = _read_note(self.path)  # never this line's own: its line id was made with it
        if found is not None and found.get("machine") == self.identity["machine"]:
            # a line of this PC: whether it runs is known at once (a restart after kill -9 or a power cut); one
            # of this very process has ended, since this process holds the PC's lock on the folder now
            if _runs_here(found) and found.get("process") != os.getpid():
                raise PatchCoreError(f"another line already inspects {self.folder} ({_who(found)}): stop it first "
                                     f"({TWO_LINES_ON_ONE_FOLDER})")
            self.took_over_from, found = f"{_who(found)}; that process no longer runs", None
        # this folder's note first, then other PCs' lines on a tree above or a folder below, each watched alike
        self._trees_above = self._other_pcs_trees_above()
        watched = {**({self.path: found} if found is not None else {}), **self._trees_above,
                   **self._other_pcs_lines_below()}
        for path, note in watched.items():
            on_wait(f"{path.parent} holds the note of a line ({_who(note)}"
                    f"{_WITH_SUBFOLDERS if path != self.path and note.get('subfolders') else ''}): watching for up "
                    f"to {self.still_for:.0f} s whether that line still runs")
        if watched:
            waited, look = 0.0, min(0.5, self.beat_every / 2)
            while waited < self.still_for:
                sleep(look)
                waited += look
                self._refuse_a_beating_note(watched)
        if found is not None:
            self.took_over_from = f"{_who(found)}; its note had not changed for {self.still_for:.0f} s"
        if not self._write():
            return  # not ours to write in: unguarded, as a line that only reads the camera folder is
        self._beating = threading.Thread(target=self._beat, name="share note", daemon=True)
        self._beating.start()

    def _other_pcs_trees_above(self) -> Dict[Path, Dict[str, Any]]:
        """The notes of other PCs' lines on a folder above this one, with its subfolders: this line's parts are
        theirs too (this PC's own lines are kept apart by its locks, :func:`only_line_on`)."""
        found = {above / SHARE_NOTE: _read_note(above / SHARE_NOTE) for above in self._real_folder.parents}
        return {path: note for path, note in found.items() if note is not None and note.get("subfolders") is True
                and note.get("machine") != self.identity["machine"]}

    def _other_pcs_lines_below(self) -> Dict[Path, Dict[str, Any]]:
        """For this line with its subfolders, the notes of other PCs' lines on a folder below: their parts are
        this line's too. Each is watched, as this folder's note is, before it counts."""
        if not self.subfolders:
            return {}
        real = self._real_folder
        try:
            found = {path: _read_note(path) for path in real.rglob(SHARE_NOTE) if path.parent != real}
        except OSError:
            return {}  # a subfolder that cannot be listed: its parts cannot be this line's either
        return {path: note for path, note in found.items()
                if note is not None and note.get("machine") != self.identity["machine"]}

    def _tree_line_started_above(self) -> Optional[str]:
        """Who runs a line on a tree above this folder, found since the last look: a line there that had found
        this line's note would have been refused, so it started alongside without seeing it. None if none."""
        now = self._other_pcs_trees_above()
        for path, note in now.items():
            if note != self._trees_above.get(path):
                return f"{_who(note)}, inspecting {path.parent}{_WITH_SUBFOLDERS}"
        self._trees_above = now
        return None

    def _refuse_a_beating_note(self, watched: Dict[Path, Dict[str, Any]]) -> None:
        """PatchCoreError naming the first watched note that changed: its line runs."""
        for path, note in watched.items():
            now = _read_note(path)
            if now is None or now == note:
                continue
            holder, line = f" ({_who(now)})", "a line on another PC"
            if path == self.path:
                raise PatchCoreError(f"{line} already inspects {self.folder}{holder}: stop it first "
                                     f"({TWO_LINES_ON_ONE_FOLDER})")
            if path.parent in self._real_folder.parents:
                raise _tree_above(path.parent, holder, self.folder, line)
            raise _folder_below(path.parent, self.folder, holder, line)

    def release(self) -> None:
        if self._beating is None:
            return
        self._stop.set()
        self._beating.join()
        self._beating = None
        if self._is_ours(_read_note(self.path)):
            try:
                self.path.unlink()
            except OSError:
                pass  # left behind, it is taken over once it has been still for ``still_for``

    def _beat(self) -> None:
        # the first look soon: of two lines started together, the one written over learns it within a second,
        # before its inspection processes are ready (they take seconds to load)
        wait = min(FIRST_LOOK_AFTER, self.beat_every)
        while not self._stop.wait(wait):
            wait = self.beat_every
            found = _read_note(self.path)
            if found is None or self._is_ours(found):
                self._write()
            elif self.taken_over_by is None:
                self.taken_over_by = _who(found)  # not written over: that line keeps the folder
            if self.taken_over_by is None:  # of a tree's line and a line inside it, the wider one keeps the parts
                self.taken_over_by = self._tree_line_started_above()

    def _is_ours(self, note: Optional[Dict[str, Any]]) -> bool:
        return note is not None and note.get("line") == self.identity["line"]

    def _write(self) -> bool:
        self._beats += 1
        try:
            # never made again here: a camera folder that went away (a share lost) must stay gone to the line
            atomic_write_text(self.path, json.dumps(dict(self.identity, beat=self._beats)) + "\n", make_folder=False)
        except PatchCoreError:
            return False
        return True


def _read_note(path: Path) -> Optional[Dict[str, Any]]:
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none, half-replaced on a share that does not rename atomically, or not ours
        return None
    return note if isinstance(note, dict) else None


def _this_machine() -> str:
    # the name alone is not enough: line PCs cloned from one image often keep one name, never one network card
    # (where no card's address can be read, uuid gives a random one: this PC then counts as another, and waits)
    return f"{socket.gethostname()}/{uuid.getnode():012x}"


def _runs_here(note: Dict[str, Any]) -> bool:
    """Whether the process that wrote ``note`` on this PC still runs (not a later one given its number)."""
    try:
        return abs(psutil.Process(int(note["process"])).create_time() - float(note["process_started"])) < 1.0
    except psutil.AccessDenied:  # another user's process that is there (Windows): taken to be the line
        return True
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def _who(note: Dict[str, Any]) -> str:
    return f"process {note.get('process', '?')} on {note.get('pc', '?')}, since {note.get('since', '?')}"

