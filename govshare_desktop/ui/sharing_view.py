"""The 目录与共享 page: what the township may ask the county platform for, what it asked, and on
what basis it holds what it has — three tabs over :mod:`govshare_desktop.core.services.sharing`.

* 「目录」: the catalog the county sent down, searched as you type (资源名称, 信息项, 提供方 or the
  name's pinyin initials) and filtered by 共享类型, with how its back-flow stands (逾期未更新 in
  bold red); the selected entry in full below. 「申请共享…」 (or Enter on the list) opens
  :class:`~govshare_desktop.ui.share_request_dialog.ShareRequestDialog`; for a 不予 entry the
  button is off and the page says why (the provider's basis).
* 「共享申请」: every request and where it stands; overdue ones in bold red. 「审核通过」 is the
  审核人's, on a 待审核 request; 「发送申请…」 writes the approved ones, one signed package per
  platform, into the folder the 发件箱 uses (:class:`~govshare_desktop.ui.outbox_view.
  PackageWriter`, as 「发送纠错…」 does); 「打印催办函…」 prints the overdue ones to PDF.
* 「数据使用登记」: each dataset held, its source and basis — 回流, or a request with its 用途 and
  使用期限 (past it: red, 「已超过使用期限」).

The page reads its day from the window (``clock``): what is overdue is judged on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QObject, Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import sharing
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.catalog import SHARE_TYPES, Resource
from govshare_desktop.core.sharing.register import Holding
from govshare_desktop.core.sharing.requests import RequestView
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.correction_dialog import ERROR_STYLE
from govshare_desktop.ui.outbox_view import PackageWriter
from govshare_desktop.ui.share_request_dialog import (
    ShareRequestDialog,
    condition_label,
    resource_html,
)
from govshare_desktop.ui.table_rows import (
    TableRows,
    bold,
    lay_out_list,
    page_label,
    rows_table,
)
from govshare_desktop.ui.tasks import Task, run_task, single_shot_timer
from govshare_desktop.ui.tasks_view import ATTENTION, DONE, OVERDUE, WEEKDAYS

SEARCH_DELAY_MS = 150
GRANTED = QColor("#15803d")
WORKING = QColor("#1d4ed8")  # approved, on its way
DETAIL_STYLE = "background:#f3f4f6; border:1px solid #d1d5db; padding:6px 8px;"

RESOURCE_HEADERS = ("资源代码", "资源名称", "提供方", "共享类型", "更新周期", "回流情况")
R_CODE, R_NAME, R_PROVIDER, R_TYPE, R_CYCLE, R_FRESH = range(len(RESOURCE_HEADERS))
REQUEST_HEADERS = ("资源", "信息项", "状态", "答复期限", "答复")
Q_RESOURCE, Q_ITEMS, Q_STATE, Q_DEADLINE, Q_ANSWER = range(len(REQUEST_HEADERS))
HOLDING_HEADERS = ("数据", "来源", "最近一批", "依据", "用途", "使用期限")
H_TITLE, H_SOURCE, H_LAST, H_BASIS, H_PURPOSE, H_UNTIL = range(len(HOLDING_HEADERS))


def day_label(day: date) -> str:
    """「2026-12-16（周三）」."""
    return f"{day:%Y-%m-%d}（周{WEEKDAYS[day.weekday()]}）"


class ResourcesModel(TableRows[Resource], QAbstractTableModel):
    """The catalog entries, by provider (as the core returns them)."""

    headers = RESOURCE_HEADERS

    def cell(self, row: Resource, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            values = (row.code, row.name, row.provider, row.share_type, row.cycle)
            return values[column] if column < R_FRESH else row.freshness()
        if role == Qt.ItemDataRole.ToolTipRole:
            return "、".join(row.items) or None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == R_FRESH and row.stale_days:
                return QBrush(OVERDUE)
            return QBrush(DONE) if not row.requestable else None
        if role == Qt.ItemDataRole.FontRole and column == R_FRESH and row.stale_days:
            return bold()
        return None


class RequestsModel(TableRows[RequestView], QAbstractTableModel):
    """The share requests, newest first (as the core returns them)."""

    headers = REQUEST_HEADERS

    def cell(self, row: RequestView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _request_cell(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _request_tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = _request_colour(row, column)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.FontRole and row.overdue:
            return bold()
        return None


def _request_cell(row: RequestView, column: int) -> str:
    if column == Q_RESOURCE:
        return f"{row.resource_name}（{row.provider}）"
    if column == Q_ITEMS:
        return row.items
    if column == Q_STATE:
        return row.state_label
    if column == Q_ANSWER:
        return row.answer or ""
    if row.deadline is None:
        return "发送后计算" if row.state in ("draft", "approved") else "—"
    return day_label(row.deadline)


def _request_tooltip(row: RequestView) -> str:
    lines = [
        f"用途：{row.purpose}",
        f"依据：{row.basis}",
        f"范围：{row.scope}",
        f"使用期限：{row.use_until:%Y-%m-%d}",
        f"提出人：{row.created_by}" + (f"；审核人：{row.approved_by}" if row.approved_by else ""),
    ]
    if row.sent_on is not None:
        lines.append(f"发送日期：{row.sent_on:%Y-%m-%d}")
    if row.state == "sent" and row.workdays_left is not None and row.workdays_left >= 0:
        lines.append(f"答复期限还剩 {row.workdays_left} 个工作日")
    if row.received_batch is not None:
        lines.append(f"数据已随第 {row.received_batch} 批回流数据收到")
    return "\n".join(lines)


def _request_colour(row: RequestView, column: int) -> QColor | None:
    if row.overdue:
        return OVERDUE
    if column != Q_STATE:
        return DONE if row.state in ("refused", "received") else None
    return {"draft": ATTENTION, "approved": WORKING, "granted": GRANTED}.get(
        row.state, DONE if row.state in ("refused", "received") else None
    )


class HoldingsModel(TableRows[Holding], QAbstractTableModel):
    """The register of data held, by dataset (as the core returns it), judged on ``today``."""

    headers = HOLDING_HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.today = date.today()

    def cell(self, row: Holding, column: int, role: int) -> Any:
        expired = row.expired(self.today)
        if role == Qt.ItemDataRole.DisplayRole:
            return _holding_cell(row, column, expired)
        if role == Qt.ItemDataRole.ForegroundRole and expired:
            return QBrush(OVERDUE)
        if role == Qt.ItemDataRole.FontRole and expired and column == H_UNTIL:
            return bold()
        if role == Qt.ItemDataRole.ToolTipRole:
            said = f"{row.title}：{row.source}"
            return said + (f"\n共享申请编号：{row.request_id}" if row.request_id else "")
        return None


def _holding_cell(row: Holding, column: int, expired: bool) -> str:
    if column == H_TITLE:
        return row.title
    if column == H_SOURCE:
        return row.source
    if column == H_LAST:
        day = row.last_as_of or row.last_imported.date()
        return f"{day:%Y-%m-%d}（{row.batches} 批）"
    if column == H_BASIS:
        return row.basis
    if column == H_PURPOSE:
        return row.purpose or "履行法定职责"
    if row.use_until is None:
        return "—"
    return f"{row.use_until:%Y-%m-%d}" + ("（已超过使用期限）" if expired else "")


class SharingView(QWidget):
    """The 目录与共享 page."""

    def __init__(
        self,
        store: Store,
        writer: PackageWriter,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sharing_view")
        self.store = store
        self.writer = writer
        self.clock = clock
        self.task: Task | None = None
        self.dialog: ShareRequestDialog | None = None
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("sharing_tabs")
        self.tabs.addTab(self._catalog_tab(), "目录")
        self.tabs.addTab(self._requests_tab(), "共享申请")
        self.tabs.addTab(self._register_tab(), "数据使用登记")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.writer.written.connect(lambda _paths: self.load_requests())
        self.refresh()

    def context(self) -> Context:
        return Context(self.store, clock=self.clock)

    # ---------------------------------------------------------------- building

    def _catalog_tab(self) -> QWidget:
        tab = QWidget(self)
        self.search = QLineEdit(tab)
        self.search.setObjectName("sharing_search")
        self.search.setPlaceholderText("资源名称、信息项、提供方或拼音首字母，如 hjrk")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(360)
        self._search_timer = single_shot_timer(self, SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.load_catalog)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self._search_entered)
        self.share_type = QComboBox(tab)
        self.share_type.setObjectName("sharing_share_type")
        self.share_type.addItem("全部", None)
        for kind in SHARE_TYPES:
            self.share_type.addItem(kind, kind)
        self.share_type.currentIndexChanged.connect(lambda _i: self.load_catalog())
        self.catalog_note = page_label(tab, "sharing_catalog_note")
        self.resources = ResourcesModel(self)
        self.catalog_table = rows_table(tab, "sharing_catalog_table", self.resources)
        self.catalog_table.activated.connect(lambda _index: self.open_request())
        self.catalog_table.selectionModel().selectionChanged.connect(lambda *_: self._chosen())
        self.detail = page_label(tab, "sharing_detail", selectable=True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setStyleSheet(DETAIL_STYLE)
        self.request_button = QPushButton("申请共享…", tab)
        self.request_button.setObjectName("sharing_request")
        self.request_button.clicked.connect(self.open_request)
        self.refusal = page_label(tab, "sharing_refusal")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("查找：", tab))
        bar.addWidget(self.search)
        bar.addWidget(QLabel("  共享类型：", tab))
        bar.addWidget(self.share_type)
        bar.addStretch(1)
        action = QHBoxLayout()
        action.addWidget(self.request_button)
        action.addWidget(self.refusal, 1)
        layout = QVBoxLayout(tab)
        layout.addLayout(bar)
        layout.addWidget(self.catalog_note)
        layout.addWidget(self.catalog_table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(action)
        return tab

    def _requests_tab(self) -> QWidget:
        tab = QWidget(self)
        self.requests_note = page_label(tab, "sharing_requests_note")
        self.approve_button = QPushButton("审核通过", tab)
        self.approve_button.setObjectName("sharing_approve")
        self.approve_button.clicked.connect(self.approve_selected)
        self.send_button = QPushButton("发送申请…", tab)
        self.send_button.setObjectName("sharing_send")
        self.send_button.setToolTip(
            "把审核通过的共享申请生成签名数据包，写入 U 盘或共享文件夹，报送县级共享平台"
        )
        self.send_button.clicked.connect(self.send_approved)
        self.urge_button = QPushButton("打印催办函…", tab)
        self.urge_button.setObjectName("sharing_urge")
        self.urge_button.setToolTip("超过答复期限未答复的共享申请：打印催办函（PDF）")
        self.urge_button.clicked.connect(self.print_urge_letter)
        self.requests = RequestsModel(self)
        self.requests_table = rows_table(tab, "sharing_requests_table", self.requests)
        self.requests_table.selectionModel().selectionChanged.connect(
            lambda *_: self._update_request_buttons()
        )
        self.request_detail = page_label(tab, "sharing_request_detail", selectable=True)
        self.request_detail.setStyleSheet(DETAIL_STYLE)
        self.requests_status = page_label(tab, "sharing_requests_status", selectable=True)
        buttons = [self.approve_button, self.send_button, self.urge_button]
        lay_out_list(tab, self.requests_note, buttons, self.requests_table, self.requests_status)
        layout = tab.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.setContentsMargins(9, 9, 9, 9)
        layout.insertWidget(layout.indexOf(self.requests_status), self.request_detail)
        return tab

    def _register_tab(self) -> QWidget:
        tab = QWidget(self)
        self.register_note = page_label(tab, "sharing_register_note")
        self.holdings = HoldingsModel(self)
        # 来源 takes the room left (a long department name is cut short, in full as its tip):
        # 使用期限 and whether it is past are never cut.
        self.register_table = rows_table(
            tab, "sharing_register_table", self.holdings, stretch=H_SOURCE
        )
        self.register_status = page_label(tab, "sharing_register_status")
        self.register_status.setText(
            "谁使用谁负责：回流数据按法定职责使用；经共享申请取得的数据只能按申请的用途和范围、"
            "在使用期限内使用，到期后继续使用须重新申请。"
        )
        self.register_status.setStyleSheet(f"color:{DONE.name()};")
        lay_out_list(tab, self.register_note, [], self.register_table, self.register_status)
        layout = tab.layout()
        assert layout is not None
        layout.setContentsMargins(9, 9, 9, 9)
        return tab

    # ---------------------------------------------------------------- reading

    def refresh(self) -> None:
        """Every tab read afresh (an import may bring a catalog, an answer or the data)."""
        self.load_catalog()
        self.load_requests()
        self.load_holdings()

    def load_catalog(self) -> None:
        """The catalog as the search and 共享类型 say, the selection kept where it can be."""
        self._search_timer.stop()
        chosen = self.selected_resource()
        every = sharing.catalog(self.context(), self.search.text(), self.share_type.currentData())
        self.resources.load(every)
        codes = [r.code for r in every]
        if every:
            row = codes.index(chosen.code) if chosen and chosen.code in codes else 0
            self.catalog_table.selectionModel().setCurrentIndex(
                self.resources.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self._describe_catalog(every)
        self._chosen()

    def _describe_catalog(self, shown: list[Resource]) -> None:
        filtered = bool(self.search.text().strip()) or self.share_type.currentData() is not None
        if not shown:
            self.catalog_note.setText(
                "没有符合条件的资源。"
                if filtered
                else "还没有目录。县级平台下发的目录数据包在「导入回流数据…」中导入后显示在这里。"
            )
            return
        counts = {kind: sum(1 for r in shown if r.share_type == kind) for kind in SHARE_TYPES}
        stale = sum(1 for r in shown if r.stale_days)
        said = f"{'找到' if filtered else '目录共'} {len(shown)} 项资源（" + "、".join(
            f"{kind} {n}" for kind, n in counts.items() if n
        )
        said += "）"
        if stale:
            said += f"，其中 {stale} 项回流数据逾期未更新（红色）"
        if any(r.requestable for r in shown):
            said += "。选中一项按回车或「申请共享…」提出共享申请"
        self.catalog_note.setText(said + "。")

    def selected_resource(self) -> Resource | None:
        rows = self.catalog_table.selectionModel().selectedRows()
        return self.resources.rows[rows[0].row()] if rows else None

    def _chosen(self) -> None:
        """The selected entry in full; 「申请共享…」 only for an entry that may be requested."""
        resource = self.selected_resource()
        self.detail.setText(
            resource_html(resource)
            if resource
            else "选中一项资源，这里显示它的摘要、信息项和共享条件。"
        )
        may = self.store.principal.may(Action.EDIT_FORMS)
        self.request_button.setEnabled(may and resource is not None and resource.requestable)
        self.refusal.setStyleSheet(ERROR_STYLE)
        if resource is not None and not resource.requestable:
            self.refusal.setText(
                f"「{resource.name}」为不予共享资源，不能申请。"
                f"{condition_label(resource)}：{resource.condition or '提供方未说明'}"
            )
        elif resource is not None and not may:
            self.refusal.setText("当前账号不能提出共享申请（须经办人或审核人）。")
        else:
            self.refusal.clear()

    def _search_entered(self) -> None:
        self.load_catalog()
        if self.resources.rowCount():
            self.catalog_table.setFocus()

    def load_requests(self) -> None:
        kept = self.selected_request()
        rows = sharing.request_list(self.context())
        self.requests.load(rows)
        ids = [r.request_id for r in rows]
        if kept is not None and kept.request_id in ids:
            self.requests_table.selectRow(ids.index(kept.request_id))
        waiting = sum(1 for r in rows if r.state == "draft")
        approved = sum(1 for r in rows if r.state == "approved")
        overdue = sum(1 for r in rows if r.overdue)
        if not rows:
            said = "还没有共享申请。在「目录」中选中一项资源，按「申请共享…」提出。"
        else:
            said = f"共 {len(rows)} 项共享申请"
            said += f"，{waiting} 项待审核" if waiting else ""
            said += f"，{approved} 项待发送" if approved else ""
            said += f"，{overdue} 项超期未答复（红色，可打印催办函）" if overdue else ""
            said += (
                "。答复期限：无条件共享 1 个工作日，有条件共享 10 个工作日；"
                "平台的答复随县级数据包导入后更新。"
            )
        self.requests_note.setText(said)
        self._update_request_buttons()

    def selected_request(self) -> RequestView | None:
        rows = self.requests_table.selectionModel().selectedRows()
        return self.requests.rows[rows[0].row()] if rows else None

    def _update_request_buttons(self) -> None:
        """The buttons, and the selected request in full."""
        principal = self.store.principal
        chosen = self.selected_request()
        self.request_detail.setText(
            _request_tooltip(chosen).replace("\n", "　｜　")
            if chosen
            else "选中一项共享申请，这里显示它的用途、依据、范围和使用期限。"
        )
        reviewer = principal.may(Action.REVIEW_FORM)
        self.approve_button.setEnabled(reviewer and chosen is not None and chosen.state == "draft")
        self.approve_button.setToolTip(
            "审核人选中一项“待审核”的共享申请，审核通过后即可发送"
            if reviewer
            else "共享申请须由审核人审核通过"
        )
        rows = self.requests.rows
        self.send_button.setEnabled(
            principal.may(Action.SUBMIT_FORM) and any(r.state == "approved" for r in rows)
        )
        self.urge_button.setEnabled(principal.may(Action.EXPORT) and any(r.overdue for r in rows))

    def load_holdings(self) -> None:
        today = self.clock().date()
        rows = sharing.holdings(self.context())
        self.holdings.today = today
        self.holdings.load(rows)
        expired = [h for h in rows if h.expired(today)]
        if not rows:
            said = "本镇还没有收到任何数据。"
        else:
            requested = sum(1 for h in rows if h.request_id)
            said = f"本镇持有 {len(rows)} 类数据，其中 {requested} 类经共享申请取得"
            if expired:
                titles = "、".join(h.title for h in expired)
                said += f"；{titles}已超过使用期限（红色），继续使用须重新申请"
            said += "。"
        self.register_note.setText(said)

    # ---------------------------------------------------------------- doing

    def open_request(self) -> ShareRequestDialog | None:
        """申请共享 for the selected entry (not for a 不予 one: the page says why)."""
        resource = self.selected_resource()
        if resource is None or not self.request_button.isEnabled():
            return None
        self.dialog = ShareRequestDialog(self.context(), resource, self)
        self.dialog.drafted.connect(self._drafted)
        self.dialog.open()
        return self.dialog

    def _drafted(self, row: Any) -> None:
        self.load_requests()
        self._say(f"已提出共享申请：{row.resource_name}（{row.items}），待审核人审核通过后发送。")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.requests_status.setText(text)
        self.requests_status.setStyleSheet(ERROR_STYLE if error else "")

    def approve_selected(self) -> None:
        chosen = self.selected_request()
        if chosen is None:
            return
        try:
            sharing.approve_request(self.context(), chosen.request_id)
        except UserError as exc:
            self._say(exc.message, error=True)
            return
        self.load_requests()
        self._say(f"已审核通过：{chosen.resource_name}。按「发送申请…」报送县级共享平台。")

    def send_approved(self) -> None:
        """The approved requests, one signed package per platform, written into a folder."""
        approved = [r for r in self.requests.rows if r.state == "approved"]
        answer = QMessageBox.question(
            self,
            "发送共享申请",
            f"将 {len(approved)} 项审核通过的共享申请生成签名数据包，发往县级政务数据共享平台，"
            "并写入 U 盘或共享文件夹。继续吗？",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        ctx = self.context()
        made = self.writer.make_and_write(
            self,
            lambda: [package.package_id for package in sharing.send_requests(ctx)],
            self._sent,
        )
        if not made:
            self._say("没有选择文件夹，共享申请未发送。")

    def _sent(self, text: str) -> None:
        self.load_requests()
        self._say(text)

    def print_urge_letter(self) -> None:
        """The 催办函 of the overdue requests (PDF), then offered to open."""
        suggested = Path.home() / f"共享申请催办函_{self.clock():%Y%m%d}.pdf"
        chosen, _kind = QFileDialog.getSaveFileName(
            self, "打印催办函", str(suggested), "PDF 文件 (*.pdf)"
        )
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        ctx = self.context()
        self.task = run_task(
            self,
            "正在生成催办函……",
            lambda _p, _c: sharing.print_urge_letter(ctx, path),
            self._letter_written,
        )

    def _letter_written(self, result: ExportedFile) -> None:
        self._say(f"已生成催办函（{result.forms} 项超期申请）：{result.path}")
        answer = QMessageBox.question(
            self, "催办函", f"催办函已保存到：\n{result.path}\n\n现在打开它打印吗？"
        )
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(result.path)))
