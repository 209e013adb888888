"""被拒导入的行: the rows imports left out, and a 校核纠错 about one of them to the department the
file came from — the file's value, the value it should have, and the basis.

Opened from the 校核纠错 page (every batch) and from the import wizard's result page (the batches
just imported). The rows are :func:`govshare_desktop.core.services.reports.rejected_rows`; the
request is :func:`govshare_desktop.core.services.reports.raise_from_rejection`, which goes with the
other waiting requests when the clerk presses 「发送纠错…」.

Signals of :class:`RejectedRowsDialog`: ``raised(object)`` — a request was made (its
:class:`~govshare_desktop.core.store.models.Correction`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QObject, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.domain import masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.reports.rejections import RejectedRow
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import reports
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.correction_dialog import ERROR_STYLE
from govshare_desktop.ui.table_rows import TableRows, page_label, rows_table
from govshare_desktop.ui.tasks_view import DONE
from govshare_desktop.ui.usecases import context

HEADERS = ("文件", "行", "姓名", "身份号码", "字段", "文件中的值", "问题", "纠错")
FILE, ROW, NAME, KEY, FIELD, VALUE, PROBLEM, STATE = range(len(HEADERS))
MASKED_FIELDS = {"公民身份号码", "社会保障号码", "户主公民身份号码"}


class RejectedModel(TableRows[RejectedRow], QAbstractTableModel):
    """The rejected rows, newest batch first (as the core returns them)."""

    headers = HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.masked = True

    def cell(self, row: RejectedRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.message
        if role == Qt.ItemDataRole.ForegroundRole and row.correction_id is not None:
            return QBrush(DONE)
        return None

    def _cell(self, row: RejectedRow, column: int) -> str:
        if column == FILE:
            return row.file_name
        if column == ROW:
            return str(row.row)
        if column == NAME:
            return masking.mask_name(row.name) if self.masked else row.name
        if column == KEY:
            key = row.record_key or "（读不出）"
            return masking.mask_id_number(key) if self.masked and row.record_key else key
        if column == FIELD:
            return row.field or row.column
        if column == VALUE:
            value = row.value or ""
            if self.masked and row.field in MASKED_FIELDS:
                return masking.mask_id_number(value)
            return value
        if column == PROBLEM:
            return row.message
        if row.correction_id is not None:
            return "已提出"
        return "可纠错" if row.correctable else "不能纠错"


class RejectedRowsDialog(QDialog):
    """The rejected rows (of some batches, or all) and the 纠错 form for the selected one."""

    raised = Signal(object)

    def __init__(
        self,
        store: Store,
        parent: QWidget | None = None,
        *,
        batches: Collection[int] | None = None,
        masked: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("rejected_dialog")
        self.setWindowTitle("被拒导入的行：向数据来源部门纠错")
        self.store = store
        self.batches = set(batches) if batches is not None else None
        self.model = RejectedModel(self)
        self.model.masked = masked
        self.note = page_label(self, "rejected_note")
        self.table = rows_table(self, "rejected_table", self.model, stretch=PROBLEM)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.detail = page_label(self, "rejected_detail", selectable=True)
        self.proposed = QLineEdit(self)
        self.proposed.setObjectName("rejected_proposed")
        self.proposed.setPlaceholderText("正确的值，如正确的公民身份号码、民族代码 01")
        self.basis = QLineEdit(self)
        self.basis.setObjectName("rejected_basis")
        self.basis.setPlaceholderText("如：居民身份证、户口簿、村委会入户核实")
        self.submit = QPushButton("提出纠错", self)
        self.submit.setObjectName("rejected_submit")
        self.submit.clicked.connect(self.raise_selected)
        self.problem = QLabel(self)
        self.problem.setObjectName("rejected_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(ERROR_STYLE)
        form = QFormLayout()
        form.addRow("建议值：", self.proposed)
        form.addRow("依据：", self.basis)
        form.addRow("", self.submit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(1000, 560)
        self.refresh()

    def refresh(self) -> None:
        rows = reports.rejected_rows(context(self.store))
        if self.batches is not None:
            rows = [r for r in rows if r.batch_id in self.batches]
        self.model.load(rows)
        open_ = sum(1 for r in rows if r.correctable)
        self.note.setText(
            f"共 {len(rows)} 行导入时被拒，其中 {open_} 行可以向数据来源部门提出纠错。"
            "选中一行，填写正确的值和依据，提出的纠错在「校核纠错」页按部门发送。"
            if rows
            else "没有导入时被拒的行。"
        )
        for number, row in enumerate(rows):
            if row.correctable:
                self.table.selectRow(number)
                break
        self._selected()

    def current(self) -> RejectedRow | None:
        return self.model.row_at(self.table.currentIndex())

    def _selected(self) -> None:
        row = self.current()
        may = self.store.principal.may(Action.EDIT_FORMS)
        usable = row is not None and row.correctable and may
        for widget in (self.proposed, self.basis, self.submit):
            widget.setEnabled(usable)
        self.problem.clear()
        self.detail.setText(
            f"“{row.file_name}”第 {row.row} 行，{row.column}：{row.message}" if row else ""
        )
        if row is not None and not row.correctable and row.correction_id is None:
            self.problem.setText(f"这一行不能纠错：{row.message}")

    def raise_selected(self) -> None:
        row = self.current()
        if row is None:
            return
        try:
            made = reports.raise_from_rejection(
                context(self.store),
                row.id,
                proposed=self.proposed.text(),
                basis=self.basis.text(),
            )
        except UserError as exc:
            self.problem.setText(exc.message)
            return
        self.proposed.clear()
        self.raised.emit(made)
        self.refresh()
        self.problem.setText(f"已提出纠错（{made.field}，发往 {made.department}），待发送。")
