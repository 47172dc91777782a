import copy
import json
import pickle
import struct
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save as save_tensors

from patchcore_gui.core.errors import ModelFileError, WeightsMissingError
from patchcore_gui.core.model_file import (FORMAT_NAME, FORMAT_VERSION, _digest, inspects_alike, is_model_file,
                                           load_model, model_from_bytes, model_to_bytes, save_model)
from patchcore_gui.core.patchcore import Inspector

from .test_search_index import _re_signed


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


def test_models_that_differ_only_in_judging_inspect_alike(fitted, tmp_path):
    model = load_model(save_model(fitted.model, tmp_path / "m.patchcore"))  # as a line has it: read from its file
    judged_anew = replace(model.with_threshold(model.threshold * 2).with_review_band(model.threshold),
                          min_defect_area=40.0, pixel_size_mm=0.05)
    assert inspects_alike(model, judged_anew) and inspects_alike(judged_anew, model)
    bank = model.memory_bank.copy()
    bank[0, 0] += 1e-3
    assert not inspects_alike(model, replace(model, memory_bank=bank))
    doubled = replace(model.map_scale, ratio=model.map_scale.ratio * 2)
    assert not inspects_alike(model, replace(model, map_scale=doubled))
    assert not inspects_alike(model, replace(model, config=replace(model.config, reweight_neighbours=3)))


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


@pytest.mark.parametrize("change, said", [
    (lambda header: header["config"].update(warp_correction=True), "configuration 'warp_correction'"),
    (lambda header: header["preprocessing"].update(lens="fisheye"), "preprocessing 'lens'"),
    (lambda header: header.update(defect_size={"min_area_px": 4, "max_count": 2}), "minimum defect size 'max_count'"),
])
def test_a_setting_a_newer_program_added_is_refused_as_the_newer_program_s_not_as_damage(fitted, change, said):
    """A line PC with an older program given a model built by a newer one: the file is whole (its hash holds), and
    the message says what to do, not that it is damaged."""
    data = _re_signed(model_to_bytes(fitted.model), change)
    with pytest.raises(ModelFileError) as refused:
        model_from_bytes(data, "line3.patchcore")
    assert str(refused.value) == (
        f"cannot open model 'line3.patchcore': it was made by a newer PatchCore Inspector, with settings this program "
        f"does not know ({said}); open it with that version, or install it on this PC")


def test_version_1_files_still_open(fitted):
    """A version 1 file is the version 2 layout with only the bank and the good scores, hashed the same."""
    data = _rewrite_metadata(model_to_bytes(fitted.model), lambda meta: meta.update(format_version="1"))
    loaded = model_from_bytes(data, "old.patchcore")
    assert np.array_equal(loaded.memory_bank, fitted.model.memory_bank)


def test_every_tensor_is_under_the_integrity_hash():
    tensors = {"memory_bank": np.zeros((2, 3), np.float32), "good_scores": np.ones(2, np.float32),
               "roi_mask": np.zeros((4, 4), np.uint8)}
    altered = dict(tensors, roi_mask=np.eye(4, dtype=np.uint8))
    assert _digest("{}", tensors) != _digest("{}", altered)
    assert _digest("{}", tensors) == _digest("{}", dict(reversed(list(tensors.items()))))


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


class _Payload:
    """Unpickling this creates ``marker``: proof that code from the file ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_runs_code_from_the_file(tmp_path):
    marker = tmp_path / "code-ran"
    (tmp_path / "pickle.patchcore").write_bytes(pickle.dumps(_Payload(str(marker))))
    torch.save({"memory_bank": _Payload(str(marker))}, tmp_path / "checkpoint.patchcore")
    for name in ("pickle.patchcore", "checkpoint.patchcore"):
        with pytest.raises(ModelFileError, match=f"'{name}': not a PatchCore model"):
            load_model(tmp_path / name)
    assert not marker.exists()
    pickle.loads((tmp_path / "pickle.patchcore").read_bytes())  # the same bytes do run code when unpickled
    assert marker.exists()


def test_a_model_whose_backbone_weights_are_not_here_is_one_line(fitted, tmp_path):
    other = replace(fitted.model, weights_sha256="0" * 64)  # built with weights this machine does not have
    with pytest.raises(WeightsMissingError) as raised:
        Inspector(load_model(save_model(other, tmp_path / "elsewhere.patchcore")))
    message = str(raised.value)
    assert "differs from the weights this model was built with (sha256 000000000000)" in message
    assert "\n" not in message


def _signed(header: dict, tensors: dict) -> bytes:
    """A model file with a valid integrity hash over whatever ``header`` and ``tensors`` hold."""
    header_json = json.dumps(header, sort_keys=True)
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "header": header_json,
                "sha256": _digest(header_json, tensors)}
    return save_tensors(tensors, metadata=metadata)


def _loads_or_says_why(data: bytes, folder) -> None:
    path = folder / "fuzz.patchcore"
    path.write_bytes(data)
    try:
        model = load_model(path)
    except ModelFileError as error:
        message = str(error)
        assert message.startswith("cannot open model 'fuzz.patchcore': ") and "\n" not in message
    else:
        assert model.memory_bank.ndim == 2 and model.memory_bank.dtype == np.float32


SCALARS = (st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -2**64]) | st.floats()
           | st.text(max_size=6))
JSON = st.recursive(SCALARS,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


def test_random_and_mutated_model_bytes_load_or_raise_a_one_line_model_file_error(fitted, tmp_path):
    seed = model_to_bytes(fitted.model)
    edits = st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), max_size=6)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(st.binary(max_size=256), st.tuples(edits, st.integers(0, len(seed)))))
    def check(case):
        if isinstance(case, bytes):
            data = case
        else:
            buffer = bytearray(seed)
            for position, value in case[0]:
                buffer[position] = value
            data = bytes(buffer[:case[1]])
        _loads_or_says_why(data, tmp_path)

    check()


def test_re_signed_models_with_random_contents_load_or_raise_a_one_line_model_file_error(fitted, tmp_path):
    """Deliberately edited files that pass the integrity check still never escape with another error."""
    (size,) = struct.unpack("<Q", model_to_bytes(fitted.model)[:8])
    header = json.loads(json.loads(model_to_bytes(fitted.model)[8:8 + size])["__metadata__"]["header"])
    bank, good = fitted.model.memory_bank[:50], fitted.model.good_scores
    places = [(key,) for key in header] + [(part, key) for part in ("config", "preprocessing", "backbone",
                                                                     "map_scale") for key in header[part]]
    arrays = st.sampled_from([bank, bank[0], bank.astype(np.float64), bank[:0], np.zeros((2, 3, 4), np.float32),
                              good, good.astype(np.int32)])

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.sampled_from(places), st.one_of(st.just("<delete>"), JSON)), max_size=3),
           st.one_of(st.just(bank), arrays), st.one_of(st.just(good), arrays))
    @example([(("threshold",), 10**400)], bank, good)  # float() of it raised OverflowError, which escaped
    @example([(("map_scale",), [1.0, 2.0])], bank, good)
    def check(changes, new_bank, new_good):
        edited = copy.deepcopy(header)
        for place, value in changes:
            target = edited
            for key in place[:-1]:
                target = target[key] if isinstance(target.get(key), dict) else {}
            if value == "<delete>":
                target.pop(place[-1], None)
            else:
                target[place[-1]] = value
        _loads_or_says_why(_signed(edited, {"memory_bank": new_bank, "good_scores": new_good}), tmp_path)

    check()


def test_a_model_is_told_by_its_content_not_its_name(fitted, synthetic_set, tmp_path):
    data = model_to_bytes(fitted.model)
    (tmp_path / "bottle.pcm").write_bytes(data)
    (tmp_path / "other.safetensors").write_bytes(save_tensors({"x": np.zeros(3, np.float32)}, metadata={"a": "b"}))
    (tmp_path / "cut.patchcore").write_bytes(data[:200])
    (tmp_path / "empty.patchcore").write_bytes(b"")
    assert is_model_file(tmp_path / "bottle.pcm")
    for name in ("other.safetensors", "cut.patchcore", "empty.patchcore", "missing.patchcore"):
        assert not is_model_file(tmp_path / name), name
    assert not is_model_file(synthetic_set.test_good[0]) and not is_model_file(tmp_path)


def test_the_review_band_is_saved_and_a_file_without_it_has_none(fitted, tmp_path):
    model = fitted.model
    assert model.review_from is None and "review_from" not in json.loads(_rewrite_header_of(model))
    banded = model.with_review_band(model.threshold * 0.9)
    reloaded = load_model(save_model(banded, tmp_path / "band.patchcore"))
    assert reloaded.review_from == pytest.approx(model.threshold * 0.9)
    assert reloaded.verdict(model.threshold * 0.95) == "REVIEW"
    assert reloaded.verdict(model.threshold * 0.85) == "OK" and reloaded.verdict(model.threshold * 1.01) == "NG"


def test_a_review_band_above_the_threshold_is_refused_in_a_file(fitted):
    header = json.loads(_rewrite_header_of(fitted.model))
    header["review_from"] = fitted.model.threshold + 1.0
    data = _signed(header, {"memory_bank": fitted.model.memory_bank, "good_scores": fitted.model.good_scores})
    with pytest.raises(ModelFileError, match="review band"):
        model_from_bytes(data, "band.patchcore")


def _rewrite_header_of(model) -> str:
    data = model_to_bytes(model)
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + size])["__metadata__"]["header"]
