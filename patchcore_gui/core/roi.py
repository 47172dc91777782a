"""The region of interest: which pixels of a part are inspected and which are ignored.

A person draws it on a good part, so it is kept in that image's pixels: ``(H, W)`` uint8, 255 inspected,
0 ignored (a black-and-white picture of it). Every inspected image gets it scaled to its own size. The
network sees patches, not pixels: the mask goes through the very preprocessing the image goes through
(:func:`patch_shares`), and a patch counts when at least :data:`INSIDE_SHARE` of its cell on the network
input lies inside the region (when a tiny region holds no such patch, the patches most inside it count).
Patches that do not count add nothing to the image score, and the anomaly map there is held at the good
parts' floor (:meth:`RegionOfInterest.hold_outside`), so no defect region is ever outlined outside.

Changing the region on a built model, without a rebuild: a model records, for every held-out good
image, each patch's nearest-bank distance and the image score that patch gives when it is the
image's worst (:class:`GoodPatchRecord`; the paper's re-weighting factor is one number per patch). A
masked image score is the latter at the arg-max of the former over the counted patches, exactly what
inspecting that image with the mask gives, so the held-out scores, the default threshold and the map
scale are recomputed exactly (:func:`recalibrate`). A model without the record (a file written before
it) keeps the whole image's held-out scores and threshold; only new parts are scored with the mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .calibration import MapScale, learn_map_scale, learned_threshold
from .config import PatchCoreConfig
from .errors import ImageReadError, PatchCoreError
from .geometry import map_box_size, original_to_grid
from .images import Preprocessing, read_image
from .memory_bank import MemoryBank
from .progress import CancelToken, ProgressFn, check, report
from .scoring import anomaly_map, patch_image_scores

if TYPE_CHECKING:  # the model holds a region of interest, so this module cannot import it at run time
    from .model import PatchCoreModel

#: A patch counts towards the score when at least this share of its cell lies inside the region.
INSIDE_SHARE = 0.5
#: A mask picture may have this share of pixels neither clearly black nor clearly white (anti-aliased edges).
_GREY_ALLOWED = 0.02
#: A mask given at another size than the good parts is scaled to them when its proportions differ by less.
_ASPECT_SLACK = 0.01

INSPECTED, IGNORED = 255, 0


class RoiError(PatchCoreError):
    """A region of interest that cannot be used (unreadable file, not black and white, wrong size, empty)."""


def patch_shares(inside: np.ndarray, prep: Preprocessing, grid_hw: Tuple[int, int]) -> np.ndarray:
    """``(H, W)`` bool inspected pixels of an image -> ``(h, w)`` float32 share of each patch inside.

    The mask takes the image's own way to the network (:func:`~.geometry.original_to_grid`: resize,
    crop, padding, tiles), so it keeps matching the features whatever the input geometry; a cell the
    picture does not reach (padding) counts as outside.

    >>> prep = Preprocessing(resize=64)
    >>> left = np.zeros((100, 200), bool); left[:, :100] = True
    >>> patch_shares(left, prep, (8, 8))[0].round(2).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    shares = original_to_grid(inside, prep)
    if shares.shape != tuple(grid_hw):
        shares = cv2.resize(shares, (int(grid_hw[1]), int(grid_hw[0])), interpolation=cv2.INTER_AREA)
    return np.clip(shares, 0.0, 1.0)


def counted_patches(shares: np.ndarray) -> np.ndarray:
    """``(h, w)`` shares -> ``(h, w)`` bool: the patches that count (the rule in the module note).

    >>> counted_patches(np.array([[0.1, 0.6], [0.5, 0.0]])).tolist()
    [[False, True], [True, False]]
    >>> counted_patches(np.array([[0.1, 0.3], [0.0, 0.0]])).tolist()
    [[False, True], [False, False]]
    """
    counted = shares >= INSIDE_SHARE
    if not counted.any() and shares.max() > 0:
        counted = shares >= shares.max()
    return counted


@dataclass(frozen=True, eq=False)
class RegionOfInterest:
    """The inspected pixels of a good part, ``mask (H, W)`` uint8 (255 inspected, 0 ignored).

    Its scalings to image sizes and patch grids are kept (one camera gives one size), so a line pays
    for them once. Compared by content.

    >>> top = np.zeros((4, 4), bool); top[:2] = True
    >>> roi = RegionOfInterest.from_pixels(top)
    >>> int(roi.pixels_at((8, 8)).sum()), roi.share
    (32, 0.5)
    """

    mask: np.ndarray
    _pixels: Dict[Tuple[int, int], np.ndarray] = field(init=False, default_factory=dict, repr=False, compare=False)
    _patches: Dict[tuple, np.ndarray] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        mask = np.asarray(self.mask)
        if mask.ndim != 2 or mask.dtype != np.uint8 or mask.size == 0:
            raise ValueError(f"a region of interest is an (H, W) uint8 mask, not {mask.shape} {mask.dtype}")
        if not np.isin(mask, (IGNORED, INSPECTED)).all():
            raise ValueError("a region of interest holds only 0 (ignored) and 255 (inspected)")
        if not mask.any():
            raise ValueError("a region of interest must inspect something")
        mask = np.ascontiguousarray(mask)
        mask.setflags(write=False)
        object.__setattr__(self, "mask", mask)

    @classmethod
    def from_pixels(cls, inspected: np.ndarray) -> "RegionOfInterest":
        """From ``(H, W)`` bool, True where inspected."""
        return cls(np.where(np.asarray(inspected, bool), INSPECTED, IGNORED).astype(np.uint8))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegionOfInterest) and np.array_equal(self.mask, other.mask)

    __hash__ = None  # type: ignore[assignment]

    @property
    def size(self) -> Tuple[int, int]:
        """(height, width) of the good part it was drawn on."""
        return int(self.mask.shape[0]), int(self.mask.shape[1])

    @property
    def share(self) -> float:
        """Share of the part's pixels inspected, 0..1."""
        return float(np.count_nonzero(self.mask)) / self.mask.size

    @property
    def covers_everything(self) -> bool:
        return bool(self.mask.all())

    def pixels_at(self, image_hw: Tuple[int, int]) -> np.ndarray:
        """``(H, W)`` bool: the inspected pixels of an image of that size (the mask scaled to it)."""
        key = (int(image_hw[0]), int(image_hw[1]))
        if key not in self._pixels:
            if key == self.size:
                pixels = self.mask > 0
            else:
                scaled = cv2.resize(self.mask.astype(np.float32) / INSPECTED, (key[1], key[0]),
                                    interpolation=cv2.INTER_AREA if key[0] < self.size[0] else cv2.INTER_LINEAR)
                pixels = scaled >= 0.5
            pixels.setflags(write=False)
            self._pixels[key] = pixels
        return self._pixels[key]

    def patches_at(self, image_hw: Tuple[int, int], prep: Preprocessing, grid_hw: Tuple[int, int]) -> np.ndarray:
        """``(h, w)`` bool: the patches that count for an image of ``image_hw`` (raises :class:`RoiError`
        when the region lies wholly where the network does not look, e.g. outside a centre crop)."""
        key = (int(image_hw[0]), int(image_hw[1]), prep, int(grid_hw[0]), int(grid_hw[1]))
        if key not in self._patches:
            shares = patch_shares(self.pixels_at(image_hw), prep, grid_hw)
            if not shares.any():
                raise RoiError(f"the region of interest lies outside what the network sees of a "
                               f"{image_hw[1]} x {image_hw[0]} image")
            counted = counted_patches(shares)
            counted.setflags(write=False)
            self._patches[key] = counted
        return self._patches[key]

    def hold_outside(self, patch_scores: np.ndarray, image_hw: Tuple[int, int], prep: Preprocessing,
                     floor: float) -> np.ndarray:
        """``(h, w)`` patch distances with the patches that do not count set to ``floor``."""
        counted = self.patches_at(image_hw, prep, patch_scores.shape[:2])
        return np.where(counted, patch_scores, np.float32(floor)).astype(np.float32)

    def hold_outside_pixels(self, full_map: np.ndarray, floor: float) -> np.ndarray:
        """``(H, W)`` map on the image with the ignored pixels set to ``floor``."""
        return np.where(self.pixels_at(full_map.shape[:2]), full_map, np.float32(floor)).astype(np.float32)


@dataclass(frozen=True)
class GoodPatchRecord:
    """Per held-out good image, what a changed region of interest needs to score it again.

    The images' patch grids may differ (an aspect-keeping geometry on parts of several sizes), so the
    patches lie one image after another, each grid row by row: ``distances (P,)`` float32, each patch's
    nearest-bank distance; ``scores (P,)`` float32, the image score each patch gives as the image's
    worst (its distance re-weighted); ``grids (n, 2)`` int32, each image's grid (h, w), with
    ``sum(h * w) == P``; ``sizes (n, 2)`` int32, each image's (height, width) in pixels.
    """

    distances: np.ndarray
    scores: np.ndarray
    grids: np.ndarray
    sizes: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.sizes)
        if (self.distances.ndim != 1 or self.scores.shape != self.distances.shape or self.sizes.shape != (n, 2)
                or self.grids.shape != (n, 2) or int(np.prod(self.grids, axis=1).sum()) != len(self.distances)):
            raise ValueError(f"good patch record shapes {self.distances.shape}, {self.scores.shape}, "
                             f"{self.grids.shape}, {self.sizes.shape} do not fit together")

    def __len__(self) -> int:
        return len(self.sizes)

    @classmethod
    def joined(cls, records: Sequence["GoodPatchRecord"]) -> "GoodPatchRecord":
        """One record of the images of ``records``, one record's images after another."""
        return cls(distances=np.concatenate([r.distances for r in records]),
                   scores=np.concatenate([r.scores for r in records]),
                   grids=np.concatenate([r.grids for r in records]), sizes=np.concatenate([r.sizes for r in records]))

    def image(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Image ``index``'s ``(h, w)`` distances and ``(h, w)`` scores."""
        cells = np.prod(self.grids, axis=1)
        start = int(cells[:index].sum())
        height, width = (int(v) for v in self.grids[index])
        patches = slice(start, start + height * width)
        return self.distances[patches].reshape(height, width), self.scores[patches].reshape(height, width)

    def image_scores(self, counted: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """``(n,)`` float32 image scores, over the counted patches of each image (``(h, w)`` bool each) or all."""
        out = np.empty(len(self), np.float32)
        for index in range(len(self)):
            distances, scores = self.image(index)
            candidates = distances if counted is None else np.where(counted[index], distances, -np.inf)
            out[index] = scores.flat[int(np.argmax(candidates))]
        return out


def record_good_patches(holdout_grids: Sequence[np.ndarray], sizes: Sequence[Tuple[int, int]], bank: MemoryBank,
                        neighbours: int, images_at_once: int = 32, progress: Optional[ProgressFn] = None,
                        cancel: Optional[CancelToken] = None) -> GoodPatchRecord:
    """The :class:`GoodPatchRecord` of the held-out good images' ``(h, w, D)`` grids and their sizes.

    Images go ``images_at_once`` together, so a bank vector that is the nearest for patches of
    several of them has its neighbours searched once. Reports stage "calibration" (the fit's
    threshold is learned from this record).
    """
    distances: List[np.ndarray] = []
    scores: List[np.ndarray] = []
    for first in range(0, len(holdout_grids), images_at_once):
        check(cancel)
        group = holdout_grids[first:first + images_at_once]
        vectors = np.concatenate([grid.reshape(-1, grid.shape[-1]) for grid in group])
        group_distances, group_scores = patch_image_scores(vectors, bank, neighbours)
        distances.append(group_distances)
        scores.append(group_scores)
        report(progress, first + len(group), len(holdout_grids), "calibration")
    empty = np.zeros(0, np.float32)
    return GoodPatchRecord(distances=np.concatenate(distances or [empty]).astype(np.float32),
                           scores=np.concatenate(scores or [empty]).astype(np.float32),
                           grids=np.asarray([grid.shape[:2] for grid in holdout_grids], np.int32).reshape(-1, 2),
                           sizes=np.asarray(sizes, np.int32).reshape(-1, 2))


@dataclass(frozen=True)
class Recalibration:
    """The held-out good scores ``(n,)``, the default threshold and the map scale under a region of interest."""

    good_scores: np.ndarray
    default_threshold: float
    map_scale: MapScale


def recalibrate(record: GoodPatchRecord, roi: Optional[RegionOfInterest], prep: Preprocessing,
                config: PatchCoreConfig, floor: float) -> Recalibration:
    """Score the held-out good images again under ``roi`` (None: the whole image), as the fit would have.

    The default threshold follows from the new scores by the calibration's rule; the map scale's ratio
    is learned again from the masked maps, its floor (a good part's typical map value) is kept.
    """
    counted = None
    if roi is not None:
        counted = [roi.patches_at((int(size[0]), int(size[1])), prep, (int(grid[0]), int(grid[1])))
                   for size, grid in zip(record.sizes, record.grids)]
    scores = record.image_scores(counted)
    peaks = np.empty(len(scores))
    for index in range(len(record)):
        distances, _ = record.image(index)
        held = distances if counted is None else np.where(counted[index], distances, np.float32(floor))
        peaks[index] = float(anomaly_map(held, map_box_size(held.shape, prep), config.sigma).max())
    scale = learn_map_scale(scores, peaks, np.full(len(scores), floor))
    return Recalibration(good_scores=scores,
                         default_threshold=learned_threshold(scores, config),
                         map_scale=MapScale(ratio=scale.ratio, floor=floor))


def read_roi_image(path: Path) -> RegionOfInterest:
    """A black-and-white picture (white inspected, black ignored; transparent counts as black) -> region.

    Raises :class:`RoiError` naming the file: unreadable, not black and white, or all black.
    """
    name = Path(path).name
    try:
        pixels = read_image(path).astype(np.int16)
    except ImageReadError as exc:
        raise RoiError(f"cannot use mask '{name}': {str(exc).split(': ', 1)[-1]}") from None
    grey = pixels.mean(axis=2)
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 48
    unclear = coloured | ((grey > 64) & (grey < 192))
    if unclear.mean() > _GREY_ALLOWED:
        raise RoiError(f"cannot use mask '{name}': not black and white ({100 * unclear.mean():.0f}% of its pixels "
                       f"are grey or coloured; white = inspected, black = ignored)")
    inspected = (grey >= 128) & ~coloured
    if not inspected.any():
        raise RoiError(f"cannot use mask '{name}': it is all black, so nothing would be inspected "
                       f"(white = inspected, black = ignored)")
    return RegionOfInterest.from_pixels(inspected)


def fit_to_good_parts(roi: RegionOfInterest, name: str, good_height: Optional[Tuple[int, int]],
                      good_width: Optional[Tuple[int, int]]) -> RegionOfInterest:
    """The size rule for a mask given as a picture: drawn on a good part, it has the good parts' size.

    One size of good parts: the mask has it, or the same proportions (within 1%; then it is scaled to
    it). Good parts of several sizes: the mask's proportions lie within theirs. Unknown good parts
    (an old model file): any size, scaled to each image. Otherwise :class:`RoiError` naming ``name``.
    """
    if good_height is None or good_width is None:
        return roi
    height, width = roi.size
    aspect = width / height
    if good_height[0] == good_height[1] and good_width[0] == good_width[1]:
        good = (good_height[0], good_width[0])
        if (height, width) == good:
            return roi
        if abs(aspect / (good[1] / good[0]) - 1.0) <= _ASPECT_SLACK:
            return RegionOfInterest.from_pixels(roi.pixels_at(good))
        raise RoiError(f"cannot use mask '{name}': it is {width} x {height} pixels but the good parts are "
                       f"{good[1]} x {good[0]}; draw it on a good part (same size, or the same proportions)")
    low, high = good_width[0] / good_height[1], good_width[1] / good_height[0]
    if low * (1 - _ASPECT_SLACK) <= aspect <= high * (1 + _ASPECT_SLACK):
        return roi
    raise RoiError(f"cannot use mask '{name}': its proportions ({width} x {height}) are not those of the good parts "
                   f"({good_width[0]}-{good_width[1]} x {good_height[0]}-{good_height[1]}); draw it on a good part")


def change_summary(before: "PatchCoreModel", after: "PatchCoreModel") -> str:
    """What setting or clearing a region recomputed, for people, in one line (the CLI and the window say it)."""
    region = (f"region of interest: {100 * after.roi.share:.0f}% of the part inspected" if after.roi is not None
              else "region of interest cleared: the whole part is inspected")
    if not after.recalibrated:
        return (f"{region}; this model file has no record of its held-out parts' patches (written before it was kept), "
                f"so new parts are scored in the region but the {len(after.good_scores)} held-out good scores and the "
                f"threshold {after.threshold:.4f} are still those of the whole image: rebuild to calibrate them on it")
    if before.threshold != before.default_threshold:
        threshold = (f"threshold {after.threshold:.4f} kept (set by hand; the default would be "
                     f"{after.default_threshold:.4f})")
    else:
        threshold = f"default threshold {before.default_threshold:.4f} -> {after.threshold:.4f}"
    return (f"{region}; the {len(after.good_scores)} held-out good scores recomputed (highest "
            f"{float(after.good_scores.max()):.4f}), {threshold}")
