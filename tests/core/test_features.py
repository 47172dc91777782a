import threading

import numpy as np
import pytest
import torch
from threadpoolctl import ThreadpoolController

from patchcore_gui.core.backbones import load_backbone
from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.features import PatchFeatureExtractor, aggregate_neighbourhood, join_layers


def test_avgpool_aggregation_is_the_neighbourhood_mean():
    x = torch.arange(25, dtype=torch.float32).reshape(1, 1, 5, 5)
    out = aggregate_neighbourhood(x, 3, "avgpool")
    assert out.shape == x.shape
    assert out[0, 0, 2, 2].item() == pytest.approx(x[0, 0, 1:4, 1:4].mean().item())


def test_unfold_aggregation_reduces_each_window_to_the_layer_dim():
    x = torch.rand(2, 4, 6, 6)
    out = aggregate_neighbourhood(x, 3, "unfold", layer_dim=12)
    assert out.shape == (2, 12, 6, 6)
    # 36 values (4 channels x 9) averaged down to 12: each output is the mean of 3 consecutive values
    window = torch.nn.functional.unfold(x, 3, padding=1)[0, :, 2 * 6 + 3]
    assert torch.allclose(out[0, :, 2, 3], window.reshape(12, 3).mean(dim=1))


def test_join_layers_brings_deep_layer_to_the_fine_grid():
    fine, coarse = torch.rand(2, 3, 8, 8), torch.rand(2, 5, 4, 4)
    joined = join_layers([fine, coarse], target_dim=None)
    assert joined.shape == (2, 8, 8, 8)
    assert torch.equal(joined[..., :3], fine.permute(0, 2, 3, 1))
    projected = join_layers([fine, coarse], target_dim=4)
    assert projected.shape == (2, 8, 8, 4)


@pytest.mark.parametrize("aggregation,target,dim", [("avgpool", None, 472), ("avgpool", 64, 64), ("unfold", 256, 256)])
def test_patch_features_shape(backbone, aggregation, target, dim):
    extractor = PatchFeatureExtractor(backbone, PatchCoreConfig(aggregation=aggregation, target_dim=target))
    grids = extractor.extract(torch.rand(2, 3, 224, 224))
    assert grids.shape == (2, 28, 28, dim) and grids.dtype == np.float32
    assert extractor.grid_shape(224) == (28, 28)


def test_locally_aware_features_see_their_neighbours():
    # a change in one corner must not move the features at the opposite corner (locality); the
    # stride-32 layer sees most of the image by design, so this holds for the mid-level layers
    layers = ("blocks.2", "blocks.4")
    extractor = PatchFeatureExtractor(load_backbone("tf_efficientnet_lite0", layers), PatchCoreConfig(layers=layers))
    x = torch.rand(1, 3, 224, 224)
    y = x.clone()
    y[..., :16, :16] += 1.0
    a, b = extractor.extract(x)[0], extractor.extract(y)[0]
    assert not np.allclose(a[0, 0], b[0, 0])
    assert np.allclose(a[-1, -1], b[-1, -1], atol=1e-5)


def test_inputs_go_through_the_network_side_by_side_one_thread_each_and_give_the_features_of_one_at_a_time(
        backbone, monkeypatch):
    extractor = PatchFeatureExtractor(backbone, PatchCoreConfig())
    seen = []
    alone = extractor._extract_here

    def openmp_threads() -> int:  # this thread's own count
        return ThreadpoolController().select(user_api="openmp").info()[0]["num_threads"]

    def recording(batch):
        seen.append((threading.current_thread().name, len(batch), openmp_threads()))
        return alone(batch)

    monkeypatch.setattr(extractor, "_extract_here", recording)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)  # two cores to use, whatever this machine has
    batch = torch.rand(3, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    one_at_a_time = np.concatenate([alone(batch[i:i + 1]) for i in range(3)])

    together = extractor.extract(batch)
    # two parts, each on a network thread of its own with one OpenMP thread of the two
    assert sorted((count, threads) for _, count, threads in seen) == [(1, 1), (2, 1)]
    assert all(name.startswith("network") for name, _, _ in seen)
    seen.clear()
    single = extractor.extract(batch[:1])  # one input stays on the calling thread, with its own threads
    assert seen == [(threading.current_thread().name, 1, openmp_threads())]
    scale = float(np.abs(one_at_a_time).max())
    assert np.abs(together - one_at_a_time).max() <= 1e-4 * scale
    assert np.abs(single - one_at_a_time[:1]).max() <= 1e-4 * scale
