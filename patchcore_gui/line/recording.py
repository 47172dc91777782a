"""The line's results into the inspection record: the record's own :class:`InspectionRecorder`, adapted.

The recorder writes each result with the model in force (the model file's sha256 and name) and the
threshold the verdict was made with. Who moves a threshold puts the move into the audit trail (the
window does, for its document); the line only records under the threshold it was given.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from ..record import RecordFilter, StoredInspection, StoreUnavailable, open_store
from ..record.recorder import InspectionRecorder
from .runner import PartResult, RecordingFailed


@contextmanager
def _store_unavailable_is_recording_failed() -> Iterator[None]:
    """The line holds for a :class:`RecordingFailed`: a store that cannot answer becomes one."""
    try:
        yield
    except StoreUnavailable as exc:
        raise RecordingFailed(str(exc)) from None


@dataclass
class StoreRecorder:
    """A :class:`~.runner.Recorder` over an open store, for one model file."""

    recorder: InspectionRecorder

    @classmethod
    def open(cls, target: str, station: str, model_path: Path, threshold: float,
             review_from: Optional[float] = None, min_defect_area: float = 0.0,
             kind: str = "line started") -> "StoreRecorder":
        """Open the store; the audit trail notes the line's model and threshold (as ``kind``) if they are
        new at this station."""
        store = open_store(target, station)
        try:
            return cls(InspectionRecorder.for_model_file(store, model_path, threshold, kind=kind,
                                                         review_from=review_from, min_defect_area=min_defect_area))
        except BaseException:
            store.close()
            raise

    @property
    def store_file(self) -> Optional[Path]:
        """The SQLite file the line records into, whose disk it needs room on (None for a server)."""
        return self.recorder.store.file

    def is_recorded(self, path: Path, sha256: str) -> bool:
        with _store_unavailable_is_recording_failed():
            return self.recorder.store.is_recorded(str(path), sha256)

    def add(self, result: PartResult) -> int:
        # the rule this verdict was made with (its move is audited)
        self.recorder.threshold, self.recorder.review_from = result.threshold, result.review_from
        self.recorder.min_defect_area = result.min_defect_area
        identity = None if result.sha256 is None or result.size is None else (result.size, result.sha256)
        with _store_unavailable_is_recording_failed():
            return self.recorder.record(result.path, result.score, result.error, result.inspection_ms,
                                        identity=identity, regions=result.regions, time=result.time)

    def verdicts_since(self, since: datetime) -> Dict[str, int]:
        """How many parts of each verdict this station recorded from ``since`` on (the shift so far)."""
        with _store_unavailable_is_recording_failed():
            store = self.recorder.store
            total = store.summary(RecordFilter(since=since, station=store.station)).total
        return {"OK": total.ok, "NG": total.ng, "REVIEW": total.review, "ERROR": total.errors}

    def newest_parts(self, folder: Path, limit: int) -> List[Tuple[str, Path, datetime]]:
        """``(verdict, path, time)`` of the parts from ``folder`` (and its subfolders) among the newest ``limit`` this
        station recorded, newest first: the parts before this start that a run in a row goes on from."""
        with _store_unavailable_is_recording_failed():
            store = self.recorder.store
            # the station's newest, its folder's kept here: the folder as a text filter in the query is no index's
            found = store.inspections(RecordFilter(station=store.station), limit=limit, newest_first=True)
        parts = [(stored.record.verdict, Path(stored.record.image_path), stored.record.time) for stored in found]
        return [part for part in parts if part[1].is_relative_to(folder)]

    def newest_decision_id(self) -> int:
        with _store_unavailable_is_recording_failed():
            return self.recorder.store.newest_decision_id()

    def decisions_after(self, after_id: int, folder: Path) -> Tuple[int, List[StoredInspection]]:
        """People's decisions newer than ``after_id`` on parts this station recorded from ``folder`` (and its
        subfolders), each part with the decision: ``(the newest decision's id looked at, the parts)``."""
        with _store_unavailable_is_recording_failed():
            found = self.recorder.store.decisions_after(after_id)
        newest = max((part.decision.id for part in found if part.decision is not None), default=after_id)
        return newest, [part for part in found if Path(part.record.image_path).is_relative_to(folder)]

    def note_sorted(self, path: Path, sha256: str, sorted_to: Path) -> None:
        with _store_unavailable_is_recording_failed():
            # absolute, as the camera's path is: a record is read from elsewhere, weeks later
            self.recorder.store.note_sorted(str(path), sha256, str(sorted_to.absolute()))

    def record_change(self, kind: str, threshold: float, detail: str = "") -> None:
        """An audit trail entry while the line runs (e.g. "threshold unlocked"); raises StoreUnavailable."""
        self.recorder.store.record_model_change(kind, self.recorder.model_sha256, self.recorder.model_name,
                                                threshold, detail)

    def close(self) -> None:
        self.recorder.store.close()
