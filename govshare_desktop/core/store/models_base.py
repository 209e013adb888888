"""The declarative base of every model, the batch (one arrival of data) and the provenance each
back-flowed record carries. Re-exported by :mod:`govshare_desktop.core.store.models`, which is
where callers import them from; kept apart so that the records of each department
(:mod:`~govshare_desktop.core.store.models_departments`) can build on them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed (for bulk statements that bypass the ORM)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Batch(Base):
    """One arrival of data: an imported file or package, or the demo generator."""

    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(32))
    source_department: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(512))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    as_of: Mapped[date | None] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    imported_by: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_absent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # newly absent
    note: Mapped[str | None] = mapped_column(Text)
    # The exchange package this batch came from, if any.
    package_id: Mapped[str | None] = mapped_column(ForeignKey("package_receipt.package_id"))


class Provenance:
    """Where a back-flowed record came from: the batch that last brought or changed it (and through it
    the source department, file and import time) and the data's as-of date (数据时点)."""

    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    as_of: Mapped[date | None] = mapped_column(Date)
    # Set when a full snapshot of this dataset no longer contained the record ("not in latest
    # back-flow"): the batch that left it out. Cleared when a later back-flow brings it again.
    absent_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))

    @declared_attr
    def batch(cls: type[Any]) -> Mapped[Batch]:
        # Two foreign keys reach batch (batch_id, absent_batch_id): this one is the provenance.
        return relationship(Batch, lazy="joined", innerjoin=True, foreign_keys=[cls.batch_id])

    @property
    def source_department(self) -> str:
        return self.batch.source_department


class ImportRejection(Base):
    """A row an import left out, as the file had it: where (row, column), why (reason code and
    message) and who it seemed to be — kept so that a clerk can send a 校核纠错 about it to the
    department the file came from. Personal data: the database is encrypted like the records."""

    __tablename__ = "import_rejection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)  # the row number as the clerk sees the file
    column: Mapped[str] = mapped_column(String(128))  # the file's header
    field: Mapped[str | None] = mapped_column(String(64))  # the dataset's field key, if mapped
    reason_code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    id_number: Mapped[str | None] = mapped_column(String(32), index=True)  # as far as readable
    household_no: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)  # the rejected cell as the file had it
    cells: Mapped[str] = mapped_column(Text)  # the whole row: JSON {header: text}
    correction_id: Mapped[str | None] = mapped_column(String(36))  # a 纠错 raised from it
