"""Alembic environment: runs on the connection the application hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from govshare_desktop.core.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through govshare_desktop.core.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
