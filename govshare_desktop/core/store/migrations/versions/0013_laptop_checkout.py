"""the laptop for village visits: check-outs, the versions they took, a laptop's origin

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

``laptop_checkout`` (in the office's database): a village checked out to a laptop — at most one
out per village, by a partial unique index; ``laptop_checkout_value``: the version of each 一表通
value copied out; ``laptop_origin`` (in the laptop's database): what it is a check-out of
(:mod:`govshare_desktop.core.laptop`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "laptop_checkout",
        sa.Column("checkout_id", sa.String(length=36), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=True),
        sa.Column("forms", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("laptop", sa.String(length=64), nullable=False),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.Column("checked_out_by", sa.String(length=64), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(), nullable=False),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("checkout_id", name=op.f("pk_laptop_checkout")),
    )
    op.create_index(
        op.f("ix_laptop_checkout_village_code"), "laptop_checkout", ["village_code"], unique=False
    )
    op.create_index(
        "uq_laptop_checkout_village_out",
        "laptop_checkout",
        ["village_code"],
        unique=True,
        sqlite_where=sa.text("state = 'out'"),
        postgresql_where=sa.text("state = 'out'"),
    )
    op.create_table(
        "laptop_checkout_value",
        sa.Column("checkout_id", sa.String(length=36), nullable=False),
        sa.Column("value_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkout_id"],
            ["laptop_checkout.checkout_id"],
            name=op.f("fk_laptop_checkout_value_checkout_id_laptop_checkout"),
        ),
        sa.ForeignKeyConstraint(
            ["value_id"],
            ["form_value.id"],
            name=op.f("fk_laptop_checkout_value_value_id_form_value"),
        ),
        sa.PrimaryKeyConstraint("checkout_id", "value_id", name=op.f("pk_laptop_checkout_value")),
    )
    op.create_table(
        "laptop_origin",
        sa.Column("checkout_id", sa.String(length=36), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=False),
        sa.Column("township_name", sa.String(length=64), nullable=False),
        sa.Column("office", sa.Text(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("village_name", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=True),
        sa.Column("forms", sa.Text(), nullable=False),
        sa.Column("laptop", sa.String(length=64), nullable=False),
        sa.Column("checked_out_by", sa.String(length=64), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(), nullable=False),
        sa.Column("checked_in_by", sa.String(length=64), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("checkout_id", name=op.f("pk_laptop_origin")),
    )


def downgrade() -> None:
    op.drop_table("laptop_origin")
    op.drop_table("laptop_checkout_value")
    op.drop_index("uq_laptop_checkout_village_out", table_name="laptop_checkout")
    op.drop_index(op.f("ix_laptop_checkout_village_code"), table_name="laptop_checkout")
    op.drop_table("laptop_checkout")
