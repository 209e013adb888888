"""The 校核纠错 page: every correction request the township raised — from a check case, a person
card or a household — with where it stands: 待发送, 已发送 (with the reply deadline), 已答复
(采纳 / 不采纳 and why), 已更正 (a later back-flow brought the value), or 超期 past its deadline
unanswered, in bold red. 「发送纠错…」 gathers the waiting ones into one signed package per
department (:func:`govshare_desktop.core.services.reports.send_corrections`) and writes them into
the folder the 发件箱 uses (:class:`~govshare_desktop.ui.outbox_view.PackageWriter`).

A page of its own rather than a part of the 发件箱: the 发件箱 lists packages, one row each, and
is done with once they are written; a request lives for weeks after its package left — the
department answers it, a back-flow corrects it, or it runs late — and that is what a clerk comes
here to follow. The packages themselves are in the 发件箱 as well (类型 纠错).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QObject, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QMessageBox,
    QPushButton,
    QWidget,
)

from govshare_desktop.core.domain import masking
from govshare_desktop.core.reports.corrections import CorrectionView
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import reports
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.correction_dialog import shown_value, village_names
from govshare_desktop.ui.outbox_view import PackageWriter
from govshare_desktop.ui.rejected_dialog import RejectedRowsDialog
from govshare_desktop.ui.table_rows import (
    RowRole,
    TableRows,
    bold,
    lay_out_list,
    page_label,
    rows_table,
)
from govshare_desktop.ui.tasks_view import ATTENTION, DONE, OVERDUE, WEEKDAYS
from govshare_desktop.ui.usecases import context

HEADERS = ("部门", "姓名", "字段", "现值 → 建议值", "状态", "答复期限", "部门答复")
DEPARTMENT, NAME, FIELD, CHANGE, STATE, DEADLINE, ANSWER = range(len(HEADERS))
CorrectionRole = RowRole  # the row's CorrectionView


class CorrectionsModel(TableRows[CorrectionView], QAbstractTableModel):
    """The requests, newest first (as the core returns them)."""

    headers = HEADERS

    def __init__(self, villages: dict[str, str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.villages = villages
        self.masked = True

    def set_masked(self, masked: bool) -> None:
        self.beginResetModel()
        self.masked = masked
        self.endResetModel()

    def cell(self, row: CorrectionView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.overdue:
                return QBrush(OVERDUE)
            if row.state == "draft" and column == STATE:
                return QBrush(ATTENTION)
            return QBrush(DONE) if row.state in ("corrected", "accepted") else None
        if role == Qt.ItemDataRole.FontRole and row.overdue:
            return bold()
        return None

    def _value(self, row: CorrectionView, value: str) -> str:
        return shown_value(row.field, value, self.masked, self.villages)

    def _cell(self, row: CorrectionView, column: int) -> str:
        if column == DEPARTMENT:
            return row.department or "—"
        if column == NAME:
            return masking.mask_name(row.name) if self.masked else row.name
        if column == FIELD:
            return row.field.removesuffix("代码")
        if column == CHANGE:
            return f"{self._value(row, row.current_value)} → {self._value(row, row.proposed_value)}"
        if column == STATE:
            return row.state_label
        if column == ANSWER:
            return row.answer or ""
        if row.deadline is None:
            return "—"
        return f"{row.deadline:%Y-%m-%d}（周{WEEKDAYS[row.deadline.weekday()]}）"

    def _tooltip(self, row: CorrectionView) -> str:
        key = row.record_key
        if self.masked and row.dataset == "person":
            key = masking.mask_id_number(key)
        lines = [f"{'人员' if row.dataset == 'person' else '户号'}：{key}"]
        if row.answer:
            lines.append(f"部门答复：{row.answer}")
        if row.corrected_batch is not None:
            lines.append(f"已由第 {row.corrected_batch} 批回流数据更正")
        if row.state == "sent" and row.workdays_left is not None and row.workdays_left >= 0:
            lines.append(f"答复期限还剩 {row.workdays_left} 个工作日")
        return "\n".join(lines)


class CorrectionsView(QWidget):
    """The 校核纠错 page."""

    def __init__(
        self,
        store: Store,
        writer: PackageWriter,
        parent: QWidget | None = None,
        *,
        masked: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("corrections_view")
        self.store = store
        self.writer = writer
        self.model = CorrectionsModel(village_names(store), self)
        self.model.masked = masked
        self.note = page_label(self, "corrections_note")
        self.send = QPushButton("发送纠错…", self)
        self.send.setObjectName("corrections_send")
        self.send.setToolTip(
            "把待发送的纠错按数据来源部门各生成一个签名数据包，写入 U 盘或共享文件夹报送"
        )
        self.send.clicked.connect(self.send_waiting)
        self.rejected = QPushButton("被拒导入的行…", self)
        self.rejected.setObjectName("corrections_rejected")
        self.rejected.setToolTip("导入时因数据有误被拒的行：向数据来源部门提出纠错")
        self.rejected.clicked.connect(self.open_rejected)
        self.table = rows_table(self, "corrections_table", self.model)
        self.status = page_label(self, "corrections_status", selectable=True)
        lay_out_list(self, self.note, [self.send, self.rejected], self.table, self.status)
        self.writer.written.connect(lambda _paths: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.model.load(reports.correction_list(context(self.store)))
        rows = self.model.rows
        waiting = sum(1 for r in rows if r.state == "draft")
        overdue = sum(1 for r in rows if r.overdue)
        if not rows:
            said = (
                "还没有纠错。在人员信息的「纠错…」、比对核查的「提出纠错…」或"
                "「被拒导入的行…」中提出，汇总在这里按部门发送。"
            )
        else:
            said = f"共 {len(rows)} 条纠错"
            said += f"，{waiting} 条待发送" if waiting else ""
            said += f"，{overdue} 条超期未答复（红色，请电话催办）" if overdue else ""
            said += "。部门的答复随县级数据包导入后更新；回流数据改正后自动记为“已更正”。"
        self.note.setText(said)
        self.send.setEnabled(waiting > 0 and self.store.principal.may(Action.SUBMIT_FORM))

    def set_masked(self, masked: bool) -> None:
        self.model.set_masked(masked)

    def open_rejected(self) -> RejectedRowsDialog:
        """The rows imports left out: a 纠错 from one of them joins the waiting requests here."""
        dialog = RejectedRowsDialog(self.store, self, masked=self.model.masked)
        dialog.raised.connect(lambda _row: self.refresh())
        dialog.open()
        return dialog

    def send_waiting(self) -> None:
        """The waiting requests, one signed package per department, written into a folder."""
        waiting = [r for r in self.model.rows if r.state == "draft"]
        departments = sorted({r.department for r in waiting})
        answer = QMessageBox.question(
            self,
            "发送纠错",
            f"将 {len(waiting)} 条待发送的纠错按部门生成签名数据包（{'、'.join(departments)}），"
            "并写入 U 盘或共享文件夹。继续吗？",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        ctx = context(self.store)
        made = self.writer.make_and_write(
            self,
            lambda: [package.package_id for package in reports.send_corrections(ctx)],
            self._sent,
        )
        if not made:
            self.status.setText("没有选择文件夹，纠错未发送。")

    def _sent(self, text: str) -> None:
        self.refresh()
        self.status.setText(text)
