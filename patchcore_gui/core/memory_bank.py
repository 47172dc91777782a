"""The memory bank and exact nearest-neighbour search over it (faiss, flat L2)."""

from __future__ import annotations

from typing import Tuple

import faiss
import numpy as np


class MemoryBank:
    """The coreset of good patch vectors with an exact L2 index.

    >>> bank = MemoryBank(np.eye(3, dtype=np.float32))
    >>> distances, indices = bank.nearest(np.zeros((1, 3), np.float32), k=1)
    >>> float(distances[0, 0]), int(indices[0, 0])
    (1.0, 0)
    """

    def __init__(self, vectors: np.ndarray) -> None:
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError(f"a memory bank needs a non-empty (M, D) array, not shape {vectors.shape}")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index = faiss.IndexFlatL2(self.vectors.shape[1])
        self._index.add(self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def nearest(self, queries: np.ndarray, k: int = 1) -> Tuple[np.ndarray, np.ndarray]:
        """Euclidean distances and indices of the ``k`` nearest bank vectors.

        ``(P, D)`` float32 -> ``(P, k)`` float32 distances (not squared), ``(P, k)`` int64 indices.
        """
        k = min(k, len(self))
        squared, indices = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        # faiss computes |x|^2 - 2xy + |y|^2, which can come out slightly negative for a match
        return np.sqrt(np.maximum(squared, 0.0)), indices
