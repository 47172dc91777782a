"""Schema versions: a store written by the first version is upgraded in place, keeping every record.

``data/store_v1.sqlite`` was written by the first released store (commit 57fc3a9, schema version 1):
seven inspections from station line3 (one ERROR) and two model changes. It is never regenerated.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from patchcore_gui.record import RecordFilter, StoreUnavailable, open_store
from patchcore_gui.record import store as store_module
from patchcore_gui.record.schema import PATH_SEARCH, SCHEMA_VERSION, UPGRADES, metadata, schema_version, upgrade

STORE_V1 = Path(__file__).with_name("data") / "store_v1.sqlite"


def _ddl(path: Path) -> list:
    with sqlite3.connect(path) as connection:
        return sorted(connection.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def test_the_first_step_still_makes_exactly_the_first_version(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'v1.sqlite'}")
    with engine.begin() as connection:
        upgrade(connection, upto=1)
    engine.dispose()
    assert _ddl(tmp_path / "v1.sqlite") == _ddl(STORE_V1)


def test_a_first_version_sqlite_store_is_upgraded_in_place_with_every_record(tmp_path):
    path = tmp_path / "line3.sqlite"
    shutil.copy(STORE_V1, path)
    with open_store(path, "line3") as store:
        with store.engine.connect() as connection:
            assert connection.execute(sa.select(schema_version.c.version)).scalar() == SCHEMA_VERSION
        records = store.inspections()
        assert [r.record.verdict for r in records] == ["OK"] * 4 + ["NG", "NG", "ERROR"]
        assert records[0].record.regions == [{"x": 0, "y": 1, "w": 2, "h": 3}]
        assert [c.kind for c in store.model_changes()] == ["model opened", "threshold moved"]
        assert store.is_recorded("/camera/line3_000002.png", f"{2:064x}")
        total = store.summary().total
        assert (total.count, total.ok, total.ng, total.errors) == (7, 4, 2, 1)
        store.add(records[0].record.__class__(**{**records[-1].record.__dict__, "image_path": "/camera/new.png"}))
        assert store.count(RecordFilter(verdict="ERROR")) == 2
        # version 3: the review band's verdict and its start, on a store that had neither
        assert all(r.record.review_from is None for r in records)
        store.add(records[0].record.__class__(**{**records[0].record.__dict__, "image_path": "/camera/review.png",
                                                 "verdict": "REVIEW", "review_from": 0.5}))
        assert [r.record.review_from for r in store.inspections(RecordFilter(verdict="REVIEW"))] == [0.5]
        assert store.summary().total.review == 1
        # version 4: where a sorted image went
        assert store.note_sorted("/camera/line3_000002.png", f"{2:064x}", "/sorted/NG/line3_000002.png") == 1
        (noted,) = store.inspections(RecordFilter(part="line3_000002"))
        assert noted.record.sorted_path == "/sorted/NG/line3_000002.png"
        # version 5: people's decisions
        store.decide(noted.id, "OK", "A. Meyer")
        assert store.inspections(RecordFilter(part="line3_000002"))[0].final_verdict == "OK"
        # version 6: the parts recorded before it are found through its indexes
        assert [r.record.image_path for r in store.inspections(RecordFilter(part=f"{2:064x}"))] == [
            "/camera/line3_000002.png"]
    _assert_matches_current_tables(sa.create_engine(f"sqlite:///{path}"))


def test_a_first_version_postgresql_store_is_upgraded_in_place(postgres_server):
    target = postgres_server.new_database()
    engine = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        upgrade(connection, upto=1)
    with sqlite3.connect(STORE_V1) as old:  # the same records as the SQLite v1 store, into PostgreSQL v1
        columns = [row[1] for row in old.execute("PRAGMA table_info(inspections)")]
        rows = [dict(zip(columns, row)) for row in old.execute("SELECT * FROM inspections")]
    for row in rows:
        row["regions"] = json.loads(row["regions"]) if row["regions"] else None
    with engine.begin() as connection:
        for row in rows:
            connection.execute(metadata.tables["inspections"].insert().values(**row))
    with open_store(target, "line3") as store:
        assert store.count() == 7 and store.upgrade_schema() == SCHEMA_VERSION
        assert store.inspections()[0].record.regions == [{"x": 0, "y": 1, "w": 2, "h": 3}]
        assert store.summary(by="hour").periods[0].count == 3  # 05:50, 05:54, 05:58 UTC share an hour wherever you are
    with engine.begin() as connection:  # ids given, as the copied rows have theirs (the sequence never moved)
        connection.execute(metadata.tables["inspections"].insert().values(
            **{**rows[0], "id": 1000, "image_path": "/camera/review.png", "verdict": "REVIEW", "review_from": 0.5}))
    with open_store(target, "line3") as store:  # six letters, and the check lets it in
        assert [r.record.review_from for r in store.inspections(RecordFilter(verdict="REVIEW"))] == [0.5]
        assert store.note_sorted(rows[1]["image_path"], rows[1]["sha256"], "/sorted/x.png") == 1
        assert [r.record.sorted_path for r in store.inspections()].count("/sorted/x.png") == 1
        store.decide(1000, "NG", "A. Meyer")
        assert store.inspections(RecordFilter(id=1000))[0].decision.person == "A. Meyer"
        assert store.summary().total.review_open == 0
    _assert_matches_current_tables(engine)
    engine.dispose()


def _assert_reads_the_first_version_as_it_is(store) -> None:
    # the last two tables (the trigrams are an index on PostgreSQL, and found absent there)
    assert store.absent_columns == {"review_from", "sorted_path", "decisions", PATH_SEARCH}
    records = store.inspections()
    assert [r.record.verdict for r in records] == ["OK"] * 4 + ["NG", "NG", "ERROR"]
    assert all(r.record.review_from is None and r.record.sorted_path is None for r in records)
    assert [r.record.verdict for r in store.iter_inspections(RecordFilter(verdict="NG"))] == ["NG", "NG"]
    assert store.count(RecordFilter(verdict="NG", undecided=True)) == 2  # nobody could decide in it yet
    assert store.summary(RecordFilter(undecided=True)).total.count == 7
    assert store.inspections(RecordFilter(decided="OK")) == [] and store.count(RecordFilter(decided="NG")) == 0
    assert store.summary(RecordFilter(decided="OK")).total.count == 0
    assert [c.kind for c in store.model_changes()] == ["model opened", "threshold moved"]
    assert [r.record.image_path for r in store.inspections(RecordFilter(part="LINE3_000002"))] == [
        "/camera/line3_000002.png"]
    total = store.summary().total
    assert (total.count, total.ok, total.ng, total.errors) == (7, 4, 2, 1)


def test_a_reader_that_may_not_write_reads_a_first_version_sqlite_store_as_it_is(tmp_path, monkeypatch):
    """Quality reads a line's record weeks later from a share it may only read: no upgrade, nothing written."""
    path = tmp_path / "line3.sqlite"
    shutil.copy(STORE_V1, path)
    before = path.read_bytes()
    # as for a user who may read the file but not write it or its folder (the tests may run as root, to whom
    # every file is writable): the store is then opened read-only, and SQLite itself refuses every write
    monkeypatch.setattr(store_module, "_readable_only", lambda _path: True)
    with open_store(path, "quality", create=False) as store:
        _assert_reads_the_first_version_as_it_is(store)
        with pytest.raises(StoreUnavailable, match="read-only here"):
            store.record_model_change("threshold moved", "a" * 64, "bottle", 2.0)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["line3.sqlite"]
    monkeypatch.undo()
    with open_store(path, "line3") as store:  # the line, which may write, still upgrades it
        assert not store.absent_columns and store.inspections()[0].record.sorted_path is None
    _assert_matches_current_tables(sa.create_engine(f"sqlite:///{path}"))


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root may write any file")
def test_a_store_in_a_folder_this_user_may_only_read_is_read(tmp_path):
    """The same with real permissions, in a child process that opens the store as ``patchcore log`` does."""
    folder = tmp_path / "share"
    folder.mkdir()
    shutil.copy(STORE_V1, folder / "line3.sqlite")
    (folder / "line3.sqlite").chmod(0o444)
    folder.chmod(0o555)
    try:
        log = subprocess.run([sys.executable, "-m", "patchcore_gui.cli", "log", str(folder / "line3.sqlite"),
                              "--verdict", "NG"], capture_output=True, text=True, timeout=120,
                             cwd=Path(__file__).resolve().parents[2])
    finally:
        folder.chmod(0o755)
    assert log.returncode == 0, log.stderr
    assert len(log.stdout.strip().splitlines()) == 3  # the header and the two NG parts


def test_a_database_role_that_may_only_read_reads_a_first_version_postgresql_store(postgres_server):
    target = postgres_server.new_database()
    engine = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        upgrade(connection, upto=1)
    with sqlite3.connect(STORE_V1) as old:
        columns = [row[1] for row in old.execute("PRAGMA table_info(inspections)")]
        rows = [dict(zip(columns, row)) for row in old.execute("SELECT * FROM inspections")]
        changes = [row for row in old.execute("SELECT * FROM model_changes")]
    role = f"quality_{target.rsplit('_', 1)[-1]}"
    with engine.begin() as connection:
        for row in rows:
            row["regions"] = json.loads(row["regions"]) if row["regions"] else None
            connection.execute(metadata.tables["inspections"].insert().values(**row))
        change_columns = [c.name for c in metadata.tables["model_changes"].columns]
        for change in changes:
            connection.execute(metadata.tables["model_changes"].insert().values(**dict(zip(change_columns, change))))
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    with open_store(target.replace("postgres@", f"{role}@"), "quality", create=False) as store:
        _assert_reads_the_first_version_as_it_is(store)
    with engine.connect() as connection:
        assert connection.execute(sa.select(schema_version.c.version)).scalar() == 1
    engine.dispose()


def test_every_version_has_its_step():
    assert sorted(UPGRADES) == list(range(1, SCHEMA_VERSION + 1))


def _assert_matches_current_tables(engine: sa.Engine) -> None:
    """The upgraded store has the columns the program's tables describe, and the summary index."""
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        assert [c["name"] for c in inspector.get_columns(table.name)] == [c.name for c in table.columns]
    indexes = ("SELECT name FROM sqlite_master WHERE type IN ('index', 'table')" if engine.dialect.name == "sqlite"
               else "SELECT indexname FROM pg_indexes WHERE tablename = 'inspections'")
    with engine.connect() as connection:  # (reflection skips indexes on expressions)
        made = set(connection.exec_driver_sql(indexes).scalars())
    # the summary's; the part search's: the sha256's start, the paths' trigrams (tests/record/test_part_search.py)
    trigrams = PATH_SEARCH if engine.dialect.name == "sqlite" else "inspections_path_trigrams"
    assert {"inspections_quarter", "inspections_sha256_start", trigrams} <= made, made
    engine.dispose()
