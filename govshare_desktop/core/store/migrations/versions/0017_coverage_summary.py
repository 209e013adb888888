"""the 工作台's 参保率 from a summary: persons by village, birth month and 城乡居民养老保险

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

``summary_coverage`` (:class:`govshare_desktop.core.store.models_summary.SummaryCoverage`), filled
from the records already in the database
(:func:`govshare_desktop.core.store.summary.coverage_rebuild`: about 3 s at 200,000 households),
then counted again by every import of persons or enrollments and by a rebuild. The enrollments'
triggers also watch ``id_number`` now (whose enrollment it is decides a person's 参保).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govshare_desktop.core.store.summary import (
    coverage_rebuild,
    unwatch_statements,
    watch_statements,
)

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

REWATCHED = ("ss_enrollment",)


def upgrade() -> None:
    op.create_table(
        "summary_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("receiving", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_coverage")),
    )
    bind = op.get_bind()
    for statement in unwatch_statements(bind.dialect.name, REWATCHED):
        op.execute(statement)
    for statement in watch_statements(bind.dialect.name, REWATCHED):
        op.execute(statement)
    coverage_rebuild(bind)


def downgrade() -> None:
    # The enrollments' triggers keep watching id_number too: a change of it marks the summary
    # dirty, which is never wrong (it is then counted again).
    op.drop_table("summary_coverage")
