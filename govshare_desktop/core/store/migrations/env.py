"""Alembic environment: runs on the connection the application hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from govshare_desktop.core.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through govshare_desktop.core.store.migrate.upgrade()")


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """The FTS5 tables (and their shadow tables) are created by raw SQL: autogenerate leaves them."""
    return not (type_ == "table" and name is not None and "_fts" in name)


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=include_name,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
