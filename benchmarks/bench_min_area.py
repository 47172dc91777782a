"""What a minimum defect area does to false rejects and misses, on one category in the MVTec layout.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_min_area.py ../shared/data/magnetic_tile/magnetic_tile \\
        --cache /work/cache/regions --areas 0 25 50 100 200 400 800 1600

Fits with the default settings on ``train/good`` (the model is cached in ``--cache`` as
``<category>.patchcore``, the test images' patch scores beside it, so a second run skips the network),
then for each minimum area judges every test part by the engine's own rule
(:meth:`~patchcore_gui.core.patchcore.Inspection.verdict`: regions of its map rebuilt from the patch
scores at its own size). Reported at the model's default threshold and at the F1-optimal one (where a
minimum area has false rejects to remove): false rejects (good parts NG), misses (defective parts OK),
share of right verdicts, and how many parts above the threshold have no region on the map at all (the
smoothed map's peak under the map threshold: such a part passes under any minimum area > 0).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np

from patchcore_gui.core import (Inspection, Inspector, PatchCoreConfig, f1_optimal_threshold, find_images,
                                find_test_images, fit, load_model, save_model)


def cached_scores(category: Path, cache: Path) -> Tuple[object, List[Tuple[str, np.ndarray, Tuple[int, int], float]]]:
    """The fitted model and ``(defect, patch scores, image size, score)`` of every test image, cached."""
    cache.mkdir(parents=True, exist_ok=True)
    model_path, scores_path = cache / f"{category.name}.patchcore", cache / f"{category.name}-test.npz"
    if model_path.exists():
        model = load_model(model_path)
    else:
        train, _ = find_images([category / "train" / "good"])
        started = time.perf_counter()
        model = fit(train, PatchCoreConfig(), good_folder=str(category)).model
        print(f"fit {time.perf_counter() - started:.0f} s", flush=True)
        save_model(model, model_path)
    if scores_path.exists():
        data = np.load(scores_path, allow_pickle=False)
        # grids differ in shape from part to part with keep-aspect and tiles: stored flat, split by shape
        if "grid_shapes" in data.files:
            shapes = [tuple(s) for s in data["grid_shapes"]]
            ends = np.cumsum([h * w for h, w in shapes])
            grids = [flat.reshape(shape) for flat, shape in zip(np.split(data["patch_scores"], ends[:-1]), shapes)]
        else:  # a cache written before: one stacked array of equal grids
            grids = list(data["patch_scores"])
        return model, list(zip(data["defects"].tolist(), grids, [tuple(s) for s in data["sizes"]],
                               data["scores"].tolist()))
    tests = find_test_images(category)
    rows = []
    inspector = Inspector(model)
    for item, result in zip(tests, inspector.inspect_paths([t.path for t in tests])):
        assert result.inspection is not None, result.error
        rows.append((item.defect, result.inspection.patch_scores, result.inspection.anomaly_map.shape,
                     result.inspection.score))
    np.savez(scores_path, defects=np.array([r[0] for r in rows]), patch_scores=np.concatenate([r[1].ravel() for r in rows]),
             grid_shapes=np.array([r[1].shape for r in rows]),
             sizes=np.array([r[2] for r in rows]), scores=np.array([r[3] for r in rows]))
    return model, rows


def measure(model, rows, threshold: float, areas: List[float]) -> List[Dict[str, float]]:
    judge = model.with_threshold(threshold)
    largest, anomalous = [], []
    for defect, patch_scores, size, score in rows:
        inspection = Inspection(score, judge.anomaly_map(patch_scores, size), patch_scores)
        largest.append(inspection.defect_regions(judge).largest_area)
        anomalous.append(defect != "good")
    scores = np.array([row[3] for row in rows])
    anomalous_array = np.array(anomalous)
    above = scores > threshold
    table = []
    for area in areas:
        rule = judge.with_defect_size(area)
        ng = np.array([rule.verdict(score, size) == "NG" for score, size in zip(scores, largest)])
        table.append({"min_area_px": area, "false_rejects": int(np.sum(ng & ~anomalous_array)),
                      "misses": int(np.sum(~ng & anomalous_array)), "right": float(np.mean(ng == anomalous_array)),
                      "good": int(np.sum(~anomalous_array)), "defective": int(np.sum(anomalous_array))})
    no_region = int(np.sum(above & (np.array(largest) == 0)))
    good_sizes = np.array(largest)[above & ~anomalous_array]
    bad_sizes = np.array(largest)[above & anomalous_array]
    print(f"  threshold {threshold:.4f}: {int(above.sum())} parts above it, {no_region} of them with no region; "
          f"largest region of false rejects {np.median(good_sizes) if good_sizes.size else float('nan'):.0f} px "
          f"median, of caught defects {np.median(bad_sizes) if bad_sizes.size else float('nan'):.0f} px median")
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("category", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/regions"))
    parser.add_argument("--areas", type=float, nargs="+", default=[0, 25, 50, 100, 200, 400, 800, 1600])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    model, rows = cached_scores(args.category, args.cache)
    labels = np.array([defect != "good" for defect, *_ in rows])
    f1_threshold, f1 = f1_optimal_threshold(labels.astype(int), np.array([row[3] for row in rows]))
    sizes = sorted({tuple(size) for _, _, size, _ in rows})
    print(f"{args.category.name}: {len(rows)} test parts ({int(labels.sum())} defective), image sizes "
          f"{sizes[0]} .. {sizes[-1]}")
    results = {}
    for name, threshold in (("default", model.threshold), ("f1_optimal", f1_threshold)):
        table = measure(model, rows, threshold, args.areas)
        results[name] = {"threshold": threshold, "rows": table}
        print(f"| {name} threshold {threshold:.3f} | min area px | false rejects | misses | right |")
        for row in table:
            print(f"|  | {row['min_area_px']:g} | {row['false_rejects']} of {row['good']} | "
                  f"{row['misses']} of {row['defective']} | {100 * row['right']:.1f}% |")
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
