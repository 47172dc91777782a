"""The window's own inspection record: every part it inspects, and every model and threshold change.

A :class:`RecordWriter` lives on a thread of its own and owns the store connection: the UI thread
never waits for a disk or a database. What it cannot write yet (store on a full disk, server away)
waits in order and is written when the store is back; the window is told once per outage, plainly,
and again when the waiting parts are recorded. :class:`WindowRecord` (UI thread) turns the
window's events into requests for the writer: a row in the results list, a model opened, built or
saved, a threshold that came to rest (a slider drag is one change, not a hundred).

The store is the ``record/store`` setting (an SQLite file or a ``postgresql://`` URL), by default
``inspections.sqlite`` in the user's data folder (:func:`default_store_path`).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Deque, Dict, Optional, Set, Tuple

import numpy as np
from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal, Slot

from ..core.errors import PatchCoreError
from ..core.model import PatchCoreModel
from ..core.verdict import verdict_of
from ..core.regions import DefectRegion, defect_size_text, largest_area, regions_to_json
from ..record import InspectionRecord, StoreError, StoreUnavailable, file_identity, open_store
from ..record.recorder import default_station, model_file_identity
from ..record.store import THRESHOLD_MOVED, InspectionStore
from .model_document import ModelDocument
from .results_model import InspectedImage

STORE_SETTING = "record/store"
#: the station the window records as (``line3``), else this PC's name
STATION_SETTING = "record/station"
#: how long the threshold must rest before its move is written to the audit trail
THRESHOLD_REST_MS = 1000
#: Parts not recorded again this close together are said as one batch.
BATCH_GAP_MS = 3000
#: how often a store that is away is tried again
RETRY_MS = 10_000


def default_store_path() -> Path:
    """``inspections.sqlite`` in the user's data folder (e.g. ``~/.local/share/PatchCore Inspector/patchcore-gui``)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder or Path.home() / ".patchcore-inspector") / "inspections.sqlite"


def store_target(settings: QSettings) -> str:
    """The store the window writes to: the ``record/store`` setting, else the default file."""
    configured = str(settings.value(STORE_SETTING, "") or "").strip()
    return configured or str(default_store_path())


def scratch_settings(folder: Path) -> QSettings:
    """Settings in ``folder``, never the user's, with the inspection record there too: for a window made by a
    test, a benchmark or the screenshot tool. The record must be set before the window is made (it reads the
    setting once), or the user's record gets the parts and a line skips them as recorded on a second run."""
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(STORE_SETTING, str(folder / "inspections.sqlite"))
    return settings


def station_name(settings: QSettings) -> str:
    """The station the window's parts are recorded as: the ``record/station`` setting, else this PC's name."""
    return str(settings.value(STATION_SETTING, "") or "").strip() or default_station()


@dataclass(frozen=True)
class ModelInForce:
    """A model the window now judges by: its file (None while unsaved) or, unsaved, its memory bank."""

    kind: str  # "model opened", "model built", "model saved"
    path: Optional[Path]
    memory_bank: np.ndarray  # the bank searched (taught patches too), hashed on the writer's thread if no file
    name: str
    threshold: float
    review_from: Optional[float] = None


@dataclass(frozen=True)
class RecordedAs:
    """Where a part reopened in the Inspect tab (from the line's NG parts, or History) was recorded: the
    station and the image's path as its record holds them."""

    station: str
    image_path: str


@dataclass(frozen=True)
class PartResult:
    """One row of the results list, at the threshold in force when it arrived."""

    time: datetime
    path: Path
    score: Optional[float]
    error: str
    threshold: float
    identity: Optional[Tuple[int, str]]  # (size, sha256) of the content inspected, if it was read
    review_from: Optional[float] = None  # the review band's start in force, None for none
    regions: Optional[Tuple[DefectRegion, ...]] = None  # at ``threshold``; None for a failure
    min_defect_area: float = 0.0
    #: a part looked at again: where this station recorded it (None: at its own path). Not recorded twice when
    #: nothing differs from that record
    recorded_as: Optional[str] = None


@dataclass(frozen=True)
class RuleAtRest:
    """The threshold and review band once they came to rest after a move."""

    threshold: float
    review_from: Optional[float]


@dataclass(frozen=True)
class DefectSizeSet:
    """The minimum defect area of the model in force changed (``detail`` says to what)."""

    threshold: float
    detail: str


class RecordWriter:
    """Owns the store on a thread of its own; writes in order; holds what it cannot write yet.

    A plain Python daemon thread rather than a QThread: it lives as long as the window's record
    and needs no Qt object to outlive it. It tells the window through ``notify(kind, value)``:
    "unavailable" (one line, once per outage), "restored" (how many waited), "written".
    """

    _STOP = object()

    def __init__(self, target: str, station: str, notify: Callable[[str, object], None]) -> None:
        self.target = target
        self.station = station
        self._notify = notify
        self._store: Optional[InspectionStore] = None
        self._model: Optional[tuple] = None  # (sha256, name, threshold, review_from)
        self._requests: "queue.Queue[object]" = queue.Queue()
        self._pending: Deque[object] = deque()
        self._outage = False
        self._thread = threading.Thread(target=self._run, name="RecordWriter", daemon=True)
        self._thread.start()

    def submit(self, request: object) -> None:
        self._requests.put(request)

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what waits (if the store takes it) and end the thread."""
        self._requests.put(self._STOP)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            try:
                request = self._requests.get(timeout=RETRY_MS / 1000 if self._outage else None)
            except queue.Empty:  # the store was away: try again
                request = None
            if request is self._STOP:
                self._flush()
                if self._store is not None:
                    self._store.close()
                return
            if request is not None:
                self._pending.append(request)
            if not self._requests.empty() and not self._outage:
                continue  # a burst: take it all, then write
            if not self._flush():
                return

    def _flush(self) -> bool:
        """Write what is pending; False when the window is gone and the thread should end."""
        try:
            if self._store is None:
                self._store = open_store(self.target, self.station)
            while self._pending:
                self._write(self._pending[0])
                self._pending.popleft()
        except (StoreUnavailable, StoreError) as exc:
            if not self._outage:
                self._outage = True
                return self._tell("unavailable", f"{exc}; {len(self._pending)} inspection(s) wait to be recorded "
                                                 f"(tried again every {RETRY_MS // 1000 or 1} s)")
            return True
        if self._outage:
            self._outage = False
            if not self._tell("restored", None):
                return False
        return self._tell("written", None)

    def _tell(self, kind: str, value: object) -> bool:
        try:
            self._notify(kind, value)
        except RuntimeError:  # the window's record object is gone (closed without close())
            return False
        return True

    def _write(self, request: object) -> None:
        assert self._store is not None
        if isinstance(request, ModelInForce):
            sha256, name = None, request.name
            if request.path is not None:
                try:
                    sha256, name = model_file_identity(request.path)
                except PatchCoreError:
                    pass  # the file went away since: the bank still names the model
            sha256 = sha256 or bank_sha256(request.memory_bank)
            self._model = (sha256, name, request.threshold, request.review_from)
            self._store.record_model_change(request.kind, sha256, name, request.threshold,
                                            detail=str(request.path or ""))
        elif isinstance(request, RuleAtRest):  # the threshold or the review band came to rest
            if self._model is not None:
                sha256, name, old, old_review = self._model
                if request.threshold != old:
                    self._store.record_model_change(THRESHOLD_MOVED, sha256, name, request.threshold,
                                                    detail=f"from {old:.4f} to {request.threshold:.4f}")
                if request.review_from != old_review:
                    self._store.record_model_change("review band moved", sha256, name, request.threshold,
                                                    detail=f"from {_band(old_review)} to {_band(request.review_from)}")
                self._model = (sha256, name, request.threshold, request.review_from)
        elif isinstance(request, DefectSizeSet) and self._model is not None:
            sha256, name = self._model[:2]
            self._store.record_model_change("minimum defect area set", sha256, name, request.threshold,
                                            detail=request.detail)
        elif isinstance(request, PartResult) and self._model is not None:
            size, sha256 = request.identity or (None, None)
            if request.identity is None:  # a failure row: name the content if the file is there
                try:
                    size, sha256 = file_identity(request.path)
                except PatchCoreError:
                    pass
            record = InspectionRecord(
                time=request.time, image_path=str(request.path.resolve()), file_size=size, sha256=sha256,
                model_sha256=self._model[0], model_name=self._model[1], threshold=request.threshold,
                score=request.score,
                verdict=verdict_of(request.score, request.threshold, review_from=request.review_from,
                                   min_defect_area=request.min_defect_area,
                                   largest_region=None if request.regions is None else largest_area(request.regions)),
                error=(request.error or "cannot inspect") if request.score is None else None, inspection_ms=None,
                regions=regions_to_json(request.regions), review_from=request.review_from)
            # an operator looking again at a line's NG part, or an engineer dropping the same images again, would
            # count each part twice in every summary; what the record holds already, alike, is that inspection
            recorded = (self._store.recorded_alike(record, request.recorded_as or record.image_path)
                        if sha256 is not None else None)
            if recorded is not None:
                self._tell("recorded before", (request.path.name, recorded))
                return
            self._store.add(record)


def _band(review_from: Optional[float]) -> str:
    return "none" if review_from is None else f"{review_from:.4f}"


def bank_sha256(memory_bank: np.ndarray) -> str:
    """A model that has no file yet is named by the sha256 of its memory bank."""
    return hashlib.sha256(np.ascontiguousarray(memory_bank).tobytes()).hexdigest()


class WindowRecord(QObject):
    """Records what the window inspects, through a :class:`RecordWriter` on its own thread."""

    #: from the writer's thread: (kind, value), delivered on the UI thread
    _notice = Signal(str, object)
    #: a line for the window's status bar or a message box
    problem = Signal(str)
    info = Signal(str)
    #: what was submitted is in the store (a History view may read it now)
    recorded = Signal()

    def __init__(self, document: ModelDocument, target: str, station: str, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.target = target
        self._notice.connect(self._noticed)
        self.writer = RecordWriter(target, station, self._notice.emit)
        self._rest = QTimer(self, singleShot=True, interval=THRESHOLD_REST_MS)
        self._rest.timeout.connect(self._threshold_rested)
        self._recorded_before = 0  # parts of the batch being recorded that were recorded before, alike
        self._batch_ends = QTimer(self, singleShot=True, interval=BATCH_GAP_MS)
        self._model: Optional[PatchCoreModel] = None
        self._path: Optional[Path] = None
        document.model_changed.connect(self._model_changed)
        document.state_changed.connect(self._state_changed)
        document.threshold_changed.connect(self._threshold_moving)
        document.defect_size_changed.connect(self._defect_size_changed)
        self.last_problem = ""
        # parts reopened to look at again, by the path they are inspected from: where they were recorded, for a
        # person's verdict on them as long as the window is open; and those whose new inspection is not recorded yet
        self._looked_at_again: Dict[Path, RecordedAs] = {}
        self._reinspected: Set[Path] = set()

    @property
    def station(self) -> str:
        """The station the window records as; its line records as it too."""
        return self.writer.station

    def reopened(self, path: Path, recorded: RecordedAs) -> None:
        """``path`` is inspected again to be looked at; it was recorded as ``recorded``. Its row is recorded only
        if it differs from that record (another model, threshold, verdict or score) or was another station's."""
        self._looked_at_again[path] = recorded
        self._reinspected.add(path)

    def recorded_as(self, path: Path) -> Optional[RecordedAs]:
        """Where the part inspected from ``path`` was recorded when it was reopened to be looked at again; None
        for a part first inspected here."""
        return self._looked_at_again.get(path)

    def add(self, item: InspectedImage) -> None:
        """Record one row of the results list (the verdict at the threshold and minimum defect area in force
        now; its regions were measured at that threshold unless it moved while the row was inspected)."""
        model = self.document.model
        if model is None:
            return
        identity = (item.fingerprint.size, item.fingerprint.sha256) if item.fingerprint is not None else None
        regions = item.measured(model).regions if item.score is not None else None
        reopened = self._looked_at_again.get(item.path) if item.path in self._reinspected else None
        self._reinspected.discard(item.path)
        recorded_as = reopened.image_path if reopened is not None and reopened.station == self.station else None
        self.writer.submit(PartResult(datetime.now(timezone.utc), item.path, item.score, item.error,
                                     self.document.threshold, identity, self.document.review_from, regions,
                                     model.min_defect_area, recorded_as))

    def close(self) -> None:
        """Write what is waiting (the threshold too) and end the writer's thread."""
        if self._rest.isActive():
            self._rest.stop()
            self._threshold_rested()
        self.writer.close()

    def _model_changed(self, model: Optional[PatchCoreModel]) -> None:
        self._rest.stop()
        previous = self._model
        # a model with changes not in its file (a build, a teaching) is named by its bank, not by the file
        self._model, self._path = model, self.document.path if not self.document.dirty else None
        if model is not None:
            self._in_force(self._change_kind(previous, model))

    def _change_kind(self, previous: Optional[PatchCoreModel], model: PatchCoreModel) -> str:
        same_fit = previous is not None and previous.memory_bank is model.memory_bank
        if previous is not None and same_fit and previous.teachings is not model.teachings:
            return "model taught" if len(model.teachings) > len(previous.teachings) else "teaching undone"
        return "model opened" if self._path is not None else "model built"

    def _state_changed(self) -> None:
        model = self.document.model
        same_bank = model is not None and self._model is not None and model.memory_bank is self._model.memory_bank
        # saved: the file now holds the model (a taught model keeps its old path, unsaved, until then)
        saved = self.document.path is not None and not self.document.dirty
        if same_bank and saved and self.document.path != self._path:
            self._path = self.document.path
            self._in_force("model saved")

    @Slot(float)
    def _threshold_moving(self, _threshold: float) -> None:
        self._rest.start()  # (again): recorded once it has rested

    def _in_force(self, kind: str) -> None:
        if self._rest.isActive():  # a move not yet at rest goes into the trail before what follows it
            self._rest.stop()
            self._threshold_rested()
        model = self.document.model
        assert model is not None
        if self._path is not None:
            name = self._path.stem
        else:
            file = self.document.path
            name = f"{file.stem} (changed, unsaved)" if file is not None else "new model (unsaved)"
        # the whole bank searched: a taught bank is another model than the fitted one
        self.writer.submit(ModelInForce(kind, self._path, model.bank_vectors(), name, float(model.threshold),
                                        model.review_from))

    @Slot()
    def _defect_size_changed(self) -> None:
        """A new minimum defect area goes into the audit trail at once (it is typed, not dragged)."""
        model = self.document.model
        if model is not None:
            self.writer.submit(DefectSizeSet(float(model.threshold), defect_size_text(model)))

    def _threshold_rested(self) -> None:
        if self.document.model is not None:
            self.writer.submit(RuleAtRest(float(self.document.threshold), self.document.review_from))

    @Slot(str, object)
    def _noticed(self, kind: str, value: object) -> None:
        if kind == "unavailable":
            self.last_problem = str(value)
            self.problem.emit(self.last_problem)
        elif kind == "restored":
            self.last_problem = ""
            self.info.emit("The inspection record is back: the inspections that waited are recorded")
        elif kind == "recorded before":
            name, time = value  # type: ignore[misc]
            # a folder dropped again would flash one line a part past the reader: the parts of one batch are counted
            self._recorded_before = self._recorded_before + 1 if self._batch_ends.isActive() else 1
            self._batch_ends.start()
            when = f"{time.astimezone():%Y-%m-%d %H:%M:%S}"
            self.info.emit(f"{name} was recorded at {when} with this model, threshold and score: not recorded again"
                           if self._recorded_before == 1 else
                           f"{self._recorded_before:,} parts were recorded before with this model, threshold and "
                           f"score: not recorded again (the last, {name}, at {when})")
        else:
            self.recorded.emit()

