"""The History view: what the inspection record holds, filtered; yield per hour; past parts again.

The panel reads the store on a worker thread (:class:`HistoryReader`), never on the UI thread, each
time the filter changes or :meth:`HistoryPanel.refresh` is called; a refresh asked for while one
runs is done once that one ends. It opens the store as a reader: under SQLite's WAL a reader
neither blocks a line that writes nor sees half of a write.

Opening a past part (double-click, or "Open part") hands its image to the window to inspect again
with the model open now, and says so; from where the line sorted it when it is no longer where the
camera wrote it; when it is in neither place, the panel says that plainly, with what the record holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QDateTime, QModelIndex, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDateTimeEdit, QDockWidget, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QMainWindow, QPushButton, QSplitter, QTableView, QTabWidget, QVBoxLayout,
                               QWidget)

from ..core.csv_style import PLAIN, CsvStyle
from ..record import (Decision, ModelChange, PeriodSummary, RecordFilter, StoredInspection, StoreError, Summary,
                      open_store)
from ..record.export import write_changes_csv, write_records_csv, written_what
from ..line.kept_images import OK_IMAGES_REMOVED, removal_of
from ..line.shifts import ShiftPlan
from ..line.sorting import where_the_part_is
from ..record.records import VERDICTS
from ..record.recorder import default_station
from .csv_choice import CsvChoice
from .part_decision import TAUGHT_NOTE, DecisionBar, PartDecider, ask_who_and_why
from .results_model import VERDICT_COLOURS
from .window_record import RecordedAs
from .workers import RunningWorkers, Worker

#: the newest parts listed; the chart and the counts cover the whole selection, an export every part
ROW_LIMIT = 2000
PERIODS: Dict[str, Optional[timedelta]] = {
    "This shift": None, "Previous shift": None,
    "Last hour": timedelta(hours=1), "Last 8 hours": timedelta(hours=8), "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7), "Last 30 days": timedelta(days=30), "Everything": None, "Between…": None}
DEFAULT_PERIOD = "Last 7 days"
#: what a bar of the yield chart spans
YIELD_PER = ("hour", "day", "shift")
ALL = "All"
#: the verdict filter's choice for the parts waiting for a person
REVIEW_UNDECIDED = "REVIEW, undecided"
#: the verdict filter's choices about people's decisions: the machine's verdict, undecided, the newest decision
DECISION_CHOICES: Dict[str, Tuple[Optional[str], bool, Optional[str]]] = {
    REVIEW_UNDECIDED: ("REVIEW", True, None), "Decided OK": (None, False, "OK"), "Decided NG": (None, False, "NG")}
#: typing a part's name reads the store once the typing pauses this long, not at every key
PART_TYPING_PAUSE_MS = 400


@dataclass(frozen=True)
class HistorySnapshot:
    """What one reading of the store found for a filter."""

    rows: List[StoredInspection]
    count: int
    #: the yield per hour, day or shift (the panel's choice), and in total
    yields: Summary
    models: List[Tuple[str, str]]
    exists: bool = True
    stations: List[str] = field(default_factory=list)
    #: the audit trail of the filter's time, station and model, newest first
    changes: List[ModelChange] = field(default_factory=list)
    #: what the yields are per, and the shifts they were read by
    by: str = "hour"
    shifts: ShiftPlan = ShiftPlan()
    #: every removal of sorted OK images a line made, whatever the filter: why an old part's image is gone
    ok_removals: List[ModelChange] = field(default_factory=list)


class HistoryReader(Worker):
    """Reads the newest parts, their count, the yield per hour, day or shift (``by``) and the models of a filter."""

    def __init__(self, target: str, where: RecordFilter, limit: int = ROW_LIMIT, by: str = "hour",
                 shifts: ShiftPlan = ShiftPlan(), every_model: bool = True) -> None:
        """``every_model``: read every part for the models that inspected them (0.7 s for a million parts);
        otherwise the audit trail's models and those of the parts read (a panel asks once, then adds these)."""
        super().__init__()
        self.target, self.where, self.limit, self.by, self.shifts = target, where, limit, by, shifts
        self.every_model = every_model

    def work(self) -> HistorySnapshot:
        try:
            store = open_store(self.target, "history", create=False)
        except StoreError as exc:
            if "no inspection store" in str(exc) or "holds no inspection record" in str(exc):
                return HistorySnapshot([], 0, Summary([], PeriodSummary(None, 0, 0, 0, 0, None)), [], exists=False)
            raise
        with store:
            rows = store.inspections(self.where, self.limit, newest_first=True)
            models = store.models() if self.every_model else sorted(
                set(store.changed_models()) | {(row.record.model_name, row.record.model_sha256) for row in rows})
            return HistorySnapshot(rows, store.count(self.where),
                                   store.summary(self.where, by=self.by, shifts=self.shifts), models,
                                   stations=store.stations(), changes=store.model_changes(self.where)[::-1],
                                   by=self.by, shifts=self.shifts,
                                   ok_removals=store.model_changes(kind=OK_IMAGES_REMOVED))


class HistoryExport(Worker):
    """Writes every part of a filter as CSV (streamed: any number of them), or with ``changes`` its audit trail."""

    def __init__(self, target: str, where: RecordFilter, path: Path, changes: bool = False,
                 style: CsvStyle = PLAIN) -> None:
        super().__init__()
        self.target, self.where, self.path, self.changes, self.style = target, where, path, changes, style

    def work(self) -> Tuple[Path, int, bool]:
        """``(the file, how many rows, whether they are changes)``."""
        with open_store(self.target, "history", create=False) as store:
            if self.changes:
                written = write_changes_csv(self.path, store.model_changes(self.where), style=self.style)
            else:
                written = write_records_csv(self.path, store.iter_inspections(self.where), style=self.style)
        return self.path, written, self.changes


class _RowsModel(QAbstractTableModel):
    """Rows read from the store, one per line of a table under ``HEADERS``."""

    HEADERS: Tuple[str, ...] = ()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._rows: List[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # type: ignore[override]
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # type: ignore[override]
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


class HistoryTableModel(_RowsModel):
    """Recorded parts, newest first: time (local), station, the machine's verdict, a person's decision, score,
    threshold, model, file."""

    HEADERS = ("Time", "Station", "Verdict", "Decided", "Score", "Threshold", "Model", "File")

    def row(self, index: int) -> StoredInspection:
        return self._rows[index]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        stored = self._rows[index.row()]
        record = stored.record
        decision = stored.decision
        if role == Qt.ItemDataRole.DisplayRole:
            return (record.time.astimezone().strftime("%Y-%m-%d %H:%M:%S"), stored.station, record.verdict,
                    "" if decision is None else f"{decision.verdict} by {decision.person}",
                    "-" if record.score is None else f"{record.score:.4f}", f"{record.threshold:.4f}",
                    record.model_name, Path(record.image_path).name)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 3 and decision is not None:
                return f"{decision.said()}, at {decision.station}"
            return record.error or record.where
        if role == Qt.ItemDataRole.ForegroundRole and index.column() in (2, 3):
            verdict = record.verdict if index.column() == 2 else stored.final_verdict
            return VERDICT_COLOURS[verdict]
        return None


class ChangesTableModel(_RowsModel):
    """The audit trail, newest first: what changed the verdicts or stopped the parts, when, where, with which
    model and threshold (a line started, a threshold moved, a model taken up, the camera folder gone...)."""

    HEADERS = ("Time", "Station", "What", "Model", "Threshold", "Detail")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        change = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (change.time.astimezone().strftime("%Y-%m-%d %H:%M:%S"), change.station, change.kind,
                    f"{change.model_name} ({change.model_sha256[:8]})", f"{change.threshold:.4f}",
                    change.detail)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return change.detail or None
        return None


def _table_of(model: _RowsModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class YieldChart(pg.PlotWidget):
    """Yield per hour, day or shift of the selection as bars (local time on the axis): the machine's verdicts, and
    where people decided parts of a period, a dark mark at its yield after their decisions."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.setBackground("w")
        self.setLabel("left", "yield", units="%")
        self.setYRange(0, 100)
        self.setMouseEnabled(x=True, y=False)
        self.bars = pg.BarGraphItem(x0=[], x1=[], height=[], brush=pg.mkBrush(VERDICT_COLOURS["OK"]))
        self.addItem(self.bars)
        self.decided = pg.ScatterPlotItem(symbol="_", size=28, pen=pg.mkPen("k", width=1), brush=pg.mkBrush("k"))
        self.addItem(self.decided)
        # zoomed to hours the axis says times only: the days shown are said under it, the range panned or not
        self.getPlotItem().sigXRangeChanged.connect(self._label_axis)
        self.starts: np.ndarray = np.zeros(0)
        self.ends: np.ndarray = np.zeros(0)
        self.yields: np.ndarray = np.zeros(0)
        #: of the periods where people decided parts: their middle, and the yield after the decisions
        self.decided_at: np.ndarray = np.zeros(0)
        self.yields_after_decisions: np.ndarray = np.zeros(0)

    def show_summary(self, summary: Summary, by: str = "hour", shifts: ShiftPlan = ShiftPlan()) -> None:
        periods = [p for p in summary.periods if p.start is not None and p.yield_ is not None]
        self.starts = np.array([p.start.timestamp() for p in periods], float)
        self.ends = np.array([_period_end(p.start, by, shifts).timestamp() for p in periods], float)
        self.yields = np.array([100 * p.yield_ for p in periods], float)
        gap = 0.05 * (self.ends - self.starts)  # bars apart, each over its own period
        self.bars.setOpts(x0=self.starts + gap, x1=self.ends - gap, height=self.yields)
        decided = np.array([period.decided for period in periods], bool)
        self.decided_at = ((self.starts + self.ends) / 2)[decided]
        self.yields_after_decisions = np.array([100 * (p.yield_after_decisions or 0) for p in periods], float)[decided]
        self.decided.setData(x=self.decided_at, y=self.yields_after_decisions)
        self._label_axis()
        if len(self.starts):
            self.setXRange(self.starts.min(), self.ends.max(), padding=0.02)

    def _label_axis(self, *_changed: object) -> None:
        """The days shown under the axis, and what the marks are where there are any (no room for a legend over
        the bars)."""
        marks = "; ▬ yield after people's decisions" if len(self.decided_at) else ""
        self.setLabel("bottom", days_shown(*self.viewRange()[0]) + marks)

    def show_span(self, since: Optional[datetime], until: Optional[datetime]) -> None:
        """No bars: the time the filter asks about on the axis (a day back when it has no start), not the
        axis' own 0 to 1 s of 1970, read as ``00.050 00.100 ...``."""
        end = until or datetime.now(timezone.utc)
        self.bars.setOpts(x0=[], x1=[], height=[])
        self.decided.setData(x=[], y=[])
        self.decided_at = self.yields_after_decisions = np.zeros(0)
        self.setXRange((since or end - timedelta(days=1)).timestamp(), end.timestamp(), padding=0.02)


def days_shown(start: float, end: float) -> str:
    """The local day, or first and last day, of a span of the chart's axis (seconds since 1970)."""
    try:
        first, last = (datetime.fromtimestamp(moment).date() for moment in (start, end))
    except (OverflowError, OSError, ValueError):  # panned past the years a date can hold
        return ""
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _period_end(start: datetime, by: str, shifts: ShiftPlan) -> datetime:
    if by == "shift":
        return shifts.next_start(start) or start + timedelta(days=1)
    # local days and hours; a day a clock change shortens or lengthens is drawn 24 hours wide
    return start + (timedelta(days=1) if by == "day" else timedelta(hours=1))


class HistoryPanel(QWidget):
    """Filters, the yield chart, the newest parts, and the actions on them."""

    #: an image to inspect again with the open model: its path now, and its record (RecordedAs)
    reopen = Signal(Path, object)
    #: a read finished (tests wait on it)
    loaded = Signal()
    #: an export ended: a line for people
    exported = Signal(str)
    #: a person's decision was recorded: (the part as it was read, the decision), for the Line tab's list too
    decided = Signal(object, object)
    #: what became of a decision, for the window's status bar (the dock may be hidden)
    said = Signal(str)

    def __init__(self, target: str, parent: Optional[QWidget] = None,
                 shifts: Callable[[], ShiftPlan] = ShiftPlan, csv_choice: Optional[CsvChoice] = None,
                 station: Callable[[], str] = default_station) -> None:
        """``shifts``: when the plant's shifts start, as the line panel was last told (none: a shift is a day).
        ``csv_choice``: asks where an export goes and whom it is for (the window's, with its settings).
        ``station``: where a person's decision is made (the window's station)."""
        super().__init__(parent)
        self.target = target
        self.station = station
        self.shifts = shifts
        self.csv_choice = csv_choice if csv_choice is not None else CsvChoice(QSettings())
        self.snapshot: Optional[HistorySnapshot] = None
        self._running = RunningWorkers(self)  # the reads and exports
        self._reading = False
        self._asked = RecordFilter()  # the filter of the last read asked for
        self._again = False
        self._models_offered: Set[Tuple[str, str]] = set()
        self._recorded_said = ""
        #: the part last opened from the list (its id), and where the list stood at a decision: (the decided part's
        #: id, its row, whether it was the opened one), so that a person deciding part after part goes on from there
        self._opened_id: Optional[int] = None
        self._deciding_row: Optional[int] = None
        self._place: Optional[Tuple[int, int, bool]] = None

        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.period.setCurrentText(DEFAULT_PERIOD)
        self.period.setToolTip("This shift and Previous shift follow the Line tab's 'Shifts start at' (without "
                               "it, a shift is a day)")
        now = QDateTime.currentDateTime()
        self.since_edit = QDateTimeEdit(now.addDays(-1), calendarPopup=True)
        self.until_edit = QDateTimeEdit(now, calendarPopup=True)
        for edit in (self.since_edit, self.until_edit):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.dateTimeChanged.connect(self.refresh)
        self.verdict = QComboBox()
        self.verdict.addItems([ALL, *VERDICTS, *DECISION_CHOICES])
        for choice, tip in ((REVIEW_UNDECIDED, "REVIEW parts nobody has decided yet"),
                            ("Decided OK", "Parts a person passed, whatever the machine's verdict (NG or REVIEW "
                                           "parts passed: the false rejects to teach)"),
                            ("Decided NG", "Parts a person rejected, whatever the machine's verdict")):
            self.verdict.setItemData(self.verdict.findText(choice), tip, Qt.ItemDataRole.ToolTipRole)
        self.per = QComboBox()
        for by in YIELD_PER:
            self.per.addItem(f"per {by}", by)
        self.per.setToolTip("The chart's bars: the yield per hour, day, or shift (by the Line tab's 'Shifts start "
                            "at')")
        self.model_box = QComboBox()
        self.model_box.addItem(ALL, None)
        self.model_box.setMinimumContentsLength(16)
        self.station_box = QComboBox()
        self.station_box.addItem(ALL, None)
        self.station_box.setMinimumContentsLength(8)
        self.part_edit = QLineEdit()
        hint = "file name, serial or sha256"
        self.part_edit.setPlaceholderText(hint)
        self.part_edit.setClearButtonEnabled(True)
        self.part_edit.setMinimumWidth(self.part_edit.fontMetrics().horizontalAdvance(hint) + 40)
        self.part_edit.setToolTip("Only parts whose image path holds this text (any case), or whose sha256 starts "
                                  "with it (8 digits or more)")
        self._part_typed = QTimer(self, singleShot=True, interval=PART_TYPING_PAUSE_MS)
        self._part_typed.timeout.connect(self.refresh)
        self.part_edit.textChanged.connect(self._part_typed.start)
        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open part")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Every part of the filter as CSV; on the Changes tab, its changes")
        for box in (self.period, self.verdict, self.model_box, self.station_box, self.per):
            box.currentIndexChanged.connect(self.refresh)
        self.period.currentIndexChanged.connect(self._show_period_edits)
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_selected)
        self.export_button.clicked.connect(self.export_dialog)

        # two rows, so that the panel fits a 1,280-pixel line PC screen with a custom period shown
        when, which = QHBoxLayout(), QHBoxLayout()
        self._until_label = QLabel("to")
        for row, label, widget in ((when, "Time", self.period), (when, None, self.since_edit),
                                   (when, self._until_label, self.until_edit), (when, "Verdict", self.verdict),
                                   (when, "Yield", self.per),
                                   (which, "Station", self.station_box), (which, "Model", self.model_box),
                                   (which, "Part", self.part_edit)):
            if label:
                row.addWidget(label if isinstance(label, QLabel) else QLabel(label))
            row.addWidget(widget)
        when.addStretch(1)
        which.addStretch(1)
        for button in (self.refresh_button, self.open_button, self.export_button):
            which.addWidget(button)

        self.chart = YieldChart()
        self.table_model = HistoryTableModel(self)
        self.table = _table_of(self.table_model)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.doubleClicked.connect(self._double_clicked)
        self.changes_model = ChangesTableModel(self)
        self.changes_table = _table_of(self.changes_model)
        # the parts and what happened to the line beside them, one tab each: a gap in the parts is explained
        # by a change (the camera folder gone, a model taken up) without leaving the window
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Parts")
        self.tabs.addTab(self.changes_table, "Changes")
        #: asks who decides a line's part and why (a dialog; tests answer it themselves)
        self.ask_who_and_why = ask_who_and_why
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.decision_bar = DecisionBar(self.csv_choice.settings)
        self.decision_bar.asked.connect(self.decide_selected)
        self.decision_bar.refused.connect(self.status.setText)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.chart)
        split.addWidget(self.tabs)
        split.setSizes([160, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(when)
        layout.addLayout(which)
        layout.addWidget(split, 1)
        layout.addWidget(self.decision_bar)
        layout.addWidget(self.status)
        self._show_period_edits()

    # -- the filter ---------------------------------------------------------------------------------

    def record_filter(self) -> RecordFilter:
        span = PERIODS[self.period.currentText()]
        since = until = None
        if self.period.currentText() == "Between…":
            since = self.since_edit.dateTime().toPython().astimezone()
            until = self.until_edit.dateTime().toPython().astimezone()
        elif self.period.currentText().endswith("shift"):
            since, until = self._shift(previous=self.period.currentText() == "Previous shift")
        elif span is not None:
            since = datetime.now(timezone.utc) - span
        choice = self.verdict.currentText()
        verdict, undecided, decided = DECISION_CHOICES.get(choice, (None if choice == ALL else choice, False, None))
        return RecordFilter(since=since, until=until, verdict=verdict, model=self.model_box.currentData(),
                            station=self.station_box.currentData(), part=self.part_edit.text().strip() or None,
                            undecided=undecided, decided=decided)

    def _shift(self, previous: bool) -> Tuple[datetime, Optional[datetime]]:
        plan = self._plan()
        now = datetime.now().astimezone()
        start = plan.start_of(now)
        assert start is not None  # a plan with a start has one in every day
        if not previous:
            return start, None
        before = plan.start_of(start - timedelta(microseconds=1))
        assert before is not None
        return before, start

    def _plan(self) -> ShiftPlan:
        plan = self.shifts()
        return plan if plan.starts else ShiftPlan.parse("00:00")  # without the Line tab's starts, a shift is a day

    def _show_period_edits(self) -> None:
        custom = self.period.currentText() == "Between…"
        for widget in (self.since_edit, self._until_label, self.until_edit):
            widget.setVisible(custom)

    # -- reading --------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the store again for the filter as it is (on a worker; once more if one is running)."""
        if self._reading:
            self._again = True
            return
        self._reading = True
        # every model once; after that a new one comes with the audit trail's entry of the recorder that opened
        # it, or with its parts (each refresh reading every part for its model took 0.7 s per million parts)
        self._asked = self.record_filter()
        worker = HistoryReader(self.target, self._asked, by=self.per.currentData(), shifts=self._plan(),
                               every_model=not self._models_offered)
        worker.finished.connect(self._loaded)
        worker.failed.connect(self._failed)
        self._start(worker)

    def _start(self, worker: Worker) -> None:
        self._running.start(worker)

    def _read_ended(self) -> None:
        self._reading = False
        if self._again:
            self._again = False
            self.refresh()
        self.loaded.emit()

    def _loaded(self, snapshot: HistorySnapshot) -> None:
        self.snapshot = snapshot
        selected = self._selected_part_id()
        self.table_model.set_rows(snapshot.rows)
        # the list is read again after each part the window records (a part opened again, say): the part a person
        # selected stays selected
        self._select_part(selected)
        self.changes_model.set_rows(snapshot.changes)
        self.tabs.setTabText(1, f"Changes ({len(snapshot.changes):,})")
        self.chart.show_summary(snapshot.yields, snapshot.by, snapshot.shifts)
        if not snapshot.yields.periods:
            self.chart.show_span(self._asked.since, self._asked.until)
        self._models_offered |= set(snapshot.models)
        self._offer(self.model_box, [(f"{name} ({sha[:8]})", sha) for name, sha in sorted(self._models_offered)])
        self._offer(self.station_box, [(station, station) for station in snapshot.stations])
        total = snapshot.yields.total
        if not snapshot.exists:
            self.status.setText(f"Nothing recorded yet in {self.target}")
        elif not snapshot.count:
            period = self.period.currentText()
            older = (f" (only the {period.lower()} are searched: \"Everything\" reaches older parts)"
                     if PERIODS[period] is not None else "")
            self.status.setText(f"No recorded part matches this filter{older}")
        else:
            shown = f"newest {len(snapshot.rows):,} of {snapshot.count:,} parts listed" \
                if snapshot.count > len(snapshot.rows) else f"{snapshot.count:,} parts"
            median = "" if total.median_ms is None else f", median {total.median_ms:.1f} ms"
            review = f", {total.review:,} REVIEW ({total.review_open:,} undecided)" if total.review else ""
            decided = (f"; after people's decisions {total.ok_after_decisions:,} OK, yield "
                       f"{100 * (total.yield_after_decisions or 0):.2f}%" if total.decided else "")
            self.status.setText(f"{self._recorded_said}{shown}: {total.ok:,} OK, {total.ng:,} NG{review}, "
                                f"{total.errors:,} errors, yield {100 * (total.yield_ or 0):.2f}%{median}{decided}")
        self._recorded_said = ""
        self._go_on_after_decision()
        self._read_ended()

    def _go_on_after_decision(self) -> None:
        """After a decision from the bar, the next part is selected (the one below it, or the one that took its
        place when it left the filter, as REVIEW, undecided does), and opened when the decided one was."""
        if self._again:  # read before the decision: the read after it goes on
            return
        place, self._place = self._place, None
        if place is None:
            return
        decided_id, row, opened = place
        ids = [self.table_model.row(number).id for number in range(self.table_model.rowCount())]
        following = ids.index(decided_id) + 1 if decided_id in ids else row
        if following >= len(ids):
            self.status.setText(f"{self.status.text()} That was the last part of the list.")
            return
        self._select_part(ids[following])
        if opened:
            self.status.setText(f"{self.status.text()} {self.open_row(following, say=False)}")

    def _selected_part_id(self) -> Optional[int]:
        rows = self.table.selectionModel().selectedRows()
        return self.table_model.row(rows[0].row()).id if rows else None

    def _select_part(self, part_id: Optional[int]) -> None:
        """Select the listed part of ``part_id``, and show its row; nothing when it is not listed."""
        for number in range(self.table_model.rowCount()):
            if self.table_model.row(number).id == part_id:
                self.table.selectRow(number)
                self.table.scrollTo(self.table_model.index(number, 0))
                return

    def _failed(self, message: str) -> None:
        self.status.setText(f"Cannot read the inspection record: {message}")
        self.chart.show_span(self._asked.since, self._asked.until)
        self._read_ended()

    @staticmethod
    def _offer(box: QComboBox, wanted: Sequence[Tuple[str, Any]]) -> None:
        """Offer what the store holds after "All", keeping the choice (rebuilt only when it changed)."""
        present = [(box.itemText(i), box.itemData(i)) for i in range(1, box.count())]
        if list(wanted) == present:
            return
        chosen = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(ALL, None)
        for text, data in wanted:
            box.addItem(text, data)
        box.setCurrentIndex(max(box.findData(chosen), 0))
        box.blockSignals(False)

    # -- a past part again ----------------------------------------------------------------------------

    def _double_clicked(self, index: QModelIndex) -> None:
        self.open_row(index.row())

    def open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_row(rows[0].row())
        else:
            self.status.setText("Select a part in the list first")

    def open_row(self, row: int, say: bool = True) -> str:
        """Inspect the part of ``row`` again with the open model; what became of it, in the panel's status unless
        not ``say``."""
        stored = self.table_model.row(row)
        record = stored.record
        # a line that moved its images into a sort folder noted where each went
        sorted_path = Path(record.sorted_path) if record.sorted_path else None
        path = where_the_part_is(Path(record.image_path), sorted_path)
        score = "no score" if record.score is None else f"score {record.score:.4f}"
        recorded = (f"recorded {record.time.astimezone():%Y-%m-%d %H:%M:%S} on {stored.station}: {record.verdict}, "
                    f"{score}, model {record.model_name}, threshold {record.threshold:.4f}")
        if not path.is_file():
            where = " or ".join(str(place) for place in (record.image_path, sorted_path) if place)
            removal = removal_of(sorted_path, self.snapshot.ok_removals) if sorted_path and self.snapshot else None
            why = ("" if removal is None else f": {removal.station}'s line removed it on "
                   f"{removal.time.astimezone():%Y-%m-%d %H:%M} with its day's sorted OK images ({removal.detail})")
            said = f"The image is no longer at {where}{why}, so it cannot be shown again ({recorded})."
        else:
            changed = record.file_size is not None and path.stat().st_size != record.file_size
            note = (" The file has changed since (its size differs): this is not the part that was recorded."
                    if changed else "")
            said = f"Inspecting {path.name} again with the model open now ({recorded}).{note}"
            self._opened_id = stored.id
            self.reopen.emit(path, RecordedAs(stored.station, record.image_path))
        if say:
            self.status.setText(said)
        return said

    # -- a person's verdict --------------------------------------------------------------------------

    def decide_selected(self, verdict: str, person: str, note: str = "") -> None:
        """Record ``person``'s verdict on the selected part (on a worker), then read the list again."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.status.setText("Select a part in the list first")
            return
        self._record_decision(PartDecider(self.target, self.station(), self.table_model.row(rows[0].row()), verdict,
                                          person, note))
        self._deciding_row = rows[0].row()

    def decide_recorded(self, image_path: Path, verdict: str) -> None:
        """A person's verdict on the part this station recorded at ``image_path`` (a line's part, from the Line
        tab), asking who decides and why first."""
        asked = self.ask_who_and_why(self, self.csv_choice.settings, verdict, image_path.name)
        if asked is not None:
            self.record_decision(image_path, verdict, *asked)

    def record_decision(self, image_path: Path, verdict: str, person: str, note: str = "",
                        recorded_by: Optional[str] = None) -> None:
        """Record ``person``'s verdict on the part this station (or ``recorded_by``) recorded at ``image_path``
        (on a worker)."""
        self._record_decision(PartDecider(self.target, self.station(), str(image_path.absolute()), verdict, person,
                                          note, recorded_by))

    def _record_decision(self, worker: PartDecider) -> None:
        self._deciding_row = None  # the list's place, for a decision from the bar
        # bound methods, not lambdas: a lambda would run on the worker's thread
        worker.finished.connect(self._decided)
        worker.failed.connect(self._not_decided)
        self._start(worker)

    def _decided(self, outcome: Tuple[StoredInspection, Decision]) -> None:
        part, decision = outcome
        self.decision_bar.decided()
        # said above the counts the read that follows writes
        teach = (" So that the model passes such parts itself: Open part, then Model > This part is good."
                 if decision.verdict == "OK" and part.record.verdict in ("NG", "REVIEW")
                 and not decision.note.startswith(TAUGHT_NOTE) else "")
        self._recorded_said = (f"Recorded: {Path(part.record.image_path).name} "
                               f"{decision.said_against(part.record.verdict)}.{teach} ")
        self.said.emit(self._recorded_said.strip())
        if self._deciding_row is not None:
            self._place = (part.id, self._deciding_row, part.id == self._opened_id)
        self.decided.emit(part, decision)
        self.refresh()

    def _not_decided(self, message: str) -> None:
        self.status.setText(f"Could not record the decision: {message}")
        self.said.emit(self.status.text())

    # -- export ---------------------------------------------------------------------------------------

    def _showing_changes(self) -> bool:
        return self.tabs.currentWidget() is self.changes_table

    def export_dialog(self) -> None:
        """Export what the shown tab lists: the parts, or the changes."""
        title, name = (("Export the changes", "changes.csv") if self._showing_changes()
                       else ("Export the record", "inspections.csv"))
        chosen = self.csv_choice.ask(self, title, str(Path.home() / name))
        if chosen is not None:
            self.export_csv(*chosen)

    def export_csv(self, path: Path, style: CsvStyle = PLAIN) -> None:
        """Write every part of the current filter (on the Changes tab: its audit trail) to ``path`` on a worker;
        ``exported`` says how it went."""
        changes = self._showing_changes()
        worker = HistoryExport(self.target, self.record_filter(), path, changes, style)
        # a bound method: a lambda would run on the worker's thread and set the status from there
        worker.finished.connect(self._wrote)
        worker.failed.connect(self._export_failed)
        self._start(worker)

    def _wrote(self, outcome: Tuple[Path, int, bool]) -> None:
        path, count, changes = outcome
        self._exported(f"Wrote {written_what(count, 'change' if changes else 'part')} to {path}")

    def _export_failed(self, message: str) -> None:
        self._exported(f"Cannot export: {message}")

    def _exported(self, message: str) -> None:
        self.status.setText(message)
        self.exported.emit(message)

    def refresh_if_visible(self) -> None:
        if self.isVisible():
            self.refresh()

    def shutdown(self) -> None:
        """Wait for running reads and exports (the window is closing)."""
        self._running.wait()


def install_history_dock(window: QMainWindow, panel: HistoryPanel) -> QDockWidget:
    """Put ``panel`` into a dock at the bottom of ``window``, hidden, shown by View > History (Ctrl+H);
    it reads the store each time it is shown."""
    dock = QDockWidget("History", window)
    dock.setObjectName("history_dock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setText("&History")
    toggle.setShortcut(QKeySequence("Ctrl+H"))
    toggle.setStatusTip("Every part inspected here, from the inspection record: filter, yield per hour, export")
    window.addAction(toggle)
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text().replace("&", "") == "View":
            action.menu().addAction(toggle)
    dock.visibilityChanged.connect(panel.refresh_if_visible)
    dock.visibilityChanged.connect(lambda visible: visible and _float_if_the_screen_is_short(window, dock))
    return dock


def _float_if_the_screen_is_short(window: QMainWindow, dock: QDockWidget) -> None:
    """Docked under the window, the view adds its own least height to the window's: 791 px in all, past a
    1366 x 768 line-PC screen, which then showed the window's top only. There it opens in a window of its
    own instead, as tall as the screen allows (it can be docked again by hand)."""
    screen = (window.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    title_bar = max(window.frameGeometry().height() - window.height(), 30)
    if dock.isFloating() or window.minimumSizeHint().height() + title_bar <= screen.height():
        return
    dock.setFloating(True)
    if not window.isMaximized() and window.height() + title_bar > screen.height():  # grown by the docked view
        # once its layout has let the view go: until then the window cannot be smaller
        QTimer.singleShot(0, lambda: window.resize(window.width(), screen.height() - title_bar))
    height = min(max(dock.sizeHint().height(), screen.height() // 2), screen.height() - title_bar)
    width = min(max(dock.sizeHint().width(), window.width()), screen.width())
    dock.setGeometry(screen.left() + (screen.width() - width) // 2, screen.bottom() - height - title_bar + 1,
                     width, height)
