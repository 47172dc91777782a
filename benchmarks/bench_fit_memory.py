"""Peak memory of fitting as the number of good images grows (synthetic parts, one child process each).

Usage::

    .venv/bin/python benchmarks/bench_fit_memory.py [--counts 200 800 2000] [--coreset 0.1] [--work /tmp/fitmem]

Writes ``max(counts)`` synthetic good parts (192 px) into ``--work`` once, then fits on the first
N of them in a fresh process per N and prints the process's peak RSS, the size the patch features
of N images take, the bank size and the fit time. What should grow is the feature array (N x 784
x 152 float32 at the default 224 px input): about 0.48 MB per image, held once.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)


def _fit_child(paths: List[str], coreset: float, queue: "multiprocessing.Queue[Any]") -> None:
    from patchcore_gui.core.config import PatchCoreConfig
    from patchcore_gui.core.patchcore import fit

    try:
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        result = fit(paths, PatchCoreConfig(coreset_ratio=coreset))
        model = result.model
        queue.put({"n": len(paths), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "rss_before_mb": baseline, "seconds": time.perf_counter() - started,
                   "stages": result.seconds, "bank": len(model.memory_bank), "candidates": model.n_patches,
                   "features_mb": model.n_good_images * model.feature_grid[0] * model.feature_grid[1]
                   * model.memory_bank.shape[1] * 4 / 2**20})
    except BaseException as exc:  # reported by the parent
        queue.put({"n": len(paths), "error": f"{type(exc).__name__}: {exc}"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 800, 2000])
    parser.add_argument("--coreset", type=float, default=0.1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/patchcore-fit-memory"))
    args = parser.parse_args()

    import numpy as np

    import cv2

    from patchcore_gui.core.synthetic import good_part

    folder = args.work / "good"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for index in range(max(args.counts)):
        path = folder / f"part_{index:05d}.png"
        image = good_part(rng)
        if not path.exists():
            cv2.imwrite(str(path), image[..., ::-1])
        paths.append(str(path))
    context = multiprocessing.get_context("spawn")
    rows: List[Dict[str, Any]] = []
    for n in sorted(args.counts):
        queue = context.Queue()
        child = context.Process(target=_fit_child, args=(paths[:n], args.coreset, queue))
        child.start()
        row = queue.get()
        child.join()
        if "error" in row:
            print(f"{n} images: {row['error']}", file=sys.stderr)
            continue
        rows.append(row)
        print(f"{n:5d} good images: peak RSS {row['peak_rss_mb']:6.0f} MB (process after imports "
              f"{row['rss_before_mb']:.0f} MB), features {row['features_mb']:6.0f} MB, "
              f"{row['candidates']:,} candidates -> bank {row['bank']:,}; fit {row['seconds']:.0f} s "
              f"(features {row['stages']['features']:.0f}, coreset {row['stages']['coreset']:.0f})", flush=True)
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        slope = (last["peak_rss_mb"] - first["peak_rss_mb"]) / (last["n"] - first["n"])
        print(f"peak RSS grows by {slope:.2f} MB per good image")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
