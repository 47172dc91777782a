"""The region of interest on real data: a whole-part mask changes nothing; an excluded defect stops counting.

``python benchmarks/bench_roi.py CATEGORY_DIR CACHE_DIR [--margins 0,16,32,64]``

Fits the category with the default settings (the model is cached in CACHE_DIR), extracts the test
images' patch grids once, and then scores them through the engine's own scoring (``score_grids`` with
the counted patches of each region, ``PatchCoreModel.with_region_of_interest`` for the recalibrated
threshold), so many regions cost no further network passes. Prints:

1. the held-out record: its extra time at fit, and whether it gives back the fit's own held-out
   scores exactly;
2. a mask of the whole part against no mask: held-out scores, threshold, and every test score;
3. each defective part with its labelled defect excluded (grown by a margin in network-input pixels):
   the share still NG under the region's recalibrated threshold; and with only the defect's
   neighbourhood inspected, the share NG.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from patchcore_gui.core.backbones import load_backbone  # noqa: E402
from patchcore_gui.core.calibration import holdout_split  # noqa: E402
from patchcore_gui.core.config import PatchCoreConfig  # noqa: E402
from patchcore_gui.core.evaluate import find_test_images  # noqa: E402
from patchcore_gui.core.images import find_images  # noqa: E402
from patchcore_gui.core.memory_bank import MemoryBank  # noqa: E402
from patchcore_gui.core.model_file import load_model, save_model  # noqa: E402
from patchcore_gui.core.patchcore import Inspector, fit  # noqa: E402
from patchcore_gui.core.roi import RegionOfInterest, record_good_patches  # noqa: E402
from patchcore_gui.core.scoring import score_grids  # noqa: E402


def grids_of(inspector, paths):
    """Patch grids and sizes of ``paths`` through the inspector's own feature stream."""
    grids, sizes = [], []
    for _, outcome in inspector._stream.grids(paths, None):
        grids.append(outcome[0].copy())
        sizes.append(tuple(outcome[1]))
    return grids, sizes


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` and every pixel within ``pixels`` of it."""
    if pixels <= 0:
        return mask
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) <= pixels


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("category", type=Path)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--margins", default="0,16,32,64", help="network-input pixels around each defect")
    parser.add_argument("--every", type=int, default=1, help="take every N-th defective part (for a quicker run)")
    args = parser.parse_args()
    config = PatchCoreConfig()
    args.cache.mkdir(parents=True, exist_ok=True)
    backbone = load_backbone(config.backbone)
    train, _ = find_images([args.category / "train" / "good"])
    model_path = args.cache / f"{args.category.name}.patchcore"
    if model_path.exists():
        model = load_model(model_path)
        print(f"model from {model_path}")
    else:
        started = time.perf_counter()
        result = fit(train, config, backbone=backbone, good_folder=str(args.category))
        model = result.model
        save_model(model, model_path)
        print(f"fit {time.perf_counter() - started:.1f} s, stages {({k: round(v, 1) for k, v in result.seconds.items()})}")
    inspector = Inspector(model, backbone=backbone)
    bank = inspector.bank
    b = model.config.reweight_neighbours

    # 1. the held-out record
    _, holdout = holdout_split(len(train), config.calibration_fraction)
    held_grids, held_sizes = grids_of(inspector, [train[i] for i in holdout])
    started = time.perf_counter()
    record = record_good_patches(held_grids, held_sizes, bank, b)
    record_s = time.perf_counter() - started
    started = time.perf_counter()
    direct = np.asarray([s for s, _ in score_grids(held_grids, bank, b)], np.float32)
    scoring_s = time.perf_counter() - started
    print(f"held-out record: {len(held_grids)} images, {record_s:.1f} s (their plain scoring: {scoring_s:.1f} s); "
          f"record == fit's held-out scores: {np.array_equal(record.image_scores(), model.good_scores)}, "
          f"== scored again now: {np.array_equal(record.image_scores(), direct)} "
          f"(max |diff| {float(np.abs(record.image_scores() - direct).max()):.2e})")

    # 2. a mask of the whole part
    tests = find_test_images(args.category)
    grids, sizes = grids_of(inspector, [item.path for item in tests])
    size = model.roi.size if model.roi is not None else (sizes[0] if len({*sizes}) == 1 else max(sizes))
    whole = model.with_region_of_interest(RegionOfInterest.from_pixels(np.ones(size, bool)))
    plain = np.asarray([s for s, _ in score_grids(grids, bank, b)])
    counted = [whole.roi.patches_at(hw, model.preprocessing, g.shape[:2]) for g, hw in zip(grids, sizes)]
    masked = np.asarray([s for s, _ in score_grids(grids, bank, b, counted)])
    print(f"whole-part mask: held-out scores equal {np.array_equal(whole.good_scores, model.good_scores)}, "
          f"threshold {model.threshold:.4f} -> {whole.threshold:.4f}, {len(plain)} test scores equal "
          f"{np.array_equal(plain, masked)} (max |diff| {float(np.abs(plain - masked).max()):.2e})")

    # 3. defects excluded, or alone inspected
    defective = [(i, item) for i, item in enumerate(tests) if item.anomalous and item.mask_path is not None]
    defective = defective[::args.every]
    ng_plain = np.mean([model.verdict(plain[i]) == "NG" for i, _ in defective])
    print(f"{len(defective)} defective parts with labelled defects; NG without a region: {100 * ng_plain:.1f}%",
          flush=True)
    for margin in (int(m) for m in args.margins.split(",")):
        still, alone, inspected = [], [], []
        for i, item in defective:
            height, width = sizes[i]
            label = cv2.imread(str(item.mask_path), cv2.IMREAD_GRAYSCALE)
            label = cv2.resize(label, (width, height), interpolation=cv2.INTER_NEAREST) > 127
            pixels = int(round(margin * min(height, width) / model.preprocessing.input_size))
            around = grow(label, pixels)
            if around.all():
                continue
            for region, out in ((~around, still), (grow(label, max(pixels, 1)), alone)):
                roi = RegionOfInterest.from_pixels(region)  # drawn on this part; scaled to the held-out ones
                try:
                    masked_model = model.with_region_of_interest(roi)
                    patches = roi.patches_at(sizes[i], model.preprocessing, grids[i].shape[:2])
                except Exception:  # a region with no patch: the defect fills the part
                    continue
                score = score_grids([grids[i]], bank, b, [patches])[0][0]
                out.append(masked_model.verdict(score) == "NG")
                if out is still:
                    inspected.append(roi.share)
        print(f"  margin {margin:3d} input px: defect excluded -> {100 * np.mean(still):5.1f}% still NG "
              f"({len(still)} parts, {100 * np.mean(inspected):.0f}% of the part inspected on average); "
              f"only the defect inspected -> {100 * np.mean(alone):5.1f}% NG ({len(alone)} parts)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
