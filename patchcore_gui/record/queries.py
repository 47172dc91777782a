"""Reading the record back: filtered inspections, the audit trail, and yield summaries per hour, day or shift.

One function per question, each one query, the same SQL on SQLite and PostgreSQL. Periods are the
reader's local time (this PC's zone unless one is given); the store itself holds UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Tuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from ..line.shifts import ShiftPlan
from .schema import (PATH_SEARCH, QUARTER_US, SHA256_START, decisions, inspections, model_changes, path_search,
                     quarter_of, sha256_start)
from .records import DECIDED_VERDICTS, VERDICTS, InspectionRecord, from_time_us, to_time_us

PERIODS = ("hour", "day", "shift")
_HEXADECIMAL = re.compile("[0-9a-f]+")


class not_by_index(sa.sql.functions.GenericFunction):  # noqa: N801  (used as a function in expressions)
    """A column whose term SQLite's planner may not serve from an index (``+station``; as it is elsewhere).

    Without statistics SQLite took the station for selective and read a station's parts through the unique
    index on station and path, then sorted them: the History view filtered to its one station listed the
    newest parts of 7 days of a million-part store in 1.1 s, against 29 ms unfiltered. Kept off that index,
    the station is a filter on the time and summary indexes, as the plain query uses them.
    """

    inherit_cache = True
    type = sa.String()


@compiles(not_by_index)
def _as_it_is(element: not_by_index, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(not_by_index, "sqlite")
def _unary_plus(element: not_by_index, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


@dataclass(frozen=True)
class RecordFilter:
    """Which records: a time range [since, until), a verdict, a model (name or sha256 prefix), a station,
    a part (text anywhere in its image's path, any case: cameras name the file after the part's serial
    number; or the start of the image's sha256)."""

    since: Optional[datetime] = None
    until: Optional[datetime] = None
    verdict: Optional[str] = None
    model: Optional[str] = None
    station: Optional[str] = None
    part: Optional[str] = None
    #: one record by its id (``patchcore log --id``)
    id: Optional[int] = None
    #: only parts nobody has decided yet (with verdict REVIEW: the parts waiting for a person)
    undecided: bool = False
    #: only parts whose newest decision is this verdict, OK or NG (a false reject a person passed: NG, decided OK)
    decided: Optional[str] = None

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {self.verdict!r}")
        if self.decided is not None and self.decided not in DECIDED_VERDICTS:
            raise ValueError(f"a decided verdict is OK or NG, not {self.decided!r}")
        if self.decided is not None and self.undecided:
            raise ValueError("a part cannot be both undecided and decided")

    def clauses(self, table: sa.Table, absent: FrozenSet[str] = frozenset()) -> List[sa.ColumnElement[bool]]:
        """The filter as SQL terms on ``table``; ``absent``: the tables and columns the store lacks."""
        where: List[sa.ColumnElement[bool]] = []
        if self.since is not None:
            where.append(table.c.time_us >= to_time_us(self.since))
        if self.until is not None:
            where.append(table.c.time_us < to_time_us(self.until))
        if self.verdict is not None and "verdict" in table.c:
            where.append(table.c.verdict == self.verdict)
        if self.model:
            where.append(sa.or_(table.c.model_name == self.model,
                                table.c.model_sha256.startswith(self.model.lower(), autoescape=True)))
        if self.station:
            where.append(not_by_index(table.c.station) == self.station)
        if self.id is not None and "image_path" in table.c:
            where.append(table.c.id == self.id)
        if self.undecided and "image_path" in table.c:
            decided = decisions.alias("any_decision")  # the listing joins the newest decision itself
            where.append(~sa.exists().where(decided.c.inspection_id == table.c.id))
        if self.decided is not None and "image_path" in table.c:
            # from the decisions to their parts (few against the parts), each decision the newest on its part
            each = decisions.alias("decided_as")
            newest = sa.select(each.c.inspection_id).where(
                each.c.verdict == self.decided, each.c.id == _newest_decision_of(each.c.inspection_id, each))
            where.append(table.c.id.in_(newest))
        if self.part_text and "image_path" in table.c:
            where.append(_part_is(self.part_text, table, absent))
        return where

    @property
    def part_text(self) -> str:
        """The part's text as it is searched for: without the spaces around it, in lower case."""
        return (self.part or "").strip().lower()


#: A part's text found in more paths than this is searched for in every part, newest first, without the trigrams:
#: each path they find is one more row to read and sort (4 us each on SQLite; the newest 2,000 parts of a million
#: in 3.3 s for the text "png", against 0.35 s reading every part), while reading in time order stops at 2,000.
COMMON_PART_TEXT = 20_000


def common_part_text(connection: sa.Connection, part: str) -> bool:
    """Whether the trigrams find ``part`` in :data:`COMMON_PART_TEXT` paths or more (counted only that far:
    2 ms a thousand on SQLite). PostgreSQL's planner weighs this itself, from its statistics."""
    found = sa.select(path_search.c.rowid).where(path_search.c.image_path.like(f"%{part}%")).limit(COMMON_PART_TEXT)
    return int(connection.execute(sa.select(sa.func.count()).select_from(found.subquery())).scalar_one()) \
        >= COMMON_PART_TEXT


def _part_is(part: str, table: sa.Table, absent: FrozenSet[str]) -> sa.ColumnElement[bool]:
    """The part whose image path holds ``part`` (lower case), or whose sha256 starts with it (8 digits or more),
    each from its index (schema version 6) where the store has it."""
    # lower() on both sides: SQLite's LIKE ignores case and PostgreSQL's does not (whose trigram index is on
    # lower(image_path): it serves this very term)
    in_path = sa.func.lower(table.c.image_path).contains(part, autoescape=True)
    if PATH_SEARCH not in absent and len(part) >= 3:  # fewer letters than a trigram: the index would be read whole
        # the trigrams narrow the search to a few candidates (their LIKE takes % and _ as wildcards: more, not
        # fewer), the term above says which are the part
        candidates = sa.select(path_search.c.rowid).where(path_search.c.image_path.like(f"%{part}%"))
        in_path = sa.and_(table.c.id.in_(candidates), in_path)
    if len(part) < SHA256_START or not _HEXADECIMAL.fullmatch(part):
        return in_path
    return sa.or_(in_path, sa.and_(sha256_start(table.c.sha256) == part[:SHA256_START],
                                   table.c.sha256.startswith(part, autoescape=True)))


@dataclass(frozen=True)
class StoredInspection:
    """A record as read back: its id and the station that wrote it, beside what was recorded."""

    id: int
    station: str
    record: InspectionRecord
    #: a person's newest verdict on it after looking, None while nobody decided
    decision: Optional["Decision"] = None

    @property
    def final_verdict(self) -> str:
        """The verdict the part goes by: a person's where one decided, else the machine's."""
        return self.decision.verdict if self.decision is not None else self.record.verdict


@dataclass(frozen=True)
class Decision:
    """A person's verdict on a recorded part, after looking at it."""

    id: int
    time: datetime
    #: where it was decided
    station: str
    verdict: str
    person: str
    note: str = ""

    def said(self) -> str:
        """``NG by A. Meyer 2026-12-02 08:01 (a scratch)``, in this PC's time."""
        note = f" ({self.note})" if self.note else ""
        return f"{self.verdict} by {self.person} {self.time.astimezone():%Y-%m-%d %H:%M}{note}"

    def said_against(self, machine_verdict: str) -> str:
        """``(the machine's verdict NG) decided OK by A. Meyer 2026-12-02 08:01 (a scratch)``: as History and a
        line's console say it after the part's name."""
        return f"(the machine's verdict {machine_verdict}) decided {self.said()}"


@dataclass(frozen=True)
class ModelChange:
    """One entry of the audit trail."""

    id: int
    time: datetime
    station: str
    kind: str
    model_sha256: str
    model_name: str
    threshold: float
    detail: str


@dataclass(frozen=True)
class PeriodSummary:
    """Counts of one period (``start`` in the reader's zone; None for a total); yield is OK over all parts
    (a part sent to REVIEW has not passed yet)."""

    start: Optional[datetime]
    count: int
    ok: int
    ng: int
    errors: int
    median_ms: Optional[float]
    review: int = 0
    #: people's newest decisions against the machine's verdict: parts it did not pass decided OK, OK parts
    #: decided NG; and REVIEW parts decided either way
    decided_ok: int = 0
    ok_decided_ng: int = 0
    review_decided: int = 0

    @property
    def yield_(self) -> Optional[float]:
        return self.ok / self.count if self.count else None

    @property
    def review_open(self) -> int:
        """REVIEW parts nobody has decided yet."""
        return self.review - self.review_decided

    @property
    def ok_after_decisions(self) -> int:
        """The parts that passed once people decided: the machine's OK parts, less those decided NG, and the
        others decided OK."""
        return self.ok - self.ok_decided_ng + self.decided_ok

    @property
    def yield_after_decisions(self) -> Optional[float]:
        return self.ok_after_decisions / self.count if self.count else None

    @property
    def decided(self) -> bool:
        """Whether any decision changed what passed or closed a REVIEW part in this period."""
        return bool(self.decided_ok or self.ok_decided_ng or self.review_decided)


@dataclass(frozen=True)
class Summary:
    """The periods that had parts, oldest first (none unless asked ``by`` hour or day), and the total."""

    periods: List[PeriodSummary]
    total: PeriodSummary


class _Tally:
    """Counts and inspection times (whole microseconds, as comma-joined text) while a summary is read."""

    def __init__(self) -> None:
        self.count = self.ok = self.ng = self.review = 0
        self.decided_ok = self.ok_decided_ng = self.review_decided = 0
        self.ms_text: List[str] = []

    def add(self, count: int, ok: int, ng: int, review: int, ms_text: Optional[str]) -> None:
        self.count += count
        self.ok += ok
        self.ng += ng
        self.review += review
        if ms_text:
            self.ms_text.append(ms_text)

    def add_decided(self, decided_ok: int, ok_decided_ng: int, review_decided: int) -> None:
        self.decided_ok += decided_ok
        self.ok_decided_ng += ok_decided_ng
        self.review_decided += review_decided

    def summary(self, start: Optional[datetime]) -> PeriodSummary:
        median = None
        if self.ms_text:
            median = float(np.median(np.fromstring(",".join(self.ms_text), dtype=np.int64, sep=","))) / 1000
        return PeriodSummary(start, self.count, self.ok, self.ng, self.count - self.ok - self.ng - self.review, median,
                             self.review, self.decided_ok, self.ok_decided_ng, self.review_decided)


def _newest_decision_of(inspection_id: sa.ColumnElement[int], outer: sa.Table) -> sa.ScalarSelect[int]:
    """The id of the newest decision on the part ``inspection_id`` names, a column of the query around it
    (``outer``); one probe of the index on the part and the decision's id."""
    each = decisions.alias("each_decision")
    return (sa.select(sa.func.max(each.c.id)).where(each.c.inspection_id == inspection_id)
            .correlate(outer).scalar_subquery())


#: a part's newest decision, as the listing's columns name it
_DECISION = [decisions.c.id.label("decision_id"), decisions.c.time_us.label("decision_time_us"),
             decisions.c.station.label("decision_station"), decisions.c.verdict.label("decision_verdict"),
             decisions.c.person.label("decision_person"), decisions.c.note.label("decision_note")]


def _stored(row: sa.Row) -> StoredInspection:
    decision = None if getattr(row, "decision_id", None) is None else Decision(
        row.decision_id, from_time_us(row.decision_time_us), row.decision_station, row.decision_verdict,
        row.decision_person, row.decision_note)
    return StoredInspection(row.id, row.station, decision=decision, record=InspectionRecord(
        time=from_time_us(row.time_us), image_path=row.image_path, file_size=row.file_size, sha256=row.sha256,
        model_sha256=row.model_sha256, model_name=row.model_name, threshold=row.threshold, score=row.score,
        verdict=row.verdict, error=row.error, inspection_ms=row.inspection_ms, regions=row.regions,
        review_from=row.review_from, sorted_path=row.sorted_path))


def select_inspections(where: RecordFilter, limit: Optional[int] = None, newest_first: bool = False,
                       absent: FrozenSet[str] = frozenset()) -> sa.Select:
    """``absent``: columns (and the ``decisions`` table) an older store does not have yet (read as empty by a
    reader that may not upgrade it)."""
    order = inspections.c.time_us.desc() if newest_first else inspections.c.time_us
    columns = [sa.null().label(column.name) if column.name in absent else column for column in inspections.c]
    if "decisions" in absent:
        query = sa.select(*columns)
    else:
        query = sa.select(*columns, *_DECISION).select_from(
            inspections.outerjoin(decisions, decisions.c.id == _newest_decision_of(inspections.c.id, inspections)))
    query = query.where(*where.clauses(inspections, absent)).order_by(order, inspections.c.id)
    return query.limit(limit) if limit is not None else query


def newest_of_image(connection: sa.Connection, station: str, image_path: str,
                    absent: FrozenSet[str] = frozenset()) -> Optional[StoredInspection]:
    """The newest record ``station`` made of the image at ``image_path`` (the unique index on station, path and
    time serves it), or None."""
    query = select_inspections(RecordFilter(), 1, newest_first=True, absent=absent).where(
        inspections.c.station == station, inspections.c.image_path == image_path)
    row = connection.execute(query).first()
    return None if row is None else _stored(row)


def decisions_after(connection: sa.Connection, after_id: int, station: str, limit: int,
                    absent: FrozenSet[str] = frozenset()) -> List[StoredInspection]:
    """The decisions newer than ``after_id`` (in the order they were made, at most ``limit``) on parts ``station``
    recorded, wherever they were decided: each part with that decision as its ``decision``."""
    columns = [sa.null().label(column.name) if column.name in absent else column for column in inspections.c]
    query = (sa.select(*columns, *_DECISION)
             .select_from(decisions.join(inspections, inspections.c.id == decisions.c.inspection_id))
             .where(decisions.c.id > after_id, inspections.c.station == station)
             .order_by(decisions.c.id).limit(limit))
    return [_stored(row) for row in connection.execute(query)]


def newest_decision_id(connection: sa.Connection) -> int:
    """The newest decision's id, 0 when none was made: where :func:`decisions_after` starts from."""
    return int(connection.execute(sa.select(sa.func.max(decisions.c.id))).scalar_one() or 0)


def iter_inspections(connection: sa.Connection, where: RecordFilter, limit: Optional[int] = None,
                     newest_first: bool = False, absent: FrozenSet[str] = frozenset()) -> Iterator[StoredInspection]:
    """The matching records in time order, streamed (a million rows never sit in memory at once)."""
    result = connection.execution_options(yield_per=2000).execute(
        select_inspections(where, limit, newest_first, absent))
    for row in result:
        yield _stored(row)


def count_inspections(connection: sa.Connection, where: RecordFilter, absent: FrozenSet[str] = frozenset()) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(inspections)
                                  .where(*where.clauses(inspections, absent))).scalar_one())


def list_model_changes(connection: sa.Connection, where: RecordFilter,
                       kind: Optional[str] = None) -> List[ModelChange]:
    query = sa.select(model_changes).where(*where.clauses(model_changes))
    if kind is not None:
        query = query.where(model_changes.c.kind == kind)
    query = query.order_by(model_changes.c.time_us, model_changes.c.id)
    return [ModelChange(row.id, from_time_us(row.time_us), row.station, row.kind, row.model_sha256, row.model_name,
                        row.threshold, row.detail) for row in connection.execute(query)]


def list_models(connection: sa.Connection) -> List[Tuple[str, str]]:
    """``(model_name, model_sha256)`` of every model that inspected something, by name (reads every part)."""
    query = (sa.select(inspections.c.model_name, inspections.c.model_sha256).distinct()
             .order_by(inspections.c.model_name, inspections.c.model_sha256))
    return [(row.model_name, row.model_sha256) for row in connection.execute(query)]


def list_changed_models(connection: sa.Connection) -> List[Tuple[str, str]]:
    """``(model_name, model_sha256)`` of every model in the audit trail, by name: every model a recorder
    opened (a small table: a DISTINCT over the parts read all of them, 0.7 s for a million)."""
    query = (sa.select(model_changes.c.model_name, model_changes.c.model_sha256).distinct()
             .order_by(model_changes.c.model_name, model_changes.c.model_sha256))
    return [(row.model_name, row.model_sha256) for row in connection.execute(query)]


def list_stations(connection: sa.Connection) -> List[str]:
    """Every station that recorded a part, by name.

    One seek per station on the index that starts with the station (a DISTINCT read all of its entries: 70 ms
    for a million parts, growing with the store)."""
    stations: List[str] = []
    while True:
        after = inspections.c.station > stations[-1] if stations else sa.true()
        station = connection.execute(sa.select(sa.func.min(inspections.c.station)).where(after)).scalar()
        if station is None:
            return stations
        stations.append(station)


def summarize(connection: sa.Connection, where: RecordFilter, by: Optional[str] = None,
              zone: Optional[tzinfo] = None, shifts: Optional[ShiftPlan] = None,
              absent: FrozenSet[str] = frozenset()) -> Summary:
    """Count, OK, NG, REVIEW, errors and median inspection ms per local hour, day or shift (``by``; a shift
    by ``shifts``, in this PC's zone), and in total; with what people's decisions changed (``absent``: a store
    too old to hold any, read as it is).

    ``zone`` is the reader's time zone (None: this PC's). Periods without parts are left out. In a
    zone's repeated autumn hour both hours are counted as one.
    """
    if by is not None and by not in PERIODS:
        raise ValueError(f"summary periods are {', '.join(PERIODS)}, not {by!r}")
    if by == "shift":
        (shifts or ShiftPlan()).require_quarter_hours()
    # grouped by quarter hour in SQL (reading the summary index in order), merged here into the
    # reader's local hours or days; times as whole microseconds, which SQLite writes out as text
    # about twice as fast as floats
    quarter = quarter_of(inspections.c.time_us).label("quarter")
    verdict = inspections.c.verdict
    microseconds = sa.cast(sa.cast(inspections.c.inspection_ms * 1000, sa.BigInteger), sa.Text)
    query = (sa.select(quarter, sa.func.count(),
                       sa.func.sum(sa.case((verdict == "OK", 1), else_=0)),
                       sa.func.sum(sa.case((verdict == "NG", 1), else_=0)),
                       sa.func.sum(sa.case((verdict == "REVIEW", 1), else_=0)),
                       sa.func.aggregate_strings(microseconds, ","))
             .where(*where.clauses(inspections, absent), *_quarter_range(where)).group_by(quarter).order_by(quarter))
    periods: Dict[datetime, _Tally] = {}
    total = _Tally()
    for quarter_index, count, ok, ng, review, ms_text in connection.execute(query):
        counts = (int(count), int(ok or 0), int(ng or 0), int(review or 0), ms_text)
        total.add(*counts)
        if by is not None:
            periods.setdefault(_period_start(int(quarter_index), by, zone, shifts), _Tally()).add(*counts)
    if "decisions" not in absent:
        for quarter_index, *sums in connection.execute(_decided_per_quarter(where, absent)):
            decided = [int(number or 0) for number in sums]
            total.add_decided(*decided)
            if by is not None:  # a decided part lies in a quarter the query above counted
                periods[_period_start(int(quarter_index), by, zone, shifts)].add_decided(*decided)
    return Summary([tally.summary(start) for start, tally in sorted(periods.items())], total.summary(None))


def _decided_per_quarter(where: RecordFilter, absent: FrozenSet[str]) -> sa.Select:
    """Per quarter hour of the parts' inspection, what their newest decisions changed. Few parts are decided: the
    decisions are read, and each one's part looked up by its id (as subqueries, which SQLite cannot turn into a
    scan of every part, as it chose for a join without statistics)."""
    newest = _newest_decision_of(decisions.c.inspection_id, decisions)

    def of_its_part(column: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        return (sa.select(column)
                .where(inspections.c.id == decisions.c.inspection_id, *where.clauses(inspections, absent))
                .correlate(decisions).scalar_subquery())

    decided = sa.select(of_its_part(quarter_of(inspections.c.time_us)).label("quarter"),
                        of_its_part(inspections.c.verdict).label("machine"),
                        decisions.c.verdict.label("person")).where(decisions.c.id == newest).subquery()
    machine, person = decided.c.machine, decided.c.person
    return (sa.select(decided.c.quarter,
                      sa.func.sum(sa.case(((person == "OK") & (machine != "OK"), 1), else_=0)),
                      sa.func.sum(sa.case(((person == "NG") & (machine == "OK"), 1), else_=0)),
                      sa.func.sum(sa.case((machine == "REVIEW", 1), else_=0)))
            .where(decided.c.quarter.is_not(None)).group_by(decided.c.quarter))


def _quarter_range(where: RecordFilter) -> List[sa.ColumnElement[bool]]:
    """The time range again, on quarter hours: what lets SQLite scan the summary index for a range."""
    quarter = quarter_of(inspections.c.time_us)
    clauses = []
    if where.since is not None:
        clauses.append(quarter >= to_time_us(where.since) // QUARTER_US)
    if where.until is not None:
        clauses.append(quarter <= to_time_us(where.until) // QUARTER_US)
    return clauses


def _period_start(quarter_index: int, by: Optional[str], zone: Optional[tzinfo],
                  shifts: Optional[ShiftPlan] = None) -> Optional[datetime]:
    if by is None:
        return None
    seconds = quarter_index * (QUARTER_US // 1_000_000)
    if by == "shift" and shifts is not None:  # its starts are on quarter hours: a quarter lies in one shift
        return shifts.start_of(datetime.fromtimestamp(seconds).astimezone())
    # without a zone: this PC's wall clock (naive), given its offset only once floored, so a day
    # that starts before a DST change gets the offset of its midnight
    local = datetime.fromtimestamp(seconds, zone) if zone is not None else datetime.fromtimestamp(seconds)
    start = local.replace(minute=0, second=0, microsecond=0)
    if by == "day":
        start = start.replace(hour=0)
    return start if zone is not None else start.astimezone()

