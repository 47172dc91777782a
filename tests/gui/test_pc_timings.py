"""This PC's timings for the build dialog: timed once each in the background, one at a time; a failure keeps
the rough rate."""

from __future__ import annotations

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
