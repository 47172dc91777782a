"""The engine keeps one network and one inspector, and hands them out again while they still fit."""

from __future__ import annotations

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.engine import LOADING_NETWORK, Engine
from patchcore_gui.core.images import read_image


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
