import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from patchcore_gui.core.coreset import coreset_size, greedy_coreset, plain_greedy_coreset, random_projection
from patchcore_gui.core.errors import Cancelled
from patchcore_gui.core.progress import CancelToken


def _brute_force_greedy(points: np.ndarray, n_select: int, seed: int) -> list[int]:
    """k-center greedy written the obvious way over float64: all distances from scratch each step."""
    n = len(points)
    chosen = [int(np.random.default_rng(seed).integers(n))]
    while len(chosen) < n_select:
        d = ((points[:, None, :].astype(np.float64) - points[chosen][None].astype(np.float64)) ** 2).sum(-1)
        nearest = d.min(axis=1)
        nearest[chosen] = -1
        chosen.append(int(np.argmax(nearest)))
    return chosen


def test_plain_loop_equals_a_brute_force_greedy_on_small_data():
    rng = np.random.default_rng(3)
    # well separated values: float32 and float64 agree on every comparison
    features = rng.integers(-50, 50, size=(120, 6)).astype(np.float32)
    assert plain_greedy_coreset(features, 40, seed=5).tolist() == _brute_force_greedy(features, 40, 5)


@pytest.mark.parametrize("shape,n_select,seed", [((2000, 152), 200, 0), ((3000, 64), 900, 1), ((500, 300), 500, 2)])
def test_fast_loop_selects_the_same_centres_in_the_same_order(shape, n_select, seed):
    rng = np.random.default_rng(seed)
    # clustered data like patch features: the pruning has something to prune
    centres = rng.normal(size=(20, shape[1])) * 4
    features = (centres[rng.integers(20, size=shape[0])] + rng.normal(size=shape)).astype(np.float32)
    fast = greedy_coreset(features, n_select, seed=seed)
    plain = plain_greedy_coreset(features, n_select, seed=seed)
    assert fast.dtype == np.int64
    np.testing.assert_array_equal(fast, plain)


def test_duplicates_and_ties_still_give_distinct_indices_in_plain_order():
    features = np.zeros((300, 4), np.float32)
    features[100:] = np.round(np.random.default_rng(0).normal(size=(200, 4)))
    fast = greedy_coreset(features, 300)
    np.testing.assert_array_equal(fast, plain_greedy_coreset(features, 300))
    assert len(set(fast.tolist())) == 300


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 400), d=st.integers(1, 40), ratio=st.floats(0.01, 1.0), seed=st.integers(0, 2**16),
       grid=st.booleans())
def test_fast_equals_plain_on_random_inputs(n, d, ratio, seed, grid):
    features = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    if grid:
        features = np.round(features)
    k = coreset_size(n, ratio)
    np.testing.assert_array_equal(greedy_coreset(features, k, seed=seed), plain_greedy_coreset(features, k, seed=seed))


def test_selection_is_deterministic_for_a_seed_and_changes_with_it():
    features = np.random.default_rng(0).normal(size=(1000, 200)).astype(np.float32)
    first = greedy_coreset(features, 50, seed=7)
    np.testing.assert_array_equal(first, greedy_coreset(features, 50, seed=7))
    assert not np.array_equal(first, greedy_coreset(features, 50, seed=8))


def test_random_projection_shapes_and_distance_preservation():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 1024)).astype(np.float32)
    projected = random_projection(features, 128, seed=0)
    assert projected.shape == (200, 128) and projected.dtype == np.float32
    np.testing.assert_array_equal(projected, random_projection(features, 128, seed=0))
    original = np.linalg.norm(features[:100] - features[100:], axis=1)
    kept = np.linalg.norm(projected[:100] - projected[100:], axis=1)
    assert np.median(kept / original) == pytest.approx(1.0, abs=0.1)
    # a map cannot help when there are already few dims: unchanged
    small = rng.normal(size=(10, 64)).astype(np.float32)
    np.testing.assert_array_equal(random_projection(small, 128), small)


def test_coreset_size_rule():
    assert coreset_size(163_856, 0.1) == 16_386
    assert coreset_size(10, 0.01) == 1
    assert coreset_size(10, 5.0) == 10
    with pytest.raises(ValueError):
        coreset_size(10, 0.0)


@pytest.mark.parametrize("select", [greedy_coreset, plain_greedy_coreset])
def test_progress_reaches_the_end_and_cancel_stops(select):
    features = np.random.default_rng(0).normal(size=(2000, 16)).astype(np.float32)
    steps = []
    select(features, 400, progress=lambda done, total, stage: steps.append((done, total, stage)))
    assert steps[0] == (0, 400, "coreset") and steps[-1] == (400, 400, "coreset")
    assert len(steps) >= 50 and all(a[0] <= b[0] for a, b in zip(steps, steps[1:]))

    token = CancelToken()

    def cancel_midway(done, total, stage):
        if done >= 100:
            token.cancel()

    with pytest.raises(Cancelled):
        select(features, 400, progress=cancel_midway, cancel=token)


@pytest.mark.parametrize("select", [greedy_coreset, plain_greedy_coreset])
def test_bad_requests_are_clear_errors(select):
    features = np.ones((10, 4), np.float32)
    with pytest.raises(ValueError, match="select 11 of 10"):
        select(features, 11)
    with pytest.raises(ValueError, match="empty"):
        select(np.ones((0, 4), np.float32), 1)
    features[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        select(features, 2)
