"""Engine and session factory: the one place that knows how to open the database.

Other code receives a :class:`Store` (engine + session factory) and never builds its own engine.
The database is a SQLite file (SQLCipher under a key), or a PostgreSQL server (office mode, issue
18: :mod:`govshare_desktop.core.store.server` — psycopg 3, TLS unless local). What only a file
needs stays with files: the PRAGMAs, SQLCipher, the check that the file was not swapped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from platformdirs import user_data_path
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from govshare_desktop.core.domain.permissions import SYSTEM, Principal, Role
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store.migrate import upgrade
from govshare_desktop.core.store.server import driver_missing, is_server_url, server_url, shown

APP_NAME = "govshare-desktop"
ENV_DB = "GOVSHARE_DB"
DB_FILE = "govshare.db"


def default_db_path() -> Path:
    """``<per-user data dir>/govshare.db`` (e.g. ``%LOCALAPPDATA%\\govshare-desktop`` on Windows,
    ``~/.local/share/govshare-desktop`` on Linux)."""
    return user_data_path(APP_NAME, appauthor=False) / DB_FILE


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """``--db`` wins, then ``GOVSHARE_DB``, then the per-user default. Paths become SQLite URLs."""
    target = str(db) if db else os.environ.get(ENV_DB) or str(default_db_path())
    if "://" in target:
        return target
    path = Path(target).expanduser().resolve()
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA temp_store = MEMORY")
    cursor.close()


def sqlcipher_available() -> bool:
    """Whether the SQLCipher driver (``sqlcipher3``) is installed on this machine."""
    try:
        import sqlcipher3  # noqa: F401 - optional: sqlcipher3 is missing on some CPUs
    except ImportError:
        return False
    return True


def create_engine_for(url: str, key: bytes | None = None) -> Engine:
    """An engine for ``url``; with ``key``, the SQLite file is opened with SQLCipher under that
    raw 256-bit key (no passphrase derivation: the key is random). A server URL is refused
    without TLS unless the server is this computer (:func:`~govshare_desktop.core.store.server.
    server_url`)."""
    if is_server_url(url):
        if key is not None:
            raise ValueError("encryption needs a SQLite file")
        parsed = server_url(url)
        missing = driver_missing()
        if missing is not None:
            raise missing
        # pre_ping: a PC keeps its program open all day; the server may restart in between.
        return create_engine(parsed, pool_pre_ping=True)
    path = sqlite_path(url)
    if path is not None:
        _create_private(path)
    if key is not None:
        if path is None:
            raise ValueError("encryption needs a SQLite file")

        # The pysqlcipher dialect defaults to SingletonThreadPool: one connection per thread,
        # shared by every session — a nested session's rollback would then undo the outer
        # transaction. A queue pool gives each session its own connection, as with pysqlite.
        engine = create_engine(
            URL.create("sqlite+pysqlcipher", password=f"x'{key.hex()}'", database=str(path)),
            poolclass=QueuePool,
        )
        event.listen(engine, "connect", _cipher_pragmas)
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if path is not None:
        _guard_against_replacement(engine, path)
    return engine


class DatabaseReplaced(UserError):
    """The database file was replaced (restored from a backup) under open connections."""


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _guard_against_replacement(engine: Engine, path: Path) -> None:
    """A connection stays on the file it opened. If the database was swapped since (a restore),
    its transactions would go into the old, unlinked file: reported as done, then nowhere. So
    every transaction first checks that the file is still the one the connection opened."""

    def opened(_dbapi_connection: Any, record: Any) -> None:
        record.info["file"] = _file_identity(path)

    def begun(connection: Any) -> None:
        if connection.connection.info.get("file") != _file_identity(path):
            raise DatabaseReplaced(
                f"数据库文件 {path} 已被替换（例如刚从备份恢复），这里打开的连接已失效，"
                "操作没有执行。请关闭程序后重新打开。"
            )

    event.listen(engine, "connect", opened)
    event.listen(engine, "begin", begun)


def _create_private(path: Path) -> None:
    """A new database (and a new data directory) readable by its owner only: on a PC shared by
    several accounts, nobody else gets even the encrypted file. SQLite gives its -wal and -shm
    files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _cipher_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our error to report
    cursor.execute("PRAGMA secure_delete = ON")  # deleted personal data is overwritten
    cursor.close()


@dataclass(frozen=True)
class Store:
    """What services receive: the engine and its session factory, and who is acting.

    ``principal`` is the signed-in user the core services check permissions against (the
    system itself, allowed nothing, until someone signs in); ``secret`` is the database key, from
    which the audit trail's MAC key is derived
    (:func:`govshare_desktop.core.security.audit.audit_trail`: the store knows nothing of the
    trail, which sits above it)."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    principal: Principal = SYSTEM
    secret: bytes | None = field(default=None, repr=False)
    encrypted: bool = False

    def acting(self, principal: Principal, secret: bytes | None = None) -> Store:
        """The same database, for ``principal`` (a signed-in user)."""
        return replace(self, principal=principal, secret=secret or self.secret)

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.url)

    @property
    def server(self) -> bool:
        """The database is on a PostgreSQL server (office mode), not in a file."""
        return is_server_url(self.url)

    @property
    def where(self) -> str:
        """Where the database is, as it may be shown: its file, or its URL without a password."""
        return str(self.path) if self.path is not None else shown(self.url)

    def file_connect(self) -> Callable[[str], Any] | None:
        """How to open a copy of this database (a backup) with the DB-API module: SQLCipher
        under this database's key, or None for plain SQLite."""
        return keyed_connect(self.secret) if self.encrypted else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


BeforeUpgrade = Callable[["Store", str], Any]
"""``before_upgrade(store, revision)``: run before a migration changes an existing database file;
raising stops the upgrade and leaves the file as it was."""


def open_store(
    db: str | os.PathLike[str] | None = None,
    *,
    migrate: bool = True,
    key: bytes | None = None,
    before_upgrade: BeforeUpgrade | None = None,
) -> Store:
    """Open (creating if needed) the database and bring its schema up to date. ``key``: the
    database is SQLCipher-encrypted under it (see :mod:`govshare_desktop.core.security.signin`).
    ``before_upgrade``: what to do before an existing file is migrated — the program passes
    :func:`govshare_desktop.core.store.backup.backup_before_upgrade` (whoever opens the store
    chooses; the engine does not reach up for the backup module)."""
    url = resolve_url(db)
    engine = create_engine_for(url, key)
    store = Store(
        url=url,
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        secret=key,
        encrypted=key is not None,
    )
    if migrate:

        def backup_first(revision: str) -> None:
            if before_upgrade is not None and store.path is not None:
                before_upgrade(store, revision)

        try:
            upgrade(engine, before=backup_first)
        except BaseException:
            engine.dispose()
            raise
    return store


def keyed_connect(key: bytes | None) -> Callable[[str], Any] | None:
    """How to open another file of this database (a backup, a copy) with the DB-API module
    directly: SQLCipher under ``key``, or None for plain SQLite."""
    if key is None:
        return None

    def connect(path: str) -> Any:
        import sqlcipher3  # optional: sqlcipher3 is missing on some CPUs

        connection = sqlcipher3.connect(path)
        connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        connection.execute("PRAGMA cipher_log_level = NONE")
        return connection

    return connect


def open_tool_store(db: str | os.PathLike[str] | None = None, *, encrypted: bool = False) -> Store:
    """For developer tools (benchmarks, screenshot scripts) on a throwaway database: the store as
    a signed-in 经办人 would use it, with a random key (``encrypted``: SQLCipher under it). The
    application and the command line always sign in (:mod:`govshare_desktop.core.security.signin`)."""
    key = os.urandom(32)
    store = open_store(db, key=key if encrypted and sqlcipher_available() else None)
    return store.acting(Principal("tool", Role.CLERK), key)
