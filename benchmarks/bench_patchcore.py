"""Fit and inspection cost on real data, with the plain greedy coreset measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_patchcore.py [--data ../shared/data] [--plain-centres 400] [--json out.json]

For MVTec bottle and Magnetic Tile (each in its own child process, so its peak RSS is its own)
it prints: fit time split into features / coreset / calibration, inspection ms per image one at
a time (disk to score and map, median; beside the straightforward way, the network as built and a
flat faiss search, taking turns on the same images) and in batches over the test set, peak RSS,
image and pixel AUROC with the default settings, and the plain greedy loop's
coreset time on the very same bank candidates. The plain loop costs the same for every centre, so
it runs for ``--plain-centres`` centres and its full time is extrapolated from them (a full run
is about 5 minutes for bottle and 45 minutes for Magnetic Tile on a 2-core machine); the fast
loop's first centres are checked equal to the plain loop's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)
from isolated import peak_rss_mb, run_isolated
from timing import StageTimes

CATEGORIES = {"bottle": "mvtec_bottle_512/bottle", "magnetic_tile": "magnetic_tile/magnetic_tile"}


def measure(category_dir: Path, plain_centres: int) -> Dict[str, Any]:
    """Everything for one category, in this process."""
    import numpy as np
    import torch

    from patchcore_gui.core import (Inspector, MemoryBank, PatchCoreConfig, bank_candidates, coreset_size, evaluate,
                                    extract_good_features, find_images, greedy_coreset, load_backbone,
                                    plain_greedy_coreset, random_projection, read_image)

    config = PatchCoreConfig()
    started = time.perf_counter()
    evaluation = evaluate(category_dir, config)
    report = evaluation.report
    result: Dict[str, Any] = {
        "category": report.category, "n_train": report.n_train, "n_test": report.n_test,
        "bank_size": report.bank_size, "image_auroc": report.image_auroc, "pixel_auroc": report.pixel_auroc,
        "aupro": report.aupro, "fit_seconds": report.fit_seconds, "stage_seconds": report.fit_stage_seconds,
        "predict_ms_per_image": report.predict_ms_per_image, "evaluate_seconds": time.perf_counter() - started,
        "peak_rss_mb_evaluate": peak_rss_mb(), "threads": torch.get_num_threads(),
    }
    # one image at a time, from disk to score and map, as on a line that inspects parts as they come;
    # the straightforward way (network as built, flat faiss search) takes turns with ours on each image
    model = evaluation.model
    inspector = Inspector(model)
    plain = Inspector(model, backbone=load_backbone(config.backbone, model.layers, as_built=True))
    plain.bank = MemoryBank(model.memory_bank, clustered=False)
    def disk_to_map(way: Inspector, path: Path) -> None:
        way.inspect(read_image(path))

    timed = StageTimes()
    for item, _ in evaluation.inspected[:30]:
        for name, way in (("ours", inspector), ("plain", plain)):
            timed(name, disk_to_map, way, item.path)
    result["single_image_ms"] = timed.median_ms("ours", skip=5)
    result["single_image_plain_ms"] = timed.median_ms("plain", skip=5)
    del evaluation, inspector, plain

    # the plain loop on the same candidates the fit chose from (features again: fit does not keep them)
    images, _ = find_images([category_dir / "train" / "good"])
    good = extract_good_features(images, config, load_backbone(config.backbone, config.layers))
    candidates, _ = bank_candidates(good.grids, config, release=True)
    del good
    n_select = coreset_size(len(candidates), config.coreset_ratio)
    projected = random_projection(candidates, config.projection_dim, config.seed)
    started = time.perf_counter()
    fast = greedy_coreset(projected, n_select, config.projection_dim, config.seed)
    fast_seconds = time.perf_counter() - started
    centres = min(plain_centres, n_select)
    started = time.perf_counter()
    plain = plain_greedy_coreset(projected, centres, config.projection_dim, config.seed)
    plain_seconds = (time.perf_counter() - started) * n_select / centres
    result.update({
        "n_candidates": len(candidates), "coreset_size": n_select, "coreset_fast_seconds": fast_seconds,
        "coreset_plain_seconds": plain_seconds, "coreset_plain_extrapolated_from": centres,
        "coreset_speedup": plain_seconds / fast_seconds, "coreset_equal": bool(np.array_equal(fast[:centres], plain)),
    })
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--plain-centres", type=int, default=400, help="centres the plain loop runs (default 400)")
    parser.add_argument("--only", choices=sorted(CATEGORIES), help="measure one category")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    results = []
    for name, relative in CATEGORIES.items():
        if args.only and name != args.only:
            continue
        folder = Path(args.data) / relative
        if not folder.is_dir():
            print(f"{name}: '{folder}' not found, skipped", file=sys.stderr)
            continue
        outcome = run_isolated(measure, folder, args.plain_centres)
        if "error" in outcome:
            print(f"{name}: {outcome['error']}", file=sys.stderr)
            continue
        results.append(outcome)
        stages = outcome["stage_seconds"]
        print(f"{name}: {outcome['n_train']} good images -> {outcome['n_candidates']:,} candidates -> bank "
              f"{outcome['coreset_size']:,}; {outcome['threads']} torch threads")
        print(f"  fit {outcome['fit_seconds']:.1f} s = features {stages['features']:.1f} + coreset "
              f"{stages['coreset']:.1f} + calibration {stages['calibration']:.1f}")
        print(f"  coreset fast {outcome['coreset_fast_seconds']:.1f} s, plain {outcome['coreset_plain_seconds']:.1f} s "
              f"(extrapolated from {outcome['coreset_plain_extrapolated_from']} centres): "
              f"{outcome['coreset_speedup']:.0f}x, same centres: {outcome['coreset_equal']}")
        print(f"  inspect one at a time {outcome['single_image_ms']:.1f} ms (median, disk to score and map; "
              f"straightforward way {outcome['single_image_plain_ms']:.1f} ms: "
              f"{outcome['single_image_plain_ms'] / outcome['single_image_ms']:.1f}x); batch "
              f"{outcome['predict_ms_per_image']:.1f} ms/image over {outcome['n_test']} test images; "
              f"peak RSS {outcome['peak_rss_mb']:.0f} MB")
        print(f"  image AUROC {outcome['image_auroc']:.4f}, pixel AUROC {outcome['pixel_auroc']:.4f}, "
              f"AUPRO {outcome['aupro']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
