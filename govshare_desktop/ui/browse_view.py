"""One browse page: a filter bar and a table over a dataset (户籍, 人员, 参保, 待遇发放).

Data held past the 使用期限 a share request was granted for (谁使用谁负责) is said above the table
while the page shows it, and asked about before a list export
(:func:`govshare_desktop.core.services.sharing.use_warning`: a few small queries, made when the
page is built, when data arrives and when an export starts — never per keystroke).

Signals: ``activated_row(str, int)`` — the clerk opened a row (Enter or double-click): dataset key and
row id; ``counted(int)`` — the first rows arrived (-1: not counted yet) or the exact count did; ``exported(object)`` — a list export
finished (its :class:`~govshare_desktop.core.export.lists.ExportResult`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.browse import Browser, Dataset, Query
from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.core.services import sharing
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.services.output import export_list
from govshare_desktop.core.store.search import HINT, SearchKind, classify
from govshare_desktop.ui import zoom
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.exported import ExportedMessage, show_exported
from govshare_desktop.ui.settings import (
    export_folder,
    remember_export,
    restore_columns,
    save_columns,
)
from govshare_desktop.ui.table_model import SqlTableModel
from govshare_desktop.ui.tasks import Task, run_task, single_shot_timer
from govshare_desktop.ui.total_row import TotalRow

log = logging.getLogger(__name__)


def ask_save_path(parent: QWidget, suggested: Path) -> Path | None:
    """The file the clerk chooses to export to (``None``: cancelled). Tests replace this."""
    name, _filter = QFileDialog.getSaveFileName(
        parent, "导出 Excel", str(suggested), "Excel 工作簿 (*.xlsx)"
    )
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")


def ask_past_use_period(parent: QWidget, warning: str) -> bool:
    """Export data held past its 使用期限 all the same? (取消 is the default.) Tests replace this."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, "导出 Excel：已超过使用期限", warning, parent=parent
    )
    box.setInformativeText("仍要导出吗？")
    go = box.addButton("继续导出", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is go


def ask_unmasked_export(parent: QWidget) -> tuple[bool, str] | None:
    """Asked while the window shows full data: (unmasked, reason), or ``None`` to cancel.

    Masked is the default answer; full data needs a reason, which goes to the log."""
    answer = QMessageBox.question(
        parent,
        "导出 Excel",
        "窗口当前显示完整信息。导出的文件是否也包含完整的姓名、证件号码、电话和住址？\n\n"
        "选“否”导出脱敏信息（推荐）。",
        QMessageBox.StandardButton.Yes
        | QMessageBox.StandardButton.No
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.No,
    )
    if answer == QMessageBox.StandardButton.Cancel:
        return None
    if answer != QMessageBox.StandardButton.Yes:
        return False, ""
    reason, ok = QInputDialog.getText(
        parent, "导出完整信息", "导出完整的个人信息需说明事由（将记入运行日志）："
    )
    if not ok or not reason.strip():
        return None
    return True, reason.strip()


class BrowseView(QWidget):
    activated_row = Signal(str, int)
    counted = Signal(int)
    exported = Signal(object)

    def __init__(
        self,
        browser: Browser,
        dataset: Dataset,
        *,
        today: date,
        extra_filters: Sequence[tuple[str, str, Sequence[tuple[str, object]]]] = (),
        initial_filters: dict[str, object] | None = None,
        load: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self._browser = browser
        self._today = today
        self._export_task: Task | None = None
        self.exported_message: ExportedMessage | None = None  # the last export's message
        self._filter_combos: dict[str, QComboBox] = {}
        self.model = SqlTableModel(
            browser,
            Query(dataset, dict(initial_filters or {})),
            today=today,
            load=load,
            parent=self,
        )
        # the count label follows the first rows (loaded so far) and then the exact count
        self.model.arrived.connect(self._arrived)
        self.model.counted.connect(self.counted)

        # The 使用期限 warning (check_use_period): a line, not a dialog, while the page is shown.
        self.use_warning = QLabel(self)
        self.use_warning.setObjectName("use_warning")
        self.use_warning.setWordWrap(True)
        self.use_warning.setStyleSheet(
            "background:#fde2e1; color:#991b1b; border:1px solid #f87171; padding:4px 8px;"
        )
        self.use_warning.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._bar(extra_filters, initial_filters or {}))
        layout.addWidget(self.use_warning)
        layout.addWidget(self._table(dataset))
        self.total_row: TotalRow | None = None  # 合计 (待遇发放), summed by the database
        if dataset.totals:
            self.total_row = TotalRow(self.table, dataset, self)
            layout.addWidget(self.total_row)
            self.model.totalled.connect(self._update_totals)  # summed off the UI thread

    def _bar(
        self,
        extra_filters: Sequence[tuple[str, str, Sequence[tuple[str, object]]]],
        initial_filters: dict[str, object],
    ) -> QHBoxLayout:
        """The page's own filters, the search hint and 导出 Excel."""
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for key, label, options in extra_filters:
            combo = QComboBox(self)
            combo.setObjectName(f"filter_{key}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # zoomed too
            for text, value in options:
                combo.addItem(text, value)
            initial = initial_filters.get(key)
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
        # Shown when the search text has nothing to search for (only spaces or punctuation):
        # the list is then empty on purpose, never everybody.
        self.search_hint = QLabel(HINT, self)
        self.search_hint.setObjectName("search_hint")
        self.search_hint.setStyleSheet("color: #b45309;")
        self.search_hint.setVisible(False)
        bar.addWidget(self.search_hint)
        bar.addStretch(1)
        self.export_button = QPushButton("导出 Excel…", self)
        self.export_button.setObjectName("export_list")
        self.export_button.setToolTip(
            "把本页列出的全部行（按当前的查找、筛选和排序）导出为 Excel 工作簿；默认脱敏"
        )
        self.export_button.clicked.connect(self.export_list)
        bar.addWidget(self.export_button)
        return bar

    def _table(self, dataset: Dataset) -> QTableView:
        """The rows: sorted by the dataset's default order, one line each."""
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
        # Widths are given for a 12-pixel character (9 pt); the program's font is larger, and a
        # header is never cut: 「个人账户养老金（元）」 whole, with room for the sort arrow.
        char = self.table.fontMetrics().horizontalAdvance("中")
        titles = self.table.horizontalHeader().fontMetrics()
        for column, spec in enumerate(dataset.columns):
            width = max(round(spec.width * char / 12), titles.horizontalAdvance(spec.header) + 24)
            self.table.setColumnWidth(column, width)
        header = self.table.horizontalHeader()
        restore_columns(header, dataset.key, zoom.ratio(self.table))  # as the clerk left them
        zoom.follow_font(self.table)  # rows and columns grow with the zoom
        self._columns_timer = single_shot_timer(self, 400)  # saved once dragging stops
        self._columns_timer.timeout.connect(
            lambda: save_columns(header, dataset.key, zoom.ratio(self.table))
        )
        header.sectionResized.connect(lambda *_sizes: self._columns_timer.start())
        # activated: double-click or Enter (the platform decides), never both at once
        self.table.activated.connect(lambda index: self._activate(index.row()))

        return self.table

    def _arrived(self) -> None:
        self._update_search_hint()
        count = self.model.count
        self.counted.emit(-1 if count is None else count)

    def _update_totals(self, totals: dict[str, int]) -> None:
        count = self.model.count
        if self.total_row is not None and count is not None:
            self.total_row.show_totals(count, totals, self._today)

    def set_filter(self, key: str, value: object) -> None:
        if key not in self.dataset.filters:
            return
        self.model.set_query(self.model.query.with_filter(**{key: value}))
        if self.model.rowCount():
            self.table.scrollToTop()

    def set_masked(self, masked: bool) -> None:
        self.model.set_masked(masked)

    def _update_search_hint(self) -> None:
        search = self.model.query.filters.get("search")
        nothing = classify(str(search or "")).kind is SearchKind.NOTHING
        self.search_hint.setVisible(nothing and "search" in self.dataset.filters)

    def check_use_period(self) -> str | None:
        """Is this page's data held past its 使用期限? The warning is shown above the table (and
        returned), or hidden (None)."""
        today = self._today
        ctx = Context(self._browser.store, lambda: datetime.combine(today, time()))
        warning = sharing.use_warning(ctx, [self.dataset.key])
        self.use_warning.setText(f"注意：{warning}" if warning else "")
        self.use_warning.setVisible(warning is not None)
        return warning

    def select_first(self) -> None:
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
            self.table.setFocus()

    def _activate(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.activated_row.emit(self.dataset.key, self.model.row_id(row))

    # ---------------------------------------------------------------- list export

    def export_list(self) -> Task | None:
        """Ask for a file (and, when the window shows full data, whether to export it), then write
        every listed row in a background task with progress and 取消."""
        if self._export_task is not None and not self._export_task.done:
            return None
        self.model.ensure_loaded()
        if self.model.waiting:  # the first rows are on their way: is there one? (a 1-row page)
            empty = not self._browser.page(self.model.query, limit=1).rows
        else:
            empty = not self.model.rowCount()
        if empty:
            QMessageBox.information(self, "导出 Excel", "本页没有可导出的行。")
            return None
        warning = self.check_use_period()
        if warning is not None and not ask_past_use_period(self, warning):
            return None
        user = self._browser.store.principal.username
        name = f"{self.dataset.title}名单_{self._today:%Y%m%d}.xlsx"
        path = ask_save_path(self, export_folder(user) / name)  # 文档/govshare 导出, or the last
        if path is None:
            return None
        remember_export(user, path)
        masked, reason = True, ""
        if not self.model.masked:
            choice = ask_unmasked_export(self)
            if choice is None:
                return None
            unmasked, reason = choice
            if unmasked:
                masked = False
                # The reason also goes into the export's audit entry (core.export.lists).
                log.warning(
                    "personal data exported unmasked; reason: %s; file: %s; list: %s",
                    reason,
                    path,
                    self.dataset.key,
                )
        self._export_task = run_task(
            self,
            f"正在导出{self.dataset.title}名单…",
            self._export_work(path, masked, reason),
            self._exported,
            self._export_failed,
        )
        return self._export_task

    def _export_work(self, path: Path, masked: bool, reason: str = "") -> Any:
        store, query, today = self._browser.store, self.model.query, self._today
        columns = [
            c.key for i, c in enumerate(self.dataset.columns) if not self.table.isColumnHidden(i)
        ]

        def work(progress: Progress, cancel: Cancel) -> Any:
            ctx = Context(store, lambda: datetime.combine(today, time()), progress, cancel)
            return export_list(ctx, query, path, masked=masked, reason=reason, columns=columns)

        return work

    def _exported(self, result: Any) -> None:
        note = "（已脱敏）" if result.masked else "（含完整个人信息，请妥善保管）"
        self.exported_message = show_exported(
            self, f"已导出 {result.rows:,} 行{note}到：\n{result.path}", Path(result.path)
        )
        self.exported.emit(result)

    def _export_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return  # the clerk pressed 取消: nothing was written, nothing to say
        show_error(self, exc)
