"""The figures behind the 工作台's charts, counted in SQL (:mod:`govshare_desktop.core.stats` holds
what they become).

Who counts (the footnotes say the same to the clerk):

* 应参保 (eligible for 城乡居民养老保险): a person in the household registry (户籍状态正常, still in
  the latest back-flow) who is 16 or older on the day, and who is not covered by 企业职工 or 机关事业
  单位 养老保险 (an enrollment of scheme 110 or 120 that is not 终止缴费, or that pays a pension).
  The data has no schooling: 在校学生, whom the policy leaves out, are counted.
* 参保: an eligible person with a 城乡居民养老保险 (170) enrollment that is 参保缴费 or 暂停缴费, or
  that pays a pension (a receiver's payments have ended: the 人社 system marks them 终止缴费).
* 领取率: of the eligible persons aged 60 or more, those whose 170 enrollment pays a pension.

Ages are full years on the day: ``birth_date <= the day n years earlier`` (a date compared with a
date, the same on SQLite and PostgreSQL). Records a full back-flow no longer carried
(``absent_batch_id``) do not count.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.stats import (
    COLUMNS,
    COVERAGE,
    PAYMENTS,
    PEOPLE,
    PERCENT,
    POPULATION,
    PYRAMID,
    TOWNSHIP_LABEL,
    YUAN,
    Chart,
    Reference,
    Series,
    short_name,
)
from govshare_desktop.core.store.models import Enrollment, Payment, Person
from govshare_desktop.core.store.models_summary import (
    SummaryCoverage,
    SummaryPayment,
    SummaryPerson,
)
from govshare_desktop.core.store.summary import is_fresh
from govshare_desktop.core.store.township import villages

if TYPE_CHECKING:
    from govshare_desktop.core.browse import Interrupt

RESIDENT_PENSION = "170"
EMPLOYEE_PENSIONS = ("110", "120")
TERMINATED = "3"  # 终止缴费
MALE, FEMALE = "1", "2"
ELIGIBLE_AGE, PENSION_AGE = 16, 60
BAND_YEARS, BANDS = 10, 10  # 0—9岁 … 80—89岁, 90岁及以上
MONTHS = 12
UNPLACED = "未分村"  # persons with no (known) village


def years_before(day: date, years: int) -> date:
    """The day ``years`` earlier (28 February for a 29 February in a common year): a person born
    on or before it is ``years`` old or older on ``day``."""
    year = day.year - years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def month_of(day: date) -> tuple[date, date]:
    """The first and the last day of ``day``'s month."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _in_months(column: Any, months: Iterable[tuple[date, date]]) -> ColumnElement[bool]:
    return or_(*(column.between(first, last) for first, last in months))


def _summarised(session: Session, summary: bool | None) -> bool:
    """Whether to read the summary (None: when it was made from the records as they are)."""
    return is_fresh(session) if summary is None else summary


STOPPED = "统计已停止。"


@contextmanager
def interruptible(
    session: Session, interrupt: Interrupt | None, cancel: Cancel | None = None
) -> Iterator[None]:
    """The statements ``session`` runs meanwhile stop as soon as ``interrupt`` is called (SQLite:
    ``Connection.interrupt()``; PostgreSQL: the query is cancelled) or ``cancel`` is set (SQLite
    asks every few thousand steps), and the block raises :class:`~govshare_desktop.core.
    progress.Cancelled` — a window that closes while a chart is counted does not wait for it."""

    def stopped() -> bool:
        return bool(
            (interrupt is not None and interrupt.requested)
            or (cancel is not None and cancel.cancelled)
        )

    if interrupt is None and cancel is None:
        yield
        return
    driver: Any = session.connection().connection.driver_connection
    sqlite = session.get_bind().dialect.name == "sqlite"
    if interrupt is not None:
        interrupt._connection = driver
    finished = threading.Event()
    if sqlite:  # also catches a stop between the look below and the statement
        driver.set_progress_handler(lambda: int(stopped()), 4000)
    else:  # a cancel sent before a statement starts is lost: sent again until the block ends
        threading.Thread(
            target=_cancel_while, args=(driver, stopped, finished), daemon=True
        ).start()
    try:
        if stopped():
            raise Cancelled(STOPPED)
        yield
    except Exception:
        if stopped():
            raise Cancelled(STOPPED) from None
        raise
    finally:
        finished.set()
        if sqlite:
            driver.set_progress_handler(None, 0)
        if interrupt is not None:
            interrupt._connection = None


def _cancel_while(driver: Any, stopped: Callable[[], bool], finished: threading.Event) -> None:
    """PostgreSQL: the query running on ``driver`` cancelled every 50 ms once ``stopped()``, until
    ``finished`` (a cancel while no query runs is ignored by the server)."""
    while not finished.wait(0.05):
        if stopped():
            driver.cancel()


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _enrolled(schemes: tuple[str, ...], *, paying_pension: bool = False) -> ColumnElement[bool]:
    """The person has a current enrollment in one of ``schemes`` (found through the unique
    index on ID number and scheme); ``paying_pension``: one that pays a pension."""
    held = (
        Enrollment.receiving.is_(True)
        if paying_pension
        else or_(Enrollment.status_code != TERMINATED, Enrollment.receiving.is_(True))
    )
    return exists().where(
        Enrollment.id_number == Person.id_number,
        Enrollment.scheme_code.in_(schemes),
        Enrollment.absent_batch_id.is_(None),
        held,
    )


def _registered(*, by_birth: bool = False) -> tuple[ColumnElement[bool], ...]:
    """In the registry. ``by_birth``: the persons are found through the birth date index (a few
    months of births), so the status is not compared through its index (:func:`_unindexed`)."""
    status = _unindexed(Person.status) if by_birth else Person.status
    return status == "normal", Person.absent_batch_id.is_(None)


def _unindexed(column: Any) -> Any:
    """``column || ''``: the same value, which SQLite cannot look up in the column's index — it
    would otherwise walk the status or village index over most of the registry rather than the
    birth date index over a few months of births (it has no statistics to tell them apart)."""
    return column.concat("")


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class Coverage:
    """城乡居民养老保险 in one area: 应参保, 参保, 应参保 aged 60+, of them 领取."""

    eligible: int = 0
    enrolled: int = 0
    elderly: int = 0
    receiving: int = 0

    def __add__(self, other: Coverage) -> Coverage:
        return Coverage(
            self.eligible + other.eligible,
            self.enrolled + other.enrolled,
            self.elderly + other.elderly,
            self.receiving + other.receiving,
        )


def coverage_by_village(
    session: Session, today: date, *, summary: bool | None = None
) -> dict[str | None, Coverage]:
    """``{village code (None: no village): Coverage}`` on ``today``. Read from ``summary_coverage``
    (``summary``: None — when it is fresh), where the persons are kept by birth month: every month
    but the two that hold an age cut (16 and 60 years before ``today``) lies wholly on one side of
    both, and the persons born in those two months are counted from the registry (the birth date
    index: a few thousand rows). Else everybody is counted from the registry."""
    if not _summarised(session, summary):
        return _coverage_counted(session, today)
    cut16, cut60 = years_before(today, ELIGIBLE_AGE), years_before(today, PENSION_AGE)
    month16, month60 = month_of(cut16), month_of(cut60)
    out = _coverage_counted(session, today, (month16, month60))
    s = SummaryCoverage
    old = s.birth_date < month60[0]
    query = (
        select(
            s.village_code,
            func.sum(s.n),
            func.sum(case((s.enrolled.is_(True), s.n), else_=0)),
            func.sum(case((old, s.n), else_=0)),
            func.sum(case((and_(old, s.receiving.is_(True)), s.n), else_=0)),
        )
        .where(s.birth_date < month16[0], ~_in_months(s.birth_date, [month60]))
        .group_by(s.village_code)
    )
    for village, eligible, enrolled, elderly, receiving in session.execute(query):
        key = village or None
        counted = Coverage(int(eligible), int(enrolled), int(elderly), int(receiving))
        out[key] = out.get(key, Coverage()) + counted
    return out


def _coverage_counted(
    session: Session, today: date, months: tuple[tuple[date, date], ...] | None = None
) -> dict[str | None, Coverage]:
    """:func:`coverage_by_village` counted from the registry: everybody, or those born in
    ``months`` (first and last days)."""
    elderly = Person.birth_date <= years_before(today, PENSION_AGE)
    query = (
        select(
            Person.village_code,
            func.count(),
            _count(_enrolled((RESIDENT_PENSION,))),
            _count(elderly),
            _count(and_(elderly, _enrolled((RESIDENT_PENSION,), paying_pension=True))),
        )
        .where(
            *_registered(by_birth=months is not None),
            Person.birth_date <= years_before(today, ELIGIBLE_AGE),
            ~_enrolled(EMPLOYEE_PENSIONS),
        )
        .group_by(Person.village_code)
    )
    if months is not None:
        query = query.where(_in_months(Person.birth_date, months))
    return {
        village: Coverage(int(eligible), int(enrolled), int(old), int(receiving))
        for village, eligible, enrolled, old, receiving in session.execute(query)
    }


def _placed(
    session: Session, by_village: dict[str | None, Any]
) -> tuple[list[tuple[str, str]], list[str | None]]:
    """The villages as (code, short name) in code order, and the keys of ``by_village`` that are
    no village of this township (counted under 未分村)."""
    names = [(v.code, short_name(v.name)) for v in villages(session)]
    known = {code for code, _ in names}
    return names, [key for key in by_village if key not in known]


def coverage_chart(session: Session, today: date, area: str | None, area_name: str) -> Chart:
    """参保率 and 领取率: each village's bars with the township's lines across them, or one
    village beside the township."""
    by_village = coverage_by_village(session, today)
    names, unplaced = _placed(session, by_village)
    township = sum(by_village.values(), Coverage())
    references: tuple[Reference, ...] = ()
    if area is None:
        rows = [(name, by_village.get(code, Coverage())) for code, name in names]
        left = sum((by_village[key] for key in unplaced), Coverage())
        if left.eligible:
            rows.append((UNPLACED, left))
        references = (
            Reference(f"{TOWNSHIP_LABEL}参保率", 0, township.enrolled, township.eligible),
            Reference(f"{TOWNSHIP_LABEL}领取率", 1, township.receiving, township.elderly),
        )
        title = f"{area_name}各村（社区）城乡居民养老保险参保率、领取率"
    else:
        rows = [
            (short_name(area_name), by_village.get(area, Coverage())),
            (TOWNSHIP_LABEL, township),
        ]
        title = f"{area_name}城乡居民养老保险参保率、领取率"
    series = (
        Series(
            "参保率",
            tuple(c.enrolled for _, c in rows),
            tuple(c.eligible for _, c in rows),
            ("参保", "应参保"),
        ),
        Series(
            "领取率",
            tuple(c.receiving for _, c in rows),
            tuple(c.elderly for _, c in rows),
            ("领取", "60周岁以上应参保"),
        ),
    )
    footnote = (
        f"应参保：户籍状态正常、年满{ELIGIBLE_AGE}周岁、未参加企业职工或机关事业单位养老保险的人员"
        "（数据中没有在校学生信息，在校学生也计入）；参保：城乡居民养老保险参保缴费、暂停缴费或正在"
        f"领取待遇；领取率：年满{PENSION_AGE}周岁的应参保人员中正在领取城乡居民养老保险待遇的比例。"
        f"年龄按{_day(today)}计算。"
    )
    return Chart(
        COVERAGE,
        title,
        COLUMNS,
        PERCENT,
        tuple(name for name, _ in rows),
        series,
        references,
        footnote,
        heading="村（社区）",
    )


def band_labels() -> tuple[str, ...]:
    """0—9岁, 10—19岁 … 90岁及以上 (youngest first)."""
    last = BAND_YEARS * (BANDS - 1)
    return (
        *(f"{start}—{start + BAND_YEARS - 1}岁" for start in range(0, last, BAND_YEARS)),
        f"{last}岁及以上",
    )


def _band(birth_date: InstrumentedAttribute[date], today: date) -> Any:
    return case(
        *((birth_date > years_before(today, BAND_YEARS * (n + 1)), n) for n in range(BANDS - 1)),
        else_=BANDS - 1,
    ).label("band")


def population_by_band(
    session: Session, today: date, area: str | None, *, summary: bool | None = None
) -> dict[tuple[int, str], int]:
    """``{(age band, sex code): persons}`` of the registry on ``today`` (band 0: under 10). Read
    from ``summary_person`` (by birth month) when it is fresh, but for the persons born in the
    nine months that hold a band's cut, who are counted from the registry (as in
    :func:`coverage_by_village`)."""
    cuts = tuple(month_of(years_before(today, BAND_YEARS * (n + 1))) for n in range(BANDS - 1))
    fast = _summarised(session, summary)
    band = _band(Person.birth_date, today)
    query = select(band, Person.sex_code, func.count()).where(*_registered(by_birth=fast))
    if area is not None:
        query = query.where(
            (_unindexed(Person.village_code) if fast else Person.village_code) == area
        )
    if fast:
        query = query.where(_in_months(Person.birth_date, cuts))
    out = {
        (int(b), str(sex)): int(n)
        for b, sex, n in session.execute(query.group_by(band, Person.sex_code))
    }
    if fast:
        s = SummaryPerson
        band = _band(s.birth_date, today)
        summed = select(band, s.sex_code, func.sum(s.n)).where(
            s.status == "normal", ~_in_months(s.birth_date, cuts)
        )
        if area is not None:
            summed = summed.where(s.village_code == area)
        for b, sex, n in session.execute(summed.group_by(band, s.sex_code)):
            key = (int(b), str(sex))
            out[key] = out.get(key, 0) + int(n)
    return out


def population_chart(session: Session, today: date, area: str | None, area_name: str) -> Chart:
    """The population pyramid: persons by age band, 男 to the left and 女 to the right."""
    counts = population_by_band(session, today, area)
    male = tuple(counts.get((b, MALE), 0) for b in range(BANDS))
    female = tuple(counts.get((b, FEMALE), 0) for b in range(BANDS))
    other = sum(n for (_, sex), n in counts.items() if sex not in (MALE, FEMALE))
    footnote = (
        f"户籍状态正常的人员，年龄按{_day(today)}计算。"
        f"男 {sum(male):,} 人，女 {sum(female):,} 人，共 {sum(male) + sum(female) + other:,} 人"
    )
    footnote += f"（其中性别未知 {other:,} 人，不在图中）。" if other else "。"
    return Chart(
        POPULATION,
        f"{area_name}户籍人口年龄结构（人口金字塔）",
        PYRAMID,
        PEOPLE,
        band_labels(),
        (Series("男", male), Series("女", female)),
        footnote=footnote,
        heading="年龄组",
    )


def month_window(session: Session, today: date, *, summary: bool | None = None) -> list[int]:
    """The last :data:`MONTHS` months (YYYYMM) up to the newest month paid (not after today's);
    none when nothing was paid."""
    this_month = today.year * 100 + today.month
    if _summarised(session, summary):
        newest = session.scalar(
            select(func.max(SummaryPayment.period)).where(SummaryPayment.period <= this_month)
        )
    else:
        newest = session.scalar(
            select(func.max(Payment.period)).where(
                Payment.absent_batch_id.is_(None), Payment.period <= this_month
            )
        )
    if newest is None:
        return []
    index = (int(newest) // 100) * 12 + int(newest) % 100 - 1
    return [(i // 12) * 100 + i % 12 + 1 for i in range(index - MONTHS + 1, index + 1)]


def payments_by_month(
    session: Session, months: Iterable[int], area: str | None, *, summary: bool | None = None
) -> dict[int, tuple[int, int]]:
    """``{YYYYMM: (total fen, payments)}``; for a village, the payments to persons of its
    registry (whatever their status now: the dead were paid while alive). Read from
    ``summary_payment`` (per village and month, under the paid person's village in the
    registry) when it is fresh, else counted from the payments."""
    months = list(months)
    if not months:
        return {}
    if _summarised(session, summary):
        s = SummaryPayment
        query = select(s.period, func.sum(s.total_fen), func.sum(s.payments)).where(
            s.period.between(months[0], months[-1])
        )
        if area is not None:
            query = query.where(s.village_code == area)
        query = query.group_by(s.period)
    else:
        query = select(Payment.period, func.sum(Payment.total_fen), func.count()).where(
            Payment.absent_batch_id.is_(None), Payment.period.between(months[0], months[-1])
        )
        if area is not None:
            query = query.where(
                Payment.id_number.in_(select(Person.id_number).where(Person.village_code == area))
            )
        query = query.group_by(Payment.period)
    return {int(p): (int(fen or 0), int(n)) for p, fen, n in session.execute(query)}


def month_name(month: int) -> str:
    return f"{month // 100}年{month % 100}月"


def payments_chart(session: Session, today: date, area: str | None, area_name: str) -> Chart:
    """城乡居民养老保险待遇: the total paid in each of the last twelve months."""
    months = month_window(session, today)
    paid = payments_by_month(session, months, area)
    whom = "按领取人户籍所在村（社区）统计；" if area is not None else ""
    footnote = (
        f"待遇发放回流数据中各发放年月的实发金额合计（基础养老金＋个人账户养老金），{whom}"
        "单位：元。"
    )
    span = "按月"
    if months:
        footnote += f"共 {sum(n for _, n in paid.values()):,} 人次。"
        span = f"{month_name(months[0])}—{month_name(months[-1])}"
    return Chart(
        PAYMENTS,
        f"{area_name}城乡居民养老保险待遇发放金额（{span}）",
        COLUMNS,
        YUAN,
        tuple(f"{m % 100}月" for m in months),
        (
            Series("发放金额", tuple(paid.get(m, (0, 0))[0] for m in months), unit="元"),
            Series(
                "发放人次", tuple(paid.get(m, (0, 0))[1] for m in months), unit="人次", drawn=False
            ),
        ),
        footnote=footnote,
        empty_text="暂无待遇发放数据",
        names=tuple(month_name(m) for m in months),
        heading="发放年月",
    )
