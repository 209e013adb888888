"""What the list pages share (报表任务, 发件箱, 比对核查, 校核纠错): a model over the list of rows the
core returned — one row an item, one column a header —, the read-only table view that shows it,
and the lines of text and the layout around it.

:class:`TableRows` is mixed in before ``QAbstractTableModel``, the Qt class of the model:
``class TasksModel(TableRows[TaskView], QAbstractTableModel)``. The model names its ``headers`` and
says what a cell shows in :meth:`TableRows.cell`; the row itself is its :data:`RowRole`. A mixin
rather than a model of its own: it is no model until a model mixes it in, and each of those is
the one qtmodeltester checks (tests/ui/test_table_model.py lists them by their Qt base class).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

T = TypeVar("T")
RowRole = Qt.ItemDataRole.UserRole + 1  # the row's item itself
ROOMY = "QTableView::item { padding: 3px 10px; }"  # Chinese text needs air between columns

_Index = QModelIndex | QPersistentModelIndex


class TableRows(Generic[T]):
    """A table model's rows, columns and headers over ``rows``, replaced whole by :meth:`load`."""

    headers: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[T] = []

    if TYPE_CHECKING:  # the QAbstractTableModel's, mixed in after this

        def beginResetModel(self) -> None: ...
        def endResetModel(self) -> None: ...

    def load(self, rows: Iterable[T]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, index: _Index) -> T | None:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def cell(self, row: T, column: int, role: int) -> Any:
        """What the cell of ``row`` in ``column`` shows in ``role`` (None: nothing)."""
        raise NotImplementedError

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section] if 0 <= section < len(self.headers) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        return row if role == RowRole else self.cell(row, index.column(), role)


def rows_table(
    parent: QWidget,
    name: str,
    model: QAbstractItemModel,
    *,
    stretch: int | None = None,
    selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.SingleSelection,
) -> QTableView:
    """The read-only table of a list page: whole rows selected, no row numbers, each column as
    wide as its text but ``stretch``, which takes the room left (the last column if not given)."""
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    table.setStyleSheet(ROOMY)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def bold() -> QFont:
    """The font of a row that stands out (overdue)."""
    font = QFont()
    font.setBold(True)
    return font


def page_label(parent: QWidget, name: str, *, selectable: bool = False) -> QLabel:
    """A wrapping line of text on a page; ``selectable``: the clerk may copy it (a status line
    that names a folder or a file)."""
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def lay_out_list(
    page: QWidget, note: QLabel, buttons: list[QPushButton], table: QTableView, status: QLabel
) -> None:
    """The page, top to bottom: the note, the buttons (on the left), the table, the status line."""
    bar = QHBoxLayout()
    for button in buttons:
        bar.addWidget(button)
    bar.addStretch(1)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(note)
    layout.addLayout(bar)
    layout.addWidget(table, 1)
    layout.addWidget(status)


def read_only_table(headers: Iterable[str], parent: QWidget) -> QTableWidget:
    """A small table of text the administrators' pages fill row by row: read-only, whole rows
    selected, columns as wide as their contents and the last one stretched."""
    labels = list(headers)
    table = QTableWidget(0, len(labels), parent)
    table.setHorizontalHeaderLabels(labels)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table
