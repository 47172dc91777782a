"""The bank from every good image against the fit's bank without the held-out ones (issue 15, item 4).

Usage::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_bank_from_all.py ../shared/data/magnetic_tile/magnetic_tile \\
        lite1 '{"geometry": "tile", "tile": 384, "overlap": 64, "backbone": "tf_efficientnet_lite1"}' --ratio 0.01 \\
        --cache /work/cache/backbone --json bank_from_all.json

The variant's features come from ``bench_geometry.py``'s cache under ``--cache`` (the same NAME and
JSON as its ``--variant``; extracted on first use). Three ways are
scored on every test image:

- ``fit``: today's fit: the bank from the images not held out, the threshold from the held-out ones;
- ``all, fit's threshold``: the bank from every good image, judged at the fit's threshold;
- ``all, own-out threshold``: the bank from every good image, the threshold from the held-out images
  each scored against that bank without the vectors taken from itself (no image is scored against
  its own patches, so the threshold is learned as honestly as the fit's).

Reported per way: image AUROC, threshold, verdicts right, false rejects, misses, bank size, coreset seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np

from bench_geometry import _features, variant_cache
from patchcore_gui.core import (MemoryBank, PatchCoreConfig, auroc, coreset_size, find_images, find_test_images,
                                greedy_coreset, score_grids)
from patchcore_gui.core.calibration import holdout_split, learned_threshold


def _coreset(grids: Sequence[np.ndarray], ids: Sequence[int], config: PatchCoreConfig) -> Tuple[np.ndarray, np.ndarray]:
    """The bank of the grids ``ids`` and, per bank vector, the grid it came from."""
    candidates = np.concatenate([grids[i].reshape(-1, grids[i].shape[-1]) for i in ids])
    source = np.concatenate([np.full(grids[i].shape[0] * grids[i].shape[1], i) for i in ids])
    chosen = np.sort(greedy_coreset(candidates, coreset_size(len(candidates), config.coreset_ratio),
                                    config.projection_dim, config.seed))
    return candidates[chosen], source[chosen]


def _scores(grids: Sequence[np.ndarray], bank: MemoryBank, config: PatchCoreConfig) -> np.ndarray:
    return np.array([score for begin in range(0, len(grids), 8)
                     for score, _ in score_grids(grids[begin:begin + 8], bank, config.reweight_neighbours)])


def _judged(name: str, scores: np.ndarray, labels: np.ndarray, threshold: float, bank: int,
            coreset_s: float) -> Dict[str, object]:
    called_ng = scores > threshold
    return {"way": name, "image_auroc": auroc(labels, scores), "threshold": float(threshold),
            "right": float(np.mean(called_ng == (labels == 1))),
            "false_rejects": int(np.sum(called_ng & (labels == 0))),
            "misses": int(np.sum(~called_ng & (labels == 1))), "bank": bank, "coreset_s": coreset_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("category", type=Path)
    parser.add_argument("name", help="the variant's name, as bench_geometry.py's --variant NAME")
    parser.add_argument("config", help="a JSON object of PatchCoreConfig fields, as its --variant JSON")
    parser.add_argument("--ratio", type=float, default=0.1, help="coreset ratio")
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/geometry"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    variant = PatchCoreConfig(**json.loads(args.config))
    cache = variant_cache(args.cache, args.category, args.name, variant)
    config = variant.with_changes(coreset_ratio=args.ratio)
    train, _ = find_images([args.category / "train" / "good"])
    tests = find_test_images(args.category)
    good, _, _ = _features(train, config, cache, "train", 1)
    test, _, _ = _features([t.path for t in tests], config, cache, "test", 1)
    labels = np.array([int(t.anomalous) for t in tests])
    bank_ids, held_out = holdout_split(len(good), config.calibration_fraction)
    rows: List[Dict[str, object]] = []

    started = time.perf_counter()
    vectors, _ = _coreset(good, bank_ids, config)
    fit_bank, fit_s = MemoryBank(vectors), time.perf_counter() - started
    fit_good = np.array([score_grids([good[i]], fit_bank, config.reweight_neighbours)[0][0] for i in held_out])
    fit_threshold = learned_threshold(fit_good, config)
    rows.append(_judged("fit", _scores(test, fit_bank, config), labels, fit_threshold, len(vectors), fit_s))

    started = time.perf_counter()
    vectors, source = _coreset(good, np.arange(len(good)), config)
    all_bank, all_s = MemoryBank(vectors), time.perf_counter() - started
    all_scores = _scores(test, all_bank, config)
    rows.append(_judged("all, fit's threshold", all_scores, labels, fit_threshold, len(vectors), all_s))
    own_out = np.array([score_grids([good[i]], MemoryBank(vectors[source != i], clustered=False),
                                    config.reweight_neighbours)[0][0] for i in held_out])
    rows.append(_judged("all, own-out threshold", all_scores, labels, learned_threshold(own_out, config),
                        len(vectors), all_s))
    for row in rows:
        print(json.dumps(row), flush=True)
    print(f"held-out good scores, median: against the fit's bank {np.median(fit_good):.2f}, "
          f"against all with their own vectors out {np.median(own_out):.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
