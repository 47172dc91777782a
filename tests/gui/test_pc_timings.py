"""This PC's timings for the build dialog: timed once each in the background, one at a time; a failure keeps
the rough rate."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from patchcore_gui.core.build_cost import PcSpeed
from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.errors import WeightsMissingError
from patchcore_gui.gui import pc_timings
from patchcore_gui.gui.pc_timings import PcTimings

TILES = PatchCoreConfig(geometry="tile", tile=320, overlap=64, scale=0.75)


def test_each_network_input_is_timed_once_and_one_at_a_time(qtbot, monkeypatch):
    timed = []

    def fake(config, weights=None, rounds=3):
        timed.append(config.tile if config.geometry == "tile" else config.resize)
        return PcSpeed(network_ms=float(len(timed)), input_size=timed[-1], multiply_factor=1.0)

    monkeypatch.setattr(pc_timings, "time_this_pc", fake)
    timings = PcTimings()
    with qtbot.waitSignal(timings.timed, timeout=10_000):
        assert timings.speed_for(TILES) is None
        assert timings.speed_for(TILES.with_changes(tile=384)) is None  # waits for the first
        assert timings.speed_for(TILES.with_changes(scale=0.5)) is None  # the same input: not timed twice
    qtbot.waitUntil(lambda: len(timed) == 2 and timings.speed_for(TILES.with_changes(tile=384)) is not None,
                    timeout=10_000)
    assert timed == [320, 384]
    assert timings.speed_for(TILES.with_changes(coreset_ratio=0.01)) == PcSpeed(1.0, 320, 1.0)
    assert timed == [320, 384]
    timings.wait()


def test_a_timing_that_fails_keeps_the_rough_rate_and_is_not_tried_again(qtbot, monkeypatch):
    attempts = []

    def missing(config, weights=None, rounds=3):
        attempts.append(config)
        raise WeightsMissingError("no ImageNet weights for this network on this machine")

    monkeypatch.setattr(pc_timings, "time_this_pc", missing)
    timings = PcTimings()
    with qtbot.waitSignal(timings.timed, timeout=10_000):
        assert timings.speed_for(TILES) is None
    assert timings.speed_for(TILES) is None
    qtbot.wait(50)
    assert len(attempts) == 1
    timings.wait()


def test_a_program_that_ends_while_a_timing_runs_waits_for_it_instead_of_aborting(tmp_path):
    """A QThread destroyed while it runs aborts the process; the build dialog's timing takes about a second."""
    folder = tmp_path / "good"
    folder.mkdir()
    Image.fromarray(np.full((200, 500, 3), 90, np.uint8)).save(folder / "part.png")
    script = ("from PySide6.QtWidgets import QApplication\n"
              "from patchcore_gui.gui.dialogs import BuildOptionsDialog\n"
              "app = QApplication([])\n"
              f"dialog = BuildOptionsDialog({str(folder)!r})\n"
              "assert 'rough' in dialog.cost.text()  # the timing has only just started\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Destroyed while thread" not in done.stderr
