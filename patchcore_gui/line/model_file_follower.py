"""A running line's model file, looked at every second: a tuned model written over it is taken up.

An engineer tunes the line's model where it errs (``patchcore threshold``, ``roi``, ``defect-size`` or
``teach`` on its file, the window's Save, or another model copied over it). :class:`ModelFileFollower`
sees the file change, reads it on its own thread, and hands it to :meth:`InspectionLine.take_up`,
which takes it between parts. ``patchcore watch`` and the window's line follow their file alike.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional, Tuple

from ..core import PatchCoreError, PatchCoreModel, load_model
from ..core.fingerprint import stat_key
from ..core.model_file import NOTHING_CHANGED, what_changed
from .runner import InspectionLine, Recorder

#: Seconds between looks at the model file: a tuned model written over it is taken up this soon.
MODEL_LOOK_EVERY_S = 1.0


class ModelFileFollower:
    """Looks at ``path`` until :meth:`stop`; ``stamp`` is its :func:`stat_key` as the line's model was
    read from it (taken before reading: a change while it was read is taken up after).

    ``open_recorder_for(model)`` gives what opens the recorder naming a model taken up (None: no store);
    ``on_notice(str)`` gets one line for a change taken up or refused; ``on_taken_up(model)`` is called
    once the line inspects with it. Both are called from the follower's or the line's thread.
    """

    def __init__(self, line: InspectionLine, path: Path, stamp: Optional[Tuple[int, int]],
                 open_recorder_for: Callable[[PatchCoreModel], Optional[Callable[[], Recorder]]],
                 on_notice: Callable[[str], None],
                 on_taken_up: Callable[[PatchCoreModel], None] = lambda model: None,
                 every_s: float = MODEL_LOOK_EVERY_S) -> None:
        self.line = line
        self.path = path
        self.stamp = stamp
        self.open_recorder_for = open_recorder_for
        self.on_notice = on_notice
        self.on_taken_up = on_taken_up
        self.every_s = every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="model file", daemon=True)

    def start(self) -> "ModelFileFollower":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _follow(self) -> None:
        while not self._done.wait(self.every_s):
            stamp = stat_key(self.path)
            if stamp == self.stamp:
                continue
            if stamp is None:  # removed or renamed away: said once; a model written there again is taken up
                self.stamp = None
                self.on_notice(f"{self.path.name} is gone (removed or renamed): the line goes on with the model it "
                               "had, and takes up a model written there again")
                continue
            self.stamp = stamp
            try:
                tuned = load_model(self.path)
            except PatchCoreError as exc:
                self.on_notice(f"error: {self.path.name} changed but cannot be used ({exc}); the line goes on "
                               "with the model it had")
                continue
            change = what_changed(self.line.model, tuned)  # against the model in force (not one that failed)

            def in_force(tuned: PatchCoreModel = tuned, change: str = change) -> None:
                if change == NOTHING_CHANGED:
                    self.on_notice(f"{self.path.name} was written again with the model the line has: it goes on "
                                   "as it was")
                else:
                    self.on_notice(f"{self.path.name} changed: inspecting with it from now on ({change})")
                self.on_taken_up(tuned)

            self.line.take_up(tuned, self.open_recorder_for(tuned), in_force)
