"""Detection and segmentation metrics: image AUROC, pixel AUROC, AUPRO, the F1-optimal threshold.

Image-level metrics are exact. Pixel-level metrics see ~150 M pixels on a full MVTec category,
so they never sort or concatenate the pixels: every map is binned into one shared histogram of
``num_thresholds`` equal bins spanning the global score range, and pixels that share a bin count as
tied. With the default 2**20 bins the result differs from the exact value by at most half the share
of (anomalous, normal) pixel pairs that fall into one bin -- in practice below 1e-5 -- while memory
stays at a few arrays of 2**20 counts plus one image's temporaries. Equal scores always share a bin,
so data with few distinct levels (wider apart than a bin) gives exactly the sorted result.

Masks may be bool, 0/1 or 0..255: non-bool masks are anomalous above half their scale (0.5 or 127.5).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

DEFAULT_BINS = 2 ** 20


def _labels(labels: np.ndarray) -> np.ndarray:
    """(N,) of {0, 1} or bool -> (N,) bool; anything else is a caller's mistake."""
    values = np.asarray(labels).ravel()
    if values.dtype != bool:
        if not np.isin(values, (0, 1)).all():
            raise ValueError("labels must be 0 (good) or 1 (anomalous)")
        values = values.astype(bool)
    return values


def _scores(scores: np.ndarray, n: int) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64).ravel()
    if len(values) != n:
        raise ValueError(f"{n} labels but {len(values)} scores")
    if not np.isfinite(values).all():
        raise ValueError("scores must be finite (no NaN or infinity)")
    return values


def _auc_from_counts(positive: np.ndarray, negative: np.ndarray) -> float:
    """AUROC from per-level counts in ascending score order: P(pos > neg) + P(pos == neg) / 2.

    ``positive (L,)``, ``negative (L,)`` int64 -> float. Twice the Mann-Whitney U is kept in int64,
    so the only rounding is the final division; ties count one half, exactly as sklearn's
    trapezoidal ROC area does.
    """
    positive, negative = positive.astype(np.int64), negative.astype(np.int64)
    n_pos, n_neg = int(positive.sum()), int(negative.sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs both anomalous and good samples; only one class is present")
    negatives_below = np.cumsum(negative) - negative
    twice_u = int(np.sum(positive * (2 * negatives_below + negative)))
    return twice_u / (2 * n_pos * n_neg)


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; labels 1 = anomalous, higher score = more anomalous.

    ``(N,)``, ``(N,)`` -> float in [0, 1]; ties count one half, as in ``sklearn.metrics.roc_auc_score``.
    Raises ValueError when only one class is present.

    >>> auroc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    truth = _labels(labels)
    values = _scores(scores, len(truth))
    _, level = np.unique(values, return_inverse=True)
    n_levels = int(level.max()) + 1 if len(level) else 0
    return _auc_from_counts(np.bincount(level[truth], minlength=n_levels),
                            np.bincount(level[~truth], minlength=n_levels))


def _mask(mask: np.ndarray) -> np.ndarray:
    values = np.asarray(mask)
    if values.dtype == bool:
        return values
    return values > (127.5 if values.size and values.max() > 1 else 0.5)


def _checked(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> Tuple[List[np.ndarray], float, float]:
    """Validate shapes and values; return the boolean masks and the global score range."""
    if len(masks) != len(maps) or len(maps) == 0:
        raise ValueError(f"need one mask per map and at least one of each, not {len(masks)} and {len(maps)}")
    bool_masks, low, high = [], np.inf, -np.inf
    for index, (mask, score_map) in enumerate(zip(masks, maps)):
        truth = _mask(mask)
        if truth.shape != np.shape(score_map):
            raise ValueError(f"image {index}: mask {truth.shape} and map {np.shape(score_map)} differ in size")
        if not np.isfinite(score_map).all():
            raise ValueError(f"image {index}: the map holds NaN or infinity")
        bool_masks.append(truth)
        if np.size(score_map):
            low, high = min(low, float(np.min(score_map))), max(high, float(np.max(score_map)))
    return bool_masks, low, high


def _bin_index(score_map: np.ndarray, low: float, high: float, bins: int) -> np.ndarray:
    """(H, W) scores -> (H, W) bin numbers in [0, bins); monotone, so order survives binning."""
    scale = bins / (high - low) if high > low else 0.0
    index = ((np.asarray(score_map, np.float64) - low) * scale).astype(np.int64)
    return np.minimum(index, bins - 1)


def pixel_auroc(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray],
                num_thresholds: int = DEFAULT_BINS) -> float:
    """AUROC over every pixel of every image; sizes may differ between images.

    ``masks``: per image ``(H_i, W_i)`` bool/0-255; ``maps``: matching ``(H_i, W_i)`` float ->
    float. Binned as the module doc says; raises ValueError without anomalous or good pixels.
    """
    truths, low, high = _checked(masks, maps)
    positive = np.zeros(num_thresholds, np.int64)
    negative = np.zeros(num_thresholds, np.int64)
    for truth, score_map in zip(truths, maps):
        index = _bin_index(score_map, low, high, num_thresholds)
        positive += np.bincount(index[truth], minlength=num_thresholds)
        negative += np.bincount(index[~truth], minlength=num_thresholds)
    return _auc_from_counts(positive, negative)


def pixel_auroc_per_kind(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], kinds: Sequence[str],
                         good: str = "good") -> Dict[str, float]:
    """Per defect kind, the pixel AUROC of its images together with every ``good`` image: which kinds
    the maps localise. The overall figure weighs kinds by their defect pixels, so one kind with large
    masks can hide how well the others are found. A kind whose masks mark nothing is left out.

    >>> flat = np.zeros((2, 2)); spot = np.array([[1.0, 0.0], [0.0, 0.0]])
    >>> masks = [flat > 0, spot > 0, spot > 0]
    >>> pixel_auroc_per_kind(masks, [flat, spot, -spot], ["good", "hole", "crack"])
    {'crack': 0.0, 'hole': 1.0}
    """
    if not len(masks) == len(maps) == len(kinds):
        raise ValueError(f"{len(masks)} masks, {len(maps)} maps and {len(kinds)} kinds")
    found = {}
    for kind in sorted(set(kinds) - {good}):
        chosen = [index for index, name in enumerate(kinds) if name in (good, kind)]
        if any(_mask(masks[index]).any() for index in chosen):
            found[kind] = pixel_auroc([masks[index] for index in chosen], [maps[index] for index in chosen])
    return found


def _area_up_to(x: np.ndarray, y: np.ndarray, limit: float) -> float:
    """Trapezoidal area under y(x) from x[0] to ``limit``, the curve interpolated at ``limit``.

    ``x`` non-decreasing (it may repeat: a vertical step adds no area), ``y`` matching.
    """
    k = int(np.searchsorted(x, limit, side="right"))
    xs, ys = x[:k], y[:k]
    if k < len(x):
        t = (limit - x[k - 1]) / (x[k] - x[k - 1])
        xs, ys = np.append(xs, limit), np.append(ys, y[k - 1] + t * (y[k] - y[k - 1]))
    return float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2.0))


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], fpr_limit: float = 0.3,
          num_thresholds: int = DEFAULT_BINS) -> float:
    """Area under the per-region-overlap curve up to ``fpr_limit``, divided by ``fpr_limit`` (MVTec AD).

    Regions are the 8-connected components of each mask; at every threshold the PRO is the mean,
    over all regions of all images, of the share of the region at or above it, and the FPR is the
    share of all good pixels (outside every mask) at or above it. Every region weighs the same,
    whatever its size. Images with empty masks add good pixels only. ``masks``/``maps`` as in
    :func:`pixel_auroc` -> float in [0, 1].
    """
    if not 0.0 < fpr_limit <= 1.0:
        raise ValueError(f"the FPR limit must be in (0, 1], not {fpr_limit}")
    truths, low, high = _checked(masks, maps)
    covered = np.zeros(num_thresholds, np.float64)  # per bin: sum over regions of (share of the region)
    negative = np.zeros(num_thresholds, np.int64)
    n_regions = 0
    for truth, score_map in zip(truths, maps):
        index = _bin_index(score_map, low, high, num_thresholds)
        negative += np.bincount(index[~truth], minlength=num_thresholds)
        if not truth.any():
            continue
        count, regions = cv2.connectedComponents(truth.astype(np.uint8), connectivity=8)
        inside = regions > 0
        share = 1.0 / np.bincount(regions[inside], minlength=count)[1:]  # 1 / area, region k at k - 1
        covered += np.bincount(index[inside], weights=share[regions[inside] - 1], minlength=num_thresholds)
        n_regions += count - 1
    n_negative = int(negative.sum())
    if n_regions == 0 or n_negative == 0:
        raise ValueError("AUPRO needs anomalous regions and good pixels; one of them is missing")
    # thresholds from the top bin down: both curves grow from (0, 0)
    fpr = np.concatenate([[0.0], np.cumsum(negative[::-1]) / n_negative])
    pro = np.concatenate([[0.0], np.cumsum(covered[::-1]) / n_regions])
    return _area_up_to(fpr, np.minimum(pro, 1.0), fpr_limit) / fpr_limit


def f1_optimal_threshold(labels: np.ndarray, scores: np.ndarray) -> Tuple[float, float]:
    """The threshold t with the best F1 when ``score > t`` is NG (the model's rule), and that F1.

    ``(N,)``, ``(N,)`` -> (t, f1). t lies midway between the lowest score called NG and the
    highest score called OK, the choice least sensitive to a new part landing near either; when
    every part is called NG, t is just below the lowest score. Among partitions with equal F1 the
    one rejecting fewer parts wins. Raises ValueError without any anomalous sample.

    >>> f1_optimal_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.5, 0.3, 0.8]))
    (0.2, 0.8)
    """
    truth = _labels(labels)
    values = _scores(scores, len(truth))
    n_pos = int(truth.sum())
    if n_pos == 0:
        raise ValueError("the F1 score needs at least one anomalous sample")
    levels, level = np.unique(values, return_inverse=True)
    # from the highest level down: NG count grows by each level's samples
    true_pos = np.cumsum(np.bincount(level[truth], minlength=len(levels))[::-1])
    false_pos = np.cumsum(np.bincount(level[~truth], minlength=len(levels))[::-1])
    f1 = 2 * true_pos / (true_pos + false_pos + n_pos)  # 2TP / (2TP + FP + FN), FN = P - TP
    lowest_ng = len(levels) - 1 - int(np.argmax(f1))  # first maximum = fewest parts rejected
    if lowest_ng == 0:
        threshold = float(np.nextafter(levels[0], -np.inf))
    else:
        threshold = float((levels[lowest_ng] + levels[lowest_ng - 1]) / 2)
    return threshold, float(f1.max())
