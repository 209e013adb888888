"""the rows an import left out, kept for 校核纠错

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_rejection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("household_no", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.Column("correction_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_import_rejection_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_rejection")),
    )
    op.create_index(
        op.f("ix_import_rejection_batch_id"), "import_rejection", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_import_rejection_id_number"), "import_rejection", ["id_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_import_rejection_id_number"), table_name="import_rejection")
    op.drop_index(op.f("ix_import_rejection_batch_id"), table_name="import_rejection")
    op.drop_table("import_rejection")
