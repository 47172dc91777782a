"""The threshold, learned from good images only.

At fit time a share of the good images is held out of the memory bank and scored against it,
exactly as the line will score new good parts (:func:`calibrate`). Their score distribution is kept
in the model; the default threshold follows from it by one stated rule (:func:`default_threshold`).
With labelled defects, :func:`patchcore_gui.core.metrics.f1_optimal_threshold` gives the other view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

from .config import PatchCoreConfig
from .geometry import Preprocessing, map_box_size
from .memory_bank import MemoryBank
from .progress import CancelToken, ProgressFn, check, report
from .scoring import anomaly_map, score_grids

STAGE = "calibration"


def holdout_split(n_images: int, fraction: float) -> Tuple[np.ndarray, np.ndarray]:
    """Indices of the images that build the bank and of the held-out calibration images.

    Held-out images are spread evenly through the (sorted) list, so a folder recorded over a shift
    is sampled over the whole shift rather than only its end. At least one image on each side.
    """
    if n_images < 2:
        raise ValueError("need at least 2 good images: 1 to build the bank and 1 to calibrate the threshold")
    n_holdout = int(np.clip(round(n_images * fraction), 1, n_images - 1))
    holdout = np.unique(np.floor((np.arange(n_holdout) + 0.5) * n_images / n_holdout).astype(np.int64))
    bank = np.setdiff1d(np.arange(n_images, dtype=np.int64), holdout)
    return bank, holdout


def default_threshold(good_scores: np.ndarray, quantile: float, margin: float) -> float:
    """``Q_q(good) + margin * (Q_q(good) - median(good))``: a quantile of the held-out good scores
    plus a share of their spread, because the held-out set is small and the line will see good parts
    a little worse than any of them.

    >>> default_threshold(np.array([1.0, 2.0, 3.0]), quantile=1.0, margin=0.5)
    3.5
    """
    if len(good_scores) == 0:
        raise ValueError("no good scores to calibrate from")
    top = float(np.quantile(good_scores, quantile))
    return top + margin * (top - float(np.median(good_scores)))


@dataclass(frozen=True)
class MapScale:
    """How anomaly-map values relate to image scores, learned on the held-out good images.

    The image score is a re-weighted maximum of unsmoothed patch distances while the map is
    smoothed, so the map's peak sits below the score. ``ratio`` = median of peak(map) / score lets an
    image threshold be drawn on the map as the outline of the regions that make an image NG;
    ``floor`` is the typical map value of a good part, the bottom of the colour scale.
    """

    ratio: float
    floor: float

    def map_threshold(self, threshold: float) -> float:
        return threshold * self.ratio

    def colour_range(self, threshold: float) -> Tuple[float, float]:
        """(low, high) for the colour map with the threshold exactly in the middle."""
        middle = self.map_threshold(threshold)
        low = min(self.floor, middle * 0.5)
        return low, 2.0 * middle - low


def learn_map_scale(scores: np.ndarray, map_peaks: np.ndarray, map_medians: np.ndarray) -> MapScale:
    """From the held-out good images' scores, map maxima and map medians (each ``(n,)``)."""
    safe = np.maximum(scores, 1e-12)
    return MapScale(ratio=float(np.median(map_peaks / safe)), floor=float(np.median(map_medians)))


@dataclass(frozen=True)
class Calibration:
    """What the held-out good images teach: their scores ``(n,)`` float32, the threshold, the map scale."""

    good_scores: np.ndarray
    threshold: float
    map_scale: MapScale


def calibrate(holdout_grids: Sequence[np.ndarray], bank: MemoryBank, config: PatchCoreConfig,
              preprocessing: Preprocessing,
              progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> Calibration:
    """Score the held-out good images' ``(h, w, D)`` grids against the bank, one at a time as the
    line inspects, and learn the threshold and map scale from them. Reports stage "calibration".

    The maps are made over each grid's map box at input resolution (``preprocessing``), as the line's are.
    """
    scores, peaks, medians = [], [], []
    for done, grid in enumerate(holdout_grids, start=1):
        check(cancel)
        score, patch_scores = score_grids([grid], bank, config.reweight_neighbours)[0]
        score_map = anomaly_map(patch_scores, map_box_size(patch_scores.shape, preprocessing), config.sigma)
        scores.append(score)
        peaks.append(float(score_map.max()))
        medians.append(float(np.median(score_map)))
        report(progress, done, len(holdout_grids), STAGE)
    good_scores = np.asarray(scores, dtype=np.float32)
    return Calibration(good_scores=good_scores,
                       threshold=default_threshold(good_scores, config.threshold_quantile, config.threshold_margin),
                       map_scale=learn_map_scale(good_scores, np.asarray(peaks), np.asarray(medians)))
