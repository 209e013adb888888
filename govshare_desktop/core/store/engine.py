"""Engine and session factory: the one place that knows how to open the database.

Other code receives a :class:`Store` (engine + session factory) and never builds its own engine, so a
PostgreSQL URL can later be passed instead of a SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

APP_NAME = "govshare-desktop"
ENV_DB = "GOVSHARE_DB"
DB_FILE = "govshare.db"


def default_db_path() -> Path:
    """``<per-user data dir>/govshare.db`` (e.g. ``%LOCALAPPDATA%\\govshare-desktop`` on Windows,
    ``~/.local/share/govshare-desktop`` on Linux)."""
    from platformdirs import user_data_path

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


def create_engine_for(url: str) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@dataclass(frozen=True)
class Store:
    """What services receive: the engine and its session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(db: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the database and bring its schema up to date."""
    url = resolve_url(db)
    engine = create_engine_for(url)
    if migrate:
        from govshare_desktop.core.store.migrate import upgrade

        upgrade(engine)
    return Store(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
