"""目录 and 共享申请 with a county platform that has its own keys (tests/county.py): a catalog package
replaces the township's copy (or is refused whole, naming row and field); the catalog is searched and
shows what arrives by back-flow and whether it is overdue; a request is drafted, approved, sent with
its 答复期限 in working days, answered, and closed by the back-flow that brings the data; overdue
ones print a 催办函; the register says what is held on which basis and warns past the 使用期限."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.services import checks, reports, sharing
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.catalog import HEADER
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import CatalogResource, Person
from tests.core.use_cases import covers
from tests.county import TOWNSHIP, County

NOW = datetime(2026, 12, 2, 9, 30)  # a Wednesday
PLATFORM = "东莞市政务服务和数据管理局"
ROWS = [
    ("4419-GA-0001", "户籍人口基本信息", "东莞市公安局", "441900000003", "户籍人口的基本情况",
     "公民身份号码、姓名、性别、出生日期、住址", "有条件", "用于履行法定职责", "文件", "每月",
     "2026-06-01"),
    ("4419-SC-0007", "企业登记基本信息", "东莞市市场监督管理局", "441900000011", "企业登记",
     "统一社会信用代码、企业名称、法定代表人、住所", "无条件", "", "接口", "每日", "2026-05-10"),
    ("4419-CL-0002", "残疾人证信息", "东莞市残疾人联合会", "441900000021", "持证残疾人",
     "公民身份号码、姓名、残疾类别、残疾等级", "有条件", "用于残疾人两项补贴核查", "文件", "每季度",
     "2026-03-01"),
    ("4419-ZR-0003", "不动产登记信息", "东莞市自然资源局", "441900000031", "不动产权属",
     "权利人、不动产单元号", "不予", "《不动产登记暂行条例》第二十七条", "数据库", "不定期",
     "2026-01-15"),
]  # fmt: skip


def _csv(header, rows) -> bytes:  # type: ignore[no-untyped-def]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def platform() -> County:
    return County(code="441900000000", name=PLATFORM)


@pytest.fixture
def office(demo_store: Store, platform: County) -> Store:
    admin = demo_store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, platform.public_pem, code=platform.code, name=platform.name, now=NOW)
    return demo_store


def _ctx(store: Store, when: datetime = NOW) -> Context:
    return Context(store, clock=lambda: when)


def _apply(store: Store, data: bytes, tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return import_package(store, path, user="clerk", now=NOW)


def _catalog(platform: County, rows=ROWS) -> bytes:  # type: ignore[no-untyped-def]
    return platform.package("catalog", {"data/catalog.csv": _csv(HEADER, rows)})


@covers("sharing.catalog")
def test_a_catalog_replaces_the_copy_and_is_searched(
    office: Store, platform: County, tmp_path: Path
) -> None:
    done = _apply(office, _catalog(platform), tmp_path, "catalog.zip")
    assert done.status == "applied", done.message
    assert "共 4 项资源（无条件 1、有条件 2、不予 1）" in done.said[0]
    ctx = _ctx(office)
    every = sharing.catalog(ctx)
    assert [r.code for r in every] == [
        "4419-GA-0001",
        "4419-SC-0007",
        "4419-CL-0002",
        "4419-ZR-0003",
    ]  # by provider, in code point order
    assert [r.name for r in sharing.catalog(ctx, "hjrk")] == ["户籍人口基本信息"]  # pinyin
    assert [r.name for r in sharing.catalog(ctx, "法定代表人")] == ["企业登记基本信息"]  # 信息项
    assert [r.name for r in sharing.catalog(ctx, "残疾人联合会")] == ["残疾人证信息"]  # 提供方
    assert [r.code for r in sharing.catalog(ctx, share_type="不予")] == ["4419-ZR-0003"]
    registry = every[0]
    assert registry.datasets == ("person",) and registry.received  # the demo's back-flow
    card = next(r for r in every if r.code == "4419-CL-0002")
    assert card.datasets == ("disability_card",)
    assert card.freshness() in ("尚未收到",) or card.received
    # months later, the registry (每月) is overdue
    later = sharing.catalog(_ctx(office, NOW + timedelta(days=120)), "户籍")
    assert later[0].stale_days and "逾期" in later[0].freshness()

    # a new catalog replaces the copy whole
    again = _apply(office, _catalog(platform, ROWS[:2]), tmp_path, "catalog2.zip")
    assert "新增 0 项、撤下 2 项" in again.said[0]
    assert [r.code for r in sharing.catalog(ctx)] == ["4419-GA-0001", "4419-SC-0007"]


@pytest.mark.parametrize(
    ("row", "field", "said"),
    [
        (3, "共享类型", "“部分共享”不是 无条件、有条件、不予 之一"),
        (2, "资源代码", "与第 2 行重复"),
        (4, "发布日期", "发布日期"),
        (5, "共享条件", "不予共享须写明不予共享的依据"),
    ],
)
def test_a_bad_catalog_is_refused_whole(
    office: Store, platform: County, tmp_path: Path, row: int, field: str, said: str
) -> None:
    _apply(office, _catalog(platform), tmp_path, "good.zip")
    rows = [list(r) for r in ROWS]
    if field == "共享类型":
        rows[1][6] = "部分共享"
    elif field == "资源代码":
        rows.insert(1, list(ROWS[0]))
    elif field == "发布日期":
        rows[2][10] = "2026-13-01"
    else:
        rows[3][7] = ""
    refused = _apply(office, _catalog(platform, rows), tmp_path, "bad.zip")
    assert refused.status == "refused"
    assert f"第 {row} 行" in refused.message and said in refused.message, refused.message
    with office.sessions() as session:  # the old copy stands
        assert session.scalar(select(func.count()).select_from(CatalogResource)) == 4


def _request(ctx: Context, code: str = "4419-CL-0002", **changes):  # type: ignore[no-untyped-def]
    fields = {
        "resource_code": code,
        "items": ["公民身份号码", "残疾等级"],
        "purpose": "核对重度残疾人护理补贴对象",
        "basis": "《政务数据共享条例》；民政部门履职需要",
        "scope": "本镇户籍的补贴对象",
        "use_until": date(2027, 12, 31),
    }
    return sharing.draft_request(ctx, **(fields | changes))


@covers(
    "sharing.draft_request",
    "sharing.approve_request",
    "sharing.send_requests",
    "sharing.request_list",
    "sharing.print_urge_letter",
    "sharing.holdings",
    "sharing.use_warning",
)
def test_a_request_goes_up_is_granted_and_closed_by_its_back_flow(
    office: Store, platform: County, tmp_path: Path
) -> None:
    _apply(office, _catalog(platform), tmp_path, "catalog.zip")
    ctx = _ctx(office)
    with pytest.raises(UserError, match="不予共享资源，不能申请：《不动产登记暂行条例》"):
        _request(ctx, "4419-ZR-0003", items=["权利人"])
    with pytest.raises(UserError, match="没有信息项 住址"):
        _request(ctx, items=["住址"])
    with pytest.raises(UserError, match="须写明用途"):
        _request(ctx, purpose=" ")
    cards = _request(ctx)
    firms = _request(ctx, "4419-SC-0007", items=["企业名称"])
    assert [v.state_label for v in sharing.request_list(ctx)] == ["待审核", "待审核"]
    with pytest.raises(PermissionDenied):  # a clerk does not approve
        sharing.approve_request(ctx, cards.request_id)
    reviewer = _ctx(office.acting(Principal("shenhe", Role.REVIEWER)))
    for request in (cards, firms):
        sharing.approve_request(reviewer, request.request_id)
    (package,) = sharing.send_requests(ctx)
    assert package.kind == "share_request" and package.recipient_code == platform.code
    key = reports.export_public_key(
        _ctx(office.acting(Principal("admin", Role.SYSADMIN))), tmp_path / "t.pem"
    ).pem
    platform.received[TOWNSHIP["code"]] = 1  # the receipt for catalog.zip went first
    seen = platform.read_package(package.content, key)
    lines = list(csv.reader(io.StringIO(seen.read("data/share_requests.csv").decode("utf-8"))))
    assert lines[0] == [
        "申请编号", "资源代码", "资源名称", "信息项", "用途", "依据", "范围", "使用期限",
        "提出日期", "答复期限",
    ]  # fmt: skip
    by_code = {line[1]: line for line in lines[1:]}
    assert by_code["4419-CL-0002"][3] == "公民身份号码、残疾等级"
    assert by_code["4419-SC-0007"][8:] == ["2026-12-02", "2026-12-03"]  # 无条件: 1 working day
    assert by_code["4419-CL-0002"][8:] == ["2026-12-02", "2026-12-16"]  # 有条件: 10

    # the firms request runs late, and a 催办函 is printed
    late = _ctx(office, NOW + timedelta(days=5))  # Monday 12-07: 2 working days past 12-03
    views = {v.resource_code: v for v in sharing.request_list(late)}
    assert views["4419-SC-0007"].state_label == "超期（2 个工作日）"
    assert not views["4419-CL-0002"].overdue
    letter = sharing.print_urge_letter(late, tmp_path / "催办函.pdf")
    assert letter.forms == 1 and letter.path.read_bytes().startswith(b"%PDF")

    # granted, naming the back-flow package that will bring the data; refused, with the reason
    data_package_id = "6f1c1a5e-0000-4000-8000-0000000000aa"

    def answers(firms_reason: str, **package) -> bytes:  # type: ignore[no-untyped-def]
        return _replies(
            platform,
            [
                (cards.request_id, "granted", "同意", data_package_id),
                (firms.request_id, "refused", firms_reason, ""),
            ],
            **package,
        )

    refused = _apply(office, answers(""), tmp_path, "answers.zip")
    assert refused.status == "refused" and "须说明理由" in refused.message
    # the refused package was not applied: the platform sends its number again
    answers2 = answers("乡镇无此职责", sequence=2)
    done = _apply(office, answers2, tmp_path, "answers2.zip")
    assert done.status == "applied", done.message
    views = {v.resource_code: v for v in sharing.request_list(ctx)}
    assert views["4419-CL-0002"].state_label == "已同意"
    assert (views["4419-SC-0007"].state_label, views["4419-SC-0007"].answer) == (
        "不同意",
        "乡镇无此职责",
    )

    # the package it named brings the data: the request is 已收到, and the register says why
    _bring_cards(office, platform, tmp_path, data_package_id)
    result = checks.after_import(ctx, [_outcome(tmp_path / "cards.zip", office)])
    assert result is not None and result.received == [cards.request_id]
    assert "1 项共享申请的数据已收到" in result.summary()
    holding = next(h for h in sharing.holdings(ctx) if h.dataset == "disability_card")
    assert holding.request_id == cards.request_id and holding.use_until == date(2027, 12, 31)
    assert holding.basis == "共享申请：残疾人证信息"
    assert sharing.use_warning(ctx, ["disability_card"]) is None
    after = _ctx(office, datetime(2028, 1, 3, 9, 0))
    warned = sharing.use_warning(after, ["disability_card", "person"])
    assert warned is not None and "残疾人证" in warned and "2027-12-31 届满" in warned


def _replies(platform: County, rows, **package) -> bytes:  # type: ignore[no-untyped-def]
    """A ``reply`` package answering share requests: (编号, 结果, 说明, 生效批次) each."""
    header = ["答复编号", "针对", "编号", "结果", "说明", "答复日期", "生效批次"]
    lines = [
        (f"r-{n}", "share_request", number, result, note, "2026-12-08", batch)
        for n, (number, result, note, batch) in enumerate(rows, start=1)
    ]
    return platform.package("reply", {"data/replies.csv": _csv(header, lines)}, **package)


def _bring_cards(office: Store, platform: County, tmp_path: Path, package_id: str) -> None:
    """A back-flow package with the given id carrying two 残疾人证 records."""
    with office.sessions() as session:
        people = session.scalars(select(Person).where(Person.status == "normal").limit(2)).all()
        rows = [
            (p.id_number, p.name, f"{p.id_number}4{n}", "4", "1", "2020-05-06", "2030-05-05")
            for n, p in enumerate(people, start=1)
        ]
    cards = _csv(
        ["公民身份号码", "姓名", "残疾人证号", "残疾类别", "残疾等级", "发证日期", "有效期至"], rows
    )
    data = platform.package(
        "backflow",
        {"data/disability_card.csv": cards},
        datasets={"data/disability_card.csv": "disability_card"},
        as_of="2026-12-09",
        package_id=package_id,
    )
    path = tmp_path / "cards.zip"
    path.write_bytes(data)
    done = import_package(office, path, user="clerk", now=NOW + timedelta(days=7))
    assert done.status == "applied", done.message


def _outcome(path: Path, office: Store):  # type: ignore[no-untyped-def]
    from govshare_desktop.core.backflow.runner import FileResult

    return FileResult(path.name, "applied", [], None)


@covers("sharing.calendar", "sharing.calendar_days")
def test_the_calendar_in_use_says_where_each_year_came_from(office: Store) -> None:
    ctx = _ctx(office)
    years, warning = sharing.calendar(ctx)
    assert [(y.year, y.source_text) for y in years] == [(2025, "内置"), (2026, "内置")]
    assert warning == "2027 年放假安排尚未导入，期限按周末推算"
    october = [d for d in sharing.calendar_days(ctx, 2026) if d.date.month == 10]
    assert [d.date.day for d in october if d.kind.value == "workday"] == [10]
