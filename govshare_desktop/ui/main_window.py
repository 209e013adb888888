"""The main window: navigation between 户籍, 人员, 参保 and 待遇发放, one search box, a village filter.

The window only wires views to core services; every query lives in ``core.browse``/``core.records``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.browse import ENROLLMENTS, HOUSEHOLDS, PAYMENTS, PERSONS, Browser
from govshare_desktop.core.domain import codes
from govshare_desktop.core.records import (
    household_members,
    payment_periods,
    person_card,
    summary,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.township import get_township, villages
from govshare_desktop.ui.browse_view import BrowseView
from govshare_desktop.ui.records import HouseholdDialog, PersonCardDialog

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150
ALL = None  # combo data meaning "no filter"


class SearchBox(QLineEdit):
    """A line edit that hands Down/Enter to the results and clears itself on Escape."""

    def __init__(self, on_enter: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_enter = on_enter

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Down):
            self._on_enter()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    def __init__(self, store: Store, *, today: Callable[[], date] = date.today) -> None:
        super().__init__()
        self.store = store
        self._today = today
        self.browser = Browser(store)
        self.masked = True
        self.dialogs: list[QDialog] = []
        self.setObjectName("main_window")

        self.township = get_township(store)
        name = self.township.name if self.township else "未初始化"
        demo = self.township is not None and self.township.is_demo
        self.setWindowTitle(f"govshare-desktop — {name}" + ("【演示数据】" if demo else ""))
        self.resize(1280, 780)

        with store.sessions() as session:
            village_list = [(v.code, v.name) for v in villages(session)]
        periods = payment_periods(store)

        # ---------------------------------------------------------------- toolbar
        self.search = SearchBox(self._search_entered, self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("查找人员：姓名、身份证号（可输入部分）或拼音首字母，如 zsf")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(420)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())

        self.village = QComboBox(self)
        self.village.setObjectName("village")
        self.village.addItem("全部村（社区）", ALL)
        for code, village_name in village_list:
            self.village.addItem(village_name, code)
        self.village.currentIndexChanged.connect(lambda _i: self._apply_filters())

        self.unmask_action = QAction("显示完整信息", self)
        self.unmask_action.setObjectName("unmask")
        self.unmask_action.setCheckable(True)
        self.unmask_action.setToolTip(
            "默认脱敏显示姓名、证件号、电话和住址；查看完整信息需说明事由"
        )
        self.unmask_action.toggled.connect(self._unmask_toggled)

        toolbar = self.addToolBar("查找")
        toolbar.setObjectName("toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(QLabel(" 查找： ", self))
        toolbar.addWidget(self.search)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" 村（社区）： ", self))
        toolbar.addWidget(self.village)
        toolbar.addSeparator()
        toolbar.addAction(self.unmask_action)

        find = QAction("查找", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        self.addAction(find)

        # ---------------------------------------------------------------- pages
        today_value = today()
        self.views: dict[str, BrowseView] = {
            HOUSEHOLDS.key: BrowseView(self.browser, HOUSEHOLDS, today=today_value, parent=self),
            PERSONS.key: BrowseView(
                self.browser,
                PERSONS,
                today=today_value,
                extra_filters=[
                    (
                        "status",
                        "人员状态：",
                        [("全部", ALL)]
                        + [(label, code) for code, label in codes.table(codes.PERSON_STATUS)],
                    )
                ],
                parent=self,
            ),
            ENROLLMENTS.key: BrowseView(
                self.browser,
                ENROLLMENTS,
                today=today_value,
                extra_filters=[
                    (
                        "scheme",
                        "险种：",
                        [("全部", ALL)]
                        + [(label, code) for code, label in codes.table(codes.SS_SCHEME)],
                    ),
                    (
                        "registry",
                        "户籍：",
                        [("全部", ALL), ("本镇户籍", "in"), ("非本镇户籍", "out")],
                    ),
                ],
                parent=self,
            ),
            PAYMENTS.key: BrowseView(
                self.browser,
                PAYMENTS,
                today=today_value,
                extra_filters=[
                    (
                        "period",
                        "发放年月：",
                        [(f"{p // 100}年{p % 100}月", p) for p in periods] + [("全部", ALL)],
                    )
                ],
                initial_filters={"period": periods[0]} if periods else None,
                parent=self,
            ),
        }
        titles = {
            HOUSEHOLDS.key: "户籍（户）",
            PERSONS.key: "人员",
            ENROLLMENTS.key: "社保参保",
            PAYMENTS.key: "待遇发放",
        }
        self.nav = QListWidget(self)
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(120)
        self.nav.setStyleSheet(
            "QListWidget { font-size: 11pt; } QListWidget::item { padding: 8px 6px; }"
        )
        self.stack = QStackedWidget(self)
        for position, (key, view) in enumerate(self.views.items(), start=1):
            self.nav.addItem(titles[key])
            self.nav.item(position - 1).setToolTip(f"Ctrl+{position}")
            self.stack.addWidget(view)
            view.activated_row.connect(self._open_row)
            view.counted.connect(lambda _n, k=key: self._update_count(k))
            go = QAction(titles[key], self)
            go.setShortcut(QKeySequence(f"Ctrl+{position}"))
            go.triggered.connect(lambda _c=False, k=key: self.show_page(k))
            self.addAction(go)
        self.nav.currentRowChanged.connect(self._page_changed)

        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        if demo:
            banner = QLabel(
                "演示数据：青禾镇是虚构的演示乡镇，所有人员、户籍和社保信息均为程序生成，与真实人员无关。",
                self,
            )
            banner.setObjectName("demo_banner")
            banner.setStyleSheet(
                "background:#fff4ce; color:#7a4f01; border:1px solid #e0b84c; padding:6px; font-weight:bold;"
            )
            outer.addWidget(banner)
        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        self.count_label = QLabel(self)
        self.count_label.setObjectName("count_label")
        self.statusBar().addPermanentWidget(self.count_label)
        self.refresh_status()
        self.nav.setCurrentRow(list(self.views).index(PERSONS.key))

    # ---------------------------------------------------------------- navigation

    @property
    def current_view(self) -> BrowseView:
        view = self.stack.currentWidget()
        assert isinstance(view, BrowseView)
        return view

    def show_page(self, key: str) -> None:
        self.nav.setCurrentRow(list(self.views).index(key))

    def _page_changed(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        self._apply_filters()
        self._update_count(self.current_view.dataset.key)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # ---------------------------------------------------------------- filters

    def _apply_search(self) -> None:
        self._apply_filters()

    def _apply_filters(self) -> None:
        view = self.current_view
        changes: dict[str, object] = {"search": self.search.text()}
        if "village" in view.dataset.filters:
            changes["village"] = self.village.currentData()
        view.model.set_query(view.model.query.with_filter(**changes))

    def _search_entered(self) -> None:
        if self._search_timer.isActive():
            self._search_timer.stop()
            self._apply_search()
        view = self.current_view
        if view.model.rowCount() == 1:
            view.select_first()
            view.activated_row.emit(view.dataset.key, view.model.row_id(0))
        else:
            view.select_first()

    # ---------------------------------------------------------------- masking

    def _unmask_toggled(self, checked: bool) -> None:
        if checked:
            reason, ok = QInputDialog.getText(
                self, "显示完整信息", "查看完整的个人信息需说明事由（将被记录）："
            )
            if not ok or not reason.strip():
                self.unmask_action.blockSignals(True)
                self.unmask_action.setChecked(False)
                self.unmask_action.blockSignals(False)
                return
            self.set_masked(False, reason=reason.strip())
        else:
            self.set_masked(True)

    def set_masked(self, masked: bool, *, reason: str = "") -> None:
        if not masked:
            log.warning("personal data unmasked on screen; reason: %s", reason)
        self.masked = masked
        self.unmask_action.blockSignals(True)
        self.unmask_action.setChecked(not masked)
        self.unmask_action.blockSignals(False)
        for view in self.views.values():
            view.set_masked(masked)

    # ---------------------------------------------------------------- records

    def _open_row(self, dataset_key: str, row_id: int) -> None:
        view = self.views[dataset_key]
        if dataset_key == HOUSEHOLDS.key:
            self.open_household(row_id)
            return
        row = view.model.raw_row(view.model.row_of_id(row_id))
        id_number = row[view.dataset.column_index("id_number")]
        self.open_person(id_number)

    def open_person(self, id_number: str) -> PersonCardDialog | None:
        card = person_card(self.store, id_number)
        if card is None:
            return None
        dialog = PersonCardDialog(card, masked=self.masked, today=self._today(), parent=self)
        dialog.household_requested.connect(self.open_household)
        self._show_dialog(dialog)
        return dialog

    def open_household(self, household_id: int) -> HouseholdDialog | None:
        found = household_members(self.store, household_id)
        if found is None:
            return None
        household, members = found
        dialog = HouseholdDialog(
            household, members, masked=self.masked, today=self._today(), parent=self
        )
        dialog.person_requested.connect(self.open_person)
        self._show_dialog(dialog)
        return dialog

    def _show_dialog(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs.append(dialog)
        dialog.finished.connect(
            lambda _r, d=dialog: self.dialogs.remove(d) if d in self.dialogs else None
        )
        dialog.show()

    # ---------------------------------------------------------------- status bar

    def refresh_status(self) -> None:
        facts = summary(self.store)
        where = str(self.store.path) if self.store.path else self.store.url
        self.statusBar().showMessage(
            f"数据库：{where}　｜　户籍 {facts.households:,} 户 / {facts.persons:,} 人"
            f"　｜　参保 {facts.enrollments:,} 条　｜　发放 {facts.payments:,} 条"
            f"　｜　数据时点：{facts.as_of or '—'}"
        )

    def _update_count(self, key: str) -> None:
        if key == self.current_view.dataset.key:
            self.count_label.setText(f"当前列表：{self.current_view.model.rowCount():,} 条 ")
