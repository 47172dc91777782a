"""From patch distances to an image score and an anomaly map (paper section 3.3)."""

from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import cv2
import numpy as np

from .memory_bank import MemoryBank


def reweighted_image_score(patch_vectors: np.ndarray, patch_distances: np.ndarray, nearest_index: np.ndarray,
                           bank: MemoryBank, neighbours: int) -> float:
    """The paper's image score: the largest patch distance s*, re-weighted by how isolated its match is.

    ``s = (1 - exp(s*) / sum_{m in N_b(m*)} exp(||m_test,* - m||)) * s*``, with N_b(m*) the b nearest
    bank neighbours of m* (m* itself first). A match in a sparse part of the bank gets a weight near
    1, one in a dense cluster less. With b = 1 the weight is dropped: the score is plain s*.

    ``patch_vectors (P, D)``, ``patch_distances (P,)``, ``nearest_index (P,)`` -> float.
    """
    worst = int(np.argmax(patch_distances))
    s_star = float(patch_distances[worst])
    if neighbours <= 1:
        return s_star
    _, support = bank.nearest(bank.vectors[nearest_index[worst]][None, :], k=neighbours)
    differences = bank.vectors[support[0]] - patch_vectors[worst]
    distances = np.sqrt(np.sum(differences.astype(np.float64) ** 2, axis=1))
    # the nearest neighbour of m* is m* itself; use s* so the formula's numerator is exact
    distances[0] = s_star
    # softmax written with the max subtracted: distances of 1024-d features overflow exp in float32
    weights = np.exp(distances - distances.max())
    return float((1.0 - weights[0] / weights.sum()) * s_star)


def gaussian_smooth(score_map: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with the reference's kernel (truncated at 4 sigma, reflected borders)."""
    if sigma <= 0:
        return score_map
    radius = int(4.0 * sigma + 0.5)
    return cv2.GaussianBlur(score_map, (2 * radius + 1, 2 * radius + 1), sigmaX=sigma, sigmaY=sigma,
                            borderType=cv2.BORDER_REFLECT)


def anomaly_map(patch_scores: np.ndarray, input_size: Union[int, Tuple[int, int]], sigma: float) -> np.ndarray:
    """Patch score grid -> smoothed map at network-input resolution.

    ``(h, w)`` float32 -> ``(input_size, input_size)`` float32, or ``input_size`` = (height, width)
    (the map box of a kept-aspect geometry): bilinear upsampling, then Gaussian.
    """
    height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
    upsampled = cv2.resize(patch_scores.astype(np.float32), (int(width), int(height)), interpolation=cv2.INTER_LINEAR)
    return gaussian_smooth(upsampled, sigma)


def score_patches(patch_vectors: np.ndarray, bank: MemoryBank) -> Tuple[np.ndarray, np.ndarray]:
    """Nearest bank distance and index of every patch: ``(P, D)`` -> ``(P,)`` float32, ``(P,)`` int64."""
    distances, indices = bank.nearest(patch_vectors, k=1)
    return distances[:, 0], indices[:, 0]


def score_grids(grids: Sequence[np.ndarray], bank: MemoryBank, neighbours: int) -> List[Tuple[float, np.ndarray]]:
    """``(h, w, D)`` patch feature grids -> (image score, ``(h, w)`` patch distances) each.

    The grids' patches are searched together, so the bank search shares its per-cluster work
    (what that gains is measured in docs/benchmarks.md, "The search"). ``neighbours`` is the
    re-weighting's b (:func:`reweighted_image_score`); the map is left to whoever shows it.
    """
    vectors = np.concatenate([grid.reshape(-1, grid.shape[-1]) for grid in grids])
    distances, nearest = score_patches(vectors, bank)
    scored, start = [], 0
    for grid in grids:
        height, width = grid.shape[:2]
        patches = slice(start, start + height * width)
        score = reweighted_image_score(vectors[patches], distances[patches], nearest[patches], bank, neighbours)
        scored.append((score, distances[patches].reshape(height, width)))
        start += height * width
    return scored
