"""The 一表通 loop with the county, end to end in the core: a department (tests/county.py, keys of its
own) issues a task with a new form and a new data element; the township imports it, fills the form,
上报; the county verifies the report package by the contract with the PEM the township exported,
returns it with a reason; the township corrects and resubmits; the county accepts. Receipts go both
ways. Then every kind of bad input is refused whole, nothing changed."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    FormStatus,
    OutboxPackage,
    ReportTask,
    StoredElements,
    StoredTemplate,
)
from tests.county import County

NOW = datetime(2026, 12, 2, 9, 30)
TODAY = date(2026, 12, 2)
P = Period.parse("2026-11")
TOWNSHIP = "441900199000"
FORM = "mz_monthly_visits"

ELEMENTS = """
[[element]]
code = "MZ_HOME_VISITS"
name = "入户走访户数"
type = "integer"
unit = "户"
level = "area"
source = "民政"
description = "本月村（社区）干部入户走访的户数，由经办人填写"
"""

TEMPLATE = """
id = "mz_monthly_visits"
version = "2027.1"
title = "困难群众走访情况月报表"
department = "东莞市民政局"
kind = "table"
period_type = "month"
unit_line = "单位：人、户"
signatories = ["审核人", "填表人", "联系电话", "报出日期"]
rows = "villages"

[[columns]]
element = "P_TOTAL"
header = "户籍人口"

[[columns]]
element = "S_LOW_INCOME"

[[columns]]
element = "MZ_HOME_VISITS"
"""


@pytest.fixture
def county() -> County:
    return County()


@pytest.fixture
def office(demo_store: Store, county: County) -> Store:
    """The demo township with the county department's key registered by the 系统管理员."""
    admin = demo_store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, county.public_pem, code=county.code, name=county.name, now=NOW)
    return demo_store


def _ctx(store: Store) -> Context:
    return Context(store, clock=lambda: NOW)


def _pool(store: Store) -> FormValues:
    catalog = load_catalog(store)
    return FormValues(store, catalog.dictionary, catalog.templates)


def _import(store: Store, data: bytes, tmp_path: Path, name: str = "in.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return import_package(store, path, user=store.principal.username, now=NOW)


def _fill(pool: FormValues, visits: str = "12") -> None:
    pool.prefill(P, township_code=TOWNSHIP, user="clerk", now=NOW)
    data = pool.collect(FORM, TOWNSHIP, P)
    for subject, _ in data.subjects:
        if subject == data.total_subject or subject == data.other_subject:
            continue
        for code in ("S_LOW_INCOME", "MZ_HOME_VISITS"):
            if data.value(code, subject) is None:
                pool.set(
                    code,
                    subject,
                    P,
                    visits if code == "MZ_HOME_VISITS" else "3",
                    user="clerk",
                    now=NOW,
                )


def _township_pem(store: Store, tmp_path: Path) -> bytes:
    admin = _ctx(store.acting(Principal("admin", Role.SYSADMIN)))
    key = reports.export_public_key(admin, tmp_path / "township.pem")
    assert (tmp_path / "township.pem").read_bytes() == key.pem
    return key.pem


def _outbox(store: Store) -> list[OutboxPackage]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxPackage).order_by(OutboxPackage.sequence)))


def test_task_report_return_resubmit_accept(office: Store, county: County, tmp_path: Path) -> None:
    pem = _township_pem(office, tmp_path)
    ctx = _ctx(office)

    # 1. the task comes down with its form and a new element
    task = county.task(
        FORM, "2026-11", templates={"mz_monthly_visits.toml": TEMPLATE}, elements=ELEMENTS
    )
    result = _import(office, task, tmp_path)
    assert result.status == "applied", result.message
    assert any("收到报表任务" in line for line in result.said)
    assert any("MZ_HOME_VISITS" in line for line in result.said)
    views, warning = reports.tasks(ctx, TODAY)
    assert [(v.template_id, v.state, v.title) for v in views] == [
        (FORM, "未开始", "困难群众走访情况月报表")
    ]
    # 12-03 … 2027-01-08: 2027's holidays are not announced yet, so 元旦 counts (and it says so)
    assert views[0].workdays_left == 27
    assert warning == "2027 年放假安排尚未导入，期限按周末推算"

    # the receipt for the task is waiting in the outbox, signed: the county reads it
    (receipt,) = _outbox(office)
    assert receipt.kind == "receipt"
    seen = county.read_package(receipt.content, pem)
    assert seen.manifest.kind == "receipt"

    # 2. filled and sent up
    pool = _pool(office)
    _fill(pool)
    assert reports.tasks(ctx, TODAY)[0][0].state == "填报中"
    sent = reports.submit_report(ctx, pool, FORM, TOWNSHIP, P)
    assert sent.status == "submitted" and sent.package is not None
    assert reports.tasks(ctx, TODAY)[0][0].state == "已上报"
    first = county.read_report(sent.package.content, pem)
    assert first.report["task_id"] == views[0].task_id
    assert first.report["template_version"] == "2027.1"
    data = pool.collect(FORM, TOWNSHIP, P)
    assert len(first.values) == 3 * len(data.subjects)  # every (element, subject), 合计 included
    total = [
        r for r in first.values if r["对象"] == TOWNSHIP and r["数据项代码"] == "MZ_HOME_VISITS"
    ]
    villages = [
        r for r in first.values if r["对象"] != TOWNSHIP and r["数据项代码"] == "MZ_HOME_VISITS"
    ]
    assert int(total[0]["值"]) == sum(int(r["值"]) for r in villages if r["值"])
    assert "困难群众走访情况月报表" in first.pdf_text
    with pytest.raises(UserError, match="已上报"):
        pool.set("MZ_HOME_VISITS", villages[0]["对象"], P, "1", user="clerk", now=NOW)

    # 3. returned by the county with a reason: the form is open again and says why
    reply = county.reply(first.manifest.package_id, "returned", "走访户数与台账不符，请核对")
    result = _import(office, reply, tmp_path, "reply.zip")
    assert result.status == "applied", result.message
    (view,) = reports.tasks(ctx, TODAY)[0]
    assert view.state == "已退回" and "走访户数与台账不符" in (view.reason or "")
    pool.set("MZ_HOME_VISITS", villages[0]["对象"], P, "20", user="clerk", now=NOW)

    # 4. resubmitted: a new package, a new sequence, naming the first
    again = reports.submit_report(ctx, pool, FORM, TOWNSHIP, P)
    assert again.package is not None
    for package in _outbox(office):  # the county reads everything in sequence order
        if package.sequence > county.received.get(TOWNSHIP, 0):
            if package.kind == "report":
                second = county.read_report(package.content, pem)
            else:
                county.read_package(package.content, pem)
    assert second.manifest.package_id == again.package.package_id
    assert second.report["replaces"] == first.manifest.package_id
    assert again.package.sequence > sent.package.sequence

    # 5. accepted, and the county's receipt for the report recorded
    result = _import(
        office, county.reply(second.manifest.package_id, "accepted"), tmp_path, "ok.zip"
    )
    assert result.status == "applied", result.message
    assert reports.tasks(ctx, TODAY)[0][0].state == "已接收"
    result = _import(office, county.receipt(second.manifest), tmp_path, "r.zip")
    assert result.status == "applied", result.message
    entries = {e.package_id: e for e in reports.outbox(ctx)}
    assert entries[second.manifest.package_id].receipt_label == "已接收"
    assert entries[first.manifest.package_id].receipt_label == "待回执"
    # a receipt is not itself acknowledged; every other package applied was
    kinds = [p.kind for p in _outbox(office)]
    assert kinds == ["receipt", "report", "receipt", "report", "receipt"]  # none for a receipt


def _counts(store: Store) -> tuple[int, ...]:
    with store.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (ReportTask, StoredTemplate, StoredElements, FormStatus)
        )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("another township", "不是本乡镇"),
        ("unknown element", "mz_monthly_visits.toml"),
        ("older version", "2026.1"),
    ],
)
def test_a_bad_task_is_refused_whole(
    office: Store, county: County, tmp_path: Path, case: str, expected: str
) -> None:
    if case == "older version":
        newer = county.task(
            FORM, "2026-11", templates={"mz_monthly_visits.toml": TEMPLATE}, elements=ELEMENTS
        )
        assert _import(office, newer, tmp_path, "new.zip").status == "applied"
        older = TEMPLATE.replace('version = "2027.1"', 'version = "2026.1"')
        bad = county.task(
            FORM, "2026-12", version="2026.1", templates={"mz_monthly_visits.toml": older}
        )
    elif case == "unknown element":
        bad = county.task(FORM, "2026-11", templates={"mz_monthly_visits.toml": TEMPLATE})
    else:
        bad = county.task(
            FORM,
            "2026-11",
            area="441900198000",
            templates={"mz_monthly_visits.toml": TEMPLATE},
            elements=ELEMENTS,
        )
    before = _counts(office)
    result = _import(office, bad, tmp_path, "bad.zip")
    assert result.status == "refused" and expected in result.message, result.message
    assert _counts(office) == before
    # the department hears of it: a receipt "refused"
    assert _outbox(office)[-1].kind == "receipt"


def test_replies_for_reports_never_sent_and_replayed_replies_are_refused(
    office: Store, county: County, tmp_path: Path
) -> None:
    result = _import(
        office, county.reply("6f1c2a8e-0000-4000-8000-000000000001", "accepted"), tmp_path
    )
    assert result.status == "refused" and "从未发出" in result.message
    # a refused package fills no gap: the county sends its next package under the same number
    county.sequence[TOWNSHIP] -= 1
    # a real report, answered twice: the second answer (a replay of the reply) is refused
    task = county.task(
        FORM, "2026-11", templates={"mz_monthly_visits.toml": TEMPLATE}, elements=ELEMENTS
    )
    assert _import(office, task, tmp_path, "t.zip").status == "applied"
    pool = _pool(office)
    _fill(pool)
    sent = reports.submit_report(_ctx(office), pool, FORM, TOWNSHIP, P)
    answer = county.reply(sent.package.package_id, "accepted")
    assert _import(office, answer, tmp_path, "a.zip").status == "applied"
    assert _import(office, answer, tmp_path, "a.zip").status == "already_received"
    # the same 答复编号 in a new package
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        replies_csv = zf.read("data/replies.csv")
    replay = county.package("reply", {"data/replies.csv": replies_csv})
    result = _import(office, replay, tmp_path, "replay.zip")
    assert result.status == "refused" and "已经收到过" in result.message
    with office.sessions() as session:
        status = session.scalar(select(FormStatus).where(FormStatus.template == FORM))
        assert status.status == "accepted"


def test_a_form_without_a_task_goes_to_its_department(office: Store, tmp_path: Path) -> None:
    """No task: the department the template names — by the code the 系统管理员 set, or a
    registered sender of that name; with neither, 上报 is refused and says what to do."""
    admin = _ctx(office.acting(Principal("admin", Role.SYSADMIN)))
    nobody = TEMPLATE.replace("东莞市民政局", "东莞市某局").replace('version = "2027.1"\n', "")
    path = tmp_path / "mz_monthly_visits.toml"
    path.write_text(ELEMENTS, encoding="utf-8")
    from govshare_desktop.core.services import forms

    forms.install_template_file(admin, path)
    path.write_text(nobody, encoding="utf-8")
    forms.install_template_file(admin, path)
    pool = _pool(office)
    _fill(pool)
    before = _counts(office)
    with pytest.raises(UserError, match="没有“东莞市某局”的单位代码"):
        reports.submit_report(_ctx(office), pool, FORM, TOWNSHIP, P)
    assert _counts(office) == before and _outbox(office) == []
    reports.set_report_recipient(admin, "东莞市某局", "441900000031")
    sent = reports.submit_report(_ctx(office), pool, FORM, TOWNSHIP, P)
    assert sent.package is not None and sent.package.recipient_code == "441900000031"
    assert sent.package.recipient_name == "东莞市某局"
