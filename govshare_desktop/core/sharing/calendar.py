"""The county's working-day calendar: signed ``calendar`` packages applied into ``calendar_day``,
and the one calendar every deadline in the program is counted on (:func:`work_calendar`).

**What a package does.** ``data/calendar.csv`` (exchange-format.md: ``日期, 类型, 名称``) states
the holiday arrangement of one or more years. It is read strictly
(:func:`~govshare_desktop.core.domain.workdays.parse_arrangements`): a bad date, a 类型 other than
``holiday | workday``, a ``workday`` row on a weekday, a date twice, or a year stated only in part
(not all seven statutory festivals, so also a year that stops mid-year) refuses the whole package,
naming the file, the row and the field; nothing changes. Otherwise, for every year the file covers
(a December row belongs to the next year's 元旦), the rows stored for that year are deleted and the
file's inserted: a later package for a year replaces the earlier one entirely, and a year of the
built-in table (or an earlier one) is superseded by the county's word.

**Where it is used.** :func:`work_calendar` lays every stored year over the built-in table; the
report inbox, the 校核纠错 deadlines and their overdue counts, and share requests count on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain.workdays import (
    CalendarDay,
    DayKind,
    WorkCalendar,
    covered_years,
    parse_arrangements,
)
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import PackageRefused, VerifiedPackage
from govshare_desktop.core.reports import content
from govshare_desktop.core.store.models import CalendarDay as StoredDay
from govshare_desktop.core.store.models import PackageReceipt, TrustedSender

CALENDAR_FILE = "data/calendar.csv"
BUILTIN = "内置"
PACKAGE = "日历包"


# ---------------------------------------------------------------- applying a package


def apply_calendar(session: Session, package: VerifiedPackage, *, now: datetime) -> list[str]:
    """Store the package's years in the import's transaction, each replacing whatever was stored
    for it. Returns one sentence per year for the import report; a bad file refuses the package
    (:class:`PackageRefused`, ``malformed``) before anything is written."""
    manifest = package.manifest
    entry = next((f for f in manifest.files if f.path == CALENDAR_FILE), None)
    if entry is None:
        content.refuse(f"日历数据包中没有 {CALENDAR_FILE}。")
    try:
        rows = parse_arrangements(package.read(CALENDAR_FILE), CALENDAR_FILE)
    except UserError as exc:
        content.refuse(exc.message)
    if entry.rows is not None and entry.rows != len(rows):
        raise PackageRefused(
            "manifest_mismatch",
            f"清单写明文件“{CALENDAR_FILE}”有 {entry.rows} 行数据，实际读到 {len(rows)} 行"
            "（数据包不完整或清单有误）。",
        )
    years = sorted(covered_years(rows))
    before = {info.year: info for info in calendar_years(session)}
    session.execute(delete(StoredDay).where(StoredDay.year.in_(years)))
    session.add_all(
        StoredDay(
            day=row.date,
            kind=row.kind.value,
            name=row.name,
            year=row.arrangement_year,
            package_id=manifest.package_id,
            applied_at=now,
        )
        for row in rows
    )
    session.flush()
    return [_said(year, rows, before.get(year)) for year in years]


def _said(year: int, rows: list[CalendarDay], before: YearInfo | None) -> str:
    mine = [row for row in rows if row.arrangement_year == year]
    holidays = sum(row.kind is DayKind.HOLIDAY for row in mine)
    counts = f"{holidays} 个休息日、{len(mine) - holidays} 个调休上班日"
    if before is None:
        replaced = ""
    elif before.package_id is None:
        replaced = "，取代程序内置的该年安排"
    else:
        replaced = f"，取代 {before.applied_at:%Y-%m-%d} 导入的上一版"
    return f"收到 {year} 年放假安排（{counts}）{replaced}，此后期限按此计算"


# ---------------------------------------------------------------- the calendar in use


def work_calendar(session: Session) -> WorkCalendar:
    """The built-in table with every year the county's packages stated laid over it."""
    stored = [
        CalendarDay(row.day, DayKind(row.kind), row.name)
        for row in session.scalars(select(StoredDay))
    ]
    calendar = WorkCalendar.builtin()
    return calendar.with_years(stored) if stored else calendar


def year_rows(session: Session, year: int) -> list[CalendarDay]:
    """The rows of ``year``'s arrangement in use (December rows of the year before included)."""
    return [row for row in work_calendar(session).rows if row.arrangement_year == year]


@dataclass(frozen=True)
class YearInfo:
    """One year whose arrangement is known, and where it came from."""

    year: int
    source: str  # BUILTIN | PACKAGE
    holidays: int  # holiday rows (days off listed)
    workdays: int  # workday rows (调休上班 weekend days)
    package_id: str | None = None  # the county's package, for PACKAGE
    applied_at: datetime | None = None
    sender: str | None = None  # the body that sent it (its registered name, else its code)

    @property
    def source_text(self) -> str:
        """「内置」 or 「东莞市政务服务和数据管理局 日历包（2026-12-02 导入）」."""
        if self.package_id is None or self.applied_at is None:
            return BUILTIN
        return f"{self.sender or '县级'} {PACKAGE}（{self.applied_at:%Y-%m-%d} 导入）"

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "source": self.source,
            "holidays": self.holidays,
            "workdays": self.workdays,
            "package_id": self.package_id,
            "applied_at": self.applied_at.isoformat(timespec="seconds")
            if self.applied_at
            else None,
            "sender": self.sender,
        }


def calendar_years(session: Session) -> list[YearInfo]:
    """Every year whose arrangement is known, oldest first: the county's where a package stated
    it, else the built-in table's."""
    years: dict[int, YearInfo] = {}
    for row in WorkCalendar.builtin().rows:
        info = years.get(row.arrangement_year) or YearInfo(row.arrangement_year, BUILTIN, 0, 0)
        years[info.year] = _counted(info, row.kind.value)
    stored: dict[int, YearInfo] = {}
    for day in session.scalars(select(StoredDay).order_by(StoredDay.day)):
        known = stored.get(day.year)
        if known is None:
            known = YearInfo(
                day.year,
                PACKAGE,
                0,
                0,
                package_id=day.package_id,
                applied_at=day.applied_at,
                sender=_sender(session, day.package_id),
            )
        stored[day.year] = _counted(known, day.kind)
    years.update(stored)
    return [years[year] for year in sorted(years)]


def _counted(info: YearInfo, kind: str) -> YearInfo:
    holiday = kind == DayKind.HOLIDAY.value
    return replace(info, holidays=info.holidays + holiday, workdays=info.workdays + (not holiday))


def _sender(session: Session, package_id: str) -> str | None:
    receipt = session.get(PackageReceipt, package_id)
    if receipt is None:
        return None
    known = session.get(TrustedSender, receipt.sender_code)
    return known.name if known is not None else receipt.sender_code
