"""Peak memory of fitting as the number of good images grows (synthetic parts, one child process each).

Usage::

    .venv/bin/python benchmarks/bench_fit_memory.py [--counts 200 800 2000] [--coreset 0.1] [--work /tmp/fitmem]

Writes ``max(counts)`` synthetic good parts (192 px) into ``--work`` once, then fits on the first
N of them in a fresh process per N and prints the process's peak RSS, the size the patch features
of N images take, the bank size and the fit time. What should grow is the feature array (N x 784
x 472 float32 with the default layers and 224 px input): about 1.48 MB per image, held once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)
from isolated import peak_rss_mb, run_isolated


def measure_fit(paths: List[str], coreset: float) -> Dict[str, Any]:
    from patchcore_gui.core import PatchCoreConfig, fit

    baseline = peak_rss_mb()
    started = time.perf_counter()
    result = fit(paths, PatchCoreConfig(coreset_ratio=coreset))
    model = result.model
    return {"n": len(paths), "rss_before_mb": baseline, "seconds": time.perf_counter() - started,
            "stages": result.seconds, "bank": len(model.memory_bank), "candidates": model.n_patches,
            "features_mb": model.n_good_images * model.feature_grid[0] * model.feature_grid[1]
            * model.memory_bank.shape[1] * 4 / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 800, 2000])
    parser.add_argument("--coreset", type=float, default=0.1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/patchcore-fit-memory"))
    args = parser.parse_args()

    import numpy as np

    from patchcore_gui.core import good_part, write_png

    folder = args.work / "good"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for index in range(max(args.counts)):
        path = folder / f"part_{index:05d}.png"
        image = good_part(rng)
        if not path.exists():
            write_png(path, image)
        paths.append(str(path))
    rows: List[Dict[str, Any]] = []
    for n in sorted(args.counts):
        row = run_isolated(measure_fit, paths[:n], args.coreset)
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
