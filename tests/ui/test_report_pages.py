"""报表任务, 上报 and 发件箱 in the window, with pytest-qt on the demo township: a county department
(tests/county.py, keys of its own) sends tasks down; the 报表任务 page lists them, the overdue one
first and in red; a double-click opens the form; 上报 writes the signed package into a folder the
county then reads by the contract; a form that needs review waits for the 审核人's 「审核通过」;
the 发件箱 lists and writes every package. Only the modal dialogs' answers are patched."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.demo import DEMO_COUNTY_CODE
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import forms, reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.tasks_view import OVERDUE, TaskRole
from tests.conftest import TODAY
from tests.county import County

NOW = datetime(2026, 11, 26, 9, 30)
TOWNSHIP = "441900199000"
V = "441900199201"
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


@pytest.fixture
def county(window) -> County:  # type: ignore[no-untyped-def]
    """A county department whose key the township's 系统管理员 registered."""
    county = County()
    admin = window.store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, county.public_pem, code=county.code, name=county.name, now=NOW)
    return county


def _import(window, data: bytes, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """A package from the county imported, then the window told (as the import wizard does)."""
    path = tmp_path / name
    path.write_bytes(data)
    result = import_package(window.store, path, user=window.store.principal.username, now=NOW)
    assert result.status == "applied", result.message
    window.data_changed()


def _township_pem(store: Store, tmp_path: Path) -> bytes:
    admin = Context(store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    return reports.export_public_key(admin, tmp_path / "township.pem").pem


def _folder(monkeypatch, path: Path) -> Path:  # type: ignore[no-untyped-def]
    path.mkdir(exist_ok=True)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(path))
    return path


def _answer(monkeypatch, button: QMessageBox.StandardButton) -> list[str]:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or button)
    return asked


def _click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_tasks_page_lists_the_county_tasks_most_urgent_first(
    qtbot, qtmodeltester, window, county: County, tmp_path: Path
) -> None:
    _import(
        window, county.task(FORM, "2026-11", templates={"check.toml": TEMPLATE}), tmp_path, "a.zip"
    )
    late = county.task("mz_elderly", "2026-10", version="builtin", deadline="2026-11-20")
    _import(window, late, tmp_path, "b.zip")
    window.show_page("tasks")
    view = window.tasks_view
    assert view is not None and view.isVisible()
    model = view.model
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    cells = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(2)]
    overdue, waiting = cells
    assert overdue[0] == "老年人口及高龄津贴情况统计表" and overdue[1] == "2026年10月"
    assert overdue[2] == "青禾镇（全镇）" and overdue[3] == county.name
    assert overdue[4] == "2026-11-20（周五）" and overdue[5].startswith("已逾期")
    first = model.index(0, 5)
    assert first.data(Qt.ItemDataRole.ForegroundRole).color() == OVERDUE
    font = first.data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert waiting[:2] == ["户籍人口核对月报表", "2026年11月"]
    assert waiting[5].startswith("剩 ") and waiting[6] == "未开始"
    assert model.index(1, 5).data(Qt.ItemDataRole.FontRole) is None
    assert view.warning.isVisible()
    assert view.warning.text() == "2027 年放假安排尚未导入，期限按周末推算"
    assert "已逾期 1 项" in view.summary.text()

    # A double-click opens the task's form, period and area on the 一表通 page.
    table = view.table
    rect = table.visualRect(model.index(1, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    forms_view = window.forms_view
    assert forms_view is not None and forms_view.isVisible()
    assert forms_view.current_template.id == FORM  # the form the task brought
    assert str(forms_view.current_period) == "2026-11" and forms_view.area.currentData() == TOWNSHIP
    assert forms_view.sheet is not None
    # Enter on the other one: the shipped form, for October.
    window.show_page("tasks")
    table.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert window.forms_view.isVisible() and forms_view.current_template.id == "mz_elderly"
    assert str(forms_view.current_period) == "2026-10"
    assert model.data(model.index(0, 0), TaskRole).task_id


def test_a_report_goes_up_into_a_folder_and_comes_back_returned(
    qtbot, window, county: County, tmp_path: Path, monkeypatch
) -> None:
    _import(
        window, county.task(FORM, "2026-11", templates={"check.toml": TEMPLATE}), tmp_path, "t.zip"
    )
    (task,) = reports.tasks(Context(window.store), TODAY)[0]
    window.open_task(FORM, "2026-11", TOWNSHIP)
    view = window.forms_view
    prefilled = view.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    usb = _folder(monkeypatch, tmp_path / "usb")
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    _click(qtbot, view.submit_button)
    assert asked == ["已生成上报数据包，现在写入 U 盘或共享文件夹吗？"]
    qtbot.waitUntil(lambda: len(list(usb.glob("*.zip"))) == 2, timeout=5000)
    qtbot.waitUntil(lambda: "已写入 2 个数据包" in view.status.text(), timeout=5000)
    assert "已上报" in view.status.text() and "上报人：clerk" in view.status.text()
    assert not view.submit_button.isEnabled()  # locked: 已上报

    pem = _township_pem(window.store, tmp_path)
    (receipt,) = usb.glob("*_receipt.zip")  # the task's receipt went with it, first
    assert county.read_package(receipt.read_bytes(), pem).manifest.sequence == 1
    (package,) = usb.glob("*_report.zip")
    report = county.read_report(package.read_bytes(), pem)
    assert report.report["task_id"] == task.task_id
    assert "户籍人口核对月报表" in report.pdf_text

    window.show_page("tasks")
    assert window.tasks_view.model.index(0, 6).data() == "已上报"
    assert window.tasks_view.model.index(0, 5).data() == "—"

    # The county returns it: the tasks page and the form's status line say why.
    reply = county.reply(report.manifest.package_id, "returned", "男女人数与公安数据不一致")
    _import(window, reply, tmp_path, "reply.zip")
    tasks = window.tasks_view.model
    assert tasks.index(0, 6).data() == "已退回"
    assert tasks.index(0, 7).data() == "男女人数与公安数据不一致"  # the issuer has its column
    assert tasks.index(0, 7).data(Qt.ItemDataRole.ToolTipRole) == (
        f"{county.name}退回：男女人数与公安数据不一致"
    )
    window.open_task(FORM, "2026-11", TOWNSHIP)
    assert f"{county.name}退回：男女人数与公安数据不一致" in view.status.text()
    assert view.submit_button.isEnabled()
    _answer(monkeypatch, QMessageBox.StandardButton.Yes)  # sent again; the folder dialog
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")  # cancelled
    _click(qtbot, view.submit_button)
    assert "数据包已留在「发件箱」" in view.status.text()  # written later
    assert len(list(usb.glob("*.zip"))) == 2


def test_the_outbox_lists_and_writes_every_package(
    qtbot, qtmodeltester, window, county: County, tmp_path: Path, monkeypatch
) -> None:
    window.show_page("outbox")
    view = window.outbox_view
    assert view is not None and view.model.rowCount() == 0
    assert "发件箱是空的" in view.note.text() and not view.write_all.isEnabled()
    qtmodeltester.check(view.model)
    _import(
        window, county.task(FORM, "2026-11", templates={"check.toml": TEMPLATE}), tmp_path, "1.zip"
    )
    _import(window, county.task("mz_elderly", "2026-10", version="builtin"), tmp_path, "2.zip")
    model = view.model
    assert model.rowCount() == 2
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[1:4] == ["回执", county.name, "2"] and row[5] == "未写出" and row[6] == "—"
    assert "2 个尚未写出" in view.note.text()
    assert not view.write_again.isEnabled()  # nothing chosen yet

    usb = _folder(monkeypatch, tmp_path / "usb")
    _click(qtbot, view.write_all)
    qtbot.waitUntil(lambda: "已写入 2 个数据包" in view.status.text(), timeout=5000)
    names = sorted(p.name for p in usb.glob("*.zip"))
    assert names == sorted(e.file_name for e in model.entries)
    assert model.index(0, 5).data().startswith(str(usb)) and "都已写出" in view.note.text()
    assert not view.write_all.isEnabled()

    view.table.selectRow(1)
    again = _folder(monkeypatch, tmp_path / "again")
    _click(qtbot, view.write_again)
    first = model.entries[1].file_name  # 1 is the first receipt, newest first
    qtbot.waitUntil(lambda: (again / first).exists(), timeout=5000)
    assert sorted(p.name for p in again.glob("*.zip")) == [first]
    assert (again / first).read_bytes() == (usb / first).read_bytes()
    pem = _township_pem(window.store, tmp_path)
    assert county.read_package((again / first).read_bytes(), pem).manifest.kind == "receipt"


@pytest.fixture
def review_form(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """mz_elderly needs review; October's form for one village is filled and 上报 by the
    经办人: it waits 待审核, no package yet."""
    admin = Context(window.store.acting(Principal("admin", Role.SYSADMIN)))
    reports.set_review_required(admin, "mz_elderly", True)
    window.show_page("forms")
    view = window.forms_view
    view.show_form("mz_elderly", "2026-10", V)
    prefilled = view.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    ctx = Context(window.store)
    data = view.pool.collect("mz_elderly", V, Period.parse("2026-10"))
    for column in data.template.columns:
        if data.value(column.element, V) is None:
            forms.set_value(ctx, view.pool, column.element, V, Period.parse("2026-10"), "0")
    view.reload()
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    view.submit()
    assert asked == []  # no package yet: nothing to write
    assert "已提交审核" in view.status.text() and "等待审核人审核通过" in view.status.text()
    assert not view.approve_button.isEnabled() and not view.return_button.isEnabled()  # 经办人


def test_a_reviewer_returns_then_approves_and_the_package_is_written(
    qtbot, qapp, demo_store, review_form, tmp_path: Path, monkeypatch
) -> None:
    reviewer = MainWindow(demo_store.acting(Principal("shen", Role.REVIEWER)), today=lambda: TODAY)
    qtbot.addWidget(reviewer)
    reviewer.show()
    reviewer.show_page("forms")
    view = reviewer.forms_view
    view.show_form("mz_elderly", "2026-10", V)
    assert "待审核" in view.status.text() and "上报人：clerk" in view.status.text()
    assert view.approve_button.isEnabled() and view.return_button.isEnabled()
    assert not view.submit_button.isEnabled()

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("高龄人数请与台账核对", True))
    _click(qtbot, view.return_button)
    assert "退回理由：高龄人数请与台账核对" in view.status.text()
    assert not view.approve_button.isEnabled()
    view.submit()  # corrected and sent again (the reviewer may 上报 too): 待审核 again
    assert view.approve_button.isEnabled()

    usb = _folder(monkeypatch, tmp_path / "usb")
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    _click(qtbot, view.approve_button)
    assert asked == ["已生成上报数据包，现在写入 U 盘或共享文件夹吗？"]
    qtbot.waitUntil(lambda: "已写入 1 个数据包" in view.status.text(), timeout=5000)
    assert "审核人：shen" in view.status.text()
    (package,) = usb.glob("*_report.zip")
    county = County(code=DEMO_COUNTY_CODE)  # the demo's forms without a task go to its platform
    report = county.read_report(package.read_bytes(), _township_pem(demo_store, tmp_path))
    assert report.report["reviewed_by"] == {"role": "审核人", "name": "shen"}
    assert report.report["task_id"] is None
