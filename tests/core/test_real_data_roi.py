"""The region of interest on MVTec bottle: a whole-part mask changes nothing; a defect left outside counts
less, one inside still fails the part. Skipped when ../shared/data is absent."""

import cv2
import numpy as np
import pytest

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.images import find_images
from patchcore_gui.core.patchcore import Inspector, fit
from patchcore_gui.core.roi import RegionOfInterest

from ..conftest import BOTTLE, require

pytestmark = pytest.mark.realdata

#: Network-input pixels kept between a defect and the region. Measured (benchmarks/bench_roi.py, docs/benchmarks.md):
#: with the labelled defect excluded by 0 / 16 / 32 / 64 px, 100 / 89 / 68 / 35% of the 63 defective bottles
#: stayed NG: the features reach far, so a region lowers a defect's score outside it without always passing it.
MARGIN = 64


@pytest.fixture(scope="module")
def bottle():
    root = require(BOTTLE)
    model = fit(find_images([root / "train" / "good"])[0], PatchCoreConfig()).model
    return root, model, Inspector(model)


def _score(inspector, model, path) -> float:
    inspector.model = model
    return next(iter(inspector.inspect_paths([path]))).inspection.score


def test_a_whole_part_mask_gives_the_same_scores_and_threshold(bottle):
    root, model, inspector = bottle
    whole = model.with_region_of_interest(RegionOfInterest.from_pixels(np.ones((512, 512), bool)))
    np.testing.assert_array_equal(whole.good_scores, model.good_scores)
    assert whole.threshold == model.threshold
    parts = sorted((root / "test" / "good").glob("*.png"))[:2] + sorted((root / "test" / "broken_large").glob("*.png"))[:2]
    assert [_score(inspector, whole, p) for p in parts] == [_score(inspector, model, p) for p in parts]


def test_a_defect_outside_the_region_counts_less_and_inside_it_fails(bottle):
    root, model, inspector = bottle
    for path in sorted((root / "test" / "broken_large").glob("*.png"))[:3]:
        label = cv2.imread(str(root / "ground_truth" / "broken_large" / f"{path.stem}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
        distance = cv2.distanceTransform((~label).astype(np.uint8), cv2.DIST_L2, 5)
        away = distance > MARGIN * 512 / model.preprocessing.input_size
        plain = _score(inspector, model, path)
        assert model.verdict(plain) == "NG"
        outside = model.with_region_of_interest(RegionOfInterest.from_pixels(away))
        assert _score(inspector, outside, path) < 0.5 * plain, path.name  # measured 0.30-0.36
        inside = model.with_region_of_interest(RegionOfInterest.from_pixels(~away))
        assert inside.verdict(_score(inspector, inside, path)) == "NG", path.name
