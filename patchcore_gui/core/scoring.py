"""From patch distances to an image score and an anomaly map (paper section 3.3)."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import cv2
import faiss
import numpy as np

from .memory_bank import MemoryBank


def reweighted_image_score(patch_vectors: np.ndarray, patch_distances: np.ndarray, nearest_index: np.ndarray,
                           bank: MemoryBank, neighbours: int, counted: Optional[np.ndarray] = None) -> float:
    """The paper's image score: the largest patch distance s*, re-weighted by how isolated its match is.

    ``s = (1 - exp(s*) / sum_{m in N_b(m*)} exp(||m_test,* - m||)) * s*``, with N_b(m*) the b nearest
    bank neighbours of m* (m* itself first). A match in a sparse part of the bank gets a weight near
    1, one in a dense cluster less. With b = 1 the weight is dropped: the score is plain s*.
    ``counted (P,)`` bool, when given, limits s* to those patches (a region of interest).

    ``patch_vectors (P, D)``, ``patch_distances (P,)``, ``nearest_index (P,)`` -> float.
    """
    candidates = patch_distances if counted is None else np.where(counted, patch_distances, -np.inf)
    worst = int(np.argmax(candidates))
    s_star = float(patch_distances[worst])
    if neighbours <= 1:
        return s_star
    _, support = bank.nearest(bank.vectors[nearest_index[worst]][None, :], k=neighbours)
    return _reweighted(s_star, bank.vectors[support[0]], patch_vectors[worst])


def _reweighted(s_star: float, support: np.ndarray, patch_vector: np.ndarray) -> float:
    """s* times the re-weighting factor, from m*'s ``(b, D)`` nearest bank vectors (m* first)."""
    differences = support - patch_vector
    distances = np.sqrt(np.sum(differences.astype(np.float64) ** 2, axis=1))
    # the nearest neighbour of m* is m* itself; use s* so the formula's numerator is exact
    distances[0] = s_star
    # softmax written with the max subtracted: distances of 1024-d features overflow exp in float32
    weights = np.exp(distances - distances.max())
    return float((1.0 - weights[0] / weights.sum()) * s_star)


# the shortlist re-ranked by exact differences, as MemoryBank.nearest does for the re-weighting's one query
_SHORTLIST_EXTRA = 8
# rows of (shortlist x D) differences at once: about 60 MB with 1,000-dimensional features
_ROWS = 1024


def bank_neighbours(bank: MemoryBank, queries: np.ndarray, k: int) -> np.ndarray:
    """``(Q, D)`` -> ``(Q, k)`` int64: the ``k`` nearest bank vectors of many queries at once.

    The rule of :meth:`MemoryBank.nearest` for the re-weighting's single query: a shortlist of k + 8
    (here from one faiss search for all queries, which is many times faster than a product and a
    partition per query), ordered by exact differences, so each query gets the neighbours its single
    search gives.
    """
    k = min(k, len(bank))
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    _, shortlist = faiss.knn(queries, bank.vectors, min(k + _SHORTLIST_EXTRA, len(bank)))
    out = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), _ROWS):
        rows = slice(start, start + _ROWS)
        difference = bank.vectors[shortlist[rows]] - queries[rows, None, :]
        exact = np.einsum("ijk,ijk->ij", difference, difference)
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        out[rows] = np.take_along_axis(shortlist[rows], order, 1)
    return out


def patch_image_scores(patch_vectors: np.ndarray, bank: MemoryBank, neighbours: int) -> Tuple[np.ndarray, np.ndarray]:
    """Every patch's nearest-bank distance, and the image score it gives when it is the image's worst.

    ``(P, D)`` -> ``(P,)`` float32 distances, ``(P,)`` float32 scores: for any set of patches, the
    :func:`reweighted_image_score` over them is the score at the arg-max of the distances within the
    set, the same arithmetic (row by row) on the same neighbours: what a region of interest set later
    relies on.
    """
    distances, nearest = score_patches(patch_vectors, bank)
    if neighbours <= 1:
        return distances, distances.copy()
    used, which = np.unique(nearest, return_inverse=True)
    support = bank_neighbours(bank, bank.vectors[used], neighbours)[which]
    scores = np.empty(len(distances), np.float32)
    for start in range(0, len(distances), _ROWS):
        rows = slice(start, start + _ROWS)
        differences = bank.vectors[support[rows]] - patch_vectors[rows, None, :]
        # _reweighted's arithmetic, one row per patch (each row's sums run as the single patch's do)
        between = np.sqrt(np.sum(differences.astype(np.float64) ** 2, axis=2))
        s_star = distances[rows].astype(np.float64)
        between[:, 0] = s_star
        weights = np.exp(between - between.max(axis=1, keepdims=True))
        scores[rows] = (1.0 - weights[:, 0] / weights.sum(axis=1)) * s_star
    return distances, scores


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


def score_grids(grids: Sequence[np.ndarray], bank: MemoryBank, neighbours: int,
                counted: Optional[Sequence[Optional[np.ndarray]]] = None) -> List[Tuple[float, np.ndarray]]:
    """``(h, w, D)`` patch feature grids -> (image score, ``(h, w)`` patch distances) each.

    The grids' patches are searched together, so the bank search shares its per-cluster work
    (what that gains is measured in docs/benchmarks.md, "The search"). ``neighbours`` is the
    re-weighting's b (:func:`reweighted_image_score`); ``counted``, per grid an ``(h, w)`` bool or None,
    the patches its score is taken over (a region of interest). The map is left to whoever shows it.
    """
    vectors = np.concatenate([grid.reshape(-1, grid.shape[-1]) for grid in grids])
    distances, nearest = score_patches(vectors, bank)
    scored, start = [], 0
    for index, grid in enumerate(grids):
        height, width = grid.shape[:2]
        patches = slice(start, start + height * width)
        inside = None if counted is None or counted[index] is None else np.asarray(counted[index]).reshape(-1)
        score = reweighted_image_score(vectors[patches], distances[patches], nearest[patches], bank, neighbours,
                                       inside)
        scored.append((score, distances[patches].reshape(height, width)))
        start += height * width
    return scored
