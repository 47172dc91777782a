"""Coreset subsampling of the memory bank (paper section 3.2): greedy k-center selection.

Every patch vector is projected to a few dims with a fixed random map (Johnson-Lindenstrauss);
then, starting from one point, the point farthest from all points chosen so far is chosen next,
until the coreset has the asked size. :func:`plain_greedy_coreset` is the textbook loop, O(N * D)
per chosen point. :func:`greedy_coreset` returns the very same indices in the very same order,
but computes exact distances only where a new centre can possibly move a point closer:

* lower bounds: every point also gets coordinates on the top ``LOWER_BOUND_AXES`` principal axes, and
  ``||low(x) - low(c)|| <= ||x - c||``. A point x can only improve if ``dist(x, c) < mind(x)``
  (its distance to the chosen set), so one product of rows ``[low(x), 1, -limit(x)]`` with
  columns ``[low(c), -|low(c)|^2 / 2, 1]`` tells for many points and centres at once which pairs
  need an exact distance;
* lazy updates: each ``mind(x)`` is exact over the centres chosen up to some step and an upper
  bound after it. A round brings up to date only the points whose bounds are among the largest
  (the active points, a window of about N / 64); the farthest active point is the farthest of
  all, because every other point's upper bound lies below the round's threshold. Points that fall
  below the threshold leave the active set, and when none is left a new round starts.

Both loops compute a point-to-centre distance with the same function on the same float32 rows,
so the fast loop's distances are bit-identical to the plain loop's; its pruning bounds keep a
relative safety margin far above float32 rounding, so no skipped point could have improved.

>>> features = np.random.default_rng(0).standard_normal((500, 16)).astype(np.float32)
>>> chosen = greedy_coreset(features, coreset_size(len(features), 0.1))
>>> bool((chosen == plain_greedy_coreset(features, 50)).all()), chosen.dtype.name
(True, 'int64')
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .progress import CancelToken, ProgressFn, check, report

STAGE = "coreset"
#: Rows per block when computing distances: keeps the scratch buffer in cache.
_CHUNK = 4096
#: Principal axes used for the lower bounds of the fast loop.
LOWER_BOUND_AXES = 32
#: Relative slack of the pruning bounds: float32 distances over 128 dims err by < 1e-5 relative.
_MARGIN = 1e-4


def coreset_size(n: int, ratio: float) -> int:
    """Number of vectors kept from ``n`` at ``ratio``: ``max(1, round(n * ratio))``, at most ``n``.

    >>> coreset_size(163_856, 0.1), coreset_size(5, 0.01), coreset_size(3, 2.0), coreset_size(0, 0.1)
    (16386, 1, 3, 0)
    """
    if n < 0:
        raise ValueError(f"number of vectors must not be negative, not {n}")
    if not ratio > 0 or not np.isfinite(ratio):
        raise ValueError(f"coreset ratio must be a positive number, not {ratio}")
    return min(n, max(1, round(n * ratio)))


def random_projection(features: np.ndarray, dim: int = 128, seed: int = 0) -> np.ndarray:
    """Project vectors to ``dim`` dims with a fixed Gaussian map (Johnson-Lindenstrauss).

    ``(N, D)`` -> ``(N, dim)`` float32; the map is ``N(0, 1 / dim)`` entries drawn from
    ``np.random.default_rng(seed)``, so distances are preserved in expectation and the result is
    the same for the same seed. When ``D <= dim`` the vectors are returned as float32 unchanged:
    a random map cannot save work there and would only distort the distances.

    >>> random_projection(np.ones((4, 300), np.float32), dim=128).shape
    (4, 128)
    """
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(f"features must be an (N, D) array, not shape {features.shape}")
    if dim < 1:
        raise ValueError(f"projection dim must be at least 1, not {dim}")
    features = np.ascontiguousarray(features, dtype=np.float32)
    if features.shape[1] <= dim:
        return features
    matrix = np.random.default_rng(seed).standard_normal((features.shape[1], dim)) / np.sqrt(dim)
    return features @ matrix.astype(np.float32)


def _prepare(features: np.ndarray, n_select: int, projection_dim: int, seed: int) -> np.ndarray:
    """Validate the call and return the ``(N, projection_dim)`` float32 projected vectors."""
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f"cannot choose a coreset from an empty or non-(N, D) feature array (shape {features.shape})")
    n = features.shape[0]
    if not 1 <= n_select <= n:
        raise ValueError(f"cannot select {n_select} of {n} feature vectors: choose between 1 and {n}")
    projected = random_projection(features, projection_dim, seed)
    if not np.isfinite(projected).all():
        raise ValueError("features contain NaN or infinite values")
    return projected


def _sq_dists(points: np.ndarray, centre: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``||x - centre||^2`` of every row, written into ``out``.

    ``(M, d)`` float32, ``(d,)`` float32 -> ``(M,)`` float32. The single place both loops take a
    distance: each row is reduced on its own (numpy's pairwise sum), so a row's result is the
    same bits whichever block or subset it is computed in -- the fast loop relies on that.
    """
    scratch = np.empty((min(len(points), _CHUNK), points.shape[1]), np.float32)
    for begin in range(0, len(points), _CHUNK):
        block = scratch[: min(_CHUNK, len(points) - begin)]
        np.subtract(points[begin:begin + len(block)], centre, out=block)
        np.multiply(block, block, out=block)
        np.sum(block, axis=1, out=out[begin:begin + len(block)])
    return out


def _progress_every(n_select: int) -> int:
    return max(1, n_select // 100)


def plain_greedy_coreset(features: np.ndarray, n_select: int, projection_dim: int = 128, seed: int = 0,
                         progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> np.ndarray:
    """Greedy k-center selection, the straightforward reference loop (O(N * d) per centre).

    ``(N, D)`` -> ``(n_select,)`` int64 indices into ``features`` in selection order. Starts at
    ``np.random.default_rng(seed).integers(N)``; each next centre is the first index (np.argmax)
    of the largest squared distance to the chosen set, chosen points excluded, so the indices are
    distinct even among duplicate vectors. Never builds an N x N matrix.
    """
    points = _prepare(features, n_select, projection_dim, seed)
    n = len(points)
    every = _progress_every(n_select)
    chosen = np.empty(n_select, np.int64)
    mind = np.full(n, np.inf, np.float32)
    dist = np.empty(n, np.float32)
    centre = int(np.random.default_rng(seed).integers(n))
    check(cancel)
    report(progress, 0, n_select, STAGE)
    for k in range(n_select):
        chosen[k] = centre
        np.minimum(mind, _sq_dists(points, points[centre], dist), out=mind)
        # -1 rather than 0: once all that is left are duplicates, argmax must not pick a chosen one
        mind[centre] = -1.0
        centre = int(np.argmax(mind))
        if (k + 1) % every == 0 or k + 1 == n_select:
            check(cancel)
            report(progress, k + 1, n_select, STAGE)
    return chosen


def _principal_coordinates(points: np.ndarray, m: int, seed: int) -> np.ndarray:
    """``(N, d)`` -> ``(N, m)`` float32 coordinates on the top ``m`` principal axes.

    Any orthonormal axes give ``||low(x) - low(c)|| <= ||x - c||``; the principal ones make that
    lower bound tight (on CNN patch features the first 32 hold most of the variance; docs/benchmarks.md).
    A subsample is enough to find them, and computing in float64 keeps the bound's rounding tiny.
    """
    rows = points
    if len(points) > 65_536:
        rows = points[np.sort(np.random.default_rng(seed + 2).choice(len(points), 65_536, replace=False))]
    mean = rows.mean(axis=0, dtype=np.float64)
    centred = rows.astype(np.float64) - mean
    axes = np.linalg.eigh(centred.T @ centred)[1][:, ::-1][:, :m]
    low = np.empty((len(points), m), np.float32)
    for begin in range(0, len(points), 8 * _CHUNK):
        low[begin:begin + 8 * _CHUNK] = (points[begin:begin + 8 * _CHUNK] - mean) @ axes
    return low


def _limits(low_sq: np.ndarray, reach: np.ndarray, slack: float, sq_slack: float) -> np.ndarray:
    """Per row, the value ``low(x) . low(c) - ||low(c)||^2 / 2`` must exceed for ``||x - c|| < reach``.

    ``||low(x) - low(c)||^2 = low_sq(x) - 2 low(x).low(c) + ||low(c)||^2`` bounds ``||x - c||^2``
    from below (the low axes are orthonormal); ``slack`` and ``sq_slack`` widen it past the
    float32 rounding of ``low`` and of the dot product, ``_MARGIN`` past that of ``reach``.
    """
    widened = np.sqrt(np.maximum(reach, 0.0)).astype(np.float32) * np.float32(1.0 + _MARGIN) + np.float32(slack)
    return (low_sq - (widened * widened + np.float32(sq_slack))) * np.float32(0.5)


def _pair_sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``||a_i - b_i||^2`` row by row, ``(M, d), (M, d) -> (M,)`` float32, bit-identical to :func:`_sq_dists`."""
    out = np.empty(len(a), np.float32)
    for begin in range(0, len(a), _CHUNK):
        block = np.subtract(a[begin:begin + _CHUNK], b[begin:begin + _CHUNK])
        np.multiply(block, block, out=block)
        np.sum(block, axis=1, out=out[begin:begin + len(block)])
    return out


def greedy_coreset(features: np.ndarray, n_select: int, projection_dim: int = 128, seed: int = 0,
                   progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> np.ndarray:
    """Greedy k-center selection, same indices in the same order as :func:`plain_greedy_coreset`.

    ``(N, D)`` -> ``(n_select,)`` int64 indices into ``features`` in selection order.
    """
    points = _prepare(features, n_select, projection_dim, seed)
    n = len(points)
    window = min(n, max(256, n // 64))  # points a round brings up to date (the module doc's lazy updates)
    every = _progress_every(n_select)
    check(cancel)
    report(progress, 0, n_select, STAGE)
    low = _principal_coordinates(points, min(LOWER_BOUND_AXES, points.shape[1]), seed)
    m = low.shape[1]
    low_sq64 = (low.astype(np.float64) ** 2).sum(axis=1)
    largest = float(low_sq64.max())
    slack, sq_slack = 1e-5 * np.sqrt(largest), 4e-5 * largest
    low_sq = low_sq64.astype(np.float32)
    # rows [low(x), 1, -limit(x)] and [low(c), -|low(c)|^2 / 2, 1]: one product gives
    # (reach(x)^2 + sq_slack - ||low(x) - low(c)||^2) / 2, positive where c may improve x
    rows = np.empty((n, m + 2), np.float32)
    rows[:, :m], rows[:, m] = low, 1.0
    cols = np.empty((n_select, m + 2), np.float32)
    cols[:, m + 1] = 1.0
    del low

    chosen = np.empty(n_select, np.int64)

    def choose(k: int, centre: int) -> None:
        chosen[k] = centre
        cols[k, :m], cols[k, m] = rows[centre, :m], -low_sq64[centre] / 2

    def set_limits(idx: np.ndarray) -> None:
        rows[idx, m + 1] = -_limits(low_sq[idx], mind[idx], slack, sq_slack)

    first = int(np.random.default_rng(seed).integers(n))
    choose(0, first)
    mind = _sq_dists(points, points[first], np.empty(n, np.float32))
    mind[first] = -1.0
    set_limits(slice(None))
    seen = np.ones(n, np.int64)  # mind[x] is exact over chosen[:seen[x]], an upper bound now
    k = 1
    active = np.empty(0, np.int64)
    threshold = np.float32(0)
    budget = 1 << 18
    while k < n_select:
        if len(active) == 0:
            # a new round: bring the points with the largest bounds up to date
            threshold = np.partition(mind, n - window)[n - window]
            stale = np.flatnonzero(mind >= threshold)
            stale = stale[np.argsort(seen[stale], kind="stable")]
            begin = 0
            while begin < len(stale):
                start = int(seen[stale[begin]])
                block = stale[begin:begin + max(1, budget // max(1, k - start))]
                begin += len(block)
                if start < k:
                    hits = np.flatnonzero(rows[block] @ cols[start:k].T > 0)
                    if len(hits):
                        xs = block[hits // (k - start)]
                        np.minimum.at(mind, xs, _pair_sq_dists(points[xs], points[chosen[start + hits % (k - start)]]))
                        set_limits(block)
                seen[block] = k
            active = np.sort(stale[mind[stale] >= threshold])
            continue
        centre = int(active[np.argmax(mind[active])])
        choose(k, centre)
        survivors = active[rows[active] @ cols[k] > 0]
        new = _sq_dists(points[survivors], points[centre], np.empty(len(survivors), np.float32))
        better = new < mind[survivors]
        moved = np.append(survivors[better], centre)
        mind[moved[:-1]] = new[better]
        mind[centre] = -1.0
        set_limits(moved)
        k += 1
        keep = mind[active] >= threshold
        seen[active[~keep]] = k
        active = active[keep]
        if k % every == 0 or k == n_select:
            check(cancel)
            report(progress, k, n_select, STAGE)
    return chosen
