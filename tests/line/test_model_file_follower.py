"""The follower of a running line's model file, on a stand-in line: what it says of a file gone, written again
as it was, or replaced by a model that scores otherwise."""

from __future__ import annotations

import os
import queue
from dataclasses import replace
from pathlib import Path

from patchcore_gui.core import load_model, save_model
from patchcore_gui.core.fingerprint import stat_key
from patchcore_gui.line.model_file_follower import ModelFileFollower


class StandInLine:
    """What the follower uses of a line: the model in force, and ``take_up`` (here in force at once)."""

    def __init__(self, model) -> None:
        self.model = model
        self.taken_up = []

    def take_up(self, model, open_recorder=None, then=lambda: None) -> None:
        self.model = model
        self.taken_up.append(model)
        then()


def follow(path: Path):
    line = StandInLine(load_model(path))
    notices: "queue.Queue[str]" = queue.Queue()
    follower = ModelFileFollower(line, path, stat_key(path), lambda model: None, notices.put, every_s=0.02).start()
    return line, notices, follower


def replace_file(model, path: Path) -> None:
    """As the tools write a model file: whole, under its name at once, with a new modification time."""
    save_model(model, path.with_suffix(".tmp.patchcore"))
    os.replace(path.with_suffix(".tmp.patchcore"), path)


def test_a_model_file_gone_written_again_as_it_was_or_scoring_otherwise_is_said_so(fitted, tmp_path):
    path = save_model(fitted.model, tmp_path / "line3.patchcore")
    line, notices, follower = follow(path)
    try:
        path.rename(tmp_path / "moved.patchcore")
        assert notices.get(timeout=10) == ("line3.patchcore is gone (removed or renamed): the line goes on with the "
                                           "model it had, and takes up a model written there again")
        (tmp_path / "moved.patchcore").rename(path)  # the same model back (before: "changed ... no setting ...")
        assert notices.get(timeout=10) == ("line3.patchcore was written again with the model the line has: it goes "
                                           "on as it was")
        bank = line.model.memory_bank.copy()
        bank[0] += 1.0  # another model of the same settings and bank size
        replace_file(replace(line.model, memory_bank=bank), path)
        assert notices.get(timeout=10) == ("line3.patchcore changed: inspecting with it from now on (how parts are "
                                           "scored: network, input or memory bank)")
        replace_file(line.model.with_defect_size(40, 0.05), path)
        assert notices.get(timeout=10) == ("line3.patchcore changed: inspecting with it from now on (minimum defect "
                                           "area 0 px -> 40 px, pixel size none -> 0.05 mm)")
    finally:
        follower.stop()
    assert len(line.taken_up) == 3 and notices.empty()  # the file gone is said once, and takes nothing up
