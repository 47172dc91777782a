import json
import struct

import numpy as np
import pytest

from patchcore_gui.core.errors import ModelFileError
from patchcore_gui.core.model_file import FORMAT_NAME, load_model, model_from_bytes, model_to_bytes, save_model
from patchcore_gui.core.patchcore import Inspector


def test_round_trip_gives_identical_scores(fitted, synthetic_set, backbone, tmp_path):
    path = save_model(fitted.model, tmp_path / "line3.patchcore")
    loaded = load_model(path)
    assert np.array_equal(loaded.memory_bank, fitted.model.memory_bank)
    assert np.array_equal(loaded.good_scores, fitted.model.good_scores)
    assert loaded.config == fitted.model.config and loaded.preprocessing == fitted.model.preprocessing
    assert loaded.threshold == fitted.model.threshold and loaded.map_scale == fitted.model.map_scale
    images = synthetic_set.test_good[:2] + synthetic_set.test_defective[:2]
    before = [r.inspection.score for r in Inspector(fitted.model, backbone=backbone).inspect_paths(images)]
    after = [r.inspection.score for r in Inspector(loaded).inspect_paths(images)]
    assert before == after


def test_calibrated_threshold_is_saved(fitted, tmp_path):
    path = save_model(fitted.model.with_threshold(1.2345), tmp_path / "m.patchcore")
    reloaded = load_model(path)
    assert reloaded.threshold == pytest.approx(1.2345)
    assert reloaded.default_threshold == fitted.model.default_threshold


def test_truncated_file(fitted, tmp_path):
    data = model_to_bytes(fitted.model)
    for cut in (0, 5, 100, len(data) // 2, len(data) - 1):
        (tmp_path / "cut.patchcore").write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="cut.patchcore"):
            load_model(tmp_path / "cut.patchcore")


def test_altered_contents_fail_the_integrity_check(fitted):
    data = bytearray(model_to_bytes(fitted.model))
    data[-10] ^= 0xFF
    with pytest.raises(ModelFileError, match="integrity"):
        model_from_bytes(bytes(data), "x")


def _rewrite_metadata(data: bytes, change) -> bytes:
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    change(header["__metadata__"])
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data[8 + size:]


def test_future_version_is_refused_with_a_reason(fitted):
    data = _rewrite_metadata(model_to_bytes(fitted.model), lambda meta: meta.update(format_version="99"))
    with pytest.raises(ModelFileError, match="version 99"):
        model_from_bytes(data, "future.patchcore")


def test_foreign_files(tmp_path):
    from safetensors.numpy import save_file
    save_file({"x": np.zeros(3, np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelFileError, match="not a PatchCore model"):
        load_model(tmp_path / "other.safetensors")
    (tmp_path / "pickle.patchcore").write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    with pytest.raises(ModelFileError, match="not a PatchCore model"):
        load_model(tmp_path / "pickle.patchcore")
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "missing.patchcore")
    with pytest.raises(ModelFileError, match="folder"):
        load_model(tmp_path)


def test_save_replaces_atomically_and_leaves_no_temporary(fitted, tmp_path):
    path = tmp_path / "m.patchcore"
    save_model(fitted.model, path)
    save_model(fitted.model.with_threshold(9.0), path)
    assert load_model(path).threshold == 9.0
    assert [p.name for p in tmp_path.iterdir()] == ["m.patchcore"]


def test_format_marker_is_in_the_header(fitted):
    data = model_to_bytes(fitted.model)
    (size,) = struct.unpack("<Q", data[:8])
    assert json.loads(data[8:8 + size])["__metadata__"]["format"] == FORMAT_NAME
