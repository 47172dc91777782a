"""The entry point: --version without starting Qt; its arguments told apart by their content."""

import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import Qt

from patchcore_gui.core.model_file import save_model
from patchcore_gui.gui.app import main, open_arguments, parse_args, sort_arguments

from .conftest import JOB_TIMEOUT_MS


def test_version_is_printed_without_a_window(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("patchcore-gui ")


def test_model_and_images_are_positional():
    args = parse_args(["line3.patchcore", "a.png", "folder"])
    assert args.inputs == ["line3.patchcore", "a.png", "folder"] and not args.self_test


@pytest.fixture
def odd_files(tmp_path, fitted, synthetic_set):
    """A model under another name, a good part, a text file, a folder and a name that is not there."""
    files = {"model": save_model(fitted.model, tmp_path / "bottle.pcm"),
             "image": synthetic_set.test_good[0],
             "notes": tmp_path / "notes.txt",
             "folder": tmp_path / "parts",
             "missing": tmp_path / "gone.png"}
    files["notes"].write_text("not a part")
    files["folder"].mkdir()
    shutil.copy(synthetic_set.test_good[1], files["folder"] / "part.png")
    return files


def test_a_model_is_known_by_its_content_whatever_its_name(odd_files, tmp_path):
    unnamed = tmp_path / "part"  # a PNG without a suffix is an image all the same
    shutil.copy(odd_files["image"], unnamed)
    start = sort_arguments([str(odd_files["image"]), str(odd_files["model"]), str(odd_files["folder"]), str(unnamed)])
    assert start.model == odd_files["model"]
    assert start.inputs == [odd_files["image"], odd_files["folder"], unnamed] and start.refused == []


def test_arguments_that_are_neither_model_nor_image_are_named(odd_files, tmp_path):
    second = shutil.copy(odd_files["model"], tmp_path / "other.bin")
    start = sort_arguments([str(odd_files["model"]), str(odd_files["notes"]), str(odd_files["missing"]), str(second)])
    assert start.model == odd_files["model"] and start.inputs == []
    assert start.refused == [f"'{odd_files['notes']}' left out: neither a PatchCore model nor an image",
                             f"'{odd_files['missing']}' left out: no such file or folder",
                             f"'{second}' left out: one model at a time ('{odd_files['model']}' is opened)"]


def test_the_window_opens_a_renamed_model_inspects_and_says_what_it_left_out(qtbot, window, odd_files):
    stderr = io.StringIO()
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        open_arguments(window, [str(odd_files["model"]), str(odd_files["image"]), str(odd_files["notes"])], stderr)
    assert blocker.args == ["inspect", "finished"]
    assert window.document.path == odd_files["model"] and window.results.rowCount() == 1
    line = f"'{odd_files['notes']}' left out: neither a PatchCore model nor an image"
    assert stderr.getvalue() == f"patchcore-gui: {line}\n"
    assert line in window.messages


def test_a_damaged_model_is_said_on_stderr_too(window, tmp_path):
    broken = tmp_path / "line3.patchcore"
    broken.write_bytes(b"nonsense")
    stderr = io.StringIO()
    open_arguments(window, [str(broken)], stderr)
    assert window.model is None
    assert stderr.getvalue().startswith("patchcore-gui: cannot open model 'line3.patchcore'")
    assert stderr.getvalue().count("\n") == 1 and window.last_error in stderr.getvalue()


def test_a_renamed_model_dropped_on_the_window_opens(qtbot, window, odd_files):
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.drop_paths([odd_files["model"], odd_files["image"]])
    assert blocker.args == ["inspect", "finished"]
    assert window.document.path == odd_files["model"] and window.results.rowCount() == 1


def test_line_runs_the_window_s_line_on_the_folder_with_the_model_given(qtbot, window, odd_files, synthetic_set,
                                                                          tmp_path):
    """A line PC whose window starts at boot: `patchcore-gui line3.patchcore --line /srv/camera`."""
    assert parse_args(["m.patchcore", "--line", "/srv/camera"]).line == "/srv/camera"
    camera = tmp_path / "camera"
    camera.mkdir()
    stderr = io.StringIO()
    open_arguments(window, [str(odd_files["model"])], stderr, line=str(camera))
    panel = window.line_mode.panel
    assert panel.running and stderr.getvalue() == "" and window.line_mode.tabs.currentWidget() is panel
    shutil.copy(synthetic_set.test_good[0], camera / ".p0.png.part")
    (camera / ".p0.png.part").rename(camera / "p0.png")
    qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.inspected == 1,
                    timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(panel.running_changed, timeout=JOB_TIMEOUT_MS):
        panel.stop()


def test_line_without_a_model_is_said_and_runs_nothing(window, tmp_path):
    stderr = io.StringIO()
    open_arguments(window, [], stderr, line=str(tmp_path))
    assert not window.line_mode.panel.running
    assert stderr.getvalue() == f"patchcore-gui: no line run on {tmp_path}: name the model file to run it with\n"
    assert window.last_error == f"no line run on {tmp_path}: name the model file to run it with"


def _window_process(tmp_path, *arguments):
    """``patchcore-gui ARGUMENTS`` in a process of its own, offscreen, with a home of the test's own."""
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"), QT_QPA_PLATFORM="offscreen",
               OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "patchcore_gui.gui.app", *arguments], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ctrl_c(tmp_path, after_s: float):
    """The window started with no arguments, given Ctrl+C ``after_s`` seconds in: (its exit status, its stderr)."""
    window = _window_process(tmp_path)
    try:
        time.sleep(after_s)
        window.send_signal(signal.SIGINT)
        _out, err = window.communicate(timeout=60)
    finally:
        window.kill()
    return window.returncode, err


def test_sigterm_ends_the_window_s_line_cleanly_and_ctrl_c_ends_the_window(fitted, tmp_path):
    """A line PC shutting down (SIGTERM) stops the window's line after the parts in hand, its note and worker
    processes gone; Ctrl+C in the terminal ends the window (before: SIGTERM killed it where it stood, leaving its
    semaphores to the interpreter's warning, and Ctrl+C did nothing)."""
    model = save_model(fitted.model, tmp_path / "line3.patchcore")
    camera = tmp_path / "camera"
    camera.mkdir()
    process = _window_process(tmp_path, str(model), "--line", str(camera), "--station", "line3")
    try:
        deadline = time.monotonic() + 120
        while not (camera / ".patchcore-line").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (camera / ".patchcore-line").exists(), process.stderr.read() if process.poll() is not None else ""
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert not (camera / ".patchcore-line").exists()  # the line stopped and took its note away
    assert "Traceback" not in err and "leaked semaphore" not in err, err
    # --station named the line in the record, and is remembered for the next start
    store = tmp_path / ".local" / "share" / "PatchCore Inspector" / "patchcore-gui" / "inspections.sqlite"
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        assert connection.execute("SELECT DISTINCT station FROM model_changes").fetchall() == [("line3",)]
    assert "station=line3" in (tmp_path / ".config" / "PatchCore Inspector" / "patchcore-gui.conf").read_text()

    returncode, err = _ctrl_c(tmp_path, after_s=5)
    assert returncode == 0 and "Traceback" not in err, err


def test_ctrl_c_while_the_window_starts_ends_it_quietly(tmp_path):
    """Half a second in, the window is still importing its libraries: Ctrl+C then ends it with no traceback."""
    returncode, err = _ctrl_c(tmp_path, after_s=0.5)
    assert returncode == 0 and "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_stop_ends_the_wait_for_a_camera_folder(qtbot, window, odd_files, tmp_path):
    """A wrong folder named at the start (a typo in the log-in script) is not waited for until the window closes."""
    camera = tmp_path / "camrea"
    open_arguments(window, [str(odd_files["model"])], io.StringIO(), line=str(camera))
    panel = window.line_mode.panel
    assert panel.waiting and panel.stop_button.isEnabled() and not panel.running
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    said = f"Not waiting for {camera} any more: Run line… starts a line"
    assert panel.folder_label.text() == said and panel.view.caption.textItem.toPlainText() == said
    assert not panel.stop_button.isEnabled() and panel.run_button.isEnabled()
    camera.mkdir()
    qtbot.wait(2500)  # past the next look for it
    assert not panel.running


def test_line_on_a_folder_not_there_yet_starts_once_it_appears(qtbot, window, odd_files, tmp_path):
    """The camera's share is mounted after the window started at log-in."""
    camera = tmp_path / "share" / "camera"
    stderr = io.StringIO()
    open_arguments(window, [str(odd_files["model"])], stderr, line=str(camera))
    panel = window.line_mode.panel
    assert not panel.running and stderr.getvalue() == ""
    waiting = f"Waiting for the camera folder {camera} to appear: the line starts when it does"
    assert panel.folder_label.text() == waiting and panel.view.caption.textItem.toPlainText() == waiting
    camera.mkdir(parents=True)
    qtbot.waitUntil(lambda: panel.running, timeout=JOB_TIMEOUT_MS)
    assert panel.folder == camera
    with qtbot.waitSignal(panel.running_changed, timeout=JOB_TIMEOUT_MS):
        panel.stop()
