"""The 系统管理员's 「本单位密钥」 and 「上报设置」 tabs with pytest-qt, on a real encrypted database:
the fingerprint shown, the public key exported and the 公钥登记单 printed into real files, the key
rotated (the county must register the new one), and the report settings changed in the table."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QTabWidget, QWidget

from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import admin, reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.ui.keys_admin import KeysView, ReportSettingsView
from govshare_desktop.ui.main_window import MainWindow
from tests.county import County

ADMIN = "Guanli#2026ui"
AUDITOR = Principal("zhao", Role.AUDITOR)


@pytest.fixture
def admin_window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The 系统管理员's window on an encrypted database with a township."""
    from govshare_desktop.core.store.township import init_township

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password=ADMIN)
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    setup.store.dispose()
    signed = signin.sign_in(db, "admin", ADMIN)
    window = MainWindow(signed.store)
    qtbot.addWidget(window)
    window.show()
    yield window
    signed.store.dispose()


def _tab(window: MainWindow, kind: type) -> tuple[QTabWidget, object]:
    panel = window.findChild(QTabWidget, "admin_panel")
    view = window.findChild(kind)
    assert panel is not None and view is not None
    panel.setCurrentWidget(view)
    return panel, view


def _button(view: QWidget, name: str) -> QPushButton:
    button = view.findChild(QPushButton, name)
    assert button is not None and button.isVisible() and button.isEnabled(), name
    return button


def _save_as(monkeypatch, path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_the_key_is_shown_exported_printed_and_rotated(
    qtbot, admin_window, tmp_path: Path, monkeypatch
) -> None:
    panel, view = _tab(admin_window, KeysView)
    assert isinstance(view, KeysView) and panel.tabText(panel.indexOf(view)) == "本单位密钥"
    ctx = Context(admin_window.store)
    (key,) = reports.township_public_keys(ctx)
    shown = view.fingerprint.text()
    assert shown.replace("\n", " ") == key.grouped_fingerprint
    assert [len(line.split()) for line in shown.splitlines()] == [8, 8]
    assert view.fingerprint.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert view.fingerprint.font().pointSize() >= 14
    assert "启用时间" in view.since.text() and not view.retired.isVisible()

    _save_as(monkeypatch, tmp_path / "青禾镇公钥")  # no suffix typed: .pem added
    _button(view, "export_key").click()
    assert (tmp_path / "青禾镇公钥.pem").read_bytes() == key.pem
    assert str(tmp_path / "青禾镇公钥.pem") in view.status.text()

    asked: list[str] = []
    opened: list[object] = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No
    )
    monkeypatch.setattr("PySide6.QtGui.QDesktopServices.openUrl", lambda url: opened.append(url))
    _save_as(monkeypatch, tmp_path / "登记单.pdf")
    _button(view, "print_key_sheet").click()
    assert (tmp_path / "登记单.pdf").read_bytes().startswith(b"%PDF")
    assert asked and "现在打开它打印吗" in asked[0] and opened == []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    _button(view, "print_key_sheet").click()  # printed again, and opened to print
    assert [url.toLocalFile() for url in opened] == [str(tmp_path / "登记单.pdf")]

    warned: list[str] = []
    answer = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]) or answer[0])
    _button(view, "rotate_key").click()  # asked, declined: nothing changes
    assert "县级平台登记新公钥之前" in warned[0]
    assert view.fingerprint.text() == shown
    answer[0] = QMessageBox.StandardButton.Yes
    _button(view, "rotate_key").click()
    new, old = reports.township_public_keys(ctx)
    assert old.fingerprint == key.fingerprint and new.fingerprint != key.fingerprint
    assert view.fingerprint.text().replace("\n", " ") == new.grouped_fingerprint
    assert view.retired.isVisible() and view.retired.rowCount() == 1
    assert view.retired.item(0, 0).text() == key.grouped_fingerprint
    assert "请立即导出新公钥" in view.status.text()
    actions = [e.action for e in audit_trail(admin_window.store).entries(AUDITOR, limit=5)]
    assert {"key_export", "key_sheet", "key_rotate"} <= set(actions)


def test_report_settings_change_in_the_table(qtbot, admin_window, monkeypatch) -> None:
    panel, view = _tab(admin_window, ReportSettingsView)
    assert isinstance(view, ReportSettingsView)
    assert panel.tabText(panel.indexOf(view)) == "上报设置"
    ctx = Context(admin_window.store)
    review = view.review
    titles = [review.item(r, 1).text() for r in range(review.rowCount())]
    row = titles.index("老年人口及高龄津贴情况统计表")
    assert "高龄津贴申请表" not in titles  # a 登记表 does not go up
    check = review.item(row, 2)
    assert check.checkState() == Qt.CheckState.Unchecked
    check.setCheckState(Qt.CheckState.Checked)  # as a click on the box does
    settings = {s.template_id: s.required for s in reports.report_settings(ctx)[0]}
    assert settings["mz_elderly"] is True
    assert "上报前须审核" in view.status.text()
    qtbot.waitUntil(lambda: view.review.item(row, 2).checkState() == Qt.CheckState.Checked)

    # 民政's county key is registered under that name: its forms go there until a code is set.
    admin.trust_sender(ctx, County().public_pem, code="441900000021", name="民政")
    view.refresh()
    recipients = view.recipients
    departments = [recipients.item(r, 0).text() for r in range(recipients.rowCount())]
    unset = departments.index("公安")
    assert recipients.item(unset, 1).text() == ""  # nothing set on a new township
    assert recipients.item(unset, 2).text().startswith("未设置")
    row = departments.index("民政")
    assert recipients.item(row, 1).text() == "441900000021"
    assert "按已登记发送方的名称确定" in recipients.item(row, 2).text()
    recipients.item(row, 1).setText("441900000002")  # as typing into the cell does
    codes = {r.department: r.code for r in reports.report_settings(ctx)[1]}
    assert codes["民政"] == "441900000002"
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    qtbot.waitUntil(lambda: view.recipients.item(row, 1).text() == "441900000002")
    view.recipients.item(row, 1).setText("4419")
    assert warned == ["单位代码“4419”应为 12 位统计用区划代码"]
    qtbot.waitUntil(lambda: view.recipients.item(row, 1).text() == "441900000002")  # put back
    assert {r.department: r.code for r in reports.report_settings(ctx)[1]}["民政"] == (
        "441900000002"
    )
