"""The engine's exceptions: one small hierarchy whose messages are written for people.

Every message names the file (or thing) and the problem in one line, so the CLI can print
``str(error)`` and the GUI can show it in a dialog or a results row without a traceback.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping


class PatchCoreError(Exception):
    """Base of every error the engine raises on purpose."""


def said_in_one_line(exc: BaseException) -> str:
    """What went wrong, for a person: the engine's own message, else the exception's kind and its words
    (a library's ``FileNotFoundError`` says nothing by its words alone).

    >>> said_in_one_line(MemoryError("out of memory"))
    'MemoryError: out of memory'
    """
    return str(exc) if isinstance(exc, PatchCoreError) else f"{type(exc).__name__}: {exc}"


class ImageReadError(PatchCoreError):
    """An image file could not be read or decoded (the message names the file)."""


class DatasetError(PatchCoreError):
    """A folder of images is unusable: empty, missing, or holds no readable image."""


class ModelFileError(PatchCoreError):
    """A model file is missing, truncated, altered, of a foreign format or of an unknown version."""


class UnknownSettings(ValueError):
    """A model file's settings hold names this program does not know: written by a newer program."""


def refuse_unknown_keys(data: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """Raise :class:`UnknownSettings` naming the keys of ``data`` not in ``known``: refused, never dropped (a
    setting a newer program added changes how it scores or judges).

    >>> refuse_unknown_keys({"tile": 320, "warp": 1}, ["tile"], "preprocessing")
    Traceback (most recent call last):
    ...
    patchcore_gui.core.errors.UnknownSettings: preprocessing 'warp'
    """
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UnknownSettings(f"{what} {', '.join(repr(key) for key in unknown)}")


class WeightsMissingError(PatchCoreError):
    """Backbone weights are not on this machine; the message says what to put where."""


class Cancelled(PatchCoreError):
    """The caller cancelled a long operation through its :class:`CancelToken`."""


class FileWriteError(PatchCoreError, OSError):
    """A file could not be written (disk full, file too large, no permission); the previous file is intact.

    Also an :class:`OSError` (``errno``, ``strerror``, ``filename``), so callers that catch that keep working.

    >>> str(FileWriteError("m.patchcore", OSError(28, "No space left on device")))
    "cannot write 'm.patchcore': No space left on device (the previous file, if any, is unchanged)"
    """

    def __init__(self, path: object, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))

    def __str__(self) -> str:
        return f"cannot write '{self.filename}': {self.strerror} (the previous file, if any, is unchanged)"
