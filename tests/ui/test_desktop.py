"""The desktop a clerk expects (issue 19): what the window remembers between runs (QSettings, in a
folder of the test's own), zoom, Qt's own dialogs in Chinese, exports that say where the file
went, the first run's account handover, backups to another folder — real widgets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QEventLoop, QLocale, QSettings, Qt, QTimer
from PySide6.QtGui import QDesktopServices, QFont, QFontMetrics, QTextLayout, QTextOption
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDateEdit,
    QFileDialog,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QSplitter,
    QStyleOptionViewItem,
    QTextEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.ui import form_fit, i18n, settings, zoom
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.tasks import run_task
from govshare_desktop.ui.window_pages import PAGES
from tests.conftest import TODAY

CTRL = Qt.KeyboardModifier.ControlModifier


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
    # the page is shown, not only chosen (its rows read off the UI thread)
    qtbot.waitUntil(lambda: again.views["ss_payment"].model.rowCount() > 0, timeout=10000)


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


# ---------------------------------------------------------------- zoom, font, headers


def test_zoom_grows_the_lists_and_the_form_and_is_remembered(qtbot, window: MainWindow) -> None:
    window.show_page("person")
    table = window.views["person"].table
    qtbot.waitUntil(lambda: table.model().rowCount() > 0, timeout=10000)  # read off the UI thread
    points, row, column = table.font().pointSizeF(), table.rowHeight(0), table.columnWidth(1)
    qtbot.keyClick(window, Qt.Key.Key_Equal, CTRL)  # Ctrl+=
    qtbot.keyClick(window, Qt.Key.Key_Equal, CTRL)
    assert window.menus.zoom.percent == 125
    assert table.font().pointSizeF() == pytest.approx(points * 1.25)
    assert table.rowHeight(0) > row and table.columnWidth(1) == round(
        round(column * 1.1) * 125 / 110
    )
    assert window.menus.zoom_label.text().startswith("缩放 125%")
    window.show_page("forms")  # built after the zoom: it is drawn at 125 % too
    forms = window.forms_view
    forms.template.setCurrentIndex(forms.template.findData("mz_elderly"))
    assert forms.table.font().pointSizeF() == pytest.approx(points * 1.25)
    assert forms.sheet.font().pointSizeF() == pytest.approx(points * 1.25)  # the form itself
    title = forms.sheet.sheet_model.index(0, 0)
    option = QStyleOptionViewItem()
    forms.sheet.itemDelegate().initStyleOption(option, title)
    assert option.font.pointSizeF() == pytest.approx(points * 1.25 * 1.6)  # its title too
    qtbot.keyClick(window, Qt.Key.Key_Minus, CTRL)
    assert window.menus.zoom.percent == 110
    assert settings.settings().value("zoom") in (110, "110")
    again = MainWindow(today=lambda: TODAY)  # the next start: the zoom it was left at
    qtbot.addWidget(again)
    assert again.menus.zoom.percent == 110
    qtbot.keyClick(window, Qt.Key.Key_0, CTRL)
    assert window.menus.zoom.percent == 100
    window.show_page("person")
    assert table.font().pointSizeF() == pytest.approx(points)
    assert abs(table.columnWidth(1) - column) <= 2


def test_the_default_font_is_at_least_ten_and_a_half_points(qapp) -> None:
    before = qapp.font()
    try:
        small = QFont(before)
        small.setPointSizeF(9)
        qapp.setFont(small)
        assert zoom.apply_default_font(qapp).pointSizeF() == 10.5
        assert qapp.font().pointSizeF() == 10.5
        large = QFont(before)
        large.setPointSizeF(12)
        qapp.setFont(large)
        assert zoom.apply_default_font(qapp).pointSizeF() == 12  # a bigger system font stays
    finally:
        qapp.setFont(before)


def _lines(text: str, font: QFont, width: float) -> list[str]:
    """How Qt's line breaker wraps ``text`` in ``width`` pixels (as an item view does)."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append(text[line.textStart() : line.textStart() + line.textLength()])
    layout.endLayout()
    return [line.replace(form_fit.JOINER, "").strip() for line in lines]


def test_headers_wrap_between_words_not_inside_them(qtbot, window: MainWindow) -> None:
    assert form_fit.words("60周岁及以上") == ["60周岁", "及以上"]
    assert form_fit.words("其中：80周岁及以上") == ["其中：", "80周岁", "及以上"]
    assert form_fit.words("领取养老保险待遇人数") == ["领取", "养老保险", "待遇", "人数"]
    font = QFont(window.font())
    font.setBold(True)
    metrics = QFontMetrics(font)
    width = metrics.horizontalAdvance("60周岁及以") + 1
    # Qt alone breaks inside the word; shown as the form view draws it, between the words.
    assert _lines("60周岁及以上", font, width) == ["60周岁及以", "上"]
    assert _lines(form_fit.breakable("60周岁及以上"), font, width) == ["60周岁", "及以上"]

    window.show_page("forms")
    forms = window.forms_view
    forms.template.setCurrentIndex(forms.template.findData("mz_elderly"))
    view = forms.sheet
    model = view.sheet_model
    natural = _natural(view)
    qtbot.waitUntil(  # laid out again for the width it has, once the resizing stopped
        lambda: sum(view.columnWidth(c) for c in range(model.columnCount())) > natural
    )
    found = [
        (r, c, cell) for r, c, cell in model.sheet if cell.role == "header" and "周岁" in cell.text
    ]
    assert {cell.text for *_, cell in found} >= {"60周岁及以上", "其中：80周岁及以上"}
    for r, c, cell in found:
        option = QStyleOptionViewItem()
        view.itemDelegate().initStyleOption(option, model.index(r, c))
        assert option.text == form_fit.breakable(cell.text)  # drawn with its words held
        inner = view.columnWidth(c) - 2 * form_fit.CELL_MARGIN
        lines = _lines(option.text, option.font, inner)
        assert "".join(lines) == cell.text
        for line in lines:  # every line is whole words
            assert any(line.endswith(w.strip()) for w in form_fit.words(cell.text)), lines
        height = (len(lines) + 0.5) * QFontMetrics(option.font).height()
        assert view.rowHeight(r) >= height  # and the row is tall enough to show them all
    # The form uses the width it has (up to 1.6 times its own), not a strip at the left.
    used = sum(view.columnWidth(c) for c in range(model.columnCount()))
    assert used <= view.viewport().width()
    assert used > 0.6 * view.viewport().width() or used >= 1.5 * natural
    view.grab().save("/tmp/form_headers.png")


def _natural(view) -> int:  # type: ignore[no-untyped-def]
    metrics = view.fontMetrics()
    char = metrics.horizontalAdvance("中")
    return sum(int(w * char + char) for w in view.sheet_model.sheet.column_widths)


# ---------------------------------------------------------------- Qt's dialogs in Chinese


def _texts(widget: QWidget) -> set[str]:
    found = {w.text() for w in widget.findChildren(QLabel)}
    found |= {w.text() for w in widget.findChildren(QAbstractButton)}
    return found


def test_qts_own_dialogs_speak_chinese(qtbot, qapp, tmp_path: Path) -> None:
    assert i18n.install_chinese(qapp)  # the catalogue is found (PySide6's translations)
    (tmp_path / "子文件夹").mkdir()
    (tmp_path / "名单.xlsx").write_bytes(b"x")
    dialog = QFileDialog(None, "导出到", str(tmp_path), "Excel 工作簿 (*.xlsx)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # Qt's own, as on Linux
    qtbot.addWidget(dialog)
    dialog.resize(900, 480)
    dialog.show()
    texts = _texts(dialog)
    assert (
        "查找范围(&L)：" in texts and "文件类型(&T)：" in texts
    )  # were 「Look in」/「Files of type」
    assert "文件名称(&N)：" in texts and "取消" in texts
    assert not [t for t in texts if re.search("[A-Za-z]{3,}", t.replace("Excel", ""))], texts
    view = dialog.findChild(QTreeView)
    model, root = view.model(), view.rootIndex()
    qtbot.waitUntil(lambda: model.rowCount(view.rootIndex()) == 2, timeout=5000)
    root = view.rootIndex()
    kinds = {model.index(r, 2, root).data() for r in range(model.rowCount(root))}
    assert "文件夹" in kinds, kinds  # the type column said 「Folder」
    dialog.grab().save("/tmp/file_dialog.png")
    printer = QPrinter()
    printing = QPrintDialog(printer)
    qtbot.addWidget(printing)
    printing.show()
    assert "奇偶页(&S)：" in _texts(printing)
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "问题",
        "继续？",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
    )
    qtbot.addWidget(box)
    assert {b.text() for b in box.buttons()} == {"是(&Y)", "否(&N)"}


def test_dates_read_year_first(qapp) -> None:
    i18n.install_chinese(qapp)
    edit = QDateEdit(QDate(2026, 11, 26))
    assert edit.text() == "2026/11/26"  # the Chinese locale's order (the widget's default)
    assert QLocale().toString(QDate(2026, 3, 12), i18n.DATE_FORMAT) == "2026-03-12"
    english = {"LANG": "en_US.UTF-8"}
    assert i18n.chinese_dates(english) and english["LC_TIME"] == "zh_CN.UTF-8"
    assert not i18n.chinese_dates({"LANG": "zh_CN.UTF-8"})
    assert not i18n.chinese_dates({"LC_ALL": "C"})  # LC_ALL would override it: left alone
    # Qt's own dialogs (the file dialog's 修改日期) write dates in the system locale: with
    # chinese_dates() before the application starts, year first even on an English system.
    code = (
        "import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from govshare_desktop.ui.i18n import chinese_dates; chinese_dates()\n"
        "from PySide6.QtCore import QCoreApplication, QDate, QLocale\n"
        "app = QCoreApplication([])\n"
        "print(QLocale.system().toString(QDate(2026, 3, 12), QLocale.FormatType.ShortFormat))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")} | {"LANG": "C"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip().startswith("2026"), out


# ---------------------------------------------------------------- exports


def test_the_progress_dialog_does_not_come_back_after_the_work(qtbot) -> None:
    """The work ends while its progress dialog waits to appear; the message that follows runs
    its own event loop (as QMessageBox.exec does) inside the program's: the dialog must stay
    gone — it came back over the message and blocked its 确定."""
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    seen: list[list[bool]] = []
    program = QEventLoop()  # the program's own loop (app.exec): what deferred deletes wait for

    def work(progress, _cancel):  # type: ignore[no-untyped-def]
        progress(0, 0, "正在导出……")  # arms QProgressDialog's own timer (minimumDuration)
        time.sleep(0.1)
        return 1

    def done(_result: object) -> None:
        message = QEventLoop()  # the message box's loop
        for ms in (200, 500, 800, 1100):
            QTimer.singleShot(
                ms,
                lambda: seen.append([d.isVisible() for d in parent.findChildren(QProgressDialog)]),
            )
        QTimer.singleShot(1300, message.quit)
        message.exec()
        program.quit()

    keep = []
    QTimer.singleShot(0, lambda: keep.append(run_task(parent, "正在导出……", work, done)))
    QTimer.singleShot(10_000, program.quit)
    program.exec()
    assert len(seen) == 4
    assert not any(any(states) for states in seen), seen


def test_exports_go_to_the_users_folder_and_offer_to_open_the_file(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    import govshare_desktop.ui.browse_view as browse_view

    opened: list[str] = []  # the system's opening of files: the one OS call patched
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    usb = tmp_path / "U盘"
    usb.mkdir()
    asked: list[Path] = []

    def choose(_parent, suggested: Path) -> Path:
        asked.append(suggested)
        return usb / suggested.name

    monkeypatch.setattr(browse_view, "ask_save_path", choose)
    if window.menus.start_home.isVisible():
        window.show_page("person")
    view = window.current_view
    with qtbot.waitSignal(view.exported, timeout=20000):
        view.export_list()
    default = settings.default_export_folder()
    assert asked[0].parent == default and default.is_dir()  # 文档/govshare 导出 (here: the test's)
    said = view.exported_message
    assert said is not None and said.isVisible() and str(usb) in said.text()
    buttons = {b.text(): b for b in said.buttons()}
    assert set(buttons) == {"打开文件", "打开所在文件夹", "确定"}
    qtbot.mouseClick(buttons["打开所在文件夹"], Qt.MouseButton.LeftButton)
    assert opened == [str(usb)]
    qtbot.waitUntil(lambda: not said.isVisible())
    with qtbot.waitSignal(view.exported, timeout=20000):
        view.export_list()  # the next export: where the last one went, remembered
    assert asked[1].parent == usb
    assert settings.user_value("clerk", "export_folder") == str(usb)
    qtbot.mouseClick(
        {b.text(): b for b in view.exported_message.buttons()}["打开文件"],
        Qt.MouseButton.LeftButton,
    )
    assert opened[-1] == str(usb / asked[1].name) and (usb / asked[1].name).exists()
    # another account starts from the default folder
    assert settings.export_folder("wang") == default


def test_a_form_export_offers_to_open_it_too(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    suggested: list[str] = []

    def save_as(_parent, _title, where, _filter):  # type: ignore[no-untyped-def]
        suggested.append(where)
        return str(tmp_path / Path(where).name), _filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    window.show_page("forms")
    forms = window.forms_view
    forms.template.setCurrentIndex(forms.template.findData("mz_elderly"))
    forms.output.export("pdf")
    qtbot.waitUntil(lambda: forms.output.exported_message is not None, timeout=20000)
    assert Path(suggested[0]).parent == settings.default_export_folder()
    said = forms.output.exported_message
    assert said.isVisible() and "已导出 1 份" in said.text()
    qtbot.mouseClick({b.text(): b for b in said.buttons()}["打开文件"], Qt.MouseButton.LeftButton)
    (pdf,) = forms.output.last_written
    assert opened == [str(pdf)] and pdf.parent == tmp_path
    assert settings.user_value("clerk", "export_folder") == str(tmp_path)


# ---------------------------------------------------------------- backups elsewhere


def test_a_backup_to_a_usb_stick_from_the_window(qtbot, tmp_path: Path, monkeypatch) -> None:
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.store.township import init_township
    from govshare_desktop.ui.backups_view import BackupsView

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password="Guanli#2026bk")
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    signin.add_account(setup.store, "li", Role.CLERK, "Qingshui#2026bk", must_change=False)
    setup.store.dispose()
    signed = signin.sign_in(db, "li", "Qingshui#2026bk")
    window = MainWindow(signed.store, today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    usb = tmp_path / "U盘"
    usb.mkdir()
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a: str(usb))
    window.menus.backup_elsewhere.trigger()  # 工具 → 备份到其他位置（U盘）…
    view = window.dialogs[-1].findChild(BackupsView)
    qtbot.waitUntil(lambda: view.message is not None, timeout=30000)
    copies = sorted(p.name for p in usb.iterdir())
    assert len(copies) == 2 and copies[0].endswith(".db") and copies[1].endswith(".db.keys")
    assert str(usb) in view.message.text()
    assert view.folder == usb and [f.path.parent for f in view.files] == [usb]
    qtbot.mouseClick(
        {b.text(): b for b in view.message.buttons()}["打开所在文件夹"], Qt.MouseButton.LeftButton
    )
    assert opened == [str(usb)]
    view.grab().save("/tmp/backups_usb.png")
    # Next time the stick is one of the places listed; taken out, the list says so.
    again = BackupsView(signed.store)
    qtbot.addWidget(again)
    again.place.setCurrentIndex(again.place.findData(str(usb)))
    again.reload()
    assert len(again.files) == 1
    usb.rename(tmp_path / "拔出")
    again.reload()
    assert again.files == [] and "U盘是否已插好" in again.where.text()
    assert not (db.parent / "backups").exists() or not list((db.parent / "backups").glob("*.db"))
    window.close()
    signed.store.dispose()


# ---------------------------------------------------------------- 合计, 有效期


def test_the_payments_list_shows_a_total_row(qtbot, window: MainWindow) -> None:
    from govshare_desktop.core.browse import PAYMENTS

    window.show_page("ss_payment")
    view = window.views["ss_payment"]
    row = view.total_row
    assert row is not None and row.isVisible()
    assert row.verticalHeaderItem(0).text() == "合计"

    def shown() -> dict[str, str]:
        return {c.key: row.item(0, i).text() for i, c in enumerate(PAYMENTS.columns)}

    def expected() -> tuple[int, int]:
        with window.store.engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT COUNT(*), SUM(total_fen) FROM ss_payment WHERE period = 202610"
            ).one()

    rows, fen = expected()
    qtbot.waitUntil(lambda: view.model.totals is not None, timeout=10000)  # off the UI thread
    assert view.model.rowCount() == rows
    assert shown()["total"] == f"{fen / 100:,.2f}" and shown()["id_number"] == f"共 {rows:,} 条"
    # filtered: the sum follows the search (in SQL: far more rows than the view has loaded)
    window.search.setText("王")
    qtbot.waitUntil(
        lambda: view.model.totals is not None and view.model.rowCount() < rows, timeout=10000
    )
    some = view.model.rowCount()
    assert shown()["id_number"] == f"共 {some:,} 条"
    total = sum(
        view.model.raw_row(r)[PAYMENTS.column_index("total")] for r in range(view.model.rowCount())
    )
    assert shown()["total"] == f"{total / 100:,.2f}"
    # under the list's columns: the same widths, dragged or zoomed
    view.table.setColumnWidth(5, 177)
    assert row.columnWidth(5) == 177
    qtbot.keyClick(window, Qt.Key.Key_Equal, CTRL)
    assert row.columnWidth(5) == view.table.columnWidth(5) != 177
    assert row.font().pointSizeF() == view.table.font().pointSizeF()
    window.grab().save("/tmp/payments_total.png")
    assert window.views.get("person") is None or window.views["person"].total_row is None


def test_the_add_user_dialog_has_the_expiry_the_cli_has(qtbot, tmp_path: Path) -> None:
    from govshare_desktop.core.security import signin
    from govshare_desktop.ui.admin import AccountDialog, UsersView

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password="Guanli#2026ex")
    setup.store.dispose()
    signed = signin.sign_in(db, "admin", "Guanli#2026ex")
    users = UsersView(signed.store)
    qtbot.addWidget(users)
    users.show()
    until = QDate.currentDate().addMonths(3)

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, AccountDialog):
            QTimer.singleShot(50, fill)
            return
        assert not dialog.until.isEnabled()  # 长期 unless asked
        dialog.username.setText("linshi")
        dialog.display.setText("临时工")
        dialog.password.setText("Xinmima#2026ex")
        dialog.limited.setChecked(True)
        dialog.until.setDate(until)
        dialog.grab().save("/tmp/add_user.png")
        dialog.accept()

    QTimer.singleShot(50, fill)
    users.add()
    account = next(a for a in signin.list_accounts(signed.store) if a.username == "linshi")
    assert account.expires_at == until.toPython()
    row = [a.username for a in users.accounts].index("linshi")
    assert users.table.item(row, 4).text() == until.toString("yyyy-MM-dd")
    assert users.table.item(0, 4).text() == "长期"  # admin: no limit
    signed.store.dispose()
