"""Setting up and signing in: an encrypted database whose key exists only wrapped per user,
Argon2id hashes, lockout without user enumeration, password changes that re-wrap (never
re-encrypt), the recovery secret, and accounts only a 系统管理员 manages."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import signin, vault
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.security.vault import AccountLocked, LoginFailed, Vault, key_file_for
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.core.store.models import Person

NOW = datetime(2026, 11, 27, 9, 0)
AUDITOR = Principal("auditor", Role.AUDITOR)
GOOD = "Qingshui@2026a"


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
    entries = audit_trail(later.store).entries(
        Principal("auditor", Role.AUDITOR), action="login_failed"
    )
    # A name that is no account is not written anywhere: only a keyed hash of it.
    assert len(entries) >= 12 and {e.username for e in entries} == {"admin", vault.UNKNOWN_NAME}
    details = [e.detail for e in entries if e.username != "admin"]
    details = [json.loads(d) if isinstance(d, str) else d for d in details]
    assert len({d["name_tag"] for d in details}) == 1 and "nobody" not in str(details)
    later.store.dispose()


ID_NUMBER = "441900199001011234"


def test_a_name_typed_at_sign_in_is_never_written_down(setup, tmp_path: Path) -> None:
    """An ID number typed as the user name: the lockout counts it, the key file cannot tell it
    (not in plain text, not as an unkeyed hash), and a locked unknown name looks like a locked
    account."""
    import hashlib

    db = tmp_path / "gov.db"
    setup.store.dispose()
    for _ in range(5):
        with pytest.raises(LoginFailed, match="用户名或密码错误"):
            signin.sign_in(db, ID_NUMBER, "Wrong@2026", now=NOW)
    with pytest.raises(AccountLocked, match="分钟后再试"):
        signin.sign_in(db, f" {ID_NUMBER} ", "Wrong@2026", now=NOW)  # the same name, spaced
    text = key_file_for(db).read_text(encoding="utf-8")
    assert ID_NUMBER not in text and "19900101" not in text
    assert hashlib.sha256(ID_NUMBER.encode()).hexdigest()[:16] not in text
    other = tmp_path / "other.db"  # another key file: another key, other hashes
    signin.initialise(other, admin_password=GOOD, now=NOW).store.dispose()
    with pytest.raises(LoginFailed):
        signin.sign_in(other, ID_NUMBER, "Wrong@2026", now=NOW)
    [mine] = json.loads(text)["failures"]
    [theirs] = json.loads(key_file_for(other).read_text(encoding="utf-8"))["failures"]
    assert mine != theirs
    signin.sign_in(db, "admin", GOOD, now=NOW).store.dispose()  # others are not locked out


def test_a_key_file_of_an_earlier_version_forgets_typed_names(setup, tmp_path: Path) -> None:
    """Earlier versions kept the typed names of failures in plain text and counted failures
    under an unkeyed hash: rewritten on load; a running lockout goes on."""
    import hashlib

    db = tmp_path / "gov.db"
    setup.store.dispose()
    path = key_file_for(db)
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("name_key", None)
    today = datetime.now()  # loading drops what no longer locks, by the clock
    locked = hashlib.sha256(b"zhangsan").hexdigest()[:32]
    stale = hashlib.sha256(ID_NUMBER.encode()).hexdigest()[:32]
    data["failures"] = {
        locked: {"count": 0, "locked_until": (today + timedelta(minutes=10)).isoformat()},
        stale: {"count": 2},
    }
    data["events"] = [
        {"at": NOW.isoformat(), "name": ID_NUMBER, "reason": "wrong name or password"},
        {"at": NOW.isoformat(), "name": "admin", "reason": "wrong name or password"},
    ]
    path.write_text(json.dumps(data), encoding="utf-8")

    Vault.load(db)
    text = path.read_text(encoding="utf-8")
    assert ID_NUMBER not in text and stale not in text and "name_key" in text
    with pytest.raises(AccountLocked):  # the running lockout, now under the keyed hash
        signin.sign_in(db, "zhangsan", GOOD, now=today)
    assert locked not in path.read_text(encoding="utf-8")
    later = signin.sign_in(db, "admin", GOOD, now=NOW)
    users = [e.username for e in audit_trail(later.store).entries(AUDITOR, action="login_failed")]
    assert vault.UNKNOWN_NAME in users and "admin" in users and ID_NUMBER not in users
    later.store.dispose()


@pytest.mark.parametrize(
    "weak",
    [
        "Password1",
        "Passw0rd",
        "Qwer1234",
        "Aa123456",
        "1qaz@WSX",
        "Welcome1",
        "Zaq1@wsx",
        "Woaini1314",
        "Woaini@1314",
        "Qq123456",
        "A123456!",
        "5201314Aa",
        "Zhangwei@1988",
        "Wangfang19900512",
        "Govshare#2026",
        "Qinghe#2026x",
        "Q1nghe#2026x",
        "Li@Secret2026",  # the user name inside
    ],
)
def test_common_and_patterned_passwords_are_refused(weak: str) -> None:
    from govshare_desktop.core.security.vault import check_password_policy

    with pytest.raises(UserError, match="密码不符合要求"):
        check_password_policy(weak, "li")


def test_the_last_five_passwords_cannot_be_used_again(setup, tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    store = setup.store
    passwords = [GOOD] + [f"Wenshu#{n}x2026" for n in range(6)]
    for old, new in itertools.pairwise(passwords):
        signin.change_password(store, old, new, now=NOW)
    current = passwords[-1]
    for earlier in passwords[-6:-1]:  # the last five
        with pytest.raises(UserError, match="最近 5 次"):
            signin.change_password(store, current, earlier, now=NOW)
    signin.change_password(store, current, GOOD, now=NOW)  # the sixth back: allowed again
    text = key_file_for(db).read_text(encoding="utf-8")
    assert all(p not in text for p in passwords)  # only hashes
    assert len(json.loads(text)["users"]["admin"]["history"]) == 5
    store.dispose()


def test_key_files_are_private(setup, tmp_path: Path) -> None:
    import stat

    assert stat.S_IMODE(key_file_for(tmp_path / "gov.db").stat().st_mode) == 0o600


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
