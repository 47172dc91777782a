"""Image AUROC of one category under several settings, running the network only once per input size.

Usage::

    .venv/bin/python benchmarks/sweep_settings.py ../shared/data/magnetic_tile/magnetic_tile \\
        --resize 224 '{}' '{"reweight_neighbours": 1}' '{"patch_size": 5}' \\
        '{"layers": ["blocks.2", "blocks.4", "blocks.6"], "coreset_ratio": 0.1}'

Each JSON object changes :class:`PatchCoreConfig` fields (``coreset_ratio`` defaults to 0.01 here,
so a sweep is quick; confirm a winner at the real ratio). The raw maps of every layer the sweep
uses are computed once and kept in memory; each setting then aggregates, builds its bank from the
same good images ``fit`` would use (held-out images excluded) and scores the test images exactly as
the engine does. Image AUROC only: pixel metrics need full maps, use ``patchcore evaluate`` for those.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np
import torch

from patchcore_gui.core import (MemoryBank, PatchCoreConfig, Preprocessing, aggregate_neighbourhood, auroc,
                                bank_candidates, coreset_size, find_images, find_test_images, greedy_coreset,
                                join_layers, load_backbone, preprocess, read_image, reweighted_image_score,
                                score_patches)


def raw_maps(paths: List[Path], config: PatchCoreConfig, layers: List[str]) -> Dict[str, np.ndarray]:
    backbone = load_backbone(config.backbone, layers)
    prep = Preprocessing(resize=config.resize, crop=config.crop, mean=backbone.spec.mean, std=backbone.spec.std)
    maps: Dict[str, List[np.ndarray]] = {layer: [] for layer in backbone.layers}
    with torch.inference_mode():
        for begin in range(0, len(paths), 16):
            batch = torch.from_numpy(np.stack([preprocess(read_image(p), prep) for p in paths[begin:begin + 16]]))
            for layer, output in zip(backbone.layers, backbone(batch)):
                maps[layer].append(output.numpy())
    return {layer: np.concatenate(parts) for layer, parts in maps.items()}


def score_setting(raw: Dict[str, np.ndarray], n_train: int, config: PatchCoreConfig) -> np.ndarray:
    layers = config.layers or ("blocks.2", "blocks.4")
    grids = []
    for begin in range(0, len(raw[layers[0]]), 64):
        aggregated = [aggregate_neighbourhood(torch.from_numpy(raw[layer][begin:begin + 64]), config.patch_size,
                                              config.aggregation) for layer in layers]
        grids.append(join_layers(aggregated, config.target_dim).numpy())
    features = np.concatenate(grids)
    candidates, _ = bank_candidates(list(features[:n_train]), config)
    chosen = greedy_coreset(candidates, coreset_size(len(candidates), config.coreset_ratio),
                            config.projection_dim, config.seed)
    bank = MemoryBank(candidates[np.sort(chosen)])
    scores = []
    for grid in features[n_train:]:
        vectors = grid.reshape(-1, grid.shape[-1])
        distances, nearest = score_patches(vectors, bank)
        scores.append(reweighted_image_score(vectors, distances, nearest, bank, config.reweight_neighbours))
    return np.asarray(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("category", type=Path, help="a category folder in the MVTec layout")
    parser.add_argument("settings", nargs="+", help="JSON objects of PatchCoreConfig fields to change")
    parser.add_argument("--resize", type=int, default=224)
    args = parser.parse_args()

    settings: List[Dict[str, Any]] = [json.loads(text) for text in args.settings]
    configs = [PatchCoreConfig(**{"coreset_ratio": 0.01, **changes, "resize": args.resize}) for changes in settings]
    layers = sorted({layer for config in configs for layer in (config.layers or ("blocks.2", "blocks.4"))})
    train, _ = find_images([args.category / "train" / "good"])
    tests = find_test_images(args.category)
    started = time.perf_counter()
    raw = raw_maps(train + [item.path for item in tests], configs[0], layers)
    print(f"{args.category.name}: {len(train)} good, {len(tests)} test images at {args.resize} px; "
          f"network {time.perf_counter() - started:.0f} s", flush=True)
    labels = np.asarray([int(item.anomalous) for item in tests])
    defects = np.asarray([item.defect for item in tests])
    for changes, config in zip(settings, configs):
        started = time.perf_counter()
        scores = score_setting(raw, len(train), config)
        per_defect = {defect: round(auroc(labels[np.isin(defects, ["good", defect])],
                                          scores[np.isin(defects, ["good", defect])]), 3)
                      for defect in sorted(set(defects.tolist()) - {"good"})}
        print(json.dumps({"changes": changes, "coreset_ratio": config.coreset_ratio,
                          "image_auroc": round(auroc(labels, scores), 4), "per_defect": per_defect,
                          "seconds": round(time.perf_counter() - started)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
