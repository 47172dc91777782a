"""The build's time, said before it starts, against the build: what a person is told, checked stage by stage.

For each folder of good parts, in one run: the estimate ``patchcore fit --estimate`` gives (timed on this PC,
the automatic choices unless ``--config`` is given), then the fit itself (``core.fit``, in this process, as the
CLI and the window run it), its stages' seconds and the whole wall time from loading the network to the model.

    OMP_NUM_THREADS=2 python benchmarks/bench_fit_estimate.py ../shared/data/mvtec_bottle_512/bottle/train/good \\
        ../shared/data/magnetic_tile/magnetic_tile/train/good
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

from patchcore_gui.core import PatchCoreConfig, find_images, fit
from patchcore_gui.core.build_cost import (estimate_build_cost, image_sizes, resolved_config, time_this_pc,
                                           with_automatic_choices)
from patchcore_gui.core.patchcore import HELD_OUT_STAGE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders of good parts")
    parser.add_argument("--config", default=None, help="a JSON object of PatchCoreConfig fields instead of the "
                        "automatic choices")
    args = parser.parse_args()
    print("| good parts | parts | estimate: features + bank + calibration = build | build: features + bank "
          "(+ held-out) + calibration | build, wall | estimate / build |")
    print("|---|---|---|---|---|---|")
    for folder in args.folders:
        paths, _ = find_images([folder])
        sizes = image_sizes(paths)
        if args.config:
            config = PatchCoreConfig(**json.loads(args.config))
        else:
            config = with_automatic_choices(resolved_config(PatchCoreConfig(), sizes, automatic=True))
        cost = estimate_build_cost(config, sizes, len(paths), speed=time_this_pc(config))
        started = time.perf_counter()
        result = fit(paths, config)
        wall = time.perf_counter() - started
        took = result.seconds
        held = took.get(HELD_OUT_STAGE, 0.0)
        print(f"| {folder} | {len(paths)} | {cost.features_s:.1f} + {cost.coreset_s:.1f} + {cost.calibration_s:.1f} "
              f"= {cost.fit_s:.1f} s | {took['features']:.1f} + {took['coreset']:.1f} (+ {held:.1f}) + "
              f"{took['calibration']:.1f} s | {wall:.1f} s | {cost.fit_s / wall:.2f} |", flush=True)


if __name__ == "__main__":
    main()
