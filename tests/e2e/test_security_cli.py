"""Journey of the accountable office: accounts and roles from the command line, a clerk's work in
the audit trail, backup and restore of the encrypted database, and tampering found by
``govshare audit verify`` — with the chain head carried by an exported file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli import connect, govshare

AUDITOR_FIRST, AUDITOR = "Shenji#2026first", "Shenji#2026e2e"


def test_accounts_audit_backup_restore_and_tampering(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    assert (
        govshare("demo", "--households", "20", "--seed", "4", db=db, user="admin").returncode == 0
    )
    # The demo helper added the 经办人 "clerk"; the 系统管理员 adds an 审计管理员 too.
    govshare(
        "users",
        "add",
        "zhao",
        "--role",
        "auditor",
        db=db,
        user="admin",
        env={"GOVSHARE_NEW_PASSWORD": AUDITOR_FIRST},
        check=True,
    )
    first = govshare("info", db=db, user="zhao", password=AUDITOR_FIRST)
    assert first.returncode == 2 and "须先修改密码" in first.stderr
    govshare(
        "passwd",
        db=db,
        user="zhao",
        password=AUDITOR_FIRST,
        env={"GOVSHARE_NEW_PASSWORD": AUDITOR},
        check=True,
    )
    listed = govshare("users", "list", db=db, user="admin", check=True).stdout
    assert "clerk" in listed and "审计管理员" in listed
    refused = govshare("users", "list", db=db)
    assert refused.returncode == 2 and "无权管理用户" in refused.stderr
    wrong = govshare("info", db=db, password="Wrong#2026x")
    assert wrong.returncode == 2 and "用户名或密码错误" in wrong.stderr

    # The clerk's work, and an export that carries the audit trail's head.
    govshare("search", "441900", db=db, check=True)
    govshare("forms", "prefill", "--period", "2026-10", "--save", db=db, check=True)
    exported = tmp_path / "t.pdf"
    govshare(
        "export",
        "mz_elderly",
        "--period",
        "2026-10",
        "--format",
        "pdf",
        "--out",
        str(exported),
        db=db,
        check=True,
    )
    trail = govshare("audit", "list", db=db, user="zhao", password=AUDITOR, check=True).stdout
    assert "\tsearch\t" in trail and "\texport\t" in trail and "\tlogin_failed\t" in trail
    assert govshare("audit", "list", db=db, user="admin").returncode == 2  # not the sysadmin's

    # Backup, a change, restore: the change is gone and the trail still verifies.
    backups = tmp_path / "backups"
    made = govshare("backup", "--out", str(backups), db=db, user="admin", check=True)
    backup_file = Path(made.stdout.split("：", 1)[1].split("（", 1)[0])
    assert backup_file.exists() and Path(f"{backup_file}.keys").exists()
    assert not backup_file.read_bytes().startswith(b"SQLite format 3")
    govshare(
        "forms",
        "set",
        "S_LOW_INCOME",
        "9",
        "--period",
        "2026-10",
        "--area",
        "441900199201",
        db=db,
        check=True,
    )
    govshare("restore", str(backup_file), db=db, user="admin", check=True)
    with connect(db) as conn:
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM form_value WHERE element = 'S_LOW_INCOME'"
            ).fetchone()[0]
            == 0
        )
    verified = govshare(
        "audit", "verify", "--json", "--against", str(exported), db=db, user="admin", check=True
    )
    assert json.loads(verified.stdout)["ok"]

    # Someone with the key and a SQLite tool edits an entry: named, non-zero exit.
    with connect(db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET object = '改过' WHERE seq = 3")
        conn.commit()
    broken = govshare("audit", "verify", "--json", db=db, user="admin")
    assert broken.returncode == 3
    assert json.loads(broken.stdout)["problems"][0]["seq"] == 3


def test_a_taken_user_name_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    # init made the administrator, and the helper added "clerk" (who set a new password).
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, user="admin", check=True)
    assert govshare("info", db=db, check=True).returncode == 0
    again = govshare(
        "users",
        "add",
        "clerk",
        "--role",
        "clerk",
        db=db,
        user="admin",
        env={"GOVSHARE_NEW_PASSWORD": "Wenshu#2026dup"},
    )
    assert again.returncode == 2 and "已存在" in again.stderr


def test_an_unreadable_database_is_restored_by_a_sysadmin(tmp_path: Path) -> None:
    """The file's first page is gone (a bad sector): nobody can sign in, every command says what
    is wrong without a traceback, and a 系统管理员 of the backup restores it."""
    db = tmp_path / "office.db"
    govshare("demo", "--households", "20", db=db, user="admin", check=True)
    govshare("backup", db=db, user="admin", check=True)
    [made] = (tmp_path / "backups").glob("govshare-2*.db")
    data = bytearray(db.read_bytes())
    data[:4096] = bytes(4096)
    db.write_bytes(bytes(data))

    info = govshare("info", db=db)
    assert info.returncode == 2 and "已损坏，无法读取" in info.stderr
    assert "Traceback" not in info.stderr and "govshare restore" in info.stderr
    by_clerk = govshare("restore", str(made), db=db, user="clerk")
    assert by_clerk.returncode == 2 and "不是有效的系统管理员" in by_clerk.stderr
    wrong = govshare("restore", str(made), db=db, user="admin", password="Wrong#2026e2e")
    assert wrong.returncode == 2 and "用户名或密码错误" in wrong.stderr
    assert db.read_bytes() == bytes(data)  # refused: untouched

    restored = govshare("restore", str(made), db=db, user="admin", check=True)
    assert "已从" in restored.stdout
    [safety] = (tmp_path / "backups").glob("govshare-before-restore-*.db")
    assert safety.read_bytes() == bytes(data)  # the damaged file, kept as it was
    info_after = govshare("info", db=db, check=True).stdout
    assert "户籍户数：20" in info_after and "磁盘加密：" in info_after
    # The entries written after the backup were lost with the damaged file: the trail goes on
    # with a new run of signing keys (the backup holds none), and verify names where.
    verified = govshare("audit", "verify", "--json", db=db, user="admin")
    assert verified.returncode == 3, verified.stderr
    report = json.loads(verified.stdout)
    assert [p["kind"] for p in report["problems"]] == ["restart"]
    assert "备份副本" in report["problems"][0]["message"]
    assert any(a["source"] == f"备份 {made.name}" and a["reached"] for a in report["anchors"])


def test_passwd_refuses_weak_and_reused_passwords(tmp_path: Path) -> None:
    from tests.e2e.cli import CLERK_PASSWORD, FIRST_PASSWORD

    db = tmp_path / "p.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, user="admin", check=True)
    for weak in ("Password1", "1qaz@WSX", "Woaini@1314", "Qinghe#2026x"):
        refused = govshare("passwd", db=db, env={"GOVSHARE_NEW_PASSWORD": weak})
        assert refused.returncode == 2 and "密码不符合要求" in refused.stderr, weak
    back = govshare("passwd", db=db, env={"GOVSHARE_NEW_PASSWORD": FIRST_PASSWORD})
    assert back.returncode == 2 and "最近 5 次" in back.stderr  # the previous password
    assert govshare("info", db=db, password=CLERK_PASSWORD).returncode == 0


def test_a_password_from_the_environment_is_warned_about_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from govshare_desktop.cli import common as cli

    monkeypatch.setenv("GOVSHARE_USER", "li")
    monkeypatch.setenv("GOVSHARE_PASSWORD", "Wenshu#2026env")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.ask_credentials() == ("li", "Wenshu#2026env")
    warned = capsys.readouterr().err
    assert warned.count("\n") == 1 and "GOVSHARE_PASSWORD" in warned
    monkeypatch.setenv("CI", "true")  # not in CI, nor when stderr is no terminal
    cli.ask_credentials()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    cli.ask_credentials()
    assert capsys.readouterr().err == ""
