"""One browse page: a filter bar and a table over a dataset (户籍, 人员, 参保, 待遇发放).

Signals: ``activated_row(str, int)`` — the clerk opened a row (Enter or double-click): dataset key and
row id; ``counted(int)`` — the number of matching rows changed.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.browse import Browser, Dataset, Query
from govshare_desktop.ui.table_model import SqlTableModel


class BrowseView(QWidget):
    activated_row = Signal(str, int)
    counted = Signal(int)

    def __init__(
        self,
        browser: Browser,
        dataset: Dataset,
        *,
        today: date,
        extra_filters: list[tuple[str, str, list[tuple[str, object]]]] | None = None,
        initial_filters: dict[str, object] | None = None,
        load: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self._filter_combos: dict[str, QComboBox] = {}
        self.model = SqlTableModel(
            browser,
            Query(dataset, dict(initial_filters or {})),
            today=today,
            load=load,
            parent=self,
        )
        self.model.queried.connect(self.counted)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for key, label, options in extra_filters or []:
            combo = QComboBox(self)
            combo.setObjectName(f"filter_{key}")
            for text, value in options:
                combo.addItem(text, value)
            initial = (initial_filters or {}).get(key)
            if initial is not None:
                combo.setCurrentIndex(max(0, combo.findData(initial)))
            combo.currentIndexChanged.connect(
                lambda _i, k=key, c=combo: self.set_filter(k, c.currentData())
            )
            caption = QLabel(label, self)
            caption.setBuddy(combo)
            bar.addWidget(caption)
            bar.addWidget(combo)
            self._filter_combos[key] = combo
        bar.addStretch(1)

        self.table = QTableView(self)
        self.table.setObjectName(f"table_{dataset.key}")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # Show the dataset's default order before enabling sorting, which sorts by the indicator.
        self.table.horizontalHeader().setSortIndicator(
            dataset.column_index(dataset.default_sort), Qt.SortOrder.AscendingOrder
        )
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        for column, spec in enumerate(dataset.columns):
            self.table.setColumnWidth(column, spec.width)
        # activated: double-click or Enter (the platform decides), never both at once
        self.table.activated.connect(lambda index: self._activate(index.row()))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if self._filter_combos:
            layout.addLayout(bar)
        layout.addWidget(self.table)

    def set_filter(self, key: str, value: object) -> None:
        if key not in self.dataset.filters:
            return
        self.model.set_query(self.model.query.with_filter(**{key: value}))
        if self.model.rowCount():
            self.table.scrollToTop()

    def set_masked(self, masked: bool) -> None:
        self.model.set_masked(masked)

    def select_first(self) -> None:
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
            self.table.setFocus()

    def _activate(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.activated_row.emit(self.dataset.key, self.model.row_id(row))
