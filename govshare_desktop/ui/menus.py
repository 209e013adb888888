"""The main window's menu bar: 文件 / 编辑 / 查看 / 数据 / 报表 / 工具 / 帮助, each action with its
shortcut shown beside it, as a clerk who lives in WPS expects.

The menus hold the window's own actions (导入回流数据 Ctrl+I, 查找 Ctrl+F, the pages Ctrl+1 …,
显示完整信息) — one action each, never a second with the same shortcut — and add what has no
button of its own: 导出 Excel (Ctrl+E) and 打印 (Ctrl+P) of the page shown, 注销/切换用户, 退出
(Ctrl+Q), 锁定 (Ctrl+L), the administrators' tabs (each opened in a dialog where the window shows
residents' data), 快捷键 and 关于. What the signed-in role may not do is hidden
(:meth:`Menus.attach`); what the page shown cannot do is greyed out.

Like the main window, this module loads only Qt at import.
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.ui.window_pages import PAGE_KEYS, PAGES

if TYPE_CHECKING:
    from govshare_desktop.core.store.engine import Store
    from govshare_desktop.ui.main_window import MainWindow

MENUS = ("文件", "编辑", "查看", "数据", "报表", "工具", "帮助")
MNEMONICS = dict(zip(MENUS, "FEVDRTH", strict=True))  # Alt+F opens 文件 …
DATA_PAGES = ("household", "person", "ss_enrollment", "ss_payment")
CHECK_PAGES = ("checks", "corrections", "sharing")
REPORT_PAGES = ("forms", "tasks", "outbox")
HOME = "home"  # the 工作台, when the window has one


def plain(title: str) -> str:
    """A menu's or action's text without its mnemonic: 「文件(&F)」 → 「文件」."""
    return title.split("(&")[0].replace("&", "")


class Menus(QObject):
    """The menu bar of ``window``. ``menus[title]`` is each menu; the actions it makes are
    attributes (``export``, ``print``, ``sign_out``, ``quit``, ``lock``, ``about`` …)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.store: Store | None = None
        bar = window.menuBar()
        bar.setObjectName("menu_bar")
        self.menus: dict[str, QMenu] = {}
        for title in MENUS:
            menu = bar.addMenu(f"{title}(&{MNEMONICS[title]})")
            menu.setObjectName(f"menu_{title}")
            menu.aboutToShow.connect(self.update)
            self.menus[title] = menu
        self.export = self._action("导出 Excel…", "Ctrl+E", self.export_current, "export_excel")
        self.export.setToolTip("把本页的名单或报表导出为 Excel 工作簿")
        self.export_pdf = self._action("导出 PDF…", "", self.export_current_pdf, "export_pdf")
        self.print = self._action("打印…", "Ctrl+P", self.print_current, "print")
        self.sign_out = self._action("注销/切换用户…", "", window.switch_user, "sign_out")
        self.quit = self._action("退出", "Ctrl+Q", window.close, "quit")
        self.lock = self._action("锁定", "Ctrl+L", window.lock, "lock")
        self.lock.setToolTip("离开座位时锁定：隐藏个人信息，输入密码后继续")
        self.password = self._action("修改密码…", "", self.change_password, "change_password")
        self.backup = self._action("立即备份", "", window.backup_now, "backup_now")
        self.backup_elsewhere = self._action(
            "备份到其他位置（U盘）…", "", self.back_up_elsewhere, "backup_elsewhere"
        )
        self.shortcuts = self._action("快捷键一览", "F1", self.show_shortcuts, "shortcuts")
        self.about = self._action("关于 govshare-desktop…", "", self.show_about, "about")
        self.start_home = self._action(
            "启动时显示工作台", "", self._start_home_toggled, "start_home"
        )
        self.start_home.setCheckable(True)
        self.start_home.setChecked(True)
        self.start_home.setToolTip("不勾选时，登录后回到上次离开时的页面")
        self.start_home.setVisible(HOME in PAGE_KEYS)
        self.tools: list[QAction] = []  # the administrators' tabs, made in attach()
        self._zoom_actions(window)
        self._fill()
        self._splitters_restored: set[int] = set()
        window.nav.currentRowChanged.connect(self._page_shown)
        window.stack.currentChanged.connect(self._restore_splitters)

    def _zoom_actions(self, window: MainWindow) -> None:
        """放大 / 缩小 / 实际大小 of the pages (the lists and the form view)."""
        from govshare_desktop.ui.zoom import Zoom

        self.zoom_label = QLabel(window)
        self.zoom_label.setObjectName("zoom_label")
        window.statusBar().addPermanentWidget(self.zoom_label)
        self.zoom = Zoom(window.stack)
        self.zoom.zoomed.connect(self._zoomed)
        self._zoomed(self.zoom.percent)
        self.zoom_in = self._action("放大", "Ctrl+=", self.zoom.zoom_in, "zoom_in")
        self.zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.zoom_out = self._action("缩小", "Ctrl+-", self.zoom.zoom_out, "zoom_out")
        self.zoom_reset = self._action("实际大小", "Ctrl+0", self.zoom.reset, "zoom_reset")

    def _zoomed(self, percent: int) -> None:
        self.zoom_label.setText(f"缩放 {percent}% ")
        self.zoom_label.setVisible(percent != 100)

    def _action(self, text: str, shortcut: str, slot: Callable[[], object], name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"menu_action_{name}")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _fill(self) -> None:
        w = self.window
        pages = w.page_actions
        m = self.menus
        m["文件"].addActions([w.import_action, self.export, self.export_pdf, self.print])
        m["文件"].addSeparator()
        m["文件"].addActions([self.lock, self.sign_out, self.quit])
        m["编辑"].addActions([w.find_action, w.unmask_action])
        m["编辑"].addSeparator()
        m["编辑"].addAction(self.password)
        m["查看"].addActions([pages[key] for key, _title in PAGES if key in pages])
        m["查看"].addSeparator()
        m["查看"].addActions([self.zoom_in, self.zoom_out, self.zoom_reset])
        m["查看"].addSeparator()
        m["查看"].addAction(self.start_home)
        m["数据"].addActions([pages[k] for k in DATA_PAGES if k in pages])
        m["数据"].addSeparator()
        m["数据"].addActions([w.import_action, self.export])
        m["数据"].addSeparator()
        m["数据"].addActions([pages[k] for k in CHECK_PAGES if k in pages])
        m["报表"].addActions([pages[k] for k in REPORT_PAGES if k in pages])
        m["报表"].addSeparator()
        m["报表"].addActions([self.export, self.export_pdf, self.print])
        m["工具"].addActions([self.backup, self.backup_elsewhere])
        m["帮助"].addActions([self.shortcuts, self.about])

    # ---------------------------------------------------------------- the signed-in user

    def attach(self, store: Store) -> None:
        """Show what the signed-in role may do: the pages for whoever sees residents' data, the
        administrators' tabs each as a 工具 entry."""
        from govshare_desktop.core.security.permissions import Action
        from govshare_desktop.ui.admin import admin_tabs

        self.store = store
        principal = store.principal
        residents = principal.role is None or principal.may(Action.VIEW)
        for action in self.window.page_actions.values():
            action.setVisible(residents)
        for title in ("数据", "报表"):
            self.menus[title].menuAction().setVisible(residents)
        self.window.find_action.setVisible(residents)
        self.window.unmask_action.setVisible(principal.may(Action.UNMASK))
        for action in (self.export, self.export_pdf, self.print):
            action.setVisible(residents)
        self.backup.setVisible(principal.may(Action.BACKUP))
        self.backup_elsewhere.setVisible(principal.may(Action.BACKUP))
        tools = self.menus["工具"]
        for action in self.tools:
            tools.removeAction(action)
        self.tools = []
        if self.backup.isVisible():
            tools.addSeparator()
        for title, _make in admin_tabs(store):
            action = self._action(f"{title}…", "", self._tab_opener(title), f"tool_{title}")
            tools.addAction(action)
            self.tools.append(action)
        if residents:
            self._restore_page(principal.username)
        self.update()

    # ---------------------------------------------------------------- remembered

    def _restore_page(self, user: str) -> None:
        """The page the user left last time — unless the 工作台 opens first (查看 → 启动时显示工作台,
        on by default). Chosen before the window shows its first page (signals held: the window
        shows it once attached)."""
        from govshare_desktop.ui.settings import user_value

        self.start_home.blockSignals(True)
        self.start_home.setChecked(user_value(user, "start_home", "1") == "1")
        self.start_home.blockSignals(False)
        last = user_value(user, "page")
        start = HOME if HOME in PAGE_KEYS and self.start_home.isChecked() else last
        if start in PAGE_KEYS:
            nav = self.window.nav
            nav.blockSignals(True)
            nav.setCurrentRow(PAGE_KEYS.index(start))
            nav.blockSignals(False)

    def _start_home_toggled(self) -> None:
        from govshare_desktop.ui.settings import set_user_value

        if self.store is not None:
            on = "1" if self.start_home.isChecked() else "0"
            set_user_value(self.store.principal.username, "start_home", on)

    def _page_shown(self, _row: int) -> None:
        """The page is remembered for the signed-in user; the menus follow it."""
        from govshare_desktop.ui.settings import set_user_value

        page = self._page()
        if self.store is not None and page:
            set_user_value(self.store.principal.username, "page", page)
        self.update()

    def _restore_splitters(self, _index: int) -> None:
        """A page's splitters as they were, the first time it is shown."""
        from govshare_desktop.ui.settings import restore_splitters

        page = self.window.stack.currentWidget()
        if page is not None:
            self.zoom.adopt(page)  # its lists follow the zoom
        if page is not None and id(page) not in self._splitters_restored:
            self._splitters_restored.add(id(page))
            restore_splitters(page)

    def _tab_opener(self, title: str) -> Callable[[], object]:
        return lambda: self.open_tool(title)

    def open_tool(self, title: str) -> QWidget | None:
        """An administrator's tab: brought forward in the 系统管理员's window, else in a dialog."""
        from govshare_desktop.ui.admin import AdminPanel, admin_tabs

        panel = self.window.findChild(AdminPanel)
        if panel is not None and panel.show_tab(title):
            return panel
        if self.store is None:
            return None
        makers = dict(admin_tabs(self.store))
        if title not in makers:
            return None
        dialog = QDialog(self.window)
        dialog.setObjectName(f"tool_dialog_{title}")
        dialog.setWindowTitle(title)
        dialog.resize(1000, 600)
        layout = QVBoxLayout(dialog)
        layout.addWidget(makers[title](self.store, dialog), 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        self.window._show_dialog(dialog)
        return dialog

    def back_up_elsewhere(self) -> None:
        """备份到其他位置（U盘）: 备份与恢复, asking for the folder straight away."""
        from govshare_desktop.ui.backups_view import BackupsView

        place = self.open_tool("备份与恢复")
        view = place.findChild(BackupsView) if place is not None else None
        if view is not None:
            view.backup_elsewhere()

    # ---------------------------------------------------------------- the page shown

    def _page(self) -> str:
        row = self.window.nav.currentRow()
        return PAGES[row][0] if 0 <= row < len(PAGES) else ""

    def update(self) -> None:
        """Grey out what the page shown cannot do."""
        page = self._page()
        ready = self.store is not None
        lists = ready and page in DATA_PAGES  # (its view is built after this is called)
        forms = ready and page == "forms"
        self.export.setEnabled(lists or forms)
        self.export_pdf.setEnabled(forms)
        self.print.setEnabled(forms)
        self.sign_out.setEnabled(ready)
        self.password.setEnabled(
            ready and self.store is not None and self.store.principal.role is not None
        )

    def export_current(self) -> None:
        """导出 Excel: the list shown (every row, as 「导出 Excel…」 on the page), or the form."""
        page = self._page()
        if page in self.window.views:
            self.window.views[page].export_list()
        elif page == "forms" and self.window.forms_view is not None:
            self.window.forms_view.output.export("xlsx")

    def export_current_pdf(self) -> None:
        if self._page() == "forms" and self.window.forms_view is not None:
            self.window.forms_view.output.export("pdf")

    def print_current(self) -> None:
        if self._page() == "forms" and self.window.forms_view is not None:
            self.window.forms_view.output.print_()

    # ---------------------------------------------------------------- dialogs

    def change_password(self) -> QDialog | None:
        from govshare_desktop.ui.signin import ChangePasswordDialog

        if self.store is None:
            return None
        dialog = ChangePasswordDialog(self.store, forced=False, parent=self.window)
        self.window._show_dialog(dialog)
        return dialog

    def show_about(self) -> QDialog:
        from govshare_desktop.ui.about import AboutDialog

        dialog = AboutDialog(self.store, self.window)
        self.window._show_dialog(dialog)
        return dialog

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """Every action with a shortcut, in menu order: (what, keys)."""
        rows: list[tuple[str, str]] = []
        seen: set[int] = set()
        for menu in self.menus.values():
            for action in menu.actions():
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                if keys and id(action) not in seen and action.isVisible():
                    seen.add(id(action))
                    rows.append((plain(action.text()).rstrip("…"), keys))
        return rows

    def show_shortcuts(self) -> QDialog:
        """快捷键一览: made from the menus, so it cannot disagree with them."""
        dialog = QDialog(self.window)
        dialog.setObjectName("shortcuts_dialog")
        dialog.setWindowTitle("快捷键一览")
        rows = self.shortcut_rows()
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["操作", "快捷键"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (what, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(what))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        dialog.resize(420, 560)
        self.window._show_dialog(dialog)
        return dialog
