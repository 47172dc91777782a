"""The identity of a file's content: its size and sha256, the key that says "this part was inspected".

The same sha256 as :class:`~patchcore_gui.core.fingerprint.FileFingerprint` (which also keeps the
modification time, for the window's cheap "changed since?" check); this is that, as the record
needs it, with a one-line error instead of None.
"""

from __future__ import annotations

import os
from typing import Tuple, Union

from ..core.errors import ImageReadError
from ..core.fingerprint import file_fingerprint


def file_identity(path: Union[str, "os.PathLike[str]"]) -> Tuple[int, str]:
    """``(size in bytes, sha256 hex)`` of the file's content as it is now.

    Raises :class:`ImageReadError` naming the file when it is missing or unreadable.

    >>> import tempfile, pathlib
    >>> part = pathlib.Path(tempfile.mkdtemp()) / "part.png"
    >>> _ = part.write_bytes(b"abc")
    >>> file_identity(part)
    (3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    """
    fingerprint = file_fingerprint(path)
    if fingerprint is None:
        try:
            os.stat(path)
            reason = "cannot be read (no permission, or it went away while read)"
        except OSError as exc:
            reason = exc.strerror or str(exc)
        raise ImageReadError(f"cannot read '{os.fspath(path)}': {reason}")
    return fingerprint.size, fingerprint.sha256
