"""Alembic migrations shipped inside the package and applied automatically at start-up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

from govshare_desktop.core.errors import UserError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The newest revision under migrations/versions. Kept here so that a start-up on an up-to-date
# database needs one SELECT and no Alembic import (~0.3 s); a test checks it against Alembic's head.
SCHEMA_HEAD = "0017"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # heavy: alembic, only to migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory  # heavy: alembic, only to migrate

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


# PostgreSQL advisory lock taken while migrating: several PCs starting a new version at once
# migrate one after the other (the later ones find nothing left to do).
MIGRATION_LOCK = 0x67_6F_76_73  # "govs"


def current_revision(engine: Engine | Connection) -> str | None:
    if isinstance(engine, Connection):
        return _revision(engine)
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _refuse_unknown(script: ScriptDirectory, current: str) -> None:
    try:
        script.get_revision(current)
    except Exception:  # alembic raises several types for an unknown revision
        raise UserError(
            "该数据库由更新版本的程序创建（数据库版本 "
            f"{current}），当前程序无法安全打开它。请安装最新版本的 govshare-desktop。"
        ) from None


def upgrade(engine: Engine, *, before: Callable[[str], None] | None = None) -> None:
    """Upgrade to head. A database written by a newer version of the program is refused untouched.

    ``before(revision)`` runs just before an existing database (at ``revision``) is migrated; the
    program passes a backup there (:func:`govshare_desktop.core.store.backup.backup_before_upgrade`)
    so that an upgrade that goes wrong can be undone. If it raises, nothing is migrated."""
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    from alembic import command  # heavy: alembic, only to migrate
    from alembic.script import ScriptDirectory  # heavy: alembic, only to migrate

    script = ScriptDirectory.from_config(_config())
    if current is not None:
        _refuse_unknown(script, current)
        if current == script.get_current_head():
            return
        if before is not None:
            before(current)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            migrate_on(conn)
        else:
            command.upgrade(_config(conn), "head")


def migrate_on(connection: Connection) -> None:
    """Upgrade to head inside the caller's transaction on ``connection`` — on PostgreSQL, whose
    DDL is transactional, a schema created or upgraded halfway is rolled back whole. Holds the
    migration lock (:data:`MIGRATION_LOCK`) until that transaction ends, and looks at the
    revision only once it has it.

    On a server, only the owner may migrate: the program connected as the application role is
    refused with what the administrator is to run; after a migration every application role is
    granted again (:mod:`govshare_desktop.core.store.server_roles`)."""
    from alembic import command  # heavy: alembic, only to migrate
    from alembic.script import ScriptDirectory  # heavy: alembic, only to migrate

    server = connection.dialect.name == "postgresql"
    if server:
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
    current = _revision(connection)
    if current == SCHEMA_HEAD:
        return
    if current is not None:
        _refuse_unknown(ScriptDirectory.from_config(_config()), current)
    if server:
        from govshare_desktop.core.store import server_roles  # lazy: servers only

        server_roles.refuse_unless_owner(connection, current, SCHEMA_HEAD)
    command.upgrade(_config(connection), "head")
    if server:
        server_roles.refresh_grants(connection)
