"""End to end on synthetic parts: defects are found, located, and the threshold separates them."""

import numpy as np
import pytest

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.errors import Cancelled, DatasetError
from patchcore_gui.core.images import read_image
from patchcore_gui.core.metrics import auroc
from patchcore_gui.core.patchcore import Inspector, fit
from patchcore_gui.core.progress import CancelToken

from ..conftest import FAST_CONFIG


def _mask_for(path):
    import cv2
    mask_path = path.parents[2] / "ground_truth" / path.parent.name / f"{path.stem}_mask.png"
    return cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) > 127


def test_fit_builds_a_coreset_bank_and_calibrates(fitted):
    model = fitted.model
    assert model.n_good_images == 20 and fitted.skipped == []
    # 20 images, 4 held out, 16 x 784 patches, 25 % kept
    assert model.n_patches == 16 * 28 * 28
    assert len(model.memory_bank) == round(0.25 * model.n_patches)
    assert len(model.good_scores) == 4 and model.threshold >= model.good_scores.max()
    assert set(fitted.seconds) == {"features", "coreset", "calibration"}


def test_defects_score_higher_and_are_located(fitted, synthetic_set, backbone):
    inspector = Inspector(fitted.model, backbone=backbone)
    good = [r.inspection for r in inspector.inspect_paths(synthetic_set.test_good)]
    bad = [r.inspection for r in inspector.inspect_paths(synthetic_set.test_defective)]
    labels = np.array([0] * len(good) + [1] * len(bad))
    assert auroc(labels, np.array([i.score for i in good + bad])) == 1.0
    for path, inspection in zip(synthetic_set.test_defective, bad):
        image = read_image(path)
        assert inspection.anomaly_map.shape == image.shape[:2]
        peak = np.unravel_index(np.argmax(inspection.anomaly_map), inspection.anomaly_map.shape)
        ys, xs = np.nonzero(_mask_for(path))
        # the hottest point lies on (or within a patch of) the defect
        assert np.min(np.hypot(ys - peak[0], xs - peak[1])) < 12
    model = fitted.model
    assert sum(model.is_ng(i.score) for i in bad) >= len(bad) - 1
    assert sum(model.is_ng(i.score) for i in good) <= 1


def test_defect_mask_follows_the_threshold(fitted, synthetic_set, backbone):
    inspection = Inspector(fitted.model, backbone=backbone).inspect(read_image(synthetic_set.test_defective[0]))
    strict, loose = inspection.defect_mask(fitted.model, 1e9), inspection.defect_mask(fitted.model, 0.0)
    assert not strict.any() and loose.all()


def test_inspect_one_equals_inspect_in_batch(fitted, synthetic_set, backbone):
    inspector = Inspector(fitted.model, backbone=backbone)
    batch = list(inspector.inspect_paths(synthetic_set.test_defective[:3]))
    for result in batch:
        single = inspector.inspect(read_image(result.path))
        assert single.score == pytest.approx(result.inspection.score, rel=1e-5)


def test_bad_file_in_a_batch_is_reported_and_the_batch_goes_on(fitted, synthetic_set, backbone, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    paths = [synthetic_set.test_good[0], broken, synthetic_set.test_defective[0]]
    results = list(Inspector(fitted.model, backbone=backbone).inspect_paths(paths))
    assert [r.path for r in results] == paths
    assert results[1].inspection is None and "broken.png" in results[1].error
    assert results[0].inspection is not None and results[2].inspection is not None


def test_fit_is_deterministic(synthetic_set, backbone, fitted):
    again = fit(synthetic_set.train_good, FAST_CONFIG, backbone=backbone)
    assert np.array_equal(again.model.memory_bank, fitted.model.memory_bank)
    assert again.model.threshold == fitted.model.threshold


def test_fit_skips_unreadable_good_images(synthetic_set, backbone, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("this is text")
    result = fit(synthetic_set.train_good[:4] + [bad], PatchCoreConfig(coreset_ratio=0.5), backbone=backbone)
    assert result.model.n_good_images == 4
    assert len(result.skipped) == 1 and "bad.jpg" in result.skipped[0]


def test_too_few_images(synthetic_set, backbone):
    with pytest.raises(DatasetError, match="at least 2"):
        fit(synthetic_set.train_good[:1], FAST_CONFIG, backbone=backbone)


def test_progress_and_cancel(synthetic_set, backbone):
    stages = []
    fit(synthetic_set.train_good[:6], FAST_CONFIG, backbone=backbone,
        progress=lambda done, total, stage: stages.append((stage, done, total)))
    assert {"features", "coreset", "calibration"} <= {s for s, _, _ in stages}
    assert ("features", 6, 6) in stages

    token = CancelToken()

    def cancel_midway(done, total, stage):
        if stage == "features" and done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        fit(synthetic_set.train_good, FAST_CONFIG, backbone=backbone, progress=cancel_midway, cancel=token)
