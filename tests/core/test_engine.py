"""The engine keeps one network and one inspector, and hands them out again while they still fit."""

from __future__ import annotations

import numpy as np

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.engine import LOADING_NETWORK, Engine
from patchcore_gui.core.images import read_image
from patchcore_gui.core.roi import RegionOfInterest


def test_one_network_for_builds_and_inspections(synthetic_set, fitted, backbone):
    engine = Engine(backbone)
    stages = []
    inspector = engine.inspector_for(fitted.model, progress=lambda done, total, stage: stages.append(stage))
    assert inspector.backbone is backbone and LOADING_NETWORK not in stages
    # a moved threshold keeps the bank: the same inspector, its index already built
    assert engine.inspector_for(fitted.model.with_threshold(fitted.model.threshold * 2)) is inspector

    result = engine.fit(synthetic_set.train_good[:4], PatchCoreConfig(coreset_ratio=0.25),
                        progress=lambda done, total, stage: stages.append(stage))
    assert LOADING_NETWORK not in stages and engine.backbone is backbone
    rebuilt = engine.inspector_for(result.model)  # made by the build, on the same network
    assert rebuilt is not inspector and rebuilt.backbone is backbone
    image = read_image(synthetic_set.test_good[0])
    assert rebuilt.inspect(image).score == engine.inspector_for(result.model).inspect(image).score


def test_a_line_inspector_of_its_own_keeps_its_model_while_the_windows_is_tuned(synthetic_set, fitted, backbone):
    engine = Engine(backbone)
    windows = engine.inspector_for(fitted.model)
    lines = engine.inspector_of_its_own(fitted.model)
    assert lines is not windows and lines.backbone is backbone  # the network is loaded once
    image = read_image(synthetic_set.test_defective[0])
    before = lines.inspect(image).score
    top = np.zeros(image.shape[:2], bool)
    top[: image.shape[0] // 4] = True
    tuned = fitted.model.with_region_of_interest(RegionOfInterest.from_pixels(top))
    assert engine.inspector_for(tuned) is windows and windows.model is tuned  # changed in place
    assert lines.model is fitted.model and lines.inspect(image).score == before
    assert windows.inspect(image).score != before
