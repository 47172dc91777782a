"""Where a category's pixel AUROC is lost: by defect kind, within each image, and across images.

Usage::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/pixel_auroc_breakdown.py MODEL.patchcore \\
        ../shared/data/magnetic_tile/magnetic_tile [--sigmas 2 4 8]

Inspects every test image with the model (the line's own inspector and maps), then reports:

- the pooled pixel AUROC (what ``patchcore evaluate`` reports) and, per defect kind, its images with
  the good ones;
- per kind, the pixel AUROC inside each of its images (its defect pixels against its own good pixels)
  and how many images rank their defect below 0.7 there: a kind found in the image but not located;
- the pooled figure without one kind's images, and with one kind's maps replaced by its masks (a perfect
  map for that kind, the rest as they are): the bound each kind sets on the whole;
- with ``--sigmas``, the pooled figure for other smoothings of the same patch scores.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import List

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np

from patchcore_gui.core import Inspector, find_test_images, load_model
from patchcore_gui.core.evaluate import read_mask
from patchcore_gui.core.metrics import pixel_auroc, pixel_auroc_per_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("category", type=Path)
    parser.add_argument("--sigmas", type=float, nargs="*", default=[])
    args = parser.parse_args()
    model = load_model(args.model)
    items = find_test_images(args.category)
    inspector = Inspector(model)
    kinds: List[str] = [item.defect for item in items]
    patch_scores, masks, maps = [], [], []
    for item, result in zip(items, inspector.inspect_paths([item.path for item in items])):
        if result.inspection is None:
            raise SystemExit(f"cannot inspect {item.path}: {result.error}")
        patch_scores.append(result.inspection.patch_scores)  # kept to smooth again with other sigmas
        maps.append(result.inspection.anomaly_map)
        masks.append(read_mask(item, result.inspection.anomaly_map.shape))

    print(f"pooled pixel AUROC {pixel_auroc(masks, maps):.4f}; per kind with the good images: "
          + ", ".join(f"{kind} {value:.4f}" for kind, value in pixel_auroc_per_kind(masks, maps, kinds).items()))
    defect_pixels = sum(int(mask.sum()) for mask in masks)
    low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    for kind in sorted(set(kinds) - {"good"}):
        chosen = [i for i, name in enumerate(kinds) if name == kind]
        inside = [pixel_auroc([masks[i]], [maps[i]]) for i in chosen if 0 < masks[i].sum() < masks[i].size]
        without = [i for i, name in enumerate(kinds) if name != kind]
        perfect = [np.where(masks[i], high + 1.0, low).astype(np.float32) if kinds[i] == kind else maps[i]
                   for i in range(len(maps))]
        share = sum(int(masks[i].sum()) for i in chosen) / max(1, defect_pixels)
        print(f"{kind:10s} {share:5.1%} of defect pixels; inside its images: mean {np.mean(inside):.3f}, "
              f"median {np.median(inside):.3f}, {sum(v < 0.7 for v in inside)} of {len(inside)} under 0.7; "
              f"pooled without its images {pixel_auroc([masks[i] for i in without], [maps[i] for i in without]):.4f}, "
              f"with its maps perfect {pixel_auroc(masks, perfect):.4f}")
    for sigma in args.sigmas:
        smoothed = replace(model, config=replace(model.config, sigma=sigma))
        other = [smoothed.anomaly_map(scores, mask.shape) for scores, mask in zip(patch_scores, masks)]
        print(f"sigma {sigma:g}: pooled {pixel_auroc(masks, other):.4f}")


if __name__ == "__main__":
    main()
