"""Nearest-neighbour search over a saved model's bank: flat faiss against the clustered search.

Usage::

    .venv/bin/python benchmarks/bench_search.py MODEL.patchcore 'IMAGES_GLOB' [--count 24] [--batch 8]

Extracts the patch grids of the images once, then takes turns on each image between a flat faiss
search (every patch against every bank vector) and ``ClusteredBank``, one image at a time and a
batch of images at once (as ``Inspector.inspect_paths`` does), and reports medians, the share of
the flat search's products the clustered search computed, and whether both found the same
neighbours (distances within 1e-3, indices equal apart from exact ties).
"""

from __future__ import annotations

import argparse
import glob
import time
from typing import List

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

import faiss
import numpy as np
import torch

from patchcore_gui.core import (ClusteredBank, Inspector, PatchFeatureExtractor, cluster_count, load_model, preprocess,
                                read_image)
from timing import StageTimes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", help="a glob of image files")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    model = load_model(args.model)
    inspector = Inspector(model)
    paths = sorted(glob.glob(args.images))[:args.count]
    extractor = PatchFeatureExtractor(inspector.backbone, model.config)
    grids = [extractor.extract(torch.from_numpy(preprocess(read_image(path), model.preprocessing)[None]))[0]
             for path in paths]
    queries = [grid.reshape(-1, grid.shape[-1]) for grid in grids]
    bank = model.memory_bank
    started = time.perf_counter()
    clustered = ClusteredBank(bank, cluster_count(len(bank)))
    build_seconds = time.perf_counter() - started

    timed = StageTimes()
    scanned: List[float] = []
    mismatches = 0

    for patches in queries:
        flat_squared, flat_index = timed("flat, one image", faiss.knn, patches, bank, 1)
        squared, index = timed("clustered, one image", clustered.search, patches)
        scanned.append(clustered.scanned_fraction)
        flat_distance = np.sqrt(np.maximum(flat_squared[:, 0], 0))
        if np.abs(flat_distance - np.sqrt(squared)).max() > 1e-3:
            mismatches += 1
        differing = flat_index[:, 0] != index
        chosen = np.sqrt(((patches[differing] - bank[index[differing]].astype(np.float64)) ** 2).sum(axis=1))
        if np.abs(chosen - flat_distance[differing]).max(initial=0) > 1e-3:
            mismatches += 1
    for start in range(0, len(queries) - args.batch + 1, args.batch):
        joined = np.concatenate(queries[start:start + args.batch])
        timed(f"flat, batch of {args.batch}", faiss.knn, joined, bank, 1)
        timed(f"clustered, batch of {args.batch}", clustered.search, joined)

    print(f"bank {bank.shape[0]:,} x {bank.shape[1]}, {len(queries[0])} patches per image, "
          f"{clustered.n_clusters} clusters built in {build_seconds:.2f} s")
    per_image = {}
    for name in timed.seconds:
        divisor = args.batch if "batch" in name else 1
        skip = 3 if "one image" in name else 0
        per_image[name] = timed.median_ms(name, skip) / divisor
        print(f"{name:22s} {per_image[name]:7.1f} ms per image")
    print(f"one image: {per_image['flat, one image'] / per_image['clustered, one image']:.1f}x; "
          f"batch: {per_image[f'flat, batch of {args.batch}'] / per_image[f'clustered, batch of {args.batch}']:.1f}x; "
          f"clustered computed {100 * np.mean(scanned):.1f}% of the flat products; "
          f"images with different neighbours: {mismatches}")


if __name__ == "__main__":
    main()
