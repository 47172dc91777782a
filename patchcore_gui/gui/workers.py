"""Long work off the UI thread: build a memory bank, inspect images, export overlays.

Each worker is a QObject moved to its own QThread (:func:`start_worker`). Workers own no widgets:
they call the engine and report through signals, which Qt queues to the window's thread.
``cancel()`` is called directly from the UI thread (the worker's thread is busy, so a queued slot
would run too late) and sets the engine's :class:`CancelToken`, which the engine checks between
batches. The network and the inspector a worker uses are the :class:`Engine`'s, kept between jobs.

superqt's worker (napari's) was considered: it runs on a shared QThreadPool and hands results back
from there, while here each worker's QThread keeps the worker until the thread has finished and
lets it go on the UI thread (:class:`WorkerThread`), which is what keeps a worker from being
destroyed in its own thread; the 5,000-image batch in docs/reliability.md was measured with workers
on their own QThreads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List, Optional, Sequence, Set, Tuple

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.atomic import atomic_write_bytes
from ..core.config import PatchCoreConfig
from ..core.engine import Engine
from ..core.errors import Cancelled, PatchCoreError
from ..core.fingerprint import read_fingerprinted, stat_key
from ..core.images import read_image
from ..core.model import PatchCoreModel
from ..core.overlay import encode_png, inspection_overlay, OVERLAY_OPACITY, overlay_targets
from ..core.patchcore import FitResult, ImageResult, Inspector
from ..core.progress import CancelToken
from .results_model import InspectedImage

log = logging.getLogger(__name__)


class Worker(QObject):
    """Base: runs :meth:`work` in its thread and turns the outcome into exactly one final signal."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._token = CancelToken()

    def cancel(self) -> None:
        self._token.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled

    def _report(self, done: int, total: int, stage: str) -> None:
        self.progress.emit(done, total, stage)

    def work(self) -> Any:
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        try:
            result = self.work()
        except Cancelled:
            final, args = self.cancelled, ()
        except (PatchCoreError, ValueError) as exc:  # the engine's ValueErrors name a bad setting for people
            final, args = self.failed, (str(exc),)
        except MemoryError:
            final, args = self.failed, ("out of memory: use fewer or smaller images, or a smaller coreset ratio",)
        except Exception as exc:  # a bug must reach the user as a message, not kill the thread silently
            log.exception("worker failed")
            final, args = self.failed, (f"unexpected error: {type(exc).__name__}: {exc}",)
        else:
            final, args = self.finished, (result,)
        # The worker stays in this thread: moving itself back to the UI thread here (as it once did)
        # deadlocked the window. moveToThread holds the GIL while it waits for a Qt lock that the UI
        # thread can hold while it destroys a widget and calls into Python, which needs the GIL
        # (seen in the suite: QMenu::~QMenu in Sbk_GetPyOverride against QObject::moveToThread).
        # WorkerThread lets the worker go on the UI thread instead, once this thread has finished.
        final.emit(*args)
        # ends the thread's event loop as soon as run() returns, without a round trip through the UI thread
        QThread.currentThread().quit()


class WorkerThread(QThread):
    """A worker's own thread, which holds the worker until the thread has finished and then lets it go
    on the UI thread, whenever the caller drops its own reference. A worker destroyed in its own thread
    crashed (deleteLater there: SIGBUS in Shiboken::Object::destroy). ``finished`` is emitted by the
    ending thread and, this object living on the UI thread, its slot runs there, after the slots of
    the worker's final signal.
    """

    def __init__(self, worker: Worker, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName(type(worker).__name__)
        self._worker: Optional[Worker] = worker
        self.finished.connect(self._let_go)

    @Slot()
    def _let_go(self) -> None:
        self._worker = None


def start_worker(worker: Worker, parent: QObject) -> QThread:
    """Run ``worker.run`` on a new :class:`WorkerThread`, which ends after the worker's final signal.

    The thread keeps the worker until it has finished, so the caller may drop its own reference
    whenever it likes (at the final signal, say).
    """
    thread = WorkerThread(worker, parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    return thread



class RunningWorkers(QObject):
    """The worker threads an owner started that have not finished yet: each is let go (deleteLater, on the
    UI thread) once it has finished, and :meth:`wait` is what the owner does when the window closes (a
    QThread must not outlive its owner). The thread itself keeps its worker (:class:`WorkerThread`)."""

    def __init__(self, owner: QObject) -> None:
        super().__init__(owner)
        self._threads: Set[QThread] = set()

    def start(self, worker: Worker) -> QThread:
        """Run ``worker`` on its own thread (:func:`start_worker`), held here until it has finished."""
        thread = start_worker(worker, self)
        self._threads.add(thread)
        thread.finished.connect(self._finished)
        return thread

    @Slot()
    def _finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread) and thread in self._threads:
            self._threads.discard(thread)
            thread.deleteLater()

    def wait(self, ms: int = 10_000) -> None:
        """End and wait for every thread still running (their workers were asked to cancel, or end by themselves)."""
        for thread in list(self._threads):
            thread.quit()
            thread.wait(ms)

class BuildWorker(Worker):
    """Good images -> a fitted model (:class:`FitResult`), on the engine's network."""

    def __init__(self, engine: Engine, paths: Sequence[Path], config: PatchCoreConfig, good_folder: str = "") -> None:
        super().__init__()
        self.engine = engine
        self.paths = list(paths)
        self.config = config
        self.good_folder = good_folder

    def work(self) -> FitResult:
        return self.engine.fit(self.paths, self.config, progress=self._report, cancel=self._token,
                               good_folder=self.good_folder)


class InspectWorker(Worker):
    """Inspect files with a model, streaming one :class:`InspectedImage` per file through ``inspected``.

    Each row carries the fingerprint of the bytes its score and thumbnail come from; a file that
    changed while the batch ran is scored again from the content read for its row.
    """

    inspected = Signal(object)

    def __init__(self, engine: Engine, model: PatchCoreModel, paths: Sequence[Path]) -> None:
        super().__init__()
        self.engine = engine
        self.model = model
        self.paths = list(paths)

    def work(self) -> int:
        inspector = self.engine.inspector_for(self.model, self._report)
        seen_before = [stat_key(path) for path in self.paths]
        results = inspector.inspect_paths(self.paths, progress=self._report, cancel=self._token)
        for result, before in zip(results, seen_before):
            self.inspected.emit(_row(inspector, result, before, self.model))
        return len(self.paths)


def _row(inspector: Inspector, result: ImageResult, seen_before: Optional[Tuple[int, int]],
         model: PatchCoreModel) -> InspectedImage:
    """The list's row of one result: thumbnail, patch scores, and the defect regions at ``model``'s threshold."""
    if result.inspection is None:
        return InspectedImage.failure(result.path, result.error or "cannot inspect")
    try:
        # again, for the thumbnail: cheap next to the network
        image, fingerprint = read_fingerprinted(result.path, model.preprocessing.sample_bits)
    except PatchCoreError as exc:
        return InspectedImage.failure(result.path, str(exc))
    inspection = result.inspection
    if fingerprint.stat_key != seen_before:  # written again since the batch began: score what was read now
        inspection = inspector.inspect(image)
    return InspectedImage.from_inspection(result.path, image, inspection, fingerprint, model)


class ExportWorker(Worker):
    """Write the overlay PNG of every scored item into ``folder``; finished -> (written, problems)."""

    def __init__(self, model: PatchCoreModel, items: Sequence[InspectedImage], folder: Path,
                 opacity: float = OVERLAY_OPACITY) -> None:
        super().__init__()
        self.model = model
        self.items = [item for item in items if item.score is not None]
        self.folder = Path(folder)
        self.opacity = opacity

    def work(self) -> Tuple[List[Path], List[str]]:
        model, threshold = self.model, self.model.threshold
        written: List[Path] = []
        problems: List[str] = []
        targets = overlay_targets([item.path for item in self.items])
        for done, (item, target) in enumerate(zip(self.items, targets), start=1):
            self._token.raise_if_cancelled()
            inspection = item.inspection(model)
            try:
                image = read_image(item.path, model.preprocessing.sample_bits)
                assert inspection is not None
                overlay = inspection_overlay(image, inspection, model, threshold, self.opacity, part=target.part)
                written.append(atomic_write_bytes(self.folder / target.file, encode_png(overlay)))
            except (PatchCoreError, OSError) as exc:
                problems.append(str(exc) if isinstance(exc, PatchCoreError) else f"cannot write overlay of "
                                f"'{item.path.name}': {exc.strerror or exc}")
            self._report(done, len(self.items), "export")
        return written, problems


class RegionsWorker(Worker):
    """Measure the defect regions of list rows again at ``model``'s threshold, from their kept patch scores.

    ``measured`` brings ``[(row, the row's item with its regions)]`` in batches, so the list follows
    while a long one runs; cancelled when the threshold moves again before it ends.
    """

    measured = Signal(object)
    BATCH = 32

    def __init__(self, model: PatchCoreModel, rows: Sequence[Tuple[int, InspectedImage]]) -> None:
        super().__init__()
        self.model = model
        self.rows = list(rows)

    def work(self) -> int:
        done: List[Tuple[int, InspectedImage]] = []
        for row, item in self.rows:
            self._token.raise_if_cancelled()
            done.append((row, item.measured(self.model)))
            if len(done) >= self.BATCH:
                self.measured.emit(done)
                done = []
        if done:
            self.measured.emit(done)
        return len(self.rows)
