"""Line fixtures: an inspector for the session's tiny synthetic model and a line run in a thread."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional

import pytest

from patchcore_gui.core import Inspector
from patchcore_gui.line import ArrivalSettings, InspectionLine, LineSettings, PartResult, ShiftSnapshot

from .event_writer import EventWriter

# side by side in threads: worker processes take seconds to start (tests/line/test_inspection_processes.py has them)
FAST = LineSettings(arrival=ArrivalSettings(settle=0.2, give_up=1.5), record_retry_s=0.2, processes=False)


@pytest.fixture(scope="session")
def inspector(fitted, backbone) -> Inspector:
    return Inspector(fitted.model, backbone=backbone)


class RunningLine:
    """A line running in its own thread, its results and notices collected."""

    def __init__(self, line: InspectionLine) -> None:
        self.line = line
        self.results: List[PartResult] = []
        self.notices: List[str] = []
        self.shifts: List[ShiftSnapshot] = []  # each ended shift's counters
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: Optional[BaseException] = None

    def _run(self) -> None:
        try:
            self.line.run(self.results.append, self.notices.append, on_shift=self.shifts.append)
        except BaseException as exc:  # handed to the test
            self.error = exc

    def wait_for(self, count: int, timeout: float = 60.0) -> List[PartResult]:
        deadline = time.monotonic() + timeout
        while len(self.results) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.results) >= count, f"{len(self.results)} of {count} results; notices {self.notices}"
        return self.results

    def wait_until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; notices {self.notices}"
            time.sleep(0.05)

    def stop(self) -> None:
        self.line.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        if self.error:
            raise self.error


@pytest.fixture
def run_line():
    running: List[RunningLine] = []

    def start(line: InspectionLine) -> RunningLine:
        runner = RunningLine(line)
        running.append(runner)
        runner.thread.start()
        runner.wait_until(lambda: line.watch is not None and line.watch._thread.is_alive())
        return runner

    yield start
    for runner in running:
        runner.line.stop()
        runner.thread.join(timeout=30)


def drop(source: Path, folder: Path, name: Optional[str] = None) -> Path:
    """A camera writing one part: a temporary name, then a rename into place."""
    target = folder / (name or source.name)
    shutil.copy(source, folder / f".{target.name}.writing")
    (folder / f".{target.name}.writing").rename(target)
    return target


@pytest.fixture
def event_writer(tmp_path) -> EventWriter:
    return EventWriter(tmp_path / "plant")
