"""The 发件箱 page: every package the township made — reports, receipts — with where it was
written and whether the county's receipt came back; 「写入文件夹…」 writes every package not yet
written, 「再次写出所选…」 the chosen one again.

:class:`PackageWriter` does the writing for this page, for the 一表通 page (after 上报 and
审核通过) and for the 校核纠错 page (发送纠错): it asks for the folder — a USB stick, a shared
folder —, remembers it for the session, and writes off the UI thread
(:func:`~govshare_desktop.ui.tasks.run_task`) through
:func:`govshare_desktop.core.services.reports.write_package` / ``write_unwritten``, which write
each file whole and audit it.

Signals of :class:`PackageWriter`: ``written(object)`` — packages were written (their paths).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QPushButton,
    QWidget,
)

from govshare_desktop.core.exchange.outbox import OutboxEntry
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import reports
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.table_rows import (
    RowRole,
    TableRows,
    lay_out_list,
    page_label,
    rows_table,
)
from govshare_desktop.ui.tasks import Task, run_task
from govshare_desktop.ui.usecases import context

OFFER = "已生成上报数据包，现在写入 U 盘或共享文件夹吗？"
HEADERS = ("时间", "类型", "发往", "序号", "内容", "写出位置", "回执")
TIME, KIND, RECIPIENT, SEQUENCE, SUBJECT, WRITTEN, RECEIPT = range(len(HEADERS))
EntryRole = RowRole  # the row's OutboxEntry

_WAITING = QColor("#9a3412")  # not yet written: it has not left this computer
_REFUSED = QColor("#b91c1c")


def written_text(paths: list[Path]) -> str:
    """「已写入 2 个数据包到 …：a.zip、b.zip」 (or that there was nothing to write)."""
    if not paths:
        return "没有需要写出的数据包：发件箱中的数据包都已写出。"
    names = "、".join(path.name for path in paths)
    return f"已写入 {len(paths)} 个数据包到 {paths[0].parent}：{names}。请把它们报送县级平台。"


class PackageWriter(QObject):
    """Writes outbox packages into a folder the clerk chooses (remembered for the session)."""

    written = Signal(object)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.folder: Path | None = None
        self.task: Task | None = None

    def choose_folder(self, parent: QWidget) -> Path | None:
        name = QFileDialog.getExistingDirectory(
            parent, "写出数据包：选择 U 盘或共享文件夹", str(self.folder or Path.home())
        )
        if not name:
            return None
        self.folder = Path(name)
        return self.folder

    def offer(self, parent: QWidget, package_id: str, done: Callable[[str], None]) -> None:
        """After 上报 or 审核通过: write the new package now (with any earlier unwritten
        receipt to the same recipient), or leave it in the 发件箱."""
        answer = QMessageBox.question(
            parent,
            "写出上报数据包",
            OFFER,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        folder = self.choose_folder(parent) if answer == QMessageBox.StandardButton.Yes else None
        if folder is None:
            done("数据包已留在「发件箱」，可随时在那里写出。")
            return
        ctx = context(self.store)
        self._run(parent, lambda: reports.write_package(ctx, package_id, folder), done)

    def write_package(self, parent: QWidget, package_id: str, done: Callable[[str], None]) -> None:
        folder = self.choose_folder(parent)
        if folder is not None:
            ctx = context(self.store)
            self._run(parent, lambda: reports.write_package(ctx, package_id, folder), done)

    def write_unwritten(self, parent: QWidget, done: Callable[[str], None]) -> None:
        folder = self.choose_folder(parent)
        if folder is not None:
            ctx = context(self.store)
            self._run(parent, lambda: reports.write_unwritten(ctx, folder), done)

    def make_and_write(
        self, parent: QWidget, make: Callable[[], list[str]], done: Callable[[str], None]
    ) -> bool:
        """Packages made now (``make`` returns their ids: 发送纠错) and written into the folder
        the clerk chooses, off the UI thread; False, with nothing made, if no folder was chosen."""
        folder = self.choose_folder(parent)
        if folder is None:
            return False
        ctx = context(self.store)

        def work() -> list[Path]:
            return [path for each in make() for path in reports.write_package(ctx, each, folder)]

        self._run(parent, work, done)
        return True

    def _run(
        self, parent: QWidget, work: Callable[[], list[Path]], done: Callable[[str], None]
    ) -> None:
        def finished(paths: list[Path]) -> None:
            self.written.emit(paths)
            done(written_text(paths))

        self.task = run_task(parent, "正在写出数据包……", lambda _p, _c: work(), finished)


class OutboxModel(TableRows[OutboxEntry], QAbstractTableModel):
    """The outbox entries, newest first (as the core returns them)."""

    headers = HEADERS

    @property
    def entries(self) -> list[OutboxEntry]:
        return self.rows

    def cell(self, entry: OutboxEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(entry, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == WRITTEN and entry.written_at is None:
                return QBrush(_WAITING)
            if column == RECEIPT and entry.receipt_status == "refused":
                return QBrush(_REFUSED)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SEQUENCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _cell(entry: OutboxEntry, column: int) -> str:
    if column == TIME:
        return f"{entry.created_at:%Y-%m-%d %H:%M}"
    if column == KIND:
        return entry.kind_label
    if column == RECIPIENT:
        return entry.recipient_name
    if column == SEQUENCE:
        return str(entry.sequence)
    if column == SUBJECT:
        return entry.subject
    if column == WRITTEN:
        if entry.written_at is None:
            return "未写出"
        return f"{entry.written_to}（{entry.written_at:%m-%d %H:%M}）"
    return entry.receipt_label


def _tooltip(entry: OutboxEntry, column: int) -> str:
    if column == RECEIPT and entry.receipt_reason:
        return f"拒收原因：{entry.receipt_reason}"
    lines = [f"文件：{entry.file_name}", f"SHA-256：{entry.sha256}", f"生成人：{entry.created_by}"]
    if entry.replaces:
        lines.append(f"替代此前上报的数据包 {entry.replaces}")
    return "\n".join(lines)


class OutboxView(QWidget):
    """The 发件箱 page."""

    def __init__(self, store: Store, writer: PackageWriter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outbox_view")
        self.store = store
        self.writer = writer
        self.model = OutboxModel(self)
        self.table = rows_table(self, "outbox_table", self.model, stretch=SUBJECT)
        self.note = page_label(self, "outbox_note")
        self.write_all = QPushButton("写入文件夹…", self)
        self.write_all.setObjectName("outbox_write_all")
        self.write_all.setToolTip("把所有尚未写出的数据包写入 U 盘或共享文件夹（按序号）")
        self.write_all.clicked.connect(self.write_unwritten)
        self.write_again = QPushButton("再次写出所选…", self)
        self.write_again.setObjectName("outbox_write_again")
        self.write_again.setToolTip("把所选数据包再写出一次（如 U 盘丢失或县里要求重发）")
        self.write_again.clicked.connect(self.write_selected)
        self.status = page_label(self, "outbox_status", selectable=True)
        lay_out_list(self, self.note, [self.write_all, self.write_again], self.table, self.status)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.writer.written.connect(self._written)
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected()
        self.model.load(reports.outbox(context(self.store)))
        waiting = sum(1 for e in self.model.entries if e.written_at is None)
        refused = sum(1 for e in self.model.entries if e.receipt_status == "refused")
        if not self.model.entries:
            said = "发件箱是空的。上报的报表和收到数据包后生成的回执会列在这里。"
        else:
            said = f"共 {len(self.model.entries)} 个数据包"
            said += f"，{waiting} 个尚未写出" if waiting else "，都已写出"
            said += f"，{refused} 个被县级平台拒收（见「回执」列）" if refused else ""
            said += "。写出的文件请按序号报送县级平台；回执随县级数据包导入后更新。"
        self.note.setText(said)
        if selected is not None:
            ids = [e.package_id for e in self.model.entries]
            if selected.package_id in ids:
                self.table.selectRow(ids.index(selected.package_id))
        self._update_buttons()

    def _written(self, _paths: object) -> None:
        self.refresh()

    def selected(self) -> OutboxEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.entries[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        may = self.store.principal.may(Action.SUBMIT_FORM)
        waiting = any(e.written_at is None for e in self.model.entries)
        self.write_all.setEnabled(may and waiting)
        self.write_again.setEnabled(may and self.selected() is not None)

    def write_unwritten(self) -> None:
        self.writer.write_unwritten(self, self.status.setText)

    def write_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            self.status.setText("请先在列表中选择一个数据包。")
            return
        self.writer.write_package(self, entry.package_id, self.status.setText)
