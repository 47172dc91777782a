"""The default threshold rule, measured: false rejects and misses on the demo, bottle and Magnetic Tile.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_threshold.py --cache /work/cache/threshold \\
        --data demo ../shared/data/mvtec_bottle_512/bottle --fractions 0.1 0.2 0.3 --draws 300
    nice -n 10 .venv/bin/python benchmarks/bench_threshold.py --cache /work/cache/threshold --coreset 0.01 \\
        --data ../shared/data/magnetic_tile/magnetic_tile --fractions 0.2 --draws 300

Each data set's patch features (train/good and test) are extracted once with the default settings
and cached; for each calibration fraction the memory bank is built once (as ``fit`` builds it: the
same held-out split, the same coreset) and the held-out good images and the test images are scored
against it; those scores are cached too. Every candidate rule is then a function of the held-out
good scores alone, judged on the same test scores: no rule refits anything. Smaller held-out sets
than a fit would make (5, 10, 20, 50 parts) are drawn at random from the held-out scores of one fit
(``--draws`` times) to show how each rule behaves with few parts.

Printed: per data set, held-out size and rule, the threshold, the false-reject rate on the test's
good parts, the miss rate on its defective parts and the share of verdicts right; then how well
"at most 1 in N good parts rejected" predicts the false rejects measured on test/good.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np

from patchcore_gui.core import PatchCoreConfig, find_images, find_test_images, load_backbone
from patchcore_gui.core.calibration import (default_threshold, outlier_threshold, prediction_bound,
                                            threshold_for_reject_rate)
from patchcore_gui.core.memory_bank import MemoryBank
from patchcore_gui.core.patchcore import _coreset_bank, bank_candidates, extract_good_features
from patchcore_gui.core.scoring import score_grids
from patchcore_gui.core.synthetic import write_synthetic_set


def _features(paths: List[Path], config: PatchCoreConfig, backbone, cache: Path) -> np.ndarray:
    """``(n, h, w, D)`` float32 grids of ``paths``, from the cache when there."""
    if cache.is_file():
        return np.load(cache, mmap_mode="r")
    grids = extract_good_features(paths, config, backbone).grids
    array = np.stack(grids).astype(np.float32)
    np.save(cache, array)
    return array


def collect(name: str, root: Path, config: PatchCoreConfig, fractions: List[float], cache: Path) -> Dict[str, dict]:
    """Held-out good scores and test scores for each fraction: ``{fraction: {...}}``, cached as JSON."""
    ratio = "" if config.coreset_ratio == PatchCoreConfig().coreset_ratio else f"_coreset{config.coreset_ratio:g}"
    out = cache / f"{name}{ratio}_scores.json"
    known: Dict[str, dict] = json.loads(out.read_text()) if out.is_file() else {}
    missing = [f for f in fractions if f"{f:g}" not in known]
    if not missing:
        return known
    train, _ = find_images([root / "train" / "good"])
    tests = find_test_images(root)
    backbone = load_backbone(config.backbone, config.layers)
    started = time.perf_counter()
    train_grids = _features(train, config, backbone, cache / f"{name}_train.npy")
    test_grids = _features([t.path for t in tests], config, backbone, cache / f"{name}_test.npy")
    print(f"{name}: features of {len(train_grids)} + {len(test_grids)} images ready "
          f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    for fraction in missing:
        started = time.perf_counter()
        fit_config = config.with_changes(calibration_fraction=fraction)
        grids = [np.asarray(g) for g in train_grids]
        candidates, holdout = bank_candidates(grids, fit_config)
        bank: MemoryBank = _coreset_bank(candidates, fit_config, None, None)
        del candidates
        good = [s for s, _ in score_grids([grids[i] for i in holdout], bank, config.reweight_neighbours)]
        test = []
        for begin in range(0, len(test_grids), 32):
            chunk = [np.asarray(g) for g in test_grids[begin:begin + 32]]
            test += [s for s, _ in score_grids(chunk, bank, config.reweight_neighbours)]
        known[f"{fraction:g}"] = {"good_scores": [float(s) for s in good], "test_scores": [float(s) for s in test],
                                  "defects": [t.defect for t in tests], "n_train": len(train_grids)}
        out.write_text(json.dumps(known))
        print(f"{name}: fraction {fraction:g}: bank {len(bank)}, {len(good)} held out "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return known


# --- the candidate rules: each a function of the held-out good scores only ----------------------------
Rule = Callable[[np.ndarray], float]


def _normal(good: np.ndarray, z: float) -> float:
    return float(np.mean(good) + z * np.std(good, ddof=1))


RULES: Dict[str, Rule] = {
    "max + 0.1 spread (old)": lambda g: default_threshold(g, 1.0, 0.1),
    "max": lambda g: float(np.max(g)),
    "empirical 99%": lambda g: float(np.quantile(g, 0.99)),
    "mean + 2.33 sd": lambda g: _normal(g, 2.326),
    "median + 3.5 MAD-sd (outlier z 3.5)": lambda g: outlier_threshold(g, 3.5),
    "1 in 100 (engine)": lambda g: threshold_for_reject_rate(g, 0.01).threshold,
    "1 in 300 (engine)": lambda g: threshold_for_reject_rate(g, 1 / 300).threshold,
    "1 in 1000 (engine)": lambda g: threshold_for_reject_rate(g, 0.001).threshold,
    "1 in 1000, log-normal": lambda g: float(np.exp(prediction_bound(np.log(g), 0.001))),
    "outlier z 3.5, or 1 in 100 if higher": lambda g: max(outlier_threshold(g, 3.5),
                                                         threshold_for_reject_rate(g, 0.01).threshold),
}


def judge(threshold: float, test: np.ndarray, anomalous: np.ndarray) -> Tuple[float, float, float]:
    """(false-reject rate on good, miss rate on defective, share right) at ``threshold``."""
    ng = test > threshold
    return float(np.mean(ng[~anomalous])), float(np.mean(~ng[anomalous])), float(np.mean(ng == anomalous))


def table(name: str, scores: Dict[str, dict], draws: int, sizes: List[int], rng: np.random.Generator) -> List[str]:
    lines = []
    for fraction, data in sorted(scores.items(), key=lambda item: float(item[0])):
        good = np.asarray(data["good_scores"])
        test = np.asarray(data["test_scores"])
        anomalous = np.asarray(data["defects"]) != "good"
        for rule, function in RULES.items():
            threshold = function(good)
            frr, miss, right = judge(threshold, test, anomalous)
            lines.append(f"| {name} | fit, fraction {fraction} ({len(good)} held out) | {rule} | {threshold:.3f} | "
                         f"{frr:.1%} | {miss:.1%} | **{right:.1%}** |")
    # smaller held-out sets, drawn from the fit with the most held-out parts
    fraction, data = max(scores.items(), key=lambda item: len(item[1]["good_scores"]))
    good_all = np.asarray(data["good_scores"])
    test = np.asarray(data["test_scores"])
    anomalous = np.asarray(data["defects"]) != "good"
    for size in sizes:
        if size >= len(good_all):
            continue
        for rule, function in RULES.items():
            outcomes = np.array([judge(function(rng.choice(good_all, size, replace=False)), test, anomalous)
                                 for _ in range(draws)])
            frr, miss, right = outcomes.mean(axis=0)
            worst = np.quantile(outcomes[:, 2], 0.05)
            lines.append(f"| {name} | {size} drawn of {len(good_all)}, {draws}x | {rule} | - | {frr:.1%} | {miss:.1%} "
                         f"| **{right:.1%}** (5% of draws below {worst:.1%}) |")
    return lines


def tail_check(name: str, scores: Dict[str, dict], rates: List[int]) -> List[str]:
    """Asked "at most 1 in N" against the false rejects measured on test/good, for each fit."""
    lines = []
    for fraction, data in sorted(scores.items(), key=lambda item: float(item[0])):
        good = np.asarray(data["good_scores"])
        test = np.asarray(data["test_scores"])
        test_good = test[np.asarray(data["defects"]) == "good"]
        for n in rates:
            chosen = threshold_for_reject_rate(good, 1.0 / n)
            rejected = int(np.sum(test_good > chosen.threshold))
            lines.append(f"| {name} | {fraction} ({len(good)}) | 1 in {n} | {chosen.method} | {chosen.threshold:.3f} | "
                         f"{rejected} of {len(test_good)} ({rejected / len(test_good):.1%}) |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", required=True, help="'demo' or category folders (MVTec layout)")
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.1, 0.2, 0.3])
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/threshold"))
    parser.add_argument("--sizes", nargs="+", type=int, default=[5, 10, 20, 50])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--rates", nargs="+", type=int, default=[10, 20, 50, 100, 1000])
    parser.add_argument("--collect-only", action="store_true")
    parser.add_argument("--coreset", type=float, default=PatchCoreConfig().coreset_ratio,
                        help="memory bank share (default: the program's); a smaller one for a quick look")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    config = PatchCoreConfig(coreset_ratio=args.coreset)
    rows, tails = [], []
    for entry in args.data:
        if entry == "demo":
            root, name = args.cache / "demo_data", "demo"
            if not (root / "train").is_dir():
                write_synthetic_set(root, seed=0)  # the very parts `patchcore demo` makes
        else:
            root = Path(entry)
            name = root.name
        scores = collect(name, root, config, args.fractions, args.cache)
        if args.coreset != PatchCoreConfig().coreset_ratio:
            name = f"{name} (coreset {args.coreset:g})"
        if args.collect_only:
            continue
        rows += table(name, {k: v for k, v in scores.items() if float(k) in args.fractions}, args.draws, args.sizes,
                      np.random.default_rng(0))
        tails += tail_check(name, {k: v for k, v in scores.items() if float(k) in args.fractions}, args.rates)
    if rows:
        print("| data | held-out good parts | rule | threshold | false rejects (good) | misses (defective) | right |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))
        print()
        print("| data | fraction (held out) | asked | estimate | threshold | good test parts rejected |")
        print("|---|---|---|---|---|---|")
        print("\n".join(tails))
    return 0


if __name__ == "__main__":
    sys.exit(main())
