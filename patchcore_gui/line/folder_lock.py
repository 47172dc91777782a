"""One line per camera folder on a PC.

Two lines on one folder (the line PC's ``patchcore watch`` service, and an operator's Run line in the window)
would each inspect, record and sort every part: the counters double, the record holds every part twice, and
with ``--move`` one line moves away the image the other is about to read. A line therefore holds an
operating-system lock (filelock: released when its process ends, however it ends) named after the folder's
real path, in a folder every user of the PC shares, and a second line on the same folder is refused in one
line that says who holds it.

Not covered: two PCs watching one network share, and one line watching a folder's subfolders beside
another on one of those subfolders.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional

from filelock import FileLock, Timeout

from ..core import PatchCoreError
from ..core.atomic import atomic_write_text


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
def only_line_on(folder: Path, where: Optional[Path] = None) -> Iterator[None]:
    """Hold the camera folder's lock while the block runs; PatchCoreError if another line holds it."""
    real = os.path.realpath(folder)
    where = where or locks_folder()
    name = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    lock = FileLock(where / f"{name}.lock", mode=0o666)
    try:
        _make_shared(where)
        lock.acquire(timeout=0)
    except Timeout:
        raise PatchCoreError(f"another line already inspects {folder}{_holder(where, name)}: stop it "
                             "first (two lines would inspect, record and sort every part twice)") from None
    except OSError:  # no lock can be made here (a folder another user made private): unguarded rather than not at all
        yield
        return
    try:
        try:
            # one note per user: in the shared folder a user can replace only their own files
            atomic_write_text(where / f"{name}.{_user_key()}.who",
                              f"process {os.getpid()} on {socket.gethostname()}, since "
                              f"{datetime.now():%Y-%m-%d %H:%M:%S}, watching {real}\n")
        except PatchCoreError:
            pass  # who holds it only makes the refusal clearer
        yield
    finally:
        lock.release()


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
