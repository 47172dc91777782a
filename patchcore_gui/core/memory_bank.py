"""The memory bank and exact nearest-neighbour search over it.

A flat search compares every test patch with every bank vector, and with the default settings
that was most of the inspection time (docs/benchmarks.md, "The search"). Yet a patch's nearest
neighbour lies in a small part of the bank. ``ClusteredBank`` groups the bank into clusters in a PCA space and skips any
cluster, and any vector of a visited cluster, whose lower bound on the distance already exceeds the
best distance found. Nothing that could be the nearest neighbour is skipped, so the answer is the
flat search's, within float32 rounding.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import faiss
import numpy as np

# Below this many vectors a flat search costs a few ms and the clustering would not pay for itself.
CLUSTERED_MIN_BANK = 2048
# Lower bounds are computed in float32 like the distances themselves; a bound within this fraction
# of the squared norms involved counts as a tie, so rounding can never skip the true neighbour.
_ROUNDING_SLACK = 1e-4
# Queries are taken in groups of this many per cluster: the products stay in the cache, and a group's
# union of needed vectors stays small (what groups gained: docs/benchmarks.md, "The search").
ROWS_PER_PRODUCT = 512
# Up to this many queries, k > 1 neighbours are found with one numpy product instead of faiss,
# which takes longer to wake its threads than such a product takes.
_FEW_QUERIES = 8
# The bounds use the principal axes that hold this share of the bank's variance, up to 64: fewer
# axes leave looser bounds, and a less clustered bank then computes far more of the flat products
# (docs/benchmarks.md, "The search").
_VARIANCE_SHARE = 0.9
_MAX_COMPONENTS = 64


def cluster_count(bank_size: int) -> int:
    """How many clusters to split a bank into: ~sqrt(M)/4, which kept both the per-cluster
    overhead and the vectors scanned per patch small on the bottle and Magnetic Tile banks."""
    return int(np.clip(round(np.sqrt(bank_size) / 4), 1, 96))



class ClusteredBank:
    """Exact 1-nearest-neighbour search that skips clusters and vectors it can prove are too far.

    The bound: with the bank's mean removed and an orthonormal PCA basis ``V`` (``D x k``), a vector
    ``x`` splits into its projection ``V^T x`` and a residual of norm ``r(x)``, and
    ``|x - y|^2 >= |V^T x - V^T y|^2 + (r(x) - r(y))^2``. A cluster adds the triangle inequality
    over its centre and radius in the projected space and the range of its residual norms.

    ``vectors (M, D) float32``; ``search((P, D))`` -> squared distances ``(P,)`` float32 and
    indices ``(P,)`` int64 into ``vectors``.

    >>> bank = np.random.default_rng(0).normal(size=(500, 6)).astype(np.float32)
    >>> squared, index = ClusteredBank(bank, clusters=4).search(bank[[3, 70]] + 0.001)
    >>> index.tolist()
    [3, 70]
    """

    def __init__(self, vectors: np.ndarray, clusters: int, components: Optional[int] = None, seed: int = 0) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._mean = vectors.mean(axis=0)
        centred = vectors - self._mean
        # the basis only has to be orthonormal for the bound to hold; eigh in float64 makes it so
        gram = (centred.T @ centred).astype(np.float64)
        eigenvalues, eigenvectors = np.linalg.eigh(gram)
        if components is None:
            share = np.cumsum(eigenvalues[::-1]) / max(float(eigenvalues.sum()), 1e-30)
            components = min(_MAX_COMPONENTS, int(np.searchsorted(share, _VARIANCE_SHARE)) + 1)
        components = min(components, vectors.shape[1])
        self._basis = np.ascontiguousarray(eigenvectors[:, ::-1][:, :components], dtype=np.float32)
        projected = centred @ self._basis
        centred_norm = np.einsum("ij,ij->i", centred, centred)
        residual = np.sqrt(np.maximum(centred_norm - np.einsum("ij,ij->i", projected, projected), 0.0))

        # faiss wants 39 training points per centroid and warns on stderr below that
        clusters = max(1, min(clusters, len(vectors) // 39))
        kmeans = faiss.Kmeans(components, clusters, niter=20, seed=seed, verbose=False)
        kmeans.train(projected)
        _, assignment = kmeans.index.search(projected, 1)
        self._order = np.argsort(assignment[:, 0], kind="stable")
        starts = np.searchsorted(assignment[self._order, 0], np.arange(clusters + 1))
        spans = [(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:]) if b > a]

        ordered = vectors[self._order]
        ordered_norm = np.einsum("ij,ij->i", ordered, ordered)
        self._max_norm = float(ordered_norm.max())
        # Both tests are one product each, with what would be extra passes over the (queries x
        # vectors) result folded into an extra column:
        #   distance:  q.b - |b|^2/2 = (|q|^2 - |q - b|^2) / 2, largest for the nearest;
        #   bound:     [Vq, r(q)].[Vb, r(b)] - |b - mean|^2/2, which exceeds
        #              (|q - mean|^2 - best)/2 exactly when the bound is below the best distance.
        scored = np.concatenate([ordered, -0.5 * ordered_norm[:, None]], axis=1)
        bounding = np.concatenate([projected, residual[:, None], -0.5 * centred_norm[:, None]], axis=1)[self._order]
        self._blocks: List[Tuple[int, np.ndarray, np.ndarray]] = []
        centres, radii, low, high, representatives = [], [], [], [], []
        for start, stop in spans:
            members = projected[self._order[start:stop]]
            centre = members.mean(axis=0)
            offsets = np.linalg.norm(members - centre, axis=1)
            centres.append(centre)
            radii.append(offsets.max() * (1 + _ROUNDING_SLACK))
            member_residual = residual[self._order[start:stop]]
            low.append(member_residual.min())
            high.append(member_residual.max())
            representatives.append(start + int(offsets.argmin()))
            self._blocks.append((start, scored[start:stop], np.ascontiguousarray(bounding[start:stop].T)))
        self._centres = np.asarray(centres, dtype=np.float64)
        self._radii = np.asarray(radii, dtype=np.float64)
        self._residual_low = np.asarray(low, dtype=np.float64)
        self._residual_high = np.asarray(high, dtype=np.float64)
        self._representatives = np.asarray(representatives)
        self._representative_vectors = scored[self._representatives]
        self._vector_count = len(vectors)
        self.scanned_fraction = 0.0  # of the flat search's work, in the last search

    @property
    def n_clusters(self) -> int:
        return len(self._blocks)

    def search(self, queries: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        centred = queries - self._mean
        projected = centred @ self._basis
        centred_norm = np.einsum("ij,ij->i", centred, centred)
        residual = np.sqrt(np.maximum(centred_norm - np.einsum("ij,ij->i", projected, projected), 0.0))
        query_norm = np.einsum("ij,ij->i", queries, queries)
        slack = _ROUNDING_SLACK * (query_norm + self._max_norm)
        cluster_bound = self._cluster_bounds(projected, residual).astype(np.float32)
        ones = np.ones((len(queries), 1), np.float32)
        scoring_query = np.concatenate([queries, ones], axis=1)
        bounding_query = np.concatenate([projected, residual[:, None], ones], axis=1)

        # start from each query's closest cluster representative, so most clusters fail the bound
        similarity = scoring_query @ self._representative_vectors.T
        closest = similarity.argmax(axis=1)
        best = query_norm - 2 * similarity[np.arange(len(queries)), closest]
        nearest = self._representatives[closest].astype(np.int64)

        # clusters that are the most promising for many queries first: they shrink the most bounds
        first_choice = np.bincount(cluster_bound.argmin(axis=1), minlength=len(self._blocks))
        scanned = 0
        for cluster in np.argsort(-first_choice, kind="stable"):
            all_candidates = np.flatnonzero(cluster_bound[:, cluster] < best + slack)
            start, scored, bounding = self._blocks[cluster]
            # queries in groups, so the (queries x vectors) products stay in the cache, and the union
            # of what a group needs stays near what each query needs: neighbouring patches need
            # much the same vectors
            for first in range(0, len(all_candidates), ROWS_PER_PRODUCT):
                candidates = all_candidates[first:first + ROWS_PER_PRODUCT]
                needed = bounding_query[candidates] @ bounding
                needed = needed > (0.5 * (centred_norm[candidates] - best[candidates] - slack[candidates]))[:, None]
                columns = np.flatnonzero(needed.any(axis=0))
                if len(columns) == 0:
                    continue
                rows = candidates[needed.any(axis=1)]
                if 2 * len(columns) < len(scored):
                    similarity = scoring_query[rows] @ scored[columns].T
                else:
                    similarity, columns = scoring_query[rows] @ scored.T, None
                within = similarity.argmax(axis=1)
                found = query_norm[rows] - 2 * similarity[np.arange(len(rows)), within]
                better = found < best[rows]
                improved = rows[better]
                best[improved] = found[better]
                nearest[improved] = start + (within if columns is None else columns[within])[better]
                scanned += similarity.size
        self.scanned_fraction = scanned / max(1, len(queries) * self._vector_count)
        return np.maximum(best, 0.0), self._order[nearest]

    def _cluster_bounds(self, projected: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """``(P, C)`` lower bounds on the squared distance from each query to anything in each cluster."""
        projected = projected.astype(np.float64)
        to_centre = np.sqrt(np.maximum(
            np.einsum("ij,ij->i", projected, projected)[:, None] - 2 * projected @ self._centres.T
            + np.einsum("ij,ij->i", self._centres, self._centres)[None, :], 0.0))
        residual = residual.astype(np.float64)[:, None]
        outside = np.maximum(np.maximum(self._residual_low - residual, residual - self._residual_high), 0.0)
        return np.maximum(to_centre - self._radii, 0.0) ** 2 + outside ** 2


class MemoryBank:
    """The coreset of good patch vectors with exact L2 search.

    >>> bank = MemoryBank(np.eye(3, dtype=np.float32))
    >>> distances, indices = bank.nearest(np.zeros((1, 3), np.float32), k=1)
    >>> float(distances[0, 0]), int(indices[0, 0])
    (1.0, 0)
    """

    def __init__(self, vectors: np.ndarray, clustered: Optional[bool] = None) -> None:
        """``clustered``: use :class:`ClusteredBank` for single neighbours; by default from
        ``CLUSTERED_MIN_BANK`` vectors on (``False`` measures the flat search it replaces)."""
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError(f"a memory bank needs a non-empty (M, D) array, not shape {vectors.shape}")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
        if clustered is None:
            clustered = len(self.vectors) >= CLUSTERED_MIN_BANK
        self._clustered = ClusteredBank(self.vectors, cluster_count(len(self.vectors))) if clustered else None

    def __len__(self) -> int:
        return len(self.vectors)

    def nearest(self, queries: np.ndarray, k: int = 1) -> Tuple[np.ndarray, np.ndarray]:
        """Euclidean distances and indices of the ``k`` nearest bank vectors.

        ``(P, D)`` float32 -> ``(P, k)`` float32 distances (not squared), ``(P, k)`` int64 indices.
        """
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k > 1 and len(queries) <= _FEW_QUERIES:
            # the re-weighting's one query (see _FEW_QUERIES). The product picks a few more than k, their differences give exact distances and order.
            squared = self._norms[None, :] - 2 * queries @ self.vectors.T
            shortlist = np.argpartition(squared, min(k + 8, len(self)) - 1, axis=1)[:, :k + 8]
            difference = self.vectors[shortlist] - queries[:, None, :]
            exact = np.einsum("ijk,ijk->ij", difference, difference)
            order = np.argsort(exact, axis=1, kind="stable")[:, :k]
            return (np.sqrt(np.take_along_axis(exact, order, 1)),
                    np.take_along_axis(shortlist, order, 1).astype(np.int64))
        if k > 1:
            squared, indices = faiss.knn(queries, self.vectors, k)
            # faiss computes |x|^2 - 2xy + |y|^2, which can come out slightly negative for a match
            return np.sqrt(np.maximum(squared, 0.0)), indices
        if self._clustered is not None:
            _, nearest = self._clustered.search(queries)
        else:
            _, found = faiss.knn(queries, self.vectors, 1)
            nearest = found[:, 0]
        # |x|^2 - 2xy + |y|^2 loses digits to cancellation (1e-5 of a patch score, and differently
        # for the same pair in products of other shapes); the difference itself does not
        difference = queries - self.vectors[nearest]
        return np.sqrt(np.einsum("ij,ij->i", difference, difference))[:, None], nearest[:, None].astype(np.int64)
