"""Office mode (issue 18): a township's database on a PostgreSQL server that every PC of the office
signs in to — set up once (``govshare server init``), then opened by ``--db URL``/``GOVSHARE_DB``.

What differs from a file (:mod:`.signin`):

* **No key file.** The accounts' keys — each user's Argon2id hash and the database key wrapped
  under their password, the recovery wrap, the failed sign-ins — are one row of the database
  (:class:`~govshare_desktop.core.security.server_keys.ServerKeys`), so every PC reads the same
  accounts and the lockout counts failures from all of them. The database key does not encrypt
  the server's files (PostgreSQL has no SQLCipher); it keeps its other duties: the township's
  signing key is sealed under it and the format-1 audit MACs are derived from it.
* **Setup is one transaction.** PostgreSQL's DDL is transactional: the schema, the administrator,
  the keys, the township and its signing key are written in one transaction on one connection
  (each step a savepoint), committed by :meth:`PendingServerSetup.finish` once the secrets have
  been shown. A setup killed at any point leaves the server as it was — no temporaries to clear.
* **No writer lock.** The server arbitrates its writers; the file lock is only for files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, RootTransaction, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.security.server_keys import ServerKeys
from govshare_desktop.core.security.signin_base import (
    ADMIN,
    Setup,
    SignedIn,
    add_first_admin,
    signed_in,
)
from govshare_desktop.core.security.vault import Vault, check_password_policy, new_recovery_secret
from govshare_desktop.core.store.engine import Store, create_engine_for, open_store
from govshare_desktop.core.store.migrate import migrate_on
from govshare_desktop.core.store.server import shown

CIPHER = "server"  # the key file's "cipher": the server's files are not encrypted by the program


# What libpq says when TLS is the reason (its English, as it stands in the error), and what to do.
TLS_REASONS = (
    (
        "certificate verify failed",
        "服务器证书无法验证",
        "证书不是由连接地址中 sslrootcert 所指的根证书签发的，或已过期。"
        "请向服务器管理员索取本单位服务器的根证书（CA 证书）文件，在连接地址中写明 "
        "sslrootcert=文件路径；不要为此改用不核对证书的连接方式——可能有人冒充服务器。",
    ),
    (
        "does not match host name",
        "服务器证书上的名称与连接地址中的服务器名不符",
        "请使用证书上的服务器名连接，或请服务器管理员为这个名称重新签发证书；"
        "不要为此改用不核对证书的连接方式——可能有人冒充服务器。",
    ),
    (
        "root certificate file",
        "找不到核对服务器证书所用的根证书文件",
        "请向服务器管理员索取本单位服务器的根证书（CA 证书）文件，"
        "在连接地址中写明 sslrootcert=文件路径。",
    ),
    (
        "no encryption",
        "服务器只接受加密（TLS）连接",
        "请在连接地址末尾加上 ?sslmode=verify-full&sslrootcert=根证书文件路径。",
    ),
    (
        "server does not support SSL",
        "服务器没有开启 TLS 加密",
        "请服务器管理员开启 PostgreSQL 的 ssl（配置证书），经网络连接时不能不加密。",
    ),
)


def unreachable(url: str, exc: OperationalError) -> UserError:
    """A server that cannot be reached or refuses the connection, said plainly; a refusal over
    TLS (the certificate, the authority's file, encryption) says what to do about it."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0] if lines else str(exc)
    for needle, what, advice in TLS_REASONS:
        if needle in reason:
            return UserError(f"无法连接数据库服务器 {shown(url)}：{what}（{reason}）。{advice}")
    return UserError(
        f"无法连接数据库服务器 {shown(url)}：{reason}。"
        "请检查服务器地址、端口、数据库名、用户名和口令（口令放在 pgpass 文件中），以及网络。"
    )


def is_server_initialised(url: str) -> bool:
    """Whether the server's database has been set up (its keys are there)."""
    store = open_store(url, migrate=False)
    try:
        with store.engine.connect() as connection:
            if not inspect(connection).has_table("key_vault"):
                return False
        return ServerKeys(store).exists()
    except OperationalError as exc:
        raise unreachable(url, exc) from None
    finally:
        store.dispose()


@dataclass
class PendingServerSetup:
    """A server's database being set up inside one open transaction, signed in as the
    administrator: fill it (the township), show ``admin_password`` and ``recovery_secret``, then
    :meth:`finish` commits; :meth:`abandon` (or a killed process) leaves nothing."""

    url: str
    store: Store
    admin_password: str | None
    recovery_secret: str
    dek: bytes
    engine: Engine
    connection: Connection
    transaction: RootTransaction
    path: None = None  # no file

    @property
    def where(self) -> str:
        return self.store.where

    def finish(self) -> Setup:
        try:
            self.transaction.commit()
        finally:
            self.connection.close()
            self.engine.dispose()
        store = open_store(self.url).acting(Principal(ADMIN, Role.SYSADMIN), self.dek)
        return Setup(store, self.admin_password, self.recovery_secret)

    def abandon(self) -> None:
        try:
            if self.transaction.is_active:
                self.transaction.rollback()
        finally:
            self.connection.close()
            self.engine.dispose()


def begin_server_setup(
    url: str, *, admin_password: str | None = None, now: datetime | None = None
) -> PendingServerSetup:
    """Start setting up the database at ``url`` (which the server's administrator created, empty
    or at an earlier revision): its schema brought to head, the database key and the first
    系统管理员 — in one transaction that :meth:`PendingServerSetup.finish` commits."""
    now = now or datetime.now()
    if admin_password is not None:
        check_password_policy(admin_password, ADMIN)
    engine = create_engine_for(url)
    try:
        connection = engine.connect()
    except OperationalError as exc:
        engine.dispose()
        raise unreachable(url, exc) from None
    transaction = connection.begin()
    try:
        migrate_on(connection)
        store = Store(
            url=url,
            engine=engine,
            sessions=sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            ),
        )
        keys = ServerKeys(store)
        if keys.read() is not None:
            raise UserError(f"数据库服务器 {store.where} 已经设置过管理员和密钥")
        recovery = new_recovery_secret()
        vault, dek = Vault.create(keys, CIPHER, recovery)
        store = store.acting(Principal(ADMIN, Role.SYSADMIN), dek)
        password = add_first_admin(
            store, vault, dek, admin_password, now, {"encrypted": False, "server": True}
        )
    except BaseException:
        transaction.rollback()
        connection.close()
        engine.dispose()
        raise
    return PendingServerSetup(
        url,
        store,
        None if admin_password else password,
        recovery,
        dek,
        engine,
        connection,
        transaction,
    )


def sign_in_server(url: str, username: str, password: str, now: datetime) -> SignedIn:
    """Open the server's database as ``username`` (see :func:`.signin.sign_in`). The schema is
    brought to head first, under the migration lock, as a file's is."""
    try:
        store = open_store(url)
    except OperationalError as exc:
        raise unreachable(url, exc) from None
    try:
        vault = Vault.load(ServerKeys(store))
        try:
            dek = vault.unlock(username, password, now)
        except UserError:
            vault.note_failure(username, now)
            raise
        return signed_in(store, vault, username, dek, now)
    except OperationalError as exc:
        store.dispose()
        raise unreachable(url, exc) from None
    except BaseException:
        store.dispose()
        raise


def confirm_server_password(url: str, username: str, password: str, now: datetime) -> None:
    """``username``'s password checked again against the server's keys (the idle lock): no new
    session, and a wrong one counts towards the lockout like a sign-in."""
    store = open_store(url, migrate=False)
    try:
        vault = Vault.load(ServerKeys(store))
        try:
            vault.unlock(username, password, now)
        except UserError:
            vault.note_failure(username, now)
            raise
    except OperationalError as exc:
        raise unreachable(url, exc) from None
    finally:
        store.dispose()
