"""A fitted PatchCore model: everything needed to inspect, as plain data (no network inside)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Optional, Tuple

import numpy as np

from .calibration import MapScale
from .config import PatchCoreConfig
from .geometry import Preprocessing, map_box_size, map_to_original
from .likeness import GoodPartsLook
from .scoring import anomaly_map


VERDICTS = ("OK", "REVIEW", "NG", "ERROR")


def verdict_of(score: Optional[float], threshold: float, review_from: Optional[float] = None,
               largest_region: Optional[float] = None, min_defect_area: float = 0.0) -> str:
    """The inspection rule, written only here.

    No score (an unreadable file) is "ERROR". A score above ``threshold`` is "NG", unless a minimum
    defect area is set and every defect region is smaller (``largest_region`` < ``min_defect_area``,
    in the same unit): a speck below the tolerance passes as "OK". With a review band
    (``review_from`` < ``threshold``), a score above ``review_from`` and at or below the threshold is
    "REVIEW", for a person to look at. Otherwise "OK". Region sizes unknown while a minimum area is
    set count as a defect: the rule never passes a part it could not measure.

    >>> verdict_of(25.2, 25.1), verdict_of(25.1, 25.1), verdict_of(None, 25.1)
    ('NG', 'OK', 'ERROR')
    >>> verdict_of(25.2, 25.1, largest_region=40, min_defect_area=50), verdict_of(24.0, 25.1, review_from=23.0)
    ('OK', 'REVIEW')
    """
    if score is None:
        return "ERROR"
    if score > threshold:
        too_small = min_defect_area > 0 and largest_region is not None and largest_region < min_defect_area
        if not too_small:
            return "NG"
        return "OK"
    if review_from is not None and score > review_from:
        return "REVIEW"
    return "OK"


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class PatchCoreModel:
    """The memory bank, the calibration and the facts of how both were made.

    ``memory_bank`` is ``(M, D)`` float32; ``good_scores`` ``(n_holdout,)`` float32 holds the image
    scores of good images that were kept out of the bank. ``threshold`` is the one the line uses:
    a score above it is NG.
    """

    config: PatchCoreConfig
    preprocessing: Preprocessing
    layers: Tuple[str, ...]
    weights_sha256: str
    memory_bank: np.ndarray
    good_scores: np.ndarray
    threshold: float
    default_threshold: float
    map_scale: MapScale
    n_good_images: int
    n_patches: int
    feature_grid: Tuple[int, int]
    created: str = field(default_factory=now_iso)
    good_folder: str = ""
    #: Sizes and colour modes of the good images; None for a model file written before they were recorded.
    good_parts: Optional[GoodPartsLook] = None

    def is_ng(self, score: float) -> bool:
        return self.verdict(score) == "NG"

    def verdict(self, score: float) -> str:
        return verdict_of(score, self.threshold)

    def with_threshold(self, threshold: float) -> "PatchCoreModel":
        """The same model with a calibrated threshold (the bank is shared, not copied)."""
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, not {threshold}")
        return replace(self, threshold=float(threshold))

    def anomaly_map(self, patch_scores: np.ndarray, original_hw: Tuple[int, int]) -> np.ndarray:
        """``(h, w)`` patch distances -> ``(H, W)`` float32 anomaly map on the original image.

        Blurred at the network's input size, then mapped back: the map an inspection gives. A caller
        that keeps many results keeps their patch scores (28 x 28 floats, 3 KB) and calls this for the
        one it shows, instead of keeping every full-size map.

        >>> model.anomaly_map(inspection.patch_scores, (480, 640)).shape  # doctest: +SKIP
        (480, 640)
        """
        prep = self.preprocessing
        scores = np.asarray(patch_scores, np.float32)
        return map_to_original(anomaly_map(scores, map_box_size(scores.shape, prep), self.config.sigma), original_hw, prep)
