"""目录与共享 in the window, with pytest-qt on the demo township and the county platform's catalog
(tests/core/test_sharing.py's four entries): the catalog searched by pinyin and filtered, a 不予
entry refused with its basis, a request drafted in the dialog (a missing field said in red, the
dialog staying), approved by the 审核人, sent into a folder, overdue in bold red, its 催办函
printed; the register with data past its 使用期限, and that warning on the browse page and before
a list export. Only the modal dialogs' answers are patched."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFileDialog, QMessageBox
from sqlalchemy import update

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import sharing
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import ShareRequest
from govshare_desktop.ui import browse_view
from govshare_desktop.ui.correction_dialog import ERROR_STYLE
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.sharing_view import (
    H_UNTIL,
    Q_DEADLINE,
    Q_STATE,
    R_FRESH,
    R_NAME,
    SharingView,
)
from govshare_desktop.ui.tasks_view import OVERDUE
from tests.conftest import TODAY
from tests.core.test_sharing import PLATFORM, _catalog
from tests.county import County, pdf_text

BEFORE = datetime(2026, 11, 20, 9, 30)  # the catalog came the week before the window's day
CARDS, FIRMS, REGISTRY, LAND = "4419-CL-0002", "4419-SC-0007", "4419-GA-0001", "4419-ZR-0003"


def _click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _with_catalog(store: Store, tmp_path: Path) -> None:
    """The county platform registered as a sender, and its catalog package applied."""
    platform = County(code="441900000000", name=PLATFORM)
    admin = store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, platform.public_pem, code=platform.code, name=platform.name, now=BEFORE)
    path = tmp_path / "catalog.zip"
    path.write_bytes(_catalog(platform))
    done = import_package(store, path, user="clerk", now=BEFORE)
    assert done.status == "applied", done.message


def _page(window) -> SharingView:  # type: ignore[no-untyped-def]
    """The 目录与共享 page, shown (and so read afresh)."""
    if window.sharing_view is not None and window.sharing_view.isVisible():
        window.show_page("outbox")
    window.show_page("sharing")
    view = window.sharing_view
    assert view is not None and view.isVisible()
    return view


def _names(view: SharingView) -> list[str]:
    return [r.name for r in view.resources.rows]


def _select_resource(view: SharingView, code: str) -> None:
    view.catalog_table.selectRow([r.code for r in view.resources.rows].index(code))


def _draft(store: Store, code: str, items: list[str], when: datetime = BEFORE, **changes):  # type: ignore[no-untyped-def]
    fields = {
        "purpose": "核对补贴对象",
        "basis": "《政务数据共享条例》",
        "scope": "本镇户籍人员",
        "use_until": date(2027, 12, 31),
    }
    return sharing.draft_request(
        Context(store, clock=lambda: when), resource_code=code, items=items, **(fields | changes)
    )


def test_the_catalog_is_searched_and_a_request_drafted(
    qtbot, qtmodeltester, window, tmp_path: Path
) -> None:
    _with_catalog(window.store, tmp_path)
    view = _page(window)
    assert window.nav.currentItem().text() == "目录与共享"
    assert view.tabs.tabText(view.tabs.currentIndex()) == "目录"
    qtmodeltester.check(view.resources)
    assert view.resources.rowCount() == 4
    assert "目录共 4 项资源（无条件 1、有条件 2、不予 1）" in view.catalog_note.text()
    assert view.resources.index(0, R_FRESH).data().startswith("20")  # the demo's 户籍 back-flow

    # As you type: the name's pinyin initials; the entry in full below.
    qtbot.keyClicks(view.search, "hjrk")
    qtbot.waitUntil(lambda: _names(view) == ["户籍人口基本信息"], timeout=3000)
    assert "公民身份号码、姓名、性别、出生日期、住址" in view.detail.text()
    assert "共享条件：</b>用于履行法定职责" in view.detail.text()
    view.search.clear()
    view.load_catalog()  # the timer's work, now
    view.share_type.setCurrentIndex(view.share_type.findData("不予"))
    assert _names(view) == ["不动产登记信息"]
    assert not view.request_button.isEnabled()
    assert "不予共享资源，不能申请" in view.refusal.text()
    assert "《不动产登记暂行条例》第二十七条" in view.refusal.text()
    assert view.open_request() is None
    view.share_type.setCurrentIndex(0)  # 全部
    assert view.resources.rowCount() == 4

    # Enter on the list opens 申请共享 for the selected entry.
    _select_resource(view, CARDS)
    assert view.request_button.isEnabled() and not view.refusal.text()
    view.catalog_table.setFocus()
    qtbot.keyClick(view.catalog_table, Qt.Key.Key_Return)
    dialog = view.dialog
    assert dialog is not None and dialog.isVisible() and dialog.resource.code == CARDS
    assert [box.text() for box in dialog.items] == ["公民身份号码", "姓名", "残疾类别", "残疾等级"]
    assert dialog.until.displayFormat().startswith("yyyy年")
    _click(qtbot, dialog.ok)  # nothing ticked
    assert "请选择要申请的信息项" in dialog.error.text() and dialog.isVisible()
    assert dialog.error.styleSheet() == ERROR_STYLE
    dialog.items[0].setChecked(True)
    dialog.items[3].setChecked(True)
    dialog.purpose.setText("核对重度残疾人护理补贴对象")
    dialog.basis.setText("《政务数据共享条例》；民政部门履职需要")
    _click(qtbot, dialog.ok)  # no 范围
    assert dialog.error.text() == "共享申请须写明范围" and dialog.isVisible()
    dialog.scope.setText("本镇户籍的补贴对象")
    dialog.until.setDate(QDate(2026, 11, 1))
    _click(qtbot, dialog.ok)
    assert "已过" in dialog.error.text() and dialog.isVisible()
    dialog.until.setDate(QDate(2027, 6, 30))
    _click(qtbot, dialog.ok)
    assert not dialog.isVisible()

    (made,) = sharing.request_list(Context(window.store))
    assert (made.resource_code, made.items, made.use_until) == (
        CARDS,
        "公民身份号码、残疾等级",
        date(2027, 6, 30),
    )
    assert view.requests.index(0, Q_STATE).data() == "待审核"
    assert view.requests.index(0, Q_DEADLINE).data() == "发送后计算"
    assert "已提出共享申请：残疾人证信息" in view.requests_status.text()
    assert "1 项待审核" in view.requests_note.text()


def test_a_request_is_approved_sent_and_urged(
    qtbot, qtmodeltester, window, tmp_path: Path, monkeypatch
) -> None:
    _with_catalog(window.store, tmp_path)
    cards = _draft(window.store, CARDS, ["公民身份号码", "残疾等级"])
    firms = _draft(window.store, FIRMS, ["企业名称"])
    view = _page(window)
    view.tabs.setCurrentIndex(1)
    view.requests_table.selectRow(0)
    assert view.selected_request() is not None
    assert not view.approve_button.isEnabled()  # a clerk does not approve
    assert "审核人" in view.approve_button.toolTip()
    assert not view.send_button.isEnabled() and not view.urge_button.isEnabled()

    # The 审核人 approves both in a window of their own.
    reviewer = MainWindow(
        window.store.acting(Principal("shen", Role.REVIEWER)), today=lambda: TODAY
    )
    qtbot.addWidget(reviewer)
    reviewer.show()
    page = _page(reviewer)
    page.tabs.setCurrentIndex(1)
    for _request in (cards, firms):
        page.requests_table.selectRow(
            [r.state for r in page.requests.rows].index("draft")  # the first still waiting
        )
        _click(qtbot, page.approve_button)
        assert "已审核通过" in page.requests_status.text()
    assert {r.state_label for r in page.requests.rows} == {"待发送"}
    assert not page.approve_button.isEnabled()

    # The clerk sends them: one signed package into the folder chosen.
    view = _page(window)  # read afresh when shown
    assert view.send_button.isEnabled()
    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    _click(qtbot, view.send_button)
    # with the receipt for the catalog, which had not been written yet: in their order
    qtbot.waitUntil(lambda: "已写入 2 个数据包" in view.requests_status.text(), timeout=10000)
    receipt, package = sorted(usb.glob("*.zip"))
    assert receipt.name.endswith("_receipt.zip") and package.name.endswith("_share_request.zip")
    assert package.name in view.requests_status.text()
    deadlines = {r.resource_code: view.requests.index(n, Q_DEADLINE).data()
                 for n, r in enumerate(view.requests.rows)}  # fmt: skip
    assert deadlines == {FIRMS: "2026-11-27（周五）", CARDS: "2026-12-10（周四）"}
    assert {r.state_label for r in view.requests.rows} == {"已发送"}
    assert not view.send_button.isEnabled()
    window.show_page("outbox")
    assert window.outbox_view.model.index(0, 1).data() == "共享申请"

    # A week on, the 无条件 one is overdue: bold red, and its 催办函 printed.
    view = _page(window)
    view.clock = lambda: datetime(2026, 12, 2, 9, 0)  # Wednesday
    view.refresh()
    qtmodeltester.check(view.requests)
    late = [r.resource_code for r in view.requests.rows].index(FIRMS)
    state = view.requests.index(late, Q_STATE)
    assert state.data() == "超期（3 个工作日）"
    assert state.data(Qt.ItemDataRole.ForegroundRole).color() == OVERDUE
    font = view.requests.index(late, 0).data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    other = view.requests.index(1 - late, Q_STATE)
    assert other.data() == "已发送" and other.data(Qt.ItemDataRole.FontRole) is None
    assert "1 项超期未答复" in view.requests_note.text()

    opened: list[str] = []
    monkeypatch.setattr(
        "PySide6.QtGui.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile())
    )
    letter = tmp_path / "催办函.pdf"
    chosen = (str(tmp_path / "催办函"), "PDF 文件 (*.pdf)")  # the suffix is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: chosen)
    _click(qtbot, view.urge_button)
    qtbot.waitUntil(lambda: opened == [str(letter)], timeout=10000)
    text = pdf_text(letter.read_bytes())
    assert "共享申请催办函" in text and "企业登记基本信息" in text
    assert "残疾人证信息" not in text  # not late
    assert "已生成催办函（1 项超期申请）" in view.requests_status.text()


def test_data_past_its_use_period_is_flagged(
    qtbot, qtmodeltester, window, tmp_path: Path, monkeypatch
) -> None:
    """A request for 户籍人口基本信息 whose data came (the core's tests follow the packages that
    bring it; here it is marked 已收到 directly) and whose 使用期限 is past on the window's day."""
    _with_catalog(window.store, tmp_path)
    request = _draft(window.store, REGISTRY, ["姓名"], use_until=date(2026, 11, 25))
    with window.store.transaction() as session:
        session.execute(
            update(ShareRequest)
            .where(ShareRequest.request_id == request.request_id)
            .values(state="received")
        )
    view = _page(window)
    view.tabs.setCurrentIndex(2)
    qtmodeltester.check(view.holdings)
    titles = [h.dataset for h in view.holdings.rows]
    person = view.holdings.index(titles.index("person"), H_UNTIL)
    assert person.data() == "2026-11-25（已超过使用期限）"
    assert person.data(Qt.ItemDataRole.ForegroundRole).color() == OVERDUE
    household = view.holdings.index(titles.index("household"), H_UNTIL)
    assert household.data() == "—" and household.data(Qt.ItemDataRole.ForegroundRole) is None
    assert view.holdings.index(titles.index("household"), 3).data() == "数据回流"
    assert "已超过使用期限" in view.register_note.text()

    # The 人员 page says so (a line, not a dialog) once data arrives or the page is built …
    window.data_changed()
    window.show_page("person")
    people = window.views["person"]
    assert people.use_warning.isVisible()
    assert "使用期限已于 2026-11-25 届满" in people.use_warning.text()
    window.show_page("household")
    assert not window.views["household"].use_warning.isVisible()

    # … and asks before a list export: 取消 stops it, 继续 goes on to the file.
    window.show_page("person")
    asked: list[str] = []
    saved: list[Path] = []
    answer = [False]
    monkeypatch.setattr(
        browse_view, "ask_past_use_period", lambda _p, text: asked.append(text) or answer[0]
    )
    monkeypatch.setattr(
        browse_view, "ask_save_path", lambda _p, suggested: saved.append(suggested) or None
    )
    assert people.export_list() is None
    assert len(asked) == 1 and "届满" in asked[0] and saved == []
    answer[0] = True
    people.export_list()
    assert len(asked) == 2 and len(saved) == 1


def test_the_page_has_no_ctrl_digit_and_is_reached_from_the_list(window) -> None:
    shortcuts = {a.shortcut().toString() for a in window.actions()}
    assert "Ctrl+0" not in shortcuts and "Ctrl+9" in shortcuts
    item = window.nav.item(window.nav.count() - 1)
    assert item.text() == "目录与共享" and not item.toolTip()
    window.nav.setCurrentRow(window.nav.count() - 1)
    assert window.stack.currentWidget() is window.sharing_view
    assert "还没有目录" in window.sharing_view.catalog_note.text()
    assert window.sharing_view.resources.index(0, R_NAME).data() is None
