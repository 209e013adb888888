"""The 工作台 headless: on the demo township made busy — two report tasks from the county (one
overdue, one due in two working days), the checks run, corrections raised and sent, a catalog and a
share request — each line of the desk counts what a query of its own counts, says how urgent in
Chinese, and opens its page; the back-flow goes stale against the catalog's 更新周期; the backup
line follows the backup folder; a role that cannot work something gets no line; fast."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.checks.cases import OPEN_STATES
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Action, Principal, Role
from govshare_desktop.core.services import checks, home, reports, sharing
from govshare_desktop.core.services.admin import back_up
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.catalog import HEADER
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    CheckCase,
    Correction,
    OutboxPackage,
    Person,
    ReportTask,
    ShareRequest,
)
from tests.core.test_sharing import ROWS
from tests.core.use_cases import covers
from tests.county import County

NOW = datetime(2026, 11, 26, 9, 30)  # a Thursday
POLICE = "东莞市公安局（演示数据）"


def _ctx(store: Store, when: datetime = NOW) -> Context:
    return Context(store, clock=lambda: when)


def _apply(store: Store, data: bytes, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = import_package(store, path, user="clerk", now=NOW)
    assert result.status == "applied", result.message


def _catalog_csv() -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return out.getvalue().encode("utf-8")


def _item(desk: home.Desk, key: str) -> home.DueItem:
    (item,) = [i for i in desk.items if i.key == key]
    return item


def _count(store: Store, model, *where) -> int:  # type: ignore[no-untyped-def]
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def busy(demo_store: Store, tmp_path: Path) -> Store:
    """The demo township with work waiting."""
    county = County()
    police = County(code="441900000003", name=POLICE)
    platform = County(code="441900000000", name="东莞市政务服务和数据管理局")
    admin = demo_store.acting(Principal("admin", Role.SYSADMIN))
    for sender in (county, police, platform):
        register_sender(admin, sender.public_pem, code=sender.code, name=sender.name, now=NOW)
    for period, deadline in (("2026-10", "2026-11-20"), ("2026-11", "2026-11-30")):
        task = county.task("mz_elderly", period, version="builtin", deadline=deadline)
        _apply(demo_store, task, tmp_path, f"task-{period}.zip")
    _apply(
        demo_store,
        platform.package("catalog", {"data/catalog.csv": _catalog_csv()}),
        tmp_path,
        "catalog.zip",
    )
    ctx = _ctx(demo_store)
    checks.run(ctx)
    with demo_store.sessions() as session:
        people = session.scalars(select(Person).where(Person.status == "normal").limit(3)).all()
    for number, person in enumerate(people):
        reports.raise_correction(
            ctx, dataset="person", record_key=person.id_number, field="联系电话",
            proposed=f"1380000000{number}", basis="本人提供",
        )  # fmt: skip
        if number == 1:
            reports.send_corrections(ctx)  # two sent, the third waits to be sent
    sharing.draft_request(
        ctx,
        resource_code="4419-CL-0002",
        items=["公民身份号码", "残疾等级"],
        purpose="核对重度残疾人护理补贴对象",
        basis="《政务数据共享条例》",
        scope="本镇户籍的补贴对象",
        use_until=date(2027, 12, 31),
    )
    return demo_store


@covers("home.desk")
def test_each_line_counts_what_a_query_counts(busy: Store) -> None:
    desk = home.desk(_ctx(busy))
    assert desk.township == "青禾镇" and desk.day == date(2026, 11, 26)
    assert desk.heading == "青禾镇　2026年11月26日　星期四"
    assert [i.key for i in desk.items] == [
        "tasks", "checks", "corrections", "sharing", "outbox", "freshness", "calendar", "backup",
    ]  # fmt: skip
    assert {i.key: i.page for i in desk.items} == {
        "tasks": "tasks", "checks": "checks", "corrections": "corrections", "sharing": "sharing",
        "outbox": "outbox", "freshness": "sharing", "calendar": "tasks", "backup": "backup",
    }  # fmt: skip

    tasks = _item(desk, "tasks")
    assert tasks.count == _count(busy, ReportTask) == 2  # neither started
    late = _count(busy, ReportTask, ReportTask.deadline < NOW.date())
    assert late == 1 and tasks.urgency == home.OVERDUE and tasks.overdue
    # 11-20 was a Friday: 23, 24, 25, 26 November are four working days since
    assert tasks.detail == (
        "2 项待报送，1 项已逾期（最多 4 个工作日），1 项 3 个工作日内到期，"
        "最急：老年人口及高龄津贴情况统计表（已逾期 4 个工作日）"
    )
    assert tasks.more[0] == "老年人口及高龄津贴情况统计表 2026年10月：已逾期 4 个工作日，未开始"
    assert tasks.more[1].endswith("剩 2 个工作日，未开始")  # Friday 27th and Monday 30th
    assert len(tasks.more) == 2  # both deadlines in 2026, whose holidays are known

    cases = _item(desk, "checks")
    assert cases.count == _count(busy, CheckCase, CheckCase.state.in_(OPEN_STATES)) > 0
    assert cases.detail.startswith(f"{cases.count} 个待核实")
    assert cases.urgency == home.SOON  # the demo plants "错误"-level cases (deceased still paid)

    corrections = _item(desk, "corrections")
    waiting = _count(busy, Correction, Correction.state.in_(("draft", "sent", "accepted")))
    assert corrections.count == waiting == 3
    assert corrections.detail == "1 项待发送，2 项等待答复"
    assert corrections.urgency == home.SOON  # one to send

    requests = _item(desk, "sharing")
    assert requests.count == _count(busy, ShareRequest, ShareRequest.state == "draft") == 1
    assert requests.detail == "1 项待审核" and requests.urgency == home.SOON
    assert requests.more == ("残疾人证信息（东莞市残疾人联合会）：待审核",)

    outbox = _item(desk, "outbox")
    unwritten = _count(busy, OutboxPackage, OutboxPackage.written_at.is_(None))
    # receipts for the two tasks and the catalog, and the corrections' package to the police
    assert outbox.count == unwritten == 4
    assert outbox.detail == "4 个数据包尚未写出（回执 3、纠错 1）" and outbox.urgency == home.SOON

    fresh = _item(desk, "freshness")
    assert fresh.count == 0 and fresh.urgency == home.OK
    assert fresh.detail == "10 类数据，最近数据时点 2026-10-31"
    assert "户籍人员：数据时点 2026-10-31，10-31 导入，每月更新" in fresh.more


def test_overdue_answers_and_stale_back_flow_are_red(busy: Store) -> None:
    later = _ctx(busy, NOW + timedelta(days=60))  # 2027-01-25
    desk = home.desk(later)
    corrections = _item(desk, "corrections")
    assert corrections.urgency == home.OVERDUE
    assert "2 项已超期" in corrections.detail
    fresh = _item(desk, "freshness")
    stale = [m for m in fresh.more if "逾期" in m]
    # 户籍人口基本信息 (the persons) every month: 2026-10-31 + 31 + 7 days of grace is long
    # past; 残疾人证 every quarter (92 + 23 days) is not yet.
    assert stale == ["户籍人员：数据时点 2026-10-31，10-31 导入，每月更新，逾期 48 天未更新"]
    assert fresh.count == 1 and fresh.urgency == home.OVERDUE
    assert fresh.detail.startswith("10 类数据，1 类逾期未更新（户籍人员）")
    assert fresh.more[0] == stale[0]  # the stale ones first


def test_the_backup_line_follows_the_backup_folder(busy: Store) -> None:
    line = _item(home.desk(_ctx(busy)), "backup")
    assert line.count is None and line.urgency == home.OVERDUE
    assert line.detail == "还没有备份过；按回车立即备份"
    back_up(_ctx(busy))
    line = _item(home.desk(_ctx(busy)), "backup")
    assert line.urgency == home.OK
    assert line.detail == "最近备份：2026-11-26 09:30（今天）"
    assert _item(home.desk(_ctx(busy, NOW + timedelta(days=2))), "backup").urgency == home.SOON
    week = _item(home.desk(_ctx(busy, NOW + timedelta(days=8))), "backup")
    assert week.urgency == home.OVERDUE and "（8 天前）" in week.detail


def test_a_quiet_township_has_green_lines_and_no_calendar_line(demo_store: Store) -> None:
    desk = home.desk(_ctx(demo_store, datetime(2025, 6, 2, 9, 0)))  # 2025 and 2026 are known
    assert "calendar" not in [i.key for i in desk.items]
    for key in ("tasks", "checks", "corrections", "sharing", "outbox"):
        item = _item(desk, key)
        assert item.count == 0 and item.urgency == home.OK and item.more == ()
    assert _item(desk, "tasks").detail == "没有待报送的报表任务"
    fresh = _item(desk, "freshness")
    assert fresh.detail.endswith("（目录未到，不能按更新周期判断）")


def test_a_role_that_cannot_work_something_gets_no_line(busy: Store) -> None:
    auditor = busy.acting(Principal("zhao", Role.AUDITOR))
    assert home.desk(_ctx(auditor)).items == []  # reads only: nothing to do, and no error
    admin = busy.acting(Principal("admin", Role.SYSADMIN))
    assert [i.key for i in home.desk(_ctx(admin)).items] == ["backup"]
    reviewer = busy.acting(Principal("shen", Role.REVIEWER))
    assert [i.key for i in home.desk(_ctx(reviewer)).items] == [
        i.key for i in home.desk(_ctx(busy)).items
    ]
    damaged = busy.acting(Principal("clerk", Role.CLERK, read_only=True))
    keys = [i.key for i in home.desk(_ctx(damaged)).items]
    assert "backup" not in keys and "freshness" not in keys  # no backup, no import


def test_a_new_source_is_one_entry(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = home.Source(
        "notice",
        Action.VIEW,
        lambda ctx: [home.DueItem("notice", "通知", 1, home.SOON, "1 条新通知", "person")],
    )
    monkeypatch.setattr(home, "SOURCES", (*home.SOURCES, extra))
    assert home.desk(_ctx(demo_store)).items[-1].detail == "1 条新通知"


def test_the_desk_is_fast_on_the_demo_township(busy: Store) -> None:
    ctx = _ctx(busy)
    home.desk(ctx)  # check definitions, templates and the calendar read once
    started = time.perf_counter()
    home.desk(ctx)
    assert time.perf_counter() - started < 0.25
