"""Locally aware patch features (paper section 3.1).

Each position of a mid-level feature map is described by the mean of its p x p neighbourhood;
the deeper layer is brought onto the shallower layer's grid and the two are joined into one
vector per position. Both aggregations the literature uses are here so they can be measured.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import ThreadpoolController

from .backbones import FeatureBackbone
from .config import PatchCoreConfig

# The reference's per-layer dimension before joining when aggregating by unfolding.
_UNFOLD_LAYER_DIM = 1024

# (process id, threads, OpenMP's controls): made again in a forked child, whose threads the fork left behind
_NETWORK_THREADS: Tuple[int, Optional[ThreadPoolExecutor], Optional[ThreadpoolController]] = (0, None, None)
_NETWORK_THREADS_MADE = threading.Lock()  # two inspections starting at once make one pool, not two


def _network_threads() -> Tuple[ThreadPoolExecutor, ThreadpoolController]:
    """The process's threads for network inputs side by side, and the control of their OpenMP thread counts."""
    global _NETWORK_THREADS
    with _NETWORK_THREADS_MADE:
        pid, pool, openmp = _NETWORK_THREADS
        if pool is None or openmp is None or pid != os.getpid():
            # torch sets a thread's OpenMP thread count from its process-wide one at the thread's first
            # call: that call comes first, so it cannot undo the count each input is given below
            pool = ThreadPoolExecutor(max(1, os.cpu_count() or 1), thread_name_prefix="network",
                                      initializer=torch.get_num_threads)
            openmp = ThreadpoolController()
            _NETWORK_THREADS = (os.getpid(), pool, openmp)
        return pool, openmp


def inputs_side_by_side() -> int:
    """How many network inputs go through the network at once, each on its own thread
    (:meth:`PatchFeatureExtractor.extract`): as many as the calling thread may use cores."""
    return max(1, torch.get_num_threads())


def aggregate_neighbourhood(feature_map: torch.Tensor, patch_size: int, aggregation: str,
                            layer_dim: int = _UNFOLD_LAYER_DIM) -> torch.Tensor:
    """Describe every position by its p x p neighbourhood (stride 1, same padding).

    ``(B, C, h, w)`` -> ``(B, C, h, w)`` for "avgpool", ``(B, layer_dim, h, w)`` for "unfold".
    """
    if patch_size == 1:
        return feature_map
    pad = patch_size // 2
    if aggregation == "avgpool":
        return F.avg_pool2d(feature_map, patch_size, stride=1, padding=pad)
    batch, channels, height, width = feature_map.shape
    # unfold gives (B, C*p*p, h*w); the reference then averages each C*p*p vector down to layer_dim
    patches = F.unfold(feature_map, patch_size, padding=pad)
    patches = patches.transpose(1, 2).reshape(batch * height * width, 1, channels * patch_size ** 2)
    pooled = F.adaptive_avg_pool1d(patches, layer_dim)
    return pooled.reshape(batch, height, width, layer_dim).permute(0, 3, 1, 2)


def join_layers(maps: Sequence[torch.Tensor], target_dim: Optional[int]) -> torch.Tensor:
    """Bring every map onto the first (finest) grid, join them, optionally average down to target_dim.

    list of ``(B, C_l, h_l, w_l)`` -> ``(B, h_0, w_0, D)`` with ``D = sum C_l`` or ``target_dim``.
    """
    height, width = maps[0].shape[-2:]
    resized = [m if m.shape[-2:] == (height, width)
               else F.interpolate(m, size=(height, width), mode="bilinear", align_corners=False)
               for m in maps]
    joined = torch.cat(resized, dim=1).permute(0, 2, 3, 1)
    if target_dim is not None and target_dim != joined.shape[-1]:
        batch = joined.shape[0]
        flat = joined.reshape(-1, 1, joined.shape[-1])
        joined = F.adaptive_avg_pool1d(flat, target_dim).reshape(batch, height, width, target_dim)
    return joined.contiguous()


class PatchFeatureExtractor:
    """Backbone + aggregation + joining: images in, one vector per patch position out.

    ``extract(batch)``: ``(B, 3, S, S)`` float32 tensor -> ``(B, h, w, D)`` float32 numpy array.
    """

    def __init__(self, backbone: FeatureBackbone, config: PatchCoreConfig) -> None:
        self.backbone = backbone
        self.config = config
        layer_dim = config.target_dim or _UNFOLD_LAYER_DIM
        self._layer_dim = layer_dim

    def extract(self, batch: torch.Tensor) -> np.ndarray:
        """One input on this thread, with its OpenMP threads; several cut into as many parts as this thread
        may use cores, side by side, the threads shared out among them. On 2 cores, two inputs side by side
        on one thread each took half as long as the two together on two threads (320 px tiles of Lite1: 32
        against 64 ms), while two threads on one input gained little over one (40 against 35 ms), which
        may not hold on more cores (docs/benchmarks.md, "The network: inputs side by side")."""
        threads = inputs_side_by_side()
        parts = min(len(batch), threads)
        if parts <= 1:
            return self._extract_here(batch)
        pool, openmp = _network_threads()
        shares = [threads // parts + (index < threads % parts) for index in range(parts)]

        def extract_part(part: torch.Tensor, share: int) -> np.ndarray:
            with openmp.limit(limits=share, user_api="openmp"):  # this thread's own count
                return self._extract_here(part)

        return np.concatenate(list(pool.map(extract_part, torch.tensor_split(batch, parts), shares)))

    @torch.inference_mode()
    def _extract_here(self, batch: torch.Tensor) -> np.ndarray:
        maps: List[torch.Tensor] = self.backbone(batch)
        aggregated = [aggregate_neighbourhood(m, self.config.patch_size, self.config.aggregation, self._layer_dim)
                      for m in maps]
        return join_layers(aggregated, self.config.target_dim).numpy()

    def grid_shape(self, input_size: int) -> Tuple[int, int]:
        """(h, w) of the patch grid for a square input of ``input_size`` pixels."""
        stride = self.backbone.spec.layers[self.backbone.layers[0]].stride
        side = -(-input_size // stride)
        return side, side
