"""Setting up a database (its key, the administrator, the recovery secret), signing in, and the
accounts a 系统管理员 manages.

The database key exists only wrapped in the key file (:mod:`vault`); signing in unwraps it with
the user's password and opens the SQLCipher database with it. Where ``sqlcipher3`` cannot be
installed the database is plain SQLite — the key then still protects the audit trail's MACs, and
the window says prominently that the data is not encrypted.

A ``postgresql://`` URL is a database on a server (office mode): :func:`sign_in`,
:func:`begin_setup`, :func:`initialise` and :func:`is_initialised` hand it to :mod:`.office`, and the
accounts' functions find its keys on the server (:func:`.signin_base.vault_of`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DatabaseError

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.killpoints import reached
from govshare_desktop.core.private_files import fsync_dir
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.office import (
    PendingServerSetup,
    begin_server_setup,
    confirm_server_password,
    is_server_initialised,
    sign_in_server,
)
from govshare_desktop.core.security.permissions import Action, Principal, Role
from govshare_desktop.core.security.signin_base import (
    ADMIN,
    Setup,
    SignedIn,
    add_first_admin,
    generate_password,
    secret_of,
    signed_in,
    vault_of,
)
from govshare_desktop.core.security.vault import (
    KEY_FILE_SUFFIX,
    Vault,
    check_password_policy,
    key_file_for,
    new_recovery_secret,
)
from govshare_desktop.core.store.backup import backup_before_upgrade
from govshare_desktop.core.store.engine import (
    Store,
    open_store,
    resolve_url,
    sqlcipher_available,
    sqlite_path,
)
from govshare_desktop.core.store.location import lock_path_for, read_lock_owner
from govshare_desktop.core.store.models import Account
from govshare_desktop.core.store.server import is_server_url

__all__ = [
    "ADMIN",
    "DatabaseBusy",
    "DatabaseUnreadable",
    "Pending",
    "PendingServerSetup",
    "PendingSetup",
    "Setup",
    "SignedIn",
    "generate_password",
]


class DatabaseUnreadable(UserError):
    """The password was right (it unlocked the key) but the database file cannot be read: it is
    damaged. Only a restore helps: :func:`govshare_desktop.core.security.safekeeping.
    restore_unreadable`, which needs a 系统管理员's password."""


class DatabaseBusy(UserError):
    """Another program holds the database (a write transaction, a lock): nothing is wrong with
    it; try again when that program is done."""


_BUSY = ("database is locked", "database table is locked", "database is busy")


def _unreadable(path: Path, exc: Exception) -> UserError:
    """What a failure to read the database after the key opened means: busy (another program has
    it — try again) or damaged (only a restore helps). Only a real read failure is damage."""
    reason = getattr(exc, "orig", None) or exc
    if any(text in str(reason).lower() for text in _BUSY):
        owner = read_lock_owner(lock_path_for(path))
        who = f"（锁文件记录：{owner.describe()}）" if owner else ""
        return DatabaseBusy(
            f"数据库 {path} 正忙：另一个程序正在写入它{who}。数据没有问题；"
            "请等它完成后再试（如一直如此，请关闭其他打开该数据库的程序）。"
        )
    return DatabaseUnreadable(
        f"数据库 {path} 已损坏，无法读取（{reason}）。请系统管理员从备份恢复："
        "在登录窗口点「从备份恢复…」，或用命令 govshare restore 备份文件"
    )


def _db_path(db: str | Path) -> Path:
    path = sqlite_path(resolve_url(db))
    if path is None:
        raise UserError("账户和加密只支持本机的 SQLite 数据库文件")
    return path


def _server(db: str | Path) -> str | None:
    """The URL of ``db`` when it is a server."""
    url = resolve_url(db)
    return url if is_server_url(url) else None


def is_initialised(db: str | Path) -> bool:
    """Whether the database and its key file are both there. Completes a setup that was
    interrupted between its two renames first (see :func:`begin_setup`). On a server: whether
    its keys are there."""
    if (url := _server(db)) is not None:
        return is_server_initialised(url)
    path = _db_path(db)
    _roll_forward(path)
    return key_file_for(path).is_file() and path.is_file()


SETUP_SUFFIX = ".setup"  # the database being set up: renamed into place when complete


def _setup_temp(path: Path) -> Path:
    return path.with_name(path.name + SETUP_SUFFIX)


def _roll_forward(path: Path) -> bool:
    """The key file is in place and the complete database under its temporary name (the
    process was killed between the two renames, after the recovery secret was shown): rename it."""
    temp = _setup_temp(path)
    if not (key_file_for(path).is_file() and temp.is_file() and not path.exists()):
        return False
    os.replace(temp, path)
    fsync_dir(path.parent)
    return True


def clear_interrupted_setup(db: str | Path, *, now: datetime | None = None) -> str | None:
    """Recognise what an interrupted setup left and clear it, so that setting up can start
    again; a Chinese notice of what was done, or None if there was nothing.

    * the temporaries of a setup killed before its commit: removed (the recovery secret they
      were shown with, if any, is void — the database never became usable);
    * an encrypted database without its key file (left by an earlier version): renamed aside,
      never deleted — its key file may still be found in a backup folder;
    * a key file without its database: renamed aside too.

    A server has nothing to clear: an interrupted setup there was never committed.
    """
    if _server(db) is not None:
        return None
    path = _db_path(db)
    if _roll_forward(path):
        return None
    keys = key_file_for(path)
    temp = _setup_temp(path)
    notices: list[str] = []
    leftovers = [
        entry
        for entry in (path.parent.iterdir() if path.parent.is_dir() else [])
        if entry.name.startswith((temp.name, f".{key_file_for(temp).name}-", f".{keys.name}-"))
    ]
    if leftovers and not (keys.is_file() and path.is_file()):
        for entry in leftovers:
            entry.unlink(missing_ok=True)
        notices.append(
            "上次设置数据库时程序被中断，设置没有完成，留下的临时文件已清除；"
            "当时显示的管理员密码和恢复密钥（如有）作废，将重新设置"
        )
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    if path.is_file() and not keys.exists() and _encrypted_file(path):
        aside = path.with_name(f"{path.name}.no-keys-{stamp}")
        for suffix in ("-wal", "-shm", ""):
            source = Path(f"{path}{suffix}")
            if source.exists():
                os.replace(source, f"{aside}{suffix}")
        notices.append(
            f"数据库 {path} 已加密，但没有它的密钥文件 {keys.name}（上次设置被中断，或密钥文件丢失），"
            f"无法打开。已将它改名为 {aside.name} 保留，将重新设置一个新数据库。"
            f"如果找到原来的密钥文件（例如备份目录中同名的 .keys 文件），"
            f"可把两者改回 {path.name} 和 {keys.name} 继续使用"
        )
    elif keys.is_file() and not path.exists():
        aside = keys.with_name(f"{keys.name}.no-database-{stamp}")
        os.replace(keys, aside)
        notices.append(
            f"密钥文件 {keys.name} 在，但数据库 {path.name} 不在（上次设置被中断，或数据库被移走）。"
            f"已将密钥文件改名为 {aside.name} 保留，将重新设置"
        )
    if not notices:
        return None
    fsync_dir(path.parent)
    return "；".join(notices) + "。"


def _encrypted_file(path: Path) -> bool:
    """A non-empty file that is not plain SQLite (SQLCipher has no readable header)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    return bool(head) and head != b"SQLite format 3\x00"


@dataclass
class PendingSetup:
    """A database being set up under temporary names (``<db>.setup`` and ``<db>.setup.keys``),
    signed in as the administrator: fill it (the township, the demo), show
    ``admin_password`` and ``recovery_secret``, then :meth:`finish` — only then does it appear
    under its name and become usable. A process killed before that leaves only temporaries,
    which :func:`clear_interrupted_setup` removes at the next start."""

    path: Path  # the database's name once finished
    store: Store
    admin_password: str | None
    recovery_secret: str
    dek: bytes
    cipher: bool

    def finish(self) -> Setup:
        """Make the database usable: checkpoint and close it, fsync both files, rename the key
        file into place and then the database (which commits). Returns it open as the
        administrator."""
        temp = self.store.path
        assert temp is not None
        with self.store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.store.dispose()
        for suffix in ("-wal", "-shm"):
            sidecar = Path(f"{temp}{suffix}")
            if sidecar.exists() and suffix == "-wal" and sidecar.stat().st_size:
                raise UserError(f"设置数据库时无法写完 {sidecar}，请重试")
            sidecar.unlink(missing_ok=True)
        for file in (temp, key_file_for(temp)):
            _fsync(file)
        reached("setup:sealed")
        os.replace(key_file_for(temp), key_file_for(self.path))
        reached("setup:keys-renamed")
        for suffix in ("-wal", "-shm", "-journal"):  # of a plain database from an earlier version
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        os.replace(temp, self.path)
        fsync_dir(self.path.parent)
        reached("setup:renamed")
        store = open_store(
            self.path,
            key=self.dek if self.cipher else None,
            before_upgrade=backup_before_upgrade,
        )
        store = store.acting(Principal(ADMIN, Role.SYSADMIN), self.dek)
        return Setup(store, self.admin_password, self.recovery_secret)

    def abandon(self) -> None:
        """Give the setup up: nothing of it stays."""
        temp = self.store.path
        self.store.dispose()
        if temp is not None:
            for suffix in ("", "-wal", "-shm", "-journal", KEY_FILE_SUFFIX):
                Path(f"{temp}{suffix}").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


Pending = PendingSetup | PendingServerSetup
"""A database being set up: a file under temporary names, or a server inside a transaction."""


def begin_setup(
    db: str | Path, *, admin_password: str | None = None, now: datetime | None = None
) -> Pending:
    """Start setting up a database: its key, its administrator and, for a plain database from an
    earlier version, its data encrypted (copied with ``sqlcipher_export``) — all under temporary
    names. The caller fills it, shows the secrets, then calls :meth:`PendingSetup.finish`. On a
    server: all in one transaction (:func:`.office.begin_server_setup`)."""
    if (url := _server(db)) is not None:
        return begin_server_setup(url, admin_password=admin_password, now=now)
    path = _db_path(db)
    clear_interrupted_setup(path, now=now)
    if key_file_for(path).exists():
        raise UserError(f"数据库 {path} 已经设置过管理员和密钥")
    now = now or datetime.now()
    if admin_password is not None:
        check_password_policy(admin_password, ADMIN)
    cipher = sqlcipher_available()
    recovery = new_recovery_secret()
    temp = _setup_temp(path)
    _create_private_file(temp)
    vault, dek = Vault.create(temp, "sqlcipher" if cipher else "none", recovery)
    vault.save()  # first: a copy taken while migrating below carries it
    store: Store | None = None
    try:
        if path.exists() and path.stat().st_size > 0:
            _copy_existing(path, temp, dek if cipher else None)
        reached("setup:copied")
        store = open_store(temp, key=dek if cipher else None, before_upgrade=backup_before_upgrade)
        store = store.acting(Principal(ADMIN, Role.SYSADMIN), dek)
        password = add_first_admin(store, vault, dek, admin_password, now, {"encrypted": cipher})
    except BaseException:
        if store is not None:
            store.dispose()
        for suffix in ("", "-wal", "-shm", "-journal", KEY_FILE_SUFFIX):
            Path(f"{temp}{suffix}").unlink(missing_ok=True)
        raise
    reached("setup:built")
    return PendingSetup(path, store, None if admin_password else password, recovery, dek, cipher)


def initialise(
    db: str | Path,
    *,
    admin_password: str | None = None,
    now: datetime | None = None,
    show: Callable[[Pending], None] | None = None,
) -> Setup:
    """Give a database its key file and administrator (:func:`begin_setup`, then ``show`` —
    which prints or shows the secrets — then :meth:`PendingSetup.finish`). A new database is
    created encrypted; a plain one from an earlier version is encrypted, its data kept."""
    pending = begin_setup(db, admin_password=admin_password, now=now)
    try:
        if show is not None:
            show(pending)
        reached("setup:shown")
        return pending.finish()
    except BaseException:
        pending.abandon()
        raise


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal", KEY_FILE_SUFFIX):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _copy_existing(path: Path, temp: Path, dek: bytes | None) -> None:
    """A plain database from an earlier version into ``temp``: encrypted (``sqlcipher_export``)
    under ``dek``, or copied with the backup API where SQLCipher is not available. The original
    stays as it is until the setup is finished."""
    if dek is None:
        source, target = sqlite3.connect(str(path)), sqlite3.connect(str(temp))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    import sqlcipher3  # optional: sqlcipher3 is missing on some CPUs

    connection = sqlcipher3.connect(str(path))
    try:
        connection.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{dek.hex()}'\"", (str(temp),))
        connection.execute("SELECT sqlcipher_export('encrypted')")
        connection.execute("DETACH DATABASE encrypted")
    finally:
        connection.close()


def sign_in(
    db: str | Path, username: str, password: str, *, now: datetime | None = None
) -> SignedIn:
    """Open the database as ``username``. LoginFailed / AccountLocked / a refusal otherwise;
    every outcome is in the audit trail (failures once someone next signs in)."""
    now = now or datetime.now()
    if (url := _server(db)) is not None:
        return sign_in_server(url, username, password, now)
    path = _db_path(db)
    vault, dek = unlock_key(path, username, password, now)
    store: Store | None = None
    try:
        store = open_store(
            path,
            key=dek if vault.cipher == "sqlcipher" else None,
            before_upgrade=backup_before_upgrade,
        )
        return signed_in(store, vault, username, dek, now)
    except DatabaseError as exc:
        if store is not None:
            store.dispose()
        raise _unreadable(path, exc) from None
    except BaseException:
        if store is not None:
            store.dispose()
        raise


def confirm_password(
    db: str | Path, username: str, password: str, *, now: datetime | None = None
) -> None:
    """The signed-in user's password again (the idle lock), for a file or a server; a wrong
    one counts towards the lockout like a sign-in."""
    now = now or datetime.now()
    if (url := _server(db)) is not None:
        confirm_server_password(url, username, password, now)
        return
    unlock_key(_db_path(db), username, password, now)


def unlock_key(path: Path, username: str, password: str, now: datetime) -> tuple[Vault, bytes]:
    """The key file and the database key unwrapped with ``username``'s password; a failure is
    noted for the audit trail and counts towards the lockout."""
    vault = Vault.load(path)
    try:
        return vault, vault.unlock(username, password, now)
    except UserError:
        vault.note_failure(username, now)
        raise


# ---------------------------------------------------------------- accounts (系统管理员)


def list_accounts(store: Store) -> list[Account]:
    store.principal.require(Action.MANAGE_USERS)
    with store.sessions() as session:
        return list(session.scalars(select(Account).order_by(Account.username)))


def add_account(
    store: Store,
    username: str,
    role: Role,
    password: str,
    *,
    display_name: str = "",
    expires_at: date | None = None,
    must_change: bool = True,
    now: datetime | None = None,
) -> Account:
    """``must_change``: the user sets their own password at first sign-in (False only for a
    password the person chose themselves, e.g. the demo's from the environment)."""
    store.principal.require(Action.MANAGE_USERS)
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("用户名不能为空、不能含空格，且不超过 64 个字符")
    check_password_policy(password, username)
    vault = vault_of(store)
    now = now or datetime.now()
    with store.transaction() as session:
        if session.get(Account, username) is not None:
            raise UserError(f"用户“{username}”已存在")
        account = Account(
            username=username,
            display_name=display_name or username,
            role=role.value,
            disabled=False,
            expires_at=expires_at,
            created_by=store.principal.username,
            created_at=now,
        )
        session.add(account)
        audit_trail(store).record(
            session, store.principal, "user_add", username, detail={"role": role.value}, now=now
        )
        vault.add_user(username, password, secret_of(store), must_change=must_change)
        vault.save()  # inside the transaction: if the key file cannot be written, no account
    return account


def change_account(
    store: Store,
    username: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    now: datetime | None = None,
) -> None:
    """Set a role, disable (lock) or enable (unlock) an account, or reset its password."""
    store.principal.require(Action.MANAGE_USERS)
    vault = vault_of(store)
    now = now or datetime.now()
    with store.transaction() as session:
        account = session.get(Account, username)
        if account is None:
            raise UserError(f"没有用户“{username}”")
        changes: dict[str, object] = {}
        if role is not None and role.value != account.role:
            if username == store.principal.username:
                raise UserError("不能修改自己的角色")
            changes["role"] = [account.role, role.value]
            account.role = role.value
        if disabled is not None and disabled != account.disabled:
            if username == store.principal.username and disabled:
                raise UserError("不能停用自己的账户")
            changes["disabled"] = disabled
            account.disabled = disabled
        if password is not None:
            check_password_policy(password, username)
            changes["password"] = "reset"
        audit_trail(store).record(
            session, store.principal, "user_change", username, detail=changes, now=now
        )
        if password is not None:
            vault.reset_password(username, password, secret_of(store))
        if disabled is False:
            vault.clear_lock(username)


def change_password(store: Store, old: str, new: str, *, now: datetime | None = None) -> None:
    """The signed-in user changes their own password (re-wraps the key; no re-encryption)."""
    now = now or datetime.now()
    vault = vault_of(store)
    vault.change_password(store.principal.username, old, new, now)
    audit_trail(store).log(store.principal, "password_change", store.principal.username, now=now)


def unmask(store: Store, reason: str, where: str, *, now: datetime | None = None) -> None:
    """Showing full personal data (names, ID numbers…) needs the permission and a reason, and is
    audited — if the entry cannot be written, the data stays masked."""
    store.principal.require(Action.UNMASK)
    if not reason.strip():
        raise UserError("查看完整个人信息须说明事由")
    audit_trail(store).log(
        store.principal, "unmask", where, detail={"reason": reason.strip()}, now=now
    )
