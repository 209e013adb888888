"""A windowed table model over SQL: an ordered id list plus a cache of row pages.

Filtering and sorting re-run one SQL statement that returns the matching ids in order; cells are
fetched a page at a time as plain tuples when the view asks for them. Nothing is loaded that is not
shown, and no ORM objects are held. Measured on 100k persons: every interaction stays far below a
``QSortFilterProxyModel`` over Python rows (see bench/).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from govshare_desktop.core.browse import Browser, Column, Query, format_cell

PAGE_SIZE = 200
MAX_PAGES = 64

RowId = Qt.ItemDataRole.UserRole + 1  # the row's primary key
RawValue = Qt.ItemDataRole.UserRole + 2  # the stored value behind the cell text

_Index = QModelIndex | QPersistentModelIndex


class SqlTableModel(QAbstractTableModel):
    """Rows of one :class:`~govshare_desktop.core.browse.Dataset`, masked by default.

    Signals: ``queried(int)`` — the query was re-run; the argument is the new row count.
    """

    queried = Signal(int)

    def __init__(
        self,
        browser: Browser,
        query: Query,
        *,
        today: date,
        load: bool = True,
        parent: QObject | None = None,
    ) -> None:
        """``load=False`` defers the first query to :meth:`ensure_loaded` (pages not yet shown)."""
        super().__init__(parent)
        self._browser = browser
        self._query = query
        self._today = today
        self._masked = True
        self._ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, tuple[Any, ...]]] = OrderedDict()
        self._columns: tuple[Column, ...] = query.dataset.columns
        self._loaded = False
        if load:
            self._reload()

    # ---------------------------------------------------------------- state

    @property
    def query(self) -> Query:
        return self._query

    @property
    def masked(self) -> bool:
        return self._masked

    @property
    def loaded(self) -> bool:
        return self._loaded

    def ensure_loaded(self) -> None:
        if not self._loaded:
            self._reload()

    def set_query(self, query: Query) -> None:
        if query == self._query:
            return
        self._query = query
        if self._loaded:
            self._reload()

    def set_masked(self, masked: bool) -> None:
        if masked == self._masked:
            return
        self._masked = masked
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
            )

    def refresh(self) -> None:
        """Re-run the query (after new data arrived)."""
        self._reload()

    def _reload(self) -> None:
        self.beginResetModel()
        self._ids = self._browser.ids(self._query)
        self._pages.clear()
        self._loaded = True
        self.endResetModel()
        self.queried.emit(len(self._ids))

    def row_id(self, row: int) -> int:
        return self._ids[row]

    def row_of_id(self, row_id: int) -> int:
        try:
            return self._ids.index(row_id)
        except ValueError:
            return -1

    def raw_row(self, row: int) -> tuple[Any, ...]:
        return self._row(row)

    def column_key(self, column: int) -> str:
        return self._columns[column].key

    # ---------------------------------------------------------------- Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(self._columns):
                return None
            if role == Qt.ItemDataRole.DisplayRole:
                return self._columns[section].header
            if role == Qt.ItemDataRole.ToolTipRole:
                column = self._columns[section]
                return column.header + ("（可排序）" if column.sort else "")
            return None
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._ids):
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = self._row(index.row())[index.column()]
            return format_cell(column, value, masked=self._masked, today=self._today)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == RowId:
            return self._ids[index.row()]
        if role == RawValue:
            return self._row(index.row())[index.column()]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns) or self._columns[column].sort is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        key = self._columns[column].key
        current = self._query.sort or self._query.dataset.default_sort
        if (current, self._query.descending) == (key, descending):
            return  # already in this order (a view enabling sorting asks for it once)
        if not self._loaded:
            self._query = self._query.sorted_by(key, descending)
            return
        self.layoutAboutToBeChanged.emit()
        self._query = self._query.sorted_by(key, descending)
        persistent = self.persistentIndexList()
        kept_ids = [self._ids[i.row()] if i.isValid() else None for i in persistent]
        self._ids = self._browser.ids(self._query)
        self._pages.clear()
        # Keep the selection and current row on the same records, now at their new rows.
        if persistent:
            row_of = {row_id: row for row, row_id in enumerate(self._ids)}
            self.changePersistentIndexList(
                persistent,
                [
                    self.index(row_of[row_id], old.column()) if row_id in row_of else QModelIndex()
                    for old, row_id in zip(persistent, kept_ids, strict=True)
                ],
            )
        self.layoutChanged.emit()
        self.queried.emit(len(self._ids))

    # ---------------------------------------------------------------- page cache

    def _row(self, row: int) -> tuple[Any, ...]:
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            window = self._ids[page_no * PAGE_SIZE : (page_no + 1) * PAGE_SIZE]
            page = self._browser.rows(self._query.dataset, window)
            self._pages[page_no] = page
            if len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[self._ids[row]]
