"""Where one inspection's time goes: decode, preprocess, network, nearest-neighbour scoring, map.

Usage::

    .venv/bin/python benchmarks/profile_inspection.py MODEL.patchcore 'IMAGES_GLOB' [--count 15] [--every N]

Times each stage for single images (median over all but the first 3, which warm up) and then
the batched path (``Inspector.inspect_paths``) over the same files, in ms per image. Beside two
stages it times, on the same image in turn, the straightforward way they replaced: the network as
built (batch norms unfolded, default memory layout) and a flat faiss search; so the ratios come
from one run.
"""

from __future__ import annotations

import argparse
import glob
import time

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

import torch

from patchcore_gui.core import (Inspector, MemoryBank, PatchFeatureExtractor, load_backbone, load_model, network_inputs,
                                read_image, score_grids, stitch)
from timing import StageTimes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", help="a glob of image files")
    parser.add_argument("--count", type=int, default=15)
    parser.add_argument("--every", type=int, default=1,
                        help="take every Nth image of the sorted glob, so the count spreads over all of a test "
                             "set's kinds (the first images of 'test/*/*.png' are all one kind, of one size)")
    args = parser.parse_args()
    model = load_model(args.model)
    inspector = Inspector(model)
    extractor = PatchFeatureExtractor(inspector.backbone, model.config)
    as_built = PatchFeatureExtractor(load_backbone(model.config.backbone, model.layers, as_built=True), model.config)
    flat_bank = MemoryBank(model.memory_bank, clustered=False)
    paths = sorted(glob.glob(args.images))[::max(1, args.every)][:args.count]
    timed = StageTimes()
    for path in paths:
        image = timed("decode", read_image, path)
        tiles, placement = timed("preprocess", network_inputs, image, model.preprocessing)
        tensor = torch.from_numpy(tiles)  # every input of the image at once, as the line sends one part
        grid = stitch(timed("network", extractor.extract, tensor), placement)
        timed("  as built", as_built.extract, tensor)
        _, patch_scores = timed("scoring", score_grids, [grid], inspector.bank, model.config.reweight_neighbours)[0]
        timed("  flat", score_grids, [grid], flat_bank, model.config.reweight_neighbours)
        timed("map", model.anomaly_map, patch_scores, image.shape[:2])
    medians = {stage: timed.median_ms(stage, skip=3) for stage in timed.seconds}
    ours = sum(value for stage, value in medians.items() if not stage.startswith(" "))
    plain = ours - medians["network"] - medians["scoring"] + medians["  as built"] + medians["  flat"]
    for stage, median in medians.items():
        print(f"{stage:12s} {median:7.1f} ms")
    print(f"{'one image':12s} {ours:7.1f} ms (sum of medians; the straightforward stages instead: {plain:.1f} ms, "
          f"{plain / ours:.1f}x); torch threads {torch.get_num_threads()}, "
          f"bank {len(model.memory_bank)} x {model.memory_bank.shape[1]}")
    started = time.perf_counter()
    list(inspector.inspect_paths(paths))
    per_image = (time.perf_counter() - started) / len(paths)
    print(f"{'batch':12s} {1000 * per_image:7.1f} ms/image ({1 / per_image:.1f} images/s)")


if __name__ == "__main__":
    main()
