"""Whether teaching's caution tells a part far from the good ones from a false reject, on a saved model.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_teaching_caution.py MODEL CATEGORY_DIR [--per-kind N]

Each test part the model rejects (score above the threshold) is taught alone into the model as saved, and
its score over the threshold and the share of its patches new to the bank are noted. A rejected good part is
what teaching is for; a rejected defective one is the wrong file named, or a defect a person missed. Printed:
both groups' quantiles, and how many of each :meth:`~patchcore_gui.core.teaching.TaughtImage.caution` flags
(and would flag at other cuts).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import List, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the OpenMP wait policy before torch loads)

import numpy as np

from patchcore_gui.core.model_file import load_model
from patchcore_gui.core.patchcore import Inspector
from patchcore_gui.core.teaching import FAR_ABOVE_THRESHOLD, MOSTLY_NEW, teach

CUTS = ((FAR_ABOVE_THRESHOLD, MOSTLY_NEW), (FAR_ABOVE_THRESHOLD, 2.0), (1.3, 2.0), (1.3, MOSTLY_NEW))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("category", type=Path)
    parser.add_argument("--per-kind", type=int, default=10_000, help="at most this many test parts of each kind")
    args = parser.parse_args()
    model = load_model(args.model)
    inspector = Inspector(model)
    good: List[Tuple[float, float, str]] = []
    defective: List[Tuple[float, float, str]] = []
    started = time.perf_counter()
    for kind in sorted(path for path in (args.category / "test").iterdir() if path.is_dir()):
        for path in sorted(kind.glob("*.png"))[:args.per_kind]:
            image = teach(inspector, [path]).images[0]
            if image.error is not None or image.score_before is None or image.score_before <= model.threshold:
                continue
            row = (image.score_before / model.threshold, image.added / max(image.patches, 1),
                   image.caution(model.threshold))
            (good if kind.name == "good" else defective).append(row)
    print(f"{args.model.name} on {args.category.name}: threshold {model.threshold:.4f}; {len(good)} good and "
          f"{len(defective)} defective test parts rejected, each taught alone ({time.perf_counter() - started:.0f} s)")
    for name, rows in (("good, rejected", good), ("defective, rejected", defective)):
        if rows:
            ratio, share = (np.quantile([row[i] for row in rows], [0, 0.5, 0.9, 1]) for i in (0, 1))
            print(f"| {name} | {len(rows)} | score / threshold min, median, 90%, max "
                  f"{', '.join(f'{v:.2f}' for v in ratio)} | new patches {', '.join(f'{v:.0%}' for v in share)} |")
    print(f"| cautioned (in use: over {FAR_ABOVE_THRESHOLD}x or over {MOSTLY_NEW:.0%} new) | "
          f"good {sum(bool(row[2]) for row in good)} of {len(good)} | defective "
          f"{sum(bool(row[2]) for row in defective)} of {len(defective)} |")
    for ratio_cut, share_cut in CUTS[1:]:
        rule = f"over {ratio_cut}x" + (f" or over {share_cut:.0%} new" if share_cut < 1 else " alone")
        print(f"| {rule} | good {_flagged(good, ratio_cut, share_cut)} of {len(good)} | defective "
              f"{_flagged(defective, ratio_cut, share_cut)} of {len(defective)} |")


def _flagged(rows: List[Tuple[float, float, str]], ratio_cut: float, share_cut: float) -> int:
    return sum(ratio > ratio_cut or share > share_cut for ratio, share, _ in rows)


if __name__ == "__main__":
    main()
