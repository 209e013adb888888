"""The menu bar (issue 19): 文件/编辑/查看/数据/报表/工具/帮助 with the window's actions and their
shortcuts shown, each shortcut once; Ctrl+Q, Ctrl+E and Ctrl+P work from the keyboard; 关于 names
the version, the database and the township key's fingerprint; 注销/切换用户 goes back to the
sign-in without ending the program — real widgets, a real sign-in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDialog
from shiboken6 import isValid

from govshare_desktop import __version__
from govshare_desktop.core.exchange import township_key
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui import app as app_module
from govshare_desktop.ui.admin import AdminPanel, BackupsView
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.menus import MENUS, plain
from govshare_desktop.ui.signin import LoginDialog
from govshare_desktop.ui.window_pages import PAGE_KEYS, PAGES, SHORTCUT_PAGES

CTRL = Qt.KeyboardModifier.ControlModifier
AUDITOR = Principal("zhao", Role.AUDITOR)
ADMIN, CLERK = "Guanli#2026mn", "Qingshui#2026mn"


def _menu_actions(window: MainWindow) -> dict[str, dict[str, QAction]]:
    return {
        plain(menu.title()): {plain(a.text()): a for a in menu.actions() if not a.isSeparator()}
        for menu in window.menus.menus.values()
    }


def _keys(action: QAction) -> str:
    return action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)


def test_the_menus_hold_the_actions_with_their_shortcuts(window: MainWindow) -> None:
    menus = _menu_actions(window)
    assert list(menus) == list(MENUS)
    assert window.menus.menus["文件"].title() == "文件(&F)"
    shortcuts = {
        ("文件", "导入回流数据…"): "Ctrl+I",
        ("文件", "导出 Excel…"): "Ctrl+E",
        ("文件", "打印…"): "Ctrl+P",
        ("文件", "锁定"): "Ctrl+L",
        ("文件", "退出"): "Ctrl+Q",
        ("编辑", "查找"): "Ctrl+F",
        ("帮助", "快捷键一览"): "F1",
    }
    for (menu, text), keys in shortcuts.items():
        assert _keys(menus[menu][text]) == keys, (menu, text)
    assert "注销/切换用户…" in menus["文件"] and "关于 govshare-desktop…" in menus["帮助"]
    assert "显示完整信息" in menus["编辑"] and "修改密码…" in menus["编辑"]
    for position, (_key, title) in enumerate(PAGES, start=1):
        keys = f"Ctrl+{position}" if position <= SHORTCUT_PAGES else ""
        assert _keys(menus["查看"][title]) == keys
    assert "立即备份" in menus["工具"] and "备份与恢复…" in menus["工具"]  # a 经办人 backs up
    assert "用户管理…" not in menus["工具"]  # not a 系统管理员's window
    # Qt runs neither of two actions with one shortcut: every shortcut is the window's once.
    taken = [_keys(a) for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert len(taken) == len(set(taken)), taken
    # the menu shows the key beside the text: the shortcut table is made from the menus
    rows = dict(window.menus.shortcut_rows())
    assert rows[PAGES[0][1]] == "Ctrl+1" and rows["退出"] == "Ctrl+Q"  # (工作台 once it is first)
    assert rows["一表通"] == f"Ctrl+{PAGE_KEYS.index('forms') + 1}"


def test_ctrl_e_exports_the_list_shown(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    import govshare_desktop.ui.browse_view as browse_view

    window.show_page("ss_payment")
    target = tmp_path / "发放.xlsx"
    monkeypatch.setattr(browse_view, "ask_save_path", lambda _parent, _suggested: target)
    exported: list[object] = []
    window.views["ss_payment"].exported.connect(exported.append)
    qtbot.keyClick(window, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: bool(exported), timeout=20000)
    assert target.exists()
    said = window.views["ss_payment"].exported_message
    assert said is not None and str(target) in said.text()
    said.close()


def test_ctrl_p_prints_the_form_shown(qtbot, window: MainWindow) -> None:
    window.show_page("forms")
    forms = window.forms_view
    forms.template.setCurrentIndex(forms.template.findData("mz_elderly"))
    assert window.menus.print.isEnabled()
    assert forms.print_button.shortcut().isEmpty()  # the window's Ctrl+P, not a second one
    qtbot.keyClick(window, Qt.Key.Key_P, CTRL)
    qtbot.waitUntil(lambda: forms.output.open_preview is not None, timeout=20000)
    preview = forms.output.open_preview
    with qtbot.waitSignal(preview.destroyed, timeout=5000):
        preview.close()
    window.show_page("tasks")
    assert not window.menus.print.isEnabled() and not window.menus.export.isEnabled()


def test_ctrl_q_quits_and_the_sign_out_is_recorded(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert audit_trail(window.store).entries(AUDITOR, limit=1)[0].action == "logout"


def test_about_names_version_database_and_key_fingerprint(qtbot, window: MainWindow) -> None:
    store = window.store
    dialog = window.menus.show_about()
    assert dialog.findChild(object, "about_签名密钥指纹").text().startswith("尚未生成")
    dialog.close()
    with store.transaction() as session:
        key = township_key.make_key(session, store.secret, user="clerk", now=datetime.now())
        grouped = township_key.public_key(key).grouped_fingerprint
    dialog = window.menus.show_about()
    qtbot.waitExposed(dialog)
    text = dialog.text()
    assert f"版本：{__version__}" in text
    assert f"数据库：{store.path}" in text
    assert f"签名密钥指纹：{grouped}" in text and len(grouped.split()) == 16
    assert "本单位：青禾镇" in text
    dialog.findChild(object, "about_copy").click()
    assert grouped in QApplication.clipboard().text()
    dialog.grab().save("/tmp/about.png")


def test_the_tools_menu_opens_a_clerks_backups_in_a_dialog(qtbot, window: MainWindow) -> None:
    tools = _menu_actions(window)["工具"]
    tools["备份与恢复…"].trigger()
    dialog = QApplication.activeModalWidget() or window.dialogs[-1]
    assert isinstance(dialog, QDialog) and dialog.findChild(BackupsView) is not None
    dialog.close()


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """An encrypted database with a township, its administrator and two 经办人."""
    from govshare_desktop.core.store.township import init_township

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password=ADMIN)
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    signin.add_account(setup.store, "li", Role.CLERK, CLERK, must_change=False)
    signin.add_account(setup.store, "wang", Role.CLERK, CLERK, must_change=False)
    setup.store.dispose()
    return db


def _sign_in_when_asked(user: str, password: str) -> list[str]:
    """Type into the login dialog when it appears (it runs its own event loop)."""
    asked: list[str] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            QTimer.singleShot(50, answer)
            return
        asked.append(dialog.windowTitle())
        dialog.user.setText(user)
        dialog.password.setText(password)
        dialog.try_sign_in()

    QTimer.singleShot(50, answer)
    return asked


def _settled(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The start-up check beside the window, then the daily backup it lets go, both done."""
    qtbot.waitUntil(lambda: window.integrity_task is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.integrity_task.done, timeout=20000)
    qtbot.waitUntil(lambda: window.backup_task is None or window.backup_task.done, timeout=20000)


def test_switching_user_goes_back_to_the_sign_in_and_keeps_the_program(
    qtbot, qapp, office: Path, monkeypatch
) -> None:
    monkeypatch.setenv("GOVSHARE_USER", "li")
    monkeypatch.setenv("GOVSHARE_PASSWORD", CLERK)
    args = app_module.parse_args(["--db", str(office)])
    first = MainWindow()  # not qtbot's: the program deletes it
    first.show()
    app_module._sign_in(qapp, first, args, office)  # as the program starts: quietly, as li
    assert first.store is not None and first.store.principal.username == "li"
    _settled(qtbot, first)
    quit_called: list[bool] = []
    qapp.aboutToQuit.connect(lambda: quit_called.append(True))
    asked = _sign_in_when_asked("wang", CLERK)  # the environment's li is not used again
    window: list[MainWindow] = []
    monkeypatch.setattr(app_module, "_switch_user", _keep(app_module._switch_user, window))
    _menu_actions(first)["文件"]["注销/切换用户…"].trigger()
    assert asked == ["登录 — govshare-desktop"]
    (second,) = window
    qtbot.addWidget(second)
    assert second.isVisible()
    qtbot.waitUntil(lambda: not isValid(first), timeout=5000)  # closed and deleted
    assert second.store is not None and second.store.principal.username == "wang"
    assert "wang" in second.windowTitle()
    entries = audit_trail(second.store).entries(AUDITOR, limit=3)
    assert [(e.action, e.username) for e in entries[:2]] == [("login", "wang"), ("logout", "li")]
    assert not quit_called
    _settled(qtbot, second)
    second.close()


def _keep(switch, made: list[MainWindow]):  # type: ignore[no-untyped-def]
    def wrapped(*args):  # type: ignore[no-untyped-def]
        window = switch(*args)
        made.append(window)
        return window

    return wrapped


def test_the_sysadmins_tools_bring_their_tabs_forward(qtbot, office: Path) -> None:
    signed = signin.sign_in(office, "admin", ADMIN)
    window = MainWindow(signed.store)
    qtbot.addWidget(window)
    window.show()
    menus = _menu_actions(window)
    assert not window.menus.menus["数据"].menuAction().isVisible()  # no residents' data
    assert not menus["查看"]["人员"].isVisible()
    for title in ("用户管理…", "备份与恢复…", "报表模板…", "本单位密钥…", "上报设置…"):
        assert title in menus["工具"], title
    panel = window.findChild(AdminPanel)
    menus["工具"]["本单位密钥…"].trigger()
    assert panel.tabText(panel.currentIndex()) == "本单位密钥"
    window.close()
    signed.store.dispose()
