"""audit trail signed with one-time keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Format 2 of the audit trail (see :mod:`govshare_desktop.core.security.audit`): each entry signed
with an Ed25519 key used once, whose public half the previous entry names (``audit_log.seal``);
the private key for the next entry in ``audit_state``. A trail that already has entries (format 1,
HMAC under a key derived from the database key) gets its first format-2 entry here, so that from
now on nothing can be added to or rewritten in the old format unnoticed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("seal", sa.Text(), nullable=True))
    op.create_table(
        "audit_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("private_key", sa.String(length=64), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_state")),
    )
    if op.get_bind().dialect.name == "postgresql":  # govshare_refuse(): revision 0004
        for statement in PG_REFUSE:
            op.execute(statement)
    else:
        op.execute(
            "CREATE TRIGGER audit_state_no_delete BEFORE DELETE ON audit_state "
            "BEGIN SELECT RAISE(ABORT, 'audit_state cannot be deleted'); END"
        )
    connection = op.get_bind()
    entries = connection.execute(sa.text("SELECT COUNT(*) FROM audit_log")).scalar()
    if entries:
        from govshare_desktop.core.security.audit import append_raw

        append_raw(
            connection,
            "system",
            "system",
            "upgrade",
            "0005",
            detail={"audit_format": 2, "format1_entries": int(entries)},
        )


PG_REFUSE = [
    "CREATE TRIGGER audit_state_no_delete BEFORE DELETE ON audit_state FOR EACH ROW "
    "EXECUTE FUNCTION govshare_refuse('audit_state cannot be deleted')",
    "CREATE TRIGGER audit_state_no_truncate BEFORE TRUNCATE ON audit_state FOR EACH STATEMENT "
    "EXECUTE FUNCTION govshare_refuse('audit_state cannot be deleted')",
]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_state_no_truncate ON audit_state")
        op.execute("DROP TRIGGER IF EXISTS audit_state_no_delete ON audit_state")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_state_no_delete")
    op.drop_table("audit_state")
    op.drop_column("audit_log", "seal")
