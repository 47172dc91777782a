"""The headless commands, run in-process through ``main`` as a script would call them."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import warnings
from datetime import datetime

import pytest
from PIL import Image

from patchcore_gui.cli import TerminalProgress, main
from patchcore_gui.core.model_file import load_model
from patchcore_gui.core.results import CSV_COLUMNS, model_identity

from patchcore_gui.core.synthetic import write_synthetic_set

from .core.test_atomic import mode_of, umask  # noqa: F401  (umask is a fixture)
from .core.test_images import NOISE, encoded, write_twelve_bit


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
    assert len(fields) == 5 and fields[3] in {"OK", "NG"}
    rows = list(csv.DictReader(table.open()))
    # each line ends with the part's regions, as the CSV lists them
    by_file = {r["file"]: r for r in rows}
    for line in lines:
        name, _, _, _, regions = line.split("\t")
        count = int(by_file[name]["region_count"])
        assert regions == ("no region" if count == 0 else
                           f"{count} region{'s' if count > 1 else ''}, largest {by_file[name]['largest_region_px']} px")
    assert len(rows) == 12 and tuple(rows[0]) == CSV_COLUMNS
    # which model (name and identity), the threshold's source, when, and that every row is there
    assert {(r["model"], r["model_id"], r["threshold_source"], r["rows_written"]) for r in rows} == {
        ("parts.patchcore", model_identity(load_model(model_path)), "learned", "all")}
    times = [datetime.fromisoformat(r["inspected_at"]) for r in rows]
    assert times == sorted(times) and all(t.utcoffset() is not None for t in times)
    ng = {r["file"] for r in rows if r["verdict"] == "NG"}
    assert sum("good" not in f for f in ng) >= 5
    # good/part_000.png and crack/part_000.png: each overlay named after its folder, none numbered
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{p.parent.name}__{p.stem}_overlay.png" for p in synthetic_set.test_good + synthetic_set.test_defective)


def test_predict_csv_for_excel_on_a_decimal_comma_pc(model_path, synthetic_set, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("patchcore_gui.core.csv_style.this_pcs_decimal_mark", lambda: ",")
    table = tmp_path / "results.csv"
    parts = [str(part) for part in synthetic_set.test_good[:2]]
    assert main(["predict", str(model_path), *parts, "--csv", str(table), "--excel"]) == 0
    printed = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    text = table.read_text(encoding="utf-8")
    assert text.startswith("\ufeff" + ";".join(CSV_COLUMNS[:4]))
    rows = list(csv.DictReader(text[1:].splitlines(), delimiter=";"))
    assert [row["file"] for row in rows] == parts
    for row, printed_row in zip(rows, printed):  # the console's points, the file's commas
        for column, shown in (("score", printed_row[1]), ("threshold", printed_row[2])):
            whole, fraction = row[column].split(",")
            assert len(fraction) == 6 and float(f"{whole}.{fraction}") == pytest.approx(float(shown), abs=1e-4)
        assert len(row["inspected_at"]) == 19 and datetime.strptime(row["inspected_at"], "%Y-%m-%d %H:%M:%S")


def test_predict_reports_a_bad_file_goes_on_and_exits_1(model_path, synthetic_set, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    code = main(["predict", str(model_path), str(bad), str(synthetic_set.test_good[0])])
    captured = capsys.readouterr()
    assert code == 1
    assert "bad.png" in captured.err and "Traceback" not in captured.err
    assert len(captured.out.strip().splitlines()) == 1


def test_predict_refuses_a_table_or_overlay_place_it_cannot_write_before_inspecting(model_path, synthetic_set,
                                                                                    tmp_path, capsys):
    """Said before a long batch (before: the table's error came after every image was inspected, the overlays'
    once per image)."""
    part = str(synthetic_set.test_good[0])
    assert main(["predict", str(model_path), part, "--csv", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == f"error: --csv {tmp_path} is a folder: name the table's file"
    (tmp_path / "taken").write_text("a file")
    assert main(["predict", str(model_path), part, "--out", str(tmp_path / "taken")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == (
        f"error: the overlays cannot go into {tmp_path / 'taken'}: it is a file, not a folder")
    assert main(["predict", str(model_path), part, "--csv", str(tmp_path / "taken" / "results.csv")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: the table cannot go into {tmp_path / 'taken'}: it is a file, not a folder")
    assert main(["predict", str(model_path), part, "--csv", str(tmp_path / "new" / "results.csv")]) == 0
    assert (tmp_path / "new" / "results.csv").is_file()  # a missing folder is made, as before


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


def test_fit_refuses_a_folder_whose_defective_parts_would_be_built_in_as_good(synthetic_set, tmp_path, capsys):
    """The data set's root, its test folder, or the line's sorted folder given for its good parts: before, each
    was built with its defective parts (and MVTec's masks) as good ones, and said nothing."""
    root = synthetic_set.root  # train/good, test/good, test/<defect>, ground_truth/<defect>
    sorted_parts = tmp_path / "sorted"
    for verdict in ("OK", "NG"):
        (sorted_parts / "2026-03-10" / verdict).mkdir(parents=True)
        for path in synthetic_set.test_good[:2]:
            (sorted_parts / "2026-03-10" / verdict / path.name).write_bytes(path.read_bytes())
    for folder, words in ((root, f"is a data set in the MVTec layout: its test parts and defect masks would be built "
                                 f"in as good parts; build from '{root / 'train' / 'good'}'"),
                          (root / "test", "holds 'good' beside "),
                          (sorted_parts, f"holds parts the line sorted NG (2026-03-10{os.sep}NG{os.sep})")):
        assert main(["fit", str(folder), "-o", str(tmp_path / "m.patchcore"), "--estimate"]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith(f"error: '{folder}' ") and words in captured.err and captured.out == ""
        assert captured.err.count("\n") == 1
    assert main(["fit", str(sorted_parts / "2026-03-10" / "OK"), "-o", str(tmp_path / "m.patchcore"),
                 "--estimate"]) == 0  # the parts the line passed are good parts to build from


def test_arguments_in_the_wrong_order_or_place_are_said_with_the_right_one(synthetic_set, model_path, capsys):
    part = synthetic_set.test_good[0]
    assert main(["predict", str(part), str(model_path)]) == 2
    assert capsys.readouterr().err == (f"error: cannot open model '{part.name}': not a PatchCore model file; the model "
                                       f"comes first: patchcore predict {model_path} ...\n")
    # evaluate given a folder of good parts: what it lacks, before a network is loaded or a cost estimated
    good = synthetic_set.root / "train" / "good"
    assert main(["evaluate", str(good)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"error: '{good}' is not a data set in the MVTec layout: "
                                                          f"it has no train{os.sep}good folder")


def test_evaluate_writes_the_json_fields(synthetic_set, tmp_path, capsys):
    report = tmp_path / "report.json"
    assert main(["evaluate", str(synthetic_set.root), "--coreset", "0.25", "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    for key in ("image_auroc", "pixel_auroc", "aupro", "fit_seconds", "predict_ms_per_image", "n_train", "n_test"):
        assert key in data
    assert data["image_auroc"] == 1.0 and data["pixel_auroc"] > 0.9
    assert data["n_train"] == 20 and data["n_test"] == 12
    # both ways a threshold errs, at the default threshold: good parts rejected, defective ones passed
    assert data["false_reject_rate"] == 0.0 and data["miss_rate"] == 0.0  # the tiny set is separable
    # where the maps find each defect kind, beside how well its parts are told apart
    assert data["per_defect_pixel_auroc"] and set(data["per_defect_pixel_auroc"]) == set(data["per_defect_auroc"])
    assert all(0.5 < value <= 1.0 for value in data["per_defect_pixel_auroc"].values())
    out = capsys.readouterr().out
    assert "image AUROC" in out and "false rejects 0.0% of good parts, misses 0.0% of defective parts" in out
    kind, pixel = next(iter(data["per_defect_pixel_auroc"].items()))
    assert f"  {kind}: image AUROC {data['per_defect_auroc'][kind]:.4f}, pixel AUROC {pixel:.4f}" in out


def test_demo_makes_a_report_with_overlays(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    report = (tmp_path / "demo" / "report.md").read_text()
    assert "Image AUROC" in report and "overlays/" in report
    # the first thing a new user sees: the default threshold calls every one of the demo's parts right
    assert "12 of 12 verdicts as expected with the default threshold" in report
    assert len(list((tmp_path / "demo" / "overlays").glob("*.png"))) >= 10
    assert load_model(tmp_path / "demo" / "demo.patchcore").n_good_images > 0


@pytest.mark.parametrize("files,words", [
    ({"notes.txt": b"text", "scan.raw": b"\0" * 64}, "holds no images"),
    ({"only.png": None}, "need at least 2 good images to build a model, got 1"),
    ({"a.png": b"\x89PNG broken", "b.jpg": b""}, "need at least 2 readable good images, found 0 of 2 (cannot read"),
])
def test_fit_on_unusable_folders_is_one_line(synthetic_set, tmp_path, capsys, files, words):
    folder = tmp_path / "good"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(synthetic_set.train_good[0].read_bytes() if content is None else content)
    assert main(["fit", str(folder), "-o", str(tmp_path / "m.patchcore")]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and words in last and "Traceback" not in err
    assert not (tmp_path / "m.patchcore").exists()


def test_fit_that_cannot_save_is_one_line(synthetic_set, tmp_path, capsys):
    (tmp_path / "taken").mkdir()  # a folder where the model file should go
    good = tmp_path / "good"
    good.mkdir()
    for path in synthetic_set.train_good[:3]:
        (good / path.name).write_bytes(path.read_bytes())
    code = main(["fit", str(good), "-o", str(tmp_path / "taken"), "--coreset", "0.05"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (f"error: cannot write '{tmp_path / 'taken'}': Is a directory "
                                            "(the previous file, if any, is unchanged)")


def test_predict_goes_on_when_a_file_vanishes_before_its_overlay(model_path, synthetic_set, tmp_path, capsys,
                                                               monkeypatch):
    import patchcore_gui.cli as cli
    parts = []
    for path in synthetic_set.test_good[:2]:
        parts.append(tmp_path / path.name)
        parts[-1].write_bytes(path.read_bytes())
    real_read = cli.read_image

    def vanish_then_read(path, *args):  # inspected a moment ago, deleted by another program since
        path.unlink()
        return real_read(path, *args)

    monkeypatch.setattr(cli, "read_image", vanish_then_read)
    table = tmp_path / "results.csv"
    code = main(["predict", str(model_path), *map(str, parts), "--out", str(tmp_path / "out"), "--csv", str(table)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert len(captured.out.strip().splitlines()) == 2  # both were scored
    assert [line for line in captured.err.splitlines() if line.startswith("error:")] == [
        f"error: no overlay for '{p.name}': cannot read '{p.name}': no such file" for p in parts]
    assert len(list(csv.DictReader(table.open()))) == 2


def test_predict_without_the_backbone_weights_is_one_line(model_path, synthetic_set, tmp_path, capsys):
    assert main(["predict", str(model_path), str(synthetic_set.test_good[0]),
                 "--weights", str(tmp_path / "gone.pth")]) == 2
    assert capsys.readouterr().err.strip() == f"error: weights file '{tmp_path / 'gone.pth'}' does not exist"
    other = tmp_path / "other.pth"
    other.write_bytes(b"not the weights this model was built with")
    assert main(["predict", str(model_path), str(synthetic_set.test_good[0]), "--weights", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "differs from the weights this model was built with" in err


def test_a_damaged_tiff_is_one_line_without_pillow_warnings(model_path, tmp_path, capsys):
    cut = tmp_path / "cut.tif"
    cut.write_bytes(encoded(NOISE, "TIFF")[:100])  # Pillow warns "Truncated File Read" while trying it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["predict", str(model_path), str(cut)]) == 1
    assert [str(w.message) for w in caught] == []
    assert capsys.readouterr().err.strip() == ("error: cannot read 'cut.tif': not an image (100 bytes; PNG, JPEG, "
                                               "BMP, TIFF, GIF and WebP are read)")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_and_not_on_a_file():
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = TerminalProgress(stream)
        for done in range(4):
            progress(done, 3, "inspect")
    assert "inspect" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert log.getvalue() == ""


def _run_cli(*args: str, stderr) -> subprocess.CompletedProcess:
    """The command as a script runs it, in its own process, stderr to a pipe or a file (not a terminal)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "patchcore_gui.cli", *args], stdout=subprocess.PIPE,
                          stderr=stderr, text=True, timeout=300, env=env)


def test_predict_to_a_pipe_writes_errors_but_no_progress(model_path, synthetic_set, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    done = _run_cli("predict", str(model_path), str(bad), *map(str, synthetic_set.test_good[:3]),
                    stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 3
    errors = done.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ") and "bad.png" in errors[0]


def test_evaluate_to_a_file_writes_what_it_skipped_but_no_progress(tmp_path):
    parts = write_synthetic_set(tmp_path / "parts", n_train=6, n_test_good=2, n_test_defective=2, size=96)
    (parts.root / "test" / "good" / "damaged.png").write_bytes(b"not an image")
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        done = _run_cli("evaluate", str(parts.root), "--coreset", "0.25", stderr=stderr)
    assert done.returncode == 0 and "image AUROC" in done.stdout
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skipped: ") and "damaged.png" in lines[0]


def test_a_command_that_cannot_run_says_why_on_a_pipe(tmp_path):
    done = _run_cli("predict", str(tmp_path / "missing.patchcore"), str(tmp_path), stderr=subprocess.PIPE)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"error: cannot open model '{tmp_path / 'missing.patchcore'}': no such file"]


@pytest.mark.skipif(os.name != "posix", reason="umask is POSIX")
def test_fit_and_predict_write_files_others_can_read(umask, synthetic_set, tmp_path, capsys):
    good = tmp_path / "good"
    good.mkdir()
    for path in synthetic_set.train_good[:4]:
        (good / path.name).write_bytes(path.read_bytes())
    model, table, out = tmp_path / "line3.patchcore", tmp_path / "results.csv", tmp_path / "overlays"
    assert main(["fit", str(good), "-o", str(model), "--coreset", "0.25"]) == 0
    assert main(["predict", str(model), *map(str, synthetic_set.test_good[:2]), "--csv", str(table),
                 "--out", str(out)]) == 0
    written = [model, table, *sorted(out.iterdir())]
    assert len(written) == 4
    assert {path.name: mode_of(path) for path in written} == {path.name: 0o666 & ~umask for path in written}


def test_predict_warns_in_one_line_when_the_parts_do_not_look_like_the_good_ones(model_path, synthetic_set,
                                                                                 tmp_path, capsys):
    assert main(["predict", str(model_path), str(synthetic_set.root / "test")]) == 0
    assert "warning" not in capsys.readouterr().err  # good and defective parts of the right product
    grey = tmp_path / "grey"
    grey.mkdir()
    for path in synthetic_set.test_good[:3]:
        Image.open(path).convert("L").save(grey / path.name)
    assert main(["predict", str(model_path), str(grey)]) == 0  # a warning, not a failure
    warnings_ = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert warnings_ == ["warning: 3 of 3 parts do not look like the good parts this model was built from "
                         "(3 greyscale where the good parts are colour): is it the model for these parts?"]


def test_defect_size_sets_the_minimum_area_of_a_model_without_a_rebuild(model_path, synthetic_set, tmp_path, capsys):
    model = tmp_path / "speck.patchcore"
    model.write_bytes(model_path.read_bytes())
    part = synthetic_set.test_defective[0]
    table = tmp_path / "before.csv"
    assert main(["predict", str(model), str(part), "--csv", str(table)]) == 0
    (before,) = list(csv.DictReader(table.open()))
    assert before["verdict"] == "NG" and int(before["largest_region_px"]) > 0
    largest = int(before["largest_region_px"])
    capsys.readouterr()

    # in mm² with a pixel size: just above the part's largest region, so it passes
    pixel = 0.05
    assert main(["defect-size", str(model), "--min-area-mm2", f"{(largest + 1) * pixel ** 2:.6f}",
                 "--pixel-size", str(pixel)]) == 0
    assert "(saved)" in capsys.readouterr().out
    saved = load_model(model)
    assert saved.min_defect_area == pytest.approx(largest + 1) and saved.pixel_size_mm == pixel
    assert saved.memory_bank.shape == load_model(model_path).memory_bank.shape  # no rebuild: the same bank
    assert main(["predict", str(model), str(part), "--csv", str(table)]) == 0
    (after,) = list(csv.DictReader(table.open()))
    assert after["verdict"] == "OK" and after["score"] == before["score"]
    assert after["min_defect_area_px"] == f"{largest + 1:g}" and after["largest_region_mm2"]

    # in pixels, the pixel size kept; without options it says what is set
    assert main(["defect-size", str(model), "--min-area", str(largest)]) == 0
    capsys.readouterr()
    assert main(["defect-size", str(model)]) == 0
    assert capsys.readouterr().out.strip() == (f"speck.patchcore: minimum defect area "
                                               f"{largest * pixel ** 2:.3f} mm² ({largest} px), pixel size 0.05 mm")
    assert main(["predict", str(model), str(part)]) == 0
    assert capsys.readouterr().out.split("\t")[3] == "NG"  # as large as the minimum: a defect


def test_defect_size_refuses_mm2_without_a_pixel_size_in_one_line(model_path, capsys):
    assert main(["defect-size", str(model_path), "--min-area-mm2", "0.1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--pixel-size" in err
    assert main(["defect-size", str(model_path), "--min-area", "-3"]) == 2
    assert "minimum defect area" in capsys.readouterr().err and load_model(model_path).min_defect_area == 0


def test_fit_sets_the_minimum_defect_area(synthetic_set, tmp_path, capsys):
    path = tmp_path / "m.patchcore"
    assert main(["fit", str(synthetic_set.root / "train" / "good"), "-o", str(path), "--coreset", "0.25",
                 "--min-area", "40"]) == 0
    assert "minimum defect area 40 px" in capsys.readouterr().out
    assert load_model(path).min_defect_area == 40.0
def test_info_says_the_model_searches_exactly_by_default(model_path, capsys):
    assert main(["info", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\n  search +exact\n", out) and "approximate" not in out
    assert re.search(r"\n  good images +20 \(", out) and re.search(r"\n  taught parts +none\n", out)


def test_fit_with_the_approximate_search_says_so_and_info_and_evaluate_say_it_too(synthetic_set, tmp_path, capsys):
    path = tmp_path / "ivf.patchcore"
    assert main(["fit", str(synthetic_set.root / "train" / "good"), "-o", str(path), "--coreset", "0.25",
                 "--search", "ivf"]) == 0
    assert "search approximate (IVF" in capsys.readouterr().out
    assert load_model(path).config.search == "ivf"
    assert main(["info", str(path)]) == 0
    assert re.search(r"\n  search +approximate \(IVF", capsys.readouterr().out)
    assert main(["evaluate", str(synthetic_set.root), "--coreset", "0.25", "--search", "ivf",
                 "--json", str(tmp_path / "e.json")]) == 0
    assert "search approximate (IVF" in capsys.readouterr().out
    assert json.loads((tmp_path / "e.json").read_text())["search"].startswith("approximate (IVF")


def test_fit_and_evaluate_load_the_network_once_for_the_estimate_and_the_build(tmp_path, monkeypatch, capsys):
    from patchcore_gui import cli
    from patchcore_gui.core import build_cost, evaluate, patchcore

    loads = []

    def counted(real):
        def load(*args, **kwargs):
            loads.append(args[0])
            return real(*args, **kwargs)
        return load

    for module in (cli, build_cost, evaluate, patchcore):
        if hasattr(module, "load_backbone"):
            monkeypatch.setattr(module, "load_backbone", counted(module.load_backbone))
    parts = write_synthetic_set(tmp_path / "parts", n_train=6, n_test_good=2, n_test_defective=2, size=96)
    assert main(["fit", str(parts.root / "train" / "good"), "-o", str(tmp_path / "m.patchcore"), "--coreset", "0.25"]) == 0
    assert len(loads) == 1 and "timed on this PC" in capsys.readouterr().out
    assert main(["evaluate", str(parts.root), "--coreset", "0.25"]) == 0
    assert len(loads) == 2 and "timed on this PC" in capsys.readouterr().out


def test_a_twelve_bit_cameras_parts_build_and_inspect_through_the_commands(synthetic_set, tmp_path, capsys):
    """fit finds the good parts' depth and says it, info shows it, predict reads the parts and draws
    the overlays with it: the twelve-bit copies score and look as the eight-bit parts do."""
    import cv2
    import numpy as np
    from patchcore_gui.core.images import read_image

    def copies(paths, folder, twelve):
        folder.mkdir(parents=True)
        for path in paths:
            pixels, copy = read_image(path), folder / f"{path.parent.name}_{path.name}"
            if twelve:
                write_twelve_bit(pixels, copy)
            else:
                assert cv2.imwrite(str(copy), pixels[:, :, ::-1])

    outputs = {}
    for twelve in (False, True):
        root = tmp_path / ("twelve" if twelve else "eight")
        copies(synthetic_set.train_good[:8], root / "good", twelve)
        copies(synthetic_set.test_defective[:2] + synthetic_set.test_good[:1], root / "test", twelve)
        model = root / "parts.patchcore"
        assert main(["fit", str(root / "good"), "-o", str(model), "--coreset", "0.25"]) == 0
        said = capsys.readouterr().out
        assert ("every part is read with 4095 as white" in said) is twelve
        assert main(["info", str(model)]) == 0
        assert ("12-bit samples in 16-bit files (4095 is white)" in capsys.readouterr().out) is twelve
        assert main(["predict", str(model), str(root / "test"), "--out", str(root / "overlays")]) == 0
        outputs[twelve] = ([line.split("\t")[1] for line in capsys.readouterr().out.splitlines()],
                           [read_image(path).astype(int) for path in sorted((root / "overlays").iterdir())])
    assert outputs[True][0] == outputs[False][0]  # the same scores, to the printed digit
    assert all(np.abs(a - b).mean() < 1 for a, b in zip(outputs[True][1], outputs[False][1]))
