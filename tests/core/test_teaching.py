from dataclasses import replace

import numpy as np
import pytest

from patchcore_gui.core.coverage import estimated_coverage_radius, sampled_coverage_radius
from patchcore_gui.core.errors import ModelFileError
from patchcore_gui.core.memory_bank import MemoryBank
from patchcore_gui.core.model_file import load_model, model_from_bytes, model_to_bytes, save_model
from patchcore_gui.core.patchcore import Inspector
from patchcore_gui.core.results import model_identity
from patchcore_gui.core.teaching import (ALL_PATCHES, addition_limit, covering_distance, teach, teaching_lines,
                                         undo_teaching)


@pytest.fixture(scope="module")
def inspector(fitted, backbone):
    return Inspector(fitted.model, backbone=backbone)


@pytest.fixture(scope="module")
def rejected(inspector, synthetic_set):
    """The defective test parts the model rejects: here, parts a person says are good after all."""
    paths = [r.path for r in inspector.inspect_paths(synthetic_set.test_defective)
             if r.inspection.score > inspector.model.threshold]
    assert len(paths) >= 2
    return paths


@pytest.fixture(scope="module")
def taught(inspector, rejected):
    return teach(inspector, rejected[:1])


def _score(inspector, path) -> float:
    return next(iter(inspector.inspect_paths([path]))).inspection.score


def test_a_taught_image_passes_and_the_others_are_judged_as_before(inspector, taught, rejected, synthetic_set):
    image = taught.images[0]
    assert image.error is None and 0 < image.added < image.patches
    assert image.score_before > inspector.model.threshold >= image.score_after
    assert _score(taught.inspector, rejected[0]) == pytest.approx(image.score_after, rel=1e-5)
    assert taught.model.verdict(_score(taught.inspector, rejected[0])) == "OK"
    # taught patches only lower nearest distances: the largest patch distance of any part can only drop
    for path in synthetic_set.test_good + synthetic_set.test_defective:
        before = next(iter(inspector.inspect_paths([path]))).inspection.patch_scores
        after = next(iter(taught.inspector.inspect_paths([path]))).inspection.patch_scores
        assert np.all(after <= before + 1e-5)
    assert taught.model.threshold == inspector.model.threshold
    assert np.array_equal(taught.model.good_scores, inspector.model.good_scores)


def test_only_patches_farther_than_the_limit_are_added(inspector, taught):
    model = inspector.model
    limit = addition_limit(model)
    assert limit == min(covering_distance(model), model.threshold)
    added = taught.model.teachings[0].patches
    distances, _ = inspector.bank.nearest(added, k=1)
    assert np.all(distances[:, 0] > limit)
    assert len(taught.model.bank_vectors()) == len(model.memory_bank) + len(added)


def test_undo_gives_back_the_bank_bit_for_bit(fitted, inspector, taught, rejected, backbone):
    second = teach(taught.inspector, rejected[1:2])
    assert len(second.model.teachings) == 2
    first_undone = undo_teaching(second.model, 1)
    assert [t.file for t in first_undone.teachings] == [rejected[1].name]
    newest_undone = undo_teaching(second.model)
    assert np.array_equal(newest_undone.bank_vectors(), taught.model.bank_vectors())
    untaught = undo_teaching(newest_undone)
    assert untaught.teachings == ()
    assert untaught.bank_vectors().tobytes() == fitted.model.memory_bank.tobytes()
    assert model_identity(untaught) == model_identity(fitted.model) != model_identity(taught.model)
    assert _score(Inspector(untaught, backbone=backbone), rejected[0]) == _score(inspector, rejected[0])
    with pytest.raises(ValueError, match="there is no teaching 3"):
        undo_teaching(second.model, 3)
    with pytest.raises(ValueError, match="no teachings"):
        undo_teaching(fitted.model)


def test_teachings_round_trip_through_the_model_file(taught, rejected, tmp_path, backbone):
    path = save_model(taught.model, tmp_path / "taught.patchcore")
    loaded = load_model(path)
    assert [(t.file, t.taught_at, t.image_sha256) for t in loaded.teachings] == \
        [(t.file, t.taught_at, t.image_sha256) for t in taught.model.teachings]
    assert np.array_equal(loaded.bank_vectors(), taught.model.bank_vectors())
    assert loaded.coverage_radius == taught.model.coverage_radius
    assert _score(Inspector(loaded, backbone=backbone), rejected[0]) == _score(taught.inspector, rejected[0])
    assert teaching_lines(loaded)[0].startswith(f"1  {taught.model.teachings[0].taught_at}  {rejected[0].name}  ")
    # the taught patches are under the integrity hash: the last bytes of the file are theirs
    data = bytearray(model_to_bytes(taught.model))
    data[-3] ^= 0x01
    with pytest.raises(ModelFileError, match="integrity"):
        model_from_bytes(bytes(data), "x")


def test_an_older_file_opens_with_no_teachings_and_an_estimated_coverage(fitted):
    older = replace(fitted.model, coverage_radius=None)
    loaded = model_from_bytes(model_to_bytes(older))
    assert loaded.teachings == () and loaded.coverage_radius is None
    assert loaded.bank_vectors() is loaded.memory_bank
    assert covering_distance(loaded) == estimated_coverage_radius(fitted.model.memory_bank) > 0


def test_a_bad_image_is_named_and_the_rest_are_taught(inspector, rejected, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    outcome = teach(inspector, [broken, rejected[0]])
    assert "broken.png" in outcome.images[0].error and "\n" not in outcome.images[0].error
    assert outcome.images[1].added > 0 and [t.file for t in outcome.model.teachings] == [rejected[0].name]


def test_a_second_copy_in_one_call_adds_nothing_and_all_patches_adds_every_one(inspector, rejected, tmp_path):
    copy = tmp_path / "copy.png"
    copy.write_bytes(rejected[0].read_bytes())
    outcome = teach(inspector, [rejected[0], copy])
    assert outcome.images[1].added == 0 and len(outcome.model.teachings) == 1
    everything = teach(inspector, rejected[:1], rule=ALL_PATCHES)
    assert everything.images[0].added == everything.images[0].patches


def test_coverage_radius_is_recorded_at_fit_and_bounded_by_the_exact_one(fitted, synthetic_set, backbone):
    model = fitted.model
    assert model.coverage_radius is not None and model.coverage_radius > 0
    bank = MemoryBank(model.memory_bank)
    points = np.random.default_rng(1).normal(size=(50, model.memory_bank.shape[1])).astype(np.float32)
    assert sampled_coverage_radius(points, bank, sample=10) <= sampled_coverage_radius(points, bank)


def test_only_patches_in_the_region_of_interest_are_taught(fitted, backbone, rejected):
    from patchcore_gui.core.images import read_image
    from patchcore_gui.core.roi import RegionOfInterest

    height, width = read_image(rejected[0]).shape[:2]
    inspected = np.zeros((height, width), bool)
    inspected[:, : width // 2] = True  # the left half only
    model = fitted.model.with_region_of_interest(RegionOfInterest.from_pixels(inspected))
    inspector = Inspector(model, backbone=backbone)
    outcome = teach(inspector, rejected[:1])
    grid, counted = next(inspector.feature_grids(rejected[:1]))[1]
    assert counted is not None and 0 < counted.sum() < counted.size
    assert outcome.images[0].patches == int(counted.sum())
    added = outcome.model.teachings[0].patches if outcome.model.teachings else np.empty((0, grid.shape[-1]))
    inside = grid.reshape(-1, grid.shape[-1])[counted.reshape(-1)]
    assert all(np.any(np.all(inside == patch, axis=1)) for patch in added)
    assert outcome.images[0].score_after <= model.threshold


def test_a_taught_part_is_ok_under_a_review_band(fitted, backbone, rejected):
    band = fitted.model.with_review_band(fitted.model.threshold * 0.8)
    limit = addition_limit(band)
    assert limit <= band.review_from
    outcome = teach(Inspector(band, backbone=backbone), rejected[:1])
    assert band.verdict(outcome.images[0].score_after) == "OK"
