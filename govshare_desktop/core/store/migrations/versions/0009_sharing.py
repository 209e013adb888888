"""sharing: the county's calendar, the catalog, its links to back-flow datasets, share requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_index(op.f("ix_calendar_day_year"), "calendar_day", ["year"], unique=False)
    op.create_table(
        "catalog_resource",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_initials", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=128), nullable=False),
        sa.Column("provider_code", sa.String(length=12), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("share_type", sa.String(length=8), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("cycle", sa.String(length=16), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_resource")),
    )
    op.create_index(
        op.f("ix_catalog_resource_name_initials"),
        "catalog_resource",
        ["name_initials"],
        unique=False,
    )
    op.create_index(
        op.f("ix_catalog_resource_share_type"), "catalog_resource", ["share_type"], unique=False
    )
    op.create_table(
        "catalog_link",
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("resource_code", "dataset", name=op.f("pk_catalog_link")),
    )
    op.create_table(
        "share_request",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("resource_name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=128), nullable=False),
        sa.Column("provider_code", sa.String(length=12), nullable=False),
        sa.Column("share_type", sa.String(length=8), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("use_until", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("expected_package", sa.String(length=64), nullable=True),
        sa.Column("received_batch", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["received_batch"], ["batch.id"], name=op.f("fk_share_request_received_batch_batch")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_share_request")),
    )
    op.create_index(
        op.f("ix_share_request_resource_code"), "share_request", ["resource_code"], unique=False
    )
    op.create_index(op.f("ix_share_request_state"), "share_request", ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("share_request")
    op.drop_table("catalog_link")
    op.drop_index(op.f("ix_catalog_resource_share_type"), table_name="catalog_resource")
    op.drop_index(op.f("ix_catalog_resource_name_initials"), table_name="catalog_resource")
    op.drop_table("catalog_resource")
    op.drop_index(op.f("ix_calendar_day_year"), table_name="calendar_day")
    op.drop_table("calendar_day")
