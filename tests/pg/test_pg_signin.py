"""Setting up, signing in and accounts on both backends (issue 18). On a server the keys are a row
of the database, shared by every PC: the lockout counts every PC's failures, and two PCs writing
the keys at once never lose a write."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import signin, vault
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.security.server_keys import ServerKeys
from govshare_desktop.core.security.vault import AccountLocked, LoginFailed, Vault
from govshare_desktop.core.store.engine import open_store

NOW = datetime(2026, 11, 27, 9, 0)
GOOD = "Qingshui@2026a"
AUDITOR = Principal("auditor", Role.AUDITOR)


@pytest.fixture
def setup(any_db):  # type: ignore[no-untyped-def]
    done = signin.initialise(any_db, admin_password=GOOD, now=NOW)
    done.store.dispose()
    return any_db


def _keys_text(db) -> str:  # type: ignore[no-untyped-def]
    """What is kept of the keys: the key file, or the server's row."""
    if isinstance(db, str):
        store = open_store(db)
        try:
            found = ServerKeys(store).read()
        finally:
            store.dispose()
        assert found is not None
        return found
    return vault.key_file_for(db).read_text(encoding="utf-8")


def test_set_up_then_only_a_password_opens_it(setup) -> None:
    assert signin.is_initialised(setup)
    signed = signin.sign_in(setup, "admin", GOOD, now=NOW)
    assert signed.principal == Principal("admin", Role.SYSADMIN)
    assert not signed.must_change_password
    secret = signed.store.secret
    assert secret is not None and secret.hex() not in _keys_text(setup)
    assert json.loads(_keys_text(setup))["users"]["admin"]["phc"].startswith("$argon2id$")
    signed.store.dispose()
    with pytest.raises(LoginFailed, match="用户名或密码错误"):
        signin.sign_in(setup, "admin", "Wrong@2026", now=NOW)
    with pytest.raises(UserError, match="已经设置过"):
        signin.initialise(setup, admin_password=GOOD, now=NOW)


def test_a_generated_password_must_be_changed(any_db) -> None:
    done = signin.initialise(any_db, now=NOW)
    assert done.admin_password and len(done.recovery_secret) >= 24
    done.store.dispose()
    signed = signin.sign_in(any_db, "admin", done.admin_password, now=NOW)
    assert signed.must_change_password
    signin.change_password(signed.store, done.admin_password, "Changed#2026", now=NOW)
    signed.store.dispose()
    again = signin.sign_in(any_db, "admin", "Changed#2026", now=NOW)
    assert not again.must_change_password
    assert Vault.load(_place(any_db, again.store)).recover(done.recovery_secret) == (
        again.store.secret
    )
    again.store.dispose()


def _place(db, store):  # type: ignore[no-untyped-def]
    return ServerKeys(store) if isinstance(db, str) else db


def test_five_failures_lock_a_name_and_are_audited_later(setup) -> None:
    for name in ("admin", "nobody"):
        for _ in range(5):
            with pytest.raises(LoginFailed, match="用户名或密码错误"):
                signin.sign_in(setup, name, "Wrong@2026", now=NOW)
        with pytest.raises(AccountLocked, match=r"1[45] 分钟后再试"):
            signin.sign_in(setup, name, GOOD, now=NOW + timedelta(seconds=30))
    later = signin.sign_in(setup, "admin", GOOD, now=NOW + timedelta(minutes=16))
    entries = audit_trail(later.store).entries(AUDITOR, action="login_failed")
    assert len(entries) == 12 and {e.username for e in entries} == {"admin", vault.UNKNOWN_NAME}
    assert "nobody" not in _keys_text(setup)
    assert json.loads(_keys_text(setup))["events"] == []  # written, so no longer queued
    later.store.dispose()


def test_only_a_sysadmin_manages_accounts(setup) -> None:
    store = signin.sign_in(setup, "admin", GOOD, now=NOW).store
    signin.add_account(store, "li", Role.CLERK, "Clerk#2026a", now=NOW)
    signin.add_account(store, "wang", Role.REVIEWER, "Review#2026", expires_at=date(2026, 1, 1))
    with pytest.raises(UserError, match="已存在"):
        signin.add_account(store, "li", Role.CLERK, "Clerk#2026a")
    with pytest.raises(PermissionDenied, match="无权管理用户"):
        signin.add_account(store.acting(Principal("li", Role.CLERK)), "x", Role.SYSADMIN, GOOD)
    signin.change_account(store, "li", role=Role.REVIEWER, disabled=True)
    assert [a.username for a in signin.list_accounts(store)] == ["admin", "li", "wang"]
    store.dispose()
    with pytest.raises(LoginFailed, match="已停用"):
        signin.sign_in(setup, "li", "Clerk#2026a", now=NOW)
    with pytest.raises(LoginFailed, match="过期"):
        signin.sign_in(setup, "wang", "Review#2026", now=NOW)
    trail = signin.sign_in(setup, "admin", GOOD, now=NOW)
    assert audit_trail(trail.store).verify(AUDITOR).ok
    trail.store.dispose()


# ---------------------------------------------------------------- on a server only


def test_two_pcs_failing_at_once_are_both_counted(pg_migrated_url) -> None:
    """Two PCs read the keys, then both count a failure: the second write finds the row changed,
    reads it again and counts on top — neither failure is lost (no free guesses)."""
    signin.initialise(pg_migrated_url, admin_password=GOOD, now=NOW).store.dispose()
    store = open_store(pg_migrated_url)
    first, second = Vault.load(ServerKeys(store)), Vault.load(ServerKeys(store))
    for pc in (first, second):
        with pytest.raises(LoginFailed):
            pc.unlock("admin", "Wrong@2026", NOW)
    failures = json.loads(ServerKeys(store).read() or "{}")["failures"]
    assert [entry["count"] for entry in failures.values()] == [2]
    # Two administrators' changes are never merged blind: the later write is refused.
    one, other = Vault.load(ServerKeys(store)), Vault.load(ServerKeys(store))
    one.add_user("li", "Clerk#2026a", b"k" * 32, must_change=True)
    other.add_user("zhou", "Clerk#2026b", b"k" * 32, must_change=True)
    one.save()
    with pytest.raises(vault.KeysChanged, match="另一台电脑"):
        other.save()
    assert sorted(Vault.load(ServerKeys(store)).users) == ["admin", "li"]
    store.dispose()


def test_a_setup_abandoned_leaves_the_server_as_it_was(pg_url) -> None:
    """Setup is one transaction: schema, keys and administrator go in together or not at all."""
    pending = signin.begin_setup(pg_url, admin_password=GOOD, now=NOW)
    pending.abandon()
    store = open_store(pg_url, migrate=False)
    with store.engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    store.dispose()
    assert not signin.is_initialised(pg_url)
    assert signin.clear_interrupted_setup(pg_url) is None  # nothing to clear on a server


def test_an_unreachable_server_is_said_plainly(pg_server) -> None:
    url = pg_server.url("no_such_database")
    with pytest.raises(UserError, match="无法连接数据库服务器"):
        signin.sign_in(url, "admin", GOOD, now=NOW)
    assert "postgresql" in url


def test_the_server_row_is_the_only_copy_of_the_wrapped_key(pg_migrated_url) -> None:
    signin.initialise(pg_migrated_url, admin_password=GOOD, now=NOW).store.dispose()
    store = open_store(pg_migrated_url)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, version FROM key_vault")).all()
    store.dispose()
    assert rows == [(1, 1)]  # one row, written once at setup
