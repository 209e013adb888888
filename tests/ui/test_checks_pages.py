"""比对核查 and 校核纠错 in the window, with pytest-qt on the demo township: 「立即核查」 fills the
worklist; a clerk goes down it typing what the cadres found (a key, the 核实情况, Enter: the next
row); 误报 needs its reason; the 核查表 prints to PDF and Excel; a 纠错 raised from the person card
and from a case lands in the list, overdue ones in bold red; 发送纠错 writes the signed package
into a folder. Only the modal dialogs' answers are patched."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from govshare_desktop.core.domain import masking
from govshare_desktop.core.reports.corrections import CorrectionView
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import checks, reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.ui.checks_view import ID_NUMBER, NAME, NOTE, STATE, CaseRole
from govshare_desktop.ui.correction_dialog import CorrectionDialog
from govshare_desktop.ui.corrections_view import CHANGE, CorrectionsModel
from govshare_desktop.ui.records import PersonCardDialog
from govshare_desktop.ui.tasks_view import OVERDUE

NOW = datetime(2026, 11, 26, 9, 30)
POLICE = "东莞市公安局（演示数据）"  # where the demo's person records come from


def _click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _checks_page(qtbot, window):  # type: ignore[no-untyped-def]
    """The 比对核查 page after 「立即核查」."""
    window.show_page("checks")
    view = window.checks_view
    assert view is not None and view.isVisible()
    _click(qtbot, view.run_button)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=10000)
    # The run's progress dialog had the activation; the keyboard tests need the window's back
    # (offscreen, it does not always return by itself when the dialog closes).
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return view


def _row_of(view, case_id: int) -> int:  # type: ignore[no-untyped-def]
    return [c.id for c in view.model.cases].index(case_id)


def _case(window, case_id: int):  # type: ignore[no-untyped-def]
    every = checks.cases(Context(window.store), states=tuple(checks.STATES))
    return next(c for c in every if c.id == case_id)


def test_the_checks_page_lists_the_cases_after_a_run(qtbot, qtmodeltester, window) -> None:
    window.show_page("checks")
    view = window.checks_view
    assert view.model.rowCount() == 0 and "没有符合条件的核查事项" in view.summary.text()
    _click(qtbot, view.run_button)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=10000)
    assert view.status.text().startswith("比对核查：运行")
    model = view.model
    qtmodeltester.check(model)
    expected = checks.cases(Context(window.store))
    assert [model.index(r, 0).data(CaseRole).id for r in range(model.rowCount())] == [
        c.id for c in expected
    ]
    first = expected[0]
    cells = [model.index(0, c).data() for c in range(model.columnCount())]
    assert cells[:2] == [first.title, masking.mask_name(first.name)]
    assert cells[ID_NUMBER] == masking.mask_id_number(first.subject) != first.subject
    assert cells[4] == first.evidence_text() and cells[STATE] == "待核实"
    assert f"共 {len(expected)} 件" in view.summary.text()

    # The selected row's check: what it means and what to do.
    view.table.selectRow(0)
    check = checks.checks()[first.check_id]
    assert check.explanation in view.detail.text() and check.action in view.detail.text()

    # Full data when the window shows it.
    window.set_masked(False, reason="入户核实")
    assert model.index(0, ID_NUMBER).data() == first.subject
    assert model.index(0, NAME).data() == first.name
    window.set_masked(True)

    # One check, one village (the window's 村（社区） filter).
    view.check.setCurrentIndex(view.check.findData("over_60_not_receiving"))
    shown = [model.index(r, 0).data(CaseRole) for r in range(model.rowCount())]
    assert shown and {c.check_id for c in shown} == {"over_60_not_receiving"}
    village = shown[0].village_code
    window.village.setCurrentIndex(window.village.findData(village))
    shown = [model.index(r, 0).data(CaseRole) for r in range(model.rowCount())]
    assert shown and {c.village_code for c in shown} == {village}
    assert view.sheet_button.isEnabled()
    view.check.setCurrentIndex(0)  # 全部核查项目: which check's 核查表?
    assert not view.sheet_button.isEnabled()


def test_results_are_typed_back_row_after_row(qtbot, window) -> None:
    view = _checks_page(qtbot, window)
    table = view.table
    first, second, third = view.model.cases[:3]
    table.setFocus()
    table.selectRow(0)

    # 1 → 村已核实, the 核实情况, Enter: recorded, and on to the next row.
    qtbot.keyClick(table, Qt.Key.Key_1)
    assert view.result_buttons[0].isChecked() and view.note.hasFocus()
    view.note.insert("村委会入户核实，情况属实")
    qtbot.keyClick(view.note, Qt.Key.Key_Return)
    recorded = _case(window, first.id)
    assert recorded.state == "village_verified" and recorded.note == "村委会入户核实，情况属实"
    assert [c.id for c in view.selected_cases()] == [second.id] and table.hasFocus()
    row = _row_of(view, first.id)  # still open: listed with its finding
    assert view.model.index(row, STATE).data() == "村已核实"
    assert view.model.index(row, NOTE).data() == "村委会入户核实，情况属实"
    assert not any(b.isChecked() for b in view.result_buttons)  # each row chosen afresh

    # 4 → 误报 without its reason: refused, with the message; nothing changed.
    qtbot.keyClick(table, Qt.Key.Key_4)
    assert "误报须写明理由" in view.note.placeholderText()
    qtbot.keyClick(view.note, Qt.Key.Key_Return)
    assert "标为误报须写明理由" in view.status.text()
    assert _case(window, second.id).state == "open" and view.note.hasFocus()
    view.note.insert("本人已在外省领取，有证明")
    qtbot.keyClick(view.note, Qt.Key.Key_Return)
    assert _case(window, second.id).state == "false_alarm"
    assert second.id not in {c.id for c in view.model.cases}  # closed: off the open list
    assert [c.id for c in view.selected_cases()] == [third.id]

    # Esc goes back to the list without recording; a move the case cannot make is refused.
    qtbot.keyClick(table, Qt.Key.Key_2)
    qtbot.keyClick(view.note, Qt.Key.Key_Escape)
    assert table.hasFocus() and _case(window, third.id).state == "open"
    table.selectRow(_row_of(view, first.id))
    assert not view.result_buttons[0].isEnabled()  # 村已核实 already
    qtbot.keyClick(table, Qt.Key.Key_1)
    assert "不能改为“村已核实”" in view.status.text()
    # The buttons do the same as the keys: 镇已审核 for two rows at once.
    table.selectRow(_row_of(view, first.id))
    table.selectionModel().select(
        view.model.index(_row_of(view, third.id), 0),
        table.selectionModel().SelectionFlag.Select | table.selectionModel().SelectionFlag.Rows,
    )
    _click(qtbot, view.result_buttons[1])
    _click(qtbot, view.record_button)
    assert {_case(window, i).state for i in (first.id, third.id)} == {"township_reviewed"}
    assert view.status.text() == "已记录 2 件：镇已审核。"


def test_the_check_sheet_prints_to_pdf_and_excel(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    view = _checks_page(qtbot, window)
    view.check.setCurrentIndex(view.check.findData("over_60_not_receiving"))
    opened: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(
        "PySide6.QtGui.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile())
    )
    pdf = tmp_path / "核查表.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), ""))
    _click(qtbot, view.sheet_button)
    qtbot.waitUntil(lambda: opened == [str(pdf)], timeout=10000)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "已生成核查表" in view.status.text() and "已脱敏" in view.status.text()

    # Excel, chosen by the filter; while the window shows full data, with the clerk's reason.
    window.set_masked(False, reason="村委会入户核实")
    chosen = (str(tmp_path / "核查表"), "Excel 工作簿 (*.xlsx)")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: chosen)
    _click(qtbot, view.sheet_button)
    xlsx = tmp_path / "核查表.xlsx"
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=10000)
    texts = {str(c.value) for row in load_workbook(xlsx).active.iter_rows() for c in row}
    names = {c.name for c in view.model.cases}
    assert "核实情况" in texts and names <= texts  # unmasked: the full names
    auditor = window.store.acting(Principal("a", Role.AUDITOR))
    exports = audit_trail(auditor).entries(auditor.principal, action="export")
    reasons = [json.loads(e.detail).get("reason") for e in exports]
    assert sorted(reasons, key=str) == [None, "村委会入户核实"]  # the PDF masked, the Excel not


def _correction_dialog(window) -> CorrectionDialog:  # type: ignore[no-untyped-def]
    return next(d for d in window.dialogs if isinstance(d, CorrectionDialog))


def test_corrections_from_the_person_card_and_from_a_case(qtbot, window) -> None:
    view = _checks_page(qtbot, window)
    case = view.model.cases[0]
    person = view.model.cases[1].subject
    card = window.open_person(person)
    assert isinstance(card, PersonCardDialog)
    button = card.findChild(QPushButton, "correct_record")
    _click(qtbot, button)
    dialog = _correction_dialog(window)
    assert dialog.dataset == "person" and dialog.record_key == person
    dialog.field.setCurrentIndex(dialog.field.findData("联系电话"))
    current = checks.correctable(Context(window.store), "person", person)["联系电话"]
    assert dialog.current.text() == masking.mask_phone(current)  # masked, as the window is
    dialog.text.setText("13800138000")
    _click(qtbot, dialog.ok)  # no basis: said, and nothing raised
    assert "须写明依据" in dialog.error.text() and dialog.isVisible()
    dialog.basis.setText("本人提供")
    _click(qtbot, dialog.ok)
    assert not dialog.isVisible()

    # From a case: the case's person, and the case becomes 确认有误.
    view.table.selectRow(0)
    _click(qtbot, view.correct_button)
    dialog = _correction_dialog(window)
    assert dialog.record_key == case.subject and dialog.case_id == case.id
    dialog.field.setCurrentIndex(dialog.field.findData("出生日期"))
    assert dialog.editors.currentWidget() is dialog.date
    dialog.date.setDate(dialog.date.date().addDays(1))
    dialog.basis.setText("户口簿")
    _click(qtbot, dialog.ok)
    assert _case(window, case.id).state == "confirmed"
    assert case.id not in {c.id for c in view.model.cases}  # closed

    listed = reports.correction_list(Context(window.store))
    assert [(c.record_key, c.field) for c in listed] == [
        (case.subject, "出生日期"),
        (person, "联系电话"),
    ]
    window.show_page("corrections")
    page = window.corrections_view
    assert page.model.rowCount() == 2 and "2 条待发送" in page.note.text()
    assert page.model.index(1, CHANGE).data().endswith("138****8000")  # masked both sides


def test_send_corrections_writes_the_package_into_a_folder(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    admin = Context(window.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    reports.set_report_recipient(admin, POLICE, "441900000003")
    subject = _checks_page(qtbot, window).model.cases[0].subject
    window.show_page("corrections")
    page = window.corrections_view
    assert not page.send.isEnabled()  # nothing waiting
    reports.raise_correction(
        Context(window.store),
        dataset="person",
        record_key=subject,
        field="联系电话",
        proposed="13900000000",
        basis="本人提供",
    )
    page.refresh()  # raised outside the window
    assert page.send.isEnabled()
    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    _click(qtbot, page.send)
    qtbot.waitUntil(lambda: "已写入 1 个数据包" in page.status.text(), timeout=10000)
    (package,) = usb.glob("*.zip")
    assert package.name in page.status.text()
    assert page.model.index(0, 4).data() == "已发送" and not page.send.isEnabled()
    assert page.model.index(0, 5).data().startswith("20")  # the reply deadline
    window.show_page("outbox")
    assert window.outbox_view.model.index(0, 1).data() == "纠错"


def test_overdue_corrections_stand_out(qtmodeltester) -> None:
    def view(state: str, left: int | None) -> CorrectionView:
        return CorrectionView(
            "c1", "person", "441900195306200019", "梁建国", "人员状态", "normal", "deceased",
            POLICE, state, date(2026, 11, 10) if left is not None else None, left, None, None,
        )  # fmt: skip

    model = CorrectionsModel({})
    model.load([view("sent", -3), view("sent", 4), view("draft", None)])
    qtmodeltester.check(model)
    late = model.index(0, 4)
    assert late.data() == "超期（3 个工作日）"
    assert late.data(Qt.ItemDataRole.ForegroundRole).color() == OVERDUE
    font = late.data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert (
        model.index(1, 4).data() == "已发送"
        and model.index(1, 4).data(Qt.ItemDataRole.FontRole) is None
    )
    assert model.index(0, 3).data() == "正常 → 死亡注销" and model.index(0, 1).data() == "梁*国"
    assert "答复期限还剩 4 个工作日" in model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize("field", ["性别代码", "所属村（社区）代码"])
def test_a_coded_field_is_chosen_by_name(qtbot, window, field: str) -> None:
    view = _checks_page(qtbot, window)
    dialog = window.open_correction("person", view.model.cases[0].subject)
    dialog.field.setCurrentIndex(dialog.field.findData(field))
    assert dialog.editors.currentWidget() is dialog.choice
    current = dialog.values[field]
    assert dialog.choice.currentData() == current  # starts at the current value
    dialog.choice.setCurrentIndex((dialog.choice.currentIndex() + 1) % dialog.choice.count())
    assert dialog.proposed() != current and dialog.proposed() == dialog.choice.currentData()
    dialog.close()
