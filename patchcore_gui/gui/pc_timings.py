"""This PC's speed for the builds a person considers, timed in the background once per run of the program,
so the build dialog's time per image is this PC's rather than a rough rate (core/build_cost.py)."""

from __future__ import annotations

import atexit
from typing import Any, Dict, Optional, Set, Tuple

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from ..core.build_cost import PcSpeed, network_timing_key, time_this_pc
from ..core.config import PatchCoreConfig
from .workers import RunningWorkers, Worker


class PcTimingWorker(Worker):
    """One network input of a build's size, and the fixed product, timed on this PC (about a second)."""

    def __init__(self, config: PatchCoreConfig) -> None:
        super().__init__()
        self.config = config

    def work(self) -> PcSpeed:
        return time_this_pc(self.config)


class PcTimings(QObject):
    """The timings asked for so far, by what they depend on; ``timed`` when one more is known.

    One at a time, so the timing does not slow itself (or a build just started) by sharing the cores.
    A timing that fails (the network's weights are not on this PC) is not tried again; its builds keep
    the rough rate.
    """

    timed = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._speeds: Dict[Tuple[Any, ...], PcSpeed] = {}
        self._failed: Set[Tuple[Any, ...]] = set()
        self._waiting: Dict[Tuple[Any, ...], PatchCoreConfig] = {}
        self._timing: Optional[Tuple[Any, ...]] = None  # the key being timed now
        self._running = RunningWorkers(self)

    def speed_for(self, config: PatchCoreConfig) -> Optional[PcSpeed]:
        """This PC's speed for ``config``'s network input if timed already; otherwise None, and it is timed."""
        key = network_timing_key(config)
        if key in self._speeds or key in self._failed:
            return self._speeds.get(key)
        self._waiting.setdefault(key, config)
        self._start_next()
        return None

    def _start_next(self) -> None:
        if self._timing is not None or not self._waiting:
            return
        self._timing, config = next(iter(self._waiting.items()))
        worker = PcTimingWorker(config)
        # bound slots, not lambdas: they run on this object's (the UI) thread
        worker.finished.connect(self._timed_ok)
        worker.failed.connect(self._timing_failed)
        self._running.start(worker)

    @Slot(object)
    def _timed_ok(self, speed: PcSpeed) -> None:
        self._done(speed)

    @Slot(str)
    def _timing_failed(self, _message: str) -> None:
        self._done(None)

    def _done(self, speed: Optional[PcSpeed]) -> None:
        key, self._timing = self._timing, None
        if key is None:  # the program is quitting (wait dropped it)
            return
        self._waiting.pop(key, None)
        if speed is None:
            self._failed.add(key)
        else:
            self._speeds[key] = speed
        self._start_next()
        self.timed.emit()

    def wait(self) -> None:
        """Let the timing under way end (the program is quitting); what waits is dropped."""
        self._waiting.clear()
        self._running.wait()
        self._timing = None


_SHARED: Optional[PcTimings] = None


def shared_pc_timings() -> PcTimings:
    """The program's one :class:`PcTimings`, which lives as long as the application and waits for its timing
    to end when the application quits, or else when Python exits (a QThread destroyed while it runs aborts
    the program; an application that never quits, as under the tests, ends that way)."""
    global _SHARED
    if _SHARED is None:
        app = QCoreApplication.instance()
        _SHARED = PcTimings(app)
        if app is not None:
            app.aboutToQuit.connect(_SHARED.wait)
        atexit.register(_wait_at_exit)
    return _SHARED


def _wait_at_exit() -> None:
    if _SHARED is not None and shiboken6.isValid(_SHARED):
        _SHARED.wait()
