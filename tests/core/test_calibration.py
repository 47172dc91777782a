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


# --- threshold by false-reject rate -------------------------------------------------------------------
from patchcore_gui.core.calibration import (RejectRateThreshold, parse_rate, prediction_bound,  # noqa: E402
                                            student_t_quantile, threshold_for_reject_rate)


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 8, 30, 150])
@pytest.mark.parametrize("p", [0.9, 0.99, 0.999])
def test_student_t_quantile_matches_scipy(dof, p):
    stats = pytest.importorskip("scipy.stats")
    assert student_t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), rel=0.004)


@pytest.mark.parametrize("n,rate", [(5, 0.01), (20, 0.05), (150, 0.01)])
def test_the_prediction_bound_rejects_the_asked_share_of_new_good_parts(n, rate):
    # for normal good scores the bound is exact: a new good part lands above it with probability `rate`,
    # whatever the held-out sample was (a rule without the small-sample widening fails this at n = 5)
    rng = np.random.default_rng(1)
    trials = 40000
    held_out = rng.normal(20.0, 2.0, size=(trials, n))
    bounds = np.array([prediction_bound(sample, rate) for sample in held_out])
    new_parts = rng.normal(20.0, 2.0, size=trials)
    assert np.mean(new_parts > bounds) == pytest.approx(rate, abs=max(0.25 * rate, 0.002))


def test_a_rarer_rate_gives_a_higher_threshold_and_says_when_it_extrapolates():
    good = np.random.default_rng(0).normal(10.0, 1.0, 40)
    within = threshold_for_reject_rate(good, 1 / 20)
    beyond = threshold_for_reject_rate(good, 1 / 1000)
    assert beyond.threshold > within.threshold
    assert not within.extrapolated and beyond.extrapolated
    assert within.held_out_above == int(np.sum(good > within.threshold))
    assert "Rests on 40 held-out good parts" in within.trust()
    assert beyond.trust().startswith("Extrapolated: 1 in 1,000 is rarer than 1 in the 40 held-out good parts")


def test_few_held_out_parts_are_called_a_rough_estimate():
    assert "rough" in RejectRateThreshold(1.0, 0.2, 5, 0).trust()
    with pytest.raises(ValueError, match="at least 2"):
        threshold_for_reject_rate(np.array([1.0]), 0.01)
    with pytest.raises(ValueError, match="between 0 and 1"):
        threshold_for_reject_rate(np.array([1.0, 2.0]), 1.5)


@pytest.mark.parametrize("text,rate", [("1/1000", 0.001), ("0.1%", 0.001), ("0.001", 0.001), (" 1 / 50 ", 0.02)])
def test_rates_as_people_write_them(text, rate):
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text", ["1/0", "abc", "2", "0", "150%"])
def test_a_rate_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_moving_the_threshold_below_the_review_band_pulls_the_band_down(fitted):
    model = fitted.model.with_review_band(fitted.model.threshold - 1.0)
    lower = model.with_threshold(model.threshold - 2.0)
    assert lower.review_from == lower.threshold  # an empty band: nothing is REVIEW, and nothing raises
    assert lower.verdict(lower.threshold) == "OK"
    with pytest.raises(ValueError, match="at or below the threshold"):
        fitted.model.with_review_band(fitted.model.threshold + 0.1)
    assert model.with_review_band(None).verdict(model.threshold - 0.5) == "OK"


def test_the_default_rule_ignores_an_outlying_held_out_part_and_widens_for_few_parts():
    from patchcore_gui.core.calibration import learned_threshold, outlier_threshold
    from patchcore_gui.core.config import PatchCoreConfig

    config = PatchCoreConfig()
    rng = np.random.default_rng(3)
    many = np.append(rng.normal(20.0, 1.0, 150), [29.0, 31.0])  # two outlying good parts, as bottle and MT hold
    both = max(outlier_threshold(many, 3.5), threshold_for_reject_rate(many, 0.01).threshold)
    assert learned_threshold(many, config) == pytest.approx(both)
    assert learned_threshold(many, config) < 25.0 < default_threshold(many, 1.0, 0.1)  # the old rule: above 31
    assert outlier_threshold(many, 3.5) == pytest.approx(outlier_threshold(many[:-2], 3.5), abs=0.1)
    few = rng.normal(20.0, 1.0, 5)
    assert learned_threshold(few, config) == pytest.approx(threshold_for_reject_rate(few, 0.01).threshold)
    assert learned_threshold(few, config) > outlier_threshold(few, 3.5)
    old = PatchCoreConfig(threshold_outlier_z=None, threshold_reject_rate=None)
    assert learned_threshold(many, old) == default_threshold(many, 1.0, 0.1)


def test_a_configuration_from_before_the_rule_reads_back_as_the_older_rule():
    from patchcore_gui.core.config import PatchCoreConfig

    data = PatchCoreConfig().to_dict()
    del data["threshold_outlier_z"], data["threshold_reject_rate"]
    old = PatchCoreConfig.from_dict(data)
    assert old.threshold_outlier_z is None and old.threshold_reject_rate is None
    assert PatchCoreConfig.from_dict(PatchCoreConfig().to_dict()) == PatchCoreConfig()


def test_a_threshold_from_too_few_held_out_parts_is_said_to_be_so():
    from patchcore_gui.core.calibration import FEW_HELD_OUT, threshold_caution
    from patchcore_gui.core.config import PatchCoreConfig

    widened = PatchCoreConfig()  # the prediction bound for 1 in 100, the 20% held out
    one = threshold_caution(1, widened)
    assert one.startswith("1 held-out good part is too few") and "may reject good parts" in one
    few = threshold_caution(FEW_HELD_OUT - 1, widened)
    assert "cautious and may pass small defects" in few and "build from 23 or more good parts" in few
    assert threshold_caution(FEW_HELD_OUT, widened) == ""
    older = PatchCoreConfig(threshold_reject_rate=None)
    assert threshold_caution(3, older) == ""  # the older rule does not widen for few parts
    assert "build from 10 or more good parts" in threshold_caution(2, PatchCoreConfig(calibration_fraction=0.5))
