"""Signing in, the idle lock that hides personal data, unmasking that is audited and needs the
permission, and the 系统管理员's window without residents' data — with pytest-qt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from govshare_desktop.core.security import signin
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui.admin import AuditView
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.signin import ChangePasswordDialog, LoginDialog

ADMIN, CLERK = "Guanli#2026ui", "Qinghe#2026ui"
AUDITOR = Principal("zhao", Role.AUDITOR)


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """An encrypted database with a township, its administrator and a 经办人 ``li``."""
    from govshare_desktop.core.store.township import init_township

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password=ADMIN)
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    signin.add_account(setup.store, "li", Role.CLERK, CLERK, must_change=False)
    setup.store.dispose()
    return db


def test_the_login_dialog_says_what_is_wrong_then_signs_in(qtbot, office: Path) -> None:
    dialog = LoginDialog(office)
    qtbot.addWidget(dialog)
    dialog.user.setText("li")
    dialog.password.setText("Wrong#2026")
    dialog.try_sign_in()
    assert dialog.signed is None and "用户名或密码错误" in dialog.message.text()
    assert dialog.password.text() == ""
    dialog.password.setText(CLERK)
    dialog.try_sign_in()
    assert dialog.signed is not None and dialog.signed.principal == Principal("li", Role.CLERK)
    dialog.signed.store.dispose()


def test_a_forced_change_refuses_a_weak_password(qtbot, office: Path) -> None:
    signed = signin.sign_in(office, "admin", ADMIN)
    dialog = ChangePasswordDialog(signed.store, forced=True, old=ADMIN)
    qtbot.addWidget(dialog)
    dialog.new.setText("abc")
    dialog.again.setText("abc")
    dialog.change()
    assert "密码不符合要求" in dialog.message.text() and not dialog.result()
    dialog.new.setText("Better#2026ui")
    dialog.again.setText("Better#2026ui")
    dialog.change()
    assert dialog.result() == 1
    signed.store.dispose()
    signin.sign_in(office, "admin", "Better#2026ui").store.dispose()


def test_idle_lock_hides_the_data_until_the_password(qtbot, office: Path, monkeypatch) -> None:
    signed = signin.sign_in(office, "li", CLERK)
    window = MainWindow(signed.store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.show()
    card_hidden = []

    def type_password(dialog: LoginDialog) -> int:
        card_hidden.append(window.centralWidget().isHidden())
        dialog.password.setText("Wrong#2026")
        dialog.try_sign_in()
        assert "用户名或密码错误" in dialog.message.text()  # the wrong one does not unlock
        dialog.password.setText(CLERK)
        dialog.try_sign_in()
        return dialog.result()

    monkeypatch.setattr(LoginDialog, "exec", type_password)
    window.enable_idle_lock(office, minutes=0.002)  # about a tenth of a second
    qtbot.waitUntil(lambda: bool(card_hidden), timeout=5000)
    assert card_hidden == [True]
    qtbot.waitUntil(lambda: not window.centralWidget().isHidden(), timeout=5000)
    window.idle.stop()
    actions = [e.action for e in signed.store.audit().entries(AUDITOR, limit=3)]
    assert actions[:2] == ["unlock", "lock"]
    signed.store.dispose()


def test_unmasking_needs_the_permission_and_is_audited(qtbot, demo_store, monkeypatch) -> None:
    window = MainWindow(demo_store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.set_masked(False, reason="核对低保名单")
    assert not window.masked
    entry = demo_store.audit().entries(AUDITOR, action="unmask", limit=1)[0]
    assert "核对低保名单" in entry.detail and entry.username == "clerk"
    window.set_masked(True)

    shown = []
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.warning", lambda *a: shown.append(a[2]))
    auditor = MainWindow(demo_store.acting(AUDITOR), today=lambda: date(2026, 11, 26))
    qtbot.addWidget(auditor)
    auditor.set_masked(False, reason="看看")
    assert auditor.masked and shown and "无权查看完整个人信息" in shown[0]


def test_the_sysadmin_window_shows_accounts_not_residents(qtbot, office: Path) -> None:
    from PySide6.QtWidgets import QLabel

    from govshare_desktop.ui.admin import UsersView

    signed = signin.sign_in(office, "admin", ADMIN)
    window = MainWindow(signed.store)
    qtbot.addWidget(window)
    assert "不查看居民数据" in window.findChild(QLabel, "role_notice").text()
    assert "系统管理员" in window.windowTitle()
    users = window.findChild(UsersView)
    assert [users.table.item(r, 0).text() for r in range(users.table.rowCount())] == ["admin", "li"]
    users.table.selectRow(1)
    users._change(disabled=True)  # 停用
    assert users.table.item(1, 3).text() == "已停用"
    signed.store.dispose()


def test_the_audit_admin_reads_filters_verifies_and_exports(qtbot, demo_store, tmp_path) -> None:
    from openpyxl import load_workbook

    window = MainWindow(demo_store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.set_masked(False, reason="核对")  # the clerk's action, to be found
    auditor = MainWindow(demo_store.acting(AUDITOR), today=lambda: date(2026, 11, 26))
    qtbot.addWidget(auditor)
    assert not auditor.import_action.isVisible()
    view = auditor.open_audit().findChild(AuditView)
    assert view.table.rowCount() >= 1
    view.action.setCurrentIndex(view.action.findData("unmask"))
    view.reload()
    assert view.table.rowCount() == 1 and "核对" in view.table.item(0, 7).text()
    view.verify()
    assert "完整" in view.status.text()
    view.ask_path = lambda: str(tmp_path / "审计.xlsx")
    view.export()
    sheet = load_workbook(tmp_path / "审计.xlsx").active
    assert sheet["E2"].value == "查看完整个人信息" and sheet["A1"].font.b


def test_a_search_in_the_window_is_recorded_once_typing_stops(qtbot, demo_store) -> None:
    window = MainWindow(demo_store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClicks(window.search, "wf")
    qtbot.waitUntil(
        lambda: bool(demo_store.audit().entries(AUDITOR, action="search")), timeout=5000
    )
    (entry,) = demo_store.audit().entries(AUDITOR, action="search")
    assert entry.object == "wf" and '"results"' in entry.detail


def test_backup_from_the_window_and_sign_out_are_recorded(qtbot, office: Path, monkeypatch) -> None:
    from govshare_desktop.core.store.backup import default_backup_dir, list_backups

    signed = signin.sign_in(office, "li", CLERK)
    window = MainWindow(signed.store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.show()
    shown: list[str] = []
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.information", lambda *a: shown.append(a[2]))
    window.backup_now()  # 「立即备份」 on the toolbar
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "已备份到" in shown[0] and list_backups(default_backup_dir(office))
    window.close()
    actions = [e.action for e in signed.store.audit().entries(AUDITOR, limit=2)]
    assert actions == ["logout", "backup"]
    signed.store.dispose()
