"""The county's ``calendar`` packages (exchange-format.md), end to end in the core: signed by a
registered sender, imported through the same path as tasks and replies, stored in ``calendar_day``,
and from then on the calendar every deadline is counted on — a later package for a year replaces
it entirely, and a bad file is refused whole, naming the file, the row and the field, with nothing
changed and a receipt going back either way."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from sqlalchemy import select

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.domain.workdays import DayKind, WorkCalendar
from govshare_desktop.core.exchange.package import build_package
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.calendar import (
    BUILTIN,
    PACKAGE,
    calendar_years,
    work_calendar,
    year_rows,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import CalendarDay, OutboxPackage, Person
from tests.county import TOWNSHIP, County

NOW = datetime(2026, 12, 2, 9, 30)
TODAY = NOW.date()
POLICE = "东莞市公安局（演示数据）"  # the demo registry's source department

# A plausible 2027 arrangement (made up: the real one is published around November 2026).
ARRANGEMENT_2027 = [
    "2027-01-01,holiday,元旦",
    *(f"2027-02-{d:02d},holiday,春节" for d in (5, 8, 9, 10, 11)),
    "2027-02-20,workday,春节调休上班",
    "2027-04-05,holiday,清明节",
    "2027-04-25,workday,劳动节调休上班",
    *(f"2027-05-{d:02d},holiday,劳动节" for d in (3, 4, 5)),
    "2027-05-08,workday,劳动节调休上班",
    "2027-06-09,holiday,端午节",
    "2027-09-15,holiday,中秋节",
    "2027-09-26,workday,国庆节调休上班",
    *(f"2027-10-{d:02d},holiday,国庆节" for d in (1, 4, 5, 6, 7)),
    "2027-10-09,workday,国庆节调休上班",
]
# The county's second thoughts: 10-08 off instead of the Saturday worked, and New Year's Eve off.
REVISED_2027 = [
    "2026-12-31,holiday,元旦",
    *(row for row in ARRANGEMENT_2027 if not row.startswith(("2027-09-26", "2027-10-09"))),
    "2027-10-08,holiday,国庆节",
]
CC_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}


def _csv(lines: list[str]) -> bytes:
    return ("\r\n".join(["日期,类型,名称", *lines]) + "\r\n").encode("utf-8")


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _from_chinese_calendar(year: int) -> list[str]:
    """A year's arrangement as the county would send it, from chinese-calendar's table."""
    rows = []
    for day in _days(date(year, 1, 1), date(year, 12, 31)):
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if day.weekday() < 5 and on_holiday:
            rows.append(f"{day},holiday,{CC_NAMES[name]}")
        elif day.weekday() >= 5 and not on_holiday:
            rows.append(f"{day},workday,{CC_NAMES[name]}调休上班")
    return rows


@pytest.fixture
def county() -> County:
    return County(code="441900000000", name="东莞市政务服务和数据管理局")


@pytest.fixture
def police() -> County:
    return County(code="441900000003", name=POLICE)


@pytest.fixture
def office(demo_store: Store, county: County, police: County) -> Store:
    admin = demo_store.acting(Principal("admin", Role.SYSADMIN))
    for sender in (county, police):
        register_sender(admin, sender.public_pem, code=sender.code, name=sender.name, now=NOW)
    return demo_store


def _import(store: Store, data: bytes, tmp_path: Path, name: str = "calendar.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return import_package(store, path, user="clerk", now=NOW)


def _calendar(store: Store) -> WorkCalendar:
    with store.sessions() as session:
        return work_calendar(session)


def _stored(store: Store) -> list[tuple[date, str, str, int]]:
    with store.sessions() as session:
        return [
            (row.day, row.kind, row.name, row.year)
            for row in session.scalars(select(CalendarDay).order_by(CalendarDay.day))
        ]


def _receipts(store: Store) -> list[dict[str, object]]:
    with store.sessions() as session:
        rows = session.scalars(
            select(OutboxPackage)
            .where(OutboxPackage.kind == "receipt")
            .order_by(OutboxPackage.sequence)
        )
        return [_receipt_document(row.content) for row in rows]


def _receipt_document(content: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return json.loads(zf.read("data/receipt.json"))


# ---------------------------------------------------------------- applied


def test_a_2027_package_applies_and_every_deadline_uses_it(
    office: Store, county: County, tmp_path: Path
) -> None:
    ctx = Context(office, clock=lambda: NOW)
    task = county.task("mz_elderly", "2026-11", deadline="2027-01-08")
    assert _import(office, task, tmp_path, "task.zip").status == "applied"
    (view,), warning = reports.tasks(ctx, TODAY)
    assert view.workdays_left == 27  # 元旦 2027 counted as a Friday like any other
    assert warning == "2027 年放假安排尚未导入，期限按周末推算"
    assert _calendar(office).deadline(date(2026, 12, 30), 3) == date(2027, 1, 4)

    package = county.package("calendar", {"data/calendar.csv": _csv(ARRANGEMENT_2027)})
    result = _import(office, package, tmp_path)
    assert result.status == "applied", result.message
    assert result.said == ["收到 2027 年放假安排（17 个休息日、5 个调休上班日），此后期限按此计算"]

    calendar = _calendar(office)
    assert calendar.years == {2025, 2026, 2027}
    assert not calendar.is_workday(date(2027, 1, 1)) and calendar.is_workday(date(2027, 2, 20))
    assert calendar.deadline(date(2026, 12, 30), 3) == date(2027, 1, 5)
    assert calendar.deadline(date(2027, 9, 30), 1) == date(2027, 10, 8)
    assert calendar.is_workday(date(2026, 10, 10))  # the built-in 2026 stays
    (view,), warning = reports.tasks(ctx, TODAY)
    assert view.workdays_left == 26 and warning is None

    # every stored row carries its arrangement year and the package
    stored = _stored(office)
    assert len(stored) == len(ARRANGEMENT_2027) and {row[3] for row in stored} == {2027}
    with office.sessions() as session:
        years = calendar_years(session)
        assert [(y.year, y.source, y.holidays, y.workdays) for y in years] == [
            (2025, BUILTIN, 18, 5),
            (2026, BUILTIN, 19, 6),
            (2027, PACKAGE, 17, 5),
        ]
        assert years[2].package_id == result.package_id and years[2].applied_at == NOW
        assert years[2].source_text == "东莞市政务服务和数据管理局 日历包（2026-12-02 导入）"
        assert years[0].source_text == "内置"
        assert [row.name for row in year_rows(session, 2027)][:2] == ["元旦", "春节"]

    # the receipt goes back as for every other kind
    assert _receipts(office)[-1]["status"] == "applied"
    assert _receipts(office)[-1]["package_id"] == result.package_id


def test_a_correction_sent_before_new_year_counts_on_the_2027_arrangement(
    office: Store, county: County, tmp_path: Path
) -> None:
    """Ten working days from Tuesday 2026-12-22: 2027-01-05 on weekends alone, 01-06 once the
    county says 元旦 is off."""
    when = datetime(2026, 12, 22, 10, 0)
    ctx = Context(office, clock=lambda: when)
    package = county.package("calendar", {"data/calendar.csv": _csv(ARRANGEMENT_2027)})
    assert _import(office, package, tmp_path).status == "applied"
    with office.sessions() as session:
        person = session.scalars(select(Person).where(Person.status == "normal")).first()
        assert person is not None
    reports.raise_correction(
        ctx, dataset="person", record_key=person.id_number, field="联系电话",
        proposed="13800000000", basis="本人提供",
    )  # fmt: skip
    reports.send_corrections(ctx)
    (view,) = reports.correction_list(ctx)
    assert view.deadline == date(2027, 1, 6)
    assert WorkCalendar.builtin().deadline(when.date(), 10) == date(2027, 1, 5)


def test_a_later_package_replaces_the_year_entirely(
    office: Store, county: County, tmp_path: Path
) -> None:
    first = county.package("calendar", {"data/calendar.csv": _csv(ARRANGEMENT_2027)})
    assert _import(office, first, tmp_path, "first.zip").status == "applied"
    again = _import(office, first, tmp_path, "first.zip")
    assert again.status == "already_received"

    second = county.package("calendar", {"data/calendar.csv": _csv(REVISED_2027)})
    result = _import(office, second, tmp_path, "second.zip")
    assert result.status == "applied", result.message
    assert result.said == [
        "收到 2027 年放假安排（19 个休息日、3 个调休上班日），"
        "取代 2026-12-02 导入的上一版，此后期限按此计算"
    ]
    calendar = _calendar(office)
    assert not calendar.is_workday(date(2027, 10, 9))  # the old 调休 Saturday is gone
    assert not calendar.is_workday(date(2027, 9, 26))
    assert not calendar.is_workday(date(2027, 10, 8))
    # New Year's Eve 2026 is 2027's 元旦: laid over 2026, which stays the built-in table's
    assert not calendar.is_workday(date(2026, 12, 31))
    assert calendar.is_workday(date(2026, 10, 10)) and calendar.covers(2026)
    assert calendar.deadline(date(2026, 12, 30), 3) == date(2027, 1, 6)
    stored = _stored(office)
    assert [f"{day},{kind},{name}" for day, kind, name, _year in stored] == sorted(REVISED_2027)
    assert {year for *_rest, year in stored} == {2027}
    with office.sessions() as session:
        (info,) = [y for y in calendar_years(session) if y.year == 2027]
        assert info.package_id == result.package_id


def test_earlier_and_built_in_years_are_superseded(
    office: Store, county: County, tmp_path: Path
) -> None:
    """2024 (before the built-in table) and 2025 (in it) in one package: both are the county's
    from then on; 2024 agrees with chinese-calendar day by day."""
    lines = _from_chinese_calendar(2024) + _from_chinese_calendar(2025)
    package = county.package("calendar", {"data/calendar.csv": _csv(lines)})
    result = _import(office, package, tmp_path)
    assert result.status == "applied", result.message
    assert result.said[0].startswith("收到 2024 年放假安排（")
    assert "取代" not in result.said[0]
    assert "取代程序内置的该年安排" in result.said[1]
    calendar = _calendar(office)
    assert calendar.years == {2024, 2025, 2026}
    for day in _days(date(2024, 1, 1), date(2025, 12, 31)):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day
    with office.sessions() as session:
        sources = {y.year: y.source for y in calendar_years(session)}
    assert sources == {2024: PACKAGE, 2025: PACKAGE, 2026: BUILTIN}


# ---------------------------------------------------------------- refused


def _without(prefix: tuple[str, ...]) -> list[str]:
    return [row for row in ARRANGEMENT_2027 if not row.startswith(prefix)]


BAD = [
    pytest.param(
        [*ARRANGEMENT_2027, "2027-01-01,holiday,元旦"],
        "data/calendar.csv 第 24 行：日期 2027-01-01 重复（第 2 行已有）",
        id="date-twice",
    ),
    pytest.param(
        _without(("2027-09", "2027-10")),
        "data/calendar.csv：2027 年的放假安排不完整，缺少中秋节、国庆节的放假日期"
        "（该年的日期只到 2027-06-09，第 15 行）",
        id="half-year",
    ),
    pytest.param(
        [*ARRANGEMENT_2027[:3], "2027-02-09,off,春节", *ARRANGEMENT_2027[4:]],
        "data/calendar.csv 第 5 行：类型“off”应为 holiday 或 workday",
        id="wrong-kind",
    ),
    pytest.param(
        [*ARRANGEMENT_2027, "2027-10-11,workday,国庆节调休上班"],
        "data/calendar.csv 第 24 行：2027-10-11 是星期一，类型为 workday 的日期应是调休上班的",
        id="workday-on-a-weekday",
    ),
    pytest.param(
        [*ARRANGEMENT_2027, "2027-06-10,holiday,国庆节"],
        "data/calendar.csv 第 24 行：名称“国庆节”与日期 2027-06-10 不符（国庆节的放假日在 9、10 月）",
        id="festival-out-of-its-months",
    ),
    pytest.param(
        ["2027-13-01,holiday,元旦", *ARRANGEMENT_2027[1:]],
        "data/calendar.csv 第 2 行：日期“2027-13-01”不是有效日期",
        id="bad-date",
    ),
]


@pytest.mark.parametrize(("lines", "message"), BAD)
def test_a_bad_file_is_refused_whole_and_nothing_changes(
    office: Store, county: County, tmp_path: Path, lines: list[str], message: str
) -> None:
    good = county.package("calendar", {"data/calendar.csv": _csv(ARRANGEMENT_2027)})
    assert _import(office, good, tmp_path, "good.zip").status == "applied"
    before = _stored(office)
    bad = county.package("calendar", {"data/calendar.csv": _csv(lines)})
    result = _import(office, bad, tmp_path, "bad.zip")
    assert result.status == "refused" and result.reason_code == "malformed"
    assert result.message.startswith("数据包未通过格式检查，已整体拒收，没有导入任何数据："), (
        result.message
    )
    assert message in result.message, result.message
    assert _stored(office) == before
    receipt = _receipts(office)[-1]
    assert receipt["status"] == "refused" and receipt["reason_code"] == "malformed"
    assert receipt["package_id"] == result.package_id


def test_a_package_without_its_calendar_csv_is_refused(
    office: Store, county: County, tmp_path: Path
) -> None:
    empty = county.package("calendar", {"data/other.csv": _csv(ARRANGEMENT_2027)})
    result = _import(office, empty, tmp_path, "empty.zip")
    assert result.status == "refused" and "没有 data/calendar.csv" in result.message
    assert _stored(office) == []


def test_a_manifest_row_count_that_disagrees_is_refused(
    office: Store, county: County, tmp_path: Path
) -> None:
    manifest = {
        "format": "govshare-exchange/1",
        "package_id": str(uuid.uuid4()),
        "kind": "calendar",
        "sender": {"code": county.code, "name": county.name},
        "recipient": TOWNSHIP,
        "sequence": 1,
        "created_at": "2026-12-02T09:00:00+08:00",
        "files": [
            {
                "path": "data/calendar.csv",
                "dataset": "calendar",
                "source_department": county.name,
                "format": "csv",
                "encoding": "utf-8",
                "rows": 21,
            }
        ],
    }
    data = {"data/calendar.csv": _csv(ARRANGEMENT_2027)}
    result = _import(office, build_package(manifest, data, county.private_pem), tmp_path)
    assert result.status == "refused" and result.reason_code == "manifest_mismatch"
    assert "有 21 行数据，实际读到 22 行" in result.message
    assert _stored(office) == []


def test_the_stored_kinds_are_the_contracts(office: Store, county: County, tmp_path: Path) -> None:
    package = county.package("calendar", {"data/calendar.csv": _csv(ARRANGEMENT_2027)})
    assert _import(office, package, tmp_path).status == "applied"
    assert {kind for _day, kind, _name, _year in _stored(office)} == {
        DayKind.HOLIDAY.value,
        DayKind.WORKDAY.value,
    }
