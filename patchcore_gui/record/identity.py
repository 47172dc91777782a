"""The identity of a file's content: its size and sha256, the key that says "this part was inspected"."""

from __future__ import annotations

import hashlib
import os
from typing import Tuple, Union

from ..core.errors import ImageReadError

_CHUNK = 1 << 20


def file_identity(path: Union[str, "os.PathLike[str]"]) -> Tuple[int, str]:
    """``(size in bytes, sha256 hex)`` of the file's content as it is now.

    Raises :class:`ImageReadError` naming the file when it is missing or unreadable.

    >>> import tempfile, pathlib
    >>> part = pathlib.Path(tempfile.mkdtemp()) / "part.png"
    >>> _ = part.write_bytes(b"abc")
    >>> file_identity(part)
    (3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    """
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise ImageReadError(f"cannot read '{os.fspath(path)}': {exc.strerror or exc}") from None
    return size, digest.hexdigest()
