"""The desktop a clerk expects (issue 19): what the window remembers between runs (QSettings, in a
folder of the test's own), zoom, Qt's own dialogs in Chinese, exports that say where the file
went, the first run's account handover, backups to another folder — real widgets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QSplitter, QTextEdit, QVBoxLayout, QWidget

from govshare_desktop.ui import settings
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.window_pages import PAGES
from tests.conftest import TODAY


def _reopened(qtbot, old: MainWindow) -> MainWindow:
    """The window closed and opened again on the same database, as the program does."""
    store = old.store
    old.close()
    window = MainWindow(today=lambda: TODAY)
    qtbot.addWidget(window)
    settings.restore_window(window)
    window.show()
    qtbot.waitExposed(window)
    window.attach(store)
    return window


def test_the_settings_are_the_tests_own(tmp_path_factory) -> None:
    where = Path(settings.settings().fileName())
    assert QSettings.defaultFormat() == QSettings.Format.IniFormat
    assert str(where).startswith(str(tmp_path_factory.getbasetemp()))
    assert not str(settings.default_export_folder()).startswith(str(Path.home() / "Documents"))


def test_size_page_and_column_widths_are_remembered(qtbot, window: MainWindow) -> None:
    window.resize(760, 540)  # within the offscreen screen (800×800)
    if window.menus.start_home.isVisible():  # the 工作台 opens first unless told otherwise
        window.menus.start_home.trigger()
    window.show_page("ss_payment")
    view = window.views["ss_payment"]
    view.table.setColumnWidth(1, 234)
    qtbot.wait(600)  # saved once the dragging stops
    again = _reopened(qtbot, window)
    assert (again.width(), again.height()) == (760, 540)
    assert PAGES[again.nav.currentRow()][0] == "ss_payment"
    assert "ss_payment" in again.views
    assert again.views["ss_payment"].table.columnWidth(1) == 234
    assert again.views["ss_payment"].model.rowCount() > 0  # the page is shown, not only chosen


def test_the_last_page_is_each_users_own(qtbot, window: MainWindow) -> None:
    settings.set_user_value("someone_else", "page", "outbox")
    if window.menus.start_home.isVisible():
        window.menus.start_home.trigger()
    window.show_page("household")
    assert settings.user_value("clerk", "page") == "household"
    assert settings.user_value("someone_else", "page") == "outbox"


def test_splitters_are_remembered_by_name(qtbot) -> None:
    def made() -> tuple[QWidget, QSplitter]:
        page = QWidget()
        qtbot.addWidget(page)
        splitter = QSplitter(page)
        splitter.setObjectName("test_splitter")
        splitter.addWidget(QTextEdit())
        splitter.addWidget(QTextEdit())
        QVBoxLayout(page).addWidget(splitter)
        page.resize(800, 400)
        page.show()
        qtbot.waitExposed(page)
        return page, splitter

    page, splitter = made()
    splitter.setSizes([600, 200])
    sizes = splitter.sizes()
    settings.save_splitters(page)
    page2, splitter2 = made()
    assert splitter2.sizes() != sizes
    assert settings.restore_splitters(page2) == 1
    assert splitter2.sizes() == sizes


def test_a_new_window_opens_at_its_default_size_the_first_time(qtbot) -> None:
    window = MainWindow(today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    assert not settings.restore_window(window)
    assert (window.width(), window.height()) == (1280, 780)
