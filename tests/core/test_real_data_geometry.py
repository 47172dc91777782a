"""Issue 15's figures on real data: Magnetic Tile with the automatic input geometry (tiles at three
quarters of its own resolution) and the automatic network for tiles (EfficientNet-Lite1); bottle keeps the squeeze and
Lite0. Skipped when ../shared/data is absent.

A full Magnetic Tile run with tiles costs about three times the squeeze's (docs/benchmarks.md, "Input
geometry"), too much beside the suite's other real-data runs, so this test measures the fixed subset
the benchmark probed: every 2nd good image and every 3rd test image (194 of 582, every defect kind).
On it the 224 squeeze gives image AUROC 0.884, pixel 0.757, crack 0.785, fray 0.898. The whole data set,
which the goals are set on, runs only when ``PATCHCORE_FULL_MAGNETIC_TILE=1`` (about 3 minutes on a fast
2-core PC, twice that on a slow one).
"""

import os

import numpy as np
import pytest

from patchcore_gui.core.build_cost import TILED_PARTS_BACKBONE, TILED_PARTS_CORESET, TILED_PARTS_LAYERS
from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.geometry import place

from patchcore_gui.core.evaluate import evaluate

from ..conftest import BOTTLE, MAGNETIC_TILE, require
from .conftest import automatic_config

pytestmark = pytest.mark.realdata


def test_bottle_keeps_the_squeeze_it_scores_1_000_with():
    assert automatic_config(require(BOTTLE)) == PatchCoreConfig()


def test_magnetic_tile_with_the_automatic_geometry(magnetic_tile_automatic):
    evaluation = magnetic_tile_automatic
    config = evaluation.model.config
    assert (config.geometry, config.scale, config.tile, config.coreset_ratio) == ("tile", 0.75, 320, TILED_PARTS_CORESET)
    assert config.backbone == TILED_PARTS_BACKBONE and config.layers == TILED_PARTS_LAYERS and config.bank_from_all
    report = evaluation.report
    assert report.n_train == 381 and report.n_test == 194
    # measured 0.920 / 0.786, crack 0.845, fray 0.961; at its own resolution in 384 px tiles with a 10% bank,
    # the choice before, 0.927 / 0.784, 0.866, 0.925 (docs/benchmarks.md, "Tiles at three quarters"); the
    # stride-8 grid with a 1% bank, the choice before that: 0.924 / 0.786, 0.840, 0.937 ("The stride-16 grid
    # for tiles"). Without tiles, the 224 squeeze: 0.884 / 0.757, 0.785, 0.898.
    assert report.image_auroc >= 0.91
    assert report.pixel_auroc >= 0.775
    assert report.per_defect_auroc["crack"] >= 0.83 and report.per_defect_auroc["fray"] >= 0.94
    # every map lies on its whole image, and the patch grid follows each tile's own proportions
    for _, inspection in evaluation.inspected[::20]:
        placement = place(inspection.anomaly_map.shape, evaluation.model.preprocessing)
        assert inspection.patch_scores.shape == placement.grid_hw
    assert len({inspection.patch_scores.shape for _, inspection in evaluation.inspected}) > 10
    assert np.isfinite(report.aupro)


@pytest.mark.skipif(not os.environ.get("PATCHCORE_FULL_MAGNETIC_TILE"),
                    reason="the whole of Magnetic Tile takes minutes: set PATCHCORE_FULL_MAGNETIC_TILE=1")
def test_the_whole_of_magnetic_tile_with_what_fit_chooses_reaches_the_image_auroc_goal():
    category = require(MAGNETIC_TILE)
    report = evaluate(category, automatic_config(category)).report
    assert report.n_train == 762 and report.n_test == 582
    # measured 0.9802 / 0.8177, crack 0.952, 87.8% of default verdicts right (docs/benchmarks.md, "Tiles at
    # three quarters"); at its own resolution in 384 px tiles with a 10% bank 0.9798 / 0.8213, 0.961, 90.2%
    assert report.image_auroc >= 0.979
    assert report.pixel_auroc >= 0.815
    assert report.per_defect_auroc["crack"] >= 0.945
    assert report.default_threshold_accuracy >= 0.87
