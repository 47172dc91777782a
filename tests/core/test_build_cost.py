"""The build's time estimate timed on this PC: the network measured here, the rest scaled by how fast it multiplies."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import psutil
import pytest
import torch

from patchcore_gui.core.build_cost import (BUSY_SHARE, PcSpeed, estimate_build_cost, network_timing_key,
                                           time_this_pc)
from patchcore_gui.core.config import PatchCoreConfig

TILES = PatchCoreConfig(geometry="tile", scale=0.75, tile=320, overlap=64)
SIZES = [(300, 400), (300, 700)]  # at 0.75x: one tile, then two side by side


def test_a_timed_network_replaces_the_rough_rate_per_network_input_and_the_rest_follows_the_multiply_factor(
        monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)  # one input at a time
    rough = estimate_build_cost(TILES, SIZES, 50)
    fast = estimate_build_cost(TILES, SIZES, 50, speed=PcSpeed(network_ms=40.0, input_size=320, multiply_factor=1.0))
    slow = estimate_build_cost(TILES, SIZES, 50, speed=PcSpeed(network_ms=40.0, input_size=320, multiply_factor=3.0))
    assert fast.tiles_per_image == 1.5
    rest = fast.ms_per_image - 1.5 * 40.0  # the search and the rest, at the reference PC's speed
    assert rest > 0
    assert slow.ms_per_image == pytest.approx(1.5 * 40.0 + 3.0 * rest)
    doubled = estimate_build_cost(TILES, SIZES, 50, speed=PcSpeed(network_ms=80.0, input_size=320, multiply_factor=1.0))
    assert doubled.ms_per_image == pytest.approx(fast.ms_per_image + 1.5 * 40.0)
    assert "timed on this PC" in fast.text() and "rough" in rough.text() and "timed" not in rough.text()
    # on two cores a part's two tiles go through the network side by side: one input's time
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    side_by_side = estimate_build_cost(TILES, SIZES, 50, speed=PcSpeed(network_ms=40.0, input_size=320,
                                                                       multiply_factor=1.0))
    assert side_by_side.ms_per_image == pytest.approx(40.0 + rest)
    # a timing of another input size is no timing of this build
    with pytest.raises(ValueError, match="384 px"):
        estimate_build_cost(TILES, SIZES, 50, speed=PcSpeed(network_ms=40.0, input_size=384, multiply_factor=1.0))


def test_the_build_time_is_its_parts_through_the_network_its_coreset_and_its_calibration():
    def cost(network_ms: float = 40.0, multiply: float = 1.0, n_images: int = 50, config: PatchCoreConfig = TILES):
        return estimate_build_cost(config, SIZES, n_images, speed=PcSpeed(network_ms=network_ms, input_size=320,
                                                                          multiply_factor=multiply))

    timed, doubled, no_network = cost(), cost(network_ms=80.0), cost(network_ms=0.0)
    # every part's every tile goes through the network once: its time is linear in the timed input
    assert doubled.features_s - no_network.features_s == pytest.approx(2 * (timed.features_s - no_network.features_s))
    assert timed.features_s - no_network.features_s > 50 * 1.5 * 0.040 * 0.5  # at least half of one input each
    # the coreset compares every candidate with every chosen vector: four times the parts, about 16 times
    assert 14 < cost(n_images=200).coreset_s / timed.coreset_s < 18
    slow = cost(multiply=3.0)
    assert slow.coreset_s == pytest.approx(3 * timed.coreset_s)
    assert slow.calibration_s == pytest.approx(3 * timed.calibration_s) and timed.calibration_s > 0
    assert timed.fit_s > timed.features_s + timed.coreset_s + timed.calibration_s
    # the held-out parts' own coresets, when they join the bank
    assert cost(config=TILES.with_changes(bank_from_all=True)).coreset_s > timed.coreset_s
    assert "the build takes about" in timed.text()


def test_builds_share_a_timing_when_their_network_input_is_the_same():
    assert network_timing_key(TILES) == network_timing_key(TILES.with_changes(coreset_ratio=0.01, scale=0.5))
    assert network_timing_key(TILES) != network_timing_key(TILES.with_changes(tile=384))
    assert network_timing_key(TILES) != network_timing_key(TILES.with_changes(layers=("blocks.4", "blocks.6")))
    assert network_timing_key(PatchCoreConfig()) != network_timing_key(TILES)


def test_this_pc_is_timed_with_the_builds_own_network_input():
    speed = time_this_pc(PatchCoreConfig(), rounds=1)
    assert speed.input_size == 224
    assert math.isfinite(speed.network_ms) and speed.network_ms > 0
    assert math.isfinite(speed.multiply_factor) and speed.multiply_factor > 0
    assert 0.0 <= speed.others_busy <= 1.0
    timed = estimate_build_cost(PatchCoreConfig(), [(256, 256)], 20, speed=speed)
    assert timed.ms_per_image > speed.network_ms and timed.timed_here


def test_the_estimate_says_when_other_programs_kept_the_pc_busy_while_it_was_timed():
    def timed(busy: float) -> str:
        return estimate_build_cost(TILES, SIZES, 50, speed=PcSpeed(network_ms=40.0, input_size=320,
                                                                   multiply_factor=1.0, others_busy=busy)).text()

    assert "(timed on this PC, idle)" in timed(0.1)
    assert "(timed on this PC while other programs kept 45% of it busy)" in timed(0.45)
    assert "idle" not in timed(0.45)


def test_a_timing_measures_how_busy_other_programs_keep_the_pc():
    spin = "import time\nstarted = time.time()\nwhile time.time() - started < 30: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(psutil.cpu_count() or 1)]
    try:
        time.sleep(0.3)
        busy = time_this_pc(PatchCoreConfig(), rounds=2)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert busy.others_busy > BUSY_SHARE
