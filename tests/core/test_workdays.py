"""The working-day engine (core/domain/workdays.py) against domain.md §4 and chinese-calendar.

``chinese_calendar`` is a test dependency only: it checks the built-in table day by day. The
program never imports it (the last test holds it to that).
"""

from __future__ import annotations

import ast
import random
import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

import govshare_desktop
from govshare_desktop.core.domain.workdays import (
    CalendarDay,
    DayKind,
    WorkCalendar,
    festivals_named,
    parse_arrangements,
    parse_calendar_csv,
)
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.resources import resource_path

CAL = WorkCalendar.builtin()


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _csv(*lines: str, bom: bool = False) -> bytes:
    text = "\r\n".join(["日期,类型,名称", *lines]) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


# --- The built-in table ---------------------------------------------------------------------------


def test_every_day_of_2025_and_2026_matches_chinese_calendar() -> None:
    wrong = [
        f"{d} ({d:%a}): ours {CAL.is_workday(d)}, chinese_calendar {chinese_calendar.is_workday(d)}"
        for d in _days(date(2025, 1, 1), date(2026, 12, 31))
        if CAL.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert wrong == []


def test_the_builtin_table_covers_2025_and_2026_only() -> None:
    assert CAL.years == {2025, 2026}
    assert CAL.covers(2025) and CAL.covers(2026)
    assert not CAL.covers(2024) and not CAL.covers(2027)
    assert CAL.warning([2025, 2026]) is None


@pytest.mark.parametrize(
    "day",
    [
        *(date(2025, m, d) for m, d in [(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)]),
        *(date(2026, m, d) for m, d in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)]),
    ],
)
def test_the_make_up_weekend_days_of_domain_md_are_workdays(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_workday(day)
    entry = CAL.entry(day)
    assert entry is not None and entry.kind is DayKind.WORKDAY


def test_the_only_weekend_workdays_are_those_make_up_days() -> None:
    weekend_work = [d for d in _days(date(2025, 1, 1), date(2026, 12, 31)) if d.weekday() >= 5]
    assert sum(CAL.is_workday(d) for d in weekend_work) == 5 + 6


def test_national_day_2026() -> None:
    off = _days(date(2026, 10, 1), date(2026, 10, 7))
    assert [CAL.is_workday(d) for d in off] == [False] * 7
    assert [CAL.is_workday(date(2026, 10, d)) for d in (8, 9, 10)] == [True, True, True]
    assert date(2026, 10, 10).weekday() == 5  # a Saturday, worked (调休)
    assert not CAL.is_workday(date(2026, 9, 25))  # 中秋节, a Friday
    entry = CAL.entry(date(2026, 9, 25))
    assert entry is not None and entry.name == "中秋节"
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_spring_festival_2026() -> None:
    assert not any(CAL.is_workday(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert CAL.is_workday(date(2026, 2, 14)) and CAL.is_workday(date(2026, 2, 28))


# --- Deadlines ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "n", "due"),
    [
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 10, date(2026, 10, 20)),
        (date(2026, 2, 13), 10, date(2026, 3, 5)),
        (date(2025, 9, 30), 10, date(2025, 10, 21)),
        # Received on a day off: 受理日 is the next working day (10-08), so N = 1 → 10-09.
        (date(2026, 10, 3), 1, date(2026, 10, 9)),
        (date(2026, 10, 10), 1, date(2026, 10, 12)),  # received on a 调休 Saturday: it counts
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # …and the Saturday can be the deadline
    ],
)
def test_the_deadline_table_of_domain_md(received: date, n: int, due: date) -> None:
    assert CAL.deadline(received, n) == due
    assert CAL.deadline(received, n) == chinese_calendar.find_workday(n, received)


def test_deadlines_agree_with_chinese_calendar_find_workday() -> None:
    """Every receipt day from 2025-01-01 to 2026-09-30, day off or not, for several N."""
    wrong = [
        f"{received} N={n}: ours {CAL.deadline(received, n)}, cc {expected}"
        for received in _days(date(2025, 1, 1), date(2026, 9, 30))
        for n in (1, 2, 3, 5, 10, 15, 20, 30)
        if CAL.deadline(received, n) != (expected := chinese_calendar.find_workday(n, received))
    ]
    assert wrong == []


def test_a_deadline_counts_its_working_days() -> None:
    for received in _days(date(2025, 1, 1), date(2026, 6, 30))[::7]:
        for n in (1, 7, 60):
            due = CAL.deadline(received, n)
            assert CAL.is_workday(due)
            start = CAL.next_workday(received)
            assert CAL.workdays_between(start, due) == n


def test_a_deadline_is_at_least_one_working_day() -> None:
    with pytest.raises(ValueError):
        CAL.deadline(date(2026, 1, 5), 0)


def test_deadlines_are_fast() -> None:
    started = time.perf_counter()
    for _ in range(1000):
        CAL.deadline(date(2026, 9, 1), 60)
    assert time.perf_counter() - started < 1.0  # about 10 µs each here; 1 ms each fails


# --- Counting working days ------------------------------------------------------------------------


def test_workdays_between_matches_chinese_calendar() -> None:
    rng = random.Random(20260930)
    days = _days(date(2025, 1, 1), date(2026, 12, 31))
    for _ in range(500):
        a, b = sorted(rng.sample(days, 2))
        expected = len(chinese_calendar.get_workdays(a + timedelta(days=1), b))
        assert CAL.workdays_between(a, b) == expected, (a, b)
        assert CAL.workdays_between(b, a) == -expected
    assert CAL.workdays_between(date(2026, 3, 3), date(2026, 3, 3)) == 0


def test_workdays_left() -> None:
    # Across 国庆节: 10-08 and 10-09 are the working days after 09-30.
    assert CAL.workdays_left(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert CAL.workdays_left(date(2026, 10, 8), date(2026, 10, 9)) == 1
    assert CAL.workdays_left(date(2026, 10, 9), date(2026, 10, 9)) == 0  # due today
    # Overdue: negative, counting the working days since the due day, and −1 at least.
    due = date(2026, 9, 30)
    assert CAL.workdays_left(date(2026, 10, 3), due) == -1  # in the holiday: late, by no workday
    assert CAL.workdays_left(date(2026, 10, 8), due) == -1
    assert CAL.workdays_left(date(2026, 10, 9), due) == -2
    assert CAL.workdays_left(date(2026, 10, 12), due) == -4  # 10-08, 10-09, 10-10 (Sat), 10-12


# --- A year without data, and the county's calendar packages --------------------------------------


def test_2027_without_data_counts_weekends_only_and_warns() -> None:
    assert CAL.is_workday(date(2027, 1, 1))  # 元旦 2027 is unknown: a Friday like any other
    assert not CAL.is_workday(date(2027, 1, 2))
    assert CAL.deadline(date(2026, 12, 30), 3) == date(2027, 1, 4)
    assert CAL.workdays_left(date(2026, 12, 31), date(2027, 1, 8)) == 6
    assert CAL.missing_years(date(2026, 12, 1), date(2027, 1, 8)) == [2027]
    assert CAL.missing_years(date(2026, 1, 1), date(2026, 12, 31)) == []
    assert CAL.warning([2026, 2027]) == "2027 年放假安排尚未导入，期限按周末推算"
    assert CAL.warning([2028, 2027, 2027]) == "2027、2028 年放假安排尚未导入，期限按周末推算"
    assert CAL.warning(CAL.missing_years(date(2026, 3, 1), date(2026, 4, 1))) is None


MADE_UP_2027 = _csv(
    "2027-01-01,holiday,元旦",
    "2027-02-06,workday,春节调休上班",
    *(f"2027-02-{d:02d},holiday,春节" for d in range(8, 13)),
    "2027-02-20,workday,春节调休上班",
    bom=True,
)


def test_a_package_for_2027_supersedes_the_weekends() -> None:
    calendar = CAL.with_years(parse_calendar_csv(MADE_UP_2027, "calendar.csv"))
    assert calendar.covers(2027) and calendar.warning([2027]) is None
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 2, 6)) and calendar.is_workday(date(2027, 2, 20))
    assert calendar.deadline(date(2027, 2, 5), 1) == date(2027, 2, 6)
    assert calendar.deadline(date(2027, 2, 6), 1) == date(2027, 2, 15)
    # The other years and the original calendar are untouched.
    assert not calendar.is_workday(date(2026, 10, 1)) and calendar.is_workday(date(2026, 10, 10))
    assert CAL.is_workday(date(2027, 1, 1)) and not CAL.covers(2027)


def test_a_package_replaces_a_year_entirely() -> None:
    rows = parse_calendar_csv(_csv("2026-03-02,holiday,测试"), "calendar.csv")
    calendar = CAL.with_years(rows)
    assert calendar.years == {2025, 2026}
    assert not calendar.is_workday(date(2026, 3, 2))
    assert calendar.is_workday(date(2026, 10, 1))  # the built-in 国庆节 is gone
    assert not calendar.is_workday(date(2026, 10, 10))  # and so is its 调休 Saturday
    assert not calendar.is_workday(date(2025, 10, 1))  # 2025 stays
    assert [row.date for row in calendar.rows if row.date.year == 2026] == [date(2026, 3, 2)]


def test_december_rows_belong_to_the_next_years_arrangement() -> None:
    """The 2019 notice made Saturday 2018-12-29 a working day: a package's late-December rows
    cover the next year and are laid over their own year without replacing it."""
    rows = parse_calendar_csv(
        _csv("2026-12-26,workday,元旦调休上班", "2027-01-01,holiday,元旦"), "calendar.csv"
    )
    calendar = CAL.with_years(rows)
    assert calendar.years == {2025, 2026, 2027}
    assert calendar.is_workday(date(2026, 12, 26))
    assert not calendar.is_workday(date(2026, 10, 1))  # 2026 was not replaced
    replaced = calendar.with_years(parse_calendar_csv(_csv("2027-01-01,holiday,元旦"), "c.csv"))
    assert not replaced.is_workday(date(2026, 12, 26))  # a new 2027 drops the old 2027's day


def test_a_calendar_without_any_table() -> None:
    calendar = WorkCalendar.weekends_only()
    assert calendar.years == frozenset()
    assert calendar.is_workday(date(2026, 10, 1)) and not calendar.is_workday(date(2026, 10, 10))
    assert calendar.warning([2026]) == "2026 年放假安排尚未导入，期限按周末推算"


# --- Parsing calendar.csv -------------------------------------------------------------------------


def test_parse_reads_the_contracts_format() -> None:
    rows = parse_calendar_csv(
        "日期, 类型, 名称\n2027-01-01,holiday,元旦\n\n2027-02-06,workday, 春节调休上班 \n".encode(),
        "calendar.csv",
    )
    assert rows == [
        CalendarDay(date(2027, 1, 1), DayKind.HOLIDAY, "元旦"),
        CalendarDay(date(2027, 2, 6), DayKind.WORKDAY, "春节调休上班"),
    ]
    assert parse_calendar_csv(MADE_UP_2027, "calendar.csv")[0].date == date(2027, 1, 1)  # BOM


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "日期,名称,类型\n2027-01-01,元旦,holiday\n".encode(),
            "calendar.csv 第 1 行：表头应为“日期,类型,名称”，实为“日期,名称,类型”",
        ),
        (b"", "calendar.csv 第 1 行：表头应为"),
        (
            _csv(
                "2027-01-01,holiday,元旦",
                "2027-01-02,holiday,元旦",
                "2027-01-03,holiday,元旦",
                "2027-02-30,holiday,春节",
            ),
            "calendar.csv 第 5 行：日期“2027-02-30”不是有效日期",
        ),
        (_csv("2027/1/1,holiday,元旦"), "calendar.csv 第 2 行：日期“2027/1/1”不是有效日期（格式"),
        (
            _csv("2027-01-01,holiday,元旦", "2027-01-05,workday,调休"),
            "calendar.csv 第 3 行：2027-01-05 是星期二，类型为 workday 的日期应是调休上班的星期六",
        ),
        (_csv("2027-01-01,off,元旦"), "calendar.csv 第 2 行：类型“off”应为 holiday 或 workday"),
        (_csv("2027-01-01,Holiday,元旦"), "calendar.csv 第 2 行：类型“Holiday”"),
        (
            _csv("2027-01-01,holiday,元旦", "2027-01-01,holiday,元旦"),
            "calendar.csv 第 3 行：日期 2027-01-01 重复（第 2 行已有）",
        ),
        (_csv("2027-01-01,holiday"), "calendar.csv 第 2 行：应有 3 列"),
        (_csv("2027-01-01,holiday,元旦,多余"), "calendar.csv 第 2 行：应有 3 列"),
        (_csv(), "calendar.csv 没有任何日期"),
        ("日期,类型,名称\n2027-01-01,holiday,元旦\n".encode("gbk"), "calendar.csv 不是 UTF-8"),
    ],
)
def test_parse_errors_name_the_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_calendar_csv(data, "calendar.csv")
    assert caught.value.message.startswith(message), caught.value.message


# --- A year stated whole (what a county package must be) ------------------------------------------


def _year(year: int, *, drop: tuple[str, ...] = (), national: str = "国庆节") -> list[str]:
    """A year's arrangement with one day off per festival (enough for the rule)."""
    days = {
        "元旦": "01-01",
        "春节": "02-08",
        "清明节": "04-05",
        "劳动节": "05-03",
        "端午节": "06-09",
        "中秋节": "09-15",
        "国庆节": "10-04",
    }
    names = {**{f: f for f in days}, "国庆节": national}
    return [f"{year}-{days[f]},holiday,{names[f]}" for f in days if f not in drop]


def test_the_builtin_table_states_every_year_whole() -> None:
    for path in resource_path("calendar").glob("*.csv"):
        assert parse_arrangements(path.read_bytes(), path.name) == parse_calendar_csv(
            path.read_bytes(), path.name
        )


def test_festival_names() -> None:
    assert festivals_named("国庆节、中秋节") == ["中秋节", "国庆节"]
    assert festivals_named("中秋节、国庆节") == ["中秋节", "国庆节"]
    assert festivals_named("五一劳动节") == ["劳动节"]
    assert festivals_named("春节调休上班") == ["春节"]
    assert festivals_named("抗战胜利纪念日") == []


def test_a_whole_year_with_merged_festivals_and_a_december_row() -> None:
    lines = [
        "2026-12-31,holiday,元旦",  # 2027's 元旦, in December
        *_year(2027, drop=("中秋节",), national="国庆节、中秋节"),
        "2027-10-09,workday,国庆节调休上班",
    ]
    rows = parse_arrangements(_csv(*lines), "calendar.csv")
    assert {row.arrangement_year for row in rows} == {2027}


def test_an_earlier_year_is_accepted() -> None:
    rows = parse_arrangements(_csv(*_year(2019)), "calendar.csv")
    calendar = CAL.with_years(rows)
    assert calendar.years == {2019, 2025, 2026} and not calendar.is_workday(date(2019, 10, 4))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [*_year(2027, drop=("中秋节", "国庆节"))],
            "calendar.csv：2027 年的放假安排不完整，缺少中秋节、国庆节的放假日期"
            "（该年的日期只到 2027-06-09，第 6 行）。每年须写明全部七个法定节日",
        ),
        (
            [*_year(2027), "2028-01-03,holiday,元旦"],
            "calendar.csv：2028 年的放假安排不完整，缺少春节、清明节",
        ),
        (
            [*_year(2027), "2027-02-20,workday,春节调休上班", "2027-12-30,holiday,元旦"],
            "calendar.csv：2028 年的放假安排不完整",  # a December row is the next year's
        ),
        (
            [*_year(2027, drop=("春节",)), "2027-02-20,workday,春节调休上班"],
            "calendar.csv：2027 年的放假安排不完整，缺少春节的放假日期",  # a workday is not a day off
        ),
        (
            [*_year(2027), "2027-05-10,holiday,国庆节"],
            "calendar.csv 第 9 行：名称“国庆节”与日期 2027-05-10 不符（国庆节的放假日在 9、10 月）",
        ),
    ],
)
def test_a_year_stated_in_part_is_refused(lines: list[str], message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_arrangements(_csv(*lines), "calendar.csv")
    assert caught.value.message.startswith(message), caught.value.message


# --- The product never uses chinese-calendar ------------------------------------------------------


def test_the_program_never_imports_chinese_calendar() -> None:
    package = Path(govshare_desktop.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] == "chinese_calendar" for name in names):
                found.append(f"{path}:{node.lineno}")
    assert found == []
