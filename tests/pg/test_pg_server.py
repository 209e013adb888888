"""The test server itself (issue 18): PostgreSQL from the distribution's packages, started for the
session, a fresh database for each test — and a failure, never a skip, when it cannot start."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.pg_server import ServerUnavailable, find_pg_ctl


def test_each_test_gets_its_own_empty_database(pg_server, pg_url) -> None:
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version_num")).scalar_one()
        tables = connection.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar_one()
    engine.dispose()
    assert int(version) >= 150000  # PostgreSQL 15 or newer
    assert tables == 0
    assert pg_server.started_in < 30


def test_no_server_is_a_failure_with_the_reason(monkeypatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.setattr("glob.glob", lambda _pattern: [])
    with pytest.raises(ServerUnavailable, match="apt-get install postgresql"):
        find_pg_ctl()
