"""``patchcore watch`` as a real process: a line per part, stops on SIGTERM after the part in hand."""

from __future__ import annotations

import io
import os
import shlex
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import List

import pytest

from patchcore_gui.cli import main
from patchcore_gui.core import save_model
from patchcore_gui.line.folder_lock import only_line_on
from patchcore_gui.line.disk_space import FULL_WITHIN_S
from patchcore_gui.line.watch_command import NEW_SHIFT_SIGNAL, line_settings, read_console
from patchcore_gui.record import RecordFilter, open_store

from .conftest import drop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory) -> Path:
    return save_model(fitted.model, tmp_path_factory.mktemp("watch") / "parts.patchcore")


def start_watch(model: Path, folder: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")
    return subprocess.Popen([sys.executable, "-m", "patchcore_gui.cli", "watch", str(model), str(folder),
                             "--settle", "0.2", *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_lines(process: subprocess.Popen, count: int, timeout: float = 120) -> List[str]:
    lines: List[str] = []
    deadline = time.monotonic() + timeout
    while len(lines) < count:
        assert time.monotonic() < deadline and process.poll() is None, (lines, process.poll())
        line = process.stdout.readline()
        if line:
            lines.append(line.rstrip("\n"))
    return lines


def wait_until_watching(process: subprocess.Popen, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if line.startswith("watching "):
            return line
        assert line or process.poll() is None, f"exited {process.poll()}"
    raise AssertionError("the line did not start")


def test_watch_prints_a_line_per_part_and_stops_on_sigterm(model_file, synthetic_set, tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    drop(synthetic_set.test_good[0], folder, "before.png")  # there before the start: inspected too
    # the folder listed, as a network folder is: parts come all the same, and the operator is told
    process = start_watch(model_file, folder, "--sort-into", str(tmp_path / "sorted"), "--move",
                          "--overlays", str(tmp_path / "overlays"), "--poll-every", "0.3", "--shifts", "00:00")
    try:
        assert wait_until_watching(process).endswith(", shifts start at 00:00\n")
        drop(synthetic_set.test_defective[0], folder, "after.png")
        lines = wait_for_lines(process, 2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=180)
    finally:
        process.kill()
    fields = [line.split("\t") for line in lines]
    assert [(f[1], f[3]) for f in fields] == [("before.png", "OK"), ("after.png", "NG")]
    assert all(f[4].endswith(" ms") and float(f[2]) > 0 for f in fields)
    assert process.returncode == 0, (out, err)
    assert "SIGTERM: stopping after the parts in hand" in err
    assert f"{folder} is looked at every 0.3 s\n" in err
    midnight = datetime.combine(date.today(), datetime.min.time()).strftime("%Y-%m-%d %H:%M")
    assert out.strip().splitlines()[-1].startswith(f"stopped: shift since {midnight}: inspected 2: OK 1, NG 1, "
                                                   "errors 0, yield 50.0%")
    assert not list(folder.iterdir())
    assert len(list((tmp_path / "overlays").glob("*/after_overlay.png"))) == 1


@pytest.mark.skipif(NEW_SHIFT_SIGNAL is None, reason="no SIGUSR1 on this system")
def test_watch_starts_a_new_shift_on_sigusr1_and_the_audit_trail_says_it_was_asked(model_file, synthetic_set,
                                                                                   tmp_path, event_writer):
    folder, store = tmp_path / "camera", tmp_path / "line.sqlite"
    folder.mkdir()
    process = start_watch(model_file, folder, "--log", str(store), "--ng-in-a-row", "1",
                          "--signal-command", shlex.join(event_writer.command))
    try:
        assert ", telling python" in wait_until_watching(process)
        drop(synthetic_set.test_defective[0], folder, "first.png")
        wait_for_lines(process, 1)
        process.send_signal(NEW_SHIFT_SIGNAL)
        ended = wait_for_lines(process, 1)[0]
        drop(synthetic_set.test_good[0], folder, "second.png")
        wait_for_lines(process, 1)
        with open_store(store, "quality-office") as office:  # a person passes the first part, at another PC
            [first] = office.inspections(RecordFilter(part="first.png"))
            office.decide(first.id, "OK", "A. Meyer", "dust")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=180)
    finally:
        process.kill()
    assert process.returncode == 0, (out, err)
    assert ended.startswith("shift since ") and " ended: inspected 1: OK 0, NG 1, errors 0, yield 0.0%;" in ended
    assert "SIGUSR1: a new shift from now" in err
    # the line goes on in the new shift: its counters hold the part after the signal alone
    assert out.strip().splitlines()[-1].startswith("stopped: inspected 1: OK 1, NG 0")
    with open_store(store, "reader") as reading:
        changes = reading.model_changes()
    started = [change.detail for change in changes if change.kind == "shift started"]
    assert len(started) == 1 and started[0].startswith("asked on the line at ")
    # --ng-in-a-row 1: the NG part was warned of, and the OK part after it ended the run, in the audit trail too
    assert "warning: 1 NG part in a row since " in err and "an OK part again, after 1 NG part in a row" in err
    assert [change.kind for change in changes if "in a row" in change.kind] == [
        "NG parts in a row", "an OK part after NG parts in a row"]
    # the plant's program was told all of it but the OK part, in order, and the line's end
    assert event_writer.names() == ["line-started", "ng-parts-in-a-row", "ng", "shift-started",
                                    "an-ok-part-after-ng-parts-in-a-row", "decided-ok", "line-stopped"]
    assert f"{folder / 'first.png'} (the machine's verdict NG) decided OK by A. Meyer " in err and "(dust)" in err


def test_the_disk_warning_is_given_in_minutes_an_hour_unless_told(model_file, tmp_path):
    def settings(*options: str):
        return settings_of(model_file, tmp_path, *options)

    assert settings().disk_full_within_s == FULL_WITHIN_S == 3600
    assert settings("--disk-warning", "20").disk_full_within_s == 1200
    assert settings("--disk-warning", "0").disk_full_within_s == 0  # never


@pytest.mark.parametrize("options, said", [
    (["--keep-ok-days", "14"], "--keep-ok-days needs --sort-into DIR (the sorted images it removes)"),
    (["--keep-ok-days", "14", "--sort-into", "sorted"],
     "--keep-ok-days needs --log DB: the record is what stays of a part whose image is removed")])
def test_watch_refuses_to_remove_images_it_does_not_sort_or_whose_parts_it_does_not_record(model_file, tmp_path,
                                                                                           capsys, options, said):
    assert main(["watch", str(model_file), str(tmp_path), *options]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {said}"
    assert settings_of(model_file, tmp_path, "--keep-ok-days", "7").ok_images_kept_days == 7


def settings_of(model_file: Path, folder: Path, *options: str):
    from patchcore_gui.cli import build_parser

    return line_settings(build_parser().parse_args(["watch", str(model_file), str(folder), *options]))


def test_the_console_word_shift_starts_a_new_shift_and_other_words_are_answered():
    asked, said = [], []
    read_console(io.StringIO("shift\n\n  SHIFT \nstop\n"), lambda: asked.append(1), said.append)
    assert len(asked) == 2
    assert said == ["a new shift from now, asked at the console"] * 2 + [
        "type 'shift' and Enter for a new shift; Ctrl+C stops the line after the parts in hand"]


@pytest.mark.parametrize("option, value, said", [
    ("--shifts", "06:00 14:30 2200", "'2200' is not a time of day for a shift to start (write it as 06:00)"),
    ("--ng-in-a-row", "-1", "must be a whole number, 0 or more, not '-1'"),
    ("--disk-warning", "1.5", "must be a whole number, 0 or more, not '1.5'"),
    ("--signal-command", "stacklight-nowhere red", "the signal command's program 'stacklight-nowhere' is not a program "
                                                   "this PC can run (not found, or not executable)")])
def test_watch_refuses_a_setting_that_is_none_in_one_line(model_file, tmp_path, capsys, option, value, said):
    with pytest.raises(SystemExit) as exit_status:
        main(["watch", str(model_file), str(tmp_path), option, value])
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"argument {option}: {said}")


def test_watch_refuses_a_folder_another_line_inspects_in_one_line(model_file, tmp_path, capsys):
    camera = tmp_path / "camera"
    camera.mkdir()
    with only_line_on(camera):  # the window's Run line, say
        assert main(["watch", str(model_file), str(camera)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: another line already inspects {camera} (process {os.getpid()} on ")
    assert not any(line.startswith("watching") for line in err)


def test_watch_refuses_how_to_signal_without_a_signal_command_in_one_line(model_file, tmp_path, capsys):
    assert main(["watch", str(model_file), str(tmp_path), "--signal-lines"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: --signal-ok and --signal-lines need --signal-command COMMAND (the program they are for)")


def test_watch_refuses_a_missing_folder_in_one_line(model_file, tmp_path, capsys):
    assert main(["watch", str(model_file), str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: folder '{tmp_path / 'nowhere'}' does not exist or is not a folder"


def test_watch_refuses_a_sort_or_overlay_folder_it_cannot_write_at_the_start(model_file, tmp_path, capsys):
    """Not an error at every part once the line runs (before: each part 'not sorted (left where it is)')."""
    camera = tmp_path / "camera"
    camera.mkdir()
    (tmp_path / "sorted").write_text("a file where the folder should be")
    assert main(["watch", str(model_file), str(camera), "--sort-into", str(tmp_path / "sorted")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert not any(line.startswith("watching") for line in err)
    assert err[-1] == f"error: the sorted images cannot go into {tmp_path / 'sorted'}: it is a file, not a folder"
    assert main(["watch", str(model_file), str(camera), "--overlays", str(tmp_path / "sorted" / "overlays")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: the overlays cannot go into {tmp_path / 'sorted' / 'overlays'}: a file stands where one of its "
        "folders should be")


def test_watch_with_subfolders_refuses_sorting_into_the_camera_folder(model_file, tmp_path, capsys):
    """The line would inspect its own sorted images again."""
    camera = tmp_path / "camera"
    camera.mkdir()
    assert main(["watch", str(model_file), str(camera), "--subfolders", "--sort-into", str(camera / "sorted")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert not any(line.startswith("watching") for line in err)
    assert err[-1] == (f"error: the sorted images go into {camera / 'sorted'}, inside the camera folder {camera}, whose "
                   "subfolders the line watches: it would inspect them again; put them beside the camera folder")
