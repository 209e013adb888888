"""The laptop for village visits (issue 18): a village checked out of the township's database into
an encrypted database of its own, filled offline, checked back in. Re-exported by
:mod:`govshare_desktop.core.store.models`.

The office's database says which village is out (:class:`LaptopCheckout`) and the version of each
一表通 value copied out (:class:`LaptopCheckoutValue`): at check-in, a value whose office version is
still that one changed on the laptop only. The laptop's database says what it is a check-out of
(:class:`LaptopOrigin`, one row). Both tables exist in every database; each is empty where it does
not apply.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from govshare_desktop.core.store.models_base import Base

OUT, IN, CANCELLED = "out", "in", "cancelled"


class LaptopCheckout(Base):
    """One check-out of a village to a laptop, in the office's database: by whom, when, into which
    file, and how it ended (checked in, or cancelled — a laptop lost). At most one per village is
    out at a time (a partial unique index: two clerks at two PCs cannot both take it)."""

    __tablename__ = "laptop_checkout"
    __table_args__ = (
        Index(
            "uq_laptop_checkout_village_out",
            "village_code",
            unique=True,
            sqlite_where=text("state = 'out'"),
            postgresql_where=text("state = 'out'"),
        ),
    )

    checkout_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    period: Mapped[str | None] = mapped_column(String(8))  # None: every period
    forms: Mapped[str] = mapped_column(Text, default="[]")  # JSON template ids; []: every form
    state: Mapped[str] = mapped_column(String(12))  # out | in | cancelled
    file_name: Mapped[str] = mapped_column(Text)  # where the laptop's database was written
    laptop: Mapped[str] = mapped_column(String(64), default="")  # the laptop's name, as given
    value_count: Mapped[int] = mapped_column(Integer, default=0)  # 一表通 values copied out
    checked_out_by: Mapped[str] = mapped_column(String(64))
    checked_out_at: Mapped[datetime] = mapped_column(DateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(
        Text
    )  # JSON: what the check-in did, or why cancelled


class LaptopCheckoutValue(Base):
    """The version of one office value when its village was checked out."""

    __tablename__ = "laptop_checkout_value"

    checkout_id: Mapped[str] = mapped_column(
        ForeignKey("laptop_checkout.checkout_id"), primary_key=True
    )
    value_id: Mapped[int] = mapped_column(ForeignKey("form_value.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class LaptopOrigin(Base):
    """In a laptop's database: the check-out it is — from which township's database, which
    village, by whom, when — and, once back, when it was checked in (then it is no longer used)."""

    __tablename__ = "laptop_origin"

    checkout_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12))
    township_name: Mapped[str] = mapped_column(String(64))
    office: Mapped[str] = mapped_column(Text)  # the office database: its file or server (shown)
    village_code: Mapped[str] = mapped_column(String(12))
    village_name: Mapped[str] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(8))
    forms: Mapped[str] = mapped_column(Text, default="[]")
    laptop: Mapped[str] = mapped_column(String(64), default="")
    checked_out_by: Mapped[str] = mapped_column(String(64))
    checked_out_at: Mapped[datetime] = mapped_column(DateTime)
    checked_in_by: Mapped[str | None] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
