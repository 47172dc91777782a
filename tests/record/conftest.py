"""Stores to test against: an SQLite file, and a real PostgreSQL server started here in a temp folder.

Where the PostgreSQL server binaries are missing the PostgreSQL tests skip and say so
(tests/record/pg_server.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .pg_server import PG_SKIP_REASON, PostgresServer, pg_bin


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip(PG_SKIP_REASON)
    server = PostgresServer(bin_dir)
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store: an SQLite file path, or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "inspections.sqlite")
    return request.getfixturevalue("postgres_server").new_database()
