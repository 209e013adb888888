"""下村笔记本 in the window (issue 18): 工具 → 下村笔记本… opens the list of villages out; a village
is checked out through the dialog, typed in on the laptop, and checked in — the values both sides
changed shown side by side, chosen one by one, then applied; on the laptop's own database the page
says what it is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QMessageBox

from govshare_desktop.ui.laptop_view import CheckoutDialog, ConflictsDialog, LaptopView
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.menus import plain
from tests.core.test_laptop import CLERK_PASSWORD, Laptop, Office, make_office, open_ctx


def test_the_tools_menu_opens_the_laptop_page(qtbot, window: MainWindow) -> None:
    tools = {plain(a.text()): a for a in window.menus.menus["工具"].actions()}
    tools["下村笔记本…"].trigger()
    dialog = QApplication.activeModalWidget() or window.dialogs[-1]
    assert isinstance(dialog, QDialog)
    view = dialog.findChild(LaptopView)
    assert view is not None and view.checkout_button.isVisible()
    dialog.close()


def _wait_message(qtbot, view: LaptopView) -> str:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: view.message is not None and view.message.isVisible(), timeout=20000)
    assert view.message is not None
    text = view.message.text()
    view.message.close()
    view.message = None
    return text


def test_out_and_back_in_with_a_conflict_chosen(qtbot, tmp_path: Path) -> None:
    office = Office(make_office(tmp_path / "office" / "gov.db"))
    office.set("S_LOW_INCOME", "3")
    view = LaptopView(office.ctx.store)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()

    dialog = view.ask_checkout()
    assert isinstance(dialog, CheckoutDialog)
    dialog.village.setCurrentIndex(dialog.village.findData(office.village))
    dialog.period.setText("2026-11")
    dialog.laptop.setText("笔记本1")
    out = tmp_path / "村.db"
    dialog.file.setText(str(out))
    dialog.password.setText(CLERK_PASSWORD)
    dialog.grab().save("/tmp/laptop_checkout.png")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert "检出到" in _wait_message(qtbot, view)
    assert out.is_file() and view.table.rowCount() == 1
    assert view.table.item(0, 1).text() == "已检出" and view.table.item(0, 6).text() == "笔记本1"
    view.grab().save("/tmp/laptop_view.png")

    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)
    on_laptop = LaptopView(lap.ctx.store)
    qtbot.addWidget(on_laptop)
    assert "本数据库是笔记本检出" in on_laptop.note.text()
    assert not on_laptop.checkout_button.isVisibleTo(on_laptop)
    lap.set("S_LOW_INCOME", "4")
    lap.set("S_ELDERLY_ALLOWANCE", "2")
    lap.ctx.store.dispose()

    office.ctx, office.pool = open_ctx(office.db, office.clock)
    office.set("S_LOW_INCOME", "7")
    view = LaptopView(office.ctx.store)
    qtbot.addWidget(view)
    view.show()
    view.check_in(out, CLERK_PASSWORD)
    qtbot.waitUntil(
        lambda: view.conflicts is not None and view.conflicts.isVisible(), timeout=20000
    )
    conflicts = view.conflicts
    assert isinstance(conflicts, ConflictsDialog)
    ok = conflicts.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert conflicts.table.rowCount() == 1 and not ok.isEnabled()  # nothing chosen yet
    cells = [conflicts.table.item(0, c).text() for c in range(7)]
    assert cells[2] == "低保对象人数" and (cells[3], cells[5]) == ("7", "4")
    conflicts.grab().save("/tmp/laptop_conflicts.png")
    combo = conflicts.choices[0]
    combo.setCurrentIndex(combo.findData("laptop"))
    assert ok.isEnabled()
    ok.click()
    text = _wait_message(qtbot, view)
    assert "已检入" in text and "采用笔记本的值 1 个" in text
    assert office.value("S_LOW_INCOME").value == "4"
    assert office.value("S_ELDERLY_ALLOWANCE").value == "2"
    assert view.table.item(0, 1).text() == "已检入"
    view.close()
    office.ctx.store.dispose()


def test_a_wrong_password_is_said_and_nothing_happens(qtbot, tmp_path: Path, monkeypatch) -> None:
    import govshare_desktop.ui.tasks as tasks

    office = Office(make_office(tmp_path / "office" / "gov.db"))
    view = LaptopView(office.ctx.store)
    qtbot.addWidget(view)
    shown: list[str] = []
    monkeypatch.setattr(tasks, "show_error", lambda _parent, exc: shown.append(str(exc)))
    view.check_out(office.village, tmp_path / "x.db", "Wrong#2026pass", None, "")
    qtbot.waitUntil(lambda: view.task is not None and view.task.done, timeout=20000)
    assert shown and "密码不正确" in shown[0]
    assert not (tmp_path / "x.db").exists() and view.table.rowCount() == 0
    assert not isinstance(view.message, QMessageBox)
    office.ctx.store.dispose()


def test_the_main_window_on_a_laptop_says_it_is_one(qtbot, tmp_path: Path) -> None:
    from tests.core.test_laptop import check_out

    office = Office(make_office(tmp_path / "office" / "gov.db"))
    out = tmp_path / "村.db"
    check_out(office, out, laptop="笔记本1")
    office.ctx.store.dispose()
    at_office = Office(make_office(tmp_path / "other" / "gov.db"))
    lap = Laptop(out, office.clock)
    try:
        on_laptop = MainWindow(lap.ctx.store)
        qtbot.addWidget(on_laptop)
        on_laptop.show()
        banner = on_laptop.findChild(QLabel, "laptop_banner")
        assert banner is not None and banner.isVisible()
        assert "本数据库是笔记本检出" in banner.text() and "检入" in banner.text()
        assert on_laptop.windowTitle().endswith("【下村笔记本】")
        assert on_laptop.minimumSizeHint().width() < 1000  # the long banner wraps on a small screen
        on_laptop.grab().save("/tmp/laptop_window.png")

        at_home = MainWindow(at_office.ctx.store)  # the office's own database: no banner
        qtbot.addWidget(at_home)
        assert at_home.findChild(QLabel, "laptop_banner") is None
        assert "下村笔记本" not in at_home.windowTitle()
    finally:
        lap.ctx.store.dispose()
        at_office.ctx.store.dispose()


def test_a_report_task_is_chosen_in_the_check_out_dialog(qtbot, tmp_path: Path) -> None:
    from govshare_desktop.core.services import laptop, reports
    from tests.core.test_laptop_task import _county, _task

    office = Office(make_office(tmp_path / "office" / "gov.db"))
    task = _task(office, _county(office), tmp_path, area=office.township, task_id="MZ-UI-1")
    view = LaptopView(office.ctx.store)
    qtbot.addWidget(view)
    view.show()
    dialog = view.ask_checkout()
    assert isinstance(dialog, CheckoutDialog)
    assert dialog.task.count() == 2 and dialog.task.currentData() is None
    assert "截止 2026-12-10" in dialog.task.itemText(1)
    dialog.village.setCurrentIndex(dialog.village.findData(office.village))
    dialog.task.setCurrentIndex(1)
    assert dialog.period.text() == "2026-11" and not dialog.period.isEnabled()
    out = tmp_path / "任务.db"
    dialog.file.setText(str(out))
    dialog.password.setText(CLERK_PASSWORD)
    dialog.grab().save("/tmp/laptop_checkout_task.png")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert "报表任务 MZ-UI-1" in _wait_message(qtbot, view)
    [listed] = laptop.status(office.ctx)
    assert listed.period == "2026-11" and list(listed.forms) == ["mz_elderly"]
    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)
    try:
        assert [v.task_id for v in reports.tasks(lap.ctx)[0]] == [task]
    finally:
        lap.ctx.store.dispose()
