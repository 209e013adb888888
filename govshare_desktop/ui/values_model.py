"""The 一表通 items as a list (:class:`ValuesModel`), and the table that types into it
(:class:`EntryTable`): one row per data element, its value editable where the form allows it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemDelegate, QTableView, QWidget

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import Element
from govshare_desktop.core.forms.values import (
    COMPUTED,
    OVERRIDDEN,
    FormValues,
    StaleValue,
    canonical,
    display,
    stored_text,
)
from govshare_desktop.core.services import forms
from govshare_desktop.core.store.models import FormValue
from govshare_desktop.ui.usecases import context

ORIGIN_LABELS = {COMPUTED: "回流数据", OVERRIDDEN: "已修改", "entered": "填报"}
COLOURS = {COMPUTED: QColor("#e8f1fb"), OVERRIDDEN: QColor("#fff1d6")}

_Index = QModelIndex | QPersistentModelIndex


class ValuesModel(QAbstractTableModel):
    """One row per element: 数据项 | 数值 (editable) | 单位 | 来源 | 数源部门.

    Signals: ``entry_refused(str)`` — a typed value was not saved, with the Chinese reason."""

    entry_refused = Signal(str)

    HEADERS = ("数据项", "数值", "单位", "来源", "数源部门")
    VALUE = 1

    def __init__(self, pool: FormValues, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.elements: list[Element] = []
        self.rows: dict[str, FormValue] = {}
        self.area = ""
        self.period = Period.parse("2026-10")
        self.locked: set[str] = set()
        self.reason_for: Any = None  # callable(element) -> str | None, asked when overriding
        self.totals: dict[str, Any] = {}  # township: {element: 合计 worked out from its rows}

    def load(self, elements: list[Element], area: str, period: Period, locked: set[str]) -> None:
        self.beginResetModel()
        self.elements, self.area, self.period, self.locked = elements, area, period, locked
        found = self.pool.values(period, [area])
        self.rows = {code: by[area] for code, by in found.items() if area in by}
        # The township's 合计 of an additive item is the sum of its rows, as its forms show it.
        self.totals = {}
        if area == self.pool.township()[0]:
            self.totals = self.pool.township_totals(period, [e.code for e in elements])
            for code in self.totals:
                self.rows.pop(code, None)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.elements)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.elements):
            return None
        element = self.elements[index.row()]
        row = self.rows.get(element.code)
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == 0:
                return element.name
            if column == 1:
                stored = row.value if row else None
                if element.code in self.totals:
                    stored = stored_text(element, self.totals[element.code])
                text = display(element, stored)
                return text.replace(",", "") if role == Qt.ItemDataRole.EditRole else text
            if column == 2:
                return element.unit
            if column == 3:
                if element.code in self.totals:
                    return "合计（自动）"
                return (
                    ORIGIN_LABELS.get(row.origin, "")
                    if row
                    else ("待预填" if element.computed else "待填报")
                )
            return element.source
        if role == Qt.ItemDataRole.BackgroundRole and row is not None and row.origin in COLOURS:
            return QBrush(COLOURS[row.origin])
        if role == Qt.ItemDataRole.ToolTipRole and row is not None:
            tip = f"{ORIGIN_LABELS.get(row.origin, row.origin)}：{row.changed_by}，{row.changed_at:%Y-%m-%d %H:%M}"
            if row.origin == OVERRIDDEN:
                tip += f"\n回流数据计算值：{display(element, row.computed_value)}\n修改理由：{row.reason or ''}"
            return tip
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        code = self.elements[index.row()].code
        if index.column() == self.VALUE and code not in self.locked and code not in self.totals:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() != self.VALUE:
            return False
        element = self.elements[index.row()]
        row = self.rows.get(element.code)
        reason = None
        if element.computed and (
            row is None or row.computed_value != _canonical_or_none(element, value)
        ):
            reason = self.reason_for(element) if self.reason_for else None
            if reason is None:
                return False
        try:
            self.rows[element.code] = forms.set_value(
                context(self.pool.store),
                self.pool,
                element.code,
                self.area,
                self.period,
                value,
                reason=reason,
                seen=row.version if row is not None else 0,
            )
        except StaleValue as exc:  # another clerk changed it: show theirs, say so
            self.rows[element.code] = exc.current
            self.dataChanged.emit(
                self.index(index.row(), 0), self.index(index.row(), self.columnCount() - 1)
            )
            self.entry_refused.emit(exc.message)
            return False
        except UserError as exc:
            self.entry_refused.emit(exc.message)
            return False
        self.dataChanged.emit(
            self.index(index.row(), 0), self.index(index.row(), self.columnCount() - 1)
        )
        return True


def _canonical_or_none(element: Element, value: Any) -> str | None:
    try:
        return canonical(element, value)
    except UserError:
        return None


class EntryTable(QTableView):
    """Keyboard-first entry: Enter or Tab saves the cell and moves to the next item's value."""

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        super().closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        if hint in (
            QAbstractItemDelegate.EndEditHint.SubmitModelCache,
            QAbstractItemDelegate.EndEditHint.EditNextItem,
        ):
            current = self.currentIndex()
            following = self.model().index(current.row() + 1, current.column())
            if following.isValid():
                self.setCurrentIndex(following)
