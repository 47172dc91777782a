"""Progress reporting and cancellation, passed into long engine calls as arguments.

The engine never prints and never knows about Qt: a caller hands in a ``ProgressFn`` (the CLI
draws a text bar, the GUI emits a signal) and a :class:`CancelToken` it may set from any thread.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from .errors import Cancelled

#: ``progress(done, total, stage)``: ``done`` of ``total`` steps of the named stage are finished.
ProgressFn = Callable[[int, int, str], None]


class CancelToken:
    """A thread-safe flag that long operations check between batches.

    >>> token = CancelToken()
    >>> token.cancel()
    >>> token.cancelled
    True
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


def report(progress: Optional[ProgressFn], done: int, total: int, stage: str) -> None:
    """Call ``progress`` if one was given; the engine's single place that reports."""
    if progress is not None:
        progress(done, total, stage)


def check(cancel: Optional[CancelToken]) -> None:
    """Raise :class:`Cancelled` if ``cancel`` was set; a no-op without a token."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def offset_progress(progress: Optional[ProgressFn], done: int, total: int) -> Optional[ProgressFn]:
    """``progress`` for one part of a stage: the part's counts shifted by ``done`` of the stage's ``total``.

    >>> seen = []; offset_progress(lambda *a: seen.append(a), 4, 10)(2, 6, "calibration"); seen
    [(6, 10, 'calibration')]
    """
    if progress is None:
        return None
    return lambda part_done, _part_total, stage: progress(done + part_done, total, stage)
