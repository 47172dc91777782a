"""Time the plain and the fast greedy coreset on cached patch features, and check they agree.

Usage::

    python benchmarks/bench_coreset.py /tmp/bottle_feats.npy [--ratio 0.1] [--plain-centres K]

The features are an ``(N, D)`` float32 ``.npy`` (for example the bank images' patch vectors of MVTec
bottle, 130,928 x 472 with the default settings, from ``bank_candidates``; docs/benchmarks.md has the command). Both loops run on the same projection, computed once. ``--plain-centres K`` runs
the plain loop for only its first K centres and extrapolates its time linearly (its cost per
centre is constant); the fast loop's first K indices are then compared with those.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from patchcore_gui.core import (LOWER_BOUND_AXES, coreset_size, greedy_coreset, plain_greedy_coreset,
                                random_projection)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", help="(N, D) float32 .npy file of patch features")
    parser.add_argument("--ratio", type=float, default=0.1, help="coreset ratio (default 0.1)")
    parser.add_argument("--dim", type=int, default=128, help="projection dim (default 128)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plain-centres", type=int, default=None,
                        help="time only the plain loop's first K centres and extrapolate (default: run it fully)")
    parser.add_argument("--skip-plain", action="store_true", help="time only the fast loop")
    args = parser.parse_args()

    features = np.load(args.features, mmap_mode="r")
    n_select = coreset_size(len(features), args.ratio)
    print(f"{args.features}: {features.shape[0]:,} x {features.shape[1]} -> {n_select:,} centres "
          f"(ratio {args.ratio}), {torch.get_num_threads()} threads")
    started = time.perf_counter()
    projected = random_projection(np.asarray(features, dtype=np.float32), args.dim, args.seed)
    print(f"projection to {projected.shape[1]} dims: {time.perf_counter() - started:.2f} s (not in the times below)")
    # the projected input has exactly args.dim columns, so both loops use it as it is
    sample = projected[::8].astype(np.float64)
    variances = np.linalg.eigvalsh(np.cov(sample, rowvar=False))[::-1]
    share = variances[:LOWER_BOUND_AXES].sum() / variances.sum()
    print(f"the first {LOWER_BOUND_AXES} of {len(variances)} principal axes hold {100 * share:.1f}% of the projected "
          f"features' variance (the fast loop's lower bounds use them)")

    started = time.perf_counter()
    fast = greedy_coreset(projected, n_select, projection_dim=args.dim, seed=args.seed)
    fast_seconds = time.perf_counter() - started
    print(f"fast  greedy_coreset:       {fast_seconds:8.2f} s")
    if args.skip_plain:
        return

    centres = n_select if args.plain_centres is None else min(args.plain_centres, n_select)
    started = time.perf_counter()
    plain = plain_greedy_coreset(projected, centres, projection_dim=args.dim, seed=args.seed)
    plain_seconds = time.perf_counter() - started
    if centres == n_select:
        print(f"plain plain_greedy_coreset: {plain_seconds:8.2f} s (full run)")
    else:
        plain_seconds *= n_select / centres
        print(f"plain plain_greedy_coreset: {plain_seconds:8.2f} s EXTRAPOLATED from its first {centres:,} of "
              f"{n_select:,} centres ({plain_seconds / n_select * 1000:.2f} ms per centre)")
    same = bool(np.array_equal(plain, fast[:centres]))
    scope = "all" if centres == n_select else f"the first {centres:,}"
    print(f"indices equal ({scope}): {same}")
    print(f"speed-up plain / fast: {plain_seconds / fast_seconds:.1f}x")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
