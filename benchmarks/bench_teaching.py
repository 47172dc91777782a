"""Teaching false rejects into the bank, measured on a category in the MVTec layout.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_teaching.py CATEGORY_DIR [--teach 3] [--threshold model|f1]
        [--cache DIR] [--json out.json]

Fits the default model on ``train/good`` (cached in ``--cache``), then teaches the ``--teach``
worst-scoring good test images (the false rejects a person would point at) by each rule of
:mod:`patchcore_gui.core.teaching` and reports, per rule: the patches added and the seconds it took;
the taught images' scores; near copies of them (moved by 8 px, 10% darker or brighter, noise)
passing before and after; the held-out good images' scores (re-extracted from ``train/good`` with
the fit's own split), whether any rose and whether any now exceeds the threshold; and on the other
test images (the taught ones left out) image AUROC before and after, good parts that went from
NG to OK, and defective parts that went from NG to OK. It also compares the covering distance
recorded at fit time (a sample) and the estimate for older files with the exact one over every
bank-building patch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Dict, List

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import faiss
import numpy as np
import torch

from patchcore_gui.core import (Inspector, MemoryBank, PatchCoreConfig, bank_candidates, extract_good_features,
                                find_images, find_test_images, fit, load_model, preprocess, read_image, save_model,
                                score_grids)
from patchcore_gui.core.coverage import estimated_coverage_radius
from patchcore_gui.core.scoring import reweighted_image_score, score_patches
from patchcore_gui.core.metrics import auroc, f1_optimal_threshold
from patchcore_gui.core.teaching import RULES, addition_limit, teach

BATCH = 8


def near_copies(image: np.ndarray) -> Dict[str, np.ndarray]:
    """What the camera gives for the same part a moment later: moved by a few pixels (the frame cut 8 px
    smaller at each corner, so no made-up border comes in), light 10% lower or higher, sensor noise."""
    height, width = image.shape[:2]
    moved = {f"moved {dx},{dy}": np.ascontiguousarray(image[dy:height - 8 + dy, dx:width - 8 + dx])
             for dx, dy in ((0, 0), (8, 0), (0, 8), (8, 8))}
    noise = np.random.default_rng(0).normal(0, 1, image.shape)
    return {**moved, "10% darker": np.clip(image * 0.9, 0, 255).astype(np.uint8),
            "10% brighter": np.clip(image * 1.1, 0, 255).astype(np.uint8),
            "noise sigma 2": np.clip(image + 2 * noise, 0, 255).astype(np.uint8),
            "noise sigma 4": np.clip(image + 4 * noise, 0, 255).astype(np.uint8)}


class Nearest:
    """Every patch's nearest distance and bank index for a list of grids, found once against the fitted bank.

    A taught bank is the fitted one followed by the taught patches, so a patch's nearest distance in it
    is the smaller of the two searches; :meth:`scores` takes it from there, and the image scores are
    :func:`reweighted_image_score` on the taught bank, as ``score_grids`` computes them (checked in the
    run: ``incremental_check``), at a fraction of the cost of a full search per rule.
    """

    def __init__(self, grids: List[np.ndarray], bank: MemoryBank) -> None:
        self.vectors = [np.ascontiguousarray(grid.reshape(-1, grid.shape[-1]), dtype=np.float32) for grid in grids]
        self.found = [score_patches(vectors, bank) for vectors in self.vectors]
        self.fitted = len(bank)

    def scores(self, bank: MemoryBank, neighbours: int) -> np.ndarray:
        taught = bank.vectors[self.fitted:]
        out = []
        for vectors, (distances, nearest) in zip(self.vectors, self.found):
            if len(taught):
                _, index = faiss.knn(vectors, taught, 1)
                difference = vectors - taught[index[:, 0]]
                to_taught = np.sqrt(np.einsum("ij,ij->i", difference, difference))
                closer = to_taught < distances
                distances = np.where(closer, to_taught, distances)
                nearest = np.where(closer, self.fitted + index[:, 0], nearest)
            out.append(reweighted_image_score(vectors, distances, nearest, bank, neighbours))
        return np.asarray(out)


def measure(category: Path, n_teach: int, cache: Path, threshold_rule: str) -> Dict[str, Any]:
    cache.mkdir(parents=True, exist_ok=True)
    config = PatchCoreConfig()
    train, _ = find_images([category / "train" / "good"])
    model_path = cache / "model.patchcore"
    result: Dict[str, Any] = {"category": category.name, "threads": torch.get_num_threads()}
    if model_path.is_file():
        model = load_model(model_path)
    else:
        started = time.perf_counter()
        model = fit(train, config).model
        result["fit_seconds"] = time.perf_counter() - started
        save_model(model, model_path)
    inspector = Inspector(model)
    neighbours = model.config.reweight_neighbours

    # the bank images' patches (for the exact covering distance) and the held-out grids, by the fit's split
    coverage_file, holdout_file = cache / "coverage.json", cache / "holdout.npy"
    if coverage_file.is_file() and holdout_file.is_file():
        coverage = json.loads(coverage_file.read_text())
        holdout = list(np.load(holdout_file))
    else:
        good = extract_good_features(train, config, inspector.backbone)
        candidates, holdout_ids = bank_candidates(good.grids, config)
        holdout = [good.grids[i] for i in holdout_ids]
        started = time.perf_counter()
        nearest = np.concatenate([inspector.bank.nearest(candidates[i:i + 50_000], k=1)[0][:, 0]
                                  for i in range(0, len(candidates), 50_000)])
        coverage = {"exact": float(nearest.max()), "exact_seconds": time.perf_counter() - started,
                    "candidates": len(candidates), "quantile_999": float(np.quantile(nearest, 0.999))}
        del candidates, good
        np.save(holdout_file, np.stack(holdout))
        coverage_file.write_text(json.dumps(coverage))
    members = np.random.default_rng(0).choice(len(model.memory_bank), min(2000, len(model.memory_bank)), replace=False)
    squared, _ = faiss.knn(model.memory_bank[np.sort(members)], model.memory_bank, 2)
    other = np.sqrt(np.maximum(squared[:, 1], 0))
    coverage.update({"sampled_at_fit": model.coverage_radius, "estimate_for_older_files": estimated_coverage_radius(
        model.memory_bank), "member_gap_min": float(other.min()), "member_gap_q05": float(np.quantile(other, 0.05)),
        "member_gap_median": float(np.median(other)), "threshold": model.threshold,
        "addition_limit": addition_limit(model)})
    result["coverage"] = coverage
    held = Nearest(holdout, inspector.bank)
    held_before = held.scores(inspector.bank, neighbours)
    result["held_out_check"] = {"stored_max_abs_difference": float(np.abs(held_before - model.good_scores).max())}

    items = find_test_images(category)
    grids_file = cache / "test_grids.npy"
    if grids_file.is_file():
        test_grids = list(np.load(grids_file, mmap_mode="r"))
    else:
        test_grids = [outcome[0] for _, outcome in inspector.feature_grids([item.path for item in items])]
        np.save(grids_file, np.stack(test_grids))
    labels = np.array([item.anomalous for item in items])
    test = Nearest(test_grids, inspector.bank)
    before = test.scores(inspector.bank, neighbours)
    result["default_threshold"] = model.threshold
    if threshold_rule == "f1":
        # the threshold an engineer tunes to with labelled parts: it rejects some good parts, the ones to teach
        model = model.with_threshold(f1_optimal_threshold(labels, before)[0])
        inspector = Inspector(model, backbone=inspector.backbone)
    goods = np.flatnonzero(~labels)
    taught_ids = goods[np.argsort(-before[goods])[:n_teach]]
    kept = np.setdiff1d(np.arange(len(items)), taught_ids)
    taught_paths = [items[i].path for i in taught_ids]
    threshold = model.threshold
    copies = {}
    for i in taught_ids:
        for name, image in near_copies(read_image(items[i].path)).items():
            tensor = torch.from_numpy(preprocess(image, model.preprocessing)[None])
            copies[f"{items[i].path.name} {name}"] = inspector._stream.extractor.extract(tensor)[0]
    copy_grids = list(copies.values())
    near = Nearest(copy_grids, inspector.bank)
    copies_before = near.scores(inspector.bank, neighbours)
    result.update({
        "n_test": len(items), "taught": [f"{items[i].defect}/{items[i].path.name}" for i in taught_ids],
        "taught_scores_before": before[taught_ids].tolist(), "threshold": threshold,
        "auroc_before": auroc(labels[kept], before[kept]), "bank": len(model.memory_bank),
        "near_copies": len(copy_grids), "near_copies_ok_before": int((copies_before <= threshold).sum()),
        "near_copies_worst_before": float(copies_before.max()),
    })
    rules = {}
    for rule in RULES:
        started = time.perf_counter()
        outcome = teach(inspector, taught_paths, rule=rule)
        seconds = time.perf_counter() - started
        bank = outcome.inspector.bank
        after = test.scores(bank, neighbours)
        held_after = held.scores(bank, neighbours)
        copies_after = near.scores(bank, neighbours)
        checked = list(range(0, len(test_grids), max(1, len(test_grids) // 8)))
        full = [score for score, _ in score_grids([test_grids[i] for i in checked], bank, neighbours)]
        ng_before, ng_after = before[kept] > threshold, after[kept] > threshold
        rules[rule] = {
            "seconds": seconds, "limit": addition_limit(model, rule),
            "incremental_check": float(np.abs(after[checked] - np.asarray(full)).max()),
            "added": [image.added for image in outcome.images],
            "taught_scores_after": [image.score_after for image in outcome.images],
            "taught_ok_after": int(sum(image.score_after <= threshold for image in outcome.images)),
            "near_copies_ok_after": int((copies_after <= threshold).sum()),
            "near_copies_worst_after": float(copies_after.max()),
            "near_copies_ng_after": [name for name, score in zip(copies, copies_after) if score > threshold],
            "auroc_after": auroc(labels[kept], after[kept]),
            "good_ng_to_ok": int((~labels[kept] & ng_before & ~ng_after).sum()),
            "good_ng_before": int((~labels[kept] & ng_before).sum()),
            "defective_ng_to_ok": int((labels[kept] & ng_before & ~ng_after).sum()),
            "defective_ng_before": int((labels[kept] & ng_before).sum()),
            "largest_rise_any_test_score": float((after - before).max()),
            "held_out_largest_rise": float((held_after - held_before).max()),
            "held_out_max_after": float(held_after.max()), "held_out_max_before": float(held_before.max()),
            "held_out_above_threshold_after": int((held_after > threshold).sum()),
        }
        print(rule, json.dumps(rules[rule]), flush=True)
    result["rules"] = rules
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("category_dir", type=Path)
    parser.add_argument("--teach", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/teach"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threshold", choices=("model", "f1"), default="model",
                        help="judge by the model's threshold or the F1-optimal one on the test set")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    result = measure(args.category_dir, args.teach, args.cache / args.category_dir.name, args.threshold)
    result["seconds"] = time.perf_counter() - started
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
