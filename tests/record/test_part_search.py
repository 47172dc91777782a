"""Finding a part by text in its image's path or by its sha256's start, through schema version 6's indexes.

Whatever the store made of them (SQLite's trigram table, PostgreSQL's trigram index, or neither where the
database could not make them), a search finds exactly the parts whose path holds the text in any case, or whose
sha256 starts with it (8 digits or more); the indexes only decide how fast.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from patchcore_gui.record import InspectionRecord, RecordFilter, open_store
from patchcore_gui.record import queries
from patchcore_gui.record import schema as schema_module
from patchcore_gui.record.queries import select_inspections
from patchcore_gui.record.schema import PATH_SEARCH, SCHEMA_VERSION

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc)
PATHS = ["/camera/SN-4711_top.png", "/camera/sn-4711_side.png", "/camera/SN-4712_top.png", "/camera/100%_lot7.png",
         "/camera/lot_7/a.bmp", "/Kamera/Übergröße_1.png", "/camera/part_0001.png", "/camera/part_0002.png"]
TERMS = ["sn-4711", "SN-4711_TOP", "4712", "_top", "100%", "%_lot", "lot_7", "t_7", "camera", "/camera/part_000",
         ".PNG", "a", "7", "größe_", "no such part", "0" * 8, "0" * 7, "5" * 64, "5" * 63 + "6", "4444444f"]


def _record(number: int, path: str) -> InspectionRecord:
    return InspectionRecord(T0 + timedelta(seconds=number), path, 100, _sha256(number), "a" * 64, "bottle", 2.5,
                            1.0, "OK", None, 40.0)


def _sha256(number: int) -> str:
    return f"{number:x}" * 64


def _expected(term: str) -> list:
    """What the search must find: the path holds the text in any case, or the sha256 starts with 8 digits or more
    of it. (Of letters beyond ASCII, SQLite's lower() folds none: "größe" is found in both databases, "ÜBER" only
    in PostgreSQL's, as before version 6.)"""
    text = term.strip().lower()
    found = []
    for number, path in enumerate(PATHS):
        sha256 = _sha256(number)
        if text in path.lower() or len(text) >= 8 and all(c in "0123456789abcdef" for c in text) \
                and sha256.startswith(text):
            found.append(path)
    return found


def _fill(store) -> None:
    for number, path in enumerate(PATHS):
        store.add(_record(number, path))


def test_a_part_is_found_by_text_in_its_path_or_its_sha256_start_exactly(store_target, monkeypatch):
    with open_store(store_target, "line3") as store:
        _fill(store)
        for common in (queries.COMMON_PART_TEXT, 2):  # through the trigrams, and as a text too common for them
            monkeypatch.setattr(queries, "COMMON_PART_TEXT", common)
            for term in TERMS:
                expected = _expected(term)
                found = [r.record.image_path for r in store.inspections(RecordFilter(part=term))]
                assert found == expected, (term, common)
                assert store.count(RecordFilter(part=term)) == len(expected), (term, common)
                assert store.summary(RecordFilter(part=term)).total.count == len(expected), (term, common)


def test_a_sha256_start_shorter_than_8_digits_finds_no_part_by_chance(store_target):
    """Before, 4 digits matched 15 parts of a million by chance, and a serial number of digits is such a start."""
    with open_store(store_target, "line3") as store:
        _fill(store)
        assert store.count(RecordFilter(part="6" * 7)) == 0
        assert [r.record.image_path for r in store.inspections(RecordFilter(part="6" * 8))] == [PATHS[6]]
        assert [r.record.image_path for r in store.inspections(RecordFilter(part="6" * 40))] == [PATHS[6]]


#: SQLite's plan reads the inspections table whole (not its trigram table, named after it)
_READS_EVERY_PART = re.compile(r"SCAN inspections(?!_)")


def _plan(store, where: RecordFilter, connection) -> str:
    statement = str(select_inspections(where, 2000, True, store.absent_columns).compile(
        store.engine, compile_kwargs={"literal_binds": True}))
    return " / ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement))


def test_sqlite_finds_a_part_through_its_trigrams_and_sha256_start_not_by_reading_every_part(tmp_path):
    with open_store(tmp_path / "s.sqlite", "line3") as store, store.engine.connect() as connection:
        assert PATH_SEARCH not in store.absent_columns
        plan = _plan(store, RecordFilter(part="sn-4711"), connection)
        assert f"{PATH_SEARCH} VIRTUAL TABLE" in plan and not _READS_EVERY_PART.search(plan), plan
        plan = _plan(store, RecordFilter(part="00c0ffee", station="line3"), connection)  # a path's text, or a start
        assert "MULTI-INDEX OR" in plan and "INDEX inspections_sha256_start" in plan, plan
        assert f"{PATH_SEARCH} VIRTUAL TABLE" in plan and not _READS_EVERY_PART.search(plan), plan


def test_a_text_in_many_paths_is_read_in_time_order_not_through_the_trigrams(tmp_path, monkeypatch):
    """The trigrams would hand every part's id to be read and sorted: 3.3 s for the newest 2,000 of a million."""
    monkeypatch.setattr(queries, "COMMON_PART_TEXT", 3)
    with open_store(tmp_path / "s.sqlite", "line3") as store:
        _fill(store)
        executed = []
        sa.event.listen(store.engine, "before_cursor_execute",
                        lambda *args: executed.append(args[2]) if "inspections.image_path" in args[2] else None)
        assert len(store.inspections(RecordFilter(part="/camera/part_"), limit=2000, newest_first=True)) == 2
        assert PATH_SEARCH in executed[-1]  # two paths: through the trigrams
        assert len(store.inspections(RecordFilter(part="camera"), limit=2000, newest_first=True)) == 7
        assert PATH_SEARCH not in executed[-1]


def test_sqlites_trigrams_follow_parts_added_moved_and_removed(tmp_path):
    """The trigram table reads its paths from the inspections; its triggers keep it in step with every change
    (FTS5's integrity check fails on any path it holds that the table does not)."""
    with open_store(tmp_path / "s.sqlite", "line3") as store:
        _fill(store)
        with store.engine.begin() as connection:  # what a plant's clean-up or a person's hand might do
            connection.exec_driver_sql("UPDATE inspections SET image_path = '/camera/SN-9999.png' WHERE id = 1")
            connection.exec_driver_sql("DELETE FROM inspections WHERE id = 2")
            connection.exec_driver_sql(f"INSERT INTO {PATH_SEARCH}({PATH_SEARCH}, rank) VALUES ('integrity-check', 1)")
        assert [r.record.image_path for r in store.inspections(RecordFilter(part="sn-"))] == [
            "/camera/SN-9999.png", PATHS[2]]


def test_an_sqlite_without_trigrams_gets_a_store_that_finds_parts_by_reading_them(tmp_path, monkeypatch):
    """As on an SQLite before 3.34 ("no such tokenizer"): the step makes the rest and the search reads every part."""
    monkeypatch.setattr(schema_module, "_TOKENIZER", "no_such_tokenizer")
    with open_store(tmp_path / "s.sqlite", "line3") as store:
        assert PATH_SEARCH in store.absent_columns
        _fill(store)
        assert [r.record.image_path for r in store.inspections(RecordFilter(part="sn-4711"))] == PATHS[:2]
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version FROM schema_version").scalar() == SCHEMA_VERSION
            assert _READS_EVERY_PART.search(_plan(store, RecordFilter(part="sn-4711"), connection))


def _pg_plan(store, where: RecordFilter) -> str:
    statement = str(select_inspections(where, 2000, True, store.absent_columns).compile(
        store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")  # a few rows: the planner would read them all
        return " / ".join(connection.exec_driver_sql("EXPLAIN " + statement).scalars())


def test_postgresql_finds_a_part_through_its_trigram_and_sha256_start_indexes(postgres_server):
    with open_store(postgres_server.new_database(), "line3") as store:
        _fill(store)
        plan = _pg_plan(store, RecordFilter(part="sn-4711"))
        assert "inspections_path_trigrams" in plan, plan  # the very term the index was made for
        plan = _pg_plan(store, RecordFilter(part="00c0ffee"))
        assert "inspections_path_trigrams" in plan and "inspections_sha256_start" in plan, plan


def test_a_database_role_that_may_not_add_pg_trgm_gets_a_store_that_finds_parts(postgres_server):
    """The role may make tables in its schema but not add an extension to the database: the step makes the rest."""
    target = postgres_server.new_database()
    role = f"line_{target.rsplit('_', 1)[-1]}"
    database = target.rsplit("/", 1)[-1]
    owner = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
    with owner.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"REVOKE CREATE ON DATABASE {database} FROM PUBLIC")
        connection.exec_driver_sql(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
    with open_store(target.replace("postgres@", f"{role}@"), "line3") as store:
        _fill(store)
        assert [r.record.image_path for r in store.inspections(RecordFilter(part="sn-4711"))] == PATHS[:2]
        assert store.count(RecordFilter(part="0" * 8)) == 1
    with owner.connect() as connection:
        indexes = set(connection.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars())
        assert "inspections_sha256_start" in indexes and "inspections_path_trigrams" not in indexes
        assert connection.exec_driver_sql("SELECT version FROM schema_version").scalar() == SCHEMA_VERSION
    owner.dispose()


@pytest.mark.parametrize("term", ["ab", "%", "_"])
def test_a_text_shorter_than_a_trigram_is_found_by_reading_every_part(tmp_path, term):
    with open_store(tmp_path / "s.sqlite", "line3") as store, store.engine.connect() as connection:
        assert PATH_SEARCH not in _plan(store, RecordFilter(part=term), connection)
