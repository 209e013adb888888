"""The 工作台 in the window, with pytest-qt on the demo township: the window opens on it (Ctrl+1),
one card per line of the desk, the overdue task in bold red; the arrow keys move between cards,
Enter or a click opens the card's page, the backup card backs up; the page is read afresh when shown;
the 审计管理员 gets an empty desk; a name typed in the search box on it goes to 人员."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import func, select

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import home, reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.models import Person, ReportTask
from govshare_desktop.ui import session_window
from govshare_desktop.ui.home_view import OK_COLOUR, OVERDUE_COLOUR, HomeView
from govshare_desktop.ui.main_window import MainWindow
from tests.conftest import TODAY
from tests.county import County

NOW = datetime(2026, 11, 26, 9, 30)
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def late_task(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The county's task for October, due 2026-11-20: four working days overdue on TODAY."""
    county = County()
    admin = window.store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, county.public_pem, code=county.code, name=county.name, now=NOW)
    path = tmp_path / "task.zip"
    path.write_bytes(county.task("mz_elderly", "2026-10", version="builtin", deadline="2026-11-20"))
    assert import_package(window.store, path, user="clerk", now=NOW).status == "applied"
    window.data_changed()  # as the import wizard does


def test_the_window_opens_on_the_desk(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    assert window.nav.currentItem().text() == "工作台" and window.nav.item(0).toolTip() == "Ctrl+1"
    view = window.home_view
    assert isinstance(view, HomeView) and window.stack.currentWidget() is view
    assert view.heading.text() == "青禾镇　2026年11月26日　星期四"
    assert "今天要办的事" in view.subheading.text()
    desk = home.desk(view.context())
    assert [c.item.key for c in view.cards] == [i.key for i in desk.items]
    assert window.search.hasFocus()  # as the window opens: type a name, or go down to the cards
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    assert view.cards[0].hasFocus()
    tasks = view.card("tasks")
    assert tasks is not None and tasks.count_label.text() == "✓"  # nothing to report yet
    assert OK_COLOUR in tasks.count_label.styleSheet()
    # Ctrl+N: 工作台 is Ctrl+1, so 人员 is Ctrl+3
    qtbot.keyClick(window, Qt.Key.Key_3, CTRL)
    assert window.nav.currentItem().text() == "人员"
    window.views["person"].table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_1, CTRL)
    assert window.stack.currentWidget() is view
    qtbot.waitUntil(view.cards[0].hasFocus)  # shown from another page: the keyboard on the cards
    shortcuts = {a.shortcut().toString(): a.text() for a in window.actions()}
    assert shortcuts["Ctrl+1"] == "工作台" and shortcuts["Ctrl+9"] == "比对核查"


def test_an_overdue_task_is_red_and_enter_opens_the_tasks_page(qtbot, window, late_task) -> None:  # type: ignore[no-untyped-def]
    view = window.home_view
    card = view.card("tasks")
    with window.store.sessions() as session:
        open_tasks = session.scalar(select(func.count()).select_from(ReportTask))
    assert card.count_label.text() == str(open_tasks) == "1"
    assert card.overdue and "1 项已逾期（最多 4 个工作日）" in card.detail_label.text()
    for label in (card.count_label, card.detail_label):
        assert OVERDUE_COLOUR in label.styleSheet() and "font-weight:bold" in label.styleSheet()
    assert "老年人口及高龄津贴情况统计表 2026年10月：已逾期 4 个工作日" in card.toolTip()
    assert "已逾期" in card.accessibleName()
    others = [c for c in view.cards if c is not card and not c.overdue]
    assert others and all(OVERDUE_COLOUR not in c.detail_label.styleSheet() for c in others)

    card.setFocus()
    qtbot.keyClick(card, Qt.Key.Key_Down)
    assert view.cards[1].hasFocus() and view.cards[1].item.key == "checks"
    qtbot.keyClick(view.cards[1], Qt.Key.Key_End)
    assert view.cards[-1].hasFocus()
    qtbot.keyClick(view.cards[-1], Qt.Key.Key_Home)
    assert card.hasFocus()
    qtbot.keyClick(card, Qt.Key.Key_Return)
    assert window.tasks_view is not None and window.stack.currentWidget() is window.tasks_view
    assert window.tasks_view.model.rowCount() == 1


def test_a_click_opens_the_card_and_the_desk_is_read_again_when_shown(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    view = window.home_view
    qtbot.mouseClick(view.card("corrections"), Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.corrections_view
    assert view.card("corrections").count_label.text() == "✓"
    with window.store.sessions() as session:
        person = session.scalars(select(Person).where(Person.status == "normal")).first()
    reports.raise_correction(
        Context(window.store, clock=lambda: NOW), dataset="person", record_key=person.id_number,
        field="联系电话", proposed="13800000000", basis="本人提供",
    )  # fmt: skip
    qtbot.keyClick(window, Qt.Key.Key_1, CTRL)
    card = view.card("corrections")
    assert card.count_label.text() == "1" and card.detail_label.text() == "1 项待发送"


def test_the_backup_card_backs_up(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    said: list[str] = []
    monkeypatch.setattr(session_window.QMessageBox, "information", lambda *a: said.append(a[2]))
    view = window.home_view
    card = view.card("backup")
    assert card.overdue and card.detail_label.text() == "还没有备份过；按回车立即备份"
    card.setFocus()
    qtbot.keyClick(card, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(said), timeout=20_000)
    assert said[0].startswith("已备份到：")
    window.show_page("person")
    window.show_page("home")
    card = view.card("backup")  # made on the computer's clock (the window's day is TODAY)
    assert card.detail_label.text().startswith(f"最近备份：{datetime.now():%Y-%m-%d}")


def test_the_audit_admin_has_nothing_to_do(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    auditor = MainWindow(demo_store.acting(Principal("zhao", Role.AUDITOR)), today=lambda: TODAY)
    qtbot.addWidget(auditor)
    auditor.show()
    view = auditor.home_view
    assert view is not None and view.cards == []
    assert "您的角色没有需要办理的事项" in view.subheading.text()


def test_a_name_typed_on_the_desk_is_looked_up_among_the_people(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "wf")  # pinyin initials
    assert window.nav.currentItem().text() == "人员"
    view = window.current_view
    qtbot.waitUntil(lambda: view.model.query.filters.get("search") == "wf", timeout=2000)
    assert view.model.rowCount() > 0
    assert window.search.hasFocus()  # typing goes on in the box


def test_a_panel_goes_beside_the_cards(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    from govshare_desktop.ui.home_view import HomeView

    view = HomeView(demo_store, lambda: datetime(2026, 11, 26, 9, 0))
    qtbot.addWidget(view)
    view.show()
    assert not view.side.isVisible()
    view.add_panel(QLabel("图表", view))
    assert view.side.isVisible()


def test_the_window_shows_the_townships_charts_beside_the_cards(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from govshare_desktop.ui.charts import ChartsPanel

    qtbot.waitUntil(lambda: window.charts_panel is not None, timeout=5000)
    panel = window.charts_panel
    assert isinstance(panel, ChartsPanel) and window.home_view.side.isVisible()
    assert panel.background  # worked out beside the window, shown when ready
    qtbot.waitUntil(lambda: panel.chart_set is not None, timeout=20000)
    assert panel.isVisible() and panel.message.isHidden()
    window.resize(1280, 760)  # a small screen: the charts one under another, scrolled
    qtbot.waitUntil(lambda: panel.columns == 1, timeout=3000)
    window.resize(2200, 1000)  # room for two a row
    qtbot.waitUntil(lambda: panel.columns == 2, timeout=3000)


def test_the_desk_reads_none_of_the_records(demo_store) -> None:  # type: ignore[no-untyped-def]
    """The cards are read on the UI thread whenever the page is shown (and at sign-in): they
    count tasks, cases, requests, packages and batches — never the records, whose tables grow
    with the township (bench: 8 ms at 200,000 households, ~0.1 s the first time)."""
    import re

    from sqlalchemy import event

    from govshare_desktop.core.records import COUNTED, DEPARTMENT_COUNTS

    records = {m.__tablename__ for m in COUNTED} | {m.__tablename__ for _, m in DEPARTMENT_COUNTS}
    assert {"person", "household", "ss_payment"} <= records
    said: list[str] = []

    def heard(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        said.append(statement)

    event.listen(demo_store.engine, "before_cursor_execute", heard)
    try:
        desk = home.desk(Context(demo_store, clock=lambda: NOW))
    finally:
        event.remove(demo_store.engine, "before_cursor_execute", heard)
    assert len(desk.items) >= 6 and said
    read = {t for s in said for t in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)', s, re.IGNORECASE)}
    assert "report_task" in read and "check_case" in read  # what the cards do count
    assert not read & records, read & records
