"""PatchCore fit and inspect: the orchestration over features, coreset, bank, scoring, calibration.

``fit`` turns a list of good images into a :class:`PatchCoreModel`; an :class:`Inspector` holds a
model with its network loaded and its bank indexed and turns images into :class:`Inspection` results.
Both stream images in batches, report progress and honour a cancel token between batches.
"""

from __future__ import annotations

import time
from collections import deque
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import torch

from .atomic import PathLike
from .backbones import FeatureBackbone, load_backbone
from .calibration import calibrate_scored, holdout_split
from .config import PatchCoreConfig
from .coreset import coreset_size, greedy_coreset
from .coverage import sampled_coverage_radius
from .errors import DatasetError, ImageReadError
from .features import PatchFeatureExtractor
from .geometry import Placement, Preprocessing, network_inputs, place, stitch
from .images import read_image, sample_bits_of
from .memory import check_feature_memory, give_back_freed_memory
from .likeness import describe_good_parts, part_look
from .memory_bank import MemoryBank, SearchIndex
from .model import PatchCoreModel
from .progress import CancelToken, ProgressFn, check, offset_progress, report
from .regions import DefectRegions, find_defect_regions
from .roi import GoodPatchRecord, RegionOfInterest, RoiError, record_good_patches
from .scoring import score_grids

T = TypeVar("T")


@dataclass(frozen=True)
class Inspection:
    """One inspected image: its score and its anomaly map at the original image's size.

    ``anomaly_map`` is ``(H, W)`` float32 in the same units as ``score`` after the model's map scale.
    """

    score: float
    anomaly_map: np.ndarray
    patch_scores: np.ndarray

    def defect_mask(self, model: PatchCoreModel, threshold: Optional[float] = None) -> np.ndarray:
        """``(H, W)`` bool: the regions whose map value is above the threshold drawn on the map."""
        level = model.map_scale.map_threshold(model.threshold if threshold is None else threshold)
        return self.anomaly_map > level

    def defect_regions(self, model: PatchCoreModel, threshold: Optional[float] = None) -> DefectRegions:
        """The connected areas of :meth:`defect_mask`, largest first, in pixels of the original image."""
        return find_defect_regions(self.anomaly_map, self.defect_mask(model, threshold), model.map_scale.ratio)

    def verdict(self, model: PatchCoreModel, threshold: Optional[float] = None,
                regions: Optional[DefectRegions] = None) -> str:
        """The verdict by ``model`` (at ``threshold``, default the model's), its minimum defect area judged on
        this part's regions (``regions`` if already found at that threshold, else found here when needed)."""
        judge = model if threshold is None else model.with_threshold(threshold)
        if regions is None and judge.min_defect_area > 0:
            regions = self.defect_regions(judge)
        return judge.verdict(self.score, None if regions is None else regions.largest_area)


@dataclass(frozen=True)
class ImageResult:
    """The outcome for one file of a batch: an inspection, or the one-line reason it failed."""

    path: Path
    inspection: Optional[Inspection] = None
    error: Optional[str] = None
    #: This image's share of its batch's time (reading, network, search, map); None for an error.
    seconds: Optional[float] = None


@dataclass(frozen=True)
class FitResult:
    model: PatchCoreModel
    skipped: List[str] = field(default_factory=list)
    seconds: Dict[str, float] = field(default_factory=dict)


def _prefetch(items: Sequence[T], load: Callable[[T], object], depth: int, reader: ThreadPoolExecutor,
              size: Callable[[object], int] = lambda loaded: 0, budget: int = 0) -> Iterator[Tuple[T, object]]:
    """Yield ``(item, load(item) or the exception)`` in order while the next few load on ``reader``'s thread.

    Decoding and resizing release the GIL, so they overlap with the network; the read-ahead is bounded
    so a large folder never sits in memory at once: at most ``depth`` items, and, with a ``budget``, as many
    as fit in it at the ``size`` (bytes) of the last one loaded, but always one. A part of many tiles is
    megabytes of network input: sixteen of them ahead held 1.4 GB (docs/benchmarks.md, "Memory").
    """
    def guarded(item: T) -> object:
        try:
            return load(item)
        except Exception as exc:  # handed to the consumer, who decides what a failure means
            return exc

    ahead = 1 if budget else depth  # until the first item's size is known
    pending: Deque[Tuple[T, Future]] = deque()
    iterator = iter(items)

    def top_up() -> None:
        while len(pending) < ahead:
            nxt = next(iterator, _END)
            if nxt is _END:
                return
            pending.append((nxt, reader.submit(guarded, nxt)))

    try:
        top_up()
        while pending:
            item, future = pending.popleft()
            loaded = future.result()
            if budget and not isinstance(loaded, BaseException):
                ahead = max(1, min(depth, budget // max(1, size(loaded))))
            top_up()
            yield item, loaded
    finally:  # a caller that stops early (cancelled) leaves nothing to load on the shared thread
        for _, future in pending:
            future.cancel()


_END = object()


def _describe_failure(path: Path, exc: BaseException) -> str:
    if isinstance(exc, ImageReadError):
        return str(exc)
    return f"cannot read '{path.name}': {type(exc).__name__}: {exc}"


def preprocessing_for(backbone: FeatureBackbone, config: PatchCoreConfig) -> Preprocessing:
    """How ``config`` makes images into ``backbone``'s input (its normalisation, its patch grid's stride)."""
    return Preprocessing(resize=config.resize, crop=config.crop, mean=backbone.spec.mean, std=backbone.spec.std,
                         geometry=config.geometry, scale=config.scale, tile=config.tile, overlap=config.overlap,
                         grid_stride=backbone.spec.layers[backbone.layers[0]].stride)


#: The most input pixels one network batch holds: 8 inputs of 224 x 224. Eight 384 px tiles at once took
#: about 1.5x as long per tile as two at a time (their activations outgrow the cache), while 224 px
#: inputs ran as fast in eights as in fours or twos (docs/benchmarks.md, "Tiles cut to the part; the
#: network batch; one search for the held-out images").
NETWORK_BATCH_PIXELS = 8 * 224 * 224
#: The network inputs read ahead of the network: four full batches (float32, three channels), 19 MB. Parts
#: of one input each stay 16 ahead as before; a part of 70 tiles (86 MB) one.
READ_AHEAD_BYTES = 4 * NETWORK_BATCH_PIXELS * 3 * 4


class _FeatureStream:
    """Images -> patch feature grids, in batches, with bounded read-ahead.

    An image may be several network inputs (tiles): a network batch holds the tiles of whole images,
    and each image's tile grids are stitched into its one grid of scored patch cells.

    ``preprocessing`` is how images become the network input: from the backbone and config when
    fitting, from the model when inspecting, so inspection repeats exactly what the fit did.
    """

    def __init__(self, backbone: FeatureBackbone, config: PatchCoreConfig, preprocessing: Preprocessing) -> None:
        self.config = config
        self.preprocessing = preprocessing
        self.extractor = PatchFeatureExtractor(backbone, config)
        # One thread reads ahead for every call: a thread started per call (a line inspects a part a call)
        # leaves OpenCV's data for that thread behind when it ends, about 0.9 KB a part for as long as the
        # line runs (docs/benchmarks.md, "A shift-long run of the window's line"). Callers sharing an
        # Inspector take turns on it.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="image reader")

    def _load(self, path: Path) -> Tuple[np.ndarray, Placement]:
        return network_inputs(read_image(path, self.preprocessing.sample_bits), self.preprocessing)

    def grid_of(self, tiles: np.ndarray, placement: Placement) -> np.ndarray:
        """One image's ``(n_tiles, 3, T, T)`` inputs -> its ``(h, w, D)`` grid of scored cells."""
        return stitch(self._extract(tiles), placement)

    def _inputs_per_batch(self, tiles: np.ndarray) -> int:
        """How many inputs of this size go through the network together: ``batch_size``, fewer where
        their pixels would pass NETWORK_BATCH_PIXELS."""
        return max(1, min(self.config.batch_size, NETWORK_BATCH_PIXELS // (tiles.shape[2] * tiles.shape[3])))

    def _extract(self, tiles: np.ndarray) -> np.ndarray:
        """``(n, 3, T, T)`` -> ``(n, t, t, D)``, at most a batch of inputs through the network at once."""
        size = self._inputs_per_batch(tiles)
        if len(tiles) <= size:
            return self.extractor.extract(torch.from_numpy(tiles))
        return np.concatenate([self.extractor.extract(torch.from_numpy(tiles[i:i + size]))
                               for i in range(0, len(tiles), size)])

    def batches(self, paths: Sequence[Path], cancel: Optional[CancelToken]
                ) -> Iterator[List[Tuple[Path, Union[Tuple[np.ndarray, Tuple[int, int]], str]]]]:
        """Yield lists of ``(path, (grid (h, w, D), original (H, W)))`` or ``(path, error line)``, in order:
        the images of one network batch together, an unreadable file on its own."""
        batch: List[Tuple[Path, np.ndarray, Placement]] = []

        def flush() -> List[Tuple[Path, Union[Tuple[np.ndarray, Tuple[int, int]], str]]]:
            grids = self._extract(np.concatenate([tiles for _, tiles, _ in batch]))
            done, start = [], 0
            for path, tiles, placement in batch:
                done.append((path, (stitch(grids[start:start + len(tiles)], placement), placement.original_hw)))
                start += len(tiles)
            batch.clear()
            return done  # type: ignore[return-value]

        for path, loaded in _prefetch(list(paths), self._load, depth=2 * self.config.batch_size, reader=self._reader,
                                      size=lambda loaded: loaded[0].nbytes, budget=READ_AHEAD_BYTES):
            check(cancel)
            if isinstance(loaded, BaseException):
                # yield what is already read first so results stay in input order
                if batch:
                    yield flush()
                yield [(path, _describe_failure(path, loaded))]
                continue
            tiles, placement = loaded  # type: ignore[misc]
            if batch and sum(len(item[1]) for item in batch) + len(tiles) > self._inputs_per_batch(tiles):
                yield flush()
            batch.append((path, tiles, placement))
            if sum(len(item[1]) for item in batch) >= self._inputs_per_batch(tiles):
                yield flush()
        if batch:
            check(cancel)
            yield flush()

    def grids(self, paths: Sequence[Path], cancel: Optional[CancelToken]
              ) -> Iterator[Tuple[Path, Union[Tuple[np.ndarray, Tuple[int, int]], str]]]:
        """:meth:`batches`, one image at a time."""
        for batch in self.batches(paths, cancel):
            yield from batch


@dataclass(frozen=True)
class GoodFeatures:
    """The patch feature grids of the readable good images, in input order, and what was skipped."""

    grids: List[Optional[np.ndarray]]
    skipped: List[str]
    preprocessing: Preprocessing
    #: (height, width) of each readable image, in the order of ``grids``.
    sizes: List[Tuple[int, int]] = field(default_factory=list)


def extract_good_features(paths: Sequence[Path], config: PatchCoreConfig, backbone: FeatureBackbone,
                          progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> GoodFeatures:
    """Stage "features" of :func:`fit`: one ``(h, w, D)`` grid per readable image, unreadable ones listed.

    Checks after the first image that the features of all of them fit in memory, so a huge folder
    is refused at once rather than after an hour. The good parts' sample depth (a 12-bit camera's
    16-bit files) is found first and kept in the preprocessing, so every part is read as they were.
    """
    report(progress, 0, len(paths), "features")
    prep = replace(preprocessing_for(backbone, config), sample_bits=sample_bits_of(paths, cancel))
    stream = _FeatureStream(backbone, config, prep)
    grids: List[Optional[np.ndarray]] = []
    sizes: List[Tuple[int, int]] = []
    skipped: List[str] = []
    for done, (path, outcome) in enumerate(stream.grids(paths, cancel), start=1):
        if isinstance(outcome, str):
            skipped.append(outcome)
        else:
            if not grids:
                grid = outcome[0]
                check_feature_memory(len(paths), _mean_patches(paths, stream.preprocessing, grid.shape[:2]),
                                     grid.shape[2])
            # its own copy: a view would keep its whole network batch alive while any image of it is
            # held out, and then releasing the bank images' grids frees nothing
            grids.append(outcome[0].copy())
            sizes.append((int(outcome[1][0]), int(outcome[1][1])))
            if len(grids) % config.batch_size == 0:
                give_back_freed_memory()
        report(progress, done, len(paths), "features")
    return GoodFeatures(grids, skipped, stream.preprocessing, sizes)


def _mean_patches(paths: Sequence[Path], prep: Preprocessing, first_grid: Tuple[int, int]) -> float:
    """Scored patches per good image, from the files' headers (sizes differ when the aspect is kept);
    the first image's grid when no header can be read."""
    if prep.geometry == "squeeze":
        return float(first_grid[0] * first_grid[1])
    counts = []
    for path in paths:
        look = part_look(path)
        if look is not None:
            rows, cols = place((look.height, look.width), prep).grid_hw
            counts.append(rows * cols)
    return float(np.mean(counts)) if counts else float(first_grid[0] * first_grid[1])


def bank_candidates(grids: List[Optional[np.ndarray]], config: PatchCoreConfig, release: bool = False
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """The ``(N, D)`` patch vectors the coreset is chosen from, and the indices of the held-out grids.

    With ``release`` the bank images' grids are dropped from ``grids`` (set to None) as they are
    copied, so fitting never holds the features of the bank images twice.
    """
    bank_ids, holdout_ids = holdout_split(len(grids), config.calibration_fraction)
    counts = []
    for index in bank_ids:
        grid = grids[index]
        assert grid is not None
        counts.append(grid.shape[0] * grid.shape[1])
    dim = grids[bank_ids[0]].shape[2]  # type: ignore[union-attr]
    # pages of np.empty are only taken as they are written, while each copied grid is given back
    candidates = np.empty((sum(counts), dim), np.float32)
    start = 0
    for row, (index, count) in enumerate(zip(bank_ids, counts)):
        candidates[start:start + count] = grids[index].reshape(count, dim)  # type: ignore[union-attr]
        start += count
        if release:
            grids[index] = None
            if row % config.batch_size == 0:
                give_back_freed_memory()
    return candidates, holdout_ids


def fit(paths: Sequence[PathLike], config: PatchCoreConfig = PatchCoreConfig(), weights: Optional[PathLike] = None,
        progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
        backbone: Optional[FeatureBackbone] = None, good_folder: str = "",
        roi: Optional[RegionOfInterest] = None) -> FitResult:
    """Build a memory bank from good images and calibrate its threshold on held-out good images.

    The paper's steps in order: locally aware patch features of every good image (section 3.1), a
    greedy coreset of the bank images' patches as the memory bank (3.2), then the held-out images
    scored against it (3.3) for the threshold. Unreadable files are skipped and listed in
    ``FitResult.skipped``; fewer than two readable images is a :class:`DatasetError`. Stages
    reported: "features", "coreset", "calibration". The held-out images' per-patch record is kept
    (:class:`~.roi.GoodPatchRecord`), so a region of interest, ``roi`` here or set later, calibrates
    exactly.
    """
    image_paths = [Path(p) for p in paths]
    if len(image_paths) < 2:
        raise DatasetError(f"need at least 2 good images to build a model, got {len(image_paths)}")
    backbone = backbone or load_backbone(config.backbone, config.layers, None if weights is None else Path(weights))
    seconds: Dict[str, float] = {}
    with _timed(seconds, "features"):
        good = extract_good_features(image_paths, config, backbone, progress, cancel)
    grids = good.grids
    if len(grids) < 2:
        first = f" ({good.skipped[0]})" if good.skipped else ""
        raise DatasetError(f"need at least 2 readable good images, found {len(grids)} of {len(image_paths)}{first}")
    n_good_images, feature_grid = len(grids), grids[0].shape[:2]  # type: ignore[union-attr]

    with _timed(seconds, "coreset"):
        candidates, holdout_ids = bank_candidates(grids, config, release=True)
        n_patches = len(candidates)
        bank = _coreset_bank(candidates, config, progress, cancel)
        # what teaching later compares a taught patch's distance with (core/coverage.py)
        coverage = sampled_coverage_radius(candidates, bank, seed=config.seed)
        del candidates

    # every one: only the bank images' grids were released
    holdout_grids = [grid for grid in (grids[index] for index in holdout_ids) if grid is not None]
    holdout_sizes = [good.sizes[index] for index in holdout_ids]
    folds: List[np.ndarray] = [np.arange(len(holdout_grids))]
    fold_banks, final_bank = [bank], bank
    if config.bank_from_all:
        with _timed(seconds, HELD_OUT_STAGE):
            folds, fold_banks, final_bank = _held_out_folds(bank, holdout_grids, config, cancel)
            n_patches += sum(grid.shape[0] * grid.shape[1] for grid in holdout_grids)

    with _timed(seconds, "calibration"):
        report(progress, 0, len(holdout_grids), "calibration")
        records, done = [], 0
        for fold, fold_bank in zip(folds, fold_banks):
            records.append(record_good_patches([holdout_grids[i] for i in fold], [holdout_sizes[i] for i in fold],
                                               fold_bank, config.reweight_neighbours,
                                               progress=offset_progress(progress, done, len(holdout_grids)), cancel=cancel))
            done += len(fold)
        good_patches = records[0] if len(records) == 1 else GoodPatchRecord.joined(records)
        # the record holds every held-out patch's distance and the image score it gives (the line's own
        # arithmetic: tests/core/test_roi.py), so the held-out images are searched once, not twice
        image_scores = good_patches.image_scores()
        calibration = calibrate_scored(((float(image_scores[index]), good_patches.image(index)[0])
                                        for index in range(len(good_patches))),
                                       len(good_patches), config, good.preprocessing, cancel=cancel)
    bank = final_bank

    model = PatchCoreModel(
        config=config, preprocessing=good.preprocessing, layers=backbone.layers,
        weights_sha256=backbone.weights_sha256, memory_bank=bank.vectors, good_scores=calibration.good_scores,
        threshold=calibration.threshold, default_threshold=calibration.threshold, map_scale=calibration.map_scale,
        n_good_images=n_good_images, n_patches=n_patches, feature_grid=feature_grid, good_folder=good_folder,
        good_parts=describe_good_parts(image_paths), good_patches=good_patches, coverage_radius=coverage,
        search=bank.search, search_centroids=bank.centroids,
    )
    if roi is not None:
        model = model.with_region_of_interest(roi)
    return FitResult(model=model, skipped=good.skipped, seconds=seconds)


def _coreset_bank(candidates: np.ndarray, config: PatchCoreConfig, progress: Optional[ProgressFn],
                  cancel: Optional[CancelToken]) -> MemoryBank:
    """Stage "coreset" of :func:`fit`: the memory bank as a greedy coreset of the ``(N, D)`` candidates,
    in their original order, searched as the config asks (the held-out images are then calibrated
    with the very search the line will use)."""
    selected = greedy_coreset(candidates, coreset_size(len(candidates), config.coreset_ratio),
                              projection_dim=config.projection_dim, seed=config.seed, progress=progress, cancel=cancel)
    return MemoryBank(candidates[np.sort(selected)], search=SearchIndex.for_bank(config.search, len(selected)),
                      seed=config.seed)


#: The fit's stage (in ``FitResult.seconds``) that puts the held-out images' patches into the bank.
HELD_OUT_STAGE = "held-out into the bank"


def _held_out_folds(bank: MemoryBank, holdout_grids: Sequence[np.ndarray], config: PatchCoreConfig,
                    cancel: Optional[CancelToken]) -> Tuple[List[np.ndarray], List[MemoryBank], MemoryBank]:
    """The held-out images in two folds (alternate images), the bank each fold is scored against, and the
    final bank: ``bank`` with a greedy coreset of each fold's patches (at the bank's ratio) added.

    Each fold is scored against the bank holding the other fold's coreset, not its own: as a new good part
    is scored against the final bank, which never held its patches. Scored against ``bank`` alone they
    would score higher than new parts do against the final bank, and the threshold would sit too high.
    """
    folds = [index for index in (np.arange(0, len(holdout_grids), 2), np.arange(1, len(holdout_grids), 2))
             if len(index)]
    added = []
    for fold in folds:
        held = np.concatenate([holdout_grids[i].reshape(-1, holdout_grids[i].shape[-1]) for i in fold])
        chosen = greedy_coreset(held, coreset_size(len(held), config.coreset_ratio),
                                projection_dim=config.projection_dim, seed=config.seed, cancel=cancel)
        added.append(held[np.sort(chosen)])

    def bank_of(parts: List[np.ndarray], searched: bool = True) -> MemoryBank:
        vectors = np.concatenate([bank.vectors, *parts])
        # the final bank is stored, not searched, here: the exact search's clusters would be built for
        # nothing (the inspector builds its own); an approximate index keeps its cells, which the model stores
        return MemoryBank(vectors, clustered=None if searched else False,
                          search=SearchIndex.for_bank(config.search, len(vectors)), seed=config.seed)

    fold_banks = [bank_of([vectors for other, vectors in enumerate(added) if other != own]) for own in range(len(folds))]
    return folds, fold_banks, bank_of(added, searched=False)


@contextmanager
def _timed(seconds: Dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[stage] = time.perf_counter() - started


class Inspector:
    """A model made ready to inspect: its backbone loaded (weights checked) and its bank indexed.

    >>> inspector = Inspector(model)                           # doctest: +SKIP
    >>> inspector.inspect(read_image("part.png")).score        # doctest: +SKIP
    """

    def __init__(self, model: PatchCoreModel, weights: Optional[PathLike] = None,
                 backbone: Optional[FeatureBackbone] = None) -> None:
        self.model = model
        if backbone is None or backbone.weights_sha256 != model.weights_sha256 or backbone.layers != model.layers:
            backbone = load_backbone(model.config.backbone, model.layers, None if weights is None else Path(weights),
                                     expected_sha256=model.weights_sha256)
        self.backbone = backbone
        self._stream = _FeatureStream(backbone, model.config, model.preprocessing)
        self.bank = MemoryBank(model.bank_vectors(), search=model.search, centroids=model.search_centroids)

    def feature_grids(self, paths: Sequence[PathLike], cancel: Optional[CancelToken] = None
                      ) -> Iterator[Tuple[Path, Union[Tuple[np.ndarray, Optional[np.ndarray]], str]]]:
        """Each file's ``(h, w, D)`` patch feature grid exactly as :meth:`inspect_paths` extracts it with
        its counted patches (``(h, w)`` bool, None for all), or the one-line reason it cannot be inspected,
        in input order (teaching adds from these)."""
        for path, outcome in self._stream.grids([Path(p) for p in paths], cancel):
            counted = self._with_counted(outcome)
            yield path, counted if isinstance(counted, str) else (counted[0], counted[2])

    def counted_patches(self, original: Tuple[int, int], grid_hw: Tuple[int, int]) -> Optional[np.ndarray]:
        """``(h, w)`` bool: the patches of an image of ``original`` size that its score is taken over
        (None: all of them, no region of interest). Raises :class:`~.roi.RoiError` if none."""
        roi = self.model.roi
        return None if roi is None else roi.patches_at(original, self.model.preprocessing, grid_hw)

    def _finish(self, scored: Tuple[float, np.ndarray], original: Tuple[int, int]) -> Inspection:
        score, patch_scores = scored
        return Inspection(score=score, anomaly_map=self.model.anomaly_map(patch_scores, original),
                          patch_scores=patch_scores)

    def inspect(self, image: np.ndarray) -> Inspection:
        """Score one ``(H, W, 3)`` uint8 RGB image."""
        grid = self._stream.grid_of(*network_inputs(image, self.model.preprocessing))
        counted = [self.counted_patches(image.shape[:2], grid.shape[:2])]
        return self._finish(score_grids([grid], self.bank, self.model.config.reweight_neighbours, counted)[0],
                            image.shape[:2])

    def inspect_paths(self, paths: Iterable[PathLike], progress: Optional[ProgressFn] = None,
                      cancel: Optional[CancelToken] = None) -> Iterator[ImageResult]:
        """Inspect files in batches, yielding one :class:`ImageResult` per file in input order.

        A file that cannot be read gives a result with ``error`` set and the batch goes on.
        """
        image_paths = [Path(p) for p in paths]
        report(progress, 0, len(image_paths), "inspect")
        done = 0
        batches = self._stream.batches(image_paths, cancel)
        while True:
            # timed from here, not across the yields: what the caller does between results is not inspection
            started = time.perf_counter()
            batch = next(batches, None)
            if batch is None:
                return
            batch = [(path, self._with_counted(outcome)) for path, outcome in batch]
            readable = [outcome for _, outcome in batch if not isinstance(outcome, str)]
            scored = score_grids([grid for grid, _, _ in readable], self.bank, self.model.config.reweight_neighbours,
                                 [counted for _, _, counted in readable]) if readable else []
            inspections = iter([self._finish(one, outcome[1]) for one, outcome in zip(scored, readable)])
            share = (time.perf_counter() - started) / max(1, len(readable))
            for path, outcome in batch:
                if isinstance(outcome, str):
                    yield ImageResult(path=path, error=outcome)
                else:
                    yield ImageResult(path=path, inspection=next(inspections), seconds=share)
                done += 1
                report(progress, done, len(image_paths), "inspect")

    def _with_counted(self, outcome: Union[Tuple[np.ndarray, Tuple[int, int]], str]
                      ) -> Union[Tuple[np.ndarray, Tuple[int, int], Optional[np.ndarray]], str]:
        """A grid and its image size with its counted patches added; an image the region misses is an error."""
        if isinstance(outcome, str):
            return outcome
        grid, original = outcome
        try:
            return grid, original, self.counted_patches(original, grid.shape[:2])
        except RoiError as exc:
            return f"cannot inspect this image: {exc}"
