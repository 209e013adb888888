"""the 预填 summary: counts and sums of the records per village, month and kind, built from the data

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

``summary_person``, ``summary_household``, ``summary_enrollment``, ``summary_payment``,
``summary_payee`` and ``summary_state`` (:mod:`govshare_desktop.core.store.models_summary`), filled
from the records already in the database (:func:`govshare_desktop.core.store.summary.rebuild`:
17.5 s for 200,000 households and 7.5M payments on SQLite), then kept in step by every
back-flow import. Triggers mark it dirty when a record it counts is changed or deleted otherwise
(then it is not read until it is built again). Should the summary's tables change later, that
migration builds them again the same way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govshare_desktop.core.store.summary import rebuild, unwatch_statements, watch_statements

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("sex_code", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_person")),
    )
    op.create_table(
        "summary_household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("household_type", sa.String(length=2), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_household")),
    )
    op.create_table(
        "summary_enrollment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("scheme_code", sa.String(length=3), nullable=False),
        sa.Column("status_code", sa.String(length=1), nullable=False),
        sa.Column("receiving", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_enrollment")),
    )
    op.create_table(
        "summary_payment",
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("basic_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("village_code", "period", name=op.f("pk_summary_payment")),
    )
    op.create_table(
        "summary_payee",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id_number", "year", name=op.f("pk_summary_payee")),
    )
    op.create_index(
        "ix_summary_payee_year", "summary_payee", ["year", "village_code", "months"], unique=False
    )
    op.create_table(
        "summary_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("max_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_summary_state")),
    )
    bind = op.get_bind()
    for statement in watch_statements(bind.dialect.name):
        op.execute(statement)
    rebuild(bind, coverage=False)  # summary_coverage: made and filled by migration 0017


def downgrade() -> None:
    for statement in unwatch_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_summary_payee_year", table_name="summary_payee")
    for table in (
        "summary_state",
        "summary_payee",
        "summary_payment",
        "summary_enrollment",
        "summary_household",
        "summary_person",
    ):
        op.drop_table(table)
