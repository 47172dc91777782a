"""Input geometry on a category in the MVTec layout: AUROCs, fit seconds, ms per image, bank size per choice.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_geometry.py ../shared/data/magnetic_tile/magnetic_tile \\
        --variant squeeze224 '{}' --variant tile320 '{"geometry": "tile", "tile": 320}' \\
        --ratios 0.1 0.01 --json /work/cache/geometry/mt.json

Each variant is a JSON object of :class:`PatchCoreConfig` fields. Its patch features (train/good and
test, through the engine's own feature stream: geometry, tiles, stitching) are extracted once and
cached under ``--cache`` (float32, exactly what the engine computes), with the time they took; every
coreset ratio then builds its bank from the images ``fit`` would use (held-out images excluded),
scores every test image as the engine does (batches of 8) and makes its map at the original size.

Reported per variant and ratio: image AUROC (all and per defect), pixel AUROC, bank size, fit
seconds (network + coreset; calibration left out, it is the held-out images' search), and ms per
image (network incl. decoding and preprocessing + search + map). Times are from the same process,
one variant after another, so their ratios are meaningful on a loaded machine; absolute values are not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import cv2
import numpy as np
import torch

from patchcore_gui.core import (MemoryBank, PatchCoreConfig, auroc, bank_candidates, coreset_size, find_images,
                                find_test_images, greedy_coreset, load_backbone, pixel_auroc, pixel_auroc_per_kind,
                                score_grids)
from patchcore_gui.core.backbones import get_spec, resolve_layers
from patchcore_gui.core.geometry import map_box_size, map_to_original
from patchcore_gui.core.patchcore import _FeatureStream, preprocessing_for
from patchcore_gui.core.scoring import anomaly_map


def _features(paths: List[Path], config: PatchCoreConfig, cache: Path, split: str, every: int,
              channels: Optional[int] = None) -> Tuple[List[np.ndarray], List[Tuple[int, int]], float]:
    """Grids and original sizes of every ``every``-th of ``paths`` and the seconds their extraction took
    (cached; taken from a cache of all of them when there is one). ``channels``: only the leading ones
    (a cache of deeper layers serves their shallower prefix: the layers are joined by concatenation)."""
    if channels is not None:
        grids, originals, seconds = _features(paths, config, cache, split, every)
        return [np.ascontiguousarray(g[..., :channels]) for g in grids], originals, seconds
    if every > 1 and (cache / f"{split}.json").is_file():
        grids, originals, seconds = _features(paths, config, cache, split, 1)
        return grids[::every], originals[::every], seconds * len(grids[::every]) / len(grids)
    paths = paths[::every]
    stem = cache / (split if every == 1 else f"{split}-every{every}")
    if (stem.with_suffix(".json")).is_file():
        meta = json.loads(stem.with_suffix(".json").read_text())
        flat = np.load(stem.with_suffix(".npy"), mmap_mode="r")
        grids, start = [], 0
        for h, w in meta["shapes"]:
            grids.append(np.array(flat[start:start + h * w]).reshape(h, w, -1))
            start += h * w
        return grids, [tuple(o) for o in meta["originals"]], float(meta["seconds"])
    backbone = load_backbone(config.backbone, config.layers)
    stream = _FeatureStream(backbone, config, preprocessing_for(backbone, config))
    grids, originals = [], []
    started = time.perf_counter()
    for path, outcome in stream.grids(paths, None):
        if isinstance(outcome, str):
            raise SystemExit(outcome)
        grids.append(np.ascontiguousarray(outcome[0]))
        originals.append(outcome[1])
    seconds = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    np.save(stem.with_suffix(".npy"), np.concatenate([g.reshape(-1, g.shape[-1]) for g in grids]))
    stem.with_suffix(".json").write_text(json.dumps({"shapes": [g.shape[:2] for g in grids],
                                                     "originals": originals, "seconds": seconds}))
    return grids, originals, seconds


def _mask(path: Any, shape: Tuple[int, int]) -> np.ndarray:
    if path is None:
        return np.zeros(shape, bool)
    mask = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if mask.shape != shape:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask > 127


def variant_cache(cache_root: Path, category: Path, name: str, config: PatchCoreConfig) -> Path:
    """Where a variant's features are cached: its name and a digest of its settings."""
    key = hashlib.sha256(json.dumps({"category": str(category.resolve()), **config.to_dict(),
                                     "test_every": 3}, sort_keys=True).encode()).hexdigest()[:12]
    return cache_root / f"{category.name}-{name}-{key}"


def run_variant(category: Path, name: str, changes: Dict[str, Any], ratios: List[float], cache_root: Path,
                test_every: int, train_every: int, prefix_of: Optional[Path] = None,
                layer_weights: Optional[List[float]] = None,
                sigmas: Optional[List[float]] = None, standardise: bool = False) -> List[Dict[str, Any]]:
    base = PatchCoreConfig(**changes)
    cache = variant_cache(cache_root, category, name, base)
    channels = None
    if prefix_of is not None:
        # the variant's layers are a prefix of those cached in prefix_of (same backbone and geometry,
        # no target_dim): its features are the cache's leading channels, no network run needed
        if base.target_dim is not None:
            raise SystemExit("--prefix-of needs features joined by concatenation (no target_dim)")
        spec = get_spec(base.backbone)
        channels = sum(spec.layers[layer].channels for layer in resolve_layers(spec, base.layers))
        cache = prefix_of
    train, _ = find_images([category / "train" / "good"])
    all_tests = find_test_images(category)
    tests = all_tests[::test_every]
    train_grids, _, train_s = _features(train, base, cache, "train", train_every, channels)
    test_grids, originals, test_s = _features([t.path for t in all_tests], base, cache, "test", test_every, channels)
    train = train[::train_every]
    if layer_weights:
        # each layer's channels times its weight: what a heavier (or lighter) layer does to the distances
        spec = get_spec(base.backbone)
        widths = [spec.layers[layer].channels for layer in resolve_layers(spec, base.layers)]
        if len(layer_weights) != len(widths):
            raise SystemExit(f"--layer-weights needs {len(widths)} weights, one per layer")
        edges = np.cumsum([0] + widths)
        for grid in list(train_grids) + list(test_grids):
            for weight, begin, end in zip(layer_weights, edges[:-1], edges[1:]):
                grid[..., begin:end] *= weight
    if standardise:
        # each channel divided by its spread over the good patches: every channel counts alike in the
        # distance, instead of the widest (the deep layer's) dominating it
        total = sum(g.shape[0] * g.shape[1] for g in train_grids)
        mean = sum(g.reshape(-1, g.shape[-1]).sum(axis=0, dtype=np.float64) for g in train_grids) / total
        square = sum(np.square(g.reshape(-1, g.shape[-1]), dtype=np.float64).sum(axis=0) for g in train_grids) / total
        scale = (1.0 / np.sqrt(np.maximum(square - mean ** 2, 1e-12))).astype(np.float32)
        for grid in list(train_grids) + list(test_grids):
            grid *= scale
    prep = preprocessing_for(load_backbone(base.backbone, base.layers), base)
    labels = np.array([int(t.anomalous) for t in tests])
    defects = np.array([t.defect for t in tests])
    masks = [_mask(t.mask_path, o) for t, o in zip(tests, originals)]
    rows = []
    for ratio in ratios:
        config = base.with_changes(coreset_ratio=ratio)
        started = time.perf_counter()
        candidates, _ = bank_candidates(list(train_grids), config)
        chosen = greedy_coreset(candidates, coreset_size(len(candidates), ratio), config.projection_dim, config.seed)
        bank = MemoryBank(candidates[np.sort(chosen)])
        coreset_s = time.perf_counter() - started
        n_candidates = len(candidates)
        del candidates
        scores, maps = [], []
        smoothings = sigmas or [config.sigma]
        other_maps: Dict[float, List[np.ndarray]] = {sigma: [] for sigma in smoothings[1:]}
        search_s = map_s = 0.0
        for begin in range(0, len(test_grids), 8):
            started = time.perf_counter()
            scored = score_grids(test_grids[begin:begin + 8], bank, config.reweight_neighbours)
            search_s += time.perf_counter() - started
            started = time.perf_counter()
            for (score, patch_scores), original in zip(scored, originals[begin:begin + 8]):
                scores.append(score)
                box = map_box_size(patch_scores.shape, prep)
                maps.append(map_to_original(anomaly_map(patch_scores, box, smoothings[0]), original, prep))
            map_s += time.perf_counter() - started
            for sigma, kept in other_maps.items():
                kept += [map_to_original(anomaly_map(patch_scores, map_box_size(patch_scores.shape, prep), sigma),
                                         original, prep)
                         for (_, patch_scores), original in zip(scored, originals[begin:begin + 8])]
        scores_a = np.asarray(scores)
        per_defect = {d: auroc(labels[np.isin(defects, ["good", d])], scores_a[np.isin(defects, ["good", d])])
                      for d in sorted(set(defects) - {"good"})}
        n = len(tests)
        rows.append({
            "variant": name, "changes": changes, "layer_weights": layer_weights, "coreset_ratio": ratio, "geometry": prep.describe(),
            "n_train": len(train), "n_test": n, "test_every": test_every, "train_every": train_every,
            "patches_per_image": float(np.mean([g.shape[0] * g.shape[1] for g in train_grids])),
            "candidates": n_candidates, "bank": len(bank.vectors), "dim": int(bank.vectors.shape[1]),
            "sigma": smoothings[0],
            "image_auroc": auroc(labels, scores_a),
            # the image's score as the largest value of its smoothed map instead of its largest patch score
            "image_auroc_map_max": auroc(labels, np.array([m.max() for m in maps])),
            "standardised": standardise, "pixel_auroc": pixel_auroc(masks, maps),
            "pixel_auroc_by_sigma": {sigma: pixel_auroc(masks, kept) for sigma, kept in other_maps.items()},
            "pixel_per_defect": pixel_auroc_per_kind(masks, maps, list(defects)),
            "per_defect": per_defect,
            "fit_s": train_s + coreset_s, "features_s": train_s, "coreset_s": coreset_s,
            "ms_network": 1000 * test_s / n, "ms_search": 1000 * search_s / n, "ms_map": 1000 * map_s / n,
            "ms_per_image": 1000 * (test_s + search_s + map_s) / n,
            "load": os.getloadavg()[0],
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("category", type=Path)
    parser.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "JSON"), required=True)
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.1])
    parser.add_argument("--test-every", type=int, default=1, help="every n-th test image only (a cheap probe)")
    parser.add_argument("--train-every", type=int, default=1, help="every n-th good image only (a cheap probe)")
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/geometry"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--prefix-of", type=Path, help="a variant cache directory whose features' leading channels "
                        "are every variant's (their layers a prefix of its layers; same backbone and geometry)")
    parser.add_argument("--layer-weights", nargs="+", type=float,
                        help="multiply each layer's channels by these weights (shallow to deep) before the bank")
    parser.add_argument("--sigmas", nargs="+", type=float,
                        help="map smoothings to compare (the first is reported as pixel_auroc), one search")
    parser.add_argument("--standardise", action="store_true",
                        help="divide each channel by its spread over the good patches before the bank")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    for name, text in args.variant:
        rows += run_variant(args.category, name, json.loads(text), args.ratios, args.cache, args.test_every,
                            args.train_every, args.prefix_of, args.layer_weights, args.sigmas,
                            args.standardise)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    print(f"{'variant':<14} {'ratio':>5} {'bank':>7} {'image':>6} {'map max':>7} {'pixel':>6} {'fit s':>6} {'ms/img':>7}"
          "  per defect")
    for row in rows:
        print(f"{row['variant']:<14} {row['coreset_ratio']:>5} {row['bank']:>7} {row['image_auroc']:.4f} "
              f"{row['image_auroc_map_max']:>7.4f} {row['pixel_auroc']:.4f} {row['fit_s']:>6.1f} {row['ms_per_image']:>7.1f}  "
              + " ".join(f"{d} {v:.3f}" for d, v in row["per_defect"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
