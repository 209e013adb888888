"""导出 Excel… on a browse page: the file dialog, the masked/full choice, the task, the message."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox, QPushButton

from govshare_desktop.core.browse import PAYMENTS, PERSONS, Browser
from govshare_desktop.core.domain import masking
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui import browse_view
from govshare_desktop.ui.browse_view import BrowseView

TODAY = date(2026, 11, 26)  # the window fixture's day (tests/conftest.py)


@pytest.fixture
def messages(monkeypatch):
    """Message boxes recorded instead of shown: (kind, text)."""
    shown: list[tuple[str, str]] = []
    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(
            QMessageBox, kind, lambda *a, k=kind: shown.append((k, a[2])) or QMessageBox.Ok
        )
    return shown


def _choose_file(monkeypatch, path):
    asked = []
    monkeypatch.setattr(
        browse_view, "ask_save_path", lambda parent, suggested: asked.append(suggested) or path
    )
    return asked


def _click_export(qtbot, view: BrowseView) -> None:
    button = view.findChild(QPushButton, "export_list")
    assert button is not None and button.text() == "导出 Excel…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_search_results_export_masked_by_default(
    qtbot, window, demo_store, tmp_path, monkeypatch, messages
):
    window.search.setText("王")
    view = window.current_view
    assert view.dataset is PERSONS
    qtbot.waitUntil(
        lambda: (
            0
            < view.model.rowCount()
            < Browser(demo_store).count(view.model.query.with_filter(search=None))
        )
    )
    target = tmp_path / "王.xlsx"
    asked = _choose_file(monkeypatch, target)
    with qtbot.waitSignal(view.exported, timeout=10000) as exported:
        _click_export(qtbot, view)
    result = exported.args[0]
    assert asked[0].name == "人员名单_20261126.xlsx"
    assert result.rows == view.model.rowCount() and result.masked
    sheet = load_workbook(target).active
    assert sheet.max_row == view.model.rowCount() + 1
    first = view.model.raw_row(0)
    assert sheet.cell(2, 1).value == masking.mask_id_number(first[0])
    assert messages == []  # no blocking box: the message with 「打开文件」 (ui/exported.py)
    said = view.exported_message
    assert said is not None and said.isVisible()
    assert said.text() == f"已导出 {result.rows:,} 行（已脱敏）到：\n{target}"


def test_unmasked_window_asks_and_logs_full_export(
    qtbot, window, demo_store, tmp_path, monkeypatch, messages, caplog
):
    window.set_masked(False, reason="核对养老金发放")
    window.show_page("person")  # the window opens on the 工作台
    view = window.current_view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    target = tmp_path / "full.xlsx"
    _choose_file(monkeypatch, target)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("报送民政办核对", True))
    with caplog.at_level(logging.WARNING), qtbot.waitSignal(view.exported, timeout=10000):
        _click_export(qtbot, view)
    assert sheet_id(target) == view.model.raw_row(0)[0]  # the full ID number
    warning = next(r for r in caplog.records if "exported unmasked" in r.getMessage())
    assert "报送民政办核对" in warning.getMessage() and str(target) in warning.getMessage()
    assert "含完整个人信息" in view.exported_message.text()
    auditor = Principal("zhao", Role.AUDITOR)
    entry = audit_trail(demo_store).entries(auditor, action="export", limit=1)[0]
    assert json.loads(entry.detail)["reason"] == "报送民政办核对"


def test_unmasked_window_exports_masked_when_the_clerk_says_no(
    qtbot, window, tmp_path, monkeypatch, messages, caplog
):
    window.set_masked(False, reason="核对")
    window.show_page("person")
    view = window.current_view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    target = tmp_path / "masked.xlsx"
    _choose_file(monkeypatch, target)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    with caplog.at_level(logging.WARNING), qtbot.waitSignal(view.exported, timeout=10000):
        _click_export(qtbot, view)
    assert sheet_id(target) == masking.mask_id_number(view.model.raw_row(0)[0])
    assert not any("exported unmasked" in r.getMessage() for r in caplog.records)


def test_full_export_without_a_reason_does_nothing(qtbot, window, tmp_path, monkeypatch, messages):
    window.set_masked(False, reason="核对")
    window.show_page("person")
    view = window.current_view
    target = tmp_path / "none.xlsx"
    _choose_file(monkeypatch, target)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", True))
    assert view.export_list() is None
    assert not target.exists() and messages == []


def test_cancelled_file_dialog_does_nothing(qtbot, window, monkeypatch, messages):
    _choose_file(monkeypatch, None)
    window.show_page("person")
    assert window.current_view.export_list() is None
    assert messages == []


def _payments_view(qtbot, demo_store) -> BrowseView:
    view = BrowseView(Browser(demo_store), PAYMENTS, today=TODAY)  # every month: ~10,000 rows
    qtbot.addWidget(view)
    return view


def test_cancel_leaves_no_file_and_says_nothing(qtbot, demo_store, tmp_path, monkeypatch, messages):
    view = _payments_view(qtbot, demo_store)
    target = tmp_path / "payments.xlsx"
    _choose_file(monkeypatch, target)
    task = view.export_list()
    task.cancel()  # 取消 in the progress dialog
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    assert not target.exists() and list(tmp_path.glob(".govshare-export-*")) == []
    assert messages == []


@pytest.mark.error_dialog
def test_unwritable_target_is_shown_as_a_user_error(
    qtbot, demo_store, tmp_path, monkeypatch, messages
):
    view = _payments_view(qtbot, demo_store)
    target = tmp_path / "missing" / "payments.xlsx"
    _choose_file(monkeypatch, target)
    task = view.export_list()
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    assert messages and messages[0][0] == "warning" and str(target) in messages[0][1]


def test_save_path_gets_the_xlsx_suffix(qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog, QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "人员名单"), ""))
    assert browse_view.ask_save_path(parent, tmp_path / "x.xlsx") == tmp_path / "人员名单.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: ("", ""))
    assert browse_view.ask_save_path(parent, tmp_path / "x.xlsx") is None


def sheet_id(path) -> str:
    return load_workbook(path).active.cell(2, 1).value
