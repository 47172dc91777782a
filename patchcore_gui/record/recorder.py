"""Recording the results of one model: what ``predict --log``, a line and the window have in common.

The recorder knows the model in force (its file's sha256, its name, the threshold), makes each
result a complete :class:`InspectionRecord` (the image's size and sha256, the verdict by the one
rule in :func:`~patchcore_gui.core.model.verdict_of`) and writes it. Threshold moves and model
changes go to the audit trail through it.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

from ..core.errors import ImageReadError, ModelFileError
from ..core.verdict import verdict_of
from ..core.regions import DefectRegion, largest_area, regions_to_json
from .identity import file_identity
from .records import InspectionRecord
from .store import THRESHOLD_MOVED, InspectionStore

PathLike = Union[str, "os.PathLike[str]"]


def default_station() -> str:
    """This PC's name: the station a store writes as unless told otherwise."""
    return socket.gethostname() or "station"


def model_file_identity(model_path: PathLike) -> Tuple[str, str]:
    """``(sha256 of the model file, its name)``: how records name the model that judged them (the CSV names
    the build instead, whatever its file: :func:`~patchcore_gui.core.results.model_identity`)."""
    try:
        return file_identity(model_path)[1], Path(model_path).stem
    except ImageReadError:
        raise ModelFileError(f"cannot read the model file '{model_path}' to record which model inspected") from None


class InspectionRecorder:
    """Writes one model's results into a store, with the model and threshold in force."""

    def __init__(self, store: InspectionStore, model_sha256: str, model_name: str, threshold: float,
                 review_from: Optional[float] = None, min_defect_area: float = 0.0) -> None:
        self.store = store
        self.model_sha256 = model_sha256
        self.model_name = model_name
        self.threshold = float(threshold)
        #: the start of the review band in force (None: OK / NG only)
        self.review_from = review_from
        #: the model's minimum defect area (pixels) the verdicts are made with
        self.min_defect_area = float(min_defect_area)

    @classmethod
    def for_model_file(cls, store: InspectionStore, model_path: PathLike, threshold: float,
                       kind: str = "model opened", review_from: Optional[float] = None,
                       min_defect_area: float = 0.0) -> "InspectionRecorder":
        """A recorder for the model saved at ``model_path``; the audit trail notes it if it is new here."""
        sha256, name = model_file_identity(model_path)
        recorder = cls(store, sha256, name, threshold, review_from, min_defect_area)
        store.record_model_in_force(kind, sha256, name, threshold, detail=str(Path(model_path).resolve()))
        return recorder

    def record(self, image_path: PathLike, score: Optional[float], error: Optional[str] = None,
               inspection_ms: Optional[float] = None, identity: Optional[Tuple[int, str]] = None,
               regions: Optional[Sequence[DefectRegion]] = None, time: Optional[datetime] = None,
               alike_again: bool = True) -> Optional[int]:
        """Commit one result; ``identity`` is the image's ``(size, sha256)`` if the caller has it already.

        ``regions`` are the part's defect regions at the threshold (None: not measured); the verdict
        judges the largest of them against the minimum defect area. ``alike_again`` False: a result this
        station recorded before for the same file and content, alike (:meth:`InspectionStore.recorded_alike`),
        is not recorded again, and None is returned (a batch run twice would count each part twice).

        An image that cannot be read again for its identity is recorded without one. Raises
        :class:`~.errors.StoreUnavailable` when the store cannot take it.
        """
        if identity is None:
            try:
                identity = file_identity(image_path)
            except ImageReadError:
                identity = None
        size, sha256 = identity if identity is not None else (None, None)
        record = InspectionRecord(
            time=time or datetime.now(timezone.utc), image_path=os.path.abspath(image_path), file_size=size,
            sha256=sha256, model_sha256=self.model_sha256, model_name=self.model_name, threshold=self.threshold,
            score=score, error=error if score is None else None, inspection_ms=inspection_ms,
            verdict=verdict_of(score, self.threshold, review_from=self.review_from,
                               largest_region=None if regions is None else largest_area(regions),
                               min_defect_area=self.min_defect_area),
            regions=regions_to_json(regions), review_from=self.review_from)
        if not alike_again and sha256 is not None and self.store.recorded_alike(record, record.image_path):
            return None
        return self.store.add(record)

    def threshold_moved(self, threshold: float) -> None:
        """Note a new threshold in the audit trail; later records carry it."""
        threshold = float(threshold)
        if threshold == self.threshold:
            return
        self.store.record_model_change(THRESHOLD_MOVED, self.model_sha256, self.model_name, threshold,
                                       detail=f"from {self.threshold:.4f} to {threshold:.4f}")
        self.threshold = threshold
