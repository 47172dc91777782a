"""The part on screen: its row's result drawn over the very pixels it was computed from.

A row keeps the fingerprint of the content it scored. When it is shown the file is read again and
fingerprinted; if the content differs (a camera wrote the file again), the row's heatmap and verdict
are not drawn over it: the view says so, and ``changed_on_disk`` lets the window treat the file as a
new part. The map of the shown row is rebuilt once per selection; a threshold move re-draws only
the colour range and the outlines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.errors import PatchCoreError
from ..core.fingerprint import read_fingerprinted
from ..core.model import PatchCoreModel
from ..core.patchcore import Inspection
from ..core.regions import DefectRegions
from .image_view import InspectionView
from .model_document import ModelDocument
from .results_model import InspectedImage, display_name
from .side_panel import VerdictPanel

NO_MODEL = "Open or build a model, then drop images here"
NO_PART = "Drop images or folders here to inspect them (Ctrl+I, Ctrl+Shift+I)"


def changed_message(path: Path) -> str:
    return (f"{display_name(path)} has changed on disk since it was inspected: this row's part is no longer "
            f"there. Add the file again to inspect the new part.")


class ShownPart(QObject):
    #: A message for people: the shown file cannot be read.
    problem = Signal(str)
    #: The shown row's file holds other content now (Path).
    changed_on_disk = Signal(object)
    #: The shown part's defect regions at the current threshold (a DefectRegions), or None (no map shown).
    regions_changed = Signal(object)

    def __init__(self, document: ModelDocument, view: InspectionView, verdict_panel: VerdictPanel,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.document, self.view, self.verdict_panel = document, view, verdict_panel
        self._item: Optional[InspectedImage] = None
        self._image: Optional[np.ndarray] = None
        self._inspection: Optional[Inspection] = None
        self._changed = False
        document.threshold_changed.connect(self._threshold_moved)
        document.model_changed.connect(self._model_changed)
        document.defect_size_changed.connect(self._threshold_moved)
        self.regions: Optional[DefectRegions] = None
        self._draw(new_part=True)

    @property
    def item(self) -> Optional[InspectedImage]:
        return self._item

    @property
    def image(self) -> Optional[np.ndarray]:
        """The shown part's pixels ``(H, W, 3)`` uint8, or None (nothing shown, or unreadable)."""
        return self._image

    @property
    def changed(self) -> bool:
        """Whether the shown row's file holds other content than the row was computed from."""
        return self._changed

    def show(self, item: Optional[InspectedImage]) -> None:
        if item is self._item and item is not None:
            return
        self._item, self._image, self._inspection, self._changed = item, None, None, False
        if item is not None:
            self._read(item)
        self._draw(new_part=True)

    def _read(self, item: InspectedImage) -> None:
        model = self.document.model
        try:
            image, fingerprint = read_fingerprinted(item.path, 16 if model is None else model.preprocessing.sample_bits)
        except PatchCoreError as exc:
            if not item.error:  # an ERROR row already says why
                self.problem.emit(str(exc))
            return
        if item.fingerprint is not None and fingerprint != item.fingerprint:
            self._changed = True
            self.changed_on_disk.emit(item.path)
            return
        self._image = image
        self._inspection = item.inspection(model) if model is not None else None

    def _model_changed(self, _model: Optional[PatchCoreModel]) -> None:
        if self._item is None:
            self._draw(new_part=True)  # the empty view's hint depends on whether there is a model

    def _threshold_moved(self, *_args: object) -> None:
        self._draw(new_part=False)

    def _draw(self, new_part: bool) -> None:
        """All of it for a new selection; only the colour range, the outlines and the regions when the
        threshold moved. The regions of the one part shown are found here, as its outline always was (a
        few milliseconds on the map already at hand); the list's rows are measured off this thread."""
        item, image, inspection, model = self._item, self._image, self._inspection, self.document.model
        threshold = self.document.threshold
        regions = None
        if item is not None and not self._changed and image is not None and inspection is not None \
                and model is not None:
            regions = inspection.defect_regions(model, threshold)
        self.regions = regions
        verdict = self.document.verdict(item.score, None if regions is None else regions.largest_area) \
            if item is not None else None
        self.verdict_panel.show_item(item, threshold, verdict, regions.regions if regions is not None else None,
                                     model)
        self.regions_changed.emit(regions)
        if item is None:
            self.view.show_nothing(NO_MODEL if model is None else NO_PART)
            return
        if self._changed:
            self.view.show_nothing(changed_message(item.path))
            return
        if image is None:
            self.view.show_nothing(f"{display_name(item.path)}   ERROR: {item.error}")
            return
        if inspection is None or model is None:
            self.view.show_part(image, None, (0.0, 1.0), None)
        else:
            # the map is drawn in the score's own units, so the colour bar reads like the threshold
            ratio = model.map_scale.ratio
            low, high = model.map_scale.colour_range(threshold)
            colour_range = (low / ratio, high / ratio)
            assert regions is not None
            mask = regions.mask
            if new_part:
                self.view.show_part(image, inspection.anomaly_map / np.float32(ratio), colour_range, mask)
                self.view.set_region_of_interest(None if model.roi is None else model.roi.pixels_at(image.shape[:2]))
            else:
                self.view.set_colour_range(colour_range)
                self.view.set_defect_mask(mask)
        score = "" if item.score is None else f"   score {item.score:.3f}"
        self.view.set_caption(f"{display_name(item.path)}   {verdict}{score}")
