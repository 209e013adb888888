"""The 合计 row under a list (待遇发放): how many rows the filters select and the sum of each money
column over all of them — summed by the database (:meth:`~govshare_desktop.core.browse.Browser.
totals`), not from the rows the view happens to have loaded.

It is a one-row table of its own, kept under the list's columns: the same widths (dragged or
zoomed), the same horizontal scroll, 「合计」 where the list has its row numbers.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from govshare_desktop.core.browse import Dataset, format_cell

ROW_PADDING = 10


class TotalRow(QTableWidget):
    """One row, 「合计」, under ``table`` (a list of ``dataset``)."""

    def __init__(self, table: QTableView, dataset: Dataset, parent: QWidget | None = None) -> None:
        super().__init__(1, len(dataset.columns), parent)
        self.setObjectName(f"total_{dataset.key}")
        self.table = table
        self.dataset = dataset
        self.horizontalHeader().hide()
        self.setVerticalHeaderLabels(["合计"])
        self.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setStyleSheet("QTableWidget { background: #f2f2f2; }")
        header = table.horizontalHeader()
        header.sectionResized.connect(lambda column, _old, new: self.setColumnWidth(column, new))
        table.verticalHeader().geometriesChanged.connect(self.follow)
        table.horizontalScrollBar().valueChanged.connect(self.horizontalScrollBar().setValue)
        self.follow()

    def follow(self) -> None:
        """The list's widths, row-number column and line height."""
        header = self.table.horizontalHeader()
        for column in range(header.count()):
            self.setColumnWidth(column, header.sectionSize(column))
        font = self.table.font()
        font.setBold(True)
        self.setFont(font)
        label = self.fontMetrics().horizontalAdvance("合计") + 12  # the lists' row numbers too
        self.table.verticalHeader().setMinimumWidth(label)
        self.verticalHeader().setFixedWidth(max(label, self.table.verticalHeader().width()))
        height = self.fontMetrics().height() + ROW_PADDING
        self.setRowHeight(0, height)
        self.setFixedHeight(height + 2)
        self.horizontalScrollBar().setValue(self.table.horizontalScrollBar().value())

    def show_totals(self, count: int, totals: dict[str, int], today: date) -> None:
        """「N 条」 in the first column, each sum under its column (in yuan)."""
        for column, spec in enumerate(self.dataset.columns):
            if column == 0:
                text = f"共 {count:,} 条"
            elif spec.key in totals:
                text = format_cell(spec, totals[spec.key], masked=False, today=today)
            else:
                text = ""
            item = QTableWidgetItem(text)
            if spec.key in totals:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(0, column, item)
        self.follow()
