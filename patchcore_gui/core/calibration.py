"""The threshold, learned from good images only.

At fit time a share of the good images is held out of the memory bank and scored against it,
exactly as the line will score new good parts (:func:`calibrate`). Their score distribution is kept
in the model; the default threshold follows from it by one stated rule (:func:`learned_threshold`;
models built before it used :func:`default_threshold`), and "at most 1 good part in N rejected" by
:func:`threshold_for_reject_rate`. With labelled defects,
:func:`patchcore_gui.core.metrics.f1_optimal_threshold` gives the other view.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np

from .config import PatchCoreConfig
from .geometry import Preprocessing, map_box_size
from .memory_bank import MemoryBank
from .progress import CancelToken, ProgressFn, check, report
from .scoring import anomaly_map, score_grids

STAGE = "calibration"


def held_out_count(n_images: int, fraction: float) -> int:
    """How many of ``n_images`` good images are held out to calibrate: at least one, and one fewer than all.

    >>> held_out_count(762, 0.2), held_out_count(2, 0.2), held_out_count(1, 0.2)
    (152, 1, 1)
    """
    return int(np.clip(round(n_images * fraction), 1, max(1, n_images - 1)))


def holdout_split(n_images: int, fraction: float) -> Tuple[np.ndarray, np.ndarray]:
    """Indices of the images that build the bank and of the held-out calibration images.

    Held-out images are spread evenly through the (sorted) list, so a folder recorded over a shift
    is sampled over the whole shift rather than only its end. At least one image on each side.
    """
    if n_images < 2:
        raise ValueError("need at least 2 good images: 1 to build the bank and 1 to calibrate the threshold")
    n_holdout = held_out_count(n_images, fraction)
    holdout = np.unique(np.floor((np.arange(n_holdout) + 0.5) * n_images / n_holdout).astype(np.int64))
    bank = np.setdiff1d(np.arange(n_images, dtype=np.int64), holdout)
    return bank, holdout


def student_t_quantile(p: float, dof: int) -> float:
    """The ``p`` quantile of Student's t with ``dof`` degrees of freedom (no SciPy in the package).

    Exact for 1 to 4 degrees of freedom, the Cornish-Fisher expansion to ``dof**-4`` above (within
    1.3% of the exact value for p up to 0.9999 at 5 degrees of freedom, closer with more).

    >>> round(student_t_quantile(0.99, 4), 3), round(student_t_quantile(0.99, 150), 3)
    (3.747, 2.351)
    """
    if not 0.0 < p < 1.0 or dof < 1:
        raise ValueError(f"need 0 < p < 1 and dof >= 1, not p={p}, dof={dof}")
    if dof == 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    if dof == 3:  # its CDF has a closed form: bisect it
        low, high = -1e7, 1e7
        for _ in range(200):
            middle = (low + high) / 2
            cdf = 0.5 + (middle / (math.sqrt(3) * (1 + middle * middle / 3)) + math.atan(middle / math.sqrt(3))) / math.pi
            low, high = (middle, high) if cdf < p else (low, middle)
        return (low + high) / 2
    if dof == 4:
        a = 4 * p * (1 - p)
        q = math.cos(math.acos(math.sqrt(a)) / 3) / math.sqrt(a)
        return math.copysign(2 * math.sqrt(max(q - 1, 0.0)), p - 0.5)
    z = NormalDist().inv_cdf(p)
    terms = ((z ** 3 + z) / 4, (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96,
             (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384,
             (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160)
    return z + sum(term / dof ** (k + 1) for k, term in enumerate(terms))


def prediction_bound(good_scores: np.ndarray, rate: float) -> float:
    """The score one more good part stays at or under with probability ``1 - rate``, from ``n`` held-out
    good scores taken as a normal sample: ``mean + t(1 - rate, n - 1) * sd * sqrt(1 + 1/n)``.

    The Student-t prediction bound: with few held-out parts both the mean and the spread are
    uncertain, and the bound widens by exactly that much (5 parts: 4.1 sd for 1 in 100; 150 parts:
    2.36 sd). Needs at least 2 scores.

    >>> round(prediction_bound(np.array([1.0, 2.0, 3.0]), 0.01), 3)
    10.042
    """
    scores = np.asarray(good_scores, dtype=np.float64)
    n = len(scores)
    if n < 2:
        raise ValueError(f"need at least 2 held-out good scores to estimate a reject rate, not {n}")
    spread = float(np.std(scores, ddof=1))
    return float(np.mean(scores) + student_t_quantile(1.0 - rate, n - 1) * spread * math.sqrt(1.0 + 1.0 / n))


@dataclass(frozen=True)
class RejectRateThreshold:
    """A threshold chosen for "at most ``rate`` of good parts rejected", and what that rests on.

    ``n_held_out`` good parts were scored; ``held_out_above`` of them score above the threshold (a
    check of the fit: about ``rate * n_held_out`` are expected).
    """

    threshold: float
    rate: float
    n_held_out: int
    held_out_above: int

    @property
    def one_in(self) -> float:
        return 1.0 / self.rate

    @property
    def extrapolated(self) -> bool:
        """Whether the rate is rarer than one held-out part: no held-out part shows such a rare good score."""
        return self.rate * self.n_held_out < 1.0

    @property
    def method(self) -> str:
        return "extrapolated" if self.extrapolated else "within the held-out parts"

    def trust(self) -> str:
        """One or two sentences for a person: how far to trust the estimate.

        >>> RejectRateThreshold(30.0, 0.001, 152, 0).trust()  # doctest: +ELLIPSIS
        'Extrapolated: 1 in 1,000 is rarer than 1 in the 152 held-out good parts...'
        """
        n, asked = self.n_held_out, f"1 in {self.one_in:,.0f}"
        if self.extrapolated:
            return (f"Extrapolated: {asked} is rarer than 1 in the {n:,} held-out good parts, so none of them can "
                    f"show it; the threshold comes from a normal fit to their scores, and the real rate may differ "
                    f"several-fold. Build with more good parts to check it.")
        expected = self.rate * n
        return (f"Rests on {n:,} held-out good parts: {self.held_out_above} of them score above it "
                f"(about {expected:.1f} expected at {asked}). " + ("A rough estimate with so few parts."
                                                                   if n < 30 else ""))


def parse_rate(text: str) -> float:
    """A reject rate as a person writes it: ``1/1000``, ``0.1%`` or ``0.001``.

    >>> parse_rate("1/1000"), parse_rate("0.5%"), parse_rate("0.02")
    (0.001, 0.005, 0.02)
    """
    value = text.strip().replace(" ", "")
    try:
        if "/" in value:
            top, bottom = value.split("/", 1)
            rate = float(top) / float(bottom)
        elif value.endswith("%"):
            rate = float(value[:-1]) / 100.0
        else:
            rate = float(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"'{text}' is not a rate: write e.g. 1/1000, 0.1% or 0.001") from None
    if not 0.0 < rate < 1.0:
        raise ValueError(f"a reject rate must be between 0 and 1 (e.g. 1/1000), not '{text}'")
    return rate


def threshold_for_reject_rate(good_scores: np.ndarray, rate: float) -> RejectRateThreshold:
    """The threshold for "at most ``rate`` of good parts rejected" (e.g. 0.001: 1 in 1000), from the
    held-out good scores ``(n,)``: their :func:`prediction_bound`, with how many of them lie above it.

    >>> chosen = threshold_for_reject_rate(np.linspace(10.0, 12.0, 20), 0.05)
    >>> round(chosen.threshold, 2), chosen.held_out_above, chosen.extrapolated
    (12.1, 0, False)
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"a reject rate must be between 0 and 1, not {rate}")
    scores = np.asarray(good_scores, dtype=np.float64)
    threshold = prediction_bound(scores, rate)
    return RejectRateThreshold(threshold=threshold, rate=float(rate), n_held_out=len(scores),
                               held_out_above=int(np.sum(scores > threshold)))


def outlier_threshold(good_scores: np.ndarray, z: float = 3.5) -> float:
    """The score above which a part is an outlier among the held-out good parts by the modified
    z-score rule (Iglewicz and Hoaglin): ``median + z * 1.4826 * MAD``, the median absolute deviation
    scaled to a normal sample's standard deviation.

    Median and MAD ignore the few outlying good parts a held-out set holds (bottle: one at 29.0 beside
    a median of 19.8), which pull a mean, a standard deviation and above all a maximum upwards.

    >>> outlier_threshold(np.array([10.0, 11.0, 12.0, 13.0, 40.0]), 3.5)  # the 40 does not move it
    17.1891
    """
    scores = np.asarray(good_scores, dtype=np.float64)
    median = float(np.median(scores))
    return round(median + z * 1.4826 * float(np.median(np.abs(scores - median))), 6)


def learned_threshold(good_scores: np.ndarray, config: PatchCoreConfig) -> float:
    """The default threshold: the higher of :func:`outlier_threshold` (``threshold_outlier_z``) and the
    prediction bound for ``threshold_reject_rate`` (:func:`threshold_for_reject_rate`).

    With many held-out parts the outlier bound decides: median and MAD ignore the few outlying good
    parts a held-out set holds. With few, the prediction bound decides: it widens by as much as so few
    parts leave uncertain, where median and MAD of 5 scores say little. Both unset (a model built
    before them), or a single held-out part: the older :func:`default_threshold`. Measured on the
    demo, bottle and Magnetic Tile in docs/benchmarks.md.
    """
    bounds = []
    if len(good_scores) >= 2:
        if config.threshold_outlier_z is not None:
            bounds.append(outlier_threshold(good_scores, config.threshold_outlier_z))
        if config.threshold_reject_rate is not None:
            bounds.append(threshold_for_reject_rate(good_scores, config.threshold_reject_rate).threshold)
    if bounds:
        return max(bounds)
    return default_threshold(good_scores, config.threshold_quantile, config.threshold_margin)


#: Fewer held-out good parts than this leave the default threshold cautious: its prediction bound for 1 in
#: 100 lies t(0.99, n - 1) spreads above their mean, 3.75 at 5 parts against the normal 2.33, and 31.8 at
#: 2 (12 synthetic 1,536 px parts held out 2: threshold 45.1, the good part 27.5, a scratched one 37.9
#: passed; docs/benchmarks.md, "Large square parts").
FEW_HELD_OUT = 5


def threshold_caution(n_held_out: int, config: PatchCoreConfig) -> str:
    """What a person should know when :func:`learned_threshold` rests on too few held-out good parts: with
    one, it is that part's score; with a few, it is cautious where the rule widens for them (the prediction
    bound, ``threshold_reject_rate``, is part of it). Otherwise "".

    >>> threshold_caution(2, PatchCoreConfig())
    '2 held-out good parts are too few to set a tight threshold: it is cautious and may pass small defects; build from 23 or more good parts, or set it by eye'
    """
    if n_held_out < 2:
        problem = (f"{n_held_out} held-out good part is too few to set a threshold from: it is that part's score "
                   "and may reject good parts")
    elif config.threshold_reject_rate is not None and n_held_out < FEW_HELD_OUT:
        problem = (f"{n_held_out} held-out good parts are too few to set a tight threshold: it is cautious and "
                   "may pass small defects")
    else:
        return ""
    needed = next(n for n in itertools.count(2) if held_out_count(n, config.calibration_fraction) >= FEW_HELD_OUT)
    return f"{problem}; build from {needed} or more good parts, or set it by eye"


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
    line inspects, and learn the threshold and map scale from them. Reports stage "calibration"."""
    scored = (score_grids([grid], bank, config.reweight_neighbours)[0] for grid in holdout_grids)
    return calibrate_scored(scored, len(holdout_grids), config, preprocessing, progress, cancel)


def calibrate_scored(scored: Iterable[Tuple[float, np.ndarray]], count: int, config: PatchCoreConfig,
                     preprocessing: Preprocessing, progress: Optional[ProgressFn] = None,
                     cancel: Optional[CancelToken] = None) -> Calibration:
    """Learn the threshold and map scale from ``count`` held-out good images already scored: (image
    score, ``(h, w)`` patch distances) each. Reports stage "calibration".

    The maps are made over each grid's map box at input resolution (``preprocessing``), as the line's are.
    """
    scores, peaks, medians = [], [], []
    for done, (score, patch_scores) in enumerate(scored, start=1):
        check(cancel)
        score_map = anomaly_map(patch_scores, map_box_size(patch_scores.shape, preprocessing), config.sigma)
        scores.append(score)
        peaks.append(float(score_map.max()))
        medians.append(float(np.median(score_map)))
        report(progress, done, count, STAGE)
    good_scores = np.asarray(scores, dtype=np.float32)
    return Calibration(good_scores=good_scores,
                       threshold=learned_threshold(good_scores, config),
                       map_scale=learn_map_scale(good_scores, np.asarray(peaks), np.asarray(medians)))
