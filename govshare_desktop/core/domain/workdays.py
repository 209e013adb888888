"""Working days (工作日): the one calendar every deadline in the program is counted on.

**The calendar.** A day is a working day when it is Monday to Friday, unless the State Council's
yearly holiday arrangement (国务院办公厅关于某年部分节假日安排的通知) gives it off; and a Saturday or
Sunday is a working day when that arrangement makes it a 调休 make-up day. Each year's arrangement
is a short list of such exceptions: ``holiday`` rows (days off, with the festival's name) and
``workday`` rows (weekend days worked). Everything not listed follows the week.

**The sources, lowest first.**

1. The built-in table, ``resources/calendar/*.csv`` (``cn_2025_2026.csv``: 2025 and 2026,
   taken from the official notices and checked day by day against the ``chinese-calendar``
   package in the tests; the program itself never imports that package). A later file there
   supersedes an earlier one for each year it covers.
2. The county's signed ``calendar`` packages (exchange-format.md: ``data/calendar.csv``), applied
   with :meth:`WorkCalendar.with_years`. Each package supersedes the table for every year it
   covers, entirely: a year is never half old, half new.

A row belongs to the arrangement of its own year, except a December row: no festival falls in
December, so a December day off or make-up day is always the next year's 元旦 (the 2019 notice,
for one, made Saturday 2018-12-29 a working day). A package for 2027 may therefore carry rows dated
late in December 2026; it covers 2027 and lays those days over 2026 without replacing 2026.

**A year is stated whole or not at all.** :func:`parse_arrangements` (what a county package goes
through) also refuses a file that states a year only in part: every year it covers must give the
days off of all seven statutory festivals (:data:`FESTIVALS`; 「国庆节、中秋节」 names two), each in
the months that festival can fall in. As 中秋节 and 国庆节 come last (September, October), a year
that stops mid-year (only January to June, say) is refused, naming the year, the festivals missing
and the last row it has. Any year is accepted, earlier ones than the built-in table's too: the
county's word supersedes the table's for that year.

**A year without data** is counted on weekends alone, never refused: the next year's arrangement
is usually published in November, and the clerk's deadlines must not stop working until the county
sends it. :meth:`WorkCalendar.warning` gives the sentence to show beside such a deadline
(「2027 年放假安排尚未导入，期限按周末推算」).

**The deadline rule** (domain.md §4; 民法典 第二百零一条: the day an act is received is not
counted): the deadline of a request received on day *R* with a time limit of *N* working days is
the *N*-th working day after *R*. A request received on a day off is taken in (受理日) on the next
working day, and counting starts from there: received Saturday 2026-10-03 (国庆节), N = 1 → 受理日
Thursday 10-08, deadline Friday 10-09. This is ``chinese_calendar.find_workday(N, R)``'s rule too.

Every question is a dictionary lookup per day (``deadline``) or two binary searches
(``workdays_between``), with no loop over years.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.resources import resource_path

HEADER = ("日期", "类型", "名称")
_ONE_DAY = dt.timedelta(days=1)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class DayKind(str, Enum):
    """The 类型 column: a day off, or a weekend day worked (调休上班)."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One row of a calendar table: an exception to the Monday-to-Friday week."""

    date: dt.date
    kind: DayKind
    name: str

    @property
    def arrangement_year(self) -> int:
        """The year whose holiday arrangement this row belongs to (December rows: the next)."""
        return arrangement_year(self.date)


def arrangement_year(day: dt.date) -> int:
    """A December exception is always the next year's 元旦; any other belongs to its own year."""
    return day.year + 1 if day.month == 12 else day.year


def covered_years(rows: Iterable[CalendarDay]) -> frozenset[int]:
    """The years whose arrangement ``rows`` state (and so supersede, in :meth:`with_years`)."""
    return frozenset(row.arrangement_year for row in rows)


# --- Parsing the contract's calendar.csv ----------------------------------------------------------


def parse_calendar_csv(data: bytes, source: str) -> list[CalendarDay]:
    """The rows of a ``calendar.csv`` (exchange-format.md), checked strictly.

    UTF-8, with or without a BOM; header exactly ``日期,类型,名称`` (spaces around a name are
    allowed); dates ``YYYY-MM-DD``; 类型 ``holiday`` or ``workday``; a ``workday`` row on a Saturday
    or Sunday; no date twice; 名称 free text (may be empty). Blank lines are skipped. Every problem
    raises :class:`UserError` naming ``source`` and the line: 「calendar.csv 第 5 行：…」.
    """
    return [row for _line, row in _parse_lines(data, source)]


def parse_arrangements(data: bytes, source: str) -> list[CalendarDay]:
    """:func:`parse_calendar_csv`, and every year the file covers stated whole: the days off of
    all seven statutory festivals, each in its months (see the module's docstring)."""
    lines = _parse_lines(data, source)
    _check_whole_years(lines, source)
    return [row for _line, row in lines]


def _parse_lines(data: bytes, source: str) -> list[tuple[int, CalendarDay]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{source} 不是 UTF-8 编码的文本（第 {_line_of_byte(data, exc.start)} 行附近）"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or tuple(cell.strip() for cell in header) != HEADER:
            found = ",".join(header) if header else "（空）"
            raise UserError(f"{source} 第 1 行：表头应为“{','.join(HEADER)}”，实为“{found}”")
        rows: list[tuple[int, CalendarDay]] = []
        first_line: dict[dt.date, int] = {}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            where = f"{source} 第 {reader.line_num} 行"
            row = _parse_row(cells, where)
            if row.date in first_line:
                raise UserError(
                    f"{where}：日期 {row.date} 重复（第 {first_line[row.date]} 行已有）"
                )
            first_line[row.date] = reader.line_num
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise UserError(f"{source} 第 {reader.line_num} 行：不是有效的 CSV（{exc}）") from None
    if not rows:
        raise UserError(f"{source} 没有任何日期：只有表头")
    return rows


def _parse_row(cells: list[str], where: str) -> CalendarDay:
    if len(cells) != len(HEADER):
        raise UserError(f"{where}：应有 {len(HEADER)} 列（日期,类型,名称），实有 {len(cells)} 列")
    text, kind_text, name = (cell.strip() for cell in cells)
    day = _parse_date(text, where)
    try:
        kind = DayKind(kind_text)
    except ValueError:
        raise UserError(f"{where}：类型“{kind_text}”应为 holiday 或 workday") from None
    if kind is DayKind.WORKDAY and day.weekday() < 5:
        raise UserError(
            f"{where}：{day} 是{_WEEKDAY_NAMES[day.weekday()]}，"
            "类型为 workday 的日期应是调休上班的星期六或星期日"
        )
    return CalendarDay(day, kind, name)


def _parse_date(text: str, where: str) -> dt.date:
    match = _DATE.match(text)
    if not match:
        raise UserError(f"{where}：日期“{text}”不是有效日期（格式应为 YYYY-MM-DD，如 2027-01-01）")
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise UserError(f"{where}：日期“{text}”不是有效日期") from None


def _line_of_byte(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# --- A year stated whole --------------------------------------------------------------------------

# The statutory festivals (全国年节及纪念日放假办法), each with the word a row's 名称 must contain
# to name it and the months its days off can fall in (中秋节 from 09-07 to 10-08; 元旦's may start
# in late December, 春节's run into late February).
FESTIVALS: Mapping[str, tuple[str, tuple[int, ...]]] = {
    "元旦": ("元旦", (12, 1)),
    "春节": ("春节", (1, 2, 3)),
    "清明节": ("清明", (4,)),
    "劳动节": ("劳动", (4, 5)),
    "端午节": ("端午", (5, 6)),
    "中秋节": ("中秋", (9, 10)),
    "国庆节": ("国庆", (9, 10)),
}


def festivals_named(name: str) -> list[str]:
    """The statutory festivals a row's 名称 names: 「国庆节、中秋节」 names two, 「春节」 one."""
    return [festival for festival, (word, _months) in FESTIVALS.items() if word in name]


def _check_whole_years(lines: list[tuple[int, CalendarDay]], source: str) -> None:
    """Refuse a festival's day off outside its months, and a year stated only in part."""
    stated: dict[int, set[str]] = {}
    last: dict[int, tuple[int, CalendarDay]] = {}
    for line, row in lines:
        year = row.arrangement_year
        if year not in last or row.date > last[year][1].date:
            last[year] = (line, row)
        stated.setdefault(year, set())
        if row.kind is not DayKind.HOLIDAY:
            continue
        for festival in festivals_named(row.name):
            months = FESTIVALS[festival][1]
            if row.date.month not in months:
                raise UserError(
                    f"{source} 第 {line} 行：名称“{row.name}”与日期 {row.date} 不符"
                    f"（{festival}的放假日在 {'、'.join(map(str, months))} 月）"
                )
            stated[year].add(festival)
    for year in sorted(stated):
        missing = [festival for festival in FESTIVALS if festival not in stated[year]]
        if missing:
            line, row = last[year]
            raise UserError(
                f"{source}：{year} 年的放假安排不完整，缺少{'、'.join(missing)}的放假日期"
                f"（该年的日期只到 {row.date}，第 {line} 行）。每年须写明全部七个法定节日"
                f"（{'、'.join(FESTIVALS)}）的放假日，不能只导入半年或一部分"
            )


# --- The calendar ---------------------------------------------------------------------------------


def _weekdays_through(day: dt.date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday, ordinal 1) through ``day``."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class WorkCalendar:
    """Which days are working days, from the built-in table and the county's calendar packages.

    Immutable: :meth:`with_years` returns a new calendar. Build the usual one with
    :meth:`builtin` and lay the imported packages over it.
    """

    __slots__ = ("_added", "_days", "_flags", "_removed", "_years")

    def __init__(
        self, rows: Iterable[CalendarDay] = (), years: Iterable[int] | None = None
    ) -> None:
        """``rows``: the exceptions to the week (a later row for the same date wins).
        ``years``: the years whose arrangement is known; by default those ``rows`` state."""
        days: dict[dt.date, CalendarDay] = {row.date: row for row in rows}
        self._days: Mapping[dt.date, CalendarDay] = days
        self._years = frozenset(covered_years(days.values()) if years is None else years)
        # A day's answer when it differs from the week's (a workday row on a weekday, or a
        # holiday row on a weekend, changes nothing and is left out).
        self._flags: dict[dt.date, bool] = {
            d: row.kind is DayKind.WORKDAY
            for d, row in days.items()
            if (row.kind is DayKind.WORKDAY) != (d.weekday() < 5)
        }
        self._removed = sorted(d for d, works in self._flags.items() if not works)
        self._added = sorted(d for d, works in self._flags.items() if works)

    def __repr__(self) -> str:
        return f"WorkCalendar(years={sorted(self._years)}, rows={len(self._days)})"

    @classmethod
    def builtin(cls) -> WorkCalendar:
        """The table shipped with the program (``resources/calendar/*.csv``, in name order)."""
        return _builtin()

    @classmethod
    def weekends_only(cls) -> WorkCalendar:
        """No arrangement at all: Monday to Friday work (for tests and as a last resort)."""
        return cls()

    def with_years(self, rows: Iterable[CalendarDay]) -> WorkCalendar:
        """A new calendar in which every year ``rows`` cover is replaced by those rows entirely.

        The years covered are the rows' arrangement years (:func:`arrangement_year`): a package
        for 2027 that carries the 元旦 make-up day of late December 2026 covers 2027 alone, and that
        day is laid over 2026.
        """
        new = list(rows)
        replaced = covered_years(new)
        kept = [row for row in self._days.values() if row.arrangement_year not in replaced]
        return WorkCalendar([*kept, *new], self._years | replaced)

    @property
    def years(self) -> frozenset[int]:
        """The years whose holiday arrangement is known."""
        return self._years

    @property
    def rows(self) -> list[CalendarDay]:
        """Every exception held, in date order (for showing or exporting the table)."""
        return sorted(self._days.values(), key=lambda row: row.date)

    def covers(self, year: int) -> bool:
        return year in self._years

    def missing_years(self, start: dt.date, end: dt.date) -> list[int]:
        """The years from ``start`` to ``end`` (either order) whose arrangement is not known."""
        low, high = sorted((start.year, end.year))
        return [year for year in range(low, high + 1) if year not in self._years]

    def warning(self, years: Iterable[int]) -> str | None:
        """The sentence to show beside a deadline counted through ``years``, or None when every
        one of them is known: 「2027 年放假安排尚未导入，期限按周末推算」."""
        missing = sorted({year for year in years if year not in self._years})
        if not missing:
            return None
        return f"{'、'.join(map(str, missing))} 年放假安排尚未导入，期限按周末推算"

    def entry(self, day: dt.date) -> CalendarDay | None:
        """The table's row for ``day`` (its festival name), if it has one."""
        return self._days.get(day)

    def is_workday(self, day: dt.date) -> bool:
        return self._flags.get(day, day.weekday() < 5)

    def next_workday(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += _ONE_DAY
        return day

    def deadline(self, received: dt.date, n: int) -> dt.date:
        """The N-th working day after receipt; the receipt day is not counted.

        Received on a day off, the request is taken in (受理日) on the next working day and the
        N working days follow that day: received 2026-10-03 with N = 1 → due 2026-10-09.
        Years without data count on weekends alone (see :meth:`warning`).
        """
        if n < 1:
            raise ValueError(f"a deadline is at least one working day, got {n}")
        day = self.next_workday(received)
        is_workday = self.is_workday
        while n:
            day += _ONE_DAY
            if is_workday(day):
                n -= 1
        return day

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b``; negative (the same days, counted
        backwards) when ``b`` is before ``a``. ``workdays_between(d, d) == 0``."""
        if b < a:
            return -self.workdays_between(b, a)
        weekdays = _weekdays_through(b) - _weekdays_through(a)
        removed = bisect_right(self._removed, b) - bisect_right(self._removed, a)
        added = bisect_right(self._added, b) - bisect_right(self._added, a)
        return weekdays - removed + added

    def workdays_left(self, today: dt.date, due: dt.date) -> int:
        """Working days left before a deadline, as a clerk reads it.

        ``due`` after ``today``: the working days after today up to and including the due day
        (1 on the last working day before it). On the due day: 0. After it: minus the working
        days since the due day, and never more than −1, so a negative number always means
        overdue (a deadline on Friday reads −1 on Saturday, Sunday and Monday, −2 on Tuesday).
        """
        if today <= due:
            return self.workdays_between(today, due)
        return min(-1, -self.workdays_between(due, today))


@cache
def _builtin() -> WorkCalendar:
    calendar = WorkCalendar()
    for path in sorted(resource_path("calendar").glob("*.csv")):
        calendar = calendar.with_years(parse_calendar_csv(path.read_bytes(), path.name))
    return calendar
