"""The inspection store: every inspected part as one durable row, in SQLite or PostgreSQL.

One class, :class:`InspectionStore`, through SQLAlchemy Core, for both backends:

- an SQLite file (the default; no server). WAL journal, so readers (the History view, ``patchcore
  log``) never block the line that writes and never see half a transaction; ``synchronous=FULL``,
  so the WAL is flushed to disk at every commit and a record that :meth:`~InspectionStore.add`
  returned survives a power cut, not only a crash of the program (``NORMAL`` would lose the last
  commits on power loss, and a part whose record is lost after its image was sorted away is a lost
  part). Writers wait for each other up to :data:`LOCK_TIMEOUT_S`.
- a PostgreSQL server, for many line PCs writing to one database (``postgresql://user@host/db``,
  through psycopg 3). Connections are checked before use, so a store whose server went away works
  again once it is back.

Every failure to write or read is a :class:`StoreUnavailable` with one line that says which store
and what happened (disk full, connection lost, locked too long).
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import FrozenSet, Iterator, List, Optional, Tuple, Union

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from ..line.shifts import ShiftPlan
from . import queries
from .errors import StoreError, StoreUnavailable
from .queries import Decision, ModelChange, RecordFilter, StoredInspection, Summary
from .records import DECIDED_VERDICTS, InspectionRecord, from_time_us, to_time_us
from .schema import (PATH_SEARCH, SCHEMA_VERSION, decisions, inspections, model_changes, refuse_newer, stored_version,
                     upgrade)

#: how long a writer waits for another to finish before the store counts as unavailable
LOCK_TIMEOUT_S = 10.0
#: how long connecting to a PostgreSQL server may take
CONNECT_TIMEOUT_S = 5
#: the audit trail's entries for a rule changed on a model in use (``patchcore log --changes``), written where the
#: change is made and told to a line's signal command
THRESHOLD_MOVED, MODEL_TAKEN_UP = "threshold moved", "model taken up"
#: PostgreSQL advisory lock that makes one opener at a time create or upgrade the schema
_SCHEMA_LOCK = 0x50434952  # "PCIR"

Target = Union[str, "os.PathLike[str]"]


def is_url(target: Target) -> bool:
    return isinstance(target, str) and "://" in target


class InspectionStore:
    """A connection to one inspection record, writing as one station (line PC)."""

    def __init__(self, engine: sa.Engine, station: str, name: str) -> None:
        self.engine = engine
        self.station = station
        #: the store as a person names it: the file, or the URL without its password
        self.name = name
        self._insert = (pg_dialect.insert if engine.dialect.name == "postgresql" else sqlite_dialect.insert)
        #: columns and tables of today's schema that this store lacks: an older store opened by a reader that may
        #: not upgrade it (a read-only file, a database role that may only read) reads them as empty; and the
        #: SQLite index to find parts by their path where the database could not make it (schema.PATH_SEARCH)
        self.absent_columns: FrozenSet[str] = frozenset()

    @property
    def file(self) -> Optional[Path]:
        """The SQLite file written to (None for a PostgreSQL server, or a file opened only to read)."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        return Path(database) if database and database != ":memory:" else None

    # -- writing ---------------------------------------------------------------------------------

    def add(self, record: InspectionRecord) -> int:
        """Commit one inspection; durable once this returns. Returns the record's id.

        Adding the same record again (after a :class:`StoreUnavailable`, say) returns the id it
        already has instead of storing it twice.
        """
        values = dict(
            time_us=to_time_us(record.time), station=self.station, image_path=record.image_path,
            file_size=record.file_size, sha256=record.sha256, model_sha256=record.model_sha256,
            model_name=record.model_name, threshold=float(record.threshold),
            score=None if record.score is None else float(record.score), verdict=record.verdict,
            error=record.error, inspection_ms=None if record.inspection_ms is None else float(record.inspection_ms),
            regions=record.regions, review_from=None if record.review_from is None else float(record.review_from),
            sorted_path=record.sorted_path)
        statement = (self._insert(inspections).values(**values)
                     .on_conflict_do_nothing(index_elements=["station", "image_path", "time_us"])
                     .returning(inspections.c.id))
        with self._transaction("write to", writes=True) as connection:
            inserted = connection.execute(statement).scalar()
            if inserted is not None:
                return int(inserted)
            return int(connection.execute(
                sa.select(inspections.c.id).where(inspections.c.station == self.station,
                                                  inspections.c.image_path == record.image_path,
                                                  inspections.c.time_us == values["time_us"])).scalar_one())

    def decide(self, inspection_id: int, verdict: str, person: str, note: str = "",
               time: Optional[datetime] = None) -> Decision:
        """Record a person's verdict, OK or NG, on the part recorded as ``inspection_id``, made at this station;
        the part's newest decision is the one it goes by. Raises StoreError when no part has that id."""
        verdict, person, note = verdict.strip().upper(), " ".join(person.split()), " ".join(note.split())
        if verdict not in DECIDED_VERDICTS:
            raise ValueError(f"a person decides a part OK or NG, not {verdict!r}")
        if not person:
            raise ValueError("a decision names the person who made it")
        moment = time or datetime.now(timezone.utc)
        with self._transaction("write to", writes=True) as connection:
            if connection.execute(sa.select(inspections.c.id).where(inspections.c.id == inspection_id)).first() is None:
                raise StoreError(f"no part with id {inspection_id} in the inspection store {self.name}")
            decided = connection.execute(decisions.insert().values(
                time_us=to_time_us(moment), station=self.station, inspection_id=inspection_id, verdict=verdict,
                person=person, note=note).returning(decisions.c.id)).scalar_one()
        return Decision(int(decided), moment, self.station, verdict, person, note)

    def note_sorted(self, image_path: str, sha256: str, sorted_path: str) -> int:
        """Note where this station's record of this content at ``image_path`` went when it was sorted;
        returns how many records were noted (0: none recorded)."""
        statement = (inspections.update()
                     .where(inspections.c.station == self.station, inspections.c.image_path == image_path,
                            inspections.c.sha256 == sha256)
                     .values(sorted_path=sorted_path))
        with self._transaction("write to", writes=True) as connection:
            return int(connection.execute(statement).rowcount)

    def record_model_change(self, kind: str, model_sha256: str, model_name: str, threshold: float,
                            detail: str = "", time: Optional[datetime] = None) -> None:
        """Add to the audit trail: a change that affects verdicts ("model opened", "threshold moved", ...)."""
        moment = time or datetime.now(timezone.utc)
        with self._transaction("write to", writes=True) as connection:
            connection.execute(model_changes.insert().values(
                time_us=to_time_us(moment), station=self.station, kind=kind, model_sha256=model_sha256,
                model_name=model_name, threshold=float(threshold), detail=detail))

    def record_model_in_force(self, kind: str, model_sha256: str, model_name: str, threshold: float,
                              detail: str = "") -> bool:
        """Record a model change only if this station's last entry names another model or threshold.

        For programs that start with a model (``predict --log``, a line): the trail shows when the
        model in force changed, not every start. Returns whether an entry was added.
        """
        query = (sa.select(model_changes.c.model_sha256, model_changes.c.threshold)
                 .where(model_changes.c.station == self.station)
                 .order_by(model_changes.c.time_us.desc(), model_changes.c.id.desc()).limit(1))
        with self._transaction("read") as connection:
            last = connection.execute(query).first()
        if last is not None and (last.model_sha256, last.threshold) == (model_sha256, float(threshold)):
            return False
        self.record_model_change(kind, model_sha256, model_name, threshold, detail)
        return True

    # -- reading ---------------------------------------------------------------------------------

    def is_recorded(self, image_path: str, sha256: str) -> bool:
        """Whether this station has a committed record of this exact content at this path."""
        query = (sa.select(inspections.c.id)
                 .where(inspections.c.station == self.station, inspections.c.image_path == image_path,
                        inspections.c.sha256 == sha256).limit(1))
        with self._transaction("read") as connection:
            return connection.execute(query).first() is not None

    def recorded_alike(self, record: InspectionRecord, recorded_path: str) -> Optional[datetime]:
        """When this station recorded the content of ``record`` under ``recorded_path`` with the same model,
        threshold, review band, verdict and score (to a part per 100,000: a score computed again in another
        process may differ in its last digits); None if it did not. One seek on (station, path)."""
        query = (sa.select(inspections.c.time_us, inspections.c.model_sha256, inspections.c.threshold,
                           inspections.c.review_from, inspections.c.verdict, inspections.c.score)
                 .where(inspections.c.station == self.station, inspections.c.image_path == recorded_path,
                        inspections.c.sha256 == record.sha256))
        with self._transaction("read") as connection:
            rows = connection.execute(query).all()

        def alike(a: Optional[float], b: Optional[float], tolerance: float = 0.0) -> bool:
            return a is None and b is None or a is not None and b is not None and math.isclose(
                a, b, rel_tol=tolerance, abs_tol=tolerance)

        for row in rows:
            if (row.model_sha256 == record.model_sha256 and row.verdict == record.verdict
                    and alike(row.threshold, record.threshold) and alike(row.review_from, record.review_from)
                    and alike(row.score, record.score, 1e-5)):
                return from_time_us(row.time_us)
        return None

    def inspections(self, where: RecordFilter = RecordFilter(), limit: Optional[int] = None,
                    newest_first: bool = False) -> List[StoredInspection]:
        """The matching records in time order (newest first if asked), at most ``limit`` of them."""
        with self._transaction("read") as connection:
            return list(queries.iter_inspections(connection, self._as_held(where), limit, newest_first,
                                                 self._absent_for(connection, where)))

    def newest_of_image(self, image_path: str, station: Optional[str] = None) -> Optional[StoredInspection]:
        """The newest record ``station`` (this store's, unless another is named) made of the image at
        ``image_path``, as its record holds the path; None when it recorded none."""
        with self._transaction("read") as connection:
            return queries.newest_of_image(connection, station or self.station, image_path, self.absent_columns)

    def decisions_after(self, after_id: int, limit: int = 1000) -> List[StoredInspection]:
        """People's decisions newer than ``after_id``, oldest first, on parts this store's station recorded (decided
        here or at any other PC of a plant's record): each part with that decision. None in a store too old to
        hold decisions."""
        if "decisions" in self.absent_columns:
            return []
        with self._transaction("read") as connection:
            return queries.decisions_after(connection, after_id, self.station, limit, self.absent_columns)

    def newest_decision_id(self) -> int:
        if "decisions" in self.absent_columns:
            return 0
        with self._transaction("read") as connection:
            return queries.newest_decision_id(connection)

    def iter_inspections(self, where: RecordFilter = RecordFilter()) -> Iterator[StoredInspection]:
        """The matching records in time order, streamed: for exports of any size."""
        with self._transaction("read") as connection:
            yield from queries.iter_inspections(connection, self._as_held(where),
                                                absent=self._absent_for(connection, where))

    def count(self, where: RecordFilter = RecordFilter()) -> int:
        with self._transaction("read") as connection:
            return queries.count_inspections(connection, self._as_held(where), self._absent_for(connection, where))

    def summary(self, where: RecordFilter = RecordFilter(), by: Optional[str] = None,
                zone: Optional[tzinfo] = None, shifts: Optional[ShiftPlan] = None) -> Summary:
        """Count, OK, NG, errors, yield and median ms per local hour, day or shift (by ``shifts``), or overall
        (see queries.summarize)."""
        with self._transaction("read") as connection:
            return queries.summarize(connection, self._as_held(where), by, zone, shifts,
                                     self._absent_for(connection, where))

    def _absent_for(self, connection: sa.Connection, where: RecordFilter) -> FrozenSet[str]:
        """What the query for ``where`` goes without: what this store lacks, and the trigrams for a part's text
        found in too many paths (queries.COMMON_PART_TEXT)."""
        text = where.part_text
        if (PATH_SEARCH in self.absent_columns or len(text) < 3
                or not queries.common_part_text(connection, text)):
            return self.absent_columns
        return self.absent_columns | {PATH_SEARCH}

    def _as_held(self, where: RecordFilter) -> RecordFilter:
        """``where`` as this store can answer it: read as it is, a store too old to hold decisions has none, so
        every part in it is undecided, and none decided (no record has id 0)."""
        if "decisions" not in self.absent_columns:
            return where
        return replace(where, undecided=False, decided=None, id=0 if where.decided else where.id)

    def model_changes(self, where: RecordFilter = RecordFilter(), kind: Optional[str] = None) -> List[ModelChange]:
        """The audit trail in time order (the filter's verdict does not apply to it), or its entries of one kind."""
        with self._transaction("read") as connection:
            return queries.list_model_changes(connection, where, kind)

    def models(self) -> List[Tuple[str, str]]:
        """``(name, sha256)`` of every model that inspected a part here (reads every part)."""
        with self._transaction("read") as connection:
            return queries.list_models(connection)

    def changed_models(self) -> List[Tuple[str, str]]:
        """``(name, sha256)`` of every model in the audit trail (opened by a recorder here), without reading the
        parts."""
        with self._transaction("read") as connection:
            return queries.list_changed_models(connection)

    def stations(self) -> List[str]:
        """Every station that recorded a part here."""
        with self._transaction("read") as connection:
            return queries.list_stations(connection)

    # -- connection ------------------------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "InspectionStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"InspectionStore({self.name!r}, station={self.station!r})"

    @contextmanager
    def _transaction(self, action: str, writes: bool = False) -> Iterator[sa.Connection]:
        """One transaction, committed on leaving; database errors become :class:`StoreUnavailable`."""
        try:
            with self.engine.connect() as connection:
                if writes:
                    connection.execution_options(patchcore_writes=True)
                with connection.begin():
                    yield connection
        except sa.exc.DBAPIError as exc:
            raise StoreUnavailable(f"cannot {action} the inspection store {self.name}: {_reason(exc)}") from None

    def upgrade_schema(self, create: bool = True) -> int:
        """Create (unless told not to) or upgrade the tables, one opener at a time; returns the version found.

        A reader (``create`` False) that may not write reads an older store as it is instead: what quality
        reads weeks later may lie on a share it can only read, or in a database its role may only read.
        """
        found = self._upgrade_schema(create)
        with self._transaction("open") as connection:
            if not sa.inspect(connection).has_table(PATH_SEARCH):  # PostgreSQL's is an index (schema.py)
                self.absent_columns |= {PATH_SEARCH}
        return found

    def _upgrade_schema(self, create: bool) -> int:
        with self._transaction("open") as connection:  # the usual case, without taking the write lock
            found = stored_version(connection)
        if found == SCHEMA_VERSION:
            return found
        try:
            refuse_newer(found)  # before any write: a reader that may not write refuses it too
        except StoreError as exc:
            raise StoreError(f"the inspection store {self.name} {exc}") from None
        try:
            with self._transaction("open", writes=True) as connection:
                if self.engine.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                try:
                    if not create and stored_version(connection) == 0:
                        raise StoreError("holds no inspection record yet")
                    return upgrade(connection)
                except StoreError as exc:
                    raise StoreError(f"the inspection store {self.name} {exc}") from None
        except StoreUnavailable as exc:
            if create or found == 0 or not _may_not_write(str(exc)):
                raise
        with self._transaction("read") as connection:
            present = {column["name"] for column in sa.inspect(connection).get_columns("inspections")}
            tables = set(sa.inspect(connection).get_table_names())
        self.absent_columns = frozenset([column.name for column in inspections.c if column.name not in present]
                                        + ([] if "decisions" in tables else ["decisions"]))
        return found


def _reason(exc: sa.exc.DBAPIError) -> str:
    """The cause of a database error in a few words a person can act on."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    lowered = text.lower()
    if "database or disk is full" in lowered or "no space left" in lowered:
        return "the disk is full"
    if "database is locked" in lowered or "database is busy" in lowered:
        return f"another program kept it locked for more than {LOCK_TIMEOUT_S:.0f} s"
    if "unable to open database file" in lowered:
        return "the file cannot be opened (missing folder or no permission)"
    if "readonly" in lowered or "read-only" in lowered:
        return "it is read-only here (no permission to write)"
    if "disk i/o error" in lowered:
        return "disk I/O error (the disk may be full or failing)"
    if exc.connection_invalidated or isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return f"lost the connection to the database ({text})"
    return text


def _may_not_write(reason: str) -> bool:
    """Whether a failed write says this opener lacks the right to write (not that the store is broken)."""
    lowered = reason.lower()
    return any(words in lowered for words in ("read-only here", "permission denied", "must be owner"))


def _readable_only(path: Path) -> bool:
    """Whether this user can read the SQLite file but not write it or make its journal files beside it."""
    return os.access(path, os.R_OK) and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _into_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file into WAL mode, waiting for other openers as a write waits for other writers.

    SQLite answers "database is locked" at once, without its busy timeout, when another connection holds
    the file while the mode changes: two programs opening a new store together failed so about once in 30.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_engine(path: Path, read_only: bool = False) -> sa.Engine:
    if read_only:
        # A WAL store can be read without writing only through its -shm file, which exists while a line has it
        # open. When none has, the file holds every committed part (the last to close folds the WAL in) and
        # is read as immutable; a line that opens it meanwhile writes to its WAL, not into this file, until
        # it folds 1,000 pages in: a reader can then see a page changed under it, the cost of reading a
        # store one may not write.
        live = Path(f"{path}-wal").exists()
        uri = path.absolute().as_uri() + ("?mode=ro" if live else "?immutable=1")
        engine = sa.create_engine("sqlite+pysqlite://", creator=lambda: sqlite3.connect(
            uri, uri=True, timeout=LOCK_TIMEOUT_S, check_same_thread=False))
    else:
        engine = sa.create_engine(f"sqlite+pysqlite:///{path}",
                                  connect_args={"timeout": LOCK_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # the driver's own transaction handling is off; "begin" below says what kind each one is
        dbapi_connection.isolation_level = None
        if not read_only:
            cursor = dbapi_connection.cursor()
            _into_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # a writer takes the write lock at once (waiting up to the timeout), so two writers never
        # both read and then fail to upgrade; readers take no lock at all under WAL
        writes = connection.get_execution_options().get("patchcore_writes", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _postgresql_engine(target: str) -> sa.Engine:
    url = sa.make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    # keepalives: a server or network that went away is noticed in seconds, not hours
    return sa.create_engine(url, pool_pre_ping=True, connect_args={
        "connect_timeout": CONNECT_TIMEOUT_S, "keepalives": 1, "keepalives_idle": 10,
        "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 30_000,
        "application_name": "patchcore-inspector"})


def open_store(target: Target, station: str, create: bool = True) -> InspectionStore:
    """Open (creating or upgrading) the store at ``target``, writing as ``station``.

    ``target`` is an SQLite file path or a ``postgresql://user:password@host:port/database`` URL.
    With ``create`` False (readers) a store that does not exist yet is an error, not a new file.
    Raises :class:`StoreError` when it is no store or a newer one, :class:`StoreUnavailable` when
    it cannot be reached.

    >>> with open_store("/var/lib/patchcore/line3.sqlite", station="line3") as store:  # doctest: +SKIP
    ...     store.is_recorded("/camera/part_0001.png", "9f86d0...")
    False
    """
    station = station.strip()
    if not station or len(station) > 200:
        raise StoreError(f"station name must be 1 to 200 characters, not {station!r}")
    if is_url(target):
        url_text = str(target)
        if not url_text.startswith(("postgresql", "postgres")):
            raise StoreError(f"store URL must start with postgresql:// (or be an SQLite file path), not '{url_text}'")
        try:
            engine = _postgresql_engine(url_text)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise StoreError(f"bad store URL '{url_text}': {exc}") from None
        # as the user wrote it: the driver the program adds (postgresql+psycopg) is not theirs to know
        name = engine.url.set(drivername="postgresql").render_as_string(hide_password=True)
    else:
        path = Path(target).expanduser()
        if not create and not path.exists():
            raise StoreError(f"there is no inspection store at '{path}'")
        if path.is_dir():
            raise StoreError(f"the inspection store '{path}' is a folder; give a file name, e.g. '{path / 'inspections.sqlite'}'")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the folder of the inspection store '{path}': {exc.strerror}") from None
        engine = _sqlite_engine(path, read_only=not create and _readable_only(path))
        name = f"'{path}'"
    store = InspectionStore(engine, station, name)
    try:
        store.upgrade_schema(create)
    except StoreUnavailable as exc:
        engine.dispose()
        if "file is not a database" in str(exc):
            raise StoreError(f"{name} is not an inspection store (not an SQLite database)") from None
        raise
    except BaseException:
        engine.dispose()
        raise
    return store
