"""search indexes on a server (office mode)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

SQLite finds ID fragments and names through its FTS5 tables (revision 0001); PostgreSQL has no FTS5.
There, an ID fragment is found with ``LIKE '%…%'`` on a pg_trgm GIN index of ``id_number``, and a
name by the GIN index over ``name_chars`` split into its characters (``string_to_array``: immutable,
so it can be indexed), which finds 1- and 2-character names as well (a trigram index cannot).
pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it. Nothing
changes in a SQLite file.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_person_id_number_trgm ON person USING gin (id_number gin_trgm_ops)")
    op.execute(
        "CREATE INDEX ix_person_name_chars ON person USING gin (string_to_array(name_chars, ' '))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_person_name_chars")
    op.execute("DROP INDEX IF EXISTS ix_person_id_number_trgm")
