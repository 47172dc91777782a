"""The memory bank and exact nearest-neighbour search over it.

A flat search compares every test patch with every bank vector, and with the default settings
that was most of the inspection time (docs/benchmarks.md, "The search"). Yet a patch's nearest
neighbour lies in a small part of the bank. ``ClusteredBank`` groups the bank into clusters in a PCA space and skips any
cluster, and any vector of a visited cluster, whose lower bound on the distance already exceeds the
best distance found. Nothing that could be the nearest neighbour is skipped, so the answer is the
flat search's, within float32 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import faiss
import numpy as np

from .errors import refuse_unknown_keys

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


#: How the bank can be searched: "exact" (today's search, every answer the flat search's) or "ivf"
#: (faiss inverted lists: only the cells nearest each patch are searched, so a patch's true nearest
#: neighbour can be missed; measured in docs/benchmarks.md, "The approximate search: what it is and how it
#: is chosen").
SEARCH_KINDS = ("exact", "ivf")


@dataclass(frozen=True)
class SearchIndex:
    """How the memory bank is searched for each patch's nearest neighbour; recorded in the model.

    ``lists``: k-means cells the bank is split into; ``probes``: cells searched per patch (IVF only).

    >>> SearchIndex().describe(), SearchIndex("ivf", lists=512, probes=16).describe()
    ('exact', 'approximate (IVF: 16 of 512 cells searched per patch)')
    """

    kind: str = "exact"
    lists: int = 0
    probes: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SEARCH_KINDS:
            raise ValueError(f"search must be one of {', '.join(SEARCH_KINDS)}, not {self.kind!r}")
        if self.kind == "ivf" and not 1 <= self.probes <= self.lists:
            raise ValueError(f"an IVF search needs 1 <= probes <= lists, not {self.probes} of {self.lists}")

    @property
    def approximate(self) -> bool:
        return self.kind != "exact"

    def describe(self) -> str:
        if not self.approximate:
            return "exact"
        return f"approximate (IVF: {self.probes} of {self.lists} cells searched per patch)"

    def to_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "lists": self.lists, "probes": self.probes}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "SearchIndex":
        refuse_unknown_keys(data, ("kind", "lists", "probes"), "search")
        return cls(str(data["kind"]), int(data.get("lists", 0)), int(data.get("probes", 0)))

    @classmethod
    def for_bank(cls, kind: str, bank_size: int) -> "SearchIndex":
        """The index of ``kind`` for a bank of ``bank_size`` vectors, with the settings measured to keep
        the true nearest neighbour for nearly every patch (docs/benchmarks.md, "The approximate search: what
        it is and how it is chosen")."""
        if kind == "exact":
            return cls()
        lists = int(np.clip(round(IVF_LISTS_PER_ROOT * np.sqrt(bank_size)), 1, max(1, min(IVF_MAX_LISTS, bank_size // 39))))
        return cls(kind, lists=lists, probes=int(np.clip(round(lists * IVF_PROBED_SHARE), 1, lists)))


EXACT_SEARCH = SearchIndex()
# IVF cells per square root of the bank size (at most IVF_MAX_LISTS, which bounds the k-means at fit
# time and the assignment when a model opens), and the share of them searched per patch
IVF_LISTS_PER_ROOT = 4.0
IVF_MAX_LISTS = 1024
IVF_PROBED_SHARE = 0.1


def ivf_centroids(vectors: np.ndarray, lists: int, seed: int = 0) -> np.ndarray:
    """``(lists, D)`` float32 k-means centres of the bank's IVF cells, from a fixed seed.

    Trained on at most 64 vectors per cell for 10 rounds: the cells only have to split the bank into
    compact parts, and a bank of 640k vectors in 3,200 cells then trains in under a minute here."""
    kmeans = faiss.Kmeans(vectors.shape[1], lists, niter=10, seed=seed, verbose=False, max_points_per_centroid=64)
    kmeans.train(np.ascontiguousarray(vectors, dtype=np.float32))
    return np.ascontiguousarray(kmeans.centroids, dtype=np.float32)


class IvfBank:
    """Approximate 1-nearest-neighbour search: faiss ``IndexIVFFlat`` over given cell centres.

    The centres are data (kept in the model file), so the same bank and centres give the same index
    on every machine, with no faiss bytes to deserialise. A patch whose probed cells are all empty
    gets no answer (``-1``); :class:`MemoryBank` searches those exactly.
    """

    def __init__(self, vectors: np.ndarray, centroids: np.ndarray, probes: int) -> None:
        if centroids.ndim != 2 or centroids.shape[1] != vectors.shape[1] or not 1 <= probes <= len(centroids):
            raise ValueError(f"IVF centres of shape {centroids.shape} do not fit a bank of dimension "
                             f"{vectors.shape[1]} searched with {probes} probes")
        self._quantizer = faiss.IndexFlatL2(vectors.shape[1])
        self._quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
        self._index = faiss.IndexIVFFlat(self._quantizer, vectors.shape[1], len(centroids), faiss.METRIC_L2)
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._index.nprobe = probes

    def search(self, queries: np.ndarray) -> np.ndarray:
        """``(P, D)`` -> ``(P,)`` int64 indices of the nearest vector found, ``-1`` where none was."""
        _, found = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), 1)
        return found[:, 0].astype(np.int64)


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
    """The coreset of good patch vectors with exact L2 search, or the approximate one asked for.

    >>> bank = MemoryBank(np.eye(3, dtype=np.float32))
    >>> distances, indices = bank.nearest(np.zeros((1, 3), np.float32), k=1)
    >>> float(distances[0, 0]), int(indices[0, 0])
    (1.0, 0)
    """

    def __init__(self, vectors: np.ndarray, clustered: Optional[bool] = None, search: SearchIndex = EXACT_SEARCH,
                 centroids: Optional[np.ndarray] = None, seed: int = 0) -> None:
        """``clustered``: use :class:`ClusteredBank` for single neighbours; by default from
        ``CLUSTERED_MIN_BANK`` vectors on (``False`` measures the flat search it replaces).

        ``search``: an approximate index searches single neighbours instead; its cell ``centroids``
        come from the model file, or are trained here from ``seed`` (then read them from
        :attr:`centroids` to keep them). ``k > 1`` neighbours are always exact.
        """
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError(f"a memory bank needs a non-empty (M, D) array, not shape {vectors.shape}")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
        self.search = search
        self.centroids: Optional[np.ndarray] = None
        self._ivf: Optional[IvfBank] = None
        if search.kind == "ivf":
            self.centroids = ivf_centroids(self.vectors, search.lists, seed) if centroids is None else centroids
            self._ivf = IvfBank(self.vectors, self.centroids, search.probes)
        if clustered is None:  # an approximate index needs the exact search only for a rare patch: flat is enough
            clustered = len(self.vectors) >= CLUSTERED_MIN_BANK and self._ivf is None
        self._clustered = ClusteredBank(self.vectors, cluster_count(len(self.vectors))) if clustered else None

    @property
    def approximate(self) -> bool:
        """Whether single neighbours come from an approximate index (a patch's true nearest may be missed)."""
        return self._ivf is not None

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
        if self._ivf is None:
            nearest = self._exact_nearest(queries)
        else:
            nearest = self._ivf.search(queries)
            missing = np.flatnonzero(nearest < 0)  # every cell probed for them was empty
            if len(missing):
                nearest[missing] = self._exact_nearest(queries[missing])
        # |x|^2 - 2xy + |y|^2 loses digits to cancellation (1e-5 of a patch score, and differently
        # for the same pair in products of other shapes); the difference itself does not
        difference = queries - self.vectors[nearest]
        return np.sqrt(np.einsum("ij,ij->i", difference, difference))[:, None], nearest[:, None].astype(np.int64)

    def _exact_nearest(self, queries: np.ndarray) -> np.ndarray:
        if self._clustered is not None:
            return self._clustered.search(queries)[1]
        return faiss.knn(queries, self.vectors, 1)[1][:, 0]
