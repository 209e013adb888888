"""Read services for one person or household (the person card, the household view) and overall counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from govshare_desktop.core.progress import Cancel, check
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    AllowancePayment,
    Area,
    Assistance,
    Base,
    Batch,
    Cremation,
    DeathCertificate,
    DisabilityCard,
    Enrollment,
    Household,
    MedicalEnrollment,
    Payment,
    Person,
)

# The datasets of the other departments, as ``govshare info`` counts them.
DEPARTMENT_COUNTS: tuple[tuple[str, type[Base]], ...] = (
    ("医保参保记录", MedicalEnrollment),
    ("救助（低保、特困）记录", Assistance),
    ("津贴发放记录", AllowancePayment),
    ("残疾人证", DisabilityCard),
    ("死亡医学证明", DeathCertificate),
    ("火化记录", Cremation),
)


@dataclass(frozen=True)
class PersonCard:
    """Everything shown on a person card. ``person`` is None for someone known only to 社保."""

    id_number: str
    name: str
    person: Person | None
    household: Household | None
    village: Area | None
    enrollments: list[Enrollment]
    payments: list[Payment]

    @property
    def in_registry(self) -> bool:
        return self.person is not None

    @property
    def total_paid_fen(self) -> int:
        return sum(p.total_fen for p in self.payments)


def person_card(store: Store, id_number: str) -> PersonCard | None:
    with store.sessions() as session:
        person = session.scalar(
            select(Person)
            .where(Person.id_number == id_number)
            .options(selectinload(Person.household), selectinload(Person.village))
        )
        enrollments = list(
            session.scalars(
                select(Enrollment)
                .where(Enrollment.id_number == id_number)
                .order_by(Enrollment.scheme_code)
            )
        )
        payments = list(
            session.scalars(
                select(Payment)
                .where(Payment.id_number == id_number)
                .order_by(Payment.period.desc())
            )
        )
        if person is None and not enrollments and not payments:
            return None
        name = person.name if person else (enrollments[0].name if enrollments else "")
        village = person.village if person else None
        if village is None and enrollments and enrollments[0].village_code:
            village = session.get(Area, enrollments[0].village_code)
        return PersonCard(
            id_number=id_number,
            name=name,
            person=person,
            household=person.household if person else None,
            village=village,
            enrollments=enrollments,
            payments=payments,
        )


def household_members(store: Store, household_id: int) -> tuple[Household, list[Person]] | None:
    with store.sessions() as session:
        household = session.get(Household, household_id, options=[selectinload(Household.village)])
        if household is None:
            return None
        members = list(
            session.scalars(
                select(Person)
                .where(Person.household_id == household_id)
                .order_by(Person.relationship_code, Person.birth_date)
            )
        )
        return household, members


@dataclass(frozen=True)
class StoreSummary:
    households: int
    persons: int
    persons_normal: int
    enrollments: int
    payments: int
    villages: int
    as_of: date | None
    last_import: date | None
    # (label, count) of the 医保, 民政, 残联, 卫健 and 殡葬 tables (DEPARTMENT_COUNTS order).
    departments: tuple[tuple[str, int], ...] = field(default=())


def summary(store: Store) -> StoreSummary:
    with store.sessions() as session:
        return _summary(session)


def _summary(session: Session) -> StoreSummary:
    def count(model: type[Base], *where: ColumnElement[bool]) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    last = session.scalar(select(func.max(Batch.imported_at)))
    return StoreSummary(
        households=count(Household),
        persons=count(Person),
        persons_normal=count(Person, Person.status == "normal"),
        enrollments=count(Enrollment),
        payments=count(Payment),
        villages=count(Area, Area.level == "village"),
        as_of=session.scalar(select(func.max(Batch.as_of))),
        last_import=last.date() if last else None,
        departments=tuple((label, count(model)) for label, model in DEPARTMENT_COUNTS),
    )


@dataclass(frozen=True)
class RecordCounts:
    """What the window's status bar says the database holds."""

    households: int
    persons: int
    enrollments: int
    payments: int


COUNTED: tuple[type[Base], ...] = (Household, Person, Enrollment, Payment)  # RecordCounts order
COUNTS_CANCELLED = "已停止统计。"


def latest_as_of(store: Store) -> date | None:
    """The newest 数据时点 of the batches imported (a few rows per import: cheap at any size)."""
    with store.sessions() as session:
        return session.scalar(select(func.max(Batch.as_of)))


def record_counts(store: Store, *, cancel: Cancel | None = None) -> RecordCounts:
    """Households, persons, enrollments and payments, each an exact ``COUNT(*)``. They grow with
    the township (7.5M payments at 200,000 households: 0.1 s from the page cache, 0.7 s from the
    disk), so the window runs this on a worker; ``cancel`` is looked at before each count
    (SQLite counts a table in one step: a count begun runs to its end) and raises
    :class:`Cancelled`."""
    counted: list[int] = []
    with store.engine.connect() as conn:
        for model in COUNTED:
            check(cancel, COUNTS_CANCELLED)
            counted.append(int(conn.scalar(select(func.count()).select_from(model)) or 0))
    return RecordCounts(*counted)


def payment_periods(store: Store) -> list[int]:
    """Distinct 发放年月 present, newest first."""
    with store.sessions() as session:
        return list(
            session.scalars(select(Payment.period).distinct().order_by(Payment.period.desc()))
        )
