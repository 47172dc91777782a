"""``patchcore predict --log`` writes the record; ``patchcore log`` reads it back (lines, CSV, summary, trail)."""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import shlex
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from patchcore_gui.cli import main
from patchcore_gui.core.model_file import save_model
from patchcore_gui.record import InspectionRecord, RecordFilter, open_store
from patchcore_gui.record.log_command import parse_when

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory):
    return save_model(fitted.model, tmp_path_factory.mktemp("model") / "bottle-line3.patchcore")


def test_predict_log_records_every_part_with_the_model_and_its_threshold(model_file, fitted, synthetic_set, tmp_path,
                                                                        capsys):
    store_path = tmp_path / "line.sqlite"
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    code = main(["predict", str(model_file), str(synthetic_set.root / "test"), str(bad), "--log", str(store_path),
                 "--station", "line3"])
    printed = capsys.readouterr().out.strip().splitlines()
    assert code == 1  # the bad file
    with open_store(store_path, "reader") as store:
        records = store.inspections()
        changes = store.model_changes()
    assert len(records) == 13 and {r.station for r in records} == {"line3"}
    model_sha = hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert {(r.record.model_sha256, r.record.model_name, r.record.threshold) for r in records} == {
        (model_sha, "bottle-line3", float(fitted.model.threshold))}
    by_file = {r.record.image_path: r.record for r in records}
    for line in printed:
        path, score, _threshold, verdict, regions = line.split("\t")
        record = by_file[str(path)]
        assert (f"{record.score:.4f}", record.verdict) == (score, verdict)
        # the part's defect regions are in the record, as predict printed them
        assert isinstance(record.regions, list) and regions.startswith(
            "no region" if not record.regions else f"{len(record.regions)} region")
        assert all(set(region) == {"x", "y", "w", "h", "area", "peak", "cx", "cy"} for region in record.regions)
        assert record.inspection_ms > 0 and record.sha256 == hashlib.sha256(open(path, "rb").read()).hexdigest()
    error = by_file[str(bad)]
    assert error.verdict == "ERROR" and "bad.png" in error.error and error.score is None and error.regions is None
    assert error.file_size == bad.stat().st_size  # the file exists: its content is named, though not an image
    assert [(c.kind, c.model_sha256) for c in changes] == [("model opened", model_sha)]

    assert main(["predict", str(model_file), str(synthetic_set.test_good[0]), "--log", str(store_path),
                 "--station", "line3"]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "1 of 1 part was recorded at this station before, with this model, threshold, verdict and score: not "
        "recorded again")
    with open_store(store_path, "reader") as store:
        assert store.count() == 13 and len(store.model_changes()) == 1  # same model, same threshold: no new entry
    # another station, or another model (a tuned threshold), is another inspection, recorded
    assert main(["predict", str(model_file), str(synthetic_set.test_good[0]), "--log", str(store_path),
                 "--station", "bench"]) == 0
    tuned = save_model(fitted.model.with_threshold(fitted.model.threshold * 0.5), tmp_path / "tuned.patchcore")
    assert main(["predict", str(tuned), str(synthetic_set.test_good[0]), str(bad), "--log", str(store_path),
                 "--station", "line3"]) == 1
    assert "not recorded again" not in capsys.readouterr().err
    with open_store(store_path, "reader") as store:
        assert store.count() == 16 and len(store.model_changes()) == 3


def test_predict_log_to_a_store_it_cannot_open_inspects_nothing(model_file, synthetic_set, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code = main(["predict", str(model_file), str(synthetic_set.test_good[0]), "--log", str(blocker / "s.sqlite")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and "inspection store" in captured.err and "Traceback" not in captured.err


@pytest.fixture
def shift_store(tmp_path):
    path = tmp_path / "plant.sqlite"
    with open_store(path, "line3") as line3, open_store(path, "line4") as line4:
        for minute in range(0, 120, 10):  # 12 parts over two hours, every fourth NG
            verdict = "NG" if minute % 40 == 0 else "OK"
            line3.add(InspectionRecord(T0 + timedelta(minutes=minute), f"/cam/p{minute:03d}.png", 10, "f" * 64,
                                       "a" * 64, "bottle", 2.5, 3.0 if verdict == "NG" else 1.0, verdict, None,
                                       40.0 + minute / 10))
        line4.add(InspectionRecord(T0, "/cam/q.png", None, None, "b" * 64, "gasket", 1.0, None, "ERROR",
                                   "cannot read 'q.png': truncated", None))
        line3.record_model_change("threshold moved", "a" * 64, "bottle", 2.5, "from 2.4000 to 2.5000", time=T0)
    return path


def test_log_prints_the_parts_that_match(shift_store, capsys):
    assert main(["log", str(shift_store), "--verdict", "NG", "--station", "line3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["time", "station", "verdict"]
    assert len(lines) == 1 + 3 and all("\tline3\tNG\t3.0000\t2.5000\t" in line for line in lines[1:])
    assert main(["log", str(shift_store), "--verdict", "ng", "--station", "line3"]) == 0  # as typed in a hurry
    assert capsys.readouterr().out.strip().splitlines() == lines
    assert main(["log", str(shift_store), "--model", "gasket"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()[1:]
    assert line.endswith("\t/cam/q.png\tcannot read 'q.png': truncated") and "\tERROR\t-\t" in line


def test_log_finds_a_part_by_its_file_name(shift_store, capsys):
    assert main(["log", str(shift_store), "--part", "P040"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()[1:]
    assert line.endswith("\t/cam/p040.png") and "\tline3\tNG\t3.0000\t" in line
    with open_store(shift_store, "line3") as store:
        store.note_sorted("/cam/p040.png", "f" * 64, "/sorted/NG/p040.png")
    assert main(["log", str(shift_store), "--part", "p040"]) == 0
    assert capsys.readouterr().out.strip().endswith("\t/cam/p040.png -> /sorted/NG/p040.png")
    assert main(["log", str(shift_store), "--part", "p04", "--summary"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].split()[:5] == ["total", "1", "0", "0", "1"]


def test_log_time_range(shift_store, capsys):
    since, until = (T0 + timedelta(minutes=30)).isoformat(), (T0 + timedelta(minutes=60)).isoformat()
    assert main(["log", str(shift_store), "--since", since, "--until", until]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1 + 3  # minutes 30, 40, 50


def test_log_csv_holds_every_column(shift_store, tmp_path, capsys):
    table = tmp_path / "out" / "ng.csv"
    assert main(["log", str(shift_store), "--verdict", "NG", "--csv", str(table)]) == 0
    assert "wrote 3 parts" in capsys.readouterr().err
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 3 and rows[0]["time_utc"] == "2026-03-10T06:00:00+00:00"
    assert (rows[0]["station"], rows[0]["model_name"], rows[0]["verdict"], rows[0]["score"]) == (
        "line3", "bottle", "NG", "3.000000")


@pytest.fixture
def utc_pc(monkeypatch):
    """This PC's zone is UTC for the test (the hours printed are local hours)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_log_summary_per_hour_and_in_total(shift_store, tmp_path, capsys, utc_pc):
    assert main(["log", str(shift_store), "--summary", "--station", "line3"]) == 0
    header, total = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["period", "parts", "OK", "REVIEW", "NG", "errors", "yield", "median", "ms"]
    assert total.split() == ["total", "12", "9", "0", "3", "0", "75.00%", "45.5"]
    assert main(["log", str(shift_store), "--by", "hour"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[-7:] for line in lines[1:]] == [
        ["7", "4", "0", "2", "1", "57.14%", "42.5"],  # 06:00 UTC: six of line3 (two NG) and line4's ERROR
        ["6", "5", "0", "1", "0", "83.33%", "48.5"],
        ["13", "9", "0", "3", "1", "69.23%", "45.5"]]
    table = tmp_path / "summary.csv"
    assert main(["log", str(shift_store), "--summary", "--by", "day", "--csv", str(table)]) == 0
    rows = list(csv.DictReader(table.open()))
    assert [r["parts"] for r in rows] == ["13", "13"] and rows[-1]["period"] == "total"


def test_log_summary_per_shift(shift_store, tmp_path, capsys, utc_pc):
    assert main(["log", str(shift_store), "--by", "shift", "--shifts", "22:00 06:45", "--station", "line3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split() for line in lines[1:]] == [
        ["2026-03-09", "22:00", "5", "3", "0", "2", "0", "60.00%", "42.0"],  # the night shift's last 45 minutes
        ["2026-03-10", "06:45", "7", "6", "0", "1", "0", "85.71%", "48.0"],
        ["total", "12", "9", "0", "3", "0", "75.00%", "45.5"]]
    table = tmp_path / "shifts.csv"
    assert main(["log", str(shift_store), "--by", "shift", "--shifts", "22:00 06:45", "--csv", str(table)]) == 0
    assert [(r["period"], r["parts"]) for r in csv.DictReader(table.open())] == [
        ("2026-03-09T22:00:00+00:00", "6"), ("2026-03-10T06:45:00+00:00", "7"), ("total", "13")]


def test_log_csv_for_a_german_excel_parts_summary_and_changes(shift_store, tmp_path, capsys, utc_pc, monkeypatch):
    monkeypatch.setattr("patchcore_gui.core.csv_style.this_pcs_decimal_mark", lambda: ",")

    def table(*words: str):
        target = tmp_path / "excel.csv"
        assert main(["log", str(shift_store), *words, "--csv", str(target), "--excel"]) == 0
        text = target.read_text(encoding="utf-8")
        assert text.startswith("\ufeff")  # so that Excel reads UTF-8, not the PC's code page
        return list(csv.DictReader(text[1:].splitlines(), delimiter=";"))

    ng = table("--verdict", "NG")
    assert len(ng) == 3 and (ng[0]["time_utc"], ng[0]["time_local"], ng[0]["score"]) == (
        "2026-03-10 06:00:00", "2026-03-10 06:00:00", "3,000000")
    summary = table("--summary", "--by", "hour", "--station", "line3")
    assert [(r["period"], r["parts"], r["yield"]) for r in summary] == [
        ("2026-03-10 06:00:00", "6", "66,67%"), ("2026-03-10 07:00:00", "6", "83,33%"), ("total", "12", "75,00%")]
    (change,) = table("--changes")
    assert (change["threshold"], change["time_utc"]) == ("2,500000", "2026-03-10 06:00:00")
    # without --excel the same file is plain, as scripts read it
    assert main(["log", str(shift_store), "--changes", "--csv", str(tmp_path / "plain.csv")]) == 0
    assert (tmp_path / "plain.csv").read_text().startswith("id,time_utc,")


@pytest.mark.parametrize("shifts, message", [
    (None, "error: a summary per shift needs the times the shifts start (--shifts '06:00 14:00 22:00')"),
    ("06:10 18:10", "error: a summary per shift needs shifts that start on the quarter hour (06:10 does not)")])
def test_log_summary_per_shift_says_what_it_needs(shift_store, capsys, shifts, message):
    assert main(["log", str(shift_store), "--by", "shift", *(["--shifts", shifts] if shifts else [])]) == 2
    assert capsys.readouterr().err.strip() == message


def test_log_changes_show_the_audit_trail(shift_store, capsys):
    assert main(["log", str(shift_store), "--changes"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert "\tline3\tthreshold moved\tbottle\taaaaaaaaaaaa\tthreshold 2.5000\tfrom 2.4000 to 2.5000" in line
    target = shift_store.parent / "changes.csv"
    assert main(["log", str(shift_store), "--changes", "--csv", str(target)]) == 0
    assert capsys.readouterr().err.strip() == f"wrote 1 change to {target}"
    (row,) = csv.DictReader(target.open())
    assert (row["station"], row["what"], row["model_name"], row["threshold"], row["detail"]) == (
        "line3", "threshold moved", "bottle", "2.500000", "from 2.4000 to 2.5000")
    assert row["model_sha256"] == "a" * 64 and row["time_utc"].endswith("+00:00")


def test_a_station_or_model_the_store_lacks_is_said_with_what_it_has(shift_store, capsys):
    assert main(["log", str(shift_store), "--station", "Line3", "--summary"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1].split()[:2] == ["total", "0"]
    assert captured.err == "no part was inspected at station 'Line3' in this store; its stations: line3, line4\n"
    assert main(["log", str(shift_store), "--model", "bottle-line3.patchcore"]) == 0
    assert capsys.readouterr().err == ("no part was inspected with a model named 'bottle-line3.patchcore' (or whose "
                                       "sha256 starts so) in this store; its models: bottle, gasket\n")
    # known names that match nothing in the time asked for need no hint
    assert main(["log", str(shift_store), "--station", "line4", "--model", "AAAA", "--since", "2030-01-01"]) == 0
    assert capsys.readouterr().err == ""


def test_the_examples_in_the_help_are_commands_it_takes():
    from patchcore_gui.record import log_command

    for line in log_command._EXAMPLES.splitlines()[1:-1]:
        words = shlex.split(line.split("#")[0])
        assert words[:2] == ["patchcore", "log"]
        parser = argparse.ArgumentParser()
        log_command.add_log_command(parser.add_subparsers())
        args = parser.parse_args(words[1:])
        assert args.run is log_command.cmd_log


def test_log_of_a_missing_store_or_a_bad_time_is_one_line(tmp_path, capsys):
    assert main(["log", str(tmp_path / "typo.sqlite")]) == 2
    assert capsys.readouterr().err.strip() == f"error: there is no inspection store at '{tmp_path / 'typo.sqlite'}'"
    assert not (tmp_path / "typo.sqlite").exists()
    with pytest.raises(SystemExit) as exit_status:
        main(["log", str(tmp_path / "typo.sqlite"), "--since", "last tuesday"])
    assert exit_status.value.code == 2 and "'last tuesday' is not a time" in capsys.readouterr().err


def test_when_words_and_spans():
    now = datetime(2026, 3, 10, 14, 30, tzinfo=timezone.utc)
    assert parse_when("90m", now) == now - timedelta(minutes=90)
    assert parse_when("7d", now) == now - timedelta(days=7)
    today = parse_when("today")
    assert today.tzinfo is not None and (today.hour, today.minute) == (0, 0)
    assert parse_when("yesterday") < today
    assert parse_when("2026-03-10 14:00").tzinfo is not None
    # a time of day: the last time the clocks read it (this morning's shift start, also just after midnight)
    local_now = datetime(2026, 3, 10, 1, 30).astimezone()
    assert parse_when("06:00", local_now) == datetime(2026, 3, 9, 6, 0).astimezone()
    assert parse_when("1:00", local_now) == datetime(2026, 3, 10, 1, 0).astimezone()
    with pytest.raises(argparse.ArgumentTypeError, match="'25:00' is not a time"):
        parse_when("25:00")
    assert RecordFilter(since=parse_when("2026-03-10")).since.utcoffset() is not None


def test_review_parts_are_recorded_counted_and_found_apart_from_ok_ng_and_errors(tmp_path, capsys, utc_pc):
    store_path = tmp_path / "review.sqlite"
    with open_store(store_path, "line5") as store:
        for number, (verdict, score) in enumerate([("OK", 1.0), ("REVIEW", 2.2), ("REVIEW", 2.4), ("NG", 3.0),
                                                    ("ERROR", None)]):
            store.add(InspectionRecord(time=T0 + timedelta(seconds=number), image_path=f"/cam/p{number}.png",
                                       file_size=10, sha256=f"{number:064x}", model_sha256="b" * 64,
                                       model_name="m", threshold=2.5, score=score, verdict=verdict,
                                       error="unreadable" if score is None else None, inspection_ms=40.0,
                                       review_from=2.0))
        summary = store.summary().total
        assert (summary.count, summary.ok, summary.review, summary.ng, summary.errors) == (5, 1, 2, 1, 1)
        assert store.count(RecordFilter(verdict="REVIEW")) == 2
        assert {r.record.review_from for r in store.inspections()} == {2.0}
    assert main(["log", str(store_path), "--summary"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[:6] == ["total", "5", "1", "2", "1", "1"]
    assert main(["log", str(store_path), "--verdict", "REVIEW"]) == 0
    assert [line.split("\t")[2] for line in capsys.readouterr().out.splitlines()[1:]] == ["REVIEW", "REVIEW"]
    table = tmp_path / "review.csv"
    assert main(["log", str(store_path), "--csv", str(table)]) == 0
    assert [row["review_from"] for row in csv.DictReader(table.open())] == ["2.000000"] * 5
def test_the_recorder_judges_and_keeps_the_regions_and_log_shows_them(tmp_path, capsys):
    from patchcore_gui.core.regions import DefectRegion
    from patchcore_gui.record.recorder import InspectionRecorder

    speck = DefectRegion(12, 5, 6, 4, 3, 3.2, (7.0, 7.0))
    scratch = DefectRegion(120, 40, 50, 30, 4, 3.6, (55.0, 52.0))
    image = tmp_path / "part.png"
    image.write_bytes(b"not read again: only hashed")
    path = tmp_path / "line.sqlite"
    with open_store(path, "line3") as store:
        recorder = InspectionRecorder(store, "a" * 64, "bottle", threshold=3.0, min_defect_area=40)
        recorder.record(image, 3.2, regions=[speck], time=T0)
        recorder.record(image, 3.6, regions=[scratch, speck], time=T0 + timedelta(seconds=1))
        recorder.record(image, 3.6, regions=None, time=T0 + timedelta(seconds=2))  # not measured: never passed
        records = [stored.record for stored in store.inspections()]
    assert [r.verdict for r in records] == ["OK", "NG", "NG"]
    assert records[1].regions == [scratch.to_dict(), speck.to_dict()] and records[2].regions is None
    assert main(["log", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[6] == "regions"
    assert [line.split("\t")[6] for line in lines[1:]] == ["1 (largest 12 px)", "2 (largest 120 px)", "-"]


def test_log_reads_the_record_without_loading_the_engines_libraries(tmp_path):
    """torch and the network code took 1.5 s of the command's 2 s start; the record needs neither."""
    store_path = tmp_path / "line.sqlite"
    with open_store(store_path, "line3") as store:
        store.add(InspectionRecord(time=T0, image_path="/cam/sn-1.png", file_size=10, sha256="f" * 64,
                                   model_sha256="b" * 64, model_name="m", threshold=2.0, score=1.0, verdict="OK",
                                   error=None, inspection_ms=40.0))
    program = ("import sys; from patchcore_gui.program import main; "
               f"code = main(['log', {str(store_path)!r}, '--part', 'SN-1']); "
               "print(code, sorted(m for m in ('torch', 'torchvision', 'timm', 'faiss') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "/cam/sn-1.png" in lines[1] and lines[-1] == "0 []"


def test_log_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    """`patchcore log STORE | head`: no traceback when head has read its lines (before: BrokenPipeError)."""
    path = tmp_path / "long.sqlite"
    with open_store(path, "line3") as store:
        for number in range(80):  # ~160 KB of lines: more than a pipe holds, so the program meets the closed end
            store.add(InspectionRecord(T0 + timedelta(minutes=number), "/cam/" + "d" * 2000 + f"/p{number}.png", 10,
                                       "f" * 64, "a" * 64, "bottle", 2.5, 1.0, "OK", None, 40.0))
    command = f"{sys.executable} -m patchcore_gui.program log {path} | head -2"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert len(done.stdout.splitlines()) == 2 and done.stderr == ""
    assert done.returncode == 141


def test_log_decides_one_part_as_a_person_sees_it_and_reads_the_decision_back(shift_store, tmp_path, capsys,
                                                                                utc_pc):
    decide = ["--decide", "ok", "--person", "A. Meyer"]
    assert main(["log", str(shift_store), *decide]) == 2
    assert "needs a filter that names one part" in capsys.readouterr().err
    assert main(["log", str(shift_store), "--part", "p0", *decide]) == 2  # p000, p010, ... p090
    said = capsys.readouterr().err
    assert said.startswith("error: 10 recorded parts match the filter, and a decision is for one part: id ")
    assert said.count("/cam/p0") == 5 and "; ...; name it with --id N" in said
    assert main(["log", str(shift_store), "--part", "p040", "--decide", "ok"]) == 2
    assert "--decide needs --person NAME" in capsys.readouterr().err
    assert main(["log", str(shift_store), "--part", "p040", "--person", "A. Meyer"]) == 2
    assert "--person and --note go with --decide" in capsys.readouterr().err
    assert main(["log", str(shift_store), "--part", "p040", *decide, "--note", "a false reject: dust"]) == 0
    said = capsys.readouterr().err
    assert said.startswith("recorded: /cam/p040.png (id ") and ", line3, the machine's verdict NG) decided OK by " \
        "A. Meyer " in said and said.rstrip().endswith("(a false reject: dust)")

    assert main(["log", str(shift_store), "--part", "p040"]) == 0
    header, line = capsys.readouterr().out.strip().splitlines()
    assert header.split("\t")[7] == "decided" and line.split("\t")[2] == "NG"  # the machine's verdict stays
    assert line.split("\t")[7].startswith("OK by A. Meyer 2026-") and line.split("\t")[7].endswith("(a false reject: dust)")
    assert main(["log", str(shift_store), "--verdict", "ng", "--undecided"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1 + 2  # the other two NG parts
    assert main(["log", str(shift_store), "--verdict", "ng", "--decided", "ok"]) == 0  # the rejects people passed
    header, line = capsys.readouterr().out.strip().splitlines()
    assert "/cam/p040.png" in line and line.split("\t")[7].startswith("OK by A. Meyer")
    assert main(["log", str(shift_store), "--decided", "ng"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1:] == []
    with pytest.raises(SystemExit) as refused:  # argparse: one line, exit 2
        main(["log", str(shift_store), "--decided", "ok", "--undecided"])
    assert refused.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    (decided,) = [row for row in _csv(tmp_path, shift_store, "--part", "p040") if row["decided"]]
    assert (decided["verdict"], decided["decided"], decided["decided_by"], decided["decided_note"]) == (
        "NG", "OK", "A. Meyer", "a false reject: dust")
    assert main(["log", str(shift_store), "--summary", "--station", "line3"]) == 0
    header, total = capsys.readouterr().out.strip().splitlines()
    assert header.split()[-4:] == ["undecided", "yield", "after", "decisions"]
    assert total.split() == ["total", "12", "9", "0", "3", "0", "75.00%", "45.5", "0", "83.33%"]  # 10 of 12 pass

    with open_store(shift_store, "reader") as store:  # a second part named p040 (inspected again): --id names one
        store.add(InspectionRecord(T0 + timedelta(hours=3), "/cam/p040.png", 10, "f" * 64, "a" * 64, "bottle", 2.5,
                                   1.0, "OK", None, 40.0))
    assert main(["log", str(shift_store), "--part", "p040", "--decide", "ng", "--person", "B. Chef"]) == 2
    ids = [int(number) for number in re.findall(r"\bid (\d+): ", capsys.readouterr().err)]
    assert len(ids) == 2
    assert main(["log", str(shift_store), "--id", str(ids[-1]), "--decide", "ng", "--person", "B. Chef"]) == 0
    capsys.readouterr()
    assert main(["log", str(shift_store), "--id", "424242", "--decide", "ng", "--person", "B. Chef"]) == 2
    assert "no recorded part matches the filter" in capsys.readouterr().err


def _csv(tmp_path, store, *words):
    target = tmp_path / "parts.csv"
    assert main(["log", str(store), *words, "--csv", str(target)]) == 0
    return list(csv.DictReader(target.open()))
