"""Which content a file held when it was read: size, modification time and a hash of its bytes.

A camera may write ``latest.png`` again and again: the same path is then another part. A result is
only true of the bytes it was computed from, so whoever keeps a result keeps the
:class:`FileFingerprint` of those bytes and checks it before drawing the result over the file again.

>>> image, fingerprint = read_fingerprinted("cam/latest.png")   # doctest: +SKIP
>>> fingerprint == file_fingerprint("cam/latest.png")            # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .atomic import PathLike
from .errors import ImageReadError
from .images import read_image

#: How often a file that changes while it is read is read again before giving up.
_READ_TRIES = 3


@dataclass(frozen=True, slots=True)
class FileFingerprint:
    size: int
    mtime_ns: int
    sha256: str  # hex, the same content key as the inspection record's (record.identity.file_identity)

    @property
    def stat_key(self) -> Tuple[int, int]:
        return self.size, self.mtime_ns


def stat_key(path: PathLike) -> Optional[Tuple[int, int]]:
    """``(size, mtime_ns)`` of ``path``, or None if it cannot be stat'ed: the cheap first check."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def file_fingerprint(path: PathLike) -> Optional[FileFingerprint]:
    """The fingerprint of ``path`` now, or None if it cannot be read."""
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None
    return FileFingerprint(info.st_size, info.st_mtime_ns, digest)


def read_fingerprinted(path: PathLike, sample_bits: int = 16) -> Tuple[np.ndarray, FileFingerprint]:
    """``read_image(path, sample_bits)`` and the fingerprint of the very content it decoded.

    The file is fingerprinted, decoded, and stat'ed again; if it changed in between (a camera
    writing it), it is read again. Raises :class:`ImageReadError` like :func:`read_image`.
    """
    for _ in range(_READ_TRIES):
        before = file_fingerprint(path)
        image = read_image(path, sample_bits)  # raises the one-line reason a file cannot be read
        if before is not None and stat_key(path) == before.stat_key:
            return image, before
    name = Path(path).name
    raise ImageReadError(f"cannot read '{name}': it changed each time it was read (is it still being written?)")
