"""``patchcore watch`` takes up a model file tuned while it runs (a threshold moved, parts taught), between
parts and without losing one; a file it cannot use leaves the line on the model it had."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

from patchcore_gui.core import load_model, save_model

from .conftest import drop
from .test_watch_command import model_file, start_watch, wait_for_lines, wait_until_watching  # noqa: F401  (fixture)


def wait_for_stderr(process: subprocess.Popen, start: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if line.startswith(start):
            return line.strip()
        assert line or process.poll() is None, f"exited {process.poll()}"
    raise AssertionError(f"no line starting {start!r}")


def test_a_tuned_model_file_is_taken_up_between_parts_and_a_broken_one_is_not(model_file, synthetic_set, tmp_path):
    folder, store, tuned_path = tmp_path / "camera", tmp_path / "record.sqlite", tmp_path / "line3.patchcore"
    folder.mkdir()
    model = load_model(model_file)
    save_model(model, tuned_path)
    process = start_watch(tuned_path, folder, "--log", str(store))  # side by side: worker processes load it anew
    try:
        wait_until_watching(process)
        drop(synthetic_set.test_good[0], folder, "a.png")
        (first,) = wait_for_lines(process, 1)
        strict = first.split("\t")[2]  # its score: a threshold just below it rejects the same part
        save_model(model.with_threshold(float(strict) * 0.5), tuned_path)
        taken_up = wait_for_stderr(process, "line3.patchcore changed")
        drop(synthetic_set.test_good[0], folder, "b.png")
        (second,) = wait_for_lines(process, 1)
        broken = tmp_path / "broken.tmp"
        broken.write_bytes(b"not a model")
        os.replace(broken, tuned_path)  # as a tool writes: whole, under the name at once
        refused = wait_for_stderr(process, "error: line3.patchcore changed but cannot be used")
        drop(synthetic_set.test_good[0], folder, "c.png")
        (third,) = wait_for_lines(process, 1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=180)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert [line.split("\t")[3] for line in (first, second, third)] == ["OK", "NG", "NG"]
    assert taken_up == (f"line3.patchcore changed: inspecting with it from now on (threshold {model.threshold:.4f} "
                        f"-> {float(strict) * 0.5:.4f})")
    assert "the line goes on with the model it had" in refused
    assert out.strip().splitlines()[-1].startswith("stopped: inspected 3: OK 1, NG 2")  # one shift, not three
    with sqlite3.connect(store) as connection:
        thresholds = [row[0] for row in connection.execute("SELECT threshold FROM inspections ORDER BY id")]
        kinds = [row[0] for row in connection.execute("SELECT kind FROM model_changes ORDER BY id")]
    assert thresholds == [model.threshold, float(strict) * 0.5, float(strict) * 0.5]
    assert kinds == ["line started", "model taken up"]
