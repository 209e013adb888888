"""a version on each 一表通 value (office mode: several clerks, one form)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

``form_value.version`` counts the changes of a value. Every UPDATE through the ORM checks and
bumps it (the mapper's ``version_id_col``), so two writers never lose each other's change; a
clerk's edit names the version they saw, and one made on a value changed since is refused with
who changed it and when (:class:`~govshare_desktop.core.forms.values_pool.StaleValue`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("form_value", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("form_value", schema=None) as batch_op:
        batch_op.drop_column("version")
