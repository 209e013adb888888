"""The audit trail: append-only, hash-chained, and every kind of tampering named — an edited,
deleted, reordered or out-of-band entry, a cut-off tail or a whole rewrite (against an anchor)."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from govshare_desktop.core.security.audit import Anchor, AuditFailed, AuditTrail, derive_key
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role

CLERK = Principal("li", Role.CLERK)
AUDITOR = Principal("zhao", Role.AUDITOR)
SYSADMIN = Principal("admin", Role.SYSADMIN)
T0 = datetime(2026, 11, 27, 9, 0)


@pytest.fixture
def trail(store) -> AuditTrail:
    trail = AuditTrail(store, derive_key(os.urandom(32)))
    for i in range(8):
        trail.log(CLERK, "search", f"查找 {i}", detail={"hits": i}, now=T0 + timedelta(minutes=i))
    return trail


def _raw(trail: AuditTrail) -> sqlite3.Connection:
    """Someone with the file and a SQLite tool, past the triggers."""
    connection = sqlite3.connect(trail.store.path)
    connection.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    connection.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return connection


def test_an_intact_trail_verifies_and_has_a_head(trail: AuditTrail) -> None:
    result = trail.verify(AUDITOR)
    assert result.ok and result.entries == 8 and result.head is not None
    assert result.head.seq == 8 and trail.verify(SYSADMIN, trail.head()).ok
    assert Anchor.parse(str(result.head)) == result.head


def test_the_table_refuses_update_and_delete(trail: AuditTrail) -> None:
    with (
        trail.store.engine.begin() as connection,
        pytest.raises((IntegrityError, OperationalError)),
    ):
        connection.exec_driver_sql("UPDATE audit_log SET object = 'x' WHERE seq = 2")
    with (
        trail.store.engine.begin() as connection,
        pytest.raises((IntegrityError, OperationalError)),
    ):
        connection.exec_driver_sql("DELETE FROM audit_log WHERE seq = 2")


@pytest.mark.parametrize(
    ("tamper", "seq", "kind"),
    [
        ("UPDATE audit_log SET object = '查找 99' WHERE seq = 4", 4, "altered"),
        ("DELETE FROM audit_log WHERE seq = 5", 5, "missing"),
        ("UPDATE audit_log SET at = '2026-11-27 08:00:00.000000' WHERE seq = 3", 3, "altered"),
        (
            "INSERT INTO audit_log VALUES (9, '2026-11-27 10:00:00.000000', 'x', 'clerk', 'login',"
            " '', 'ok', '{}', '" + "ab" * 32 + "')",
            9,
            "altered",
        ),
    ],
    ids=["edited", "deleted", "backdated", "appended out of band"],
)
def test_tampering_is_named(trail: AuditTrail, tamper: str, seq: int, kind: str) -> None:
    with _raw(trail) as connection:
        connection.execute(tamper)
    result = trail.verify(AUDITOR)
    assert not result.ok
    assert (result.problems[0].seq, result.problems[0].kind) == (seq, kind)
    assert f"第 {seq}" in result.problems[0].message


def test_reordered_entries_are_named(trail: AuditTrail) -> None:
    with _raw(trail) as connection:
        rows = connection.execute(
            "SELECT * FROM audit_log WHERE seq IN (2, 6) ORDER BY seq"
        ).fetchall()
        connection.execute("DELETE FROM audit_log WHERE seq IN (2, 6)")
        for (_seq, *rest), (other_seq, *_rest) in zip(rows, reversed(rows), strict=True):
            connection.execute(
                "INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?)", (other_seq, *rest)
            )
    assert {p.seq for p in trail.verify(AUDITOR).problems} >= {2, 6}


def test_a_cut_tail_or_a_rewrite_shows_against_an_anchor(trail: AuditTrail) -> None:
    anchor = trail.head()
    assert anchor is not None
    with _raw(trail) as connection:
        connection.execute("DELETE FROM audit_log WHERE seq > 6")
    assert trail.verify(AUDITOR).ok  # the rest of the chain is intact…
    cut = trail.verify(AUDITOR, anchor)  # …but the anchor in an export says more existed
    assert [p.kind for p in cut.problems] == ["truncated"]
    # Rewritten whole by someone holding the key: a valid chain, but not the one exported.
    with _raw(trail) as connection:
        connection.execute("DELETE FROM audit_log")
    for i in range(9):
        trail.log(CLERK, "search", f"改写 {i}", now=T0)
    rewritten = trail.verify(AUDITOR, anchor)
    assert [p.kind for p in rewritten.problems] == ["rewritten"]


def test_only_the_audit_admin_reads_entries(trail: AuditTrail) -> None:
    assert len(trail.entries(AUDITOR, action="search", limit=3)) == 3
    for who in (CLERK, SYSADMIN):
        with pytest.raises(PermissionDenied, match="无权查看审计日志"):
            trail.entries(who)
    with pytest.raises(PermissionDenied):
        trail.verify(CLERK)


def test_an_entry_that_cannot_be_written_stops_the_action(trail: AuditTrail, monkeypatch) -> None:
    def broken(*_a, **_k):
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(trail, "record", broken)
    with pytest.raises(AuditFailed, match="操作未执行"):
        trail.log(CLERK, "export", "x.xlsx")
