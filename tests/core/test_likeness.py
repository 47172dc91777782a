"""Parts that do not look like the model's good parts at all are named as such, and good or merely
defective parts are not."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from patchcore_gui.core.likeness import (COLOUR, COLOUR_MODE, FAR, GREY, PROPORTIONS, SAMPLE_DEPTH, GoodPartsLook,
                                        LikenessCheck, PartLook, describe_good_parts, likeness_warning, part_look,
                                        unlike_reasons)
from patchcore_gui.core.model_file import load_model, model_to_bytes, save_model
from patchcore_gui.core.patchcore import Inspector

from .test_model_file import _signed


def test_part_look_reads_size_and_colour_mode_from_the_header(tmp_path):
    rgb, grey, grey_palette, colour_palette = (tmp_path / f"{n}.png" for n in ("rgb", "grey", "gp", "cp"))
    Image.new("RGB", (40, 30), (10, 200, 30)).save(rgb)
    Image.new("L", (40, 30), 100).save(grey)
    palette = Image.new("P", (8, 8))
    palette.putpalette([v for i in range(256) for v in (i, i, i)])
    palette.save(grey_palette)
    palette.putpalette([v for i in range(256) for v in (i, 0, 255 - i)])
    palette.save(colour_palette)
    assert part_look(rgb) == PartLook(height=30, width=40, colour=COLOUR)
    assert part_look(grey) == PartLook(height=30, width=40, colour=GREY)
    assert part_look(grey_palette).colour == GREY and part_look(colour_palette).colour == COLOUR
    assert part_look(tmp_path / "missing.png") is None
    (tmp_path / "empty.png").write_bytes(b"")
    assert part_look(tmp_path / "empty.png") is None


def test_fit_records_the_good_parts_and_the_model_file_keeps_them(fitted, synthetic_set, tmp_path):
    good = fitted.model.good_parts
    assert good == GoodPartsLook(height=(192, 192), width=(192, 192), aspect=(1.0, 1.0), colours=(COLOUR,))
    assert good == describe_good_parts(synthetic_set.train_good)
    assert load_model(save_model(fitted.model, tmp_path / "m.patchcore")).good_parts == good
    assert good.size_text() == "192 x 192"
    varied = GoodPartsLook.of([PartLook(122, 285, GREY), PartLook(600, 599, GREY)])
    assert varied.size_text() == "285-599 x 122-600" and varied.colours == (GREY,)
    with pytest.raises(ValueError, match="good parts' look 'depth'"):
        GoodPartsLook.from_dict({**good.to_dict(), "depth": 3})


def test_a_model_file_from_before_good_parts_were_recorded_still_opens(fitted, tmp_path):
    from patchcore_gui.core.model_file import _read_metadata

    data = model_to_bytes(fitted.model)
    header = json.loads(_read_metadata("m", data)["header"])
    del header["good_parts"]
    old = tmp_path / "old.patchcore"
    old.write_bytes(_signed(header, {"memory_bank": fitted.model.memory_bank, "good_scores": fitted.model.good_scores}))
    model = load_model(old)
    assert model.good_parts is None and model.threshold == fitted.model.threshold
    # with nothing recorded the size and colour checks stay silent; the patch check still works
    assert unlike_reasons(model, PartLook(10, 500, GREY), np.zeros((4, 4), np.float32)) == ()
    far = np.full((4, 4), 3 * model.map_scale.floor, np.float32)
    assert unlike_reasons(model, PartLook(10, 500, GREY), far) == (FAR,)


def write(path, rgb: np.ndarray, mode: str = "RGB"):
    image = Image.fromarray(rgb)
    (image.convert("L") if mode == "L" else image).save(path)
    return path


def test_good_and_defective_parts_look_like_the_good_parts(fitted, synthetic_set, backbone):
    inspector = Inspector(fitted.model, backbone=backbone)
    check = LikenessCheck(fitted.model)
    parts = synthetic_set.test_good + synthetic_set.test_defective
    for result in inspector.inspect_paths(parts):
        assert check.add_file(result.path, result.inspection.patch_scores) == (), result.path
    assert check.checked == len(parts) and check.warning() is None


def test_another_product_is_named_with_its_reasons(fitted, synthetic_set, backbone, tmp_path):
    from patchcore_gui.core.images import read_image

    part = read_image(synthetic_set.test_good[0])
    rng = np.random.default_rng(0)
    others = {
        "grey.png": write(tmp_path / "grey.png", part, "L"),  # the same part, greyscale
        "wide.png": write(tmp_path / "wide.png", np.concatenate([part, part, part], axis=1)),  # 576 x 192
        # a different product: fine texture where the parts have a smooth disc, at the same size
        "texture.png": write(tmp_path / "texture.png", rng.integers(0, 256, (192, 192, 3), dtype=np.uint8)),
    }
    inspector = Inspector(fitted.model, backbone=backbone)
    check = LikenessCheck(fitted.model)
    found = {}
    for result in inspector.inspect_paths(list(others.values()) + [synthetic_set.test_defective[0]]):
        found[result.path.name] = check.add_file(result.path, result.inspection.patch_scores)
    assert COLOUR_MODE in found["grey.png"] and PROPORTIONS not in found["grey.png"]
    assert PROPORTIONS in found["wide.png"] and COLOUR_MODE not in found["wide.png"]
    assert found["texture.png"] == (FAR,)
    assert found[synthetic_set.test_defective[0].name] == ()
    warning = check.warning()
    assert warning is not None and "\n" not in warning
    assert warning.startswith("3 of 4 parts do not look like the good parts this model was built from (")
    assert "1 greyscale where the good parts are colour" in warning
    assert "1 of other proportions or size than the good parts' 192 x 192" in warning
    assert "unlike any good part almost all over" in warning and warning.endswith("is it the model for these parts?")
    pairs = [(path, None) for path in others.values()]
    assert likeness_warning(fitted.model, pairs).startswith("2 of 3 parts")  # without scores: header signs only


def test_size_rules(fitted):
    model = fitted.model  # good parts: 192 x 192, colour
    flat = np.zeros((4, 4), np.float32)
    assert unlike_reasons(model, PartLook(192, 192, COLOUR), flat) == ()
    assert unlike_reasons(model, PartLook(384, 384, COLOUR), flat) == ()  # twice the size, same proportions
    assert unlike_reasons(model, PartLook(192, 208, COLOUR), flat) == ()  # 8% wider: within the tolerance
    assert unlike_reasons(model, PartLook(192, 224, COLOUR), flat) == (PROPORTIONS,)  # 17% wider
    assert unlike_reasons(model, PartLook(80, 80, COLOUR), flat) == (PROPORTIONS,)  # far smaller than any
    assert unlike_reasons(model, PartLook(900, 900, COLOUR), flat) == (PROPORTIONS,)
    assert unlike_reasons(dataclasses.replace(model, good_parts=None), PartLook(80, 80, GREY), flat) == ()


def test_far_everywhere_means_the_closest_tenth_of_the_part(fitted):
    model, floor = fitted.model, fitted.model.map_scale.floor
    good_look = PartLook(192, 192, COLOUR)
    # a large defect: 80% of the patches far away, the closest tenth still like a good part
    patches = np.full(100, 5 * floor, np.float32)
    patches[:20] = floor
    assert unlike_reasons(model, good_look, patches) == ()
    assert unlike_reasons(model, good_look, np.full(100, 1.6 * floor, np.float32)) == ()
    assert unlike_reasons(model, good_look, np.full(100, 1.8 * floor, np.float32)) == (FAR,)


def test_a_12_bit_cameras_files_for_a_model_of_8_bit_parts_are_named_by_their_depth(fitted, synthetic_set, backbone,
                                                                                       tmp_path):
    from patchcore_gui.core.images import read_image

    model = fitted.model  # built from 8-bit files: it reads a 16-bit file's samples at full range
    assert model.preprocessing.sample_bits == 16
    good = read_image(synthetic_set.test_good[0]).astype(np.uint32)
    twelve_bit = tmp_path / "mono12.png"
    Image.fromarray(((good[:, :, 0] * 4095 + 127) // 255).astype(np.uint16)).save(twelve_bit)  # 0..4095: 12 bits
    full_16_bit = tmp_path / "mono16.png"
    Image.fromarray((good[:, :, 0] * 257).astype(np.uint16)).save(full_16_bit)
    inspector = Inspector(model, backbone=backbone)
    check = LikenessCheck(model)
    found = {result.path.name: check.add_file(result.path, result.inspection.patch_scores)
             for result in inspector.inspect_paths([twelve_bit, full_16_bit])}
    assert FAR in found["mono12.png"] and SAMPLE_DEPTH in found["mono12.png"]
    assert SAMPLE_DEPTH not in found["mono16.png"]  # read as the model reads: a greyscale part, nothing about depth
    warning = check.warning()
    assert warning is not None and "\n" not in warning
    assert ("1 with 12-bit samples in 16-bit files where the model reads 16-bit samples, so they look almost black: "
            "build the model from this camera's files") in warning
