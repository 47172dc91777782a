"""The list's defect regions follow the threshold: measured again off the UI thread when it moves.

Each row keeps its patch scores (3 KB), not its map; a row's regions at a new threshold need its map
rebuilt at the image's size (milliseconds for a 512 px part, more for a large camera image), so a
batch of rows is measured by a :class:`~.workers.RegionsWorker` on a thread of its own, outside the
window's one-job-at-a-time queue (a threshold drag must not wait for an inspection to end). A move
while it runs cancels it and starts again at the new threshold once it has stopped. Until a row is
measured, its verdict is the rule's for a part not measured (``verdict_of``): NG above the
threshold when a minimum defect area is set, the same as always without one.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .model_document import ModelDocument
from .results_model import InspectedImage, ResultsTableModel
from .workers import RegionsWorker, RunningWorkers

#: How long the threshold rests before the rows are measured again (a slider drag is one change).
SETTLE_MS = 120


class RegionRefresher(QObject):
    #: Every row's regions are measured at the current threshold (tests wait for it).
    idle = Signal()

    def __init__(self, document: ModelDocument, results: ResultsTableModel, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.results = results
        self._timer = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._timer.timeout.connect(self._start)
        self._worker: Optional[RegionsWorker] = None
        self._running = RunningWorkers(self)
        self._again = False
        document.threshold_changed.connect(self.schedule)
        document.model_changed.connect(self.schedule)

    @property
    def busy(self) -> bool:
        return self._worker is not None or self._timer.isActive()

    @Slot()
    def schedule(self, *_args: object) -> None:
        """Measure the rows that are not at the current threshold, once the threshold has rested."""
        self._timer.start()

    @Slot()
    def _start(self) -> None:
        if self._worker is not None:  # still measuring at an older threshold: stop it, then start again
            self._again = True
            self._worker.cancel()
            return
        model = self.document.model
        stale = self.results.stale_rows() if model is not None else []
        if not stale:
            self.idle.emit()
            return
        assert model is not None
        worker = RegionsWorker(model, stale)
        worker.measured.connect(self._measured)
        for final in (worker.finished, worker.failed, worker.cancelled):
            final.connect(self._ended)
        self._worker = worker
        self._running.start(worker)

    @Slot(object)
    def _measured(self, measured: List[Tuple[int, InspectedImage]]) -> None:
        threshold = self.document.threshold
        self.results.set_regions([(row, item) for row, item in measured if item.regions_at == threshold])

    @Slot()
    def _ended(self, *_args: object) -> None:
        self._worker = None
        if self._again or self.results.stale_rows():
            self._again = False
            self._timer.start()
        else:
            self.idle.emit()

    def shutdown(self) -> None:
        self._timer.stop()
        if self._worker is not None:
            self._worker.cancel()
        self._running.wait()
