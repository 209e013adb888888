"""Signing in, the idle lock that hides personal data, unmasking that is audited and needs the
permission, and the 系统管理员's window without residents' data — with pytest-qt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui.admin import AuditView
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.signin import ChangePasswordDialog, LoginDialog

ADMIN, CLERK = "Guanli#2026ui", "Qingshui#2026ui"
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
    from PySide6.QtWidgets import QApplication

    clipboard = QApplication.clipboard()
    clipboard.setText("441900196107191372")  # copied from a list before leaving the desk
    window.enable_idle_lock(office, minutes=0.002)  # about a tenth of a second
    qtbot.waitUntil(lambda: bool(card_hidden), timeout=5000)
    assert card_hidden == [True]
    assert clipboard.text() == ""  # cleared on lock
    qtbot.waitUntil(lambda: not window.centralWidget().isHidden(), timeout=5000)
    window.idle.stop()
    actions = [e.action for e in audit_trail(signed.store).entries(AUDITOR, limit=3)]
    assert actions[:2] == ["unlock", "lock"]
    signed.store.dispose()


def test_unmasking_needs_the_permission_and_is_audited(qtbot, demo_store, monkeypatch) -> None:
    window = MainWindow(demo_store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.set_masked(False, reason="核对低保名单")
    assert not window.masked
    entry = audit_trail(demo_store).entries(AUDITOR, action="unmask", limit=1)[0]
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
        lambda: bool(audit_trail(demo_store).entries(AUDITOR, action="search")), timeout=5000
    )
    (entry,) = audit_trail(demo_store).entries(AUDITOR, action="search")
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
    actions = [e.action for e in audit_trail(signed.store).entries(AUDITOR, limit=2)]
    assert actions == ["logout", "backup"]
    signed.store.dispose()


def test_the_sysadmin_restores_a_backup_from_the_window(qtbot, office: Path, monkeypatch) -> None:
    """备份与恢复: pick a backup, confirm, the database is swapped after the check (the one it
    replaced kept as a safety copy), and the program closes to start afresh."""
    from PySide6.QtWidgets import QMessageBox

    from govshare_desktop.core.security.safekeeping import backup_now
    from govshare_desktop.ui.admin import BackupsView

    signed = signin.sign_in(office, "admin", ADMIN)
    backup_now(signed.store)
    signin.add_account(signed.store, "wang", Role.CLERK, CLERK, must_change=False)  # after it
    window = MainWindow(signed.store)
    qtbot.addWidget(window)
    window.show()
    view = window.findChild(BackupsView)
    assert view.table.rowCount() == 1 and view.table.item(0, 1).text() == "备份"
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda _parent, _title, text, *_a: asked.append(text) or QMessageBox.StandardButton.Yes,
    )
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))

    view.table.selectRow(0)
    with qtbot.waitSignal(view.restored, timeout=20000):
        view.restore_selected()
    assert "替换当前数据库" in asked[0] and "安全副本" in asked[0]
    assert "已恢复" in told[0] and "govshare-before-restore-" in told[0]
    qtbot.waitUntil(lambda: not window.isVisible())  # closes: the program starts afresh

    again = signin.sign_in(office, "admin", ADMIN)
    assert [a.username for a in signin.list_accounts(again.store)] == ["admin", "li"]
    view.store = again.store
    view.reload()
    assert sorted(view.table.item(r, 1).text() for r in range(2)) == ["备份", "恢复前"]
    actions = [e.action for e in audit_trail(again.store).entries(AUDITOR, action="restore")]
    # "done", and "start" carried over with the trail of the database as it was
    assert actions == ["restore", "restore"]
    assert audit_trail(again.store).verify(AUDITOR).ok
    again.store.dispose()


@pytest.mark.error_dialog
def test_a_backup_with_another_key_is_refused_and_nothing_changes(
    qtbot, office: Path, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from govshare_desktop.ui.admin import BackupsView

    stranger = tmp_path / "other" / "office.db"
    signin.initialise(stranger, admin_password=ADMIN).store.dispose()
    signed = signin.sign_in(office, "admin", ADMIN)
    window = MainWindow(signed.store)
    qtbot.addWidget(window)
    window.show()
    view = window.findChild(BackupsView)
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a: QMessageBox.StandardButton.Yes)
    errors: list[str] = []
    monkeypatch.setattr(
        "govshare_desktop.ui.backups_view.show_error",
        lambda _parent, exc: errors.append(str(exc)),
    )
    view.restore(stranger, "别处的数据库")
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert "密钥" in errors[0] or "无法" in errors[0], errors[0]
    assert window.isVisible()
    signed.store.dispose()
    again = signin.sign_in(office, "admin", ADMIN)  # the same database, nothing swapped
    assert [a.username for a in signin.list_accounts(again.store)] == ["admin", "li"]
    assert not audit_trail(again.store).entries(AUDITOR, action="restore")
    assert not list((office.parent / "backups").glob("govshare-before-restore-*"))
    again.store.dispose()


def test_an_unreadable_database_is_restored_from_the_login_dialog(
    qtbot, office: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    from govshare_desktop.core.security.safekeeping import backup_now

    signed = signin.sign_in(office, "admin", ADMIN)
    backup_now(signed.store)
    signed.store.dispose()
    data = bytearray(office.read_bytes())
    data[:4096] = bytes(4096)  # the first page is gone: nothing can be read
    office.write_bytes(bytes(data))
    offered: list[list[str]] = []
    monkeypatch.setattr(
        QInputDialog,
        "getItem",
        lambda _p, _t, _l, items, *_a: offered.append(items) or (items[0], True),
    )
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a: QMessageBox.StandardButton.Yes)

    dialog = LoginDialog(office)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.restore_button.isVisible()
    dialog.user.setText("li")
    dialog.password.setText(CLERK)
    dialog.try_sign_in()
    assert dialog.signed is None and "已损坏，无法读取" in dialog.message.text()
    assert dialog.restore_button.isVisible()
    dialog.restore_backup()  # a 经办人 cannot restore
    assert "不是有效的系统管理员" in dialog.message.text()
    assert office.read_bytes() == bytes(data)

    dialog.user.setText("admin")
    dialog.password.setText(ADMIN)
    dialog.try_sign_in()
    dialog.restore_backup()
    assert "备份" in offered[-1][0] and offered[-1][-1] == "选择其他备份文件…"
    assert "已从" in dialog.message.text() and not dialog.restore_button.isVisible()
    dialog.user.setText("li")
    dialog.password.setText(CLERK)
    dialog.try_sign_in()
    assert dialog.signed is not None
    dialog.signed.store.dispose()
