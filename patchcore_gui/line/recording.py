"""The line's results into the inspection record (patchcore_gui.record): the one place the two meet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..record import InspectionRecord, InspectionStore, StoreUnavailable, open_store
from .runner import PartResult, RecordingFailed


@dataclass
class StoreRecorder:
    """A :class:`~.runner.Recorder` over an open store, for one model file (its sha256 and name)."""

    store: InspectionStore
    model_sha256: str
    model_name: str

    @classmethod
    def open(cls, target: str, station: str, model_sha256: str, model_name: str, threshold: float) -> "StoreRecorder":
        """Open the store and put the start of the line, with its model and threshold, into the audit trail."""
        store = open_store(target, station)
        try:
            store.record_model_change("line started", model_sha256, model_name, threshold)
        except BaseException:
            store.close()
            raise
        return cls(store, model_sha256, model_name)

    def is_recorded(self, path: Path, sha256: str) -> bool:
        try:
            return self.store.is_recorded(str(path), sha256)
        except StoreUnavailable as exc:
            raise RecordingFailed(str(exc)) from None

    def add(self, result: PartResult) -> int:
        record = InspectionRecord(
            time=result.time, image_path=str(result.path), file_size=result.size, sha256=result.sha256,
            model_sha256=self.model_sha256, model_name=self.model_name, threshold=result.threshold,
            score=result.score, verdict=result.verdict, error=result.error, inspection_ms=result.inspection_ms)
        try:
            return self.store.add(record)
        except StoreUnavailable as exc:
            raise RecordingFailed(str(exc)) from None

    def record_change(self, kind: str, threshold: float, detail: str = "") -> None:
        """An audit trail entry while the line runs ("threshold unlocked", "threshold moved"); raises StoreUnavailable."""
        self.store.record_model_change(kind, self.model_sha256, self.model_name, threshold, detail)

    def close(self) -> None:
        self.store.close()
