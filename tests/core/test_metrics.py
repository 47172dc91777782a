"""Metrics against sklearn and against brute force written out in full."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from patchcore_gui.core.metrics import aupro, auroc, f1_optimal_threshold, pixel_auroc


@pytest.mark.parametrize("seed", range(40))
def test_auroc_agrees_with_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    labels = rng.integers(0, 2, n)
    labels[:2] = (0, 1)
    rng.shuffle(labels)
    levels = int(rng.integers(1, 12))  # few levels: many ties, across and within classes
    scores = rng.integers(0, levels, n) + labels * rng.random() * rng.integers(0, 2)
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    as_float32 = scores.astype(np.float32)
    assert auroc(labels.astype(bool), as_float32) == pytest.approx(roc_auc_score(labels, as_float32), abs=1e-12)


def test_auroc_extremes_and_errors():
    assert auroc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert auroc(np.array([0, 0, 1, 1]), np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert auroc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    with pytest.raises(ValueError, match="one class"):
        auroc(np.array([1, 1]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError):
        auroc(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError):
        auroc(np.array([0, 1]), np.array([0.1, np.nan]))
    with pytest.raises(ValueError):
        auroc(np.array([0, 1]), np.array([0.1]))


def random_maps(rng: np.random.Generator, n_images: int = 6, quantised: bool = False):
    masks, maps = [], []
    for _ in range(n_images):
        h, w = (int(v) for v in rng.integers(5, 30, 2))
        mask = np.zeros((h, w), bool)
        if rng.random() < 0.7:
            y, x = int(rng.integers(0, h - 3)), int(rng.integers(0, w - 3))
            mask[y:y + int(rng.integers(1, 6)), x:x + int(rng.integers(1, 6))] = True
        score_map = rng.random((h, w)).astype(np.float32) + mask * rng.random()
        if quantised:
            score_map = np.round(score_map * 4) / 4
        masks.append(mask if rng.random() < 0.5 else mask.astype(np.uint8) * 255)
        maps.append(score_map)
    masks[0][0, 0] = 255 if masks[0].dtype == np.uint8 else True  # at least one anomalous pixel
    return masks, maps


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("quantised", [False, True])
def test_pixel_auroc_agrees_with_sklearn_on_flattened_pixels(seed, quantised):
    masks, maps = random_maps(np.random.default_rng(seed), quantised=quantised)
    truth = np.concatenate([np.asarray(m).ravel() > 0 for m in masks])
    expected = roc_auc_score(truth, np.concatenate([m.ravel() for m in maps]))
    tolerance = 1e-12 if quantised else 1e-4  # quantised levels never share a bin: exact
    assert pixel_auroc(masks, maps) == pytest.approx(expected, abs=tolerance)


def test_pixel_auroc_errors():
    with pytest.raises(ValueError, match="differ in size"):
        pixel_auroc([np.zeros((4, 4), bool)], [np.zeros((4, 5), np.float32)])
    with pytest.raises(ValueError, match="one class"):
        pixel_auroc([np.zeros((4, 4), bool)], [np.random.rand(4, 4)])
    with pytest.raises(ValueError):
        pixel_auroc([], [])


def pro_brute_force(masks, maps, fpr_limit=0.3):
    """The MVTec definition written out: every distinct score is a threshold, curve interpolated at the limit."""
    import cv2
    truths = [np.asarray(m) > 0 for m in masks]
    normal = np.concatenate([s[~t] for s, t in zip(maps, truths)])
    regions = []
    for truth, score_map in zip(truths, maps):
        count, labels = cv2.connectedComponents(truth.astype(np.uint8), connectivity=8)
        regions += [score_map[labels == k] for k in range(1, count)]
    fpr, pro = [0.0], [0.0]
    for threshold in np.unique(np.concatenate([m.ravel() for m in maps]))[::-1]:
        fpr.append(float(np.mean(normal >= threshold)))
        pro.append(float(np.mean([np.mean(r >= threshold) for r in regions])))
    fpr, pro = np.array(fpr), np.array(pro)
    keep = np.searchsorted(fpr, fpr_limit, side="right")
    # area up to the limit: exact trapezoids up to the last point below, then the interpolated piece
    area = np.trapezoid(pro[:keep], fpr[:keep]) if hasattr(np, "trapezoid") else np.trapz(pro[:keep], fpr[:keep])
    if keep < len(fpr):
        at = np.interp(fpr_limit, fpr[keep - 1:keep + 1], pro[keep - 1:keep + 1])
        area += (fpr_limit - fpr[keep - 1]) * (pro[keep - 1] + at) / 2
    return area / fpr_limit


def test_aupro_perfect_and_inverted():
    mask = np.zeros((20, 20), bool)
    mask[3:7, 3:7] = True
    mask[12:18, 10:19] = True
    good = np.zeros((20, 20), bool)
    perfect = [mask.astype(np.float32), np.zeros((20, 20), np.float32)]
    assert aupro([mask, good], perfect) == pytest.approx(1.0)
    inverted = [1.0 - p for p in perfect]
    inverted[1][:] = 1.0
    assert aupro([mask, good], inverted) == pytest.approx(0.0, abs=1e-9)


def test_aupro_weighs_regions_not_pixels():
    """A small found region and a large missed one: PRO counts each region once, pixel recall would not."""
    mask = np.zeros((30, 30), bool)
    mask[1:3, 1:3] = True      # 4 pixels, scored high
    mask[10:20, 10:20] = True  # 100 pixels, scored like the good pixels
    score_map = mask[:, :].astype(np.float32) * 0.0
    score_map[1:3, 1:3] = 1.0
    # curve: (0, 0) -> (0, 0.5) at threshold 1 -> (1, 1) at threshold 0; area to 0.3 = 0.15 + 0.0225
    assert aupro([mask], [score_map]) == pytest.approx(0.1725 / 0.3)
    assert aupro([mask], [score_map], fpr_limit=1.0) == pytest.approx(0.75)


def test_aupro_eight_connectivity_joins_diagonal_pixels():
    mask = np.zeros((10, 10), bool)
    mask[2, 2] = mask[3, 3] = True  # one region under 8-connectivity
    score_map = np.zeros((10, 10), np.float32)
    score_map[2, 2] = 1.0
    # one region half found at FPR 0: PRO 0.5, then 1 at FPR 1
    assert aupro([mask], [score_map], fpr_limit=1.0) == pytest.approx(0.75)
    assert pro_brute_force([mask], [score_map], 1.0) == pytest.approx(0.75)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("limit", [0.3, 0.05, 1.0])
def test_aupro_agrees_with_brute_force(seed, limit):
    masks, maps = random_maps(np.random.default_rng(100 + seed), quantised=seed % 2 == 1)
    value = aupro(masks, maps, fpr_limit=limit)
    assert 0.0 <= value <= 1.0
    # quantised scores never share a bin, so binning is exact; otherwise a rare pair of close scores
    # shares one, which moves these tiny 1..25-pixel regions a little (real regions far less)
    tolerance = 1e-9 if seed % 2 == 1 else 1e-3
    assert value == pytest.approx(pro_brute_force(masks, maps, limit), abs=tolerance)


def test_aupro_converges_with_finer_bins():
    masks, maps = random_maps(np.random.default_rng(100))
    assert aupro(masks, maps, num_thresholds=2 ** 22) == pytest.approx(pro_brute_force(masks, maps), abs=1e-9)


def test_aupro_errors():
    with pytest.raises(ValueError):
        aupro([np.zeros((4, 4), bool)], [np.random.rand(4, 4)])
    with pytest.raises(ValueError):
        aupro([np.ones((4, 4), bool)], [np.random.rand(4, 4)])
    with pytest.raises(ValueError):
        aupro([np.ones((4, 4), bool)], [np.random.rand(4, 4)], fpr_limit=0.0)


def f1_brute_force(labels, scores):
    best = (-1.0, None)
    for threshold in sorted(set(scores.tolist()), reverse=True):
        predicted = scores >= threshold
        tp = int(np.sum(predicted & (labels == 1)))
        fp = int(np.sum(predicted & (labels == 0)))
        fn = int(np.sum(~predicted & (labels == 1)))
        f1 = 2 * tp / (2 * tp + fp + fn)
        if f1 > best[0]:  # strict: the highest threshold wins a tie
            best = (f1, threshold)
    below = scores[scores < best[1]]
    # the model calls NG what is strictly above its threshold: midway to the next lower score
    threshold = (best[1] + below.max()) / 2 if len(below) else float(np.nextafter(best[1], -np.inf))
    assert np.array_equal(scores > threshold, scores >= best[1])
    return threshold, best[0]


@pytest.mark.parametrize("seed", range(40))
def test_f1_threshold_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    labels = rng.integers(0, 2, n)
    labels[0] = 1
    scores = np.round(rng.random(n) + labels * rng.random(), int(rng.integers(1, 4)))
    threshold, f1 = f1_optimal_threshold(labels, scores)
    expected_threshold, expected_f1 = f1_brute_force(labels, scores)
    assert threshold == pytest.approx(expected_threshold, abs=1e-12) and f1 == pytest.approx(expected_f1, abs=1e-12)


def test_f1_threshold_examples():
    assert f1_optimal_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])) == (pytest.approx(0.25), 1.0)
    assert f1_optimal_threshold(np.array([1, 1]), np.array([0.5, 0.2])) == (np.nextafter(0.2, 0), 1.0)
    with pytest.raises(ValueError):
        f1_optimal_threshold(np.array([0, 0]), np.array([0.5, 0.2]))
