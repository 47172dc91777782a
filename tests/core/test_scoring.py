import numpy as np
import pytest

from patchcore_gui.core.memory_bank import MemoryBank
from patchcore_gui.core.scoring import anomaly_map, gaussian_smooth, reweighted_image_score, score_patches


def _paper_score(test_vector, bank_vectors, b):
    """The paper's formula written out directly with brute-force neighbours."""
    d_test = np.linalg.norm(bank_vectors - test_vector, axis=1)
    m_star = int(np.argmin(d_test))
    s_star = d_test[m_star]
    d_from_m_star = np.linalg.norm(bank_vectors - bank_vectors[m_star], axis=1)
    neighbourhood = np.argsort(d_from_m_star, kind="stable")[:b]
    exps = np.exp(np.linalg.norm(bank_vectors[neighbourhood] - test_vector, axis=1))
    return (1 - np.exp(s_star) / exps.sum()) * s_star


@pytest.mark.parametrize("b", [2, 3, 9])
def test_reweighting_matches_the_paper_formula(b):
    rng = np.random.default_rng(b)
    bank = MemoryBank(rng.normal(size=(200, 8)).astype(np.float32))
    patches = rng.normal(size=(30, 8)).astype(np.float32)
    patches[7] += 3.0  # one clearly worst patch
    distances, nearest = score_patches(patches, bank)
    score = reweighted_image_score(patches, distances, nearest, bank, b)
    assert score == pytest.approx(_paper_score(patches[7], bank.vectors, b), rel=1e-4)
    assert 0 < score < distances.max()


def test_b_one_is_the_plain_maximum():
    rng = np.random.default_rng(0)
    bank = MemoryBank(rng.normal(size=(50, 4)).astype(np.float32))
    patches = rng.normal(size=(10, 4)).astype(np.float32)
    distances, nearest = score_patches(patches, bank)
    assert reweighted_image_score(patches, distances, nearest, bank, 1) == pytest.approx(distances.max())


def test_isolated_match_weighs_more_than_a_match_in_a_dense_cluster():
    dense = np.zeros((10, 2), np.float32) + np.linspace(0, 0.01, 10, dtype=np.float32)[:, None]
    sparse = np.array([[10, 10], [20, 20], [30, 30], [40, 40], [50, 50], [60, 60], [70, 70], [80, 80], [90, 90]],
                      np.float32)
    bank = MemoryBank(np.concatenate([dense, sparse]))
    near_dense, near_sparse = np.array([[0.0, 1.0]], np.float32), np.array([[10.0, 11.0]], np.float32)
    scores = []
    for patch in (near_dense, near_sparse):
        distances, nearest = score_patches(patch, bank)
        scores.append(reweighted_image_score(patch, distances, nearest, bank, 9))
    assert scores[1] > scores[0]


def test_large_distances_do_not_overflow():
    bank = MemoryBank(np.array([[0.0], [1.0], [2.0]], np.float32))
    patch = np.array([[500.0]], np.float32)
    distances, nearest = score_patches(patch, bank)
    assert np.isfinite(reweighted_image_score(patch, distances, nearest, bank, 3))


def test_anomaly_map_is_upsampled_and_smoothed():
    grid = np.zeros((28, 28), np.float32)
    grid[10, 20] = 1.0
    full = anomaly_map(grid, 224, sigma=4.0)
    assert full.shape == (224, 224)
    peak = np.unravel_index(np.argmax(full), full.shape)
    assert abs(peak[0] - (10 * 8 + 3.5)) <= 2 and abs(peak[1] - (20 * 8 + 3.5)) <= 2
    assert full.max() < 1.0  # smoothing spreads the peak


def test_gaussian_matches_scipy_style_kernel_mass():
    impulse = np.zeros((65, 65), np.float32)
    impulse[32, 32] = 1.0
    smooth = gaussian_smooth(impulse, 4.0)
    assert smooth.sum() == pytest.approx(1.0, abs=1e-4)
    assert smooth[32, 32] == pytest.approx(1 / (2 * np.pi * 16), rel=0.02)
