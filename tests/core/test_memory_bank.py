import faiss
import numpy as np
import pytest

from patchcore_gui.core.memory_bank import CLUSTERED_MIN_BANK, ClusteredBank, MemoryBank


def _brute_force(queries, bank):
    squared = ((queries[:, None, :].astype(np.float64) - bank[None, :, :]) ** 2).sum(axis=2)
    return squared.min(axis=1), squared.argmin(axis=1)


def _clustered_data(rng, count, dim, groups):
    """Patch-like data: a few dense groups of different spreads, not a single isotropic blob."""
    centres = rng.normal(scale=4.0, size=(groups, dim))
    spreads = rng.uniform(0.2, 2.0, size=groups)
    label = rng.integers(0, groups, size=count)
    return (centres[label] + rng.normal(size=(count, dim)) * spreads[label, None]).astype(np.float32)


def _assert_same_neighbours(queries, bank, squared, index, ties=False):
    expected_squared, expected_index = _brute_force(queries, bank)
    np.testing.assert_allclose(squared, expected_squared, rtol=1e-4, atol=1e-3)
    # where the index differs it must be a tie: the chosen vector is as close as the true one
    chosen = ((queries.astype(np.float64) - bank[index]) ** 2).sum(axis=1)
    np.testing.assert_allclose(chosen, expected_squared, rtol=1e-4, atol=1e-3)
    assert ties or (index == expected_index).mean() > 0.99


@pytest.mark.parametrize("seed, dim, clusters, components", [
    (0, 24, 8, 8), (1, 40, 16, 32), (2, 6, 4, 32), (3, 64, 1, 16), (4, 24, 40, 4)])
def test_clustered_search_finds_the_flat_searchs_neighbours(seed, dim, clusters, components):
    rng = np.random.default_rng(seed)
    bank = _clustered_data(rng, 3000, dim, groups=12)
    # near the bank, far from it (defects), and exactly on bank vectors
    queries = np.concatenate([
        _clustered_data(rng, 300, dim, groups=12),
        rng.normal(scale=12.0, size=(40, dim)).astype(np.float32),
        bank[rng.choice(len(bank), 20, replace=False)]])
    search = ClusteredBank(bank, clusters=clusters, components=components)
    squared, index = search.search(queries)
    _assert_same_neighbours(queries, bank, squared, index)
    assert squared[-20:].max() < 1e-3
    if clusters >= 8:
        assert search.scanned_fraction < 0.8  # the point of it: most of the bank is never scanned


def test_clustered_search_with_duplicates_and_more_clusters_than_distinct_vectors():
    rng = np.random.default_rng(5)
    distinct = rng.normal(size=(10, 10)).astype(np.float32)
    bank = np.repeat(distinct, 60, axis=0)
    queries = rng.normal(size=(50, 10)).astype(np.float32)
    squared, index = ClusteredBank(bank, clusters=64).search(queries)
    _assert_same_neighbours(queries, bank, squared, index, ties=True)


def test_clustered_search_of_a_single_query_and_a_single_vector_bank():
    bank = np.array([[1.0, 2.0, 3.0]], np.float32)
    squared, index = ClusteredBank(bank, clusters=4).search(np.zeros((1, 3), np.float32))
    assert index.tolist() == [0] and squared[0] == pytest.approx(14.0)


def test_memory_bank_uses_the_clustered_search_for_large_banks_and_agrees_with_faiss():
    rng = np.random.default_rng(6)
    vectors = _clustered_data(rng, CLUSTERED_MIN_BANK + 500, 32, groups=20)
    bank = MemoryBank(vectors)
    assert bank._clustered is not None
    queries = _clustered_data(rng, 400, 32, groups=20)
    distances, indices = bank.nearest(queries, k=1)
    assert distances.shape == indices.shape == (400, 1)
    _assert_same_neighbours(queries, vectors, distances[:, 0] ** 2, indices[:, 0])
    # k > 1 goes to the flat search; its first column is the same neighbour
    distances_3, indices_3 = bank.nearest(queries, k=3)
    np.testing.assert_allclose(distances_3[:, 0], distances[:, 0], rtol=1e-4, atol=1e-3)
    assert np.all(np.diff(distances_3, axis=1) >= 0)


def test_small_banks_keep_the_flat_search_and_it_can_be_asked_for():
    assert MemoryBank(np.ones((CLUSTERED_MIN_BANK - 1, 4), np.float32))._clustered is None
    assert MemoryBank(np.ones((CLUSTERED_MIN_BANK, 4), np.float32), clustered=False)._clustered is None


def test_a_few_queries_get_the_same_k_neighbours_as_faiss():
    rng = np.random.default_rng(7)
    vectors = _clustered_data(rng, 3000, 16, groups=10)
    bank = MemoryBank(vectors)
    queries = np.concatenate([vectors[:2], rng.normal(size=(3, 16)).astype(np.float32)])
    distances, indices = bank.nearest(queries, k=9)
    expected_squared, expected_indices = faiss.knn(queries, vectors, 9)
    np.testing.assert_allclose(distances, np.sqrt(np.maximum(expected_squared, 0)), rtol=1e-4, atol=1e-3)
    assert (indices == expected_indices).mean() > 0.95 and indices.dtype == np.int64
    assert indices[0, 0] == 0 and indices[1, 0] == 1
