"""End to end on synthetic parts: defects are found, located, and the threshold separates them."""

import shutil
import threading
from pathlib import Path
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.errors import Cancelled, DatasetError
from patchcore_gui.core.images import find_images, read_image
from patchcore_gui.core.metrics import auroc
from patchcore_gui.core.patchcore import HELD_OUT_STAGE, Inspector, bank_candidates, extract_good_features, fit
from patchcore_gui.core.progress import CancelToken

from ..conftest import FAST_CONFIG
from .test_images import write_twelve_bit


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
    paths = [synthetic_set.test_good[0], broken, synthetic_set.test_defective[0], synthetic_set.test_good[1]]
    inspector = Inspector(fitted.model, backbone=backbone)
    results = list(inspector.inspect_paths(paths))
    assert [r.path for r in results] == paths
    assert results[1].inspection is None and "broken.png" in results[1].error
    # the images searched together still get their own scores
    for result in results[:1] + results[2:]:
        assert result.inspection.score == pytest.approx(inspector.inspect(read_image(result.path)).score, rel=1e-5)


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
    calibration = [(done, total) for stage, done, total in stages if stage == "calibration"]
    assert calibration == sorted(calibration) and calibration[-1][0] == calibration[-1][1]  # forward, to the end

    token = CancelToken()

    def cancel_midway(done, total, stage):
        if stage == "features" and done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        fit(synthetic_set.train_good, FAST_CONFIG, backbone=backbone, progress=cancel_midway, cancel=token)


def test_one_reader_thread_serves_every_call_as_a_line_inspects_a_part_a_call(fitted, synthetic_set, backbone,
                                                                              monkeypatch):
    """A thread started per call left OpenCV's data for it behind when it ended: 0.85 KB a part, for as long
    as a line ran (docs/benchmarks.md, "A shift-long run of the window's line")."""
    inspector = Inspector(fitted.model, backbone=backbone)
    readers = []
    load = type(inspector._stream)._load

    def noting_the_reader(stream, path):
        readers.append(threading.current_thread())  # held: a thread object is never another's
        return load(stream, path)

    monkeypatch.setattr(type(inspector._stream), "_load", noting_the_reader)
    for path in synthetic_set.test_good[:4]:
        assert list(inspector.inspect_paths([path]))[0].error is None
    assert len(readers) == 4 and len(set(readers)) == 1 and readers[0] is not threading.current_thread()
    # a caller that stops early leaves nothing queued for the next
    batch = inspector.inspect_paths(synthetic_set.test_good * 3)
    next(batch)
    batch.close()
    assert list(inspector.inspect_paths(synthetic_set.test_good[:1]))[0].error is None


def test_files_that_vanish_or_change_during_a_batch_are_reported_and_the_batch_goes_on(
        fitted, synthetic_set, backbone, tmp_path):
    """With 2 images a batch, 4 are read ahead: files 7 to 9 are touched while the first batch is scored."""
    folder = tmp_path / "batch"
    folder.mkdir()
    paths = []
    for i in range(10):
        paths.append(folder / f"part_{i}.png")
        shutil.copy(synthetic_set.test_good[i % len(synthetic_set.test_good)], paths[-1])
    gone_before = folder / "listed_then_gone.png"  # listed by the caller, deleted before the batch starts
    model = replace(fitted.model, config=fitted.model.config.with_changes(batch_size=2))

    def meddle(done, total, stage):
        if done == 0:
            gone_before.unlink(missing_ok=True)
        if done == 1:
            paths[8].unlink()
            paths[9].unlink()
            paths[7].write_bytes(b"rewritten by another program")

    gone_before.write_bytes(paths[0].read_bytes())
    results = list(Inspector(model, backbone=backbone).inspect_paths([gone_before] + paths, progress=meddle))
    assert [r.path for r in results] == [gone_before] + paths
    errors = {r.path.name: r.error for r in results if r.inspection is None}
    assert errors == {"listed_then_gone.png": "cannot read 'listed_then_gone.png': no such file",
                      "part_7.png": "cannot read 'part_7.png': not an image (28 bytes; PNG, JPEG, BMP, TIFF, GIF "
                                    "and WebP are read)",
                      "part_8.png": "cannot read 'part_8.png': no such file",
                      "part_9.png": "cannot read 'part_9.png': no such file"}
    assert all(r.inspection is not None for r in results[1:8])


def test_fit_on_mixed_sizes_and_channels(synthetic_set, backbone, tmp_path):
    """Grey, RGBA, 16-bit, palette and odd sizes in one good folder: all are read and fitted alike."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    parts = [np.asarray(Image.open(path).convert("RGB")) for path in synthetic_set.train_good[:6]]
    Image.fromarray(parts[0]).save(folder / "rgb.png")
    Image.fromarray(parts[1]).resize((300, 140)).save(folder / "wide.jpg", quality=95)
    Image.fromarray(parts[2]).convert("L").save(folder / "grey.png")
    Image.fromarray(parts[3]).convert("RGBA").save(folder / "rgba.png")
    Image.fromarray(parts[4].mean(axis=2).astype(np.uint16) * 257).save(folder / "grey16.png")
    Image.fromarray(parts[5]).resize((57, 401)).convert("P").save(folder / "tall_palette.bmp")
    paths, problems = find_images([folder])
    assert len(paths) == 6 and problems == []
    result = fit(paths, PatchCoreConfig(coreset_ratio=0.5), backbone=backbone)
    assert result.skipped == [] and result.model.n_good_images == 6
    assert result.model.n_patches == 5 * 28 * 28  # one held out; every image gives the same patch grid


def test_a_one_pixel_image_is_inspected_with_a_one_pixel_map(fitted, backbone, tmp_path):
    path = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (200, 10, 10)).save(path)
    (result,) = Inspector(fitted.model, backbone=backbone).inspect_paths([path])
    assert result.error is None and result.inspection.anomaly_map.shape == (1, 1)
    assert np.isfinite(result.inspection.score)


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="compares with Linux's /proc/meminfo")
def test_available_memory_counts_the_page_cache_that_linux_can_reclaim():
    from patchcore_gui.core.memory import available_memory

    fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()}
    # MemAvailable, not MemFree: other processes move both a little between the two readings
    assert abs(available_memory() - fields["MemAvailable"]) < 0.05 * fields["MemTotal"]


def test_a_fit_whose_features_cannot_fit_in_memory_is_refused_at_the_first_image(synthetic_set, backbone,
                                                                                monkeypatch, tmp_path):
    from patchcore_gui.core import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 2**30)
    # one real image, then files that are quickly found missing: only the first image reaches the check
    paths = synthetic_set.train_good[:1] + [tmp_path / f"missing_{i}.png" for i in range(2999)]
    with pytest.raises(DatasetError, match=r"^3000 good images need about 8\.3 GiB for their patch features "
                                           r"but only 1\.0 GiB is free"):
        extract_good_features(paths, FAST_CONFIG, backbone)


def test_good_grids_own_their_memory_so_releasing_them_frees_it(synthetic_set, backbone):
    good = extract_good_features(synthetic_set.train_good[:10], FAST_CONFIG, backbone)
    # a view into its network batch would keep the whole batch alive while any image of it is held out
    assert all(grid is not None and grid.base is None for grid in good.grids)
    candidates, holdout = bank_candidates(good.grids, FAST_CONFIG, release=True)
    assert [i for i, grid in enumerate(good.grids) if grid is not None] == sorted(holdout.tolist())
    assert len(candidates) == (10 - len(holdout)) * good.grids[holdout[0]].shape[0] * good.grids[holdout[0]].shape[1]


def test_network_batches_hold_at_most_their_pixel_budget_and_give_the_same_grids(backbone, tmp_path, monkeypatch):
    """Large inputs go through the network a few at a time (eight 384 px tiles at once ran about 1.5x
    slower per tile than two); small ones still go eight at a time, and the grids do not depend on it."""
    from patchcore_gui.core import patchcore
    from patchcore_gui.core.patchcore import _FeatureStream, preprocessing_for
    from patchcore_gui.core.synthetic import good_part

    paths = []
    for i, size in enumerate([(64, 64), (64, 64), (64, 128), (64, 64), (64, 64), (64, 64)]):
        paths.append(tmp_path / f"part_{i}.png")
        Image.fromarray(good_part(np.random.default_rng(i), 128)[:size[0], :size[1]]).save(paths[-1])
    config = FAST_CONFIG.with_changes(geometry="tile", tile=64, overlap=0, batch_size=8)
    stream = _FeatureStream(backbone, config, preprocessing_for(backbone, config))
    inputs_seen = []
    extract = stream.extractor.extract
    monkeypatch.setattr(stream.extractor, "extract", lambda batch: inputs_seen.append(len(batch)) or extract(batch))

    monkeypatch.setattr(patchcore, "NETWORK_BATCH_PIXELS", 3 * 64 * 64)
    budgeted = [outcome for _, outcome in stream.grids(paths, None)]
    assert inputs_seen == [2, 3, 2]  # the two-tile part would have made the first batch four
    inputs_seen.clear()
    monkeypatch.setattr(patchcore, "NETWORK_BATCH_PIXELS", 8 * 224 * 224)
    whole = [outcome for _, outcome in stream.grids(paths, None)]
    assert inputs_seen == [7]  # 7 inputs of 64 px: one batch, as before the budget
    for (grid_a, hw_a), (grid_b, hw_b) in zip(budgeted, whole):
        assert hw_a == hw_b
        np.testing.assert_allclose(grid_a, grid_b, rtol=1e-4, atol=1e-4)


def test_the_held_out_good_scores_are_those_the_inspector_gives_the_held_out_images(fitted, synthetic_set, backbone):
    """The fit takes them from its record of the held-out patches (one search, not two); the line must agree."""
    from patchcore_gui.core.calibration import holdout_split

    good = sorted(synthetic_set.train_good)
    _, holdout = holdout_split(len(good), fitted.model.config.calibration_fraction)
    inspected = [r.inspection.score for r in Inspector(fitted.model, backbone=backbone).inspect_paths(
        [good[index] for index in holdout])]
    np.testing.assert_allclose(inspected, fitted.model.good_scores, rtol=1e-5)


def test_a_bank_from_all_good_images_scores_each_held_out_half_against_a_bank_holding_the_other_half(
        fitted, synthetic_set, backbone):
    """The held-out images join the bank as two coresets at the bank's ratio (alternate images); each half
    is scored for the threshold against the bank holding the other half's coreset, never its own, so the
    scores lie between the bank without them (higher) and the final bank, which holds their patches (lower)."""
    from patchcore_gui.core.calibration import holdout_split

    both = fit(synthetic_set.train_good, replace(FAST_CONFIG, bank_from_all=True), backbone=backbone)
    model, before = both.model, fitted.model
    held_patches = 4 * 28 * 28
    assert len(model.memory_bank) == len(before.memory_bank) + 2 * round(0.25 * held_patches / 2)
    np.testing.assert_array_equal(model.memory_bank[:len(before.memory_bank)], before.memory_bank)
    assert model.n_patches == before.n_patches + held_patches
    assert HELD_OUT_STAGE in both.seconds

    good = sorted(synthetic_set.train_good)
    _, holdout = holdout_split(len(good), FAST_CONFIG.calibration_fraction)
    record_order = np.concatenate([np.arange(len(holdout))[0::2], np.arange(len(holdout))[1::2]])  # the folds
    in_folds = [good[index] for index in holdout[record_order]]
    against_final = [r.inspection.score for r in Inspector(model, backbone=backbone).inspect_paths(in_folds)]
    against_fit = [r.inspection.score for r in Inspector(before, backbone=backbone).inspect_paths(in_folds)]
    # on the whole: their own patches are in the final bank, the other half's are in theirs
    assert np.mean(against_final) < np.mean(model.good_scores) < np.mean(against_fit)
    np.testing.assert_allclose(np.array(against_fit), before.good_scores[record_order], rtol=1e-5)
    assert model.threshold == model.default_threshold


def test_bank_from_all_is_written_only_when_chosen_so_older_programs_still_read_other_models():
    assert "bank_from_all" not in PatchCoreConfig().to_dict()
    chosen = replace(PatchCoreConfig(), bank_from_all=True)
    assert chosen.to_dict()["bank_from_all"] is True
    assert PatchCoreConfig.from_dict(chosen.to_dict()) == chosen
    assert PatchCoreConfig.from_dict(PatchCoreConfig().to_dict()).bank_from_all is False


def test_the_parts_read_ahead_of_the_network_are_bounded_by_their_bytes(backbone, tmp_path, monkeypatch):
    """A part of many tiles is megabytes of network input: sixteen such parts read ahead held 1.4 GB. The
    read-ahead keeps what fits in READ_AHEAD_BYTES (always one part), and sixteen small parts as before."""
    import threading
    import time

    from patchcore_gui.core import patchcore
    from patchcore_gui.core.patchcore import _FeatureStream, preprocessing_for
    from patchcore_gui.core.synthetic import good_part

    paths = []
    for i in range(24):
        paths.append(tmp_path / f"part_{i:02d}.png")
        Image.fromarray(good_part(np.random.default_rng(i), 64)).save(paths[-1])
    config = FAST_CONFIG.with_changes(geometry="tile", tile=64, overlap=0, batch_size=8)
    stream = _FeatureStream(backbone, config, preprocessing_for(backbone, config))
    part_bytes = 3 * 64 * 64 * 4
    lock, loaded = threading.Lock(), [0]
    load = stream._load

    def counted(path):
        result = load(path)
        with lock:
            loaded[0] += 1
        return result

    monkeypatch.setattr(stream, "_load", counted)

    def most_ahead(budget: int) -> int:
        monkeypatch.setattr(patchcore, "READ_AHEAD_BYTES", budget, raising=False)
        loaded[0], ahead = 0, []
        for given, _ in enumerate(stream.grids(paths, None), start=1):
            time.sleep(0.02)  # a slow network: the reader runs as far ahead as it is let
            with lock:
                ahead.append(loaded[0] - given)
        return max(ahead)

    assert most_ahead(3 * part_bytes) <= 3 + config.batch_size  # a batch of 8 is read before the network runs
    assert most_ahead(part_bytes // 2) <= 1 + config.batch_size
    assert most_ahead(1000 * part_bytes) >= 2 * config.batch_size - 1  # small parts: sixteen ahead, as before


def test_a_twelve_bit_cameras_parts_build_and_inspect_as_their_eight_bit_copies(synthetic_set, backbone, tmp_path):
    """A 12-bit camera's 16-bit files (0..4095) give the model the 8-bit parts would: the depth is found
    from the good parts, kept in the model file, and every part of the model is read with it."""
    from patchcore_gui.core.model_file import load_model, save_model

    def twelve_bit_copy(path):
        copy = tmp_path / "twelve" / path.name
        copy.parent.mkdir(exist_ok=True)
        return write_twelve_bit(read_image(path), copy)

    good = synthetic_set.train_good[:6]
    eight = fit(good, FAST_CONFIG, backbone=backbone).model
    twelve = fit([twelve_bit_copy(path) for path in good], FAST_CONFIG, backbone=backbone).model
    assert eight.preprocessing.sample_bits == 16 and twelve.preprocessing.sample_bits == 12
    np.testing.assert_array_equal(twelve.memory_bank, eight.memory_bank)
    assert twelve.threshold == eight.threshold
    twelve = load_model(save_model(twelve, tmp_path / "twelve.patchcore"))
    assert twelve.preprocessing.sample_bits == 12
    part = synthetic_set.test_defective[0]
    [as_eight] = Inspector(eight, backbone=backbone).inspect_paths([part])
    [as_twelve] = Inspector(twelve, backbone=backbone).inspect_paths([twelve_bit_copy(part)])
    assert as_twelve.inspection.score == pytest.approx(as_eight.inspection.score, rel=1e-6)
