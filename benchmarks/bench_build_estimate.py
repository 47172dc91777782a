"""The build's time estimate against the time one part takes: what a person is told before building, checked.

For each saved model (with the MVTec-layout category it was built from), in one run:
- the estimate ``patchcore fit --estimate`` gives, untimed (the development machines' rough rates) and timed
  on this PC (``build_cost.time_this_pc``, the network and a fixed product timed here);
- the time one part takes, as a line inspects it: read from disk and inspected alone (``Inspector.inspect``),
  over every Nth test image of the category (all kinds, all sizes), mean and median after three that warm up.

With ``--others N``, N other programs each keep a core busy for the whole run (timing and parts alike): the
estimate of a busy PC, and what it says of the load, against what parts then take.

    OMP_NUM_THREADS=2 python benchmarks/bench_build_estimate.py mt.patchcore ../shared/data/magnetic_tile/magnetic_tile \\
        bottle.patchcore ../shared/data/mvtec_bottle_512/bottle --every 4
"""

from __future__ import annotations

import argparse
import glob
import subprocess
import sys
import time
from pathlib import Path

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

import numpy as np

from patchcore_gui.core import Inspector, load_model, read_image
from patchcore_gui.core.build_cost import estimate_build_cost, image_sizes, time_this_pc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="MODEL CATEGORY_DIR, one pair per model")
    parser.add_argument("--every", type=int, default=4, help="inspect every Nth sorted test image")
    parser.add_argument("--others", type=int, default=0, help="other programs keeping a core busy each")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give a category folder after each model")
    spin = "while True: pass"
    others = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(args.others)]
    try:
        _compare(args)
    finally:
        for other in others:
            other.kill()
            other.wait()


def _compare(args: argparse.Namespace) -> None:
    print("| model | bank | estimate, rough | timed network per input | multiply factor | others' share of the cores "
          "| estimate, timed | one part: mean | median | parts | timed estimate / mean |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model_path, category in zip(args.pairs[::2], args.pairs[1::2]):
        model = load_model(model_path)
        good = sorted(Path(category, "train", "good").glob("*.png"))
        sizes = image_sizes(good)
        rough = estimate_build_cost(model.config, sizes, len(good))
        speed = time_this_pc(model.config)
        timed = estimate_build_cost(model.config, sizes, len(good), speed=speed)
        inspector = Inspector(model)
        paths = sorted(glob.glob(str(Path(category, "test", "*", "*.png"))))[::max(1, args.every)]
        seconds = []
        for path in paths:
            started = time.perf_counter()
            inspector.inspect(read_image(path))
            seconds.append(time.perf_counter() - started)
        part_ms = 1000 * np.asarray(seconds[3:])
        mean = float(part_ms.mean())
        print(f"| {Path(model_path).name} | {len(model.memory_bank):,} | {rough.ms_per_image:.0f} ms "
              f"| {speed.network_ms:.1f} ms ({speed.input_size} px) | {speed.multiply_factor:.2f} | {speed.others_busy:.0%} "
              f"| {timed.ms_per_image:.0f} ms | {mean:.1f} ms | {float(np.median(part_ms)):.1f} ms | {len(part_ms)} "
              f"| {timed.ms_per_image / mean:.2f} |", flush=True)


if __name__ == "__main__":
    main()
