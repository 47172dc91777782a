"""A fitted PatchCore model: everything needed to inspect, as plain data (no network inside)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Optional, Tuple

import numpy as np

from .calibration import MapScale, threshold_caution
from .config import PatchCoreConfig
from .geometry import Preprocessing, map_box_size, map_to_original, place
from .likeness import GoodPartsLook
from .roi import GoodPatchRecord, RegionOfInterest, recalibrate
from .memory_bank import EXACT_SEARCH, SearchIndex
from .scoring import anomaly_map
from .verdict import verdict_of


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Teaching:
    """Patches added to the memory bank from one image a person said is good (core/teaching.py).

    ``patches`` is ``(n, D)`` float32, possibly empty when the bank already covered the image;
    ``file`` is the image's name, ``taught_at`` ISO 8601 UTC, ``image_sha256`` its content's sha256.
    """

    file: str
    taught_at: str
    patches: np.ndarray
    image_sha256: str = ""


@dataclass(frozen=True)
class PatchCoreModel:
    """The memory bank, the calibration and the facts of how both were made.

    ``memory_bank`` is ``(M, D)`` float32; ``good_scores`` ``(n_holdout,)`` float32 holds the image
    scores of good images that were kept out of the bank. ``threshold`` is the one the line uses:
    a score above it is NG. ``review_from``, when set (at or below the threshold), starts the review
    band: a score above it and at or below the threshold is REVIEW, for a person to look at.
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
    #: Start of the review band (OK / REVIEW / NG); None for none, as in a file written before it existed.
    review_from: Optional[float] = None
    #: A part whose every defect region is smaller than this many pixels of its image is OK; 0: every region counts.
    min_defect_area: float = 0.0
    #: Millimetres per image pixel, so areas read (and are entered) in mm²; None when unknown.
    pixel_size_mm: Optional[float] = None
    #: The inspected pixels (core/roi.py); None inspects the whole image.
    roi: Optional[RegionOfInterest] = None
    #: Per-patch distances and scores of the held-out good images, so a changed ``roi`` recalibrates
    #: exactly; None for a model file written before they were recorded.
    good_patches: Optional[GoodPatchRecord] = None
    #: Largest distance from a bank-building patch to its nearest coreset member, measured on a sample at
    #: fit time (core/teaching.py); None for a file written before it was recorded.
    coverage_radius: Optional[float] = None
    #: Images taught as good since the fit, oldest first; the bank searched is the coreset and their patches.
    teachings: Tuple[Teaching, ...] = ()
    #: How the bank is searched (exact for files written before the choice existed) and, for an IVF
    #: search, its ``(lists, D)`` float32 cell centres, so every machine builds the same index.
    search: SearchIndex = EXACT_SEARCH
    search_centroids: Optional[np.ndarray] = None

    @property
    def taught_patches(self) -> int:
        """How many patches the teachings added (counted, not concatenated as :meth:`bank_vectors` does)."""
        return sum(len(teaching.patches) for teaching in self.teachings)

    def bank_vectors(self) -> np.ndarray:
        """``(M + T, D)`` float32: the fitted coreset followed by every taught patch in teaching order (the
        coreset itself, not a copy, when nothing was taught)."""
        taught = [teaching.patches for teaching in self.teachings if len(teaching.patches)]
        if not taught:
            return self.memory_bank
        return np.concatenate([self.memory_bank, *taught]).astype(np.float32, copy=False)

    def __post_init__(self) -> None:
        if self.review_from is not None and not (np.isfinite(self.review_from) and self.review_from <= self.threshold):
            raise ValueError(f"the review band must start at or below the threshold {self.threshold:.4f}, "
                             f"not at {self.review_from}")

    def is_ng(self, score: float, largest_region: Optional[float] = None) -> bool:
        return self.verdict(score, largest_region) == "NG"

    def verdict(self, score: Optional[float], largest_region: Optional[float] = None) -> str:
        """The verdict of a part scoring ``score`` whose largest defect region has ``largest_region`` pixels
        (None: not measured, which never passes a part under a minimum defect area)."""
        return verdict_of(score, self.threshold, review_from=self.review_from, largest_region=largest_region,
                          min_defect_area=self.min_defect_area)

    def with_defect_size(self, min_area_px: float, pixel_size_mm: Optional[float] = None) -> "PatchCoreModel":
        """The same model with another minimum defect area (pixels) and pixel size (mm, None: unknown)."""
        if not (np.isfinite(min_area_px) and min_area_px >= 0):
            raise ValueError(f"the minimum defect area must be a number of pixels >= 0, not {min_area_px}")
        if pixel_size_mm is not None and not (np.isfinite(pixel_size_mm) and pixel_size_mm > 0):
            raise ValueError(f"the pixel size must be a positive number of millimetres, not {pixel_size_mm}")
        return replace(self, min_defect_area=float(min_area_px),
                       pixel_size_mm=None if pixel_size_mm is None else float(pixel_size_mm))

    def with_threshold(self, threshold: float) -> "PatchCoreModel":
        """The same model with a calibrated threshold (the bank is shared, not copied).

        A review band that started above the new threshold is pulled down to it (an empty band: the
        threshold moved through it, and the band stays where the person can widen it again).
        """
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, not {threshold}")
        review = None if self.review_from is None else min(self.review_from, float(threshold))
        return replace(self, threshold=float(threshold), review_from=review)

    def with_review_band(self, review_from: Optional[float]) -> "PatchCoreModel":
        """The same model with its review band starting at ``review_from`` (None: no band, OK / NG only).

        >>> model.with_review_band(model.threshold - 2.0).verdict(model.threshold - 1.0)  # doctest: +SKIP
        'REVIEW'

        A band above the threshold (or not finite) is refused by the model's own check (``__post_init__``).
        """
        return replace(self, review_from=None if review_from is None else float(review_from))

    def with_region_of_interest(self, roi: Optional[RegionOfInterest]) -> "PatchCoreModel":
        """The same bank inspecting only ``roi`` (None: the whole image), without a rebuild.

        With the held-out record (:attr:`good_patches`) the held-out good scores, the default threshold
        and the map scale are recomputed exactly as a fit with this region would give them; a threshold
        at its default follows the new default, one set by hand stays where the user put it. Without the
        record they stay those of the whole image (:attr:`recalibrated` tells which). Raises
        :class:`~.roi.RoiError` for a region that holds no patch of a good part.
        """
        if roi is not None:
            # refuses a region with no patch, on the grid a part of the region's size has in this geometry
            roi.patches_at(roi.size, self.preprocessing, place(roi.size, self.preprocessing).grid_hw)
        if self.good_patches is None:
            return replace(self, roi=roi)
        fresh = recalibrate(self.good_patches, roi, self.preprocessing, self.config, self.map_scale.floor)
        by_hand = self.threshold != self.default_threshold
        return replace(self, roi=roi, good_scores=fresh.good_scores, default_threshold=fresh.default_threshold,
                       threshold=self.threshold if by_hand else fresh.default_threshold, map_scale=fresh.map_scale)

    @property
    def held_out_text(self) -> str:
        """How the good images were used, for the model's summaries: "152 held out to calibrate" and, where
        they joined the bank too (each half calibrated against the other's patches), "also in the bank"."""
        text = f"{len(self.good_scores)} held out to calibrate"
        return text + ", also in the bank" if self.config.bank_from_all else text

    @property
    def threshold_caution(self) -> str:
        """Why the default threshold is cautious when too few good images were held out, else ""."""
        return threshold_caution(len(self.good_scores), self.config)

    @property
    def recalibrated(self) -> bool:
        """Whether a changed region of interest recomputes the held-out scores and the default threshold."""
        return self.good_patches is not None

    def anomaly_map(self, patch_scores: np.ndarray, original_hw: Tuple[int, int]) -> np.ndarray:
        """``(h, w)`` patch distances -> ``(H, W)`` float32 anomaly map on the original image.

        Blurred at the network's input size, then mapped back: the map an inspection gives. Outside the
        region of interest it is held at the good parts' floor (the patches there before the blur, the
        pixels after), so no defect region is found there. A caller
        that keeps many results keeps their patch scores (28 x 28 floats, 3 KB) and calls this for the
        one it shows, instead of keeping every full-size map.

        >>> model.anomaly_map(inspection.patch_scores, (480, 640)).shape  # doctest: +SKIP
        (480, 640)
        """
        prep, roi, floor = self.preprocessing, self.roi, self.map_scale.floor
        scores = np.asarray(patch_scores, np.float32)
        if roi is not None:
            scores = roi.hold_outside(scores, original_hw, prep, floor)
        full = map_to_original(anomaly_map(scores, map_box_size(scores.shape, prep), self.config.sigma),
                               original_hw, prep)
        return full if roi is None else roi.hold_outside_pixels(full, floor)
