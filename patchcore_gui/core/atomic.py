"""Write files so that a crash, a kill or a full disk never leaves a half file in place.

The data go to a temporary file in the same folder, are flushed to disk, and only then renamed
over the target: readers see the old file or the new one, never a mixture. A write that fails
(full disk, file-size limit, no permission) removes its temporary file and raises
:class:`~.errors.FileWriteError`, one line naming the target. A process killed mid-write leaves its
hidden temporary (``.NAME.*.tmp``) beside an intact target.
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO, Union

from .errors import FileWriteError

PathLike = Union[str, "os.PathLike[str]"]


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Replace ``path`` with ``data`` all at once; raises :class:`FileWriteError` if it cannot.

    >>> atomic_write_bytes("results/run.csv", b"file,score\\n")  # doctest: +SKIP
    PosixPath('results/run.csv')
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except FileExistsError:  # what mkdir says when a file stands where a folder should
        raise FileWriteError(target, NotADirectoryError(errno.ENOTDIR, f"'{folder}' is not a folder")) from None
    except OSError as exc:
        raise FileWriteError(target, exc) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
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
    _fsync_folder(folder)
    return target


def atomic_write_text(path: PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_folder(folder: Path) -> None:
    # makes the rename itself durable; not possible on every platform (Windows), hence best effort
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


@contextmanager
def atomic_text_writer(path: PathLike) -> Iterator[TextIO]:
    """Write a large text file piece by piece, then replace ``path`` with it all at once.

    For output too large to build in memory first (an export of a million records); what readers
    see and what a failure leaves are as for :func:`atomic_write_bytes`.

    >>> with atomic_text_writer("export.csv") as stream:  # doctest: +SKIP
    ...     stream.write("file,score\\n")
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileWriteError(target, exc) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
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
    _fsync_folder(folder)
