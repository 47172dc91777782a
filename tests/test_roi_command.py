"""``patchcore roi`` and ``patchcore fit --roi``: a mask picture in, one line out, bad masks named."""

from dataclasses import replace

import numpy as np
import pytest

from patchcore_gui.cli import main
from patchcore_gui.core.model_file import load_model, save_model
from patchcore_gui.core.synthetic import write_png


def _half(tmp_path, size=(192, 192), name="mask.png"):
    picture = np.zeros(size, np.uint8)
    picture[:, size[1] // 2:] = 255
    path = tmp_path / name
    write_png(path, picture)
    return path


@pytest.fixture
def model_file(fitted, tmp_path):
    return save_model(fitted.model, tmp_path / "parts.patchcore")


def test_roi_sets_the_region_and_recalibrates_saying_so(model_file, fitted, tmp_path, capsys):
    assert main(["roi", str(model_file), str(_half(tmp_path))]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"saved {model_file}: region of interest: 50% of the part inspected; the 4 held-out "
                           "good scores recomputed") and "default threshold" in line
    model = load_model(model_file)
    assert model.roi is not None and model.roi.share == 0.5
    assert model.threshold == model.default_threshold != fitted.model.default_threshold
    assert main(["roi", str(model_file)]) == 0
    assert "192 x 192 pixels, 50% inspected" in capsys.readouterr().out
    # info names everything that judges a part: the region, and the minimum defect area beside it
    assert main(["defect-size", str(model_file), "--min-area", "40"]) == 0
    capsys.readouterr()
    assert main(["info", str(model_file)]) == 0
    out = capsys.readouterr().out
    assert "  region of interest   50% of the part (192 x 192 px mask)\n" in out
    assert "  minimum defect area  40 px\n" in out
    model = load_model(model_file)
    exported = tmp_path / "back.png"
    assert main(["roi", str(model_file), "--export", str(exported)]) == 0
    assert main(["roi", str(model_file), str(exported), "-o", str(tmp_path / "again.patchcore")]) == 0
    assert load_model(tmp_path / "again.patchcore").roi == model.roi
    assert main(["roi", str(model_file), "--clear"]) == 0
    assert "cleared" in capsys.readouterr().out
    cleared = load_model(model_file)
    assert cleared.roi is None and np.array_equal(cleared.good_scores, fitted.model.good_scores)


def test_roi_keeps_a_threshold_set_by_hand(fitted, tmp_path, capsys):
    path = save_model(fitted.model.with_threshold(40.0), tmp_path / "m.patchcore")
    assert main(["roi", str(path), str(_half(tmp_path))]) == 0
    assert "threshold 40.0000 kept (set by hand" in capsys.readouterr().out
    assert load_model(path).threshold == 40.0


def test_roi_on_a_model_without_the_record_says_what_is_not_recomputed(fitted, tmp_path, capsys):
    path = save_model(replace(fitted.model, good_patches=None), tmp_path / "old.patchcore")
    assert main(["roi", str(path), str(_half(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "held-out good scores and the threshold" in out and "still those of the whole image" in out
    assert load_model(path).threshold == fitted.model.threshold


@pytest.mark.parametrize("make, words", [
    (lambda path: path.write_bytes(b"\x89PNG but not really"), "cannot use mask 'bad.png': not an image"),
    (lambda path: write_png(path, np.full((192, 192, 3), (200, 30, 30), np.uint8)), "not black and white"),
    (lambda path: write_png(path, np.full((100, 300), 255, np.uint8)),
     "it is 300 x 100 pixels but the good parts are 192 x 192"),
    (lambda path: write_png(path, np.zeros((192, 192), np.uint8)), "all black"),
])
def test_a_bad_mask_is_one_line_naming_the_file_and_the_model_is_unchanged(model_file, tmp_path, capsys, make,
                                                                           words):
    before = model_file.read_bytes()
    bad = tmp_path / "bad.png"
    make(bad)
    assert main(["roi", str(model_file), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'bad.png'" in err and words in err, err
    assert model_file.read_bytes() == before


def test_fit_with_a_mask_and_a_bad_mask_before_the_fit(synthetic_set, tmp_path, capsys):
    good = str(synthetic_set.root / "train" / "good")
    out = tmp_path / "m.patchcore"
    wrong = _half(tmp_path, size=(50, 80), name="wrong.png")
    assert main(["fit", good, "-o", str(out), "--roi", str(wrong)]) == 2
    assert "cannot use mask 'wrong.png'" in capsys.readouterr().err and not out.exists()
    assert main(["fit", good, "-o", str(out), "--coreset", "0.25", "--roi", str(_half(tmp_path))]) == 0
    assert "region of interest from 'mask.png': 50% of the part inspected" in capsys.readouterr().out
    model = load_model(out)
    assert model.roi is not None and model.roi.share == 0.5
    # the fit with a mask calibrates as setting the same mask afterwards does
    unmasked = model.with_region_of_interest(None)
    remasked = unmasked.with_region_of_interest(model.roi)
    np.testing.assert_array_equal(remasked.good_scores, model.good_scores)
    assert remasked.threshold == model.threshold
