"""Defect regions: connected areas of the map above the threshold, in the part's own pixels, and the
minimum defect area that lets a speck pass."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import numpy as np
import pytest

from patchcore_gui.core.images import read_image
from patchcore_gui.core.verdict import verdict_of
from patchcore_gui.core.model_file import load_model, model_from_bytes, model_to_bytes, save_model
from patchcore_gui.core.errors import ModelFileError
from patchcore_gui.core.overlay import inspection_overlay
from patchcore_gui.core.patchcore import Inspection, Inspector
from patchcore_gui.core.regions import DefectRegion, find_defect_regions, regions_from_json, regions_to_json
from patchcore_gui.core.results import CSV_COLUMNS, ResultRow, results_csv_text


def _blobs() -> np.ndarray:
    values = np.zeros((40, 60), np.float32)
    values[5:15, 10:30] = 4.0   # 200 px
    values[9, 20] = 9.0          # its peak
    values[30:33, 50:53] = 6.0  # 9 px
    values[20, 0] = 5.0          # 1 px
    values[21, 1] = 5.0          # a diagonal neighbour: the same region
    return values


def test_regions_are_the_connected_areas_above_the_level_largest_first():
    values = _blobs()
    found = find_defect_regions(values, values > 2.0, score_ratio=2.0)
    assert [(r.area, r.x, r.y, r.width, r.height) for r in found.regions] == [
        (200, 10, 5, 20, 10), (9, 50, 30, 3, 3), (2, 0, 20, 2, 2)]
    # peaks in score units (map / ratio), centroids in pixels
    assert [r.peak for r in found.regions] == [4.5, 3.0, 2.5]
    assert found.regions[0].centre == pytest.approx((19.5, 9.5))
    assert found.largest_area == 200 and len(found) == 3
    # labels number the regions as listed, and cover exactly the mask
    assert [(found.labels == k + 1).sum() for k in range(3)] == [200, 9, 2]
    assert np.array_equal(found.mask, values > 2.0)
    empty = find_defect_regions(values, values > 100.0, 2.0)
    assert empty.regions == () and empty.largest_area == 0 and not empty.mask.any()


def test_regions_round_trip_through_the_record_json():
    regions = find_defect_regions(_blobs(), _blobs() > 2.0, 2.0).regions
    assert regions_from_json(regions_to_json(regions)) == tuple(
        replace(r, peak=round(r.peak, 4), centre=(round(r.centre[0], 1), round(r.centre[1], 1))) for r in regions)
    assert regions_to_json(None) is None and regions_to_json(()) == []


def test_regions_are_measured_in_the_original_images_pixels(fitted, synthetic_set, backbone):
    """The same part at twice its size has regions four times as large: areas are the part's pixels,
    not the network's input grid."""
    import cv2

    model = fitted.model
    inspector = Inspector(model, backbone=backbone)
    image = read_image(synthetic_set.test_defective[0])
    small = inspector.inspect(image)
    found = small.defect_regions(model)
    assert found.regions, "a defective part has at least one region above the threshold"
    assert found.labels.shape == image.shape[:2]
    big_map = Inspection(small.score, model.anomaly_map(small.patch_scores, (2 * image.shape[0], 2 * image.shape[1])),
                         small.patch_scores)
    big = big_map.defect_regions(model)
    assert big.largest_area == pytest.approx(4 * found.largest_area, rel=0.05)
    # and on a part that is not square (the map follows the image's own aspect)
    wide = cv2.resize(image, (image.shape[1] * 2, image.shape[0]))
    assert inspector.inspect(wide).defect_regions(model).labels.shape == wide.shape[:2]


def test_a_part_whose_regions_are_all_smaller_than_the_minimum_area_is_ok(fitted, synthetic_set, backbone):
    model = fitted.model
    inspection = Inspector(model, backbone=backbone).inspect(read_image(synthetic_set.test_defective[0]))
    largest = inspection.defect_regions(model).largest_area
    assert inspection.score > model.threshold and largest > 0
    assert inspection.verdict(model) == "NG"  # area 0: by the score, as always
    assert inspection.verdict(model.with_defect_size(largest)) == "NG"  # as large as the minimum: a defect
    assert inspection.verdict(model.with_defect_size(largest + 1)) == "OK"  # every region smaller: passes
    # the threshold moves the regions: far above the map, no region is left and the score decides alone
    assert inspection.verdict(model.with_defect_size(largest + 1), threshold=inspection.score + 1) == "OK"
    # the model's verdict without measured regions never passes a part under a minimum area
    assert model.with_defect_size(largest + 1).verdict(inspection.score) == "NG"
    with pytest.raises(ValueError):
        model.with_defect_size(-1)
    with pytest.raises(ValueError):
        model.with_defect_size(10, pixel_size_mm=0.0)


def test_with_area_zero_every_verdict_is_the_scores(fitted, synthetic_set, backbone):
    model = fitted.model
    inspector = Inspector(model, backbone=backbone)
    for path in synthetic_set.test_good + synthetic_set.test_defective:
        inspection = inspector.inspect(read_image(path))
        for threshold in (model.threshold * 0.8, model.threshold, model.threshold * 1.2):
            assert inspection.verdict(model, threshold) == verdict_of(inspection.score, threshold)


def test_the_minimum_defect_area_is_saved_in_the_model_file(fitted, tmp_path):
    plain = model_to_bytes(fitted.model)
    assert b"defect_size" not in plain  # unset: the file is what it was
    assert model_from_bytes(plain).min_defect_area == 0.0 and model_from_bytes(plain).pixel_size_mm is None
    path = save_model(fitted.model.with_defect_size(40, pixel_size_mm=0.05), tmp_path / "m.patchcore")
    loaded = load_model(path)
    assert (loaded.min_defect_area, loaded.pixel_size_mm) == (40.0, 0.05)


def test_a_model_file_with_a_bad_defect_size_is_one_line(fitted, tmp_path):
    import json

    from patchcore_gui.core import model_file

    data = model_to_bytes(fitted.model.with_defect_size(40))
    metadata = model_file._read_metadata("m", data)
    header = json.loads(metadata["header"])
    header["defect_size"]["min_area_px"] = -5
    broken = replace(fitted.model)  # rebuild the file by hand with the altered header
    header_json = json.dumps(header, sort_keys=True)
    from safetensors.numpy import save as save_tensors

    tensors = {"memory_bank": broken.memory_bank, "good_scores": broken.good_scores}
    bad = save_tensors(tensors, metadata={**metadata, "header": header_json,
                                          "sha256": model_file._digest(header_json, tensors)})
    with pytest.raises(ModelFileError, match="defect_size"):
        model_from_bytes(bad, "m.patchcore")


def test_the_csv_holds_the_regions_readably():
    regions = (DefectRegion(120, 34, 50, 20, 12, 31.24, (44.0, 56.0)), DefectRegion(9, 3, 4, 3, 3, 30.5, (4.0, 5.0)))
    rows = [ResultRow("a.png", 31.5, 30.0, regions=regions, min_defect_area=40, pixel_size_mm=0.05),
            ResultRow("b.png", 31.5, 30.0, regions=regions[1:], min_defect_area=40),
            ResultRow("c.png", 20.0, 30.0, regions=()),
            ResultRow("d.png", None, 30.0, "cannot read 'd.png': truncated")]
    table = list(csv.DictReader(io.StringIO(results_csv_text(rows))))
    assert tuple(table[0]) == CSV_COLUMNS
    assert [r["verdict"] for r in table] == ["NG", "OK", "OK", "ERROR"]  # b: its only region is under 40 px
    assert [(r["region_count"], r["largest_region_px"], r["min_defect_area_px"]) for r in table] == [
        ("2", "120", "40"), ("1", "9", "40"), ("0", "0", "0"), ("", "", "0")]
    assert table[0]["largest_region_mm2"] == "0.3" and table[1]["largest_region_mm2"] == ""
    assert table[0]["regions"] == ("1: 0.300 mm² (120 px) at x 34, y 50 (20 x 12 px), peak 31.24; "
                                   "2: 0.023 mm² (9 px) at x 3, y 4 (3 x 3 px), peak 30.50")


def test_the_overlay_outlines_the_regions_and_its_caption_follows_the_minimum_area(fitted, synthetic_set, backbone,
                                                                                   monkeypatch):
    from patchcore_gui.core import overlay

    model = fitted.model
    image = read_image(synthetic_set.test_defective[0])
    inspection = Inspector(model, backbone=backbone).inspect(image)
    largest = inspection.defect_regions(model).largest_area
    drawn, masks = [], []
    monkeypatch.setattr(overlay, "_draw_caption", lambda canvas, caption: drawn.append(caption))
    real_render = overlay.render_overlay
    monkeypatch.setattr(overlay, "render_overlay", lambda *a, **k: masks.append(a[3]) or real_render(*a, **k))
    inspection_overlay(image, inspection, model.with_defect_size(largest + 1), part="x.png")
    assert drawn[-1].startswith("x.png  OK  ") and f"largest region {largest} px, min {largest + 1} px" in drawn[-1]
    assert np.array_equal(masks[-1], inspection.defect_mask(model))
