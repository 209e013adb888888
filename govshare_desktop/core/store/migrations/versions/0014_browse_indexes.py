"""the browse indexes: every sortable column of the four lists has an index that delivers its order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

A list shows its first rows by walking the index of its sort (keyset paging,
:mod:`govshare_desktop.core.browse`): sorted by a column without one, the database sorted every
row before the first showed (1.1–2.2 s at 200,000 households). ``tests/core/test_browse_plans.py``
checks the query plans. On SQLite an index ends in the rowid, which is the sort's tie-breaker.
On 7.5M payments the four (month, amount or date) indexes take a few seconds each to build and
~100 MB each; 全部 months sorted by an amount is still a sort of every payment.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = {
    "person": ("sex_code", "ethnicity_code", "relationship_code", "status_date"),
    "household": ("household_type", "head_name", "head_id_number", "address", "as_of"),
    "ss_enrollment": ("status_code", "receiving"),
}
# A filter its sort follows (户号 and 住址 begin with the village's; a month's amounts and dates
# grow with the month): the sort's own index would pass every other village's or month's rows
# first, so these pair them.
PAIRS = {
    "ix_person_village_household_no": ("person", ["village_code", "household_no", "relationship_code"]),
    "ix_household_village_household_no": ("household", ["village_code", "household_no"]),
    "ix_household_village_address": ("household", ["village_code", "address"]),
    "ix_ss_payment_period_basic_fen": ("ss_payment", ["period", "basic_fen"]),
    "ix_ss_payment_period_account_fen": ("ss_payment", ["period", "account_fen"]),
    "ix_ss_payment_period_total_fen": ("ss_payment", ["period", "total_fen"]),
    "ix_ss_payment_period_paid_date": ("ss_payment", ["period", "paid_date"]),
}  # fmt: skip


def upgrade() -> None:
    for table, columns in INDEXES.items():
        for column in columns:
            op.create_index(f"ix_{table}_{column}", table, [column])
    for name, (table, pair) in PAIRS.items():
        op.create_index(name, table, pair)


def downgrade() -> None:
    for name, (table, _columns) in PAIRS.items():
        op.drop_index(name, table_name=table)
    for table, columns in INDEXES.items():
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
