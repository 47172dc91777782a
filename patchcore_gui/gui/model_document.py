"""The open model as one document: the model, its file, whether it has unsaved changes, its threshold
and review band.

Every panel that shows the model or judges a part by it observes this object; none keeps a copy of
the threshold. A moved threshold or review band is a change to the document (``threshold_changed``,
then dirty): every verdict may have changed. A new model replaces it (``model_changed``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

from PySide6.QtCore import QObject, Signal

from ..core.atomic import PathLike
from ..core.fingerprint import stat_key
from ..core.model import PatchCoreModel
from ..core.verdict import verdict_of
from ..core.model_file import MODEL_SUFFIX, save_model


def with_model_suffix(path: PathLike) -> Path:
    """``path`` with the model file suffix, added if it is missing."""
    target = Path(path)
    return target if target.suffix == MODEL_SUFFIX else target.with_name(target.name + MODEL_SUFFIX)


class ModelDocument(QObject):
    #: The model was replaced (opened, built) or closed (None).
    model_changed = Signal(object)
    #: The threshold or the review band of the current model moved (the value is the threshold).
    threshold_changed = Signal(float)
    #: The file name or the unsaved-changes state changed.
    state_changed = Signal()
    #: The minimum defect area or the pixel size of the current model changed.
    defect_size_changed = Signal()
    #: The model was written to its file (the path): a line that runs with that file takes it up.
    saved = Signal(object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._model: Optional[PatchCoreModel] = None
        self._path: Optional[Path] = None
        self._dirty = False
        # the file as it was read or last written here: another program (patchcore threshold, teach, a
        # copy) may write it meanwhile, and saving over that would lose its change without a word
        self._file_stamp: Optional[Tuple[int, int]] = None

    @property
    def model(self) -> Optional[PatchCoreModel]:
        return self._model

    @property
    def path(self) -> Optional[Path]:
        return self._path

    @property
    def dirty(self) -> bool:
        """Whether the model has changes not in its file (a new build, a moved threshold)."""
        return self._dirty

    @property
    def threshold(self) -> float:
        return self._model.threshold if self._model is not None else 0.0

    @property
    def review_from(self) -> Optional[float]:
        """Where the review band starts (a score above it and at or below the threshold is REVIEW), or None."""
        return self._model.review_from if self._model is not None else None

    def verdict(self, score: Optional[float], largest_region: Optional[float] = None) -> str:
        """"OK", "REVIEW", "NG" or "ERROR" (no score) at the current threshold and review band, the largest
        defect region (pixels; None: not measured) judged against the model's minimum defect area."""
        if self._model is None:
            return verdict_of(score, self.threshold)
        return self._model.verdict(score, largest_region)

    @property
    def min_defect_area(self) -> float:
        return self._model.min_defect_area if self._model is not None else 0.0

    def set_defect_size(self, min_area_px: float, pixel_size_mm: Optional[float]) -> None:
        """A new minimum defect area (pixels) and pixel size (mm, None unknown); the model then has unsaved changes."""
        model = self._model
        if model is None or (min_area_px, pixel_size_mm) == (model.min_defect_area, model.pixel_size_mm):
            return
        self._model = model.with_defect_size(min_area_px, pixel_size_mm)
        self.defect_size_changed.emit()
        self.set_dirty(True)

    @property
    def name(self) -> str:
        """The file name, "new model" before the first save, "" without a model."""
        if self._path is not None:
            return self._path.name
        return "new model" if self._model is not None else ""

    @property
    def changed_on_disk(self) -> bool:
        """Whether the model's file was written by another program since it was read or saved here."""
        now = None if self._path is None else stat_key(self._path)  # a deleted file loses nothing when saved
        return now is not None and self._file_stamp is not None and now != self._file_stamp

    @property
    def file_stamp(self) -> Optional[Tuple[int, int]]:
        """The model file's :func:`stat_key` as it was read or last written here (None: no file)."""
        return self._file_stamp

    def set_model(self, model: Optional[PatchCoreModel], path: Optional[Path] = None, dirty: bool = False) -> None:
        if path is None or path != self._path or not dirty:  # a change made here keeps the file as it was read
            self._file_stamp = None if path is None else stat_key(path)
        self._model, self._path, self._dirty = model, path, dirty
        self.model_changed.emit(model)
        self.state_changed.emit()

    def set_threshold(self, threshold: float) -> None:
        """Move the threshold (a finite number); the model then has unsaved changes."""
        if self._model is None or threshold == self._model.threshold:
            return
        self._model = self._model.with_threshold(threshold)
        self.threshold_changed.emit(self._model.threshold)
        self.set_dirty(True)

    def set_review_from(self, review_from: Optional[float]) -> None:
        """Start the review band at ``review_from`` (at most the threshold; None: no band)."""
        if self._model is None or review_from == self._model.review_from:
            return
        if review_from is not None:
            review_from = min(float(review_from), self._model.threshold)
        self._model = self._model.with_review_band(review_from)
        self.threshold_changed.emit(self._model.threshold)
        self.set_dirty(True)

    def reset_threshold(self) -> None:
        if self._model is not None:
            self.set_threshold(self._model.default_threshold)

    def set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.state_changed.emit()

    def save(self, path: PathLike) -> Path:
        """Write the model to ``path`` (the model suffix added if missing); it is then this document's file.

        Raises ``OSError`` when the file cannot be written.
        """
        if self._model is None:
            raise ValueError("no model to save")
        target = with_model_suffix(path)
        save_model(self._model, target)
        self._path, self._dirty, self._file_stamp = target, False, stat_key(target)
        self.state_changed.emit()
        self.saved.emit(target)
        return target
