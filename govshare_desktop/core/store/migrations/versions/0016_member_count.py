"""户籍's 在册人数 on the household row, indexed and kept right by triggers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

``household.member_count`` (:mod:`govshare_desktop.core.store.members`): the list sorted by
在册人数 walks ``ix_household_member_count`` instead of counting every household's members first.
The number is counted once here from the persons (a few seconds at 200,000 households), then
kept by triggers on ``person`` and ``household``.

No new index for 待遇发放 of 全部 months sorted by an amount or the date: those pages are merged
from each month's (month, amount or date) index of migration 0014
(:meth:`govshare_desktop.core.browse.Browser.page_statements`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govshare_desktop.core.store.members import drop_statements, recount, trigger_statements

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "household",
        sa.Column("member_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    bind = op.get_bind()
    recount(bind)
    op.create_index("ix_household_member_count", "household", ["member_count"])
    for statement in trigger_statements(bind.dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_household_member_count", table_name="household")
    # not batch_alter_table: rebuilding household on SQLite would drop the 预填 summary's triggers
    op.execute("ALTER TABLE household DROP COLUMN member_count")
