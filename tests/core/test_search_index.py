"""The approximate (IVF) search: chosen only when asked, recorded in the model file, and near-exact."""

import json
import struct
from dataclasses import replace

import numpy as np
import pytest

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.errors import ModelFileError
from patchcore_gui.core.memory_bank import EXACT_SEARCH, MemoryBank, SearchIndex, ivf_centroids
from patchcore_gui.core.model_file import _digest, load_model, model_from_bytes, model_to_bytes, save_model
from patchcore_gui.core.patchcore import Inspector, fit

from ..conftest import FAST_CONFIG
from .test_memory_bank import _brute_force, _clustered_data


def _patch_like(count, seed=0, dim=64, latent=8, groups=40):
    """Vectors in dense groups of different spreads on an 8-dimensional subspace of 64 dims, plus a
    little noise: like patch features, whose variance lies mostly in a few principal axes."""
    layout = np.random.default_rng(1000)
    centres = layout.normal(scale=4.0, size=(groups, latent))
    spreads = layout.uniform(0.2, 2.0, size=groups)
    basis = np.linalg.qr(layout.normal(size=(dim, latent)))[0].T
    rng = np.random.default_rng(seed)
    label = rng.integers(0, groups, size=count)
    points = centres[label] + rng.normal(size=(count, latent)) * spreads[label, None]
    return (points @ basis + 0.05 * rng.normal(size=(count, dim))).astype(np.float32)


def _recall(queries, bank, distances):
    expected_squared, _ = _brute_force(queries, bank)
    return float(np.mean(distances[:, 0] ** 2 <= expected_squared * (1 + 1e-4) + 1e-3))


def test_the_default_is_the_exact_search_everywhere(fitted):
    assert PatchCoreConfig().search == "exact" and fitted.model.search == EXACT_SEARCH
    assert fitted.model.search_centroids is None
    assert not MemoryBank(np.eye(4, dtype=np.float32)).approximate
    assert not Inspector(fitted.model).bank.approximate
    # an exact model's file has no search key: it means what every older file meant
    data = model_to_bytes(fitted.model)
    (size,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8:8 + size])["__metadata__"]
    assert "search" not in json.loads(metadata["header"]) and "search_centroids" not in json.loads(data[8:8 + size])


def test_ivf_finds_the_true_nearest_neighbour_for_nearly_every_patch():
    vectors = _patch_like(12_000)
    search = SearchIndex.for_bank("ivf", len(vectors))
    bank = MemoryBank(vectors, search=search)
    assert bank.approximate and bank.search == search and bank.centroids.shape == (search.lists, 64)
    queries = np.concatenate([_patch_like(600, seed=1),
                              np.random.default_rng(2).normal(scale=12.0, size=(60, 64)).astype(np.float32)])
    distances, indices = bank.nearest(queries, k=1)
    expected_squared, _ = _brute_force(queries, vectors)
    # an approximate search can only miss the nearest, never find something nearer
    assert np.all(distances[:, 0] ** 2 >= expected_squared * (1 - 1e-4) - 1e-3)
    assert _recall(queries, vectors, distances) >= 0.95  # 0.974 with the default settings
    # the re-weighting's k neighbours stay exact
    _, exact_indices = MemoryBank(vectors).nearest(queries[:3], k=9)
    assert np.array_equal(bank.nearest(queries[:3], k=9)[1], exact_indices)


def test_too_few_probes_lose_recall_and_the_test_above_would_see_it():
    vectors, queries = _patch_like(12_000), _patch_like(600, seed=1)
    lists = SearchIndex.for_bank("ivf", len(vectors)).lists
    distances, _ = MemoryBank(vectors, search=SearchIndex("ivf", lists, 1)).nearest(queries)
    assert _recall(queries, vectors, distances) < 0.95  # 0.59


def test_patches_whose_probed_cells_are_empty_are_searched_exactly():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(500, 8)).astype(np.float32)
    far = np.full(8, 100.0, np.float32)
    centroids = np.stack([vectors.mean(axis=0), far])  # every vector falls in the first cell
    bank = MemoryBank(vectors, search=SearchIndex("ivf", 2, 1), centroids=centroids)
    queries = far[None, :] + rng.normal(size=(5, 8)).astype(np.float32)
    distances, indices = bank.nearest(queries)
    expected_squared, expected_index = _brute_force(queries, vectors)
    assert np.array_equal(indices[:, 0], expected_index)
    np.testing.assert_allclose(distances[:, 0] ** 2, expected_squared, rtol=1e-4)


def test_centres_from_a_fixed_seed_are_reproducible():
    vectors = _clustered_data(np.random.default_rng(2), 4000, 16, groups=10)
    assert np.array_equal(ivf_centroids(vectors, 32, seed=0), ivf_centroids(vectors, 32, seed=0))


@pytest.fixture(scope="module")
def ivf_model(synthetic_set, backbone):
    return fit(synthetic_set.train_good, FAST_CONFIG.with_changes(search="ivf"), backbone=backbone).model


def test_a_fit_asked_for_ivf_records_it_and_the_file_keeps_it(ivf_model, synthetic_set, backbone, tmp_path):
    assert ivf_model.config.search == "ivf" and ivf_model.search.approximate
    assert ivf_model.search_centroids.shape == (ivf_model.search.lists, ivf_model.memory_bank.shape[1])
    loaded = load_model(save_model(ivf_model, tmp_path / "ivf.patchcore"))
    assert loaded.search == ivf_model.search
    assert np.array_equal(loaded.search_centroids, ivf_model.search_centroids)
    inspector = Inspector(loaded, backbone=backbone)
    assert inspector.bank.approximate and "approximate" in inspector.bank.search.describe()
    images = synthetic_set.test_good[:2] + synthetic_set.test_defective[:2]
    before = [r.inspection.score for r in Inspector(ivf_model, backbone=backbone).inspect_paths(images)]
    assert [r.inspection.score for r in inspector.inspect_paths(images)] == before


def _re_signed(data: bytes, change) -> bytes:
    """The file with its header JSON changed and its hash recomputed, as a careless writer would make it."""
    (size,) = struct.unpack("<Q", data[:8])
    table = json.loads(data[8:8 + size])
    metadata = table["__metadata__"]
    header = json.loads(metadata["header"])
    change(header)
    metadata["header"] = json.dumps(header, sort_keys=True)
    tensors = {name: np.frombuffer(data[8 + size + info["data_offsets"][0]:8 + size + info["data_offsets"][1]],
                                   np.float32).reshape(info["shape"])
               for name, info in table.items() if name != "__metadata__"}
    metadata["sha256"] = _digest(metadata["header"], tensors)
    encoded = json.dumps(table).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data[8 + size:]


def test_a_file_whose_search_record_disagrees_is_refused_not_searched_some_other_way(ivf_model, fitted):
    data = model_to_bytes(ivf_model)
    assert model_from_bytes(_re_signed(data, lambda header: None)).search == ivf_model.search
    with pytest.raises(ModelFileError, match="inconsistent"):
        model_from_bytes(_re_signed(data, lambda header: header.pop("search")), "no-record.patchcore")
    with pytest.raises(ModelFileError, match="inconsistent"):
        model_from_bytes(_re_signed(data, lambda header: header["search"].update(lists=3)), "bad-lists.patchcore")
    # an exact model carrying cell centres, or an IVF model without them, is refused too
    with pytest.raises(ModelFileError, match="inconsistent"):
        model_from_bytes(model_to_bytes(replace(fitted.model, search_centroids=ivf_model.search_centroids)))
    with pytest.raises(ModelFileError, match="inconsistent"):
        model_from_bytes(model_to_bytes(replace(ivf_model, search_centroids=None)))
