"""A table model over SQL that pages in rows as the view scrolls, with every query off the UI thread.

A query (a search keystroke, a filter, a sort) starts a job on the browse thread pool: the search is
worked out, the first page read (:meth:`~govshare_desktop.core.browse.Browser.page`) and shown at
once, then the count and the 合计 follow when their statements finish. The rows shown so far stay
until the new ones arrive (no blank flash while typing). A new query supersedes the jobs of the
previous one: their statements are interrupted and whatever they still deliver is dropped. More rows
come by keyset pages when the view scrolls to the end (``canFetchMore``/``fetchMore``): the row
numbers in the vertical header are the rows' positions in the order, and ``rowCount`` is the rows
loaded so far — :attr:`SqlTableModel.count` is the number of matching rows once counted.

Signals: ``arrived()`` — the first rows of the current query are in (also after a sort);
``counted(int)`` — its exact count; ``totalled(object)`` — its 合计 (dict of fen by column key).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)

from govshare_desktop.core.browse import PAGE, Browser, Column, Interrupt, Query, format_cell

log = logging.getLogger(__name__)

PAGE_SIZE = PAGE
FIND_LIMIT = 5000  # after a sort, pages are read until the selected rows are in, up to this many

RowId = Qt.ItemDataRole.UserRole + 1  # the row's primary key
RawValue = Qt.ItemDataRole.UserRole + 2  # the stored value behind the cell text

_Index = QModelIndex | QPersistentModelIndex
_POOLS: dict[str, QThreadPool] = {}


def pool(kind: str = "rows") -> QThreadPool:
    """The browse queries' own threads — ``rows``: first rows and further pages; ``counts``: the
    counts and 合计 (one at a time). A count of 7.5M payments never holds up a search's first rows,
    and an export or an import on the global pool never holds up either."""
    found = _POOLS.get(kind)
    if found is None:
        found = _POOLS[kind] = QThreadPool()
        found.setMaxThreadCount(2 if kind == "rows" else 1)
        found.setExpiryTimeout(30_000)
    return found


class _Bridge(QObject):
    delivered = Signal(int, str, object)  # generation, what, payload


def _sender(bridge: _Bridge) -> Callable[[int, str, object], None]:
    """Emit on ``bridge`` (kept alive by the job); nothing if the model has gone meanwhile."""

    def send(generation: int, what: str, payload: object) -> None:
        with contextlib.suppress(RuntimeError):  # the model's bridge was deleted: nobody to tell
            bridge.delivered.emit(generation, what, payload)

    return send


class _Job(QRunnable):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()


class SqlTableModel(QAbstractTableModel):
    """Rows of one :class:`~govshare_desktop.core.browse.Dataset`, masked by default."""

    arrived = Signal()
    counted = Signal(int)
    totalled = Signal(object)

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
        self._columns: tuple[Column, ...] = query.dataset.columns
        self._rows: list[tuple[Any, ...]] = []  # (id, *column values), in order
        self._row_of: dict[int, int] = {}
        self._resolved: Query | None = None  # the query with its search worked out
        self._after: tuple[Any, ...] | None = None  # the last row's sort key: more rows follow
        self._fetching = False
        self._generation = 0
        self._interrupts: list[Interrupt] = []
        self._count: int | None = None
        self._totals: dict[str, int] | None = None
        self._waiting = False
        self._loaded = False
        self._when_arrived: list[Callable[[], None]] = []
        self._bridge = _Bridge()
        self._bridge.delivered.connect(self._deliver)
        if load:
            self._start()

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

    @property
    def waiting(self) -> bool:
        """The current query's first rows are not in yet."""
        return self._waiting

    @property
    def count(self) -> int | None:
        """Matching rows: exact once counted; known at once when every row is loaded."""
        if self._count is None and self._loaded and not self._waiting and self._after is None:
            return len(self._rows)
        return self._count

    @property
    def totals(self) -> dict[str, int] | None:
        return self._totals

    def when_arrived(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the current query's first rows are in (now, if they are)."""
        if self._loaded and not self._waiting:
            callback()
        else:
            self._when_arrived.append(callback)

    def ensure_loaded(self) -> None:
        if not self._loaded and not self._waiting:
            self._start()

    def set_query(self, query: Query) -> None:
        if query == self._query:
            return
        self._query = query
        if self._loaded or self._waiting:
            self._start()

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
        self._start()

    def row_id(self, row: int) -> int:
        return int(self._rows[row][0])

    def row_of_id(self, row_id: int) -> int:
        """The row of a loaded record (-1: not among the rows loaded)."""
        return self._row_of.get(row_id, -1)

    def raw_row(self, row: int) -> tuple[Any, ...]:
        return tuple(self._rows[row][1:])

    def raw_row_of_id(self, row_id: int) -> tuple[Any, ...]:
        """A record's stored values, loaded or not (read by id)."""
        row = self.row_of_id(row_id)
        if row >= 0:
            return self.raw_row(row)
        return self._browser.rows(self._query.dataset, [row_id])[row_id]

    def column_key(self, column: int) -> str:
        return self._columns[column].key

    # ---------------------------------------------------------------- jobs

    def stop(self) -> None:
        """Interrupt every query this model has running (its rows are no longer wanted)."""
        for interrupt in self._interrupts:
            interrupt()
        self._interrupts = []

    def _start(self, keep: list[int] | None = None) -> None:
        """Supersede every running job and start the current query's."""
        self.stop()
        self._generation += 1
        self._waiting = True
        self._fetching = False
        self._count = None
        self._totals = None
        self._sort_pending = keep
        generation, query, browser = self._generation, self._query, self._browser
        interrupt = Interrupt()
        self._interrupts.append(interrupt)
        emit = _sender(self._bridge)
        wanted = set(keep or ())
        at_least = self.rowCount() if keep is not None else 0

        def work() -> None:
            try:
                resolved = browser.resolve(query, interrupt)
                page = browser.page(resolved, interrupt=interrupt)
                rows, after = list(page.rows), page.after
                # after a sort: as many rows as were shown, and the selected ones
                while after is not None and len(rows) < FIND_LIMIT:
                    have = {r[0] for r in rows}
                    if len(rows) >= at_least and wanted <= have:
                        break
                    more = browser.page(resolved, after, interrupt=interrupt)
                    rows += more.rows
                    after = more.after
                emit(generation, "first", (resolved, rows, after))
            except Exception as exc:  # superseded (interrupted) or failed: said to the model
                emit(generation, "failed", exc)
                return
            if after is None and not query.dataset.totals:
                emit(generation, "count", len(rows))
                return

            def count() -> None:
                try:
                    emit(generation, "count", browser.count(resolved, interrupt))
                    if query.dataset.totals:
                        emit(generation, "totals", browser.totals(resolved, interrupt))
                except Exception as exc:
                    emit(generation, "failed", exc)

            pool("counts").start(_Job(count))

        pool().start(_Job(work))

    def _fetch(self) -> None:
        assert self._resolved is not None and self._after is not None
        self._fetching = True
        generation, resolved, after = self._generation, self._resolved, self._after
        browser, emit = self._browser, _sender(self._bridge)
        interrupt = Interrupt()
        self._interrupts.append(interrupt)

        def work() -> None:
            try:
                page = browser.page(resolved, after, interrupt=interrupt)
                emit(generation, "more", (page.rows, page.after))
            except Exception as exc:
                emit(generation, "failed", exc)

        pool().start(_Job(work))

    def _deliver(self, generation: int, what: str, payload: Any) -> None:
        if generation != self._generation:
            return  # a superseded query's
        if what == "first":
            self._first_rows(*payload)
        elif what == "more":
            self._more_rows(*payload)
        elif what == "count":
            self._count = int(payload)
            self.counted.emit(self._count)
        elif what == "totals":
            self._totals = payload
            self.totalled.emit(payload)
        elif what == "failed":
            log.warning("a list query failed: %r", payload)
            self._fetching = False
            if self._waiting:  # nothing shown for this query: show no rows rather than stale ones
                self._first_rows(self._query, [], None)

    def _first_rows(
        self, resolved: Query, rows: list[tuple[Any, ...]], after: tuple[Any, ...] | None
    ) -> None:
        sorting = self._sort_pending is not None and len(rows) >= len(self._rows)
        if sorting:
            self._relayout(rows)
        else:
            self.beginResetModel()
            self._set_rows(rows)
            self.endResetModel()
        self._sort_pending = None
        self._resolved, self._after = resolved, after
        self._waiting, self._loaded, self._fetching = False, True, False
        self.arrived.emit()
        callbacks, self._when_arrived = self._when_arrived, []
        for callback in callbacks:
            callback()

    def _set_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._row_of = {int(r[0]): i for i, r in enumerate(rows)}

    def _relayout(self, rows: list[tuple[Any, ...]]) -> None:
        """A sort's rows (at least as many as were shown): the selection and current row stay on
        the same records, at their new rows."""
        if len(rows) > len(self._rows):  # first as many rows as will be shown, then reordered
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, len(rows) - 1)
            self._rows = self._rows + rows[start:]
            self.endInsertRows()
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        kept = [self.row_id(i.row()) if i.isValid() else None for i in persistent]
        self._set_rows(rows)
        if persistent:
            self.changePersistentIndexList(
                persistent,
                [
                    self.index(self._row_of[row_id], old.column())
                    if row_id in self._row_of
                    else QModelIndex()
                    for old, row_id in zip(persistent, kept, strict=True)
                ],
            )
        self.layoutChanged.emit()

    def _more_rows(self, rows: list[tuple[Any, ...]], after: tuple[Any, ...] | None) -> None:
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows = self._rows + list(rows)
            self._row_of.update({int(r[0]): start + i for i, r in enumerate(rows)})
            self.endInsertRows()
        self._after = after
        self._fetching = False

    # ---------------------------------------------------------------- Qt model API

    _sort_pending: list[int] | None = None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return (
            not parent.isValid()
            and self._after is not None
            and not self._fetching
            and not self._waiting
        )

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

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
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._rows):
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = self._rows[index.row()][index.column() + 1]
            return format_cell(column, value, masked=self._masked, today=self._today)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == RowId:
            return self.row_id(index.row())
        if role == RawValue:
            return self._rows[index.row()][index.column() + 1]
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
        self._query = self._query.sorted_by(key, descending)
        if not self._loaded and not self._waiting:
            return
        kept = [self.row_id(i.row()) for i in self.persistentIndexList() if i.isValid()]
        self._sort_pending = kept
        self._start(keep=kept)
