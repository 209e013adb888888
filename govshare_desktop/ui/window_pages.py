"""What the main window is built from besides itself: its pages in navigation order, the search
box, each browse page's own filters, and a page built late taking its placeholder's place.

Like :mod:`~govshare_desktop.ui.main_window`, this module loads only Qt at import.
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QStackedWidget, QWidget

if TYPE_CHECKING:  # the store loads after the window is shown
    from govshare_desktop.core.store.engine import Store
    from govshare_desktop.ui.table_model import SqlTableModel

ALL = None  # combo data meaning "no filter"

# Pages in navigation order: key and title. Ctrl+1 … Ctrl+9 switch to the first nine; the pages
# after them (校核纠错, 目录与共享) are reached from the navigation list (Ctrl+0 is the zoom's).
SHORTCUT_PAGES = 9
PAGES = (
    ("home", "工作台"),
    ("household", "户籍（户）"),
    ("person", "人员"),
    ("ss_enrollment", "社保参保"),
    ("ss_payment", "待遇发放"),
    ("forms", "一表通"),
    ("tasks", "报表任务"),
    ("outbox", "发件箱"),
    ("checks", "比对核查"),
    ("corrections", "校核纠错"),
    ("sharing", "目录与共享"),
)
START_PAGE = "home"  # what needs doing today (ui/home_view.py)
PAGE_KEYS = tuple(key for key, _ in PAGES)

Filters = list[tuple[str, str, list[tuple[str, object]]]]


class SearchBox(QLineEdit):
    """A line edit that hands Down/Enter to the results and clears itself on Escape."""

    def __init__(self, on_enter: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_enter = on_enter

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Down):
            self._on_enter()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


def browse_filters(store: Store, key: str) -> tuple[Filters, dict[str, object]]:
    """A browse page's own filters (人员状态, 险种 and 户籍, 发放年月) and their first values."""
    from govshare_desktop.core.domain import codes
    from govshare_desktop.core.records import payment_periods

    extra: Filters = []
    initial: dict[str, object] = {}
    if key == "person":
        statuses = codes.table(codes.PERSON_STATUS)
        extra.append(("status", "人员状态：", [("全部", ALL), *((lbl, c) for c, lbl in statuses)]))
    elif key == "ss_enrollment":
        schemes = codes.table(codes.SS_SCHEME)
        extra.append(("scheme", "险种：", [("全部", ALL), *((lbl, c) for c, lbl in schemes)]))
        extra.append(
            ("registry", "户籍：", [("全部", ALL), ("本镇户籍", "in"), ("非本镇户籍", "out")])
        )
    elif key == "ss_payment":
        periods = payment_periods(store)
        options: list[tuple[str, object]] = [(f"{p // 100}年{p % 100}月", p) for p in periods]
        options.append(("全部", ALL))
        extra.append(("period", "发放年月：", options))
        if periods:
            initial["period"] = periods[0]  # the latest month, not 1.2 million rows
    return extra, initial


def replace_placeholder(stack: QStackedWidget, row: int, page: QWidget) -> None:
    """A page built the first time it is shown takes its placeholder's place."""
    placeholder = stack.widget(row)
    assert placeholder is not None
    stack.insertWidget(row, page)
    stack.removeWidget(placeholder)
    placeholder.deleteLater()


def status_text(store: Store) -> str:
    """The status bar: where the database is and what it holds."""
    from govshare_desktop.core.records import summary

    facts = summary(store)
    where = str(store.path) if store.path else store.url
    return (
        f"数据库：{where}　｜　户籍 {facts.households:,} 户 / {facts.persons:,} 人"
        f"　｜　参保 {facts.enrollments:,} 条　｜　发放 {facts.payments:,} 条"
        f"　｜　数据时点：{facts.as_of or '—'}"
    )


def count_text(model: SqlTableModel) -> str:
    """The list's count: exact once counted, the rows shown so far until then."""
    count = model.count
    if count is None:
        return f"当前列表：{model.rowCount():,}+ 条（正在计数…） "
    return f"当前列表：{count:,} 条 "
