"""What the main window is built from besides itself: its pages in navigation order, the search
box, each browse page's own filters, and a page built late taking its placeholder's place.

Like :mod:`~govshare_desktop.ui.main_window`, this module loads only Qt at import.
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QMainWindow, QStackedWidget, QWidget

if TYPE_CHECKING:  # the store loads after the window is shown
    from govshare_desktop.core.progress import Cancel
    from govshare_desktop.core.records import RecordCounts
    from govshare_desktop.core.store.engine import Store
    from govshare_desktop.ui.table_model import SqlTableModel

log = logging.getLogger(__name__)

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


COUNTING = "户籍、参保、发放：正在统计……"
NOT_COUNTED = "户籍、参保、发放：无法统计"


def status_text(where: str, as_of: date | None, counts: RecordCounts | str = COUNTING) -> str:
    """The status bar: where the database is and what it holds (or that it is being counted)."""
    held = counts
    if not isinstance(counts, str):
        held = (
            f"户籍 {counts.households:,} 户 / {counts.persons:,} 人"
            f"　｜　参保 {counts.enrollments:,} 条　｜　发放 {counts.payments:,} 条"
        )
    return f"数据库：{where}　｜　{held}　｜　数据时点：{as_of or '—'}"


class _Delivered(QObject):
    counted = Signal(object)  # RecordCounts, or the exception the count raised


class _Count(QRunnable):
    def __init__(self, work: Callable[[], object], bridge: _Delivered) -> None:
        super().__init__()
        self._work, self._bridge = work, bridge

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # said on the GUI thread
            result = exc
        with contextlib.suppress(RuntimeError):  # the window has gone: nobody to tell
            self._bridge.counted.emit(result)


class StatusLine(QObject):
    """The status bar's message: where the database is and what it holds. What is known at once
    (the path, the 数据时点) shows at once; the counts, which grow with the township (7.5M payments
    at the largest), are counted on a worker and fill in when they arrive. A notice (the integrity
    check's) stands in front of them while it is up, whichever comes first; a message shown for a
    while (the daily backup's) gives the line back when it times out.

    The count is the window's own business, like a list's count (ui/table_model.py): not a task
    that closing the window waits for; a newer refresh, or the window closing, cancels it."""

    def __init__(self, window: QMainWindow, text: str) -> None:
        super().__init__(window)
        self._window = window
        self.notice = ""
        self.facts = text
        self.counting: Cancel | None = None  # the count running, if one is
        self._bridge: _Delivered | None = None
        window.statusBar().messageChanged.connect(self._message_changed)
        window.destroyed.connect(self.stop)
        self._show()

    @property
    def text(self) -> str:
        return "　｜　".join(part for part in (self.notice, self.facts) if part)

    def set_notice(self, notice: str) -> None:
        """A notice in front of the facts ("" takes it away)."""
        self.notice = notice
        self._show()

    def stop(self) -> None:
        """Cancel the count running (its result, if it still comes, is dropped)."""
        if self.counting is not None:
            self.counting.cancel()
        self.counting = None

    def refresh(self, store: Store) -> None:
        """The facts read afresh: the path and the 数据时点 now, the counts from a worker (a count
        still running for an earlier refresh is stopped)."""
        from govshare_desktop.core.progress import Cancel
        from govshare_desktop.core.records import latest_as_of, record_counts

        where = str(store.path) if store.path else store.url
        as_of = latest_as_of(store)
        self.facts = status_text(where, as_of)
        self._show()
        self.stop()
        cancel = self.counting = Cancel()
        bridge = _Delivered(self)

        def delivered(result: object) -> None:
            bridge.deleteLater()
            if cancel.cancelled:
                return  # superseded
            self.counting = None
            if isinstance(result, BaseException):
                log.warning("the status bar's counts failed: %r", result)
                self.facts = status_text(where, as_of, NOT_COUNTED)
            else:
                self.facts = status_text(where, as_of, result)  # type: ignore[arg-type]
            self._show()

        bridge.counted.connect(delivered)
        work = _Count(lambda: record_counts(store, cancel=cancel), bridge)
        QThreadPool.globalInstance().start(work)

    def _show(self) -> None:
        with contextlib.suppress(RuntimeError):  # during the window's deletion: nobody to tell
            self._window.statusBar().showMessage(self.text)

    def _message_changed(self, message: str) -> None:
        if not message:  # cleared, or a timed message gone: the line again
            self._show()


def count_text(model: SqlTableModel) -> str:
    """The list's count: exact once counted, the rows shown so far until then."""
    count = model.count
    if count is None:
        return f"当前列表：{model.rowCount():,}+ 条（正在计数…） "
    return f"当前列表：{count:,} 条 "
