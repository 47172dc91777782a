"""``patchcore watch`` takes up a model file tuned while it runs (a threshold moved, parts taught), between
parts and without losing one; a file it cannot use leaves the line on the model it had."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import replace
from typing import List

from patchcore_gui.cli import main
from patchcore_gui.core import load_model, save_model

from .conftest import drop
from .test_watch_command import model_file, start_watch, wait_for_lines, wait_until_watching  # noqa: F401  (fixture)

WRN_LAYERS = ("layer2", "layer3")


class StderrLines:
    """The process's stderr read by a thread, so that waiting for a line can time out."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: List[str] = []  # every line waited past, in order
        self.reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.lines.put(line.strip())

    def wait_for(self, start: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line starting {start!r} within {timeout} s") from None
            self.seen.append(line)
            if line.startswith(start):
                return line

    def loads(self) -> int:
        """How often the workers began to load a model with new parts waiting, in the lines seen so far."""
        return sum(line.startswith("loading the model into") for line in self.seen)

    def starts_beside(self) -> int:
        """How often a new model's workers began to load beside the running ones, which went on inspecting."""
        return sum(line.startswith("starting the new model's") for line in self.seen)


def test_a_tuned_model_file_is_taken_up_between_parts_and_a_broken_one_is_not(model_file, synthetic_set, tmp_path):
    folder, store, tuned_path = tmp_path / "camera", tmp_path / "record.sqlite", tmp_path / "line3.patchcore"
    folder.mkdir()
    model = load_model(model_file)
    save_model(model, tuned_path)
    process = start_watch(tuned_path, folder, "--log", str(store))  # side by side: worker processes load it anew
    try:
        wait_until_watching(process)
        stderr = StderrLines(process)
        drop(synthetic_set.test_good[0], folder, "a.png")
        (first,) = wait_for_lines(process, 1)
        strict = first.split("\t")[2]  # its score: a threshold just below it rejects the same part
        save_model(model.with_threshold(float(strict) * 0.5), tuned_path)
        taken_up = stderr.wait_for("line3.patchcore changed")
        assert stderr.loads() == 1  # only the start: a threshold moved is judged anew, the workers kept
        drop(synthetic_set.test_good[0], folder, "b.png")
        (second,) = wait_for_lines(process, 1)
        broken = tmp_path / "broken.tmp"
        broken.write_bytes(b"not a model")
        os.replace(broken, tuned_path)  # as a tool writes: whole, under the name at once
        refused = stderr.wait_for("error: line3.patchcore changed but cannot be used")
        # a model file that reads but cannot inspect here: its network's weights are not on this PC
        save_model(replace(model, config=replace(model.config, backbone="wide_resnet50_2", layers=WRN_LAYERS),
                           layers=WRN_LAYERS), tuned_path)
        not_started = stderr.wait_for("error: the new model is not taken up")
        # tried beside the running workers, which went on with the model before: nothing loaded again
        assert stderr.loads() == 1 and stderr.starts_beside() == 1
        drop(synthetic_set.test_good[0], folder, "c.png")
        (third,) = wait_for_lines(process, 1)
        # a defective part taught as good (another bank: the workers load it), at the first threshold
        save_model(model, tmp_path / "untaught.patchcore")
        assert main(["teach", str(tmp_path / "untaught.patchcore"), str(synthetic_set.test_defective[0]),
                     "-o", str(tuned_path)]) == 0
        taught = stderr.wait_for("line3.patchcore changed")
        assert stderr.loads() == 1 and stderr.starts_beside() == 2
        drop(synthetic_set.test_defective[0], folder, "d.png")
        (fourth,) = wait_for_lines(process, 1)
        process.send_signal(signal.SIGTERM)
        out = process.stdout.read()
        process.wait(timeout=180)
    finally:
        process.kill()
    assert process.returncode == 0
    assert [line.split("\t")[3] for line in (first, second, third, fourth)] == ["OK", "NG", "NG", "OK"]
    assert taken_up == (f"line3.patchcore changed: inspecting with it from now on (threshold {model.threshold:.4f} "
                        f"-> {float(strict) * 0.5:.4f})")
    assert "the line goes on with the model it had" in refused
    assert "no ImageNet weights for wide_resnet50_2" in not_started and not_started.endswith("the model it had")
    assert taught.endswith(f"(threshold {float(strict) * 0.5:.4f} -> {model.threshold:.4f}, taught parts 0 -> 1)")
    assert out.strip().splitlines()[-1].startswith("stopped: inspected 4: OK 2, NG 2")  # one shift, not four
    with sqlite3.connect(store) as connection:
        thresholds = [row[0] for row in connection.execute("SELECT threshold FROM inspections ORDER BY id")]
        kinds = [row[0] for row in connection.execute("SELECT kind FROM model_changes ORDER BY id")]
    assert thresholds == [model.threshold, float(strict) * 0.5, float(strict) * 0.5, model.threshold]
    assert kinds == ["line started", "model taken up", "model taken up"]
