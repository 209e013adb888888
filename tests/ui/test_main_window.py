"""Main-window journeys with pytest-qt, offscreen, on a real demo township database."""

from datetime import date

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from govshare_desktop.core.domain import masking
from govshare_desktop.core.store.models import Enrollment, Person
from govshare_desktop.ui.records import HouseholdDialog, PersonCardDialog
from tests.conftest import TODAY


def _a_person(store, **where) -> Person:
    with store.sessions() as session:
        stmt = select(Person).where(Person.status == "normal").order_by(Person.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Person, key) == value)
        return session.scalars(stmt).first()


def _counted(window) -> bool:  # type: ignore[no-untyped-def]
    return "正在统计" not in window.statusBar().currentMessage()


def test_demo_data_is_labelled(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    assert "演示数据" in window.windowTitle()
    assert window.findChild(type(window.count_label), "demo_banner").isVisible()
    qtbot.waitUntil(lambda: _counted(window), timeout=10000)  # counted off the UI thread
    assert "户籍" in window.statusBar().currentMessage()
    assert "数据时点" in window.statusBar().currentMessage()


def _message_counts(store) -> str:  # type: ignore[no-untyped-def]
    """What the status bar should say the demo township holds, counted here by hand."""
    with store.engine.connect() as conn:
        n = {
            table: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
            for table in ("household", "person", "ss_enrollment", "ss_payment")
        }
    return (
        f"户籍 {n['household']:,} 户 / {n['person']:,} 人　｜　参保 {n['ss_enrollment']:,} 条"
        f"　｜　发放 {n['ss_payment']:,} 条"
    )


def test_the_status_bar_shows_where_at_once_and_the_counts_from_a_worker(
    qtbot, demo_store, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The path and 数据时点 as the window attaches; the counts, counted on a worker thread,
    when they arrive — the integrity check's notice in front of them in either order."""
    import threading

    from govshare_desktop.core import records
    from govshare_desktop.ui.main_window import MainWindow

    threads: list[threading.Thread] = []
    real = records.record_counts

    def counting(store, **kw):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real(store, **kw)

    monkeypatch.setattr(records, "record_counts", counting)
    window = MainWindow(demo_store, today=lambda: TODAY)
    qtbot.addWidget(window)
    message = window.statusBar().currentMessage
    as_of = records.latest_as_of(demo_store)
    assert as_of is not None
    # At once: where and when (no event has been processed, so no count can have arrived).
    assert f"数据库：{demo_store.path}" in message() and f"数据时点：{as_of}" in message()
    assert "户籍、参保、发放：正在统计……" in message()
    window.status_line.set_notice("正在检查数据库是否完好（检查完成前不能保存）……")
    assert message().startswith("正在检查数据库是否完好") and "正在统计" in message()
    qtbot.waitUntil(lambda: _counted(window), timeout=10000)
    assert threads and threads[0] is not threading.main_thread()
    assert message().startswith("正在检查数据库是否完好")  # the check's notice stays in front
    assert _message_counts(demo_store) in message() and f"数据时点：{as_of}" in message()
    window.status_line.set_notice("")  # the check has passed
    assert "正在检查" not in message() and _message_counts(demo_store) in message()
    window.status_line.set_notice("正在检查数据库是否完好（检查完成前不能保存）……")  # counts first
    assert "正在检查" in message() and _message_counts(demo_store) in message()
    window.status_line.set_notice("")
    window.statusBar().showMessage("已自动备份", 50)  # a message for a while gives the line back
    qtbot.waitUntil(lambda: _message_counts(demo_store) in message(), timeout=5000)


def test_the_counts_are_read_again_after_new_data(qtbot, window, demo_store) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: _counted(window), timeout=10000)
    before = _message_counts(demo_store)
    assert before in window.statusBar().currentMessage()
    with demo_store.engine.begin() as conn:
        conn.exec_driver_sql(
            "DELETE FROM ss_payment WHERE id IN (SELECT id FROM ss_payment LIMIT 3)"
        )
    after = _message_counts(demo_store)
    assert after != before
    window.data_changed()  # as the import wizard does
    qtbot.waitUntil(lambda: after in window.statusBar().currentMessage(), timeout=10000)


def test_a_count_stops_when_cancelled(demo_store) -> None:  # type: ignore[no-untyped-def]
    from govshare_desktop.core import records
    from govshare_desktop.core.progress import Cancel, Cancelled

    counts = records.record_counts(demo_store, cancel=Cancel())
    facts = records.summary(demo_store)
    assert (counts.households, counts.persons, counts.enrollments, counts.payments) == (
        facts.households,
        facts.persons,
        facts.enrollments,
        facts.payments,
    )
    assert counts.payments > 0
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled, match="已停止统计"):
        records.record_counts(demo_store, cancel=cancel)


def _shown(qtbot, view) -> int:  # type: ignore[no-untyped-def]
    """Until the list's rows and count are in (they are read off the UI thread): the count."""
    qtbot.waitUntil(lambda: not view.model.waiting and view.model.count is not None, timeout=10000)
    return int(view.model.count)


def test_search_by_name_then_open_person_card(qtbot, window, demo_store) -> None:
    person = _a_person(demo_store)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, person.id_number)  # typed; results follow as you type
    view = window.current_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=2000)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)  # a single match opens its card
    qtbot.waitUntil(lambda: any(isinstance(d, PersonCardDialog) for d in window.dialogs))
    card = next(d for d in window.dialogs if isinstance(d, PersonCardDialog))
    assert card.card.id_number == person.id_number
    assert masking.mask_name(person.name) in card.windowTitle()
    assert person.name not in card.windowTitle() or len(person.name) == 1


def test_search_by_pinyin_initials_lists_matches(qtbot, window, demo_store) -> None:
    person = _a_person(demo_store)
    window.search.setText(person.name_initials)
    view = window.current_view
    qtbot.waitUntil(lambda: view.model.query.filters.get("search") == person.name_initials)
    _shown(qtbot, view)
    assert view.model.rowCount() >= 1
    assert person.id in [view.model.row_id(r) for r in range(view.model.rowCount())]
    qtbot.keyClick(window.search, Qt.Key.Key_Down)  # hands over to the results
    assert view.table.hasFocus()
    assert view.table.currentIndex().row() == 0
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(isinstance(d, PersonCardDialog) for d in window.dialogs))


def test_escape_clears_search(qtbot, window) -> None:
    window.search.setText("王")
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == ""


def test_household_view_lists_members_and_opens_a_card(qtbot, window, demo_store) -> None:
    window.show_page("household")
    view = window.current_view
    assert view.dataset.key == "household"
    _shown(qtbot, view)
    view.select_first()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(isinstance(d, HouseholdDialog) for d in window.dialogs))
    dialog = next(d for d in window.dialogs if isinstance(d, HouseholdDialog))
    assert dialog.members.rowCount() >= 1
    relationships = [dialog.members.item(r, 0).text() for r in range(dialog.members.rowCount())]
    assert relationships.count("户主") == 1
    dialog.members.setCurrentCell(0, 0)
    dialog.members.activated.emit(dialog.members.currentIndex())
    qtbot.waitUntil(lambda: any(isinstance(d, PersonCardDialog) for d in window.dialogs))


def test_person_card_shows_enrollments_and_payments(qtbot, window, demo_store) -> None:
    with demo_store.sessions() as session:
        receiver = session.scalars(
            select(Enrollment).where(Enrollment.receiving.is_(True)).order_by(Enrollment.id)
        ).first()
    card = window.open_person(receiver.id_number)
    assert card is not None
    assert card.enrollments.rowCount() >= 1
    assert card.payments.rowCount() >= 1
    schemes = [card.enrollments.item(r, 0).text() for r in range(card.enrollments.rowCount())]
    assert "城乡居民基本养老保险" in schemes


def test_social_security_only_people_are_shown_as_such(qtbot, window, demo_store) -> None:
    window.show_page("ss_enrollment")
    view = window.current_view
    view.set_filter("registry", "out")
    _shown(qtbot, view)
    assert view.model.rowCount() > 0
    registry = view.dataset.column_index("registry")
    assert view.model.data(view.model.index(0, registry)) == "非本镇户籍"
    view.select_first()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(isinstance(d, PersonCardDialog) for d in window.dialogs))
    card = next(d for d in window.dialogs if isinstance(d, PersonCardDialog))
    assert not card.card.in_registry
    assert "非本镇户籍" in card.findChild(type(window.count_label), "registry_badge").text()


def test_village_filter_and_counts(qtbot, window) -> None:
    window.show_page("person")  # the window opens on the 工作台
    view = window.current_view
    everyone = _shown(qtbot, view)
    window.village.setCurrentIndex(window.village.findText("东岭村委会"))
    assert 0 < _shown(qtbot, view) < everyone  # the rows, then their count, off the UI thread
    assert "当前列表" in window.count_label.text()
    assert f"{view.model.count:,} 条" in window.count_label.text()


def test_unmasking_needs_a_reason(qtbot, window, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    window.unmask_action.trigger()
    assert window.masked and not window.unmask_action.isChecked()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("核对养老金发放", True))
    window.unmask_action.trigger()
    assert not window.masked
    window.show_page("person")
    _shown(qtbot, window.current_view)
    id_col = window.current_view.dataset.column_index("id_number")
    assert "*" not in window.current_view.model.data(window.current_view.model.index(0, id_col))


def test_payments_default_to_latest_month(qtbot, window) -> None:
    window.show_page("ss_payment")
    view = window.current_view
    assert view.model.query.filters.get("period") == 202610
    combo = view.findChild(type(window.village), "filter_period")
    assert combo.currentText() == "2026年10月"


def test_import_from_the_window_refreshes_the_pages(qtbot, window, demo_store, tmp_path) -> None:
    from govshare_desktop.core.domain import idnumber
    from govshare_desktop.ui.import_wizard import ImportWizard

    number = idnumber.make("441900", date(1990, 5, 6), 321, male=True)
    path = tmp_path / "new.csv"
    path.write_text(
        f"公民身份号码,姓名,所属村（社区）\n{number},新来人,东岭村委会\n", encoding="utf-8"
    )
    window.show_page("person")
    before = _shown(qtbot, window.current_view)
    assert window.import_action.isEnabled()
    wizard = window.open_import([path])
    assert isinstance(wizard, ImportWizard) and wizard.files_page.list.count() == 1
    for page in (wizard.mapping_page, wizard.preview_page, wizard.result_page):
        wizard.next()
        qtbot.waitUntil(lambda p=page: wizard.currentPage() is p and p.isComplete(), timeout=20_000)
    # The township's persons not in this (full) file are marked absent, not deleted: all still listed.
    qtbot.waitUntil(lambda: window.current_view.model.count == before + 1, timeout=5000)
    window.search.setText(number)
    window._apply_filters()
    assert _shown(qtbot, window.current_view) == 1 == window.current_view.model.rowCount()
