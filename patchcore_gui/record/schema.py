"""The tables of the inspection record and the steps that bring an older store up to date.

The schema is versioned by a one-row table, ``schema_version``. Each step in :data:`UPGRADES`
brings a store from the version before it to its own, inside one transaction (SQLite and
PostgreSQL both undo a half-done DDL step). A new store is made by the same steps from version 0,
so the path an old store takes is the path every test takes. A step, once released, is never
edited: a change to the schema is a new step and a new :data:`SCHEMA_VERSION`.

Times are whole microseconds since 1970-01-01 UTC (``time_us``, BIGINT): the same integers on
SQLite and PostgreSQL, so a range is one indexed comparison and an hour is ``time_us / 3600000000``
on both, without date functions that differ between them.
"""

from __future__ import annotations

from typing import Callable, Dict, List

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from .errors import StoreError

metadata = sa.MetaData()

#: The row id: a 64-bit identity on PostgreSQL, SQLite's rowid (which is 64-bit already) there.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

inspections = sa.Table(
    "inspections", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("time_us", sa.BigInteger, nullable=False),
    sa.Column("station", sa.String(200), nullable=False),
    sa.Column("image_path", sa.Text, nullable=False),
    sa.Column("file_size", sa.BigInteger),
    sa.Column("sha256", sa.String(64)),
    sa.Column("model_sha256", sa.String(64), nullable=False),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("verdict", sa.String(6), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("inspection_ms", sa.Float),
    sa.Column("regions", _JSON),
    #: the start of the review band in force for this verdict; NULL: none (OK / NG only)
    sa.Column("review_from", sa.Float),
    #: where the line put the image after its verdict (the sort folder; NULL: not sorted, or before version 4)
    sa.Column("sorted_path", sa.Text),
    sa.CheckConstraint("verdict IN ('OK', 'REVIEW', 'NG', 'ERROR')", name="inspections_verdict"),
    # One station inspects one path at one microsecond once: a record written again after a lost
    # acknowledgement meets itself here instead of being stored twice. Also the index behind
    # "is this file already recorded" (station, path first).
    sa.UniqueConstraint("station", "image_path", "time_us", name="inspections_once"),
)
sa.Index("inspections_time", inspections.c.time_us)


def _entry_columns() -> List[sa.Column]:
    """What every entry of the record begins with: its id, when (UTC microseconds) and at which station."""
    return [sa.Column("id", _ID, primary_key=True, autoincrement=True),
            sa.Column("time_us", sa.BigInteger, nullable=False),
            sa.Column("station", sa.String(200), nullable=False)]


model_changes = sa.Table(
    "model_changes", metadata,
    *_entry_columns(),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("model_sha256", sa.String(64), nullable=False),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)
sa.Index("model_changes_time", model_changes.c.time_us)


def _decisions_v5(owner: sa.MetaData) -> sa.Table:
    """A person's verdict on a recorded part after looking at it: a REVIEW part's, or one given against the
    machine's (a false reject passed, a defect it missed). A table of its own: the machine's verdict stays as it
    was made, and a part decided again keeps every decision (the newest counts)."""
    table = sa.Table(
        # the station: where the person decided (a PC reading a plant's record decides for any station's part)
        "decisions", owner,
        *_entry_columns(),
        sa.Column("inspection_id", sa.BigInteger, nullable=False),
        sa.Column("verdict", sa.String(2), nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("verdict IN ('OK', 'NG')", name="decisions_verdict"),
    )
    # a part's newest decision, read beside every part listed: one index probe each
    sa.Index("decisions_part", table.c.inspection_id, table.c.id)
    return table


decisions = _decisions_v5(metadata)


def _inspections_v1(owner: sa.MetaData, name: str = "inspections") -> sa.Table:
    """The inspections table as version 1 made it (version 3 changed it; this copy never changes)."""
    table = sa.Table(
        name, owner,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("station", sa.String(200), nullable=False),
        sa.Column("image_path", sa.Text, nullable=False),
        sa.Column("file_size", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("verdict", sa.String(5), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("inspection_ms", sa.Float),
        sa.Column("regions", _JSON),
        sa.CheckConstraint("verdict IN ('OK', 'NG', 'ERROR')", name="inspections_verdict"),
        sa.UniqueConstraint("station", "image_path", "time_us", name="inspections_once"),
    )
    sa.Index("inspections_time", table.c.time_us)
    return table


def _version_1(connection: sa.Connection) -> None:
    """The first schema: inspections, model changes, the version table.

    Its own copy of the tables as they were then (tests/record/test_schema.py holds a store written
    by version 1 and fails if this step stops making it).
    """
    first = sa.MetaData()
    tables = [schema_version.to_metadata(first), _inspections_v1(first), model_changes.to_metadata(first)]
    first.create_all(connection, tables=tables)
    connection.execute(schema_version.insert().values(version=0))


#: the summary's grouping: quarter hours since 1970 (a quarter hour never straddles a local hour,
#: whatever the zone's offset, +5:30 and +5:45 included)
QUARTER_US = 900_000_000


def quarter_of(time_us: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """``time_us / 900000000`` with the constant written out, as the summary index has it: both
    databases use an index on an expression only for the very same expression (BIGINT / INTEGER
    divides exactly on both)."""
    return time_us.op("/")(sa.literal_column(str(QUARTER_US), sa.BigInteger))


_QUARTER_INDEX = (f"CREATE INDEX inspections_quarter ON inspections ((time_us / {QUARTER_US}), time_us, verdict, "
                  "inspection_ms, station)")


def _version_2(connection: sa.Connection) -> None:
    """The summary index: quarter hours in time order with what a summary counts, so a summary of a
    million parts reads this index in order instead of sorting the table (6.8 s -> under 2 s)."""
    connection.exec_driver_sql(_QUARTER_INDEX)


_V1_COLUMNS = ("id, time_us, station, image_path, file_size, sha256, model_sha256, model_name, threshold, score, "
               "verdict, error, inspection_ms, regions")


def _version_3(connection: sa.Connection) -> None:
    """The review band: the verdict REVIEW (six letters) and the band's start in force, ``review_from``.

    PostgreSQL alters the column and the check in place. SQLite cannot alter a check constraint:
    the table is made again under its name, every row copied over, the indexes made again.
    """
    if connection.dialect.name == "postgresql":
        for statement in ("ALTER TABLE inspections ALTER COLUMN verdict TYPE VARCHAR(6)",
                          "ALTER TABLE inspections DROP CONSTRAINT inspections_verdict",
                          "ALTER TABLE inspections ADD CONSTRAINT inspections_verdict "
                          "CHECK (verdict IN ('OK', 'REVIEW', 'NG', 'ERROR'))",
                          "ALTER TABLE inspections ADD COLUMN review_from FLOAT"):
            connection.exec_driver_sql(statement)
        return
    connection.exec_driver_sql("ALTER TABLE inspections RENAME TO inspections_v2")
    connection.exec_driver_sql("DROP INDEX inspections_time")
    connection.exec_driver_sql("DROP INDEX inspections_quarter")
    metadata.create_all(connection, tables=[inspections])
    connection.exec_driver_sql(f"INSERT INTO inspections ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM inspections_v2")
    connection.exec_driver_sql("DROP TABLE inspections_v2")
    connection.exec_driver_sql(_QUARTER_INDEX)


def _version_4(connection: sa.Connection) -> None:
    """Where a sorted image went, ``sorted_path``: with ``--move`` the camera's path is empty after the sort.

    A new SQLite store has the column already: step 3 made its table from the definition above.
    """
    if "sorted_path" not in {column["name"] for column in sa.inspect(connection).get_columns("inspections")}:
        connection.exec_driver_sql("ALTER TABLE inspections ADD COLUMN sorted_path TEXT")


def _version_5(connection: sa.Connection) -> None:
    """People's decisions on parts (:func:`_decisions_v5`)."""
    fifth = sa.MetaData()
    fifth.create_all(connection, tables=[_decisions_v5(fifth)])


#: the SQLite index of the image paths' trigrams (FTS5), by which a part is found by any text in its path
PATH_SEARCH = "inspections_path_search"
path_search = sa.table(PATH_SEARCH, sa.column("rowid", sa.Integer), sa.column("image_path", sa.Text))
#: a part is found by the start of its image's sha256 from this many hexadecimal digits on (32 bits: a shorter start
#: matches parts by chance, 15 of a million for 4 digits, and a serial number of digits is a hexadecimal start)
SHA256_START = 8


def sha256_start(sha256: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``substr(sha256, 1, 8)`` with the numbers written out, as the index has it (see :func:`quarter_of`)."""
    return sa.func.substr(sha256, sa.literal_column("1"), sa.literal_column(str(SHA256_START)))


#: FTS5's tokenizer into trigrams (SQLite 3.34 on)
_TOKENIZER = "trigram"
_PATH_SEARCH_TRIGGERS = (
    f"CREATE TRIGGER {PATH_SEARCH}_add AFTER INSERT ON inspections BEGIN "
    f"INSERT INTO {PATH_SEARCH}(rowid, image_path) VALUES (new.id, new.image_path); END",
    f"CREATE TRIGGER {PATH_SEARCH}_remove AFTER DELETE ON inspections BEGIN "
    f"INSERT INTO {PATH_SEARCH}({PATH_SEARCH}, rowid, image_path) VALUES ('delete', old.id, old.image_path); END",
    f"CREATE TRIGGER {PATH_SEARCH}_move AFTER UPDATE OF image_path ON inspections BEGIN "
    f"INSERT INTO {PATH_SEARCH}({PATH_SEARCH}, rowid, image_path) VALUES ('delete', old.id, old.image_path); "
    f"INSERT INTO {PATH_SEARCH}(rowid, image_path) VALUES (new.id, new.image_path); END",
)


def _version_6(connection: sa.Connection) -> None:
    """A part found by text in its path, or by its sha256's start, from an index instead of reading every part
    (0.35 s a million parts: minutes on a plant's record of years).

    The paths' trigrams: on SQLite an FTS5 table over ``inspections`` (its content read from there, kept by
    triggers); on PostgreSQL a GIN index of ``pg_trgm``, which the plain ``LIKE`` uses by itself. Either is left
    out where the database cannot make it (an SQLite before 3.34; a role that may not add the extension): the
    search then reads every part, as before. A later step that makes ``inspections`` again must make these too.
    """
    connection.exec_driver_sql("CREATE INDEX inspections_sha256_start ON inspections "
                               f"(substr(sha256, 1, {SHA256_START}))")
    try:
        with connection.begin_nested():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                connection.exec_driver_sql("CREATE INDEX inspections_path_trigrams ON inspections "
                                           "USING gin (lower(image_path) gin_trgm_ops)")
                return
            # which trigrams each path holds, not where (detail none) nor how many (columnsize 0): a third of the
            # size (46 against 145 MB a million parts), and a part still found in 15 ms, its path checked
            connection.exec_driver_sql(f"CREATE VIRTUAL TABLE {PATH_SEARCH} USING fts5(image_path, "
                                       f"content='inspections', content_rowid='id', tokenize='{_TOKENIZER}', "
                                       "detail='none', columnsize=0)")
    except sa.exc.DBAPIError:
        return
    for trigger in _PATH_SEARCH_TRIGGERS:
        connection.exec_driver_sql(trigger)
    connection.exec_driver_sql(f"INSERT INTO {PATH_SEARCH}({PATH_SEARCH}) VALUES ('rebuild')")


#: step n takes a store from version n - 1 to version n
UPGRADES: Dict[int, Callable[[sa.Connection], None]] = {
    1: _version_1,
    2: _version_2,
    3: _version_3,
    4: _version_4,
    5: _version_5,
    6: _version_6,
}
SCHEMA_VERSION = max(UPGRADES)


def stored_version(connection: sa.Connection) -> int:
    """The schema version of the store behind ``connection``; 0 for an empty database."""
    names = set(sa.inspect(connection).get_table_names())
    if "schema_version" not in names:
        if names & {"inspections", "model_changes"}:  # other tables beside ours are fine (a plant database)
            raise StoreError("has tables named like an inspection record's but no schema version: not a store")
        return 0
    version = connection.execute(sa.select(schema_version.c.version)).scalar()
    return int(version or 0)


def refuse_newer(found: int) -> None:
    """A store of schema version ``found`` that a newer program wrote is refused: its rows may mean more."""
    if found > SCHEMA_VERSION:
        raise StoreError(f"was written by a newer PatchCore Inspector (schema version {found}; this program "
                         f"reads up to {SCHEMA_VERSION}): update the program")


def upgrade(connection: sa.Connection, upto: int = SCHEMA_VERSION) -> int:
    """Run the steps that bring the store to version ``upto`` (inside the caller's transaction).

    Returns the version it started from. Refuses a store newer than this program knows.
    """
    found = stored_version(connection)
    refuse_newer(found)
    for version in range(found + 1, upto + 1):
        UPGRADES[version](connection)
        connection.execute(schema_version.update().values(version=version))
    return found
