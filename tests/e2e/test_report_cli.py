"""The report loop as a script runs it: the 系统管理员 registers the county department's key and
exports the township's; a task with a new form comes in through ``govshare import``; ``tasks list``
shows it; the clerk prefills and ``report send``s it to a folder; the county verifies the package
with the exported PEM and returns it; the reply comes in; ``report send`` again makes a new package;
``outbox list`` and ``outbox send`` show and write what went up."""

from __future__ import annotations

import json
from pathlib import Path

from tests.county import County
from tests.e2e.cli import govshare

FORM = "mz_population_check"
TEMPLATE = """
id = "mz_population_check"
version = "2027.1"
title = "户籍人口核对月报表"
department = "东莞市民政局"
kind = "table"
period_type = "month"
unit_line = "单位：人"
signatories = ["审核人", "填表人"]
rows = "villages"

[[columns]]
element = "P_TOTAL"

[[columns]]
element = "P_MALE"

[[columns]]
element = "P_FEMALE"
"""


def _run(*args: str, db: Path, user: str = "clerk") -> str:
    done = govshare(*args, db=db, user=user)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_task_report_returned_and_sent_again(tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    _run("demo", "--households", "40", "--seed", "5", db=db, user="admin")
    county = County()
    (tmp_path / "county.pem").write_bytes(county.public_pem)
    _run(
        "trust",
        "add",
        str(tmp_path / "county.pem"),
        "--sender",
        county.code,
        "--name",
        county.name,
        db=db,
        user="admin",
    )
    said = _run("keys", "export", "--out", str(tmp_path / "township.pem"), db=db, user="admin")
    pem = (tmp_path / "township.pem").read_bytes()
    assert "指纹（SHA-256）" in said

    (tmp_path / "task.zip").write_bytes(
        county.task(FORM, "2026-11", templates={"population_check.toml": TEMPLATE})
    )
    imported = _run("import", str(tmp_path / "task.zip"), db=db)
    assert "收到报表任务" in imported, imported
    listed = json.loads(_run("tasks", "list", "--json", db=db))
    (task,) = listed["tasks"]
    assert (task["template_id"], task["state"], task["title"]) == (
        FORM,
        "未开始",
        "户籍人口核对月报表",
    )
    assert listed["warning"] == "2027 年放假安排尚未导入，期限按周末推算"

    _run("forms", "prefill", "--period", "2026-11", "--save", db=db)
    usb = tmp_path / "usb"
    usb.mkdir()
    sent = _run("report", "send", FORM, "--period", "2026-11", "--out", str(usb), db=db)
    assert "已上报" in sent and "已写入" in sent
    (package,) = usb.glob("*_report.zip")
    (receipt,) = usb.glob("*_receipt.zip")  # the task's receipt went with it, first
    assert county.read_package(receipt.read_bytes(), pem).manifest.sequence == 1
    report = county.read_report(package.read_bytes(), pem)
    assert report.report["task_id"] == task["task_id"]
    assert "户籍人口核对月报表" in report.pdf_text

    (tmp_path / "reply.zip").write_bytes(
        county.reply(report.manifest.package_id, "returned", "男女人数与公安数据不一致")
    )
    _run("import", str(tmp_path / "reply.zip"), db=db)
    (task,) = json.loads(_run("tasks", "list", "--json", db=db))["tasks"]
    assert task["state"] == "已退回" and "男女人数与公安数据不一致" in task["returned_reason"]

    again = _run("report", "send", FORM, "--period", "2026-11", "--out", str(usb), db=db)
    assert "已上报" in again
    outbox = json.loads(_run("outbox", "list", "--json", db=db))
    reports_sent = [e for e in outbox if e["kind"] == "report"]
    assert len(reports_sent) == 2 and reports_sent[0]["replaces"] == report.manifest.package_id
    assert again.count("已写入") == 2  # the reply's receipt, then the report
    assert _run("outbox", "send", "--out", str(usb), db=db).strip() == "没有待写出的数据包"
    read = {receipt.name, package.name}
    for path in sorted(usb.glob("*.zip")):  # the county reads the rest, in sequence order
        if path.name not in read:
            county.read_package(path.read_bytes(), pem)
    assert county.received["441900199000"] == 4
