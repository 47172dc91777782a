"""The headless commands, run in-process through ``main`` as a script would call them."""

import csv
import json

import pytest

from patchcore_gui.cli import main
from patchcore_gui.core.model_file import load_model


@pytest.fixture(scope="module")
def model_path(synthetic_set, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "parts.patchcore"
    assert main(["fit", str(synthetic_set.root / "train" / "good"), "-o", str(path), "--coreset", "0.25"]) == 0
    return path


def test_fit_writes_a_loadable_model(model_path, capsys):
    model = load_model(model_path)
    assert model.n_good_images == 20 and model.config.coreset_ratio == 0.25


def test_predict_prints_a_line_per_image_and_writes_csv_and_overlays(model_path, synthetic_set, tmp_path, capsys):
    out, table = tmp_path / "overlays", tmp_path / "results.csv"
    code = main(["predict", str(model_path), str(synthetic_set.root / "test"), "--out", str(out), "--csv", str(table)])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 12
    fields = lines[0].split("\t")
    assert len(fields) == 4 and fields[3] in {"OK", "NG"}
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 12 and set(rows[0]) == {"file", "score", "threshold", "verdict", "error"}
    ng = {r["file"] for r in rows if r["verdict"] == "NG"}
    assert sum("good" not in f for f in ng) >= 5
    assert len(list(out.glob("*_overlay*.png"))) == 12  # same stems in good/ and defect folders do not collide


def test_predict_reports_a_bad_file_goes_on_and_exits_1(model_path, synthetic_set, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    code = main(["predict", str(model_path), str(bad), str(synthetic_set.test_good[0])])
    captured = capsys.readouterr()
    assert code == 1
    assert "bad.png" in captured.err and "Traceback" not in captured.err
    assert len(captured.out.strip().splitlines()) == 1


def test_predict_with_a_broken_model_is_one_line(tmp_path, synthetic_set, capsys):
    broken = tmp_path / "broken.patchcore"
    broken.write_bytes(b"nonsense")
    assert main(["predict", str(broken), str(synthetic_set.test_good[0])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "broken.patchcore" in err


def test_fit_on_an_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["fit", str(tmp_path / "empty"), "-o", str(tmp_path / "m.patchcore")]) == 2
    assert "holds no images" in capsys.readouterr().err


def test_evaluate_writes_the_json_fields(synthetic_set, tmp_path, capsys):
    report = tmp_path / "report.json"
    assert main(["evaluate", str(synthetic_set.root), "--coreset", "0.25", "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    for key in ("image_auroc", "pixel_auroc", "aupro", "fit_seconds", "predict_ms_per_image", "n_train", "n_test"):
        assert key in data
    assert data["image_auroc"] == 1.0 and data["pixel_auroc"] > 0.9
    assert data["n_train"] == 20 and data["n_test"] == 12
    assert "image AUROC" in capsys.readouterr().out


def test_demo_makes_a_report_with_overlays(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    report = (tmp_path / "demo" / "report.md").read_text()
    assert "Image AUROC" in report and "overlays/" in report
    assert len(list((tmp_path / "demo" / "overlays").glob("*.png"))) >= 10
    assert load_model(tmp_path / "demo" / "demo.patchcore").n_good_images > 0
