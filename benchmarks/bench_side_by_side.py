"""Parts inspected side by side, each on one core: one thread, two threads, two worker processes.

The same test parts (bottle's unless ``--data``), one at a time per inspector, no line around them, in one run:

    python benchmarks/bench_side_by_side.py [--model /tmp/bench_line_bottle.patchcore] [--count 40] [--data CATEGORY]

Two threads share one process's interpreter lock; two processes (the line's workers,
``line/inspection_processes.py``) do not. Prints parts per second for each.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from patchcore_gui.core import Inspector, find_images, load_model  # noqa: E402
from patchcore_gui.line.inspection_processes import InspectionProcesses  # noqa: E402

BOTTLE = ROOT.parent / "shared" / "data" / "mvtec_bottle_512" / "bottle"


def one_by_one(inspect, paths: Sequence[Path]) -> None:
    for path in paths:
        inspect([path])


def rate(inspect, paths: List[Path], inspectors: int) -> float:
    """Parts per second with ``inspectors`` threads each calling ``inspect`` on one part at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(inspectors, initializer=threadpool_limits, initargs=(1,)) as pool:
        for done in [pool.submit(one_by_one, inspect, paths[i::inspectors]) for i in range(inspectors)]:
            done.result()
    return len(paths) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path("/tmp/bench_line_bottle.patchcore"),
                        help="a bottle model (benchmarks/bench_line.py fits and keeps one there)")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--data", type=Path, default=BOTTLE, help="the category (MVTec layout) whose test parts are used")
    args = parser.parse_args()
    if not args.data.is_dir() or not args.model.exists():
        print(f"needs a category at {args.data} and a model at {args.model}", file=sys.stderr)
        return 2
    paths = find_images([args.data / "test"])[0][:args.count]
    model = load_model(args.model)
    torch.set_num_threads(1)
    threadpool_limits(1)
    inspector = Inspector(model)
    in_process = lambda batch: list(inspector.inspect_paths(batch))  # noqa: E731
    in_process(paths[:3])
    print(f"one thread:      {rate(in_process, paths, 1):5.1f} parts/s", flush=True)
    print(f"two threads:     {rate(in_process, paths, 2):5.1f} parts/s", flush=True)
    with InspectionProcesses(model, 2, inspector.backbone.weights_path) as workers:
        rate(workers.inspect_paths, paths[:4], 2)  # each worker warmed up
        print(f"two processes:   {rate(workers.inspect_paths, paths, 2):5.1f} parts/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
