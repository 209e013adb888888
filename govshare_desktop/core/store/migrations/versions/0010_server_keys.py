"""the accounts' keys inside the database, for a server (office mode)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

A SQLite database keeps them in its key file; a PostgreSQL server has no file beside it that every
PC can reach, so there they are one row of ``key_vault``. The table is created on both (the same
schema everywhere) and stays empty in a SQLite file.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_vault",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_vault")),
    )


def downgrade() -> None:
    op.drop_table("key_vault")
