import numpy as np
import pytest

from patchcore_gui.core.calibration import MapScale, default_threshold, holdout_split, learn_map_scale


@pytest.mark.parametrize("n,fraction", [(2, 0.2), (5, 0.2), (209, 0.2), (10, 0.5), (3, 0.9)])
def test_holdout_split_partitions_and_keeps_both_sides(n, fraction):
    bank, holdout = holdout_split(n, fraction)
    assert len(bank) >= 1 and len(holdout) >= 1
    assert sorted(np.concatenate([bank, holdout]).tolist()) == list(range(n))


def test_holdout_is_spread_over_the_whole_folder():
    _, holdout = holdout_split(100, 0.1)
    assert holdout.min() < 10 and holdout.max() > 90


def test_one_image_cannot_calibrate():
    with pytest.raises(ValueError, match="at least 2"):
        holdout_split(1, 0.2)


def test_threshold_rule():
    good = np.array([1.0, 1.2, 1.4, 2.0])
    assert default_threshold(good, 1.0, 0.0) == 2.0
    assert default_threshold(good, 1.0, 0.1) == pytest.approx(2.0 + 0.1 * (2.0 - 1.3))
    assert default_threshold(good, 0.5, 0.0) == pytest.approx(1.3)


def test_map_scale_puts_threshold_mid_colour_scale():
    scale = learn_map_scale(np.array([2.0, 4.0]), np.array([1.0, 2.0]), np.array([0.2, 0.4]))
    assert scale.ratio == pytest.approx(0.5) and scale.floor == pytest.approx(0.3)
    low, high = scale.colour_range(3.0)
    assert (low + high) / 2 == pytest.approx(scale.map_threshold(3.0)) == pytest.approx(1.5)
    assert MapScale(1.0, 0.0).map_threshold(2.0) == 2.0
