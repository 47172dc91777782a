"""One background job at a time, and its progress in the status bar: stage, time left, bar, Cancel.

The window starts a worker here with the handler of its result, and hears back through
``ended(kind, outcome, message)``. The job ends here too: after the handler has taken the result
(while the job still counts as running, so what the handler queues waits for it), then ``ended``.
A worker's own extra signals (an inspection's rows) are the caller's to connect before starting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from ..core.build_cost import duration_text
from .workers import RunningWorkers, Worker

STAGE_NAMES = {"build": "Building", "inspect": "Inspecting", "export": "Writing overlays",
               "features": "Reading good parts", "coreset": "Choosing the memory bank",
               "calibration": "Calibrating the threshold", "loading network": "Loading the network",
               "teach": "Teaching"}
#: A stage's time left is said once it has run this long: before, one slow first item (the network's first
#: batch) would make the rate wrong.
TIME_LEFT_AFTER_S = 3.0


@dataclass
class Job:
    kind: str  # "build", "inspect" or "export"
    worker: Worker
    thread: QThread
    on_finished: Callable[[object], None]


class JobStatus(QWidget):
    """Runs workers one at a time; shows the running one's progress; hides when idle."""

    #: (kind, outcome, message): outcome "finished" | "failed" | "cancelled"; message for people or "".
    ended = Signal(str, str, str)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.stage_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(self.fontMetrics().horizontalAdvance("0") * 36)
        self.progress_bar.setFormat("%v / %m")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc); a cancelled build keeps the current model")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.stage_label, self.progress_bar, self.cancel_button):
            layout.addWidget(widget)
        self._job: Optional[Job] = None
        #: (stage, when its first report came, how much was done then): the rate its time left is taken from
        self._stage_start: Optional[Tuple[str, float, int]] = None
        self._running = RunningWorkers(self)
        self.hide()

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def job(self) -> Optional[Job]:
        return self._job

    def start(self, kind: str, worker: Worker, on_finished: Callable[[object], None]) -> None:
        """Run ``worker``; ``on_finished`` gets its result on the UI thread, then the job ends."""
        if self._job is not None:
            raise RuntimeError(f"a {self._job.kind} job is running")
        worker.progress.connect(self._progress)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        worker.cancelled.connect(self._cancelled)
        thread = self._running.start(worker)
        self._job = Job(kind, worker, thread, on_finished)
        self._stage_start = None
        self.stage_label.setText(STAGE_NAMES.get(kind, kind.capitalize()) + "…")
        self.progress_bar.setRange(0, 0)  # busy indicator until the first progress report
        self.cancel_button.setEnabled(True)
        self.show()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.stage_label.setText("Cancelling…")

    def shutdown(self) -> None:
        """Cancel the running job and wait for every thread (a QThread must not outlive its owner)."""
        if self._job is not None:
            self._job.worker.cancel()
        self._running.wait()

    def _progress(self, done: int, total: int, stage: str) -> None:
        if self._job is None or self._job.worker.cancel_requested:
            return
        self.stage_label.setText(STAGE_NAMES.get(stage, stage) + self._time_left(done, total, stage))
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def _time_left(self, done: int, total: int, stage: str) -> str:
        """", about 2 min left" at the rate of the stage so far; "" until it has run a few seconds."""
        now = time.monotonic()
        if self._stage_start is None or self._stage_start[0] != stage or done < self._stage_start[2]:
            self._stage_start = (stage, now, done)
            return ""
        _, started, done_then = self._stage_start
        elapsed = now - started
        if elapsed < TIME_LEFT_AFTER_S or done <= done_then or done >= total:
            return ""
        return f", {duration_text(elapsed / (done - done_then) * (total - done))} left"

    def _finished(self, result: object) -> None:
        if self._job is not None:
            self._job.on_finished(result)
        self._end("finished", "")

    def _failed(self, message: str) -> None:
        self._end("failed", message)

    def _cancelled(self) -> None:
        self._end("cancelled", "")

    def _end(self, outcome: str, message: str) -> None:
        job, self._job = self._job, None
        self.hide()
        if job is not None:
            self.ended.emit(job.kind, outcome, message)
