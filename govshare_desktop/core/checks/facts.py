"""The facts a check's condition may name: per person, worked out in SQL from the back-flowed
datasets (the person's status and age, what they are enrolled in, when they were last paid …).

A check's query selects the person and only the facts its condition names, so that one check over
a township is one query. A fact from enrollments or payments is an aggregate of the person's own
records, looked up through the index on ID number (a correlated subquery), which SQLite evaluates
only for the persons the condition's other terms leave: an aggregate of the whole dataset joined to
the persons is built in full before the join, for every check (0.25 s on 1.1 M payments for a check
about 1,000 deceased persons; looked up, 10–40 ms). Households headed by a person are one aggregate
joined once (no index on the head's ID number; one pass over the households is cheap).

A fact that only some persons' records make true (护理补贴 paid, a 死亡医学证明 …) names those
records (:class:`Records`) and its value for everyone else (``absent``: 0, or NULL for a month). A
condition that cannot hold with that value — ``CARE_SUBSIDY == 1`` — holds only for persons among
those records, so its query starts from them (``id_number IN (…)``, see :mod:`.sql`): a few
thousand rows read instead of a lookup for each of 100,000 persons (45–160 ms → 10–30 ms). Where
the condition has a narrower start of its own (a rare status), reading the records costs a few ms
more (up to 20 ms for the 20,000 领取 rows, found by a scan), which is why only few records are
used so.

Each fact says which datasets it reads, so that a check declares what it joins and is not run
before those datasets were imported. Records a full back-flow no longer carried
(``absent_batch_id``) do not count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Subquery

from govshare_desktop.core.domain import codes
from govshare_desktop.core.store.models import (
    AllowancePayment,
    Assistance,
    Cremation,
    DeathCertificate,
    DisabilityCard,
    Enrollment,
    Household,
    MedicalEnrollment,
    Payment,
    Person,
)

AnySelect = Any  # a SELECT of whatever columns (SQLAlchemy 2.1 types them one by one)
RESIDENT_PENSION, EMPLOYEE_PENSION = "170", "110"
EMPLOYEE_MEDICAL, RESIDENT_MEDICAL = "310", "390"
ENDED = "3"  # 终止缴费
IN_CARE = "1"  # 救助 在保
ELDERLY, CARE = "1", "3"  # 津贴类别: 高龄津贴, 重度残疾人护理补贴
SEVERE = ("1", "2")  # 残疾等级 一级, 二级
NO_SUBSIDY = "0"  # 医保资助类型: 无资助


@dataclass(frozen=True, eq=False)
class Records:
    """The records a fact is worked out from: rows of one or more datasets, each where its
    condition holds. A person with none of them has the fact's ``absent`` value.

    ``few``: such rows are few beside the persons (a fifth of them or less), so a check that needs
    them reads them and finds their persons by ID number, rather than looking every person up.
    Rows most persons have (居民医保, 城乡居民养老) or many rows per person (monthly payments) are
    not few: reading them costs more than the lookups they would save."""

    label: str
    sources: tuple[tuple[Any, ColumnElement[bool] | None], ...]  # (model, condition or None)
    few: bool = True

    def ids(self) -> AnySelect:
        """The ID numbers of the rows (not correlated: the person table is the outer query's)."""
        selects = [
            select(model.id_number)
            .where(model.absent_batch_id.is_(None), *([] if where is None else [where]))
            .correlate(None)
            for model, where in self.sources
        ]
        return selects[0] if len(selects) == 1 else selects[0].union_all(*selects[1:])

    def start(self) -> ColumnElement[bool]:
        """Only the persons among the records — a term the planner can start the query from."""
        return Person.id_number.in_(self.ids())


def _rows(label: str, model: Any, where: ColumnElement[bool] | None, few: bool = True) -> Records:
    return Records(label, ((model, where),), few)


_ACTIVE = Enrollment.status_code != ENDED
_PENSION = and_(Enrollment.scheme_code.in_((RESIDENT_PENSION, EMPLOYEE_PENSION)), _ACTIVE)
_RESIDENT = and_(Enrollment.scheme_code == RESIDENT_PENSION, _ACTIVE)
_EMPLOYEE = and_(Enrollment.scheme_code == EMPLOYEE_PENSION, _ACTIVE)
_RECEIVING = Enrollment.receiving.is_(True)
_MEDICAL = and_(Enrollment.scheme_code == RESIDENT_MEDICAL, _ACTIVE)
_PAID = Payment.total_fen > 0
_ASSISTED = and_(Assistance.status_code == IN_CARE, Assistance.end_date.is_(None))
_ALLOWANCE_PAID = AllowancePayment.amount_fen > 0
_ELDERLY = and_(_ALLOWANCE_PAID, AllowancePayment.category_code == ELDERLY)
_CARE = and_(_ALLOWANCE_PAID, AllowancePayment.category_code == CARE)
_NO_SUBSIDY = and_(
    MedicalEnrollment.scheme_code == RESIDENT_MEDICAL, MedicalEnrollment.subsidy_code == NO_SUBSIDY
)
_SEVERE = DisabilityCard.level_code.in_(SEVERE)
_DECEASED = Person.status == "deceased"

PENSION_ENROLLMENTS = _rows("参加养老保险", Enrollment, _PENSION, few=False)
RESIDENT_PENSION_ENROLLMENTS = _rows("参加城乡居民养老", Enrollment, _RESIDENT, few=False)
EMPLOYEE_PENSION_ENROLLMENTS = _rows("参加企业职工养老", Enrollment, _EMPLOYEE)
RECEIVING_ENROLLMENTS = _rows("领取养老待遇", Enrollment, _RECEIVING)
RESIDENT_MEDICAL_ENROLLMENTS = _rows("参加城乡居民医保", Enrollment, _MEDICAL, few=False)
PENSION_PAYMENTS = _rows("养老金发放", Payment, _PAID, few=False)  # 12 or so a year per person
ASSISTANCE_IN_CARE = _rows("救助在保", Assistance, _ASSISTED)
ALLOWANCE_PAYMENTS = _rows("津贴发放", AllowancePayment, _ALLOWANCE_PAID)
ELDERLY_PAYMENTS = _rows("高龄津贴发放", AllowancePayment, _ELDERLY)
CARE_PAYMENTS = _rows("护理补贴发放", AllowancePayment, _CARE)
NO_SUBSIDY_ENROLLMENTS = _rows("居民医保无资助", MedicalEnrollment, _NO_SUBSIDY, few=False)
SEVERE_CARDS = _rows("一级或二级残疾人证", DisabilityCard, _SEVERE)
CREMATIONS = _rows("火化记录", Cremation, None)
CERTIFICATES = _rows("死亡医学证明", DeathCertificate, None)
KNOWN_DEATHS = Records(
    "已知死亡", ((Person, _DECEASED), (Cremation, None), (DeathCertificate, None))
)


@dataclass
class FactQuery:
    """The tables a check's query needs, each made once — the person table, the aggregates
    joined to it, the datasets looked up per person — and the date the facts are worked out for."""

    today: date
    subqueries: dict[str, Subquery] = field(default_factory=dict)
    lookups: dict[str, dict[str, ColumnElement[Any]]] = field(default_factory=dict)

    def sub(self, key: str) -> Subquery:
        if key not in self.subqueries:
            self.subqueries[key] = SUBQUERIES[key]().subquery(key)
        return self.subqueries[key]

    def lookup(self, key: str, column: str) -> ColumnElement[Any]:
        """One aggregate of the person's own records of a dataset (NULL when there are none)."""
        if key not in self.lookups:
            model, aggregates = LOOKUPS[key]
            mine = and_(model.id_number == Person.id_number, model.absent_batch_id.is_(None))
            self.lookups[key] = {
                name: select(aggregate).where(mine, *wheres).scalar_subquery()
                for name, (aggregate, *wheres) in aggregates().items()
            }
        return self.lookups[key][column]

    def select(self, columns: list[ColumnElement[Any]]) -> AnySelect:
        query = select(
            Person.id_number, Person.name, Person.village_code, Person.batch_id, *columns
        )
        query = query.select_from(Person)
        for sub in self.subqueries.values():
            query = query.outerjoin(sub, sub.c.id_number == Person.id_number)
        return query.where(Person.absent_batch_id.is_(None))

    def batches(self) -> list[ColumnElement[Any]]:
        """The newest batch behind each joined dataset's records (the evidence's provenance)."""
        return [sub.c.batch for sub in self.subqueries.values()] + [
            columns["batch"] for columns in self.lookups.values()
        ]


# An aggregate of the person's rows, and the condition that picks the rows (none: all of them).
# The condition is in the lookup's WHERE, so an index on (id_number, scheme_code …) finds the rows.
Aggregate = tuple[ColumnElement[Any]] | tuple[ColumnElement[Any], ColumnElement[bool]]


def _flag(condition: ColumnElement[bool]) -> Aggregate:
    """1 when one of the person's rows meets the condition (else NULL: the fact makes it 0)."""
    return func.max(literal(1)), condition


def _enrollment() -> dict[str, Aggregate]:
    return {
        "pension": _flag(_PENSION),
        "resident": _flag(_RESIDENT),
        "employee": _flag(_EMPLOYEE),
        "receiving": _flag(_RECEIVING),
        "medical": _flag(_MEDICAL),
        "batch": (func.max(Enrollment.batch_id),),
    }


def _payment() -> dict[str, Aggregate]:
    return {
        "last_month": (func.max(Payment.period), _PAID),
        "batch": (func.max(Payment.batch_id),),
    }


def _headed() -> AnySelect:
    """Households headed by the person other than their own (同一身份号码出现在两户)."""
    return (
        select(
            Person.id_number,
            func.count(Household.id).label("others"),
            func.max(Household.batch_id).label("batch"),
        )
        .join(
            Household,
            and_(
                Household.head_id_number == Person.id_number,
                Household.household_no != func.coalesce(Person.household_no, ""),
                Household.absent_batch_id.is_(None),
            ),
        )
        .group_by(Person.id_number)
    )


def _assistance() -> dict[str, Aggregate]:
    return {"active": _flag(_ASSISTED), "batch": (func.max(Assistance.batch_id),)}


def _allowance() -> dict[str, Aggregate]:
    return {
        "last_month": (func.max(AllowancePayment.period), _ALLOWANCE_PAID),
        "elderly_first": (func.min(AllowancePayment.period), _ELDERLY),
        "elderly_last": (func.max(AllowancePayment.period), _ELDERLY),
        "care": _flag(_CARE),
        "batch": (func.max(AllowancePayment.batch_id),),
    }


def _medical() -> dict[str, Aggregate]:
    return {"no_subsidy": _flag(_NO_SUBSIDY), "batch": (func.max(MedicalEnrollment.batch_id),)}


def _cremation() -> dict[str, Aggregate]:
    died = func.coalesce(Cremation.death_date, Cremation.cremation_date)
    return {"month": (func.min(_month(died)),), "batch": (func.max(Cremation.batch_id),)}


def _certificate() -> dict[str, Aggregate]:
    return {
        "month": (func.min(_month(DeathCertificate.death_date)),),
        "batch": (func.max(DeathCertificate.batch_id),),
    }


def _card() -> dict[str, Aggregate]:
    return {"severe": _flag(_SEVERE), "batch": (func.max(DisabilityCard.batch_id),)}


def _deaths() -> AnySelect:
    """Deaths known outside the registry — 火化 and 死亡医学证明 — per ID number: a few rows per
    hundred people, so joined once (a lookup per person would probe both tables for everyone)."""
    cremated = select(
        Cremation.id_number.label("id_number"),
        _month(func.coalesce(Cremation.death_date, Cremation.cremation_date)).label("month"),
        Cremation.batch_id.label("batch"),
    ).where(Cremation.absent_batch_id.is_(None))
    certified = select(
        DeathCertificate.id_number.label("id_number"),
        _month(DeathCertificate.death_date).label("month"),
        DeathCertificate.batch_id.label("batch"),
    ).where(DeathCertificate.absent_batch_id.is_(None))
    both = cremated.union_all(certified).subquery("known_deaths")
    return select(
        both.c.id_number,
        func.min(both.c.month).label("month"),
        func.max(both.c.batch).label("batch"),
    ).group_by(both.c.id_number)


SUBQUERIES: dict[str, Callable[[], AnySelect]] = {"headed": _headed, "deaths": _deaths}
LOOKUPS: dict[str, tuple[Any, Callable[[], dict[str, Aggregate]]]] = {
    "enrollment": (Enrollment, _enrollment),  # found through unique (id_number, scheme_code)
    "payment": (Payment, _payment),  # found through unique (id_number, period)
    "assistance": (Assistance, _assistance),
    "allowance": (AllowancePayment, _allowance),
    "medical": (MedicalEnrollment, _medical),
    "cremation": (Cremation, _cremation),  # unique id_number
    "certificate": (DeathCertificate, _certificate),  # unique id_number
    "card": (DisabilityCard, _card),  # unique id_number
}


class _IsoDate(FunctionElement[str]):
    """A date as its ``YYYY-MM-DD`` text, to read the year, month and day from by position.

    The one place where the SQL dialects differ: SQLite stores a ``Date`` as that text already,
    so it is the column itself; PostgreSQL (and others) have a date type and write it out with
    ``to_char``. Everything built on it — ``substr``, ``CAST … AS INTEGER``, comparing text — is
    the same on both. (``extract``/``strftime`` parse the text again for every person: the three
    age checks took 1.5x as long.)"""

    type = String()
    name = "iso_date"
    inherit_cache = True


@compiles(_IsoDate)
def _iso_date(element: _IsoDate, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


@compiles(_IsoDate, "sqlite")
def _iso_date_sqlite(element: _IsoDate, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


def _part(day: Any, start: int, length: int) -> ColumnElement[Any]:
    """Characters of the date's ``YYYY-MM-DD`` text (1-based, as SQL's substr counts)."""
    return func.substr(_IsoDate(day), start, length)


def _year(day: Any) -> ColumnElement[Any]:
    return cast(_part(day, 1, 4), Integer)


def _month(day: Any) -> ColumnElement[Any]:
    """The date's month as YYYYMM (NULL for no date)."""
    return _year(day) * 100 + cast(_part(day, 6, 2), Integer)


def _died(q: FactQuery) -> ColumnElement[Any]:
    """The earliest month a death is known in: 公安 注销, 火化 or 死亡医学证明 (NULL: none)."""
    registry = case((_DECEASED, _month(Person.status_date)))
    other = q.sub("deaths").c.month
    return case(
        (registry.is_(None), other),
        (and_(other.is_not(None), other < registry), other),
        else_=registry,
    )


def _turns_80(q: FactQuery) -> ColumnElement[Any]:
    return _month(Person.birth_date) + 80 * 100


def _age(q: FactQuery) -> ColumnElement[Any]:
    """Full years on ``today``: one less while this year's birthday is still to come (``MM-DD``
    compared as text, so 29 February needs no special case)."""
    birthday_later = _part(Person.birth_date, 6, 5) > f"{q.today.month:02d}-{q.today.day:02d}"
    return q.today.year - _year(Person.birth_date) - case((birthday_later, 1), else_=0)


@dataclass(frozen=True)
class Fact:
    name: str
    label: str  # as the evidence shows it
    datasets: tuple[str, ...]
    column: Callable[[FactQuery], ColumnElement[Any]]
    kind: str = "number"  # number | flag | month | code:<table>
    held: Records | None = None  # the only persons it can differ from ``absent`` for
    absent: Any = None  # its value for everyone else (0 for a flag, NULL for a month)

    def show(self, value: Any) -> str:
        """The value as a clerk reads it: 是/否, 2026年10月, 死亡注销 …"""
        if value is None:
            return "无"
        if self.kind == "flag":
            return "是" if value else "否"
        if self.kind == "month":
            return f"{int(value) // 100}年{int(value) % 100}月"
        if self.kind.startswith("code:"):
            return codes.table(self.kind.removeprefix("code:")).label(str(value))
        return str(value)


def _zero(key: str, column: str) -> Callable[[FactQuery], ColumnElement[Any]]:
    if key in LOOKUPS:
        return lambda q: func.coalesce(q.lookup(key, column), 0)
    return lambda q: func.coalesce(getattr(q.sub(key).c, column), 0)


# name, label, datasets, column, kind, held (the records it needs), absent (its value without them);
# OTHER_HOUSEHOLDS is an aggregate joined once: it holds no lookups a start would save.
FACTS: dict[str, Fact] = {
    fact.name: fact
    for fact in (
        Fact("STATUS", "户籍状态", ("person",), lambda q: Person.status.expression, "code:person_status"),
        Fact("STATUS_MONTH", "状态变动年月", ("person",), lambda q: _month(Person.status_date), "month"),
        Fact("AGE", "年龄", ("person",), _age),
        Fact("BIRTH_YEAR", "出生年份", ("person",), lambda q: _year(Person.birth_date)),
        Fact("THIS_YEAR", "核查年份", (), lambda q: literal(q.today.year)),
        Fact("THIS_MONTH", "核查年月", (), lambda q: literal(q.today.year * 100 + q.today.month), "month"),
        Fact("SEX", "性别", ("person",), lambda q: Person.sex_code.expression, "code:sex"),
        Fact("PENSION_ENROLLED", "参加养老保险", ("ss_enrollment",), _zero("enrollment", "pension"), "flag", PENSION_ENROLLMENTS, 0),
        Fact("RESIDENT_PENSION", "参加城乡居民养老", ("ss_enrollment",), _zero("enrollment", "resident"), "flag", RESIDENT_PENSION_ENROLLMENTS, 0),
        Fact("EMPLOYEE_PENSION", "参加企业职工养老", ("ss_enrollment",), _zero("enrollment", "employee"), "flag", EMPLOYEE_PENSION_ENROLLMENTS, 0),
        Fact("RECEIVING_PENSION", "领取养老待遇", ("ss_enrollment",), _zero("enrollment", "receiving"), "flag", RECEIVING_ENROLLMENTS, 0),
        Fact("RESIDENT_MEDICAL", "参加城乡居民医保", ("ss_enrollment",), _zero("enrollment", "medical"), "flag", RESIDENT_MEDICAL_ENROLLMENTS, 0),
        Fact("PENSION_LAST_MONTH", "最近一次养老金发放", ("ss_payment",), lambda q: q.lookup("payment", "last_month"), "month", PENSION_PAYMENTS),
        Fact("OTHER_HOUSEHOLDS", "另任户主的户数", ("household",), _zero("headed", "others")),
        Fact("DIED_MONTH", "已知死亡年月", ("person", "cremation", "death_certificate"), _died, "month", KNOWN_DEATHS),
        Fact("CREMATED", "有火化记录", ("cremation",), lambda q: func.coalesce(q.lookup("cremation", "month") * 0 + 1, 0), "flag", CREMATIONS, 0),
        Fact("DEATH_CERTIFIED", "有死亡医学证明", ("death_certificate",), lambda q: func.coalesce(q.lookup("certificate", "month") * 0 + 1, 0), "flag", CERTIFICATES, 0),
        Fact("TURNS_80_MONTH", "满80周岁年月", ("person",), _turns_80, "month"),
        Fact("ASSISTANCE_ACTIVE", "救助在保（无停止日期）", ("assistance",), _zero("assistance", "active"), "flag", ASSISTANCE_IN_CARE, 0),
        Fact("ALLOWANCE_LAST_MONTH", "最近一次津贴发放", ("allowance_payment",), lambda q: q.lookup("allowance", "last_month"), "month", ALLOWANCE_PAYMENTS),
        Fact("ELDERLY_ALLOWANCE_FIRST_MONTH", "高龄津贴最早发放", ("allowance_payment",), lambda q: q.lookup("allowance", "elderly_first"), "month", ELDERLY_PAYMENTS),
        Fact("ELDERLY_ALLOWANCE_LAST_MONTH", "高龄津贴最近发放", ("allowance_payment",), lambda q: q.lookup("allowance", "elderly_last"), "month", ELDERLY_PAYMENTS),
        Fact("CARE_SUBSIDY", "领取重度残疾人护理补贴", ("allowance_payment",), _zero("allowance", "care"), "flag", CARE_PAYMENTS, 0),
        Fact("SEVERE_CARD", "持一级或二级残疾人证", ("disability_card",), _zero("card", "severe"), "flag", SEVERE_CARDS, 0),
        Fact("MEDICAL_NO_SUBSIDY", "城乡居民医保无资助", ("medical_enrollment",), _zero("medical", "no_subsidy"), "flag", NO_SUBSIDY_ENROLLMENTS, 0),
    )
}  # fmt: skip
