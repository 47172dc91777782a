"""The line: complete parts in, inspected in order, each result recorded, then sorted and drawn.

A part counts as inspected when its record is committed. So the order for each part is: inspect,
record (retried, with the line held, while the store cannot take it), then write its NG overlay and
sort its image. Several parts are inspected at once, each on one core by a worker process
(line/inspection_processes.py; on a small PC one network on two cores is barely faster than on one,
so two parts side by side nearly double the rate); their results are still recorded, sorted and
reported one by one, in the order the parts arrived, by the thread that runs the line (the store is
used from that thread only).

A part whose (path, sha256) is already recorded is not inspected again: that is how a restart
resumes. When images are moved, such a part is still in the watched folder only because the line
stopped between its record and its move; it is inspected once more to learn where it goes, and not
recorded again.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Deque, Iterator, List, Optional, Protocol, Sequence, Set, Tuple, TypeVar, Union

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ..core import (Cancelled, ImageReadError, ImageResult, Inspection, Inspector, PatchCoreError, PatchCoreModel,
                    encode_png, inspection_overlay, read_image, refuse_unwritable_folder)
from ..core.errors import said_in_one_line
from ..core.likeness import Unlikeness, unlikeness_of_file
from ..core.model_file import inspects_alike
from ..core.regions import DefectRegion, regions_summary
from ..record import StoredInspection, file_identity
from ..record.store import MODEL_TAKEN_UP, THRESHOLD_MOVED
from .arrival import REMEMBERED_PARTS, ArrivalSettings, FolderWatch, Part, PartQueue
from .counters import ShiftCounters, ShiftSnapshot
from .disk_space import FULL_WITHIN_S, DiskSpace
from .folder_lock import TWO_LINES_ON_ONE_FOLDER, ShareNote, only_line_on
from .inspection_processes import InspectionProcesses, StartingBeside, room_beside
from .kept_images import OkImagesKept
from .shifts import ShiftPlan
from .sorting import OverlayWriter, PartSorter
from .ng_in_a_row import NG_IN_A_ROW, NgInARow
from .runs_in_a_row import RunChange
from .signal_command import LINE_STARTED, LINE_STOPPED, SIGNAL_COMMAND_AUDITED, SignalCommand
from .unlike_parts import UnlikeParts

T = TypeVar("T")


#: Seconds between looks at the record for people's decisions on the line's parts (for the signal command, the window).
DECISIONS_EVERY_S = 2.0
#: Decisions looked at again below the newest seen: on a plant's PostgreSQL record two PCs deciding at once may
#: commit the later id first, and a look between the two commits would never see the earlier one.
DECISIONS_OVERLAP = 50
#: the recorded parts a line looks back at as it starts, for a run of NG parts in a row it goes on with
RUN_LOOKED_BACK = 1000


class RecordingFailed(PatchCoreError):
    """The record could not be written (store full, connection lost); the message says why."""


@dataclass(frozen=True)
class PartResult:
    """What became of one part. ``verdict`` is "OK", "REVIEW", "NG" or "ERROR" (then ``error`` says why);
    ``threshold`` and ``review_from`` are the rule it was judged by."""

    path: Path
    time: datetime
    verdict: str
    score: Optional[float]
    threshold: float
    error: Optional[str]
    inspection_ms: Optional[float]
    size: Optional[int]
    sha256: Optional[str]
    complete_at: float
    recorded_at: float = 0.0
    sorted_to: Optional[Path] = None
    overlay: Optional[Path] = None
    inspection: Optional[Inspection] = field(default=None, repr=False, compare=False)
    already_recorded: bool = False
    #: The file at ``path`` no longer holds this part's bytes (deleted or replaced): it is not sorted.
    image_gone: bool = False
    #: The start of the review band in force (None: OK / NG only).
    review_from: Optional[float] = None
    #: The part's defect regions at ``threshold``, largest first; None for an ERROR.
    regions: Optional[Tuple[DefectRegion, ...]] = None
    #: The model's minimum defect area (pixels) the verdict was made with.
    min_defect_area: float = 0.0
    #: ``(H, W, 3)`` uint8: the part's image where the line already read it (to draw an NG overlay), so
    #: whoever shows the part need not read it again; None otherwise. Never recorded.
    pixels: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    #: Whether (and why not) the part looks like the model's good parts; None for an ERROR. Never recorded.
    unlike: Optional[Unlikeness] = field(default=None, repr=False, compare=False)

    def line(self) -> str:
        """The console line: local time, file, score, verdict, ms (the error for an ERROR)."""
        stamp = self.time.astimezone().strftime("%H:%M:%S")
        score = "-" if self.score is None else f"{self.score:.4f}"
        ms = "-" if self.inspection_ms is None else f"{self.inspection_ms:.0f} ms"
        tail = f"\t{self.error}" if self.error else f"\t{regions_summary(self.regions)}"
        return f"{stamp}\t{self.path.name}\t{score}\t{self.verdict}\t{ms}{tail}"


class Recorder(Protocol):
    """Where results are recorded: the inspection store, or a memory of this run (no store given)."""

    def is_recorded(self, path: Path, sha256: str) -> bool: ...

    def add(self, result: PartResult) -> object:
        """Durable once it returns; raises :class:`RecordingFailed` when it cannot be (as may :meth:`is_recorded`)."""

    def note_sorted(self, path: Path, sha256: str, sorted_to: Path) -> None:
        """Where the recorded part at ``path`` was sorted to; may raise :class:`RecordingFailed`."""


class SessionMemory:
    """A :class:`Recorder` without a store: remembers this run only (a restart inspects everything again),
    its newest ``remembered`` parts (an older part still in the folder when the folder is looked at again
    whole, as after its share came back, is inspected again)."""

    def __init__(self, remembered: int = REMEMBERED_PARTS) -> None:
        self.remembered = remembered
        self._seen: "OrderedDict[Tuple[str, str], None]" = OrderedDict()

    def is_recorded(self, path: Path, sha256: str) -> bool:
        return (str(path), sha256) in self._seen

    def add(self, result: PartResult) -> object:
        if result.sha256 is not None:
            part = (str(result.path), result.sha256)
            self._seen[part] = None
            self._seen.move_to_end(part)
            if len(self._seen) > self.remembered:
                self._seen.popitem(last=False)
        return True

    def note_sorted(self, path: Path, sha256: str, sorted_to: Path) -> None:
        pass  # nothing outlives this run to find the image by


@dataclass(frozen=True)
class LineSettings:
    arrival: ArrivalSettings = ArrivalSettings()
    #: Seconds between attempts to record while the store cannot take a record.
    record_retry_s: float = 2.0
    #: Parts taken at once when a backlog has formed; one network batch is the model's batch size.
    most_per_batch: Optional[int] = None
    #: Parts inspected side by side, each on one core (None: one per core, at most 4; 1: one part at
    #: a time on every core, as a single inspection is run).
    inspectors: Optional[int] = None
    #: Side by side, each part is inspected in a worker process (False: in threads of this process,
    #: which start at once but take turns at Python's lock; line/inspection_processes.py).
    processes: bool = True
    #: With a backlog, parts queued beside each worker process besides the one it inspects (0: a worker
    #: is handed its next part only after the line's thread has seen its last one done).
    queued_per_process: int = 1
    #: A model with a bank of its own handed over while the line runs (:meth:`InspectionLine.take_up`)
    #: starts its worker processes beside the running ones, which go on inspecting, when memory allows
    #: (False: new parts wait while they load, about 6 s).
    start_beside: bool = True
    #: When shifts start: the counters start again then, the ended shift's told (none: the run is the shift).
    shifts: ShiftPlan = ShiftPlan()
    #: NG parts in a row before the line warns that the process, not a part, went wrong (0: never; line/ng_in_a_row.py)
    ng_in_a_row: int = NG_IN_A_ROW
    #: The program (and its first arguments) run for each NG, REVIEW and ERROR part and each change of the line's
    #: state, for a stack light, a reject gate or a PLC (none: the line tells nothing outside; line/signal_command.py).
    signal_command: Tuple[str, ...] = ()
    #: ``signal_command`` is run for OK parts too.
    signal_ok_parts: bool = False
    #: ``signal_command`` is started once and reads each event from its input as a line of JSON.
    signal_held_open: bool = False
    #: A disk the line uses (camera folder, record, sorted images, overlays) said to be nearly full when it fills
    #: within this many seconds at its rate, or has under 1 GB left (0: never; line/disk_space.py).
    disk_full_within_s: float = FULL_WITHIN_S
    #: Sorted images of OK parts removed once this many days old, checked at the start and daily (0: kept for ever;
    #: line/kept_images.py).
    ok_images_kept_days: int = 0


def _local_now() -> datetime:
    """The time of day as this PC's clock reads it, that shifts start by."""
    return datetime.now().astimezone()


def default_inspectors() -> int:
    """One inspection thread per core, at most 4 (beyond that a part waits longer for its one core)."""
    return max(1, min(4, os.cpu_count() or 1))


#: Inspects parts' files: one result per path, in order (:meth:`Inspector.inspect_paths` as a list).
InspectPaths = Callable[[Sequence[Path]], List[ImageResult]]


class LineModel:
    """The line's model, and its :class:`Inspector` in this process only when this process inspects.

    Given an inspector (the window's, already loaded), that one is used. Given a model, the network is
    loaded here only for one part at a time or side-by-side threads: worker processes load their own,
    and a copy here would cost the line's process a network's memory and its loading time for nothing.
    """

    def __init__(self, source: Union[Inspector, PatchCoreModel], weights: Optional[Path] = None) -> None:
        self._inspector = None if isinstance(source, PatchCoreModel) else source
        self.model: PatchCoreModel = source if isinstance(source, PatchCoreModel) else source.model
        self._weights = weights

    @property
    def weights(self) -> Optional[Path]:
        """The network's weights file as given, else the loaded inspector's (None: found as the model says)."""
        if self._weights is None and self._inspector is not None:
            return self._inspector.backbone.weights_path
        return self._weights

    @property
    def loaded(self) -> bool:
        """Whether this process holds the network."""
        return self._inspector is not None

    def inspector(self) -> Inspector:
        if self._inspector is None:
            self._inspector = Inspector(self.model, weights=self._weights)
        return self._inspector


@contextmanager
def side_by_side(line_model: LineModel, inspectors: int, processes: bool, on_notice: Callable[[str], None],
                 queued_per_process: int = 1, ready: Optional[InspectionProcesses] = None,
                 stopping: Callable[[], bool] = lambda: False
                 ) -> Iterator[Tuple[ThreadPoolExecutor, InspectPaths, int, Optional[InspectionProcesses]]]:
    """The inspection threads, what each calls to inspect its parts, how many parts the line may hand
    them at once, and the worker processes if any: the inspector in this process for one part at a time;
    several side by side each on one core, in worker processes (whose loading is told to ``on_notice``,
    and ended with :class:`Cancelled` once ``stopping()``; ``ready``: ones already started for this model)
    or in this process."""
    if inspectors > 1 and processes:
        starting = time.perf_counter()
        if ready is None:
            on_notice(f"loading the model into {inspectors} inspection processes; parts that arrive meanwhile wait")
        # With a backlog each worker has its next part queued beside it: handed a part only once the
        # line's thread had seen its last one done (between records and moves, each with an fsync), a
        # worker sat idle for that round trip (each 72% busy at 25 parts/s, docs/benchmarks.md).
        in_hand = (1 + queued_per_process) * inspectors
        with (ready or InspectionProcesses(line_model.model, inspectors, line_model.weights, on_notice,
                                           stopping)) as workers, \
                ThreadPoolExecutor(in_hand, thread_name_prefix="inspection") as pool:
            if ready is None:
                on_notice(f"{inspectors} inspection processes ready "
                          f"(loading the model into them took {time.perf_counter() - starting:.1f} s)")
            yield pool, _falling_back(workers.inspect_paths, line_model, on_notice), in_hand, workers
        return
    inspector = line_model.inspector()  # before the threads: they must not each load one

    def in_process(paths: Sequence[Path]) -> List[ImageResult]:
        return list(inspector.inspect_paths(paths))

    if inspectors <= 1:
        with ThreadPoolExecutor(1, thread_name_prefix="inspection") as pool:
            yield pool, in_process, 1, None
    else:
        with one_core_each(inspectors) as pool:
            yield pool, in_process, inspectors, None


def _falling_back(in_workers: InspectPaths, line_model: LineModel, on_notice: Callable[[str], None]) -> InspectPaths:
    """``in_workers`` until the worker processes die and cannot be started again (memory gone, say);
    then one part at a time in this process: an unattended line goes on, slower, rather than end. The
    parts the dead workers held are inspected here, not failed."""
    lock = threading.Lock()
    here: List[Inspector] = []

    def inspect(paths: Sequence[Path]) -> List[ImageResult]:
        if not here:
            try:
                return in_workers(paths)
            except PatchCoreError as exc:
                with lock:
                    if not here:
                        on_notice(f"error: {exc}; the line goes on in its own process, one part at a time")
                        here.append(_inspector_here(line_model))
        with lock:  # one at a time: the network's own threads use every core
            return list(here[0].inspect_paths(paths))
    return inspect


def _inspector_here(line_model: LineModel) -> Inspector:
    """The line's own inspector, once its workers are gone for good; what stops even that (the memory that
    killed them) ends the line in one line, and the parts it held wait in the folder for the next start."""
    try:
        return line_model.inspector()
    except Exception as exc:  # noqa: BLE001
        raise PatchCoreError(f"the line cannot inspect in its own process either: {said_in_one_line(exc)}") from exc


@contextmanager
def one_core_each(inspectors: int) -> Iterator[ThreadPoolExecutor]:
    """Inspection threads in this process. Each one's network, search and numpy use one core: their
    libraries' own thread pools on top would fight over the cores (measured: 10x slower). OpenMP's
    thread count belongs to the thread that sets it, so each inspection thread sets its own; torch's
    and OpenBLAS's are the process's, and are given back when the line stops."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"), \
                ThreadPoolExecutor(inspectors, thread_name_prefix="inspection",
                                   initializer=threadpool_limits, initargs=(1, "openmp")) as pool:
            yield pool
    finally:
        torch.set_num_threads(threads)


def _now() -> datetime:
    """When a part was inspected: the clock shifts start by, so a part falls in the shift its time says."""
    return _local_now().astimezone(timezone.utc)


class InspectionLine:
    """Runs a line on one folder until :meth:`stop`; :meth:`run` blocks the calling thread.

    ``on_result(PartResult)`` is called for every part after it is recorded and sorted;
    ``on_notice(str)`` for a one-line message (a sort that failed, the store down or back).
    Both are called from the thread that called :meth:`run`, but for the notice that the worker
    processes are gone for good, which comes from the inspection thread that found it.
    """

    def __init__(self, inspector: Union[Inspector, PatchCoreModel], folder: Path, recorder: Optional[Recorder] = None,
                 sorter: Optional[PartSorter] = None, overlays: Optional[OverlayWriter] = None,
                 settings: LineSettings = LineSettings(), weights: Optional[Path] = None) -> None:
        """``inspector``: a loaded one, or the model alone (:class:`LineModel`: its network is then
        loaded in this process only if this process inspects); ``weights``: the network's weights file,
        where not the one the model's network is found by."""
        self.line_model = LineModel(inspector, weights)
        self.model = self.line_model.model
        self.folder = Path(folder).absolute()  # one name per part across restarts, whatever the working folder
        self.recorder: Recorder = recorder if recorder is not None else SessionMemory()
        self.sorter = sorter
        self.overlays = overlays
        self.settings = settings
        if settings.arrival.subfolders:
            self._refuse_output_inside_the_camera_folder()
        self.queue = PartQueue()
        self.counters = ShiftCounters()
        self.unlike_parts = UnlikeParts()
        self.ng_in_a_row = NgInARow(settings.ng_in_a_row)
        self._run_going_on: Optional[RunChange] = None  # a run said before this start, that goes on
        self.signals = SignalCommand(settings.signal_command, settings.signal_ok_parts, settings.signal_held_open) \
            if settings.signal_command else None
        self.disk_space = DiskSpace((), settings.disk_full_within_s)
        self._said_started = False  # the signal command told that the line inspects
        # the newest person's decision looked at (None: not looked yet, the first look sets it), and when the record
        # was last looked at for newer ones
        self._decisions_after: Optional[int] = None
        self._decisions_looked_at = 0.0
        self._decisions_seen: Set[int] = set()  # of the last DECISIONS_OVERLAP ids, those told or there at the start
        self._on_decided: Callable[[StoredInspection], None] = lambda part: None
        self._new_shift_asked = threading.Event()
        self._last_part_time: Optional[datetime] = None  # the last concluded part's (_in_arrival_order)
        self._claim: Optional[ExitStack] = None  # the camera folder's lock, while held
        self._share_note: Optional[ShareNote] = None
        self._taken_over_by: Optional[str] = None
        self._next_shift: Optional[datetime] = None
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.watch: Optional[FolderWatch] = None
        self._folder_was_missing = False
        #: Set once the line inspects: its worker processes have loaded the model (seconds after the
        #: watch started; parts that arrive meanwhile wait in the backlog).
        self.ready = threading.Event()
        #: Parts in hand when the line was stopped while the store could not take their records.
        self.unrecorded = 0
        # a model handed over by take_up, with what opens its recorder; taken between parts
        self._next_model: Optional[Tuple[PatchCoreModel, Optional[Callable[[], Recorder]], Callable[[], None]]] = None
        self._next_lock = threading.Lock()
        # while a model taken up is being started: the one it replaces (to go back to if it cannot start),
        # then what opens its recorder and what is called once it inspects
        self._starting: Optional[Tuple[LineModel, PatchCoreModel, Optional[Callable[[], Recorder]],
                                       Callable[[], None]]] = None
        # the model handed over that the line has looked at, whether it inspects as the running model does
        # (judged anew, no workers of its own), its workers if they are starting beside the running ones,
        # and those workers once the line takes the model with them
        self._considered: Optional[object] = None
        self._considered_alike = False
        self._beside: Optional[StartingBeside] = None
        self._ready_workers: Optional[InspectionProcesses] = None

    # -- control, from any thread -------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the parts in hand are recorded and sorted."""
        self._stop.set()
        self._running.set()
        self.queue.wake()

    def new_shift(self) -> None:
        """Start the counters again from now, between parts (any thread: an operator's new shift)."""
        self._new_shift_asked.set()
        self.queue.wake()

    def pause(self) -> None:
        """Take no new part until :meth:`resume`; parts keep arriving and wait in the backlog."""
        self._running.clear()
        self.queue.wake()

    def resume(self) -> None:
        self._running.set()
        self.queue.wake()

    @property
    def inspectors(self) -> int:
        """Parts inspected side by side."""
        return self.settings.inspectors or default_inspectors()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def take_up(self, model: PatchCoreModel, open_recorder: Optional[Callable[[], Recorder]] = None,
                then: Callable[[], None] = lambda: None) -> None:
        """Inspect with ``model`` from the next part on (a tuned model file: threshold, region, taught
        parts). The parts in hand finish with the model they were taken with. A model that only judges
        anew (threshold, review band, minimum area) is then in force at once; any other gets worker
        processes of its own, started beside the running ones, which go on inspecting meanwhile
        (``LineSettings.start_beside``, memory allowing; else, and in threads, new parts wait in the
        backlog while it loads; nothing is scanned again).
        ``open_recorder`` (called in the line's thread) gives the recorder that names the new model;
        ``then`` is called once the new model inspects."""
        with self._next_lock:
            self._next_model = (model, open_recorder, then)
        self.queue.wake()

    def set_threshold(self, threshold: float, review_from: Optional[float] = None) -> None:
        """A new threshold and review band (None: none) for the parts inspected from now on (the window
        records the change)."""
        self.model = self.model.with_threshold(threshold).with_review_band(review_from)
        self._tell(THRESHOLD_MOVED, _judged_by(self.model))

    def snapshot(self) -> ShiftSnapshot:
        count, oldest = self.queue.backlog()
        watch = self.watch
        in_a_row, unlike = self.unlike_parts.shown
        ng_in_a_row, ng_run = self.ng_in_a_row.shown
        snapshot = replace(self.counters.snapshot(count, oldest), unlike_in_a_row=in_a_row, unlike_parts=unlike,
                           ng_in_a_row=ng_in_a_row, ng_run=ng_run, disk_nearly_full=self.disk_space.shown)
        if watch is None:
            return snapshot
        return replace(snapshot, folder_missing=watch.folder_missing, listed_every=watch.poll_every,
                       network=watch.network)

    # -- the loop -----------------------------------------------------------------------------
    def run(self, on_result: Callable[[PartResult], None] = lambda result: None,
            on_notice: Callable[[str], None] = lambda line: None,
            on_tick: Callable[[], None] = lambda: None,
            on_shift: Callable[[ShiftSnapshot], None] = lambda ended: None,
            on_decided: Callable[[StoredInspection], None] = lambda part: None) -> ShiftSnapshot:
        """Watch, inspect, record and sort until stopped; returns the counters at the end.

        ``on_tick()`` is called just before each batch, and at least every second while the line is idle;
        ``on_shift(ended)`` when a shift ends (by the plan, or :meth:`new_shift`), with its final counters;
        ``on_decided(part)`` when a person decided one of the line's recorded parts, wherever (see
        :meth:`_follow_decisions`), the part with that decision.

        Raises :class:`PatchCoreError` if the folder cannot be watched, or another line (here, or on another PC
        through a share) watches it or takes it over meanwhile (this line then stops after the parts in hand).
        """
        if not self.folder.is_dir():
            raise PatchCoreError(f"folder '{self.folder}' does not exist or is not a folder")
        self._on_decided = on_decided
        self.claim_folder(on_notice)
        if self.signals is not None:
            self.signals.start()
        self.disk_space.folders = self._folders_written()
        if self.settings.ok_images_kept_days and self.sorter is not None:
            self.disk_space.sweeps = [OkImagesKept(self.sorter.root, self.settings.ok_images_kept_days).sweep_if_due]
        self.disk_space.start()
        ended = "stopped"
        try:
            final = self._watch_and_inspect(on_result, on_notice, on_tick, on_shift)
            ended = f"stopped; {final.line()}"
            if self._taken_over_by is not None:
                raise PatchCoreError(f"another line took the camera folder {self.folder} over "
                                     f"({self._taken_over_by}): this line stopped")
            return final
        except PatchCoreError as exc:
            ended = f"ended: {exc}"
            raise
        finally:
            self.disk_space.close()
            self._say_disk_space(on_notice)  # OK images removed as the line started, before its first tick
            if self.signals is not None:
                self._follow_decisions(at_once=True)  # one made in the last seconds
                self._tell(LINE_STOPPED, ended)
                self.signals.close()
                self._say_signals(on_notice)
            if self._claim is not None:
                self._claim.close()
                self._claim = None

    def claim_folder(self, on_notice: Callable[[str], None] = lambda text: None) -> None:
        """Take the camera folder's lock now, before saying the line runs (:meth:`run` takes it otherwise and
        gives it back when it ends); PatchCoreError if another line on this PC, or on another PC that reaches
        this folder, inspects it, or if its sort or overlay folder cannot be written. ``on_notice`` hears that a
        line's note found there is being watched."""
        if self._claim is not None:
            return
        self._refuse_output_it_cannot_write()
        with ExitStack() as claim:
            claim.enter_context(only_line_on(self.folder, subfolders=self.settings.arrival.subfolders))
            self._share_note = ShareNote(self.folder, subfolders=self.settings.arrival.subfolders)
            self._taken_over_by = None
            self._share_note.claim(on_notice)
            claim.callback(self._share_note.release)
            self._claim = claim.pop_all()

    def _say_who_else_watched(self, on_notice: Callable[[str], None]) -> None:
        """Said, and kept in the audit trail: quality finding a part recorded twice, or a gap, sees why."""
        note = self._share_note
        if note is None:
            return
        if note.took_over_from is not None:
            on_notice(f"took the camera folder over from a line that has ended ({note.took_over_from})")
            self.audit("camera folder taken over", self.model.threshold,
                       f"{self.folder}, from a line that has ended ({note.took_over_from})", on_notice)
            note.took_over_from = None
        if note.taken_over_by is not None and self._taken_over_by is None:
            # one of two lines must go, and the one whose note the folder holds is the one another line
            # starting now would find and respect (two started at once; one that took this line for ended)
            self._taken_over_by = note.taken_over_by
            on_notice(f"another line took this camera folder over ({note.taken_over_by}): this line stops after "
                      f"the parts in hand ({TWO_LINES_ON_ONE_FOLDER})")
            self.audit("camera folder taken by another line", self.model.threshold,
                       f"{self.folder}: {note.taken_over_by}; this line stopped", on_notice)
            self.stop()

    def _watch_and_inspect(self, on_result: Callable[[PartResult], None], on_notice: Callable[[str], None],
                           on_tick: Callable[[], None], on_shift: Callable[[ShiftSnapshot], None]) -> ShiftSnapshot:
        self._begin_shift(on_notice)
        self._go_on_with_ng_run(on_notice)
        self._say_who_else_watched(on_notice)

        def tick() -> None:
            self._turn_shift_if_due(on_shift, on_notice, part_done_in_hand=lambda: bool(in_hand) and in_hand[0].done())
            self._say_who_else_watched(on_notice)
            self._follow_decisions()
            self._say_signals(on_notice)
            self._say_disk_space(on_notice)
            on_tick()

        def turn_shift_for(part_time: datetime) -> None:
            self._turn_shift_if_due(on_shift, on_notice, part_time=part_time)

        self.watch = FolderWatch(self.folder, self.queue, self.settings.arrival, on_notice)
        try:
            self.watch.start()
        except OSError as exc:
            raise PatchCoreError(f"cannot watch '{self.folder}': {exc.strerror or exc}") from None
        if self.watch.poll_every > 0:
            on_notice(self.watch.how())
        workers = self.inspectors
        # one inspection on all cores takes a batch (faster per part); side by side, each takes one part:
        # a batch on one core is slower per part (8 bottle parts: 190 ms each against 115 alone) and
        # holds every part in it until the last is done
        most = self.settings.most_per_batch or (self.model.config.batch_size if workers == 1 else 1)
        in_hand: Deque[Future] = deque()  # each gives the PartResults of one batch, in arrival order
        try:
            while not self._stop.is_set():
                try:
                    self._inspect_with_one_model(workers, most, in_hand, on_result, on_notice, tick, turn_shift_for)
                except Cancelled:  # stopped while its inspection processes loaded the model: none in hand
                    break
                except Exception as exc:  # noqa: BLE001  (whatever stops a new model starting, the line goes on)
                    if self._starting is None:
                        raise
                    _not_taken_up(on_notice, exc)
                    self.line_model, self.model, _, _ = self._starting
                    self._starting = None
                    continue
                self._change_model()
        finally:
            self.ready.clear()
            self.watch.stop()
            if self._beside is not None:  # a model's workers starting when the line stopped
                self._beside.discard()
            if self._ready_workers is not None:
                self._ready_workers.close()
            self._beside, self._ready_workers = None, None
        return self.snapshot()

    def _change_model(self) -> None:
        """Take the model handed over by :meth:`take_up` (no part in hand now); it inspects once started."""
        with self._next_lock:
            handed, self._next_model = self._next_model, None
        if handed is None:
            return
        model, open_recorder, then = handed
        beside, self._beside = self._beside, None
        if beside is not None and beside.handed is handed and beside.ready:
            self._ready_workers = beside.take()
        elif beside is not None:
            beside.discard()
        self._starting = (self.line_model, self.model, open_recorder, then)
        self.line_model = LineModel(model, self.line_model.weights)
        self.model = model

    def _started_with_new_model(self) -> None:
        """Its network loaded: its recorder replaces the old one, and it inspects."""
        if self._starting is None:
            return
        _, _, open_recorder, then = self._starting
        self._record_under(open_recorder)
        self._starting = None
        self._tell(MODEL_TAKEN_UP, _judged_by(self.model))
        then()

    def _record_under(self, open_recorder: Optional[Callable[[], Recorder]]) -> None:
        """The recorder that names a model taken up replaces the line's (raises PatchCoreError if the store
        cannot be opened: its parts could not be recorded under its name)."""
        if open_recorder is None:
            return
        recorder = open_recorder()
        close = getattr(self.recorder, "close", None)
        if close is not None:
            close()
        self.recorder = recorder

    # -- shifts --------------------------------------------------------------------------------------
    def _begin_shift(self, on_notice: Callable[[str], None]) -> None:
        """Count the shift in progress: with a plan, from its start, the parts this station recorded in it before
        this start included (the window restarted at ten shows the shift since six); else from now."""
        now = _local_now()
        started = self.settings.shifts.start_of(now)
        carried = None
        counted = getattr(self.recorder, "verdicts_since", None)
        if started is not None and counted is not None:
            try:
                carried = counted(started)
            except PatchCoreError as exc:
                on_notice(f"error: the parts recorded in this shift before this start are not counted: {exc}")
        self.counters.start_shift(started or now, carried)
        self._next_shift = self.settings.shifts.next_start(now)

    def _go_on_with_ng_run(self, on_notice: Callable[[str], None]) -> None:
        """A run of NG parts the line's record ends with goes on: restarted in one (a crash, the PC rebooted, a new
        model), the line warns at its fifth part in a row, not the fifth after the start; a run it said before is
        said and shown again, told to the signal command again, and its end recorded. Looks back at most
        :data:`RUN_LOOKED_BACK` parts."""
        newest_parts = getattr(self.recorder, "newest_parts", None)
        if newest_parts is None or not self.ng_in_a_row.in_a_row:
            return
        try:
            going_on = self.ng_in_a_row.resume(newest_parts(self.folder, RUN_LOOKED_BACK))
        except PatchCoreError as exc:
            on_notice(f"error: NG parts in a row before this start are not counted: {exc}")
            return
        if going_on is not None:
            on_notice(going_on.notice())
            self._run_going_on = going_on  # told to the signal command once the line has started

    def _turn_shift_if_due(self, on_shift: Callable[[ShiftSnapshot], None], on_notice: Callable[[str], None],
                           part_time: Optional[datetime] = None,
                           part_done_in_hand: Callable[[], bool] = lambda: False) -> None:
        """Between parts: end the shift when the plan's next one starts, or when the operator asked; the audit
        trail says when and why the counters started again, with the ended shift's counts.

        A part counts in the shift its record's time falls in (as the record's summary per shift counts it):
        the plan's shift turns before the first part whose time is at or after its start is counted, and by
        the clock alone unless a part done before the clock was read waits to be concluded. A part still being
        inspected then ends after it, and the parts behind it take its time if they ended before it
        (:meth:`_in_arrival_order`): all of them fall in the new shift."""
        now = _local_now()  # before looking at the parts in hand: one that ends after this is the new shift's
        asked = self._new_shift_asked.is_set() and part_time is None
        due = self._next_shift is not None and (part_time >= self._next_shift if part_time is not None
                                                else now >= self._next_shift and not part_done_in_hand())
        if not asked and not due:
            return
        if asked:
            self._new_shift_asked.clear()
        ended = self.snapshot()
        # a planned shift starts at its time, not at the look that found it passed
        started = self._next_shift if not asked and self._next_shift is not None else now
        self.counters.start_shift(started)
        # after the shift just started, whichever is later: a part's time may run ahead of this look at the clock
        self._next_shift = self.settings.shifts.next_start(max(now, started))
        since = "the line's start" if ended.shift_started is None else f"{ended.shift_started:%Y-%m-%d %H:%M}"
        self.audit("shift started", self.model.threshold,
                   f"{'asked on the line' if asked else 'by the plan'} at {started:%Y-%m-%d %H:%M:%S}; the shift since "
                   f"{since}: {ended.line()}", on_notice)
        on_shift(ended)

    def audit(self, kind: str, threshold: float, detail: str, on_notice: Callable[[str], None]) -> None:
        """An entry in the store's audit trail (``patchcore log --changes``), where the line records into a
        store, and told to the signal command; in the line's thread, the store's."""
        self._tell(kind, detail)
        self._record_change(kind, threshold, detail, on_notice)

    def _tell(self, kind: str, detail: str) -> None:
        """The line's state changed: told to the signal command (the audit trail has it, here or where the change
        was made)."""
        if self.signals is not None:
            self.signals.state(kind, detail, _now())

    def _record_change(self, kind: str, threshold: float, detail: str, on_notice: Callable[[str], None]) -> None:
        record = getattr(self.recorder, "record_change", None)
        if record is not None:
            try:
                record(kind, threshold, detail)
            except PatchCoreError as exc:
                on_notice(f"error: '{kind}' could not be recorded: {exc}")

    def _follow_decisions(self, at_once: bool = False) -> None:
        """A person's verdict on one of this line's parts, made since the line started (in the window, with
        ``patchcore log --decide``, at another PC of a plant's record), told to the signal command (a part held for
        a person goes on, or out) and to ``on_decided`` (the window's NG list says it). The record is looked at
        every :data:`DECISIONS_EVERY_S` seconds, between parts."""
        follow = getattr(self.recorder, "decisions_after", None)
        if follow is None or not self._said_started:
            return
        now = time.monotonic()
        if now < self._decisions_looked_at + DECISIONS_EVERY_S and self._decisions_after is not None and not at_once:
            return
        self._decisions_looked_at = now
        try:
            if self._decisions_after is None:  # the start: what is there now is not told, nor seen late
                newest = self.recorder.newest_decision_id()  # type: ignore[attr-defined]
                _, there = follow(max(0, newest - DECISIONS_OVERLAP), self.folder)
                self._decisions_after = newest
                self._decisions_seen = {part.decision.id for part in there if part.decision is not None}
                return
            newest, decided = follow(max(0, self._decisions_after - DECISIONS_OVERLAP), self.folder)
        except PatchCoreError:
            return  # the record away: said where parts are recorded; looked at again next time
        decided = [part for part in decided
                   if part.decision is not None and part.decision.id not in self._decisions_seen]
        self._decisions_after = max(self._decisions_after, newest)
        self._decisions_seen = {number for number in self._decisions_seen
                                if number > self._decisions_after - DECISIONS_OVERLAP}
        for part in decided:
            decision = part.decision
            assert decision is not None
            self._decisions_seen.add(decision.id)
            if self.signals is not None:
                sorted_to = Path(part.record.sorted_path) if part.record.sorted_path else None
                self.signals.decided(decision.verdict, Path(part.record.image_path), decision.time, decision.person,
                                     decision.note, part.record.verdict, sorted_to)
            self._on_decided(part)

    def _say_signals(self, on_notice: Callable[[str], None]) -> None:
        """What the signal command's thread found (a failure, the command working again), said in the line's and
        kept in the audit trail: quality asking why the stack light stayed green finds it there. Not told to the
        command itself, the one that fails."""
        if self.signals is not None:
            for text in self.signals.take_said():
                on_notice(text)
                self._record_change(SIGNAL_COMMAND_AUDITED, self.model.threshold, text, on_notice)

    def _folders_written(self) -> List[Tuple[str, Path]]:
        """The folders whose disks the line needs room on, named by what it keeps there."""
        folders = [("camera folder", self.folder)]
        for what, writer in (("sorted images", self.sorter), ("overlays", self.overlays)):
            if writer is not None:
                folders.append((what, writer.root))
        store_file = getattr(self.recorder, "store_file", None)
        if store_file is not None:
            folders.append(("inspection record", store_file.parent))
        return folders

    def _say_disk_space(self, on_notice: Callable[[str], None]) -> None:
        """A disk nearly full, or with room again, and old OK images removed: said, in the audit trail and told to
        the signal command."""
        for change in self.disk_space.take_changes():
            on_notice(change.said)
            self.audit(change.kind, self.model.threshold, change.detail, on_notice)

    def _note_the_folder_gone_or_back(self, on_notice: Callable[[str], None]) -> None:
        """Quality asking why a line recorded no part for an hour finds the answer in the audit trail."""
        missing = self.watch is not None and self.watch.folder_missing
        if missing != self._folder_was_missing:
            self._folder_was_missing = missing
            self.audit("camera folder gone" if missing else "camera folder back", self.model.threshold,
                       str(self.folder), on_notice)

    def _below(self, part: Path) -> Path:
        """The camera folder's subfolder a part came from (none unless the line watches subfolders)."""
        try:
            return part.parent.relative_to(self.folder)
        except ValueError:  # a path given by hand from elsewhere: sorted by date and verdict alone
            return Path()

    def _refuse_output_it_cannot_write(self) -> None:
        """A sort or overlay folder that is a file, or not this user's to write, is said once at the start, not
        as an error at every part."""
        for what, writer in (("sorted images", self.sorter), ("overlays", self.overlays)):
            if writer is not None:
                refuse_unwritable_folder(writer.root, what)

    def _refuse_output_inside_the_camera_folder(self) -> None:
        """With its subfolders watched, the line would inspect the images it sorts and the overlays it writes."""
        camera = self.folder.resolve()
        for what, writer in (("sorted images", self.sorter), ("overlays", self.overlays)):
            if writer is not None:
                root = writer.root.resolve()
                if root == camera or camera in root.parents:
                    raise PatchCoreError(f"the {what} go into {writer.root}, inside the camera folder {self.folder}, "
                                         "whose subfolders the line watches: it would inspect them again; put them "
                                         "beside the camera folder")

    def _judge_anew(self, on_notice: Callable[[str], None]) -> bool:
        """Take up a handed-over model that inspects as the workers' does (a threshold, review band or
        minimum area moved) at once, without starting them again; False if it needs its own workers."""
        with self._next_lock:
            handed = self._next_model
        if handed is None or handed is not self._considered or not self._considered_alike:
            return False
        with self._next_lock:
            if self._next_model is not handed:  # another was handed over meanwhile: look at that one
                return True
            self._next_model = None
        model, open_recorder, then = handed
        try:
            self._record_under(open_recorder)
        except PatchCoreError as exc:
            _not_taken_up(on_notice, exc)
            return True
        self.model = model  # the verdicts are made here; the workers' scores stay the same
        self._tell(MODEL_TAKEN_UP, _judged_by(model))
        then()
        return True

    def _inspect_with_one_model(self, workers: int, most: int, in_hand: Deque[Future],
                                on_result: Callable[[PartResult], None], on_notice: Callable[[str], None],
                                on_tick: Callable[[], None], turn_shift_for: Callable[[datetime], None]) -> None:
        """Inspect until stopped or handed another model, with the parts in hand concluded."""
        ready, self._ready_workers = self._ready_workers, None
        with side_by_side(self.line_model, workers, self.settings.processes, on_notice,
                          self.settings.queued_per_process, ready, self._stop.is_set) as (
                pool, inspect_paths, most_in_hand, processes):
            self._started_with_new_model()
            self.ready.set()
            if not self._said_started:
                self._said_started = True
                self._tell(LINE_STARTED, f"inspecting the parts in {self.folder}, {_judged_by(self.model)}")
                self._follow_decisions()  # where people's decisions start from: those made from now on are told
                if self._run_going_on is not None:  # after the start, whose program sets a stack light green
                    self._tell(self._run_going_on.kind, self._run_going_on.detail)
            while True:
                on_tick()
                self._note_the_folder_gone_or_back(on_notice)
                self._start_beside(processes, workers, on_notice)
                self._take_parts(pool, inspect_paths, in_hand, workers, most_in_hand, most, on_notice, on_tick)
                while in_hand and in_hand[0].done():
                    for result in in_hand.popleft().result():
                        result = self._in_arrival_order(result)
                        turn_shift_for(result.time)
                        self._conclude(result, on_result, on_notice)
                if not in_hand and self._handed_model_waits() and self._judge_anew(on_notice):
                    continue
                if not in_hand and (self._stop.is_set() or self._handed_model_waits()):
                    break
                # the head is pending here, so is in this list: waiting on every batch in hand would
                # return at once for one done behind it, a busy loop that took the workers' cores
                pending = [future for future in in_hand if not future.done()]
                if len(pending) >= most_in_hand or (in_hand and not self._taking()):
                    wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                elif not in_hand and not self._running.wait(timeout=0.5):
                    continue
                else:
                    self.queue.wait(timeout=0.5)  # a part arrives, or a batch in hand is done (it wakes us)
        self.ready.clear()

    def _taking(self) -> bool:
        return self._running.is_set() and not self._stop.is_set() and not self._handed_model_waits()

    def _handed_model_waits(self) -> bool:
        """Whether a model handed over stops the taking of new parts now: once the line has looked at it,
        unless its workers are starting beside the running ones; when they are ready, to switch."""
        handed = self._next_model
        if handed is None or handed is not self._considered:
            return False
        beside = self._beside
        return beside is None or beside.handed is not handed or beside.ready

    def _start_beside(self, processes: Optional[InspectionProcesses], workers: int,
                      on_notice: Callable[[str], None]) -> None:
        """Look at a model handed over: one with a bank of its own starts its worker processes beside the
        running ones when memory allows (the line goes on inspecting); one that could not start them is
        given up, and the line goes on with the model it had."""
        handed = self._next_model
        beside = self._beside
        if handed is None:
            return
        if handed is self._considered:
            problem = beside.problem() if beside is not None and beside.handed is handed else None
            if problem is not None:
                _not_taken_up(on_notice, problem)
                self._beside = None
                with self._next_lock:
                    if self._next_model is handed:
                        self._next_model = None
            return
        self._considered, self._considered_alike = handed, inspects_alike(self.line_model.model, handed[0])
        if beside is not None:  # started for a model handed over before this one
            beside.discard()
            self._beside = None
        if processes is None or not self.settings.start_beside or self._considered_alike:
            return
        no_room = room_beside(processes)
        if no_room is not None:
            on_notice(f"the new model's inspection processes start once the running ones stop, new parts waiting "
                      f"meanwhile: not enough memory for both ({no_room})")
            return
        on_notice(f"starting the new model's {workers} inspection processes beside the running ones; the line "
                  "goes on inspecting meanwhile")
        self._beside = StartingBeside(handed, handed[0], workers, self.line_model.weights, on_notice,
                                      self.queue.wake)

    def _take_parts(self, pool: ThreadPoolExecutor, inspect_paths: InspectPaths, in_hand: Deque[Future],
                    workers: int, most_in_hand: int, most: int,
                    on_notice: Callable[[str], None], on_tick: Callable[[], None]) -> None:
        """Hand waiting parts to the inspection threads, up to ``most_in_hand`` batches pending, a backlog
        shared out between the ``workers``."""
        ticked = False
        while self._taking() and sum(not f.done() for f in in_hand) < most_in_hand:
            waiting = self.queue.backlog()[0]
            if waiting == 0:
                return
            parts = self.queue.take(min(most, -(-waiting // workers)))  # in hand now: finished even if stopped
            if not ticked:
                on_tick()  # last call before these parts: a threshold moved meanwhile counts for them
                ticked = True
            batch = self._batch(parts, on_notice)
            if batch is None:
                return
            to_inspect, early = batch
            if to_inspect:
                future = pool.submit(self._inspect, inspect_paths, self.model, to_inspect, early)
            else:
                future = Future()
                future.set_result([result for _, result in early])
            future.add_done_callback(lambda _: self.queue.wake())
            in_hand.append(future)

    def _batch(self, parts: List[Part], on_notice: Callable[[str], None]
               ) -> Optional[Tuple[List[Tuple[int, Part, bool]], List[Tuple[int, PartResult]]]]:
        """In the line's thread (the store's): which parts to inspect ``(position, part, already recorded:
        inspect only to sort)``, and the ERRORs known before inspecting; None if stopped while the store
        was away (these parts stay for the next start)."""
        to_inspect: List[Tuple[int, Part, bool]] = []
        early: List[Tuple[int, PartResult]] = []
        for index, part in enumerate(parts):
            problem = _identity_problem(part)
            if problem is not None:
                early.append((index, _error_result(part, self.model.threshold, problem, image_gone=True)))
                continue
            assert part.sha256 is not None
            recorded = self._through_store(part.path, lambda: self.recorder.is_recorded(part.path, part.sha256),
                                           on_notice)
            if recorded is None:
                self.unrecorded += len(parts) - index - 1
                return None
            if recorded:
                self.counters.add_already_recorded()
                if self.sorter is not None and self.sorter.move:
                    to_inspect.append((index, part, True))
                continue
            to_inspect.append((index, part, False))
        return to_inspect, early

    def _inspect(self, inspect_paths: InspectPaths, model: PatchCoreModel, to_inspect: List[Tuple[int, Part, bool]],
                 early: List[Tuple[int, PartResult]]) -> List[PartResult]:
        """In an inspection thread: the batch's results, judged by ``model`` (the rule when it was taken)."""
        started = time.perf_counter()
        outcomes = inspect_paths([part.path for _, part, _ in to_inspect])
        # the inspection's own time where the inspector gives it: the wall time here includes waiting
        # beside a busy worker process
        share_ms = 1000 * (time.perf_counter() - started) / len(to_inspect)
        results = list(early)
        for (index, part, already), outcome in zip(to_inspect, outcomes):
            if outcome.inspection is None:
                result = _error_result(part, model.threshold, outcome.error or f"cannot read '{part.path.name}'")
            else:
                score = outcome.inspection.score
                regions = outcome.inspection.defect_regions(model)
                ms = share_ms if outcome.seconds is None else 1000 * outcome.seconds
                result = PartResult(part.path, _now(), outcome.inspection.verdict(model, regions=regions), score,
                                    model.threshold, None, ms, part.size, part.sha256, part.complete_at,
                                    inspection=outcome.inspection, review_from=model.review_from,
                                    regions=regions.regions, min_defect_area=model.min_defect_area,
                                    unlike=None if already else unlikeness_of_file(
                                        model, part.path, outcome.inspection.patch_scores))
                changed = _identity_problem(part, "changed while it was inspected")
                if changed is not None:
                    result = _error_result(part, model.threshold, changed, image_gone=True)
            results.append((index, replace(result, already_recorded=already)))
        return [result for _, result in sorted(results, key=lambda item: item[0])]

    def _through_store(self, path: Path, action: Callable[[], T], on_notice: Callable[[str], None]) -> Optional[T]:
        """``action()``, retried with the line held while the store cannot answer; None if stopped meanwhile."""
        warned = False
        while True:
            try:
                answer = action()
                if warned:
                    on_notice("the store is back: recording again")
                return answer
            except RecordingFailed as exc:
                on_notice(f"error: cannot record '{path.name}': {exc}; the line waits until the store is back "
                          f"({self.queue.backlog()[0]} parts waiting)")
                warned = True
                if self._stop.wait(self.settings.record_retry_s):
                    on_notice(f"'{path.name}' was not recorded: it stays in the folder for the next start")
                    self.unrecorded += 1
                    return None

    def _in_arrival_order(self, result: PartResult) -> PartResult:
        """Side by side, a part may be done before the part ahead of it; concluded after it (results are recorded
        in arrival order), it takes that part's time, later by at most one inspection. The record's times then
        follow the parts' arrival, and a part never counts in a shift that turned before its record's time: the
        ended shift's counts stay those its records give."""
        if self._last_part_time is not None and result.time < self._last_part_time:
            result = replace(result, time=self._last_part_time)
        self._last_part_time = result.time
        return result

    def _conclude(self, result: PartResult, on_result: Callable[[PartResult], None],
                  on_notice: Callable[[str], None]) -> None:
        """Record (unless it already was), then draw and sort, then report."""
        record = not result.already_recorded
        if record:
            if self._through_store(result.path, lambda: self.recorder.add(result), on_notice) is None:
                return
            result = replace(result, recorded_at=time.time())
            self.counters.add(result.verdict, result.inspection_ms)
            changes = [self.ng_in_a_row.add(result.verdict, result.path, result.time)]
            if result.unlike is not None:
                changes.append(self.unlike_parts.add(self.model, result.unlike, result.time))
            for change in changes:
                if change is not None:
                    on_notice(change.notice())
                    self.audit(change.kind, result.threshold, change.detail, on_notice)
        overlay = sorted_to = pixels = None
        if self.overlays is not None and result.verdict == "NG" and result.inspection is not None and record:
            try:
                pixels = read_image(result.path, self.model.preprocessing.sample_bits)
                rendered = inspection_overlay(pixels, result.inspection, self.model,
                                              threshold=result.threshold, part=result.path.name,
                                              review_from=result.review_from)
                overlay = self.overlays.write(result.path, encode_png(rendered), result.time, self._below(result.path))
            except PatchCoreError as exc:
                on_notice(f"error: no overlay for '{result.path.name}': {exc}")
        if self.sorter is not None and not result.image_gone:
            try:
                sorted_to = self.sorter.sort(result.path, result.verdict, result.time, self._below(result.path))
            except PatchCoreError as exc:
                on_notice(f"error: '{result.path.name}' not sorted (left where it is): {exc}")
            if sorted_to is not None and result.sha256 is not None:
                try:  # not held for: the record stands, and the sort folder still holds the image by date and verdict
                    self.recorder.note_sorted(result.path, result.sha256, sorted_to)
                except RecordingFailed as exc:
                    on_notice(f"error: the record of '{result.path.name}' does not say it went to {sorted_to}: {exc}")
        if record and self.signals is not None:  # a part recorded before was told then
            self.signals.part(result.verdict, result.path, result.time, result.score, result.threshold, sorted_to)
        on_result(replace(result, overlay=overlay, sorted_to=sorted_to, pixels=pixels))


def _judged_by(model: PatchCoreModel) -> str:
    """The rule a part is judged by, in the words of the signal command's ``line-started`` and ``model-taken-up``."""
    review = "" if model.review_from is None else f", review from {model.review_from:.4f}"
    area = f", minimum defect area {model.min_defect_area:g} px" if model.min_defect_area else ""
    return f"threshold {model.threshold:.4f}{review}{area}"


def _not_taken_up(on_notice: Callable[[str], None], why: object) -> None:
    on_notice(f"error: the new model is not taken up ({why}); the line goes on with the model it had")


def _identity_problem(part: Part, changed: str = "replaced before its turn") -> Optional[str]:
    """Why the file is no longer the part that arrived (gone, other bytes), or None if it still is."""
    name = part.path.name
    if part.gone:
        return f"'{name}' was deleted before it was completely written"
    try:
        size, sha256 = file_identity(part.path)
    except ImageReadError as exc:
        return f"'{name}' was deleted before its turn" if not os.path.lexists(part.path) else str(exc)
    if (size, sha256) != (part.size, part.sha256):
        return f"'{name}' was {changed} (other bytes now: {size:,} instead of {part.size:,})"
    return None


def _error_result(part: Part, threshold: float, error: str, image_gone: bool = False) -> PartResult:
    return PartResult(part.path, _now(), "ERROR", None, threshold, error, None, part.size, part.sha256,
                      part.complete_at, image_gone=image_gone)
