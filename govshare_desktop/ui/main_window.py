"""The main window: navigation between 户籍, 人员, 参保, 待遇发放, 一表通, 报表任务, 发件箱, 比对核查,
校核纠错 and 目录与共享, one search box, a village filter, the person and household dialogs, the 纠错 dialog,
the import.

The window is built in two steps so that it appears at once: the shell (toolbar, navigation, an empty
page) needs only Qt; :meth:`MainWindow.attach` then gives it a store, and each page is built the first
time it is shown. The window only wires views to core services; every query lives in ``core``.
What the signed-in session adds — masking, the idle lock, signing out, the administrators'
actions — is its base, :class:`~govshare_desktop.ui.session_window.SessionWindow`; the records it
opens (person card, household, individual forms, 纠错) are
:class:`~govshare_desktop.ui.records_window.RecordsWindow`, between the two.
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.ui.menus import Menus
from govshare_desktop.ui.records_window import RecordsWindow
from govshare_desktop.ui.tasks import single_shot_timer
from govshare_desktop.ui.window_pages import (
    ALL,
    PAGE_KEYS,
    PAGES,
    SHORTCUT_PAGES,
    START_PAGE,
    SearchBox,
    StatusLine,
    browse_filters,
    count_text,
    replace_placeholder,
)

if TYPE_CHECKING:  # the store, SQLAlchemy and the views load after the window is shown
    from govshare_desktop.core.browse import Browser
    from govshare_desktop.core.store.engine import Store
    from govshare_desktop.ui.browse_view import BrowseView
    from govshare_desktop.ui.charts import ChartsPanel
    from govshare_desktop.ui.checks_view import ChecksView
    from govshare_desktop.ui.corrections_view import CorrectionsView
    from govshare_desktop.ui.forms_view import FormsView
    from govshare_desktop.ui.home_view import HomeView
    from govshare_desktop.ui.outbox_view import OutboxView, PackageWriter
    from govshare_desktop.ui.sharing_view import SharingView
    from govshare_desktop.ui.tasks_view import TasksView

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150
AUDIT_SEARCH_AFTER_MS = 1500  # typing paused this long: the search is recorded


class MainWindow(RecordsWindow):
    def __init__(
        self, store: Store | None = None, *, today: Callable[[], date] = date.today
    ) -> None:
        super().__init__(today)
        self.browser: Browser | None = None
        self.views: dict[str, BrowseView] = {}
        self.home_view: HomeView | None = None
        self.charts_panel: ChartsPanel | None = None
        self.forms_view: FormsView | None = None
        self.tasks_view: TasksView | None = None
        self.outbox_view: OutboxView | None = None
        self.checks_view: ChecksView | None = None
        self.corrections_view: CorrectionsView | None = None
        self.sharing_view: SharingView | None = None
        self.setObjectName("main_window")
        self.setWindowTitle("govshare-desktop")
        self.resize(1280, 780)
        self._build_toolbar()
        self._build_pages()
        self.menus = Menus(self)  # the menu bar holds the actions above (ui/menus.py)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("count_label")
        self.statusBar().addPermanentWidget(self.count_label)
        self.status_line = StatusLine(self, "正在打开数据库……")  # ui/window_pages.py
        self.nav.setCurrentRow(PAGE_KEYS.index(START_PAGE))
        self.nav.currentRowChanged.connect(self._page_changed)
        if store is not None:
            self.attach(store)

    def _build_toolbar(self) -> None:
        """查找, 村（社区）, 显示完整信息, 导入回流数据 (and Ctrl+F to the search box)."""
        self.search = SearchBox(self._search_entered, self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("查找人员：姓名、身份证号（可输入部分）或拼音首字母，如 zsf")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(420)
        self._search_timer = single_shot_timer(self, SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_filters)
        self._audit_timer = single_shot_timer(self, AUDIT_SEARCH_AFTER_MS)
        self._audit_timer.timeout.connect(self._audit_search)
        self._last_audited = ""
        self.search.textChanged.connect(self._search_typed)

        self.village = QComboBox(self)
        self.village.setObjectName("village")
        self.village.addItem("全部村（社区）", ALL)
        self.village.currentIndexChanged.connect(lambda _index: self._apply_filters())

        toolbar = self.toolbar
        toolbar.addWidget(QLabel(" 查找： ", self))
        toolbar.addWidget(self.search)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" 村（社区）： ", self))
        toolbar.addWidget(self.village)
        toolbar.addSeparator()
        toolbar.addAction(self.unmask_action)
        toolbar.addSeparator()
        self.import_action = QAction("导入回流数据…", self)
        self.import_action.setObjectName("import")
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setToolTip(
            "导入县级部门回流的 Excel/CSV 文件或数据包（Ctrl+I），也可以把文件拖到窗口上"
        )
        self.import_action.triggered.connect(lambda: self.open_import())
        self.import_action.setEnabled(False)
        toolbar.addAction(self.import_action)
        self.setAcceptDrops(True)

        find = QAction("查找", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        self.addAction(find)
        self.find_action = find

    def _build_pages(self) -> None:
        """The navigation list and a placeholder per page (Ctrl+1 … Ctrl+9 switch to the first
        nine; 目录与共享, the tenth, is reached from the list)."""
        self.nav = QListWidget(self)
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(120)
        self.nav.setStyleSheet(
            "QListWidget { font-size: 11pt; } QListWidget::item { padding: 8px 6px; }"
        )
        self.stack = QStackedWidget(self)
        self.page_actions: dict[str, QAction] = {}  # in the 查看 menu too
        for position, (key, title) in enumerate(PAGES, start=1):
            self.nav.addItem(title)
            self.stack.addWidget(
                QLabel("正在打开数据库……", self, alignment=Qt.AlignmentFlag.AlignCenter)
            )
            go = QAction(title, self)
            go.triggered.connect(self._page_shower(key))
            self.addAction(go)
            self.page_actions[key] = go
            if position > SHORTCUT_PAGES:
                continue
            item = self.nav.item(position - 1)
            assert item is not None
            item.setToolTip(f"Ctrl+{position}")
            go.setShortcut(QKeySequence(f"Ctrl+{position}"))

        central = QWidget(self)
        self._outer = QVBoxLayout(central)
        self._outer.setContentsMargins(6, 6, 6, 6)
        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        self._outer.addLayout(body, 1)
        self.setCentralWidget(central)

    def _page_shower(self, key: str) -> Callable[[], None]:
        return lambda: self.show_page(key)

    # ---------------------------------------------------------------- the store

    def attach(self, store: Store) -> None:
        """Give the window its database: title, villages, status bar, then the current page."""
        from govshare_desktop.core.browse import Browser
        from govshare_desktop.core.security.permissions import Action
        from govshare_desktop.core.store.township import get_township

        self.store = store
        self.browser = Browser(store)
        self.menus.attach(store)
        township = get_township(store)
        demo = township is not None and township.is_demo
        name = township.name if township else "未初始化"
        who = store.principal.label if store.principal.role else ""
        self.setWindowTitle(
            f"govshare-desktop — {name}"
            + ("【演示数据】" if demo else "")
            + (f" — {who}" if who else "")
        )
        if not store.encrypted and store.principal.role is not None:
            self._notice(
                "plain_warning",
                "注意：本机无法使用 SQLCipher，数据库未加密。请联系技术支持。",
                "background:#fde2e1; color:#991b1b; border:1px solid #f87171;",
            )
        if store.principal.role is not None and not store.principal.may(Action.VIEW):
            self._role_notice(store)
            return
        self._admin_actions(store)
        if not store.principal.may(Action.IMPORT):
            self.import_action.setVisible(False)
        if demo:
            self._notice(
                "demo_banner",
                "演示数据：青禾镇是虚构的演示乡镇，所有人员、户籍和社保信息均为程序生成，与真实人员无关。",
                "background:#fff4ce; color:#7a4f01; border:1px solid #e0b84c;",
            )
        self._laptop_notice()
        self._load_villages()
        self.import_action.setEnabled(store.principal.may(Action.IMPORT))
        self.refresh_status()
        self._page_changed(self.nav.currentRow())

    def _laptop_notice(self) -> None:
        """On a laptop's check-out: a banner and 【下村笔记本】 in the title."""
        from govshare_desktop.core.services import laptop

        here = laptop.this_laptop(self._context())
        if here is None:
            return
        self.setWindowTitle(self.windowTitle() + "【下村笔记本】")
        self._notice(
            "laptop_banner", here, "background:#e0f2fe; color:#075985; border:1px solid #7dd3fc;"
        )

    def _notice(self, name: str, text: str, colours: str) -> None:
        """A bold line above the pages (the newest on top)."""
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setWordWrap(True)  # a long one (a laptop's origin path) must not widen the window
        label.setStyleSheet(colours + " padding:6px; font-weight:bold;")
        self._outer.insertWidget(0, label)

    def _load_villages(self) -> None:
        from govshare_desktop.core.store.township import villages

        assert self.store is not None
        current = self.village.currentData()
        self.village.blockSignals(True)
        while self.village.count() > 1:
            self.village.removeItem(1)
        with self.store.sessions() as session:
            for village in villages(session):
                label = village.name + ("（待核实）" if village.needs_review else "")
                self.village.addItem(label, village.code)
        self.village.setCurrentIndex(max(0, self.village.findData(current)))
        self.village.blockSignals(False)

    # ---------------------------------------------------------------- import

    def open_import(self, paths: list[Path] | None = None) -> QDialog | None:
        from govshare_desktop.ui.import_wizard import ImportWizard

        if self.store is None:
            return None
        wizard = ImportWizard(self.store, paths or [], parent=self)
        wizard.imported.connect(self.data_changed)
        self._show_dialog(wizard)
        return wizard

    def data_changed(self) -> None:
        """New data arrived: re-run every page's query, refresh villages and the status bar."""
        self._load_villages()
        for view in self.views.values():
            view.model.refresh()
            view.check_use_period()  # the data may have come on a share request's terms
        self._reports_changed()
        self.refresh_status()

    def _reports_changed(self) -> None:
        """A package may have brought a task with its form, a reply or a receipt."""
        if self.forms_view is None:
            self._form_pool = None  # read afresh (with any form a task brought) when next needed
        # An import runs the checks and may correct a 纠错; a package may bring a catalog, an
        # answer, or the data a share request asked for.
        pages = (self.home_view, self.forms_view, self.tasks_view, self.outbox_view)
        for page in (*pages, self.checks_view, self.corrections_view, self.sharing_view):
            if page is not None:
                page.refresh()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.store is not None and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_import(paths)

    # ---------------------------------------------------------------- navigation

    def _build_view(self, key: str) -> BrowseView:
        from govshare_desktop.core.browse import DATASETS
        from govshare_desktop.ui.browse_view import BrowseView

        assert self.browser is not None and self.store is not None
        extra, initial = browse_filters(self.store, key)
        view = BrowseView(
            self.browser,
            DATASETS[key],
            today=self._today(),
            extra_filters=extra,
            initial_filters=initial,
            load=False,
            parent=self,
        )
        view.set_masked(self.masked)
        view.activated_row.connect(self._open_row)
        view.counted.connect(lambda _n, k=key: self._update_count(k))
        view.check_use_period()
        return view

    @property
    def current_view(self) -> BrowseView:
        """The browse page shown (the 一表通 page is not one: then the last browse page)."""
        key = PAGES[self.nav.currentRow()][0]
        if key not in self.views:
            key = next(iter(self.views))
        return self.views[key]

    def _show_home(self, row: int) -> None:
        """The 工作台: built the first time it is shown; it reads the desk whenever shown."""
        if self.home_view is None:
            from govshare_desktop.ui.home_view import HomeView

            assert self.store is not None
            self.home_view = HomeView(self.store, self._sharing_clock, self)
            self.home_view.page_requested.connect(self._open_from_home)
            self._replace_placeholder(row, self.home_view)
            QTimer.singleShot(0, self._add_charts)  # after the cards are painted
        self.stack.setCurrentIndex(row)
        view, focus = self.home_view, QApplication.focusWidget()
        if focus is not None and view.isAncestorOf(focus) and focus not in view.cards:
            view.focus_first()  # the stack moved the focus in: onto a card, not into a chart
        self.count_label.setText("")

    def _add_charts(self) -> None:
        """The township's charts beside the 工作台's cards."""
        from govshare_desktop.ui.charts import ChartsPanel

        if self.home_view is not None and self.store is not None:
            # Worked out beside the window: at the largest townships they read millions of rows.
            self.charts_panel = ChartsPanel(self.store, today=self._today, background=True)
            self.home_view.add_panel(self.charts_panel)

    def _open_from_home(self, key: str) -> None:
        """A card of the 工作台 opened: its page, or 立即备份."""
        if key == "backup":
            self.backup_now()
        else:
            self.show_page(key)

    def _show_forms(self, row: int) -> None:
        if self.forms_view is None:
            from govshare_desktop.core.store.township import get_township, villages
            from govshare_desktop.ui.forms_view import FormsView

            assert self.store is not None
            pool = self.form_pool()
            if pool is None:
                return
            township = get_township(self.store)
            assert township is not None
            with self.store.sessions() as session:
                village_list = [(v.code, v.name) for v in villages(session)]
            self.forms_view = FormsView(
                pool,
                township=(township.code, township.name),
                villages=village_list,
                today=self._today(),
                masked=self.masked,
                writer=self.package_writer,
                parent=self,
            )
            self.forms_view.unmask_reason = self.unmask_reason
            self._replace_placeholder(row, self.forms_view)
        self.stack.setCurrentIndex(row)
        self.count_label.setText("")

    @cached_property
    def package_writer(self) -> PackageWriter:
        """Writes packages for the 一表通 page and the 发件箱 (one folder remembered)."""
        from govshare_desktop.ui.outbox_view import PackageWriter

        assert self.store is not None
        return PackageWriter(self.store, self)

    def _show_list_page(self, key: str, row: int) -> None:
        """报表任务, 发件箱, 比对核查, 校核纠错 and 目录与共享: built the first time they are shown,
        read afresh every time."""
        built = {
            "tasks": self.tasks_view,
            "outbox": self.outbox_view,
            "checks": self.checks_view,
            "corrections": self.corrections_view,
            "sharing": self.sharing_view,
        }[key]
        if built is not None:
            built.refresh()
        page = built or self._build_list_page(key)
        if self.stack.widget(row) is not page:
            self._replace_placeholder(row, page)
        self.stack.setCurrentIndex(row)
        self.count_label.setText("")

    def _build_list_page(self, key: str) -> QWidget:
        assert self.store is not None
        if key == "tasks":
            from govshare_desktop.ui.tasks_view import TasksView

            self.tasks_view = TasksView(self.store, self._today, self)
            self.tasks_view.task_opened.connect(self.open_task)
            return self.tasks_view
        if key == "outbox":
            from govshare_desktop.ui.outbox_view import OutboxView

            self.outbox_view = OutboxView(self.store, self.package_writer, self)
            return self.outbox_view
        if key == "checks":
            from govshare_desktop.ui.checks_view import ChecksView

            village = self.village.currentData()
            self.checks_view = ChecksView(self.store, self, village=village, masked=self.masked)
            self.checks_view.set_masked(self.masked, self.unmask_reason)
            self.checks_view.correction_requested.connect(self.open_case_correction)
            return self.checks_view
        if key == "sharing":
            from govshare_desktop.ui.sharing_view import SharingView

            self.sharing_view = SharingView(
                self.store, self.package_writer, self, clock=self._sharing_clock
            )
            return self.sharing_view
        from govshare_desktop.ui.corrections_view import CorrectionsView

        self.corrections_view = CorrectionsView(
            self.store, self.package_writer, self, masked=self.masked
        )
        return self.corrections_view

    def _sharing_clock(self) -> datetime:
        """The window's day (what is overdue is judged on it) at the time of day."""
        return datetime.combine(self._today(), datetime.now().time())

    def open_task(self, template_id: str, period: str, area: str) -> None:
        """A task opened on the 报表任务 page: its form, period and area on the 一表通 page."""
        self.show_page("forms")
        if self.forms_view is not None:
            self.forms_view.show_form(template_id, period, area)

    def show_page(self, key: str) -> None:
        self.nav.setCurrentRow(PAGE_KEYS.index(key))

    def _page_changed(self, row: int) -> None:
        if row < 0 or self.store is None:
            return
        key = PAGES[row][0]
        if key == "home":
            self._show_home(row)
            return
        if key == "forms":
            self._show_forms(row)
            return
        if key in ("tasks", "outbox", "checks", "corrections", "sharing"):
            self._show_list_page(key, row)
            return
        if key not in self.views:
            view = self._build_view(key)
            self._replace_placeholder(row, view)
            self.views[key] = view
        self.stack.setCurrentIndex(row)
        self._apply_filters()
        self.views[key].model.ensure_loaded()
        self._update_count(key)

    def _replace_placeholder(self, row: int, page: QWidget) -> None:
        replace_placeholder(self.stack, row, page)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # ---------------------------------------------------------------- filters

    def _apply_filters(self) -> None:
        if self.checks_view is not None:
            self.checks_view.set_village(self.village.currentData())
        if not self.views or PAGES[self.nav.currentRow()][0] not in self.views:
            return
        view = self.current_view
        changes: dict[str, object] = {"search": self.search.text()}
        if "village" in view.dataset.filters:
            changes["village"] = self.village.currentData()
        view.model.set_query(view.model.query.with_filter(**changes))
        if self.search.text().strip():
            self._audit_timer.start()  # a search the clerk stopped typing at is recorded

    def _audit_search(self) -> None:
        """Record a search in the audit trail: once the typing stopped, once per text."""
        text = self.search.text().strip()
        if not text or text == self._last_audited or self.store is None:
            return
        if PAGES[self.nav.currentRow()][0] not in self.views:
            return
        self._last_audited = text
        view = self.current_view
        from govshare_desktop.core.services import session  # lazy: after the window shows

        count = view.model.count
        session.searched(
            self._context(),
            text,
            page=view.dataset.key,
            results=view.model.rowCount() if count is None else count,
        )

    def _search_typed(self, text: str) -> None:
        """Results follow the typing; typed on a page that lists no one (工作台, 一表通 …), the
        search goes to the 人员 page."""
        shown = PAGES[self.nav.currentRow()][0]
        if text.strip() and self.store is not None and shown not in self.views:
            self.show_page("person")
        self._search_timer.start()

    def _search_entered(self) -> None:
        if self._search_timer.isActive():
            self._search_timer.stop()
            self._apply_filters()
        if PAGES[self.nav.currentRow()][0] not in self.views:
            if self.home_view is not None and self.home_view.isVisible():
                self.home_view.focus_first()  # Down from the search box: to the 工作台's cards
            return
        view = self.current_view
        view.model.when_arrived(
            lambda: self._first_found(view)
        )  # the search runs off the UI thread

    def _first_found(self, view: BrowseView) -> None:
        view.select_first()
        if view.model.count == 1:  # a single match: open it straight away
            view.activated_row.emit(view.dataset.key, view.model.row_id(0))

    # ---------------------------------------------------------------- masking

    def _show_masked(self, masked: bool, reason: str) -> None:
        for view in self.views.values():
            view.set_masked(masked)
        if self.forms_view is not None:
            self.forms_view.set_masked(masked, reason)
        if self.checks_view is not None:
            self.checks_view.set_masked(masked, reason)
        if self.corrections_view is not None:
            self.corrections_view.set_masked(masked)

    # ---------------------------------------------------------------- records

    def _open_row(self, dataset_key: str, row_id: int) -> None:
        if dataset_key == "household":
            self.open_household(row_id)
            return
        view = self.views[dataset_key]
        row = view.model.raw_row_of_id(row_id)
        self.open_person(row[view.dataset.column_index("id_number")])

    def _corrections_changed(self) -> None:
        """A 纠错 was raised (from a case: the case is now 确认有误)."""
        for page in (self.checks_view, self.corrections_view):
            if page is not None:
                page.refresh()

    # ---------------------------------------------------------------- status bar

    def refresh_status(self) -> None:
        """The status bar: the path and 数据时点 at once, the counts from a worker."""
        assert self.store is not None
        self.status_line.refresh(self.store)

    def _update_count(self, key: str) -> None:
        if key in self.views and key == PAGES[self.nav.currentRow()][0]:
            self.count_label.setText(count_text(self.current_view.model))
