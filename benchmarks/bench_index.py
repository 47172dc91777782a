"""The search as the bank grows, exact against approximate, and the bank from all good images.

Usage (features cached first with ``benchmarks/index_cache.py``)::

    nice -n 10 .venv/bin/python benchmarks/bench_index.py growth /work/cache/index/bottle_224 \\
        --sizes 10000 40000 160000 --queries 8 --json growth.json
    nice -n 10 .venv/bin/python benchmarks/bench_index.py accuracy /work/cache/index/magnetic_tile_224 --json acc.json

``growth``: banks of the given sizes drawn at random (seed 0) from the patch vectors of all good
images (a random draw, not a coreset: a coreset of the same size is more spread out, so this
favours pruning a little), queried with the patches of ``--queries`` test images spread over the
test set, one image at a time. For each bank: the exact clustered search (the default) with its
build time, the flat faiss search while it takes under a few seconds, faiss IVF at several probe
shares and HNSW (up to ``--hnsw-max``), each with its build time (what opening a model would cost),
ms per image and recall of the true nearest neighbour (the exact search's distance reached within
1e-4).

``accuracy``: the engine's own fit on the cached features (10% greedy coreset of the bank images, the
held-out 20% calibrating the threshold), then the whole test set scored in batches of 8 as
``Inspector.inspect_paths`` does, for the exact search, IVF at the engine's settings and other probe
shares, and the bank built from all good images (threshold from the held-out pass against the bank
without them). Reports image and pixel AUROC, the verdicts at the default threshold, recall, and
search ms per image. The coresets are cached beside the features.

``model``: a saved model's own bank (any geometry), searched exactly and with the default IVF built
on it, for the patches of every ``--every``-th image matched by the pattern; recall and the two
searches' times, twice each, in turns::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_index.py model mt.patchcore \
        '../shared/data/magnetic_tile/magnetic_tile/test/*/*.png' --every 4
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

import faiss
import numpy as np

from patchcore_gui.core import (ClusteredBank, MemoryBank, PatchCoreConfig, auroc, calibrate, cluster_count,
                                coreset_size, greedy_coreset, holdout_split, pixel_auroc, score_grids)
from patchcore_gui.core.evaluate import TestImage, read_mask
from patchcore_gui.core.images import map_to_original
from patchcore_gui.core.memory_bank import IvfBank, SearchIndex, ivf_centroids
from patchcore_gui.core.scoring import anomaly_map
from index_cache import read_cache

RECALL_TOLERANCE = 1e-4


def _timed(call: Callable[..., Any], *arguments: Any) -> Tuple[Any, float]:
    started = time.perf_counter()
    result = call(*arguments)
    return result, time.perf_counter() - started


def _distances(queries: np.ndarray, bank: np.ndarray, index: np.ndarray) -> np.ndarray:
    difference = queries - bank[np.maximum(index, 0)]
    found = np.sqrt(np.einsum("ij,ij->i", difference, difference))
    return np.where(index < 0, np.inf, found)


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean(found <= exact * (1 + RECALL_TOLERANCE) + 1e-6))


def _in_turns(searches: Dict[str, Callable[[np.ndarray], np.ndarray]], queries: Sequence[np.ndarray]
              ) -> Dict[str, Tuple[List[np.ndarray], float]]:
    """Each search on each image, taking turns image by image (so a change in the machine's load
    falls on all of them alike): the indices found and the median ms per image, after one warm-up."""
    for search in searches.values():
        search(queries[0])
    found: Dict[str, List[np.ndarray]] = {name: [] for name in searches}
    seconds: Dict[str, List[float]] = {name: [] for name in searches}
    for patches in queries:
        for name, search in searches.items():
            index, took = _timed(search, patches)
            found[name].append(index)
            seconds[name].append(took)
    return {name: (found[name], 1000 * float(np.median(seconds[name]))) for name in searches}


def _hnsw_search(index: Any, ef: int) -> Callable[[np.ndarray], np.ndarray]:
    def search(queries: np.ndarray) -> np.ndarray:
        index.hnsw.efSearch = ef
        return index.search(queries, 1)[1][:, 0]
    return search


def growth(cache: Path, sizes: Sequence[int], n_queries: int, probe_shares: Sequence[float], hnsw_max: int,
           flat_max: int, cluster_factors: Sequence[float]) -> List[Dict[str, Any]]:
    train, test, meta, _ = read_cache(cache)
    dim = train.shape[-1]
    pool = train.reshape(-1, dim)
    picks = np.linspace(0, len(test) - 1, n_queries).round().astype(int)
    queries = [np.ascontiguousarray(test[i].reshape(-1, dim)) for i in picks]
    rows = []
    for size in sizes:
        if size > len(pool):
            print(f"{cache.name}: only {len(pool):,} patch vectors, no bank of {size:,}")
            continue
        rng = np.random.default_rng(0)
        bank = np.ascontiguousarray(pool[np.sort(rng.choice(len(pool), size, replace=False))])
        row: Dict[str, Any] = {"features": cache.name, "bank": size, "patches_per_image": len(queries[0]),
                               "load_before": os.getloadavg()[0]}
        searches: Dict[str, Callable[[np.ndarray], np.ndarray]] = {}
        build: Dict[str, float] = {}
        clustered, build["exact"] = _timed(ClusteredBank, bank, cluster_count(size))
        searches["exact"] = lambda q, c=clustered: c.search(q)[1]
        for factor in cluster_factors:  # would another number of clusters serve the exact search better?
            clusters = max(1, int(round(np.sqrt(size) * factor)))
            if clusters != clustered.n_clusters:
                other, build[f"exact, {clusters} clusters"] = _timed(ClusteredBank, bank, clusters)
                searches[f"exact, {clusters} clusters"] = lambda q, c=other: c.search(q)[1]
        if size <= flat_max:
            searches["flat"] = lambda q: faiss.knn(q, bank, 1)[1][:, 0]
        spec = SearchIndex.for_bank("ivf", size)
        centroids, row["ivf_train_s"] = _timed(ivf_centroids, bank, spec.lists)
        for share in probe_shares:
            probes = int(np.clip(round(spec.lists * share), 1, spec.lists))
            name = f"ivf {probes}/{spec.lists}"
            ivf, build[name] = _timed(IvfBank, bank, centroids, probes)
            searches[name] = ivf.search
        if size <= hnsw_max:
            hnsw = faiss.IndexHNSWFlat(dim, 32)
            hnsw.hnsw.efConstruction = 40
            _, build["hnsw"] = _timed(hnsw.add, bank)
            for ef in (16, 32, 64):
                searches[f"hnsw ef {ef}"] = _hnsw_search(hnsw, ef)
        results = _in_turns(searches, queries)
        exact = [_distances(q, bank, i) for q, i in zip(queries, results["exact"][0])]
        row["exact_clusters"] = clustered.n_clusters
        row["searches"] = {
            name: {"ms": ms, "build_s": build.get(name.split(" ef ")[0]),
                   "recall": float(np.mean([_recall(_distances(q, bank, f), e)
                                            for q, f, e in zip(queries, found, exact)]))}
            for name, (found, ms) in results.items()}
        row["load_after"] = os.getloadavg()[0]
        print(json.dumps(row), flush=True)
        rows.append(row)
        del searches, results, clustered
    return rows


def _coreset(cache: Path, name: str, candidates: np.ndarray, config: PatchCoreConfig) -> np.ndarray:
    """Indices of the greedy coreset of ``candidates``, computed once and kept beside the features."""
    target = cache / f"coreset_{name}{'' if config.coreset_ratio == 0.1 else f'_{config.coreset_ratio}'}.npy"
    if target.exists():
        return np.load(target)
    selected, seconds = _timed(greedy_coreset, candidates, coreset_size(len(candidates), config.coreset_ratio),
                               config.projection_dim, config.seed)
    print(f"coreset {name}: {len(selected):,} of {len(candidates):,} in {seconds:.0f} s", flush=True)
    np.save(target, np.sort(selected))
    return np.load(target)


def _candidates(train: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(train[ids].reshape(-1, train.shape[-1]))


def accuracy(cache: Path, probe_shares: Sequence[float], coreset: Optional[float] = None, batch: int = 8
             ) -> List[Dict[str, Any]]:
    train, test, meta, prep = read_cache(cache)
    config = PatchCoreConfig.from_dict(meta["config"])
    if coreset is not None:
        config = config.with_changes(coreset_ratio=coreset)
    bank_ids, holdout_ids = holdout_split(len(train), config.calibration_fraction)
    candidates = _candidates(train, bank_ids)
    bank_80 = candidates[_coreset(cache, "bank_images", candidates, config)]
    del candidates
    candidates = _candidates(train, np.arange(len(train)))
    bank_all = candidates[_coreset(cache, "all_images", candidates, config)]
    del candidates
    holdout = [np.asarray(train[i]) for i in holdout_ids]
    items = [TestImage(Path(t["path"]), t["defect"], None if t["mask"] is None else Path(t["mask"])) for t in meta["test"]]
    labels = np.asarray([item.anomalous for item in items], dtype=int)
    has_masks = any(item.mask_path is not None for item in items)
    masks = [read_mask(item, tuple(t["original"])) for item, t in zip(items, meta["test"])] if has_masks else []

    def run(name: str, bank: MemoryBank, threshold_bank: Optional[MemoryBank] = None,
            reference: Optional[List[np.ndarray]] = None) -> Tuple[Dict[str, Any], List[np.ndarray]]:
        calibration = calibrate(holdout, threshold_bank or bank, config, prep)
        scores, maps, nearest_distances = [], [], []
        seconds = 0.0
        for begin in range(0, len(test), batch):
            grids = [np.asarray(grid) for grid in test[begin:begin + batch]]
            scored, took = _timed(score_grids, grids, bank, config.reweight_neighbours)
            seconds += took
            for (score, patch_scores), t in zip(scored, meta["test"][begin:begin + batch]):
                scores.append(score)
                nearest_distances.append(patch_scores.ravel())
                if has_masks:
                    maps.append(map_to_original(anomaly_map(patch_scores, prep.input_size, config.sigma),
                                                tuple(t["original"]), prep))
        score_array = np.asarray(scores)
        verdicts = score_array > calibration.threshold
        row = {"features": cache.name, "coreset": config.coreset_ratio, "search": name, "bank": len(bank), "threshold": calibration.threshold,
               "image_auroc": auroc(labels, score_array),
               "pixel_auroc": pixel_auroc(masks, maps) if has_masks else None,
               "accuracy": float(np.mean(verdicts == labels.astype(bool))),
               "good_called_ng": int(np.sum(verdicts & (labels == 0))), "ng_called_ok": int(np.sum(~verdicts & (labels == 1))),
               "search_ms_per_image": 1000 * seconds / len(test)}
        if reference is not None:
            row["recall"] = float(np.mean([_recall(found, exact) for found, exact in zip(nearest_distances, reference)]))
        row["scores"] = score_array.tolist()
        print(json.dumps({k: v for k, v in row.items() if k != "scores"}), flush=True)
        return row, nearest_distances

    rows = []
    exact_bank, build_s = _timed(MemoryBank, bank_80)
    exact_row, reference = run("exact", exact_bank)
    exact_row["build_s"] = build_s
    rows.append(exact_row)
    del exact_bank
    default = SearchIndex.for_bank("ivf", len(bank_80))
    probe_counts = {int(np.clip(round(default.lists * share), 1, default.lists)) for share in probe_shares}
    centroids = None
    for probes in sorted(probe_counts | {default.probes}):
        spec = SearchIndex("ivf", default.lists, probes)
        started = time.perf_counter()
        ivf_bank = MemoryBank(bank_80, search=spec, centroids=centroids)
        build_s = time.perf_counter() - started
        centroids = ivf_bank.centroids
        row, _ = run(f"ivf {spec.probes}/{spec.lists}" + (" (default)" if spec == default else ""), ivf_bank,
                     reference=reference)
        row["build_s"] = build_s
        rows.append(row)
    # all good images in the bank; the threshold still from the held-out images against the bank without them
    row, _ = run("exact, bank of all good images", MemoryBank(bank_all), threshold_bank=MemoryBank(bank_80))
    row["verdicts_changed_vs_exact"] = int(np.sum((np.asarray(row["scores"]) > row["threshold"])
                                                   != (np.asarray(exact_row["scores"]) > exact_row["threshold"])))
    rows.append(row)
    return rows


def of_model(model_path: Path, pattern: str, every: int) -> List[Dict[str, Any]]:
    import glob

    from patchcore_gui.core import Inspector, load_model

    model = load_model(model_path)
    inspector = Inspector(model)
    paths = sorted(glob.glob(pattern))[::every]
    grids = [outcome[0] for _, outcome in inspector.feature_grids(paths) if not isinstance(outcome, str)]
    queries = np.concatenate([grid.reshape(-1, grid.shape[-1]) for grid in grids])
    vectors = model.bank_vectors()
    index = SearchIndex.for_bank("ivf", len(vectors))
    ivf, build_s = _timed(MemoryBank, vectors, False, index)
    seconds: Dict[str, List[float]] = {"exact": [], "ivf": []}
    found: Dict[str, np.ndarray] = {}
    for name, bank in [("exact", inspector.bank), ("ivf", ivf)] * 2:
        (distances, _), took = _timed(bank.nearest, queries)
        seconds[name].append(took)
        found[name] = distances[:, 0]
    row = {"model": str(model_path), "images": len(grids), "patches": len(queries), "bank": len(vectors),
           "ivf": index.describe(), "ivf_build_s": build_s, "recall": _recall(found["ivf"], found["exact"]),
           "exact_s": seconds["exact"], "ivf_s": seconds["ivf"]}
    print(json.dumps(row), flush=True)
    return [row]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("growth")
    p.add_argument("caches", type=Path, nargs="+")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 160_000, 640_000])
    p.add_argument("--queries", type=int, default=8)
    p.add_argument("--probes", type=float, nargs="+", default=[0.01, 0.02, 0.05])
    p.add_argument("--hnsw-max", type=int, default=160_000)
    p.add_argument("--flat-max", type=int, default=160_000)
    p.add_argument("--cluster-factors", type=float, nargs="*", default=[0.5, 1.0],
                   help="also time the exact search with sqrt(bank) x these clusters (the default: / 4, at most 96)")
    p.add_argument("--json")
    p = sub.add_parser("accuracy")
    p.add_argument("caches", type=Path, nargs="+")
    p.add_argument("--probes", type=float, nargs="+", default=[0.01, 0.05])
    p.add_argument("--coreset", type=float, help="coreset ratio instead of the default 0.1 (a quicker proxy)")
    p.add_argument("--json")
    p = sub.add_parser("model")
    p.add_argument("model", type=Path)
    p.add_argument("pattern", help="the images whose patches are searched (a glob)")
    p.add_argument("--every", type=int, default=4)
    p.add_argument("--json")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    rows: List[Dict[str, Any]] = []
    if args.command == "model":
        rows += of_model(args.model, args.pattern, args.every)
    for cache in getattr(args, "caches", []):
        if args.command == "growth":
            rows += growth(cache, args.sizes, args.queries, args.probes, args.hnsw_max, args.flat_max,
                           args.cluster_factors)
        else:
            rows += accuracy(cache, args.probes, args.coreset)
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
