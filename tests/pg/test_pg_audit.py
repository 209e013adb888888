"""The audit trail on both backends (issue 18): one verified chain, append-only in the database
itself (on PostgreSQL TRUNCATE refused too), tampering named, and on a server many writers
appending one after the other."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from govshare_desktop.core.security.audit import AuditTrail, derive_key
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.store.engine import Store

CLERK = Principal("li", Role.CLERK)
AUDITOR = Principal("zhao", Role.AUDITOR)
T0 = datetime(2026, 11, 27, 9, 0)


@pytest.fixture
def trail(any_store: Store) -> AuditTrail:
    trail = AuditTrail(any_store, derive_key(os.urandom(32)))
    for i in range(8):
        trail.log(CLERK, "search", f"查找 {i}", detail={"hits": i}, now=T0 + timedelta(minutes=i))
    return trail


def _tamper(store: Store, statement: str) -> None:
    """Someone past the program: a SQLite tool on the file, or the server's superuser."""
    if store.path is not None:
        with sqlite3.connect(store.path) as connection:
            connection.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
            connection.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
            connection.execute(statement)
        return
    with store.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        connection.exec_driver_sql(statement)


def test_an_intact_trail_verifies(trail: AuditTrail) -> None:
    result = trail.verify(AUDITOR)
    assert result.ok and result.entries == 8 and result.head is not None
    assert result.head.seq == 8 and trail.verify(AUDITOR, trail.head()).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET object = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_state",
        "TRUNCATE audit_log",
        "TRUNCATE audit_state",
    ],
)
def test_the_tables_refuse_what_would_rewrite_them(trail: AuditTrail, statement: str) -> None:
    store = trail.store
    if statement.startswith("TRUNCATE") and not store.server:
        statement = statement.replace("TRUNCATE", "DELETE FROM")  # SQLite has no TRUNCATE
    with store.engine.begin() as connection, pytest.raises(DBAPIError, match=r"append-only|cannot"):
        connection.exec_driver_sql(statement)
    assert trail.verify(AUDITOR).ok


@pytest.mark.parametrize(
    ("statement", "seq", "kind"),
    [
        ("UPDATE audit_log SET object = '查找 99' WHERE seq = 4", 4, "altered"),
        ("DELETE FROM audit_log WHERE seq = 5", 5, "missing"),
        ("UPDATE audit_log SET at = '2026-11-27 08:00:00' WHERE seq = 3", 3, "altered"),
    ],
    ids=["edited", "deleted", "backdated"],
)
def test_tampering_is_named(trail: AuditTrail, statement: str, seq: int, kind: str) -> None:
    _tamper(trail.store, statement)
    result = trail.verify(AUDITOR)
    assert not result.ok
    assert (result.problems[0].seq, result.problems[0].kind) == (seq, kind)


def test_a_cut_tail_shows(trail: AuditTrail) -> None:
    _tamper(trail.store, "DELETE FROM audit_log WHERE seq > 6")
    result = trail.verify(AUDITOR)
    assert not result.ok and "第 7–8 条不见了" in str(result.anchors[0].message)


def test_many_writers_on_a_server_make_one_chain(pg_store: Store) -> None:
    """Four PCs' worth of writers at once: every entry is appended after the one before it
    (the writer key's row is locked), none lost, the chain whole."""
    trail = AuditTrail(pg_store, derive_key(os.urandom(32)))
    trail.log(CLERK, "login", now=T0)  # the writer key exists from the first entry on
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                trail.log(Principal(f"pc{n}", Role.CLERK), "search", f"{n}-{i}", now=T0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = trail.verify(AUDITOR)
    assert result.ok, result.problems
    assert result.entries == 1 + 4 * 15
