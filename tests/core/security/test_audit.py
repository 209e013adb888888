"""The audit trail: append-only, hash-chained, and every kind of tampering named — an edited,
deleted, reordered or out-of-band entry, a cut-off tail or a whole rewrite (against an anchor)."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from govshare_desktop.core.security import crypto
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
            " '', 'ok', '{}', '" + "ab" * 32 + "', NULL)",
            9,
            "altered",
        ),
        (
            "INSERT INTO audit_log VALUES (9, '2026-11-27 10:00:00.000000', 'x', 'clerk', 'login',"
            " '', 'ok', '{}', '" + "ab" * 32 + '\', \'{"next":"' + "cd" * 32 + '",'
            '"sig":"' + "ef" * 64 + "\"}')",
            9,
            "altered",
        ),
    ],
    ids=["edited", "deleted", "backdated", "appended in the old format", "appended, signed"],
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
                "INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?)", (other_seq, *rest)
            )
    assert {p.seq for p in trail.verify(AUDITOR).problems} >= {2, 6}


def test_a_cut_tail_shows_in_plain_verify(trail: AuditTrail) -> None:
    """The writer key belongs to entry 9; a trail that ends at 6 does not name it."""
    anchor = trail.head()
    assert anchor is not None
    with _raw(trail) as connection:
        connection.execute("DELETE FROM audit_log WHERE seq > 6")
    cut = trail.verify(AUDITOR)
    assert [(p.seq, p.kind) for p in cut.problems] == [(7, "truncated")]
    assert "第 6 条之后被截断" in cut.problems[0].message and "第 7–8 条" in cut.problems[0].message
    writer = cut.anchors[0]
    assert writer.source.startswith("写入密钥") and writer.reached is False
    against = trail.verify(AUDITOR, anchor, source="导出文件")
    assert [p.kind for p in against.problems] == ["truncated", "truncated"]
    assert [a.reached for a in against.anchors] == [False, False]


@pytest.mark.parametrize("state", ["kept", "deleted", "forged"])
def test_cutting_the_writer_key_too_does_not_help(trail: AuditTrail, state: str) -> None:
    with _raw(trail) as connection:
        connection.execute("DROP TRIGGER IF EXISTS audit_state_no_delete")
        connection.execute("DELETE FROM audit_log WHERE seq > 6")
        next_key = json.loads(
            connection.execute("SELECT seal FROM audit_log WHERE seq = 6").fetchone()[0]
        )["next"]
        if state == "deleted":
            connection.execute("DELETE FROM audit_state")
        elif state == "forged":  # names the right key, but nobody has its private half
            private, _public = crypto.new_signing_key()
            connection.execute(
                "UPDATE audit_state SET seq = 7, public_key = ?, private_key = ?",
                (next_key, private.hex()),
            )
    problems = trail.verify(AUDITOR).problems
    assert [p.seq for p in problems] == [7] and problems[0].kind in {"truncated", "replaced"}
    # …and what the program writes next starts a new run of keys, which is named too.
    trail.log(CLERK, "search", "之后")
    after = trail.verify(AUDITOR).problems
    assert [(p.seq, p.kind) for p in after] == [(7, "restart")]


def test_a_wholly_rewritten_trail_shows_only_against_an_anchor(trail: AuditTrail) -> None:
    """What a clerk with the file can still do: throw the whole trail away, writer key
    included, and start a new one. Its first entry looks like a new database's; only an anchor
    kept elsewhere (an export, a package, a backup) shows it."""
    anchor = trail.head()
    assert anchor is not None
    with _raw(trail) as connection:
        connection.execute("DROP TRIGGER IF EXISTS audit_state_no_delete")
        connection.execute("DELETE FROM audit_log")
        connection.execute("DELETE FROM audit_state")
    for i in range(9):
        trail.log(CLERK, "search", f"改写 {i}", now=T0)
    assert trail.verify(AUDITOR).ok
    rewritten = trail.verify(AUDITOR, anchor)
    assert [p.kind for p in rewritten.problems] == ["rewritten"]


def test_every_entry_is_signed_with_a_key_used_once(trail: AuditTrail) -> None:
    with _raw(trail) as connection:
        seals = [json.loads(s) for (s,) in connection.execute("SELECT seal FROM audit_log")]
        state = connection.execute(
            "SELECT seq, public_key, private_key FROM audit_state"
        ).fetchone()
    assert "key" in seals[0] and all("key" not in s for s in seals[1:])  # one run of keys
    nexts = [s["next"] for s in seals]
    assert len(set(nexts)) == len(nexts) and state[:2] == (9, nexts[-1])
    assert crypto.signing_public(bytes.fromhex(state[2])).hex() == nexts[-1]


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
