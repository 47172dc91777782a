"""What happens to a part's image after its result is recorded: sorted into OK/ REVIEW/ NG/ ERROR/, overlays of NG.

Sorted images go to ``ROOT/<local date>/<verdict>/<file name>`` (REVIEW/ only with a review band: the
parts a person looks at), below that in the subfolder the part came from when the line watches the camera
folder's subfolders (``.../NG/batch-17/p1.png``); a name already taken there by other
bytes gets ``<stem>_2<suffix>``, ``_3`` ... Moving never loses an image: the bytes are copied to a
hidden temporary beside the target, flushed to disk, given their name without replacing anything,
the folder flushed, and only then is the original removed. A kill at any point leaves the image in
the watched folder, at its target, or both; never neither.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

from ..core import FileWriteError, ImageReadError, atomic_write_bytes
from ..core.atomic import fsync_folder
from ..record import file_identity


def dated_folder(root: Path, when: datetime, verdict: str = "") -> Path:
    """``root/YYYY-MM-DD[/verdict]`` in local time, the day an operator's shift calls it.

    >>> from datetime import timezone
    >>> dated_folder(Path("sorted"), datetime(2026, 3, 1, 10, tzinfo=timezone.utc).astimezone(), "NG").parts[-1]
    'NG'
    """
    folder = root / when.astimezone().strftime("%Y-%m-%d")
    return folder / verdict if verdict else folder


def free_name(folder: Path, name: str) -> Path:
    """``folder/name`` if nothing is there, else the first free ``stem_N.suffix`` (N from 2).

    >>> free_name(Path("/nonexistent"), "p1.png").name
    'p1.png'
    """
    candidate, number = folder / name, 2
    stem, suffix = os.path.splitext(name)
    while os.path.lexists(candidate):
        candidate, number = folder / f"{stem}_{number}{suffix}", number + 1
    return candidate


def where_the_part_is(path: Path, sorted_to: Optional[Path]) -> Path:
    """Where a recorded part's image is to be read again: its sorted copy first (a camera may since have written
    another part under the name it had in the camera folder), else where the camera wrote it; the sorted
    place when neither exists, as the one the line last put it.

    >>> where_the_part_is(Path("/nonexistent/cam/p1.png"), Path("/nonexistent/sorted/NG/p1.png")).parts[-2]
    'NG'
    """
    places = [place for place in (sorted_to, path) if place is not None]
    return next((place for place in places if place.is_file()), places[0])


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and file_identity(a) == file_identity(b)
    except (OSError, ImageReadError):
        return False


def place_copy(source: Path, folder: Path) -> Path:
    """Copy ``source`` durably into ``folder`` under a free name; returns where it now is.

    If ``folder`` already holds the same bytes under the same name (a copy made before a restart),
    that copy is the answer. Raises :class:`FileWriteError` when the copy cannot be made.
    """
    existing = folder / source.name
    if existing.exists() and _same_bytes(source, existing):
        return existing
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{source.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileWriteError(folder / source.name, exc) from None
    try:
        with open(source, "rb") as reading, os.fdopen(handle, "wb") as writing:
            shutil.copyfileobj(reading, writing, 1 << 20)
            writing.flush()
            os.fsync(writing.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # as a plain write would make it, not mkstemp's 0600
        while True:
            target = free_name(folder, source.name)
            try:
                os.link(temporary, target)  # fails rather than replace a file that appeared meanwhile
                break
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                os.replace(temporary, target)  # no hard links here (FAT, some shares): name checked just above
                break
    except BaseException as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise FileWriteError(folder / source.name, exc) from None
        raise
    if os.path.exists(temporary):
        os.unlink(temporary)
    fsync_folder(folder)
    return target


def _read_umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _read_umask()  # read once at import: setting it to read it is not safe while threads write files


@dataclass(frozen=True)
class PartSorter:
    """Copies or moves each part's image into ``root/<date>/<verdict>/`` (module docstring)."""

    root: Path
    move: bool = False

    def sort(self, source: Path, verdict: str, when: datetime, below: Path = Path()) -> Path:
        """Place one image; returns its new path. Raises :class:`FileWriteError` (image left where it was).

        ``below``: the subfolder of the camera folder the part came from, kept under the verdict's folder
        (a camera's batch or day folders hold parts of the same name).
        """
        target = place_copy(source, dated_folder(self.root, when, verdict) / below)
        if self.move:
            try:
                os.unlink(source)
            except FileNotFoundError:
                pass
            fsync_folder(source.parent)
        return target


@dataclass(frozen=True)
class OverlayWriter:
    """Writes the heatmap overlay of each NG part to ``root/<date>/[<below>/]<stem>_overlay.png`` (a free name)."""

    root: Path

    def write(self, source: Path, png: bytes, when: datetime, below: Path = Path()) -> Path:
        folder = dated_folder(self.root, when) / below
        return atomic_write_bytes(free_name(folder, f"{source.stem}_overlay.png"), png)
