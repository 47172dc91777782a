"""Where one inspection's time goes: decode, preprocess, network, nearest-neighbour scoring, map.

Usage::

    .venv/bin/python benchmarks/profile_inspection.py MODEL.patchcore 'IMAGES_GLOB' [--count 15]

Times each stage for single images (median over all but the first 3, which warm up) and then
the batched path (``Inspector.inspect_paths``) over the same files, in ms per image.
"""

from __future__ import annotations

import argparse
import glob
import time
from typing import Callable, Dict, List

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np
import torch

from patchcore_gui.core.images import preprocess, read_image
from patchcore_gui.core.model_file import load_model
from patchcore_gui.core.patchcore import Inspector, _score_grids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", help="a glob of image files")
    parser.add_argument("--count", type=int, default=15)
    args = parser.parse_args()
    model = load_model(args.model)
    inspector = Inspector(model)
    paths = sorted(glob.glob(args.images))[:args.count]
    times: Dict[str, List[float]] = {}

    def timed(stage: str, call: Callable, *arguments):
        started = time.perf_counter()
        result = call(*arguments)
        times.setdefault(stage, []).append(time.perf_counter() - started)
        return result

    for path in paths:
        image = timed("decode", read_image, path)
        tensor = timed("preprocess", preprocess, image, model.preprocessing)
        grid = timed("network", inspector._stream.extractor.extract, torch.from_numpy(tensor[None]))[0]
        _, patch_scores = timed("scoring", _score_grids, [grid], inspector.bank, model.config)[0]
        timed("map", model.anomaly_map, patch_scores, image.shape[:2])
    total = 0.0
    for stage, values in times.items():
        median = 1000 * float(np.median(values[3:]))
        total += median
        print(f"{stage:10s} {median:7.1f} ms")
    print(f"{'one image':10s} {total:7.1f} ms (sum of medians); torch threads {torch.get_num_threads()}, "
          f"bank {len(model.memory_bank)} x {model.memory_bank.shape[1]}")
    started = time.perf_counter()
    list(inspector.inspect_paths(paths))
    per_image = (time.perf_counter() - started) / len(paths)
    print(f"{'batch':10s} {1000 * per_image:7.1f} ms/image ({1 / per_image:.1f} images/s)")


if __name__ == "__main__":
    main()
