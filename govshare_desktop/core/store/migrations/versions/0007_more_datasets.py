"""more back-flowed datasets: 民政 救助 and 津贴, 医保 参保, 殡葬 火化, 卫健 死亡医学证明, 残联 残疾人证

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Six record tables, each keyed by its natural key, with the provenance every back-flowed record
carries (batch, as-of date, "not in latest back-flow"). They join persons by 公民身份号码, never by
a foreign key.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = (
    "assistance",
    "allowance_payment",
    "medical_enrollment",
    "cremation",
    "death_certificate",
    "disability_card",
)


def _provenance(table: str) -> list[Any]:
    """The columns and constraints every record table has: id, name, batch, as-of, absent."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("absent_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f(f"fk_{table}_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["absent_batch_id"], ["batch.id"], name=op.f(f"fk_{table}_absent_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _village(table: str) -> list[Any]:
    return [
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["village_code"], ["area.code"], name=op.f(f"fk_{table}_village_code_area")
        ),
    ]


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def upgrade() -> None:
    _welfare()
    _medical()
    _deaths()
    _disability()


def _welfare() -> None:
    op.create_table(
        "assistance",
        *_provenance("assistance"),
        sa.Column("category_code", sa.String(length=2), nullable=False),
        sa.Column("household_size", sa.Integer(), nullable=True),
        sa.Column("monthly_fen", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status_code", sa.String(length=1), nullable=False),
        *_village("assistance"),
        sa.UniqueConstraint(
            "id_number", "category_code", name=op.f("uq_assistance_id_number_category_code")
        ),
    )
    _index("assistance", "category_code")
    _index("assistance", "village_code")
    op.create_table(
        "allowance_payment",
        *_provenance("allowance_payment"),
        sa.Column("category_code", sa.String(length=1), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("paid_date", sa.Date(), nullable=True),
        *_village("allowance_payment"),
        sa.UniqueConstraint(
            "id_number",
            "category_code",
            "period",
            name=op.f("uq_allowance_payment_id_number_category_code_period"),
        ),
    )
    _index("allowance_payment", "category_code")
    _index("allowance_payment", "period")
    _index("allowance_payment", "village_code")


def _medical() -> None:
    op.create_table(
        "medical_enrollment",
        *_provenance("medical_enrollment"),
        sa.Column("person_no", sa.String(length=32), nullable=True),
        sa.Column("scheme_code", sa.String(length=3), nullable=False),
        sa.Column("status_code", sa.String(length=1), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("identity_code", sa.String(length=2), nullable=True),
        sa.Column("subsidy_code", sa.String(length=1), nullable=True),
        sa.Column("personal_fen", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        *_village("medical_enrollment"),
        sa.UniqueConstraint(
            "id_number", "scheme_code", name=op.f("uq_medical_enrollment_id_number_scheme_code")
        ),
    )
    _index("medical_enrollment", "scheme_code")
    _index("medical_enrollment", "village_code")


def _deaths() -> None:
    op.create_table(
        "cremation",
        *_provenance("cremation"),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("cremation_date", sa.Date(), nullable=False),
        sa.Column("funeral_home", sa.String(length=128), nullable=True),
        sa.Column("certificate_no", sa.String(length=64), nullable=True),
        sa.UniqueConstraint("id_number", name=op.f("uq_cremation_id_number")),
    )
    _index("cremation", "cremation_date")
    op.create_table(
        "death_certificate",
        *_provenance("death_certificate"),
        sa.Column("death_date", sa.Date(), nullable=False),
        sa.Column("place_code", sa.String(length=1), nullable=True),
        sa.Column("certificate_no", sa.String(length=64), nullable=True),
        sa.Column("institution", sa.String(length=128), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.UniqueConstraint("id_number", name=op.f("uq_death_certificate_id_number")),
    )
    _index("death_certificate", "death_date")


def _disability() -> None:
    op.create_table(
        "disability_card",
        *_provenance("disability_card"),
        sa.Column("card_no", sa.String(length=32), nullable=True),
        sa.Column("category_code", sa.String(length=1), nullable=False),
        sa.Column("level_code", sa.String(length=1), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status_code", sa.String(length=1), nullable=False),
        *_village("disability_card"),
        sa.UniqueConstraint("id_number", name=op.f("uq_disability_card_id_number")),
    )
    _index("disability_card", "category_code")
    _index("disability_card", "village_code")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
