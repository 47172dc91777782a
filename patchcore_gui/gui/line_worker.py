"""The line mode's worker: runs the line engine (patchcore_gui.line) on its own QThread.

Everything that reads or computes happens here: the line's inspection and record, and what the
panel shows of a part (its image read again, its heatmap, a thumbnail for NG parts). The panel gets
signals only. The newest part's picture is prepared at most every ``SHOW_EVERY_S``; an NG part's
always, so the shift's NG list misses none.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional, Tuple

import cv2
import numpy as np
from PySide6.QtCore import Signal

from ..core import Inspector, PatchCoreError, PatchCoreModel, read_image
from ..line import InspectionLine, LineSettings, OverlayWriter, PartResult, PartSorter, ShiftSnapshot
from ..line.model_file_follower import ModelFileFollower
from ..line.runner import Recorder
from ..line.sorting import where_the_part_is
from .ng_parts import LISTED_VERDICTS
from .results_model import downsize, encode_thumbnail
from .workers import Worker

#: Seconds between two pictures of the newest part (a person cannot follow 25 parts a second).
SHOW_EVERY_S = 0.2
#: Seconds between two counter updates.
COUNT_EVERY_S = 0.25
#: Longest side of a shown part, in pixels: enough for the view, and bounded memory per part kept.
SHOWN_SIDE = 768
THUMBNAIL_SIDE = 96


#: The line's model file: its path, its stat_key as the model was read, and what opens the recorder
#: that names a model taken up from it.
FollowedModelFile = Tuple[Path, Optional[Tuple[int, int]],
                          Callable[[PatchCoreModel], Optional[Callable[[], Recorder]]]]


@dataclass(frozen=True)
class ShownLinePart:
    """A part as the panel shows it: its result, and its picture when one was prepared.

    ``image (h, w, 3) uint8`` and ``anomaly_map (h, w) float32`` at display size, ``defect_mask
    (h, w) bool``; ``thumbnail`` (JPEG bytes) only for NG parts. All None when no picture was made
    (throttled, or the image is gone or unreadable).
    """

    result: PartResult
    image: Optional[np.ndarray] = None
    anomaly_map: Optional[np.ndarray] = None
    colour_range: Tuple[float, float] = (0.0, 1.0)
    defect_mask: Optional[np.ndarray] = None
    thumbnail: Optional[bytes] = None
    #: ``(h, w)`` bool inspected pixels at display size, when the model has a region of interest.
    region: Optional[np.ndarray] = None


def picture(result: PartResult, model: PatchCoreModel, thumbnail: bool) -> ShownLinePart:
    """Read the part's image (where the sorter put it, if it moved it; not again where the line already
    read it) and make what the panel draws."""
    source = where_the_part_is(result.path, result.sorted_to)
    if result.image_gone or result.inspection is None:
        image = None
        if not result.image_gone:
            try:
                image = downsize(read_image(source, model.preprocessing.sample_bits), SHOWN_SIDE)
            except PatchCoreError:
                pass
        return ShownLinePart(result, image=image)
    try:
        full = result.pixels if result.pixels is not None else read_image(source, model.preprocessing.sample_bits)
    except PatchCoreError:
        return ShownLinePart(result)
    threshold_model = model.with_threshold(result.threshold)
    image = downsize(full, SHOWN_SIDE)
    height, width = image.shape[:2]
    heat = cv2.resize(result.inspection.anomaly_map, (width, height), interpolation=cv2.INTER_LINEAR)
    # the part's own defect regions (as recorded), brought to display size
    mask = cv2.resize(result.inspection.defect_mask(threshold_model).astype(np.uint8), (width, height),
                      interpolation=cv2.INTER_NEAREST) > 0
    small = encode_thumbnail(image, THUMBNAIL_SIDE) if thumbnail else None
    region = None if model.roi is None else model.roi.pixels_at((height, width))
    return ShownLinePart(result, image, heat, threshold_model.map_scale.colour_range(result.threshold), mask, small,
                         region)


class LineWorker(Worker):
    """Runs one line until :meth:`cancel` (Stop). Pause, resume and threshold changes come from the UI thread.

    ``make_inspector`` and ``make_recorder`` are called in the worker's thread (an inspector may need a
    network loaded; a store's connection belongs to its thread); the recorder may be None (no store:
    the line remembers this run only).
    """

    part_done = Signal(object)   # ShownLinePart
    counters = Signal(object)    # ShiftSnapshot
    notice = Signal(str)
    model_taken_up = Signal(object)  # PatchCoreModel, read from the line's model file once it inspects with it
    shift_ended = Signal(object)  # ShiftSnapshot: the ended shift's final counters (a new one has started)
    decided = Signal(object)  # StoredInspection: a person decided one of the line's parts (here or at another PC)

    def __init__(self, make_inspector: Callable[[], Inspector], folder: Path,
                 make_recorder: Callable[[], Optional[Recorder]],
                 sorter: Optional[PartSorter] = None, overlays: Optional[OverlayWriter] = None,
                 settings: LineSettings = LineSettings(), model_file: Optional[FollowedModelFile] = None) -> None:
        """``model_file``: the file the line's model was read from, followed while the line runs."""
        super().__init__()
        self.make_inspector = make_inspector
        self.folder = folder
        self.make_recorder = make_recorder
        self.sorter = sorter
        self.overlays = overlays
        self.settings = settings
        self.model_file = model_file
        self.line: Optional[InspectionLine] = None
        # what the UI thread asks of the line, done in the worker's thread between parts
        self._changes: "queue.Queue[Callable[[InspectionLine], None]]" = queue.Queue()
        self._last_shown = 0.0
        self._last_counted = 0.0

    # -- from the UI thread -------------------------------------------------------------------------
    def cancel(self) -> None:
        super().cancel()
        if self.line is not None:
            self.line.stop()

    def pause(self) -> None:
        if self.line is not None:
            self.line.pause()

    def resume(self) -> None:
        if self.line is not None:
            self.line.resume()

    def new_shift(self) -> None:
        """Start the counters again from now (the operator's new shift)."""
        if self.line is not None:
            self.line.new_shift()

    def change_threshold(self, threshold: float, review_from: Optional[float] = None) -> None:
        """Use ``threshold`` and the review band from ``review_from`` (None: none) for the parts from now on
        (whoever moved them puts the move into the audit trail)."""
        self._changes.put(lambda line: line.set_threshold(threshold, review_from))

    def note_unlock(self, threshold: float, detail: str = "") -> None:
        """Put the operator's unlock of the threshold into the audit trail."""
        self._changes.put(lambda line: self._audit(line, "threshold unlocked", threshold, detail))

    # -- in the worker's thread ---------------------------------------------------------------------
    def work(self) -> Any:
        inspector = self.make_inspector()
        recorder = self.make_recorder()
        follower: Optional[ModelFileFollower] = None
        try:
            self.line = InspectionLine(inspector, self.folder, recorder, self.sorter, self.overlays, self.settings)
            if self.cancel_requested:
                return self.line.snapshot()
            if self.model_file is not None:
                path, stamp, open_recorder_for = self.model_file
                follower = ModelFileFollower(self.line, path, stamp, open_recorder_for, self.notice.emit,
                                             self.model_taken_up.emit).start()
            final = self.line.run(self._result, self.notice.emit, self._tick, self._shift_ended, self.decided.emit)
            self._apply_changes()
            self.counters.emit(final)
            return final
        finally:
            if follower is not None:
                follower.stop()
            # the line's recorder: a model taken up opened its own and closed the one it replaced
            close = getattr(self.line.recorder if self.line is not None else recorder, "close", None)
            if close is not None:
                close()

    def _result(self, result: PartResult) -> None:
        assert self.line is not None
        now = time.monotonic()
        listed = result.verdict in LISTED_VERDICTS  # the panel lists it with its picture
        if listed or now - self._last_shown >= SHOW_EVERY_S:
            self._last_shown = now
            shown = picture(result, self.line.model, thumbnail=listed)
        else:
            shown = ShownLinePart(result)
        # the full-size map and image have served: the panel gets the display-size copies only
        self.part_done.emit(replace(shown, result=_without_full_size(result)))
        self._tick()

    def _shift_ended(self, ended: ShiftSnapshot) -> None:
        assert self.line is not None
        self.shift_ended.emit(ended)
        self.counters.emit(self.line.snapshot())  # the new shift's, at once

    def _tick(self) -> None:
        assert self.line is not None
        self._apply_changes()
        now = time.monotonic()
        if now - self._last_counted >= COUNT_EVERY_S:
            self._last_counted = now
            self.counters.emit(self.line.snapshot())

    def _apply_changes(self) -> None:
        assert self.line is not None
        while True:
            try:
                change = self._changes.get_nowait()
            except queue.Empty:
                return
            change(self.line)

    def _audit(self, line: InspectionLine, kind: str, threshold: float, detail: str) -> None:
        line.audit(kind, threshold, detail, self.notice.emit)


def _without_full_size(result: PartResult) -> PartResult:
    return replace(result, inspection=None, pixels=None)
