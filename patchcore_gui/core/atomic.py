"""Write files so that a crash, a kill or a full disk never leaves a half file in place.

The data go to a temporary file in the same folder, are flushed to disk, and only then renamed
over the target: readers see the old file or the new one, never a mixture. A write that fails
(full disk, file-size limit, no permission) removes its temporary file and raises
:class:`~.errors.FileWriteError`, one line naming the target. A process killed mid-write leaves its
hidden temporary (``.NAME.*.tmp``) beside an intact target.

The written file gets the permissions a plain ``open(path, "w")`` would give: an existing file
keeps its mode (someone may have narrowed or widened it on purpose), a new one gets
``0o666 & ~umask``. mkstemp's 0600 would otherwise make a model in a shared folder unreadable to
the line PCs, which is a stopped line.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, ContextManager, Iterator, TextIO, Union

from .errors import FileWriteError, PatchCoreError

PathLike = Union[str, "os.PathLike[str]"]


def atomic_write_bytes(path: PathLike, data: bytes, make_folder: bool = True) -> Path:
    """Replace ``path`` with ``data`` all at once; raises :class:`FileWriteError` if it cannot.

    ``make_folder=False``: a missing folder is an error, not made (a note in a camera folder must not bring
    back, at the mount point, a share that went away).

    >>> atomic_write_bytes("results/run.csv", b"file,score\\n")  # doctest: +SKIP
    PosixPath('results/run.csv')
    """
    with _replacing(path, binary=True, make_folder=make_folder) as stream:
        stream.write(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str, make_folder: bool = True) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), make_folder)


def refuse_unwritable_folder(folder: PathLike, what: str) -> None:
    """Raise :class:`PatchCoreError` ("the ``what`` cannot go into ``folder``: why") if no file can be written
    into ``folder`` (made if missing): an output folder looked at once before a batch or a line starts, instead of
    failing at every part."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:  # what mkdir says when a file stands where the folder should
        why = "it is a file, not a folder"
    except NotADirectoryError:
        why = "a file stands where one of its folders should be"
    except OSError as exc:
        why = exc.strerror or str(exc)
    else:
        return
    raise PatchCoreError(f"the {what} cannot go into {folder}: {why}")


_UMASK_LOCK = threading.Lock()
_PROC_STATUS = "/proc/self/status"


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux >= 4.7).

    Elsewhere it is set and put back at once, under a lock so that two writers of this module
    never see each other's 0; another thread creating a file in that instant would get mode 0666
    & ~0 (the only way POSIX offers to read the umask).
    """
    try:
        with open(_PROC_STATUS, encoding="ascii") as lines:
            for line in lines:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """The permission bits a plain write to ``target`` would leave it with."""
    try:
        existing = target.stat()
    except OSError:  # not there yet (or not reachable): a new file
        return 0o666 & ~current_umask()
    if stat.S_ISREG(existing.st_mode):
        return stat.S_IMODE(existing.st_mode) & 0o777  # set-id bits are dropped, as a write by a non-owner does
    return 0o666 & ~current_umask()


def _set_mode(handle: int, temporary: str, mode: int) -> None:
    # best effort: a share that keeps no Unix modes (SMB, FAT) refuses chmod, and the data matter more
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(handle, mode)
        else:  # Windows: only the read-only flag exists, and 0o666 leaves the file writable
            os.chmod(temporary, mode)
    except OSError:
        pass


def fsync_folder(folder: Path) -> None:
    """Make the names in ``folder`` durable (a rename, a new link); best effort, as Windows cannot."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_text_writer(path: PathLike) -> ContextManager[TextIO]:
    """Write a large text file piece by piece, then replace ``path`` with it all at once.

    For output too large to build in memory first (an export of a million records); what readers
    see and what a failure leaves are as for :func:`atomic_write_bytes`.

    >>> with atomic_text_writer("export.csv") as stream:  # doctest: +SKIP
    ...     stream.write("file,score\\n")
    """
    return _replacing(path, binary=False)


@contextmanager
def _replacing(path: PathLike, binary: bool, make_folder: bool = True) -> Iterator[IO]:
    """A stream into a temporary beside ``path`` that replaces it once the ``with`` block ends well."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        if make_folder:
            folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except FileExistsError:  # what mkdir says when a file stands where a folder should
        raise FileWriteError(target, NotADirectoryError(errno.ENOTDIR, f"'{folder}' is not a folder")) from None
    except OSError as exc:
        raise FileWriteError(target, exc) from None
    try:
        _set_mode(handle, temporary, _mode_for(target))
        text = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(handle, "wb" if binary else "w", **text) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise FileWriteError(target, exc) from None
        raise
    fsync_folder(folder)
