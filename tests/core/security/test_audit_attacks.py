"""The audit trail against the people it records (issue 13): a 经办人 holding the database key
(their own password unwraps it), the program's source and the file cannot take their entries out
of the trail unnoticed — not by recomputing the chain, not by cutting its tail, not by putting a
backup in its place. The normal flows (sign-in, backups, restore, an upgraded old database) still
verify, and only the 审计管理员 and the 系统管理员 may verify."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3

from govshare_desktop.core.export.audited import audited_write, read_anchor
from govshare_desktop.core.security import crypto, signin
from govshare_desktop.core.security.audit import (
    GENESIS,
    Anchor,
    AuditTrail,
    audit_trail,
    canonical,
    derive_key,
)
from govshare_desktop.core.security.audit_format import _digest, _mac
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.security.safekeeping import backup_now, restore_from
from govshare_desktop.core.security.vault import Vault
from govshare_desktop.core.store.backup import backup_before_upgrade
from govshare_desktop.core.store.engine import Store, open_store

NOW = datetime(2026, 12, 1, 9, 0)
ADMIN_PW, CLERK_PW, AUDITOR_PW = "Qingshui@2026a", "Clerk#2026a", "Shenji#2026a"
AUDITOR = Principal("zhao", Role.AUDITOR)
SYSADMIN = Principal("admin", Role.SYSADMIN)
COLUMNS = "seq, at, username, role, action, object, outcome, detail, mac, seal"


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A set-up database with a 经办人 (li) and an 审计管理员 (zhao)."""
    db = tmp_path / "gov.db"
    setup = signin.initialise(db, admin_password=ADMIN_PW, now=NOW)
    signin.add_account(setup.store, "li", Role.CLERK, CLERK_PW, must_change=False, now=NOW)
    signin.add_account(setup.store, "zhao", Role.AUDITOR, AUDITOR_PW, must_change=False, now=NOW)
    setup.store.dispose()
    return db


def _as(db: Path, user: str, password: str) -> Store:
    return signin.sign_in(db, user, password, now=NOW).store


def _verify(db: Path, anchor: Anchor | None = None, user: str = "zhao") -> Any:
    """As ``govshare audit verify`` does it: sign in (which writes its own entry), verify."""
    store = _as(db, user, AUDITOR_PW if user == "zhao" else ADMIN_PW)
    try:
        return audit_trail(store).verify(store.principal, anchor)
    finally:
        store.dispose()


def _export(store: Store, path: Path) -> Anchor:
    """An exported file carrying the chain head (as every export does), read back."""

    def write(temp: Path, anchor: str) -> None:
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.properties.keywords = f"govshare-audit:{anchor}"
        workbook.save(temp)

    audited_write(store, path, write, masked=True, count=0)
    return Anchor.parse(read_anchor(path) or "")


def _clerks_work(db: Path, tmp_path: Path) -> tuple[list[int], Anchor]:
    """li shows full personal data three times, then exports a list (its anchor is taken
    after the three entries). Returns the seqs of the unmask entries and the export's anchor."""
    store = _as(db, "li", CLERK_PW)
    try:
        signin.unmask(store, "核对低保名单", "花名册", now=NOW + timedelta(minutes=1))
        signin.unmask(store, "核对低保名单", "李四", now=NOW + timedelta(minutes=2))
        signin.unmask(store, "私人用途", "王五", now=NOW + timedelta(minutes=3))
        anchor = _export(store, tmp_path / "list.xlsx")
        audit_trail(store).log(store.principal, "search", "441900", now=NOW + timedelta(minutes=5))
    finally:
        store.dispose()
    raw = _raw(db, _clerk_key(db))
    try:
        seqs = [r[0] for r in raw.execute("SELECT seq FROM audit_log WHERE action = 'unmask'")]
    finally:
        raw.close()
    assert len(seqs) == 3
    return seqs, anchor


def _verify_directly(db: Path) -> Any:
    """The trail as it is on disk (no sign-in entry written first)."""
    key = _clerk_key(db)
    store = open_store(db, key=key).acting(AUDITOR, key)
    try:
        return audit_trail(store).verify(AUDITOR)
    finally:
        store.dispose()


def _without_none(db: Path) -> list[Any]:
    connection = _raw(db, _clerk_key(db))
    try:
        return connection.execute("SELECT seq FROM audit_log").fetchall()
    finally:
        connection.close()


def _clerk_key(db: Path) -> bytes:
    """What the clerk can reach: the database key, unwrapped with their own password."""
    return Vault.load(db).unlock("li", CLERK_PW, NOW)


def _raw(db: Path, key: bytes) -> Any:
    """The database opened with the key and a SQLCipher tool, past the triggers."""
    connection = sqlcipher3.connect(str(db))
    connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_state_no_delete"):
        connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return connection


def _without(connection: Any, seqs: list[int]) -> list[list[Any]]:
    """The trail without ``seqs``, renumbered (what the clerk wants it to look like)."""
    rows = [list(r) for r in connection.execute(f"SELECT {COLUMNS} FROM audit_log ORDER BY seq")]
    kept = [r for r in rows if r[0] not in seqs]
    for number, row in enumerate(kept, start=1):
        row[0] = number
    return kept


def _body(row: list[Any]) -> bytes:
    return canonical(row[0], datetime.fromisoformat(row[1]), *row[2:8])


def _replace(connection: Any, rows: list[list[Any]], state: tuple[Any, ...] | None) -> None:
    connection.execute("DELETE FROM audit_log")
    connection.executemany(f"INSERT INTO audit_log ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    connection.execute("DELETE FROM audit_state")
    if state is not None:
        connection.execute("INSERT INTO audit_state VALUES (1, ?, ?, ?, NULL)", state)
    connection.commit()


# ---------------------------------------------------------------- the attack of the issue


def test_recomputing_the_chain_with_the_database_key_is_found(office: Path, tmp_path) -> None:
    """The attack that passed before: delete the three entries and recompute every MAC with the
    key derived from the database key. That key no longer makes a valid entry."""
    seqs, exported = _clerks_work(office, tmp_path)
    key = _clerk_key(office)
    connection = _raw(office, key)
    rows = _without(connection, seqs)
    previous = GENESIS
    for row in rows:
        row[8], row[9] = _mac(derive_key(key), previous, _body(row)), None
        previous = row[8]
    _replace(connection, rows, None)
    connection.close()

    before_sign_in = _verify_directly(office)
    assert [p.kind for p in before_sign_in.problems] == ["rewritten"]
    assert "整体改写" in before_sign_in.problems[0].message
    result = _verify(office)  # the auditor's sign-in appends to the rewritten trail
    assert [(p.seq, p.kind) for p in result.problems] == [(len(_without_none(office)), "rewritten")]
    assert "用数据库密钥改写" in result.problems[0].message
    against = _verify(office, exported)
    assert "rewritten" in [p.kind for p in against.problems]
    assert any(a.source == "指定的锚点" and a.reached is False for a in against.anchors)


def test_re_signing_from_the_gap_with_the_writer_key_is_found(office: Path, tmp_path) -> None:
    """The best the clerk can do with what the program holds: the one private key in the
    database (the writer key, meant for the next entry). The entry after the gap needs the key
    its predecessor names, long gone; re-signing with the writer key is named at the gap."""
    seqs, exported = _clerks_work(office, tmp_path)
    connection = _raw(office, _clerk_key(office))
    stolen = connection.execute("SELECT private_key FROM audit_state").fetchone()[0]
    rows = _without(connection, seqs)
    first = seqs[0]
    key = bytes.fromhex(stolen)
    for row in rows[first - 1 :]:
        previous = rows[row[0] - 2][8]
        next_private, next_public = crypto.new_signing_key()
        row[8] = _digest(previous, _body(row), next_public.hex(), None)
        row[9] = json.dumps(
            {"next": next_public.hex(), "sig": crypto.sign(key, bytes.fromhex(row[8])).hex()}
        )
        key = next_private
    _replace(connection, rows, (len(rows) + 1, json.loads(rows[-1][9])["next"], key.hex()))
    connection.close()

    result = _verify(office)
    assert [(p.seq, p.kind) for p in result.problems] == [(first, "altered")]
    assert f"第 {first} 条" in result.problems[0].message
    assert not _verify(office, exported).ok


def test_starting_a_new_run_of_keys_at_the_gap_is_named(office: Path, tmp_path) -> None:
    """Or the clerk starts afresh at the gap with a key of their own, and leaves a writer key
    that matches: a consistent chain from there — and a restart, named at the gap."""
    seqs, exported = _clerks_work(office, tmp_path)
    connection = _raw(office, _clerk_key(office))
    rows = _without(connection, seqs)
    first = seqs[0]
    key, public = crypto.new_signing_key()
    for row in rows[first - 1 :]:
        previous = rows[row[0] - 2][8]
        restart = {"key": public.hex(), "why": "mismatch"} if row[0] == first else None
        next_private, next_public = crypto.new_signing_key()
        row[8] = _digest(previous, _body(row), next_public.hex(), restart)
        seal = {"next": next_public.hex(), "sig": crypto.sign(key, bytes.fromhex(row[8])).hex()}
        row[9] = json.dumps({**seal, **(restart or {})})
        key = next_private
    _replace(connection, rows, (len(rows) + 1, json.loads(rows[-1][9])["next"], key.hex()))
    connection.close()

    result = _verify(office)
    assert [(p.seq, p.kind) for p in result.problems] == [(first, "restart")]
    assert f"第 {first - 1} 条之后的记录可能被截断或改写" in result.problems[0].message
    against = _verify(office, exported)
    assert [p.kind for p in against.problems] == ["restart", "rewritten"]


def test_a_cut_tail_is_found_by_plain_verify(office: Path, tmp_path) -> None:
    seqs, _exported = _clerks_work(office, tmp_path)
    connection = _raw(office, _clerk_key(office))
    last = connection.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
    connection.execute("DELETE FROM audit_log WHERE seq >= ?", (seqs[0],))
    connection.commit()
    connection.close()
    cut = _verify_directly(office)
    assert [(p.seq, p.kind) for p in cut.problems] == [(seqs[0], "truncated")]
    assert f"第 {seqs[0]}–{last} 条不见了" in cut.problems[0].message
    assert cut.anchors[0].reached is False
    # Signing in to verify writes an entry: it starts a new run of keys, and the gap is named.
    result = _verify(office)
    assert [(p.seq, p.kind) for p in result.problems] == [(seqs[0], "restart")]
    assert f"第 {seqs[0]}–{last} 条不见了" in result.problems[0].message


def test_a_backup_put_in_place_of_the_database_is_found(office: Path, tmp_path) -> None:
    """A backup holds no writer key: copied over the database (instead of restored), it can
    neither be continued nor pass for the live trail."""
    store = _as(office, "li", CLERK_PW)
    made = backup_now(store, now=NOW)
    signin.unmask(store, "私人用途", "王五", now=NOW + timedelta(minutes=1))
    store.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{office}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(made.path, office)
    result = _verify_directly(office)
    assert [p.kind for p in result.problems] == ["replaced"]
    assert "不是经「恢复备份」换入的" in result.problems[0].message
    # The sign-ins since cannot continue its keys: they start a new run, which is named.
    again = _verify(office)
    assert [p.kind for p in again.problems] == ["restart"]
    assert "数据库是备份副本" in again.problems[0].message


# ---------------------------------------------------------------- the normal flows


def test_backups_hold_no_writer_key_and_a_restore_keeps_the_trail(office: Path) -> None:
    clerk = _as(office, "li", CLERK_PW)
    made = backup_now(clerk, now=NOW)
    signin.unmask(clerk, "核对", "李四", now=NOW + timedelta(minutes=1))
    clerk.dispose()
    copy = _raw(made.path, _clerk_key(office))
    assert copy.execute("SELECT private_key, sealed FROM audit_state").fetchone() == (
        None,
        "backup",
    )
    copy.close()

    admin = _as(office, "admin", ADMIN_PW)
    restore_from(admin, made.path, now=NOW + timedelta(minutes=5))
    result = _verify(office)
    assert result.ok, result.problems
    store = _as(office, "zhao", AUDITOR_PW)
    try:
        entries = [
            (e.action, e.object) for e in reversed(audit_trail(store).entries(store.principal))
        ]
    finally:
        store.dispose()
    # The unmask after the backup is still in the trail of the restored database.
    backup_at = entries.index(("backup", made.path.name))
    assert entries[backup_at + 1 :][:4] == [
        ("unmask", "李四"),
        ("login", ""),
        ("restore", made.path.name),
        ("restore", made.path.name),
    ]
    checked = {a.source: a.reached for a in result.anchors}
    assert checked[f"备份 {made.path.name}"] is True
    assert any(name.startswith("备份 govshare-before-restore-") for name in checked)
    assert all(checked.values())
    assert _verify(office, user="admin").ok  # the 系统管理员 verifies too


def test_roles_who_may_verify(office: Path) -> None:
    for user, password in (("zhao", AUDITOR_PW), ("admin", ADMIN_PW)):
        store = _as(office, user, password)
        assert audit_trail(store).verify(store.principal).ok
        store.dispose()
    clerk = _as(office, "li", CLERK_PW)
    with pytest.raises(PermissionDenied, match="无权校验审计日志"):
        audit_trail(clerk).verify(clerk.principal)
    clerk.dispose()


# ---------------------------------------------------------------- an old database


def _old_database(path: Path, key: bytes, entries: int) -> None:
    """A database at revision 0004 with a format-1 trail, as the previous version wrote it."""
    from alembic import command

    from govshare_desktop.core.store.engine import create_engine_for
    from govshare_desktop.core.store.migrate import _config

    engine = create_engine_for(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0004")
        previous = GENESIS
        for seq in range(1, entries + 1):
            at = NOW + timedelta(minutes=seq)
            body = canonical(seq, at, "li", "clerk", "unmask", f"人 {seq}", "ok", "{}")
            mac = _mac(derive_key(key), previous, body)
            conn.exec_driver_sql(
                "INSERT INTO audit_log VALUES (?, ?, 'li', 'clerk', 'unmask', ?, 'ok', '{}', ?)",
                (seq, at.isoformat(sep=" ", timespec="microseconds"), f"人 {seq}", mac),
            )
            previous = mac
    engine.dispose()


def test_an_upgraded_database_verifies_and_is_signed_from_then_on(tmp_path: Path) -> None:
    db, key = tmp_path / "old.db", b"k" * 32
    _old_database(db, key, 3)
    store = open_store(db, before_upgrade=backup_before_upgrade).acting(SYSADMIN, key)
    try:
        audit_trail(store).log(SYSADMIN, "login", now=NOW + timedelta(hours=1))
        result = audit_trail(store).verify(AUDITOR)
        assert result.ok, result.problems
        assert (result.entries, result.format1) == (5, 3)
        entries = audit_trail(store).entries(Principal("zhao", Role.AUDITOR))
        assert [e.action for e in entries][:2] == ["login", "upgrade"]
        assert entries[1].seal is not None and entries[2].seal is None
        # The backup taken before the upgrade is an anchor the trail reaches.
        assert any(a.source.startswith("备份 govshare-before-upgrade-") for a in result.anchors)
        assert all(a.reached for a in result.anchors)
    finally:
        store.dispose()

    # An old entry edited: named as before.
    connection = _raw_plain(db)
    connection.execute("UPDATE audit_log SET object = '改过' WHERE seq = 2")
    connection.commit()
    store = open_store(db).acting(SYSADMIN, key)
    try:
        assert [(p.seq, p.kind) for p in audit_trail(store).verify(AUDITOR).problems] == [
            (2, "altered")
        ]
    finally:
        store.dispose()


def test_an_upgraded_trail_cannot_be_rewritten_in_the_old_format(tmp_path: Path) -> None:
    """The old format's key comes from the database key: after the upgrade, a trail that ends
    in the old format (everything recomputed with it) is named."""
    db, key = tmp_path / "old.db", b"k" * 32
    _old_database(db, key, 3)
    store = open_store(db, before_upgrade=backup_before_upgrade).acting(SYSADMIN, key)
    audit_trail(store).log(SYSADMIN, "login", now=NOW + timedelta(hours=1))
    store.dispose()
    connection = _raw_plain(db)
    rows = _without(connection, [2])
    previous = GENESIS
    for row in rows:
        row[8], row[9] = _mac(derive_key(key), previous, _body(row)), None
        previous = row[8]
    _replace(connection, rows, None)
    connection.close()
    store = open_store(db).acting(SYSADMIN, key)
    try:
        problems = audit_trail(store).verify(AUDITOR).problems
    finally:
        store.dispose()
    assert [p.kind for p in problems] == ["rewritten", "rewritten"]  # chain, and the backup
    assert "before-upgrade" in problems[1].message or "备份" in problems[1].message


def _raw_plain(db: Path) -> Any:
    import sqlite3

    connection = sqlite3.connect(db)
    for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_state_no_delete"):
        connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return connection


def test_a_trail_written_through_the_audit_trail_api_still_verifies(store: Store) -> None:
    """The API others call (record/log) is unchanged."""
    trail = AuditTrail(store, derive_key(b"x" * 32))
    with store.transaction() as session:
        trail.record(session, Principal("li", Role.CLERK), "import", "pkg", detail={"seq": 7})
        trail.record(session, Principal("li", Role.CLERK), "import", "pkg2", outcome="refused")
    trail.log(Principal("li", Role.CLERK), "export", "x.xlsx", detail={"sha256": "0" * 64})
    assert trail.verify(AUDITOR).ok
