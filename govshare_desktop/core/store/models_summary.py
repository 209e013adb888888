"""The 预填 summary (issue 20): counts and sums of the back-flowed records, kept small enough that
every computed 一表通 element of a period is read from a few thousand rows instead of a scan of
the whole registry and every payment. Re-exported by :mod:`govshare_desktop.core.store.models`;
built and refreshed by :mod:`govshare_desktop.core.store.summary`, read by
:func:`govshare_desktop.core.forms.compute.compute_area_values`.

Only records in the latest back-flow (``absent_batch_id IS NULL``) are counted. ``village_code``
is ``''`` where the record has none (the 「其他（未落户）」 row). Dates of persons are kept to the
resolution a period can tell apart: every period ends on the last day of a month and starts on
the first, so a birth or status date is stored as the last day of its month (in February: the
28th, or the 29th for those born on the 29th — the age cut of a period ending 28 February falls
on the 28th of a leap year).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from govshare_desktop.core.store.models_base import Base


class SummaryPerson(Base):
    """Persons by village, sex, birth month, status and status month."""

    __tablename__ = "summary_person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12))
    sex_code: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)  # the last day of the birth month (see above)
    status: Mapped[str] = mapped_column(String(16))
    status_date: Mapped[date | None] = mapped_column(Date)  # likewise
    n: Mapped[int] = mapped_column(Integer)


class SummaryHousehold(Base):
    """Households by village and type."""

    __tablename__ = "summary_household"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12))
    household_type: Mapped[str] = mapped_column(String(2))
    n: Mapped[int] = mapped_column(Integer)


class SummaryEnrollment(Base):
    """Enrollments by village, scheme, payment status and 待遇领取标志."""

    __tablename__ = "summary_enrollment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12))
    scheme_code: Mapped[str] = mapped_column(String(3))
    status_code: Mapped[str] = mapped_column(String(1))
    receiving: Mapped[bool] = mapped_column(Boolean)
    n: Mapped[int] = mapped_column(Integer)


class SummaryPayment(Base):
    """Payments by village (the paid person's village in the registry) and month: how many, and
    the sums of their amounts."""

    __tablename__ = "summary_payment"

    village_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)  # YYYYMM
    payments: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    basic_fen: Mapped[int] = mapped_column(BigInteger)
    account_fen: Mapped[int] = mapped_column(BigInteger)


class SummaryPayee(Base):
    """Who was paid in which months of a year (bit ``m - 1`` of ``months`` for month ``m``), under
    the village their payments are counted in: the number of people paid in a quarter, half or
    year is a count of the rows whose months meet it."""

    __tablename__ = "summary_payee"
    __table_args__ = (Index("ix_summary_payee_year", "year", "village_code", "months"),)

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12))
    months: Mapped[int] = mapped_column(Integer)


class SummaryCoverage(Base):
    """The persons the 工作台's 参保率 counts (户籍状态正常, in the latest back-flow, not covered by
    企业职工 or 机关事业单位 养老保险) by village, birth month (stored as :class:`SummaryPerson`
    stores it) and their 城乡居民养老保险: ``enrolled`` (参保缴费, 暂停缴费 or paying a pension),
    ``receiving`` (paying a pension). Ages on any day are exact: only the months of the two age
    cuts (16 and 60 years before the day) are read from the registry itself
    (:func:`govshare_desktop.core.stats_queries.coverage_by_village`)."""

    __tablename__ = "summary_coverage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12))
    birth_date: Mapped[date] = mapped_column(Date)  # the last day of the birth month
    enrolled: Mapped[bool] = mapped_column(Boolean)
    receiving: Mapped[bool] = mapped_column(Boolean)
    n: Mapped[int] = mapped_column(Integer)


class SummaryState(Base):
    """What the summary was last made from: the highest id of the batches and of each summarised
    table. A summary whose state differs from the tables' is not read (the elements are computed
    from the records themselves) until it is refreshed."""

    __tablename__ = "summary_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    max_id: Mapped[int] = mapped_column(Integer)
