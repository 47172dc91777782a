"""How closely the coreset covers the patches it was chosen from: its covering distance.

The greedy coreset minimises the largest distance from a bank-building patch to its nearest coreset
member (paper section 3.2). That distance is what the bank already tolerates for good patches, so
teaching (core/teaching.py) adds only patches of a good image that lie farther than it from the bank.

At fit time it is measured on a sample of the candidates (:func:`sampled_coverage_radius`): the
largest of a sample can only lie at or below the largest of all, so teaching errs towards adding a
few more patches. A model file written before it was recorded gets :func:`estimated_coverage_radius`
from its bank alone (how well both agree with the exact value: docs/benchmarks.md, "Teaching").
"""

from __future__ import annotations

import faiss
import numpy as np

from .memory_bank import MemoryBank

#: Candidate patches searched at fit time: ~25 bottle images' worth, a fraction of a second.
COVERAGE_SAMPLE = 20_000
#: Bank members whose nearest other member is searched for the estimate of an older model.
ESTIMATE_SAMPLE = 2_000
#: The estimate is this quantile of the members' nearest-other-member distances (measured: docs/benchmarks.md).
ESTIMATE_QUANTILE = 0.01


def sampled_coverage_radius(candidates: np.ndarray, bank: MemoryBank, sample: int = COVERAGE_SAMPLE,
                            seed: int = 0) -> float:
    """The largest distance from up to ``sample`` of the ``(N, D)`` candidates to their nearest bank vector.

    >>> bank = MemoryBank(np.array([[0.0, 0.0], [10.0, 0.0]], np.float32))
    >>> sampled_coverage_radius(np.array([[1.0, 0.0], [7.0, 0.0]], np.float32), bank)
    3.0
    """
    rows = np.arange(len(candidates))
    if len(rows) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), sample, replace=False))
    distances, _ = bank.nearest(candidates[rows], k=1)
    return float(distances.max())


def estimated_coverage_radius(bank_vectors: np.ndarray, sample: int = ESTIMATE_SAMPLE,
                              quantile: float = ESTIMATE_QUANTILE, seed: int = 0) -> float:
    """An estimate of the covering distance from the ``(M, D)`` coreset alone, for older model files.

    A greedy coreset member was the farthest patch from the members before it when it was chosen,
    and every later member was chosen farther than the final covering distance: so members lie
    about that far apart or more. The estimate is a low quantile of the distance from (a sample
    of) members to their nearest other member.

    >>> grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2).astype(np.float32)
    >>> estimated_coverage_radius(grid)
    1.0
    """
    vectors = np.ascontiguousarray(bank_vectors, dtype=np.float32)
    if len(vectors) < 2:
        return 0.0
    rows = np.arange(len(vectors))
    if len(rows) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), sample, replace=False))
    squared, _ = faiss.knn(vectors[rows], vectors, 2)
    nearest_other = np.sqrt(np.maximum(squared[:, 1], 0.0))
    return float(np.quantile(nearest_other, quantile))
