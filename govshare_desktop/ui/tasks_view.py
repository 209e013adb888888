"""The 报表任务 page: the report tasks the county sent down (imported like any back-flow package),
the most urgent first, each with its deadline in working days, its state and — for a report the
county returned — the reason. Overdue tasks stand out; Enter or a double-click opens the task's
form on the 一表通 page. The inbox and its order are the core's
(:func:`govshare_desktop.core.services.reports.tasks`); this only shows them.

Signals of :class:`TasksView`: ``task_opened(str, str, str)`` — the clerk opened a task: its
template id, period and area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.reports.tasks import IN_REVIEW, RETURNED, TaskView
from govshare_desktop.core.services import reports
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.township import get_township, villages
from govshare_desktop.ui.table_rows import RowRole, TableRows, bold, page_label, rows_table
from govshare_desktop.ui.usecases import context

HEADERS = ("报表", "统计期", "区域", "下发单位", "截止日期", "期限", "状态", "退回理由")
TITLE, PERIOD, AREA, ISSUER, DEADLINE, DUE, STATE, REASON = range(len(HEADERS))
TaskRole = RowRole  # the row's TaskView

WEEKDAYS = "一二三四五六日"
OVERDUE = QColor("#b91c1c")
ATTENTION = QColor("#9a3412")  # returned, or waiting for the 审核人
DONE = QColor("#6b7280")


def period_label(text: str) -> str:
    try:
        return Period.parse(text).label
    except ValueError:
        return text


def area_names(store: Store) -> dict[str, str]:
    """The township (全镇) and its villages by code."""
    township = get_township(store)
    with store.sessions() as session:
        names = {village.code: village.name for village in villages(session)}
    if township is not None:
        names[township.code] = f"{township.name}（全镇）"
    return names


class TasksModel(TableRows[TaskView], QAbstractTableModel):
    """The inbox, in the core's order (open tasks by urgency, then the finished ones)."""

    headers = HEADERS

    def __init__(self, areas: Mapping[str, str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.areas = dict(areas)

    def cell(self, task: TaskView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(task, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == REASON and task.reason:
            return task.reason
        if role == Qt.ItemDataRole.ToolTipRole:
            note = f"\n县里的说明：{task.note}" if task.note else ""
            return (
                f"任务 {task.task_id}（模板版本 {task.template_version}）{note}\n双击或按回车打开"
            )
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(_colour(task, column))
        if role == Qt.ItemDataRole.FontRole and task.overdue:
            return bold()
        return None

    def _cell(self, task: TaskView, column: int) -> str:
        if column == TITLE:
            return task.title
        if column == PERIOD:
            return period_label(task.period)
        if column == AREA:
            return self.areas.get(task.area, task.area)
        if column == ISSUER:
            return task.issuer_name
        if column == DEADLINE:
            return f"{task.deadline:%Y-%m-%d}（周{WEEKDAYS[task.deadline.weekday()]}）"
        if column == DUE:
            return task.due_text
        if column == STATE:
            return task.state
        # The issuer is in its own column: 「东莞市民政局退回：…」 shows as the reason alone.
        return (task.reason or "").removeprefix(f"{task.issuer_name}退回：")


def _colour(task: TaskView, column: int) -> QColor:
    if task.overdue:
        return OVERDUE
    if task.state == RETURNED or (task.state == IN_REVIEW and column == STATE):
        return ATTENTION
    if not task.open:
        return DONE
    return QColor("#111827")


class TasksView(QWidget):
    """The 报表任务 page."""

    task_opened = Signal(str, str, str)

    def __init__(
        self,
        store: Store,
        today: Callable[[], date],
        parent: QWidget | None = None,
        *,
        areas: Mapping[str, str] | None = None,
    ) -> None:
        """``areas``: code → name of the township and its villages (read from the store if not
        given)."""
        super().__init__(parent)
        self.setObjectName("tasks_view")
        self.store = store
        self._today = today
        self.warning = page_label(self, "tasks_warning")
        self.warning.setStyleSheet(
            "background:#fff4ce; color:#7a4f01; border:1px solid #e0b84c; padding:6px;"
        )
        self.summary = page_label(self, "tasks_summary")
        self._areas = areas
        self.model = TasksModel(areas or {}, self)
        self.table = rows_table(self, "tasks_table", self.model)
        self.table.activated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.warning)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.refresh()

    def refresh(self) -> None:
        """The inbox as of today (deadlines move with the calendar)."""
        tasks, warning = reports.tasks(context(self.store), self._today())
        if self._areas is None:  # an import may have brought a village
            self.model.areas = area_names(self.store)
        self.model.load(tasks)
        self.warning.setText(warning or "")
        self.warning.setVisible(bool(warning))
        if not tasks:
            self.summary.setText(
                "还没有报表任务。县级部门下发的报表任务数据包（.zip）用「导入回流数据…」导入后"
                "列在这里。"
            )
            return
        open_ = [t for t in tasks if t.open]
        overdue = sum(1 for t in open_ if t.overdue)
        returned = sum(1 for t in open_ if t.state == RETURNED)
        said = f"共 {len(tasks)} 项任务，未完成 {len(open_)} 项"
        said += f"，已逾期 {overdue} 项" if overdue else ""
        said += f"，被退回 {returned} 项（见「退回理由」）" if returned else ""
        self.summary.setText(said + "。双击或按回车打开报表填报、上报。")
        if not self.table.currentIndex().isValid():  # Enter opens the first; not selected,
            self.table.selectionModel().setCurrentIndex(  # so its colours stay readable
                self.model.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def _activated(self, index: QModelIndex) -> None:
        task = self.model.data(index, TaskRole)
        if task is not None:
            self.task_opened.emit(task.template_id, task.period, task.area)
