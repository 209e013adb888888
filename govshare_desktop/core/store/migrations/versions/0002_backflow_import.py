"""Back-flow import: field history, remembered column mappings, trusted senders, package receipts,
and "not in latest back-flow" markers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Columns are added with plain ALTER TABLE ADD COLUMN (no batch "copy and move"): recreating the person
table would drop its full-text triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RECORD_TABLES = ("household", "person", "ss_enrollment", "ss_payment")


def upgrade() -> None:
    op.create_table(
        "import_mapping",
        sa.Column("layout_key", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("layout_key", name=op.f("pk_import_mapping")),
    )
    op.create_table(
        "package_receipt",
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("sender_code", sa.String(length=12), nullable=False),
        sa.Column("recipient_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("held_bytes", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_package_receipt")),
    )
    op.create_index(
        "ix_package_receipt_sender_sequence", "package_receipt", ["sender_code", "sequence"]
    )
    op.create_table(
        "trusted_sender",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_trusted_sender")),
    )
    op.create_table(
        "record_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_record_history_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_history")),
    )
    op.create_index("ix_record_history_batch_id", "record_history", ["batch_id"])
    op.create_index("ix_record_history_dataset_key", "record_history", ["dataset", "record_key"])

    op.add_column(
        "batch", sa.Column("rows_absent", sa.Integer(), nullable=False, server_default="0")
    )
    _add_reference("batch", "package_id", sa.String(length=64), "package_receipt", "package_id")
    for table in RECORD_TABLES:
        _add_reference(table, "absent_batch_id", sa.Integer(), "batch", "id")


def _add_reference(
    table: str, column: str, type_: sa.types.TypeEngine, target: str, target_column: str
) -> None:
    """A nullable column with a foreign key. SQLite can add one in place (ALTER TABLE … REFERENCES);
    Alembic would otherwise insist on a batch table copy."""
    if op.get_bind().dialect.name == "sqlite":
        type_sql = type_.compile(dialect=op.get_bind().dialect)
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} {type_sql} REFERENCES {target} ({target_column})"
        )
        return
    op.add_column(table, sa.Column(column, type_, nullable=True))
    op.create_foreign_key(f"fk_{table}_{column}_{target}", table, target, [column], [target_column])


def downgrade() -> None:
    for table in RECORD_TABLES:
        op.drop_column(table, "absent_batch_id")
    op.drop_column("batch", "package_id")
    op.drop_column("batch", "rows_absent")
    op.drop_table("record_history")
    op.drop_table("trusted_sender")
    op.drop_table("package_receipt")
    op.drop_table("import_mapping")
