"""Backups of a township's database on a PostgreSQL server (issue 18): ``govshare backup`` and the
备份与恢复 page make a pg_dump, restore puts the data back as it was at the backup — on the real
test server, with the real pg_dump and pg_restore. The audit trail stays one verified chain; a
tampered dump, another township's dump and a clerk are refused; a missing or too old pg_dump is
said in Chinese."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import file_sha256
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.security.sealed_file import MAGIC
from govshare_desktop.core.security.server_sealed import SEALING, TownshipSealing
from govshare_desktop.core.services import admin, setup
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store import server_backup, server_restore
from govshare_desktop.core.store.models import Account, Enrollment, Person
from govshare_desktop.core.store.township import add_village
from tests.core.use_cases import covers
from tests.e2e.cli import ADMIN_PASSWORD, add_clerk, govshare
from tests.e2e.launch import command

NOW = datetime(2026, 12, 3, 9, 0)
PASSWORD = "Guanli#2026pgb"
AUDITOR = Principal("auditor", Role.AUDITOR)
CLERK = Principal("clerk", Role.CLERK)
PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = "青禾镇_城乡居民养老保险参保_2026-10.csv"
VILLAGES = [("441900199001", "青禾社区居委会"), ("441900199201", "东岭村委会")]


def _township(url: str, code: str = "441900199000", name: str = "青禾镇") -> Context:
    setup.prepare_server(url, code=code, name=name, admin_password=PASSWORD).finish()
    return _signed_in(url)


def _signed_in(url: str, at: datetime = NOW) -> Context:
    signed = signin.sign_in(url, "admin", PASSWORD, now=at)
    return Context(signed.store, clock=lambda: at)


@pytest.fixture
def office(pg_migrated_url: str, samples: Path):  # type: ignore[no-untyped-def]
    """A township set up on the server, signed in as its 系统管理员, with people imported."""
    ctx = _township(pg_migrated_url)
    with ctx.store.transaction() as session:
        for code, name in VILLAGES:
            add_village(session, code, name)
    import_file(ctx.store.acting(CLERK), samples / PERSON_XLSX, user="clerk")
    yield ctx
    ctx.store.dispose()


def _count(ctx: Context, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _later(ctx: Context, minutes: int) -> Context:
    at = NOW + timedelta(minutes=minutes)
    return Context(ctx.store, clock=lambda: at)


@covers("admin.backup_folder", "admin.list_backups")
def test_backup_then_restore_gives_the_data_as_at_the_backup(
    office: Context, samples: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    people = _count(office, Person)
    made = admin.back_up(office, folder)
    assert made.path.parent == folder and made.path.name == "govshare-20261203-090000.dump"
    manifest = json.loads(Path(f"{made.path}.json").read_text("utf-8"))
    assert manifest["sha256"] == made.sha256 == file_sha256(made.path)
    assert (manifest["township"], manifest["size"]) == ("441900199000", made.size)
    assert oct(made.path.stat().st_mode & 0o777) == "0o600"
    (entry,) = audit_trail(office.store).entries(AUDITOR, action="backup")
    assert entry.object == made.path.name and json.loads(entry.detail)["sha256"] == made.sha256
    # Sealed under the township's key as pg_dump wrote it: no resident in the clear on disk.
    raw = made.path.read_bytes()
    assert raw.startswith(MAGIC) and b"PGDMP" not in raw and manifest["sealed"] == SEALING
    with office.store.sessions() as session:
        names = session.scalars(select(Person.name).limit(20)).all()
    assert names and not any(name.encode() in raw for name in names)
    with TownshipSealing(office.store).opened(made.path, manifest) as readable:
        assert readable != made.path and oct(readable.stat().st_mode & 0o777) == "0o600"
        toc = subprocess.run(
            [str(server_backup.find_tool("pg_restore")), "--list", str(readable)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert not readable.exists() and not readable.parent.exists()  # removed after
    assert "TABLE DATA public person " in toc and "TABLE DATA public audit_state " not in toc
    assert [f.path for f in admin.list_backups(office, folder)] == [made.path]
    url = office.store.engine.url
    assert admin.backup_folder(office).name == f"{url.host}_{url.port}_{url.database}"

    # After the backup: an account, enrolments, and the administrator's new password.
    later = _later(office, 30)
    admin.add_account(later, "li", Role.CLERK, "Wenshu#2026pgb")
    import_file(office.store.acting(CLERK), samples / ENROLLMENT_CSV, user="clerk")
    admin.change_own_password(later, PASSWORD, "Xinmima#2026pgb")
    assert _count(office, Enrollment) > 0 and _count(office, Account) == 2

    safety = admin.restore(later, made.path)
    assert safety.name == "govshare-before-restore-20261203-093000.dump" and safety.exists()
    listed = admin.list_backups(later, folder)
    assert [(f.kind, f.path) for f in listed] == [("恢复前", safety), ("备份", made.path)]

    signed = signin.sign_in(office.store.url, "admin", "Xinmima#2026pgb")  # the vault stayed
    after = Context(signed.store, clock=lambda: NOW + timedelta(hours=1))
    try:
        assert _count(after, Person) == people
        assert (_count(after, Enrollment), _count(after, Account)) == (0, 1)
        trail = audit_trail(after.store)
        result = trail.verify(AUDITOR)
        assert result.ok, result.problems
        added = trail.entries(AUDITOR, action="user_add")
        assert "li" in [e.object for e in added]  # the trail is kept, not rolled back
        stages = [
            json.loads(e.detail).get("stage") for e in trail.entries(AUDITOR, action="restore")
        ]
        assert stages == ["done", "start"]
        # The safety copy brings the later data back.
        admin.restore(after, safety)
        signed = signin.sign_in(office.store.url, "admin", "Xinmima#2026pgb")
        again = Context(signed.store, clock=lambda: NOW + timedelta(hours=2))
        assert _count(again, Enrollment) > 0 and _count(again, Account) == 2
        assert audit_trail(again.store).verify(AUDITOR).ok
        again.store.dispose()
    finally:
        after.store.dispose()


def test_only_the_newest_generations_are_kept(office: Context, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    leftover = folder / "govshare-20250101-000000.dump"  # a dump without its manifest
    leftover.write_bytes(b"PGDMP")
    orphan = folder / "govshare-20250102-000000.dump.json"  # a manifest without its dump
    orphan.write_text("{}")
    made = [admin.back_up(_later(office, n), folder, generations=2).path for n in range(3)]
    assert [f.path for f in admin.list_backups(office, folder)] == made[:0:-1]
    assert not made[0].exists() and not Path(f"{made[0]}.json").exists()
    assert not leftover.exists() and not orphan.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        name for p in made[1:] for name in (p.name, f"{p.name}.json")
    )


def test_a_cancelled_backup_leaves_nothing(
    office: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "backups"
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled, match="已取消备份"):
        admin.back_up(office.running(None, cancel), folder)
    # Cancelled while pg_dump runs (one that takes its time): it is stopped, nothing is left.
    slow = tmp_path / "pg_dump"
    slow.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && exec echo "pg_dump (PostgreSQL) 99.0"\n'
        "echo PGDMP-partial\n"  # to the pipe the sealer reads: part of a dump, then a hang
        "exec sleep 60\n"
    )
    slow.chmod(0o755)
    monkeypatch.setattr(server_backup, "find_tool", lambda name: slow)
    cancel = Cancel()
    threading.Timer(0.5, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled, match="已取消备份"):
        admin.back_up(office.running(None, cancel), folder)
    assert time.monotonic() - started < 10
    assert list(folder.iterdir()) == []
    assert audit_trail(office.store).entries(AUDITOR, action="backup") == []


def test_a_tampered_dump_is_refused(office: Context, tmp_path: Path) -> None:
    made = admin.back_up(office, tmp_path)
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    made.path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="已被改动或已损坏"):
        admin.restore(office, made.path)
    # The manifest rewritten to match: the audit trail's record of the backup still refuses it.
    manifest_path = Path(f"{made.path}.json")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["sha256"] = file_sha256(made.path)
    manifest_path.write_text(json.dumps(manifest))
    ctx = _signed_in(office.store.url)
    with pytest.raises(UserError, match="SHA-256 与备份时记录的不符"):
        admin.restore(ctx, made.path)
    manifest_path.unlink()
    with pytest.raises(UserError, match="找不到备份的说明文件"):
        admin.restore(_signed_in(office.store.url), made.path)
    a_file_backup = tmp_path / "govshare-20261203-080000.db"
    a_file_backup.write_bytes(b"SQLite format 3\x00" + bytes(200))
    with pytest.raises(UserError, match="不能恢复到服务器上的数据库"):
        admin.restore(_signed_in(office.store.url), a_file_backup)
    ctx = _signed_in(office.store.url)
    failed = audit_trail(ctx.store).entries(AUDITOR, action="restore")
    assert failed == []  # refused before anything: not even an attempt to record
    assert audit_trail(ctx.store).verify(AUDITOR).ok
    ctx.store.dispose()


def test_another_townships_dump_is_refused(
    office: Context, pg_server, _pg_template, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    name = pg_server.create_database(pg_server.new_name(), template=_pg_template)
    try:
        other = _township(pg_server.url(name), code="441900198000", name="白沙镇")
        theirs = admin.back_up(_later(other, 5), tmp_path / "theirs").path
        other.store.dispose()
        with pytest.raises(UserError, match="属于另一个乡镇（街道）（区划代码 441900198000）"):
            admin.restore(office, theirs)
        # Its manifest made to say it is ours: sealed under their key, it does not open here.
        manifest_path = Path(f"{theirs}.json")
        manifest = json.loads(manifest_path.read_text("utf-8"))
        manifest["township"] = "441900199000"
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(UserError, match="不是用本乡镇（街道）的密钥加密的"):
            admin.restore(_signed_in(office.store.url), theirs)
        # A dump from before dumps were sealed, so altered: the township inside it refuses it.
        unsealed = replace(_later(other, 10).store, secret=None)
        plain = server_backup.backup_server(unsealed, tmp_path / "plain", now=NOW)
        assert plain.path.read_bytes().startswith(b"PGDMP")
        manifest_path = Path(f"{plain.path}.json")
        manifest = json.loads(manifest_path.read_text("utf-8"))
        assert manifest["sealed"] is None
        manifest["township"] = "441900199000"
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(UserError, match="备份文件中的乡镇（街道）（441900198000）"):
            admin.restore(_signed_in(office.store.url), plain.path)
    finally:
        pg_server.drop_database(name)


def test_a_clerk_may_neither_back_up_nor_restore_a_server(office: Context, tmp_path: Path) -> None:
    made = admin.back_up(office, tmp_path)
    clerk = Context(office.store.acting(CLERK), clock=lambda: NOW)
    with pytest.raises(PermissionDenied, match="只能由系统管理员进行"):
        admin.back_up(clerk, tmp_path)
    with pytest.raises(PermissionDenied):
        admin.restore(clerk, made.path)
    assert [f.path for f in admin.list_backups(office, tmp_path)] == [made.path]


def test_a_missing_or_old_pg_dump_is_said_in_chinese(
    office: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = admin.back_up(office, tmp_path / "ok")
    real = server_backup.find_tool
    monkeypatch.setattr(server_backup, "find_tool", lambda name: None)
    with pytest.raises(UserError, match="未找到 pg_dump：请安装 PostgreSQL 客户端工具"):
        admin.back_up(office, tmp_path / "none")
    with pytest.raises(UserError, match="未找到 pg_restore：请安装 PostgreSQL 客户端工具"):
        admin.restore(office, made.path)
    assert not (tmp_path / "none").exists()

    old = tmp_path / "bin" / "pg_dump"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.2'\n")
    old.chmod(0o755)
    monkeypatch.setattr(
        server_backup, "find_tool", lambda name: old if name == "pg_dump" else real(name)
    )
    with pytest.raises(UserError, match=r"是 PostgreSQL 13 版，数据库服务器是 1[5-9]"):
        admin.back_up(office, tmp_path / "old")
    assert not (tmp_path / "old").exists()


def test_a_restore_waits_for_no_one(
    office: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another PC in the middle of a write: the restore gives up after the lock timeout and the
    database is as it was."""
    made = admin.back_up(office, tmp_path)
    people = _count(office, Person)
    monkeypatch.setattr(server_restore, "LOCK_TIMEOUT", "1s")
    url = office.store.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as other:
        other.execute("UPDATE person SET name = name WHERE id = (SELECT min(id) FROM person)")
        with pytest.raises(UserError, match="正被其他电脑上的程序使用"):
            admin.restore(office, made.path)
        other.rollback()
    ctx = _signed_in(office.store.url)
    assert _count(ctx, Person) == people
    stages = [json.loads(e.detail)["stage"] for e in ctx.trail().entries(AUDITOR, action="restore")]
    assert stages == ["failed", "start"]
    ctx.store.dispose()


def _app_role(pg_server, url: str) -> str:  # type: ignore[no-untyped-def]
    """A role as each PC's program connects with (least privilege, issue 18): rows only — the
    audit trail append-only, the schema revision read-only, the sequences only usable."""
    database = make_url(url).database
    role = pg_server.new_name("app")
    limited = {
        "audit_log": "SELECT, INSERT",
        "audit_state": "SELECT, INSERT, UPDATE",
        "alembic_version": "SELECT",
    }
    with pg_server.connect(database) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        for statement in (
            "GRANT CONNECT ON DATABASE {db} TO {r}",
            "GRANT USAGE ON SCHEMA public TO {r}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {r}",
        ):
            connection.execute(
                sql.SQL(statement).format(db=sql.Identifier(database), r=sql.Identifier(role))
            )
        for table, privileges in limited.items():
            connection.execute(
                sql.SQL("REVOKE ALL ON {} FROM {}").format(
                    sql.Identifier(table), sql.Identifier(role)
                )
            )
            connection.execute(
                sql.SQL(f"GRANT {privileges} ON {{}} TO {{}}").format(
                    sql.Identifier(table), sql.Identifier(role)
                )
            )
    return role


def test_the_application_role_backs_up_and_restores(
    office: Context, pg_server, samples: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Connected as a role that owns nothing and may not drop, truncate or read a sequence's
    value: the dump leaves the sequences' values out, the restore replaces rows, not tables."""
    role = _app_role(pg_server, office.store.url)
    url = make_url(office.store.url).set(username=role).render_as_string(hide_password=False)
    ctx = _signed_in(url)
    try:
        with ctx.store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT current_user").scalar() == role
        people = _count(ctx, Person)
        made = admin.back_up(ctx, tmp_path)
        assert json.loads(Path(f"{made.path}.json").read_text("utf-8"))["sequence_values"] is False
        import_file(ctx.store.acting(CLERK), samples / ENROLLMENT_CSV, user="clerk")
        assert _count(ctx, Enrollment) > 0
        admin.restore(_later(ctx, 10), made.path)
        after = _signed_in(url, NOW + timedelta(hours=1))
        assert (_count(after, Person), _count(after, Enrollment)) == (people, 0)
        assert audit_trail(after.store).verify(AUDITOR).ok
        # New rows after the restore get new numbers: the live sequences are ahead.
        import_file(after.store.acting(CLERK), samples / ENROLLMENT_CSV, user="clerk")
        assert _count(after, Enrollment) > 0
        after.store.dispose()
    finally:
        ctx.store.dispose()
        with pg_server.connect(make_url(url).database) as connection:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_password_never_goes_on_a_command_line() -> None:
    conninfo, env = server_backup.libpq_target(
        "postgresql+psycopg://govshare:Mi%40ma@db.example:5433/qinghe?sslmode=verify-full"
    )
    assert conninfo == "postgresql://govshare@db.example:5433/qinghe?sslmode=verify-full"
    assert env["PGPASSWORD"] == "Mi@ma"
    conninfo, env = server_backup.libpq_target("postgresql+psycopg://govshare@localhost/qinghe")
    assert "PGPASSWORD" not in env or env["PGPASSWORD"] == os.environ.get("PGPASSWORD")


# ---------------------------------------------------------------- the command line


def test_backup_and_restore_from_the_command_line(
    pg_url: str, samples: Path, tmp_path: Path
) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}  # this PC's folder for the server's dumps
    init = subprocess.run(
        command(
            "cli", "server", "init", "--url", pg_url, "--area", "441900199000", "--name", "青禾镇"
        ),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "GOVSHARE_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    assert init.returncode == 0, init.stderr
    add_clerk(pg_url)
    govshare("import", str(samples / PERSON_XLSX), db=pg_url, check=True)
    refused = govshare("backup", db=pg_url, env=env)
    assert refused.returncode != 0 and "只能由系统管理员进行" in refused.stderr
    made = govshare("backup", db=pg_url, user="admin", env=env, check=True)
    assert "已备份" in made.stdout and ".dump" in made.stdout and "SHA-256" in made.stdout
    (dump,) = (tmp_path / "data").rglob("govshare-*.dump")
    before = govshare("info", db=pg_url, check=True).stdout
    govshare("import", str(samples / ENROLLMENT_CSV), db=pg_url, check=True)
    assert govshare("info", db=pg_url, check=True).stdout != before

    restored = govshare("restore", str(dump), db=pg_url, user="admin", env=env, check=True)
    assert "已从" in restored.stdout and "govshare-before-restore-" in restored.stdout
    assert govshare("info", db=pg_url, check=True).stdout == before
    verified = govshare("audit", "verify", db=pg_url, user="admin", check=True)
    assert "完整" in verified.stdout

    # The dump opened for the server's administrator to restore by hand: pg_restore reads it.
    plain = tmp_path / "by-hand.dump"
    opened = govshare(
        "restore", str(dump), "--open-to", str(plain), db=pg_url, user="admin", env=env, check=True
    )
    assert "已把" in opened.stdout and "请立即删除" in opened.stdout
    assert plain.read_bytes().startswith(b"PGDMP") and not dump.read_bytes().startswith(b"PGDMP")
    toc = subprocess.run(
        [str(server_backup.find_tool("pg_restore")), "--list", str(plain)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "TABLE DATA public person " in toc


def test_each_dump_is_an_anchor_for_the_servers_audit_trail(
    office: Context, tmp_path: Path
) -> None:
    """The manifest keeps the trail's head at the dump; ``audit verify`` checks the server's
    trail against every dump's head, as it does against a file backup's own trail."""
    folder = tmp_path / "backups"
    made = admin.back_up(office, folder)
    manifest_path = Path(f"{made.path}.json")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    head = manifest["audit_head"]
    assert head["seq"] > 0 and head["mac"]
    admin.add_account(_later(office, 5), "li", Role.CLERK, "Wenshu#2026pgb")  # the trail grows

    result = admin.verify_audit(office, backups=folder)
    [checked] = [a for a in result.anchors if a.source == f"备份 {made.path.name}"]
    assert result.ok and checked.reached is True and checked.anchor is not None
    assert checked.anchor.seq == head["seq"]

    # A trail cut back behind what a dump saw, or rewritten: the dump says so.
    manifest["audit_head"] = {"seq": head["seq"] + 1000, "mac": head["mac"]}
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    cut = admin.verify_audit(office, backups=folder)
    assert not cut.ok and [p.kind for p in cut.problems] == ["truncated"]
    manifest["audit_head"] = {"seq": head["seq"], "mac": "0" * len(head["mac"])}
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    rewritten = admin.verify_audit(office, backups=folder)
    assert not rewritten.ok and [p.kind for p in rewritten.problems] == ["rewritten"]

    del manifest["audit_head"]  # a dump made before heads were kept: read, not counted
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    older = admin.verify_audit(office, backups=folder)
    [unread] = [a for a in older.anchors if a.source == made.path.name]
    assert older.ok and unread.reached is None


@covers("admin.open_server_backup")
def test_a_sealed_dump_is_opened_for_a_restore_by_hand(office: Context, tmp_path: Path) -> None:
    made = admin.back_up(office, tmp_path / "backups")
    target = tmp_path / "plain.dump"
    clerk = Context(office.store.acting(CLERK), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        admin.open_server_backup(clerk, made.path, target)
    assert not target.exists()

    admin.open_server_backup(office, made.path, target)
    assert target.read_bytes().startswith(b"PGDMP")
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    (entry,) = audit_trail(office.store).entries(AUDITOR, action="backup_open")
    assert entry.object == made.path.name and json.loads(entry.detail)["target"] == str(target)
    with pytest.raises(UserError, match="文件已存在，不会覆盖"):
        admin.open_server_backup(office, made.path, target)

    damaged = bytearray(made.path.read_bytes())
    damaged[-40] ^= 1
    made.path.write_bytes(bytes(damaged))
    with pytest.raises(UserError, match="已被改动或已损坏"):
        admin.open_server_backup(office, made.path, tmp_path / "other.dump")
    assert not (tmp_path / "other.dump").exists()
