"""The status bar's job: its stage and, once the stage has run a few seconds, about how long it has left."""

from __future__ import annotations

import threading
from typing import List, Tuple

from patchcore_gui.gui import job_status
from patchcore_gui.gui.job_status import JobStatus
from patchcore_gui.gui.workers import Worker


class ScriptedWorker(Worker):
    """Reports each scripted step once the test lets it go: the clock is the test's."""

    def __init__(self, steps: List[Tuple[int, int, str]]) -> None:
        super().__init__()
        self.steps = steps
        self.go = threading.Semaphore(0)

    def work(self) -> str:
        for done, total, stage in self.steps:
            self.go.acquire()
            self._report(done, total, stage)
        self.go.acquire()
        return "built"


def test_a_stage_says_its_time_left_at_its_own_rate_once_it_has_run_a_few_seconds(qtbot, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(job_status.time, "monotonic", lambda: clock[0])
    status = JobStatus()
    qtbot.addWidget(status)
    steps = [(0, 100, "features"), (10, 100, "features"), (0, 50, "coreset"), (5, 50, "coreset"),
             (25, 50, "coreset"), (50, 50, "coreset")]
    worker = ScriptedWorker(steps)
    results = []
    status.start("build", worker, results.append)
    expected = [(0.0, "Reading good parts"),
                (10.0, "Reading good parts, about 2 min left"),  # 10 parts in 10 s, 90 to go
                (11.0, "Choosing the memory bank"),  # a new stage starts its own rate
                (12.0, "Choosing the memory bank"),  # 1 s in: too soon to say
                (15.0, "Choosing the memory bank, about 5 s left"),  # 25 in 4 s since its start, 25 to go
                (16.0, "Choosing the memory bank")]  # done: nothing left to say
    for (now, text), (done, _, _) in zip(expected, steps):
        clock[0] = now
        worker.go.release()
        qtbot.waitUntil(lambda: status.progress_bar.value() == done and status.stage_label.text() == text,
                        timeout=5000)
    with qtbot.waitSignal(status.ended, timeout=5000):
        worker.go.release()
    assert results == ["built"] and not status.busy
