"""Setting up and signing in: an encrypted database whose key exists only wrapped per user,
Argon2id hashes, lockout without user enumeration, password changes that re-wrap (never
re-encrypt), the recovery secret, and accounts only a 系统管理员 manages."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.security.vault import AccountLocked, LoginFailed, Vault, key_file_for
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.core.store.models import Person

NOW = datetime(2026, 11, 27, 9, 0)
GOOD = "Qinghe@2026"


@pytest.fixture
def setup(tmp_path: Path) -> signin.Setup:
    done = signin.initialise(tmp_path / "gov.db", admin_password=GOOD, now=NOW)
    yield done
    done.store.dispose()


def test_a_new_database_is_encrypted_and_only_a_password_opens_it(setup, tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    assert setup.store.encrypted and setup.admin_password is None
    raw = db.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    keys = json.loads(key_file_for(db).read_text(encoding="utf-8"))
    assert keys["users"]["admin"]["phc"].startswith("$argon2id$")
    assert setup.store.secret.hex() not in key_file_for(db).read_text(encoding="utf-8")
    setup.store.dispose()
    signed = signin.sign_in(db, "admin", GOOD, now=NOW)
    assert signed.principal == Principal("admin", Role.SYSADMIN)
    assert not signed.must_change_password  # the password was chosen, not generated
    signed.store.dispose()
    with pytest.raises(LoginFailed, match="用户名或密码错误"):
        signin.sign_in(db, "admin", "Wrong@2026", now=NOW)
    with pytest.raises(Exception, match="file is not a database"):
        open_store(db).engine.connect()  # plain SQLite cannot read it


def test_a_generated_password_must_be_changed(tmp_path: Path) -> None:
    done = signin.initialise(tmp_path / "gen.db", now=NOW)
    assert done.admin_password and len(done.recovery_secret) >= 24
    done.store.dispose()
    signed = signin.sign_in(tmp_path / "gen.db", "admin", done.admin_password, now=NOW)
    assert signed.must_change_password
    signin.change_password(signed.store, done.admin_password, "Changed#2026", now=NOW)
    signed.store.dispose()
    again = signin.sign_in(tmp_path / "gen.db", "admin", "Changed#2026", now=NOW)
    assert not again.must_change_password
    again.store.dispose()


def test_five_failures_lock_a_name_whether_or_not_it_exists(setup, tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    setup.store.dispose()
    for name in ("admin", "nobody"):
        for _ in range(5):
            with pytest.raises(LoginFailed, match="用户名或密码错误"):
                signin.sign_in(db, name, "Wrong@2026", now=NOW)
        with pytest.raises(AccountLocked, match=r"1[45] 分钟后再试"):
            signin.sign_in(db, name, GOOD, now=NOW + timedelta(seconds=30))
    later = signin.sign_in(db, "admin", GOOD, now=NOW + timedelta(minutes=16))
    # The failures could not be written then (the database was closed); they are now.
    entries = later.store.audit().entries(Principal("auditor", Role.AUDITOR), action="login_failed")
    assert len(entries) >= 12 and {e.username for e in entries} == {"admin", "nobody"}
    later.store.dispose()


def test_changing_a_password_rewraps_and_never_reencrypts(setup, tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    store = setup.store
    signin.add_account(store, "li", Role.CLERK, "Clerk#2026a", display_name="李经办", now=NOW)
    store.dispose()
    first_page = db.read_bytes()[:4096]
    clerk = signin.sign_in(db, "li", "Clerk#2026a", now=NOW)
    assert clerk.must_change_password and clerk.principal.role is Role.CLERK
    with pytest.raises(UserError, match="密码不符合要求"):
        signin.change_password(clerk.store, "Clerk#2026a", "short", now=NOW)
    signin.change_password(clerk.store, "Clerk#2026a", "Clerk#2026b", now=NOW)
    clerk.store.dispose()
    assert db.read_bytes()[:4096] == first_page  # the same key: nothing re-encrypted
    with pytest.raises(LoginFailed):
        signin.sign_in(db, "li", "Clerk#2026a", now=NOW)
    signin.sign_in(db, "li", "Clerk#2026b", now=NOW).store.dispose()


def test_the_recovery_secret_opens_the_key(tmp_path: Path) -> None:
    done = signin.initialise(tmp_path / "r.db", admin_password=GOOD, now=NOW)
    vault = Vault.load(tmp_path / "r.db")
    assert vault.recover(done.recovery_secret.lower()) == done.store.secret
    with pytest.raises(LoginFailed):
        vault.recover("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF")
    done.store.dispose()


def test_only_a_sysadmin_manages_accounts(setup, tmp_path: Path) -> None:
    store = setup.store
    signin.add_account(store, "li", Role.CLERK, "Clerk#2026a", now=NOW)
    signin.add_account(store, "wang", Role.REVIEWER, "Review#2026", expires_at=date(2026, 1, 1))
    with pytest.raises(UserError, match="已存在"):
        signin.add_account(store, "li", Role.CLERK, "Clerk#2026a")
    with pytest.raises(UserError, match="密码不符合要求"):
        signin.add_account(store, "zhou", Role.CLERK, "12345678")
    clerk_store = store.acting(Principal("li", Role.CLERK))
    with pytest.raises(PermissionDenied, match="无权管理用户"):
        signin.add_account(clerk_store, "x", Role.SYSADMIN, "Admin#2026x")
    with pytest.raises(PermissionDenied):
        signin.list_accounts(clerk_store)
    with pytest.raises(UserError, match="不能修改自己的角色"):
        signin.change_account(store, "admin", role=Role.CLERK)
    signin.change_account(store, "li", role=Role.REVIEWER, disabled=True)
    assert [a.username for a in signin.list_accounts(store)] == ["admin", "li", "wang"]
    store.dispose()
    db = tmp_path / "gov.db"
    with pytest.raises(LoginFailed, match="已停用"):
        signin.sign_in(db, "li", "Clerk#2026a", now=NOW)
    with pytest.raises(LoginFailed, match="过期"):
        signin.sign_in(db, "wang", "Review#2026", now=NOW)


def test_an_earlier_plain_database_is_encrypted_in_place(demo_store) -> None:
    db = Path(demo_store.path)
    with demo_store.sessions() as session:
        people = session.scalar(select(func.count()).select_from(Person))
    demo_store.dispose()
    assert db.read_bytes().startswith(b"SQLite format 3")
    done = signin.initialise(db, admin_password=GOOD, now=NOW)
    with done.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == people
    done.store.dispose()
    assert not db.read_bytes().startswith(b"SQLite format 3")
    assert b"441900" not in db.read_bytes()  # no ID number readable in the file


def test_restoring_without_signing_in_is_only_for_an_unreadable_database(tmp_path) -> None:
    from govshare_desktop.core.security.safekeeping import backup_now, restore_unreadable

    db = tmp_path / "gov.db"
    setup = signin.initialise(db, admin_password="Guanli#2026rst")
    made = backup_now(setup.store)
    setup.store.dispose()
    with pytest.raises(UserError, match="可以正常打开"):
        restore_unreadable(db, made.path, "admin", "Guanli#2026rst")
    data = bytearray(db.read_bytes())
    data[:4096] = bytes(4096)
    db.write_bytes(bytes(data))
    with pytest.raises(signin.DatabaseUnreadable):
        signin.sign_in(db, "admin", "Guanli#2026rst")
    safety = restore_unreadable(db, made.path, "admin", "Guanli#2026rst")
    assert safety is not None and safety.read_bytes() == bytes(data)
    signin.sign_in(db, "admin", "Guanli#2026rst").store.dispose()
