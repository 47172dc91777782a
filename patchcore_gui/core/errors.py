"""The engine's exceptions: one small hierarchy whose messages are written for people.

Every message names the file (or thing) and the problem in one line, so the CLI can print
``str(error)`` and the GUI can show it in a dialog or a results row without a traceback.
"""

from __future__ import annotations


class PatchCoreError(Exception):
    """Base of every error the engine raises on purpose."""


class ImageReadError(PatchCoreError):
    """An image file could not be read or decoded (the message names the file)."""


class DatasetError(PatchCoreError):
    """A folder of images is unusable: empty, missing, or holds no readable image."""


class ModelFileError(PatchCoreError):
    """A model file is missing, truncated, altered, of a foreign format or of an unknown version."""


class WeightsMissingError(PatchCoreError):
    """Backbone weights are not on this machine; the message says what to put where."""


class Cancelled(PatchCoreError):
    """The caller cancelled a long operation through its :class:`CancelToken`."""
