"""the 一表通 loop with the county: township key, outbox, report tasks, replies, stored templates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Forms delivered as data: templates and dictionary additions stored in the database (versioned),
report tasks coming down, the township's own signing key, every package it sends (the outbox) and
the replies that come back. A form's status gains the template version it was filled with, who
submitted and reviewed it, and its last report package.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FORM_STATUS_COLUMNS = ("template_version", "submitted_by", "reviewed_by", "report_package")


def upgrade() -> None:
    _form_status_columns()
    _forms_tables()
    _exchange_tables()
    _check_tables()
    _correction_table()


def _correction_table() -> None:
    op.create_table(
        "correction",
        sa.Column("correction_id", sa.String(length=36), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("current_value", sa.Text(), nullable=False),
        sa.Column("proposed_value", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("found_by", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("recipient_code", sa.String(length=12), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("corrected_batch", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["check_case.id"], name=op.f("fk_correction_case_id_check_case")
        ),
        sa.ForeignKeyConstraint(
            ["corrected_batch"], ["batch.id"], name=op.f("fk_correction_corrected_batch_batch")
        ),
        sa.PrimaryKeyConstraint("correction_id", name=op.f("pk_correction")),
    )
    op.create_index(op.f("ix_correction_record_key"), "correction", ["record_key"], unique=False)
    op.create_index(op.f("ix_correction_state"), "correction", ["state"], unique=False)


def _check_tables() -> None:
    op.create_table(
        "check_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("evidence_key", sa.String(length=64), nullable=False),
        sa.Column("batches", sa.Text(), nullable=False),
        sa.Column("first_found_at", sa.DateTime(), nullable=False),
        sa.Column("last_found_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_case")),
        sa.UniqueConstraint("check_id", "subject", name=op.f("uq_check_case_check_id_subject")),
    )
    op.create_index(op.f("ix_check_case_check_id"), "check_case", ["check_id"], unique=False)
    op.create_index(op.f("ix_check_case_state"), "check_case", ["state"], unique=False)
    op.create_index(
        op.f("ix_check_case_village_code"), "check_case", ["village_code"], unique=False
    )
    op.create_table(
        "check_case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["check_case.id"], name=op.f("fk_check_case_event_case_id_check_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_case_event")),
    )
    op.create_index(
        op.f("ix_check_case_event_case_id"), "check_case_event", ["case_id"], unique=False
    )


def _form_status_columns() -> None:
    with op.batch_alter_table("form_status") as batch:
        batch.add_column(sa.Column("template_version", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("submitted_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("report_package", sa.String(length=64), nullable=True))


def _forms_tables() -> None:
    op.create_table(
        "form_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("installed_by", sa.String(length=64), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_template")),
        sa.UniqueConstraint(
            "template_id", "version", name=op.f("uq_form_template_template_id_version")
        ),
    )
    op.create_index(
        op.f("ix_form_template_template_id"), "form_template", ["template_id"], unique=False
    )
    op.create_table(
        "form_elements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("installed_by", sa.String(length=64), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_elements")),
    )


def _exchange_tables() -> None:
    op.create_table(
        "township_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_wrapped", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_by", sa.String(length=64), nullable=True),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_township_key")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_township_key_fingerprint")),
    )
    op.create_table(
        "outbox",
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient_code", sa.String(length=12), nullable=False),
        sa.Column("recipient_name", sa.String(length=128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("refers_to", sa.String(length=64), nullable=True),
        sa.Column("replaces", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("written_to", sa.Text(), nullable=True),
        sa.Column("written_at", sa.DateTime(), nullable=True),
        sa.Column("receipt_status", sa.String(length=16), nullable=True),
        sa.Column("receipt_reason", sa.String(length=64), nullable=True),
        sa.Column("receipt_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "recipient_code", "sequence", name=op.f("uq_outbox_recipient_code_sequence")
        ),
    )
    _report_tables()


def _report_tables() -> None:
    op.create_table(
        "report_task",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("area", sa.String(length=12), nullable=False),
        sa.Column("issuer_code", sa.String(length=12), nullable=False),
        sa.Column("issuer_name", sa.String(length=128), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_report_task")),
    )
    op.create_table(
        "reply",
        sa.Column("reply_id", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("replied_on", sa.Date(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_reply")),
    )
    op.create_index(op.f("ix_reply_target_id"), "reply", ["target_id"], unique=False)


def downgrade() -> None:
    op.drop_table("correction")
    op.drop_table("check_case_event")
    op.drop_table("check_case")
    op.drop_index(op.f("ix_reply_target_id"), table_name="reply")
    op.drop_table("reply")
    op.drop_table("report_task")
    op.drop_table("outbox")
    op.drop_table("township_key")
    op.drop_table("form_elements")
    op.drop_index(op.f("ix_form_template_template_id"), table_name="form_template")
    op.drop_table("form_template")
    with op.batch_alter_table("form_status") as batch:
        for column in reversed(FORM_STATUS_COLUMNS):
            batch.drop_column(column)
