"""Input geometry: keep-aspect, padding, tiles stitched without seams, the way back and forth, old models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from patchcore_gui.core import build_cost
from patchcore_gui.core.backbones import DEFAULT_BACKBONE
from patchcore_gui.core.build_cost import (TILED_PARTS_BACKBONE, TILED_PARTS_CORESET, TILED_PARTS_LAYERS,
                                          estimate_build_cost, geometry_changes, with_automatic_bank,
                                          with_automatic_choices, with_automatic_backbone, with_automatic_layers)
from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.geometry import (Preprocessing, map_box_size, map_to_original, network_inputs,
                                         original_to_grid, original_to_input, place, stitch, suggest_geometry,
                                         SUGGESTED_TILE)
from patchcore_gui.core.model_file import load_model, model_from_bytes, model_to_bytes, save_model
from patchcore_gui.core.patchcore import Inspector, fit
from patchcore_gui.core.synthetic import good_part

PAD = Preprocessing(geometry="pad", resize=128)
TILE = Preprocessing(geometry="tile", tile=64, overlap=32)


def test_pad_keeps_the_aspect_and_pads_with_the_mean_colour():
    image = np.full((50, 100, 3), 255, np.uint8)  # twice as wide as high
    tiles, placement = network_inputs(image, PAD)
    assert tiles.shape == (1, 3, 128, 128)
    assert placement.resized_hw == (64, 128) and placement.offset == (32, 0)
    assert (tiles[0, :, 32:96] == 1.0).all()  # the image, white
    assert (tiles[0, :, :32] == 0.0).all() and (tiles[0, :, 96:] == 0.0).all()  # padding: mean colour
    # only the cells over the image are scored: 8 rows of 16
    assert placement.grid_hw == (8, 16) and placement.map_box == (32, 0, 64, 128)


def test_tiles_cover_the_image_at_its_own_resolution():
    placement = place((100, 150), TILE)
    # step 32: 3 rows (64 + 2 x 32 = 128 >= 100) and 4 columns (160 >= 150)
    assert (placement.tile_rows, placement.tile_cols) == (3, 4) and placement.canvas_hw == (128, 160)
    assert placement.resized_hw == (100, 150) and placement.offset == (14, 5)
    assert placement.grid_hw == (14, 20)  # cells 1..15 x 0..20 of the 16 x 20 canvas grid
    tiles, _ = network_inputs(np.zeros((100, 150, 3), np.uint8), TILE)
    assert tiles.shape == (12, 3, 64, 64)


def test_stitching_lines_the_tiles_up_on_the_canvas_and_blends_their_overlaps():
    placement = place((100, 150), TILE)
    cells = 8  # 64 px tile, stride 8
    # every tile's grid holds its cells' canvas coordinates: stitched, they must be the canvas's
    grids = np.ones((len(placement.tiles), cells, cells, 3), np.float32)
    for index, (top, left) in enumerate(placement.tiles):
        grids[index, :, :, 0] = top // 8 + np.arange(cells)[:, None]
        grids[index, :, :, 1] = left // 8 + np.arange(cells)[None, :]
    stitched = stitch(grids, placement)
    assert stitched.shape == (14, 20, 3)
    row0, row1, col0, col1 = placement.cells
    rows, cols = np.mgrid[row0:row1, col0:col1]
    np.testing.assert_allclose(stitched[..., 0], rows, atol=1e-5)
    np.testing.assert_allclose(stitched[..., 1], cols, atol=1e-5)
    np.testing.assert_allclose(stitched[..., 2], 1.0, atol=1e-6)  # the weights add up to one everywhere
    # the overlaps are blended: tile 0 alone says 0, tile 1 alone says 1 -> a ramp across the overlap
    marks = np.zeros_like(grids)
    marks[1::placement.tile_cols] = 1.0  # the second column of tiles
    ramp = stitch(marks, placement)[0, :, 0]
    assert (np.diff(ramp[:8]) >= 0).all() and ramp[0] == 0.0 and 0.0 < ramp[4] < 1.0


def test_a_constant_shift_gives_a_seamless_map_through_the_network(backbone):
    """A flat part brighter than the flat good part differs alike everywhere: no tile edge shows as a step."""
    config = PatchCoreConfig(geometry="tile", tile=128, overlap=64)
    from patchcore_gui.core.patchcore import _FeatureStream, preprocessing_for
    prep = preprocessing_for(backbone, config)
    stream = _FeatureStream(backbone, config, prep)
    hw = (192, 448)
    assert len(place(hw, prep).tiles) == 12
    good = stream.grid_of(*network_inputs(np.full((*hw, 3), 100, np.uint8), prep))
    shifted = stream.grid_of(*network_inputs(np.full((*hw, 3), 140, np.uint8), prep))
    assert shifted.shape[:2] == place(hw, prep).grid_hw
    distances = np.sqrt(((shifted - good) ** 2).sum(-1))
    # away from the image's own border (the network's padding there reaches about 5 cells in) the map
    # nowhere jumps at a tile edge: no step from one cell to the next is more than a few percent
    inner = distances[6:-6, 6:-6]
    steps = max(np.abs(np.diff(inner, axis=0)).max(), np.abs(np.diff(inner, axis=1)).max())
    assert steps < 0.05 * inner.mean(), (steps, inner.mean())
    assert inner.min() > 0.8 * inner.mean() and inner.max() < 1.2 * inner.mean()


def test_map_to_original_and_back_follow_padding_and_tiles():
    for prep, hw in ((PAD, (50, 100)), (PAD, (120, 40)), (TILE, (100, 150)), (Preprocessing(64), (30, 90))):
        placement = place(hw, prep)
        box = map_box_size(placement.grid_hw, prep)
        assert box == placement.map_box[2:]
        # a square on the original comes back where it was
        mask = np.zeros(hw, bool)
        mask[hw[0] // 3:hw[0] // 2, hw[1] // 4:hw[1] // 2] = True
        on_input = original_to_input(mask, prep)
        assert on_input.shape == box
        back = map_to_original(on_input, hw, prep) > 0.5
        assert (back == mask).mean() > 0.97
        grid = original_to_grid(mask, prep)
        assert grid.shape == placement.grid_hw and 0.0 <= grid.min() and grid.max() <= 1.0
        # the grid's share of the mask adds up to the mask's share of the image's cells
        assert abs(grid.sum() / grid.size - mask.mean()) < 0.15


def test_a_peak_on_a_tile_lands_where_the_defect_was():
    hw, dot = (100, 150), (70, 120)
    image = np.zeros((*hw, 3), np.uint8)
    image[dot[0] - 2:dot[0] + 3, dot[1] - 2:dot[1] + 3] = 255
    mask = np.zeros(hw, bool)
    mask[dot[0] - 2:dot[0] + 3, dot[1] - 2:dot[1] + 3] = True
    grid = original_to_grid(mask, TILE)
    peak = np.unravel_index(np.argmax(grid), grid.shape)
    score_map = np.zeros(map_box_size(grid.shape, TILE), np.float32)
    score_map[peak[0] * 8 + 4, peak[1] * 8 + 4] = 1.0
    back = map_to_original(score_map, hw, TILE)
    found = np.unravel_index(np.argmax(back), hw)
    assert abs(found[0] - dot[0]) <= 8 and abs(found[1] - dot[1]) <= 8


def test_geometry_is_checked_and_round_trips():
    for prep in (PAD, TILE, Preprocessing(geometry="tile", scale=2.0, tile=320, overlap=64, grid_stride=4)):
        assert Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict()))) == prep
    # the default leaves the geometry keys out: a model header as before geometry was a choice
    assert set(Preprocessing().to_dict()) == {"resize", "crop", "mean", "std"}
    assert set(PatchCoreConfig().to_dict()).isdisjoint({"geometry", "scale", "tile", "overlap"})
    assert PatchCoreConfig.from_dict(PatchCoreConfig(geometry="pad").to_dict()).geometry == "pad"
    for bad in ({"geometry": "stretch"}, {"geometry": "tile", "tile": 100}, {"geometry": "tile", "overlap": 48},
                {"geometry": "pad", "crop": 200, "resize": 256}):
        with pytest.raises(ValueError):
            PatchCoreConfig(**bad)


def test_the_automatic_network_goes_with_the_geometry_unless_its_weights_are_missing(monkeypatch):
    assert with_automatic_backbone(PatchCoreConfig()).backbone == DEFAULT_BACKBONE
    assert with_automatic_backbone(PatchCoreConfig(geometry="tile")).backbone == TILED_PARTS_BACKBONE
    assert with_automatic_backbone(PatchCoreConfig(geometry="pad")).backbone == DEFAULT_BACKBONE
    monkeypatch.setattr(build_cost, "weights_available", lambda name: name == DEFAULT_BACKBONE)
    assert with_automatic_backbone(PatchCoreConfig(geometry="tile")).backbone == DEFAULT_BACKBONE


def test_parts_seen_in_tiles_are_scored_on_the_stride_16_grid_unless_layers_were_chosen():
    tiled = with_automatic_layers(PatchCoreConfig(geometry="tile", backbone=TILED_PARTS_BACKBONE))
    assert tiled.layers == TILED_PARTS_LAYERS == ("blocks.4", "blocks.6") and tiled.coreset_ratio == 0.1
    # written into the config: a model's layers None stays the network's defaults, as every older model has it
    assert PatchCoreConfig.from_dict(tiled.to_dict()).layers == TILED_PARTS_LAYERS
    assert with_automatic_layers(PatchCoreConfig(geometry="tile")).layers == TILED_PARTS_LAYERS  # Lite0 has them too
    assert with_automatic_layers(PatchCoreConfig()).layers is None
    chosen = PatchCoreConfig(geometry="tile", layers=("blocks.2", "blocks.4", "blocks.6"))
    assert with_automatic_layers(chosen).layers == chosen.layers
    assert with_automatic_layers(PatchCoreConfig(geometry="tile", backbone="wide_resnet50_2")).layers is None
    # a quarter of the patches: the estimate says so
    sizes = [(400, 600)]
    fine = estimate_build_cost(PatchCoreConfig(geometry="tile", backbone=TILED_PARTS_BACKBONE), sizes, 100)
    coarse = estimate_build_cost(tiled, sizes, 100)
    assert coarse.patches_per_image == pytest.approx(fine.patches_per_image / 4, rel=0.15)


def test_the_held_out_images_join_the_bank_of_parts_seen_in_tiles_unless_chosen_and_the_estimate_counts_them():
    assert with_automatic_bank(PatchCoreConfig()).bank_from_all is False
    assert with_automatic_bank(PatchCoreConfig(geometry="tile")).bank_from_all is True
    assert with_automatic_bank(PatchCoreConfig(geometry="tile"), chosen=False).bank_from_all is False
    assert with_automatic_bank(PatchCoreConfig(), chosen=True).bank_from_all is True
    assert with_automatic_choices(PatchCoreConfig(geometry="tile")).bank_from_all is True
    # bottle's 209 images: 167 build the bank, 42 are held out and then add their own 10%
    alone = estimate_build_cost(PatchCoreConfig(), [(512, 512)], 209)
    joined = estimate_build_cost(PatchCoreConfig(bank_from_all=True), [(512, 512)], 209)
    assert (alone.bank_vectors, joined.bank_vectors) == (13093, 13093 + 3293)


def test_parts_seen_in_tiles_get_a_smaller_bank_and_the_automatic_tiles_unless_chosen():
    assert with_automatic_choices(PatchCoreConfig()).coreset_ratio == PatchCoreConfig().coreset_ratio
    assert with_automatic_choices(PatchCoreConfig(geometry="tile")).coreset_ratio == TILED_PARTS_CORESET
    assert with_automatic_choices(PatchCoreConfig(geometry="tile"), coreset=0.1).coreset_ratio == 0.1
    assert with_automatic_choices(PatchCoreConfig(), coreset=0.01).coreset_ratio == 0.01
    # tiles chosen by name start from the automatic scale, side and overlap; what is given is kept
    named = PatchCoreConfig().with_changes(**geometry_changes("tile", None, None, None, None))
    assert (named.scale, named.tile, named.overlap) == (SUGGESTED_TILE["scale"], SUGGESTED_TILE["tile"], 64)
    fine = PatchCoreConfig().with_changes(**geometry_changes("tile", None, 1.0, 384, None))
    assert (fine.scale, fine.tile, fine.overlap) == (1.0, 384, 64)
    assert geometry_changes(None, None, 0.5, None, None) == {"scale": 0.5}
    assert geometry_changes("pad", 320, None, None, None) == {"geometry": "pad", "resize": 320}


def test_the_automatic_geometry_and_its_cost():
    assert suggest_geometry([(512, 512)] * 3) == {"geometry": "squeeze"}
    # a large square part loses small defects in the squeeze: seen in tiles, like an oblong one
    assert suggest_geometry([(600, 600), (580, 590)]) == {"geometry": "squeeze"}
    assert suggest_geometry([(1024, 1024)]) == SUGGESTED_TILE
    assert suggest_geometry([(512, 512), (2048, 2048)]) == SUGGESTED_TILE
    assert suggest_geometry([(300, 200), (250, 400)])["geometry"] == "tile"
    squeeze = estimate_build_cost(PatchCoreConfig(), [(512, 512)], 209, free_bytes=8 * 2**30)
    assert squeeze.patches_per_image == 784 and squeeze.bank_vectors == 13093 and squeeze.dim == 472
    tiled = estimate_build_cost(PatchCoreConfig(geometry="tile", tile=320), [(600, 900)], 209, free_bytes=8 * 2**30)
    assert tiled.patches_per_image == 76 * 114 and tiled.bank_vectors > 10 * squeeze.bank_vectors
    assert tiled.ms_per_image > 5 * squeeze.ms_per_image and tiled.fit_memory_gb > 10 * squeeze.fit_memory_gb
    assert "tiles" in tiled.text() and "MB" in tiled.text()


@pytest.fixture(scope="module")
def wide_parts(tmp_path_factory):
    """Good parts twice as wide as high, and one with a dark spot."""
    from PIL import Image
    folder = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(1)
    paths = []
    for i in range(6):
        part = np.concatenate([good_part(rng, 96), good_part(rng, 96)], axis=1)
        paths.append(folder / f"good_{i}.png")
        Image.fromarray(part).save(paths[-1])
    bad = np.concatenate([good_part(rng, 96), good_part(rng, 96)], axis=1)
    bad[40:52, 140:152] = 0
    return paths, bad


@pytest.mark.parametrize("config", [PatchCoreConfig(geometry="pad", resize=128, coreset_ratio=0.5),
                                    PatchCoreConfig(geometry="tile", tile=64, overlap=32, coreset_ratio=0.5)])
def test_fit_and_inspect_keep_the_aspect_and_the_model_file_keeps_the_geometry(wide_parts, backbone, config,
                                                                               tmp_path):
    paths, bad = wide_parts
    model = fit(paths, config, backbone=backbone).model
    assert model.preprocessing.geometry == config.geometry
    inspector = Inspector(model, backbone=backbone)
    inspection = inspector.inspect(bad)
    assert inspection.anomaly_map.shape == bad.shape[:2]
    assert inspection.patch_scores.shape == place(bad.shape[:2], model.preprocessing).grid_hw
    peak = np.unravel_index(np.argmax(inspection.anomaly_map), bad.shape[:2])
    assert abs(peak[0] - 46) < 16 and abs(peak[1] - 146) < 16
    good = [result.inspection.score for result in inspector.inspect_paths(paths[:2])]
    assert inspection.score > max(good)
    again = load_model(save_model(model, tmp_path / "wide.patchcore"))
    assert again.preprocessing == model.preprocessing and again.config == model.config
    assert Inspector(again, backbone=backbone).inspect(bad).score == pytest.approx(inspection.score, rel=1e-5)


def test_a_squeeze_model_writes_the_header_older_programs_read(fitted):
    """A default model's header has no geometry keys; a header without them opens as squeeze."""
    data = model_to_bytes(fitted.model)
    import struct
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(json.loads(data[8:8 + size])["__metadata__"]["header"])
    assert set(header["preprocessing"]) == {"resize", "crop", "mean", "std"}
    assert not {"geometry", "scale", "tile", "overlap"} & set(header["config"])
    model = model_from_bytes(data)
    assert model.preprocessing.geometry == "squeeze" and model.preprocessing == fitted.model.preprocessing


def test_parts_of_different_sizes_fit_save_and_take_a_region_of_interest(backbone, tmp_path):
    """Kept proportions give each image its own patch grid: the held-out record and a region follow."""
    from PIL import Image
    from patchcore_gui.core.roi import RegionOfInterest
    rng = np.random.default_rng(2)
    paths = []
    for i, width in enumerate((96, 160, 128, 96, 160, 128, 96, 160, 128, 96)):
        part = np.concatenate([good_part(rng, 96), good_part(rng, 96)], axis=1)[:, :width]
        paths.append(tmp_path / f"good_{i}.png")
        Image.fromarray(np.ascontiguousarray(part)).save(paths[-1])
    config = PatchCoreConfig(geometry="pad", resize=128, coreset_ratio=0.5)
    model = fit(paths, config, backbone=backbone).model
    record = model.good_patches
    assert record is not None and len(record.sizes) == 2
    grids = [place((int(h), int(w)), model.preprocessing).grid_hw for h, w in record.sizes]
    assert len(set(grids)) == 2  # the held-out images' grids differ; the record holds both
    # recalibrating without a region gives back the fit's own held-out scores
    again = model.with_region_of_interest(None)
    np.testing.assert_allclose(again.good_scores, model.good_scores, rtol=1e-5)
    left = np.zeros((96, 160), np.uint8)
    left[:, :80] = 255
    with_roi = load_model(save_model(model.with_region_of_interest(RegionOfInterest(left)), tmp_path / "m.patchcore"))
    assert with_roi.roi is not None and np.all(with_roi.good_scores <= model.good_scores + 1e-5)
