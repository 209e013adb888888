"""The two separated administrators' windows: the 审计管理员's audit viewer (filters, integrity
check, export) and the 系统管理员's accounts, backup, integrity check, 报表模板 (its page is
:mod:`~govshare_desktop.ui.forms_admin`), 本单位密钥 and 上报设置
(:mod:`~govshare_desktop.ui.keys_admin`). What they may do is checked again in the core
(permissions.py); these only show it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security.audit import EVENTS
from govshare_desktop.core.security.permissions import ROLE_LABELS, Action, Role
from govshare_desktop.core.services import admin
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry
from govshare_desktop.ui.backups_view import BackupsView
from govshare_desktop.ui.exported import show_exported
from govshare_desktop.ui.forms_admin import TemplatesView
from govshare_desktop.ui.keys_admin import KeysView, ReportSettingsView
from govshare_desktop.ui.laptop_view import LaptopView
from govshare_desktop.ui.settings import export_folder, remember_export
from govshare_desktop.ui.table_rows import read_only_table
from govshare_desktop.ui.usecases import context


def _buttons(parent: QWidget, actions: Sequence[tuple[str, Callable[[], object]]]) -> QHBoxLayout:
    """A row of push buttons, left-aligned."""
    row = QHBoxLayout()
    for text, slot in actions:
        button = QPushButton(text, parent)
        button.clicked.connect(slot)
        row.addWidget(button)
    row.addStretch(1)
    return row


def _day(edit: QDateEdit) -> date:
    """The day shown in a date field."""
    day = edit.date()
    return date(day.year(), day.month(), day.day())


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


class AuditView(QWidget):
    """Entries newest first, filtered by action, user and dates; verify; export."""

    LIMIT = 2000

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit_view")
        self.store = store
        self.action = QComboBox(self)
        self.action.addItem("全部操作", None)
        for code, label in EVENTS.items():
            self.action.addItem(label, code)
        self.user = QLineEdit(self)
        self.user.setPlaceholderText("用户名")
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-30), self)
        self.until = QDateEdit(today, self)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        search = QPushButton("查询", self)
        search.clicked.connect(self.reload)
        verify = QPushButton("校验完整性", self)
        verify.setObjectName("audit_verify")
        verify.clicked.connect(self.verify)
        export = QPushButton("导出 Excel…", self)
        export.setObjectName("audit_export")
        export.clicked.connect(self.export)
        bar = QHBoxLayout()
        for label, widget in (
            ("操作：", self.action),
            ("用户：", self.user),
            ("从：", self.since),
            ("到：", self.until),
        ):
            bar.addWidget(QLabel(label, self))
            bar.addWidget(widget)
        bar.addWidget(search)
        bar.addStretch(1)
        bar.addWidget(verify)
        bar.addWidget(export)
        self.table = read_only_table(
            ["序号", "时间", "用户", "角色", "操作", "对象", "结果", "详情"], self
        )
        self.status = QLabel(self)
        self.status.setObjectName("audit_status")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.entries: list[AuditEntry] = []
        self.ask_path: Callable[[], str] = self._ask_path  # tests answer without a dialog
        self.reload()

    def reload(self) -> None:
        since = datetime.combine(_day(self.since), time.min)
        until = datetime.combine(_day(self.until), time.max)
        self.entries = admin.audit_entries(
            context(self.store),
            action=self.action.currentData(),
            username=self.user.text().strip() or None,
            since=since,
            until=until,
            limit=self.LIMIT,
        )
        roles = {r.value: r.label for r in Role} | {"system": "—"}
        _fill(
            self.table,
            [
                [
                    str(e.seq),
                    f"{e.at:%Y-%m-%d %H:%M:%S}",
                    e.username,
                    roles.get(e.role, e.role),
                    EVENTS.get(e.action, e.action),
                    e.object,
                    {"ok": "成功", "refused": "拒绝", "failed": "失败"}.get(e.outcome, e.outcome),
                    e.detail if e.detail != "{}" else "",
                ]
                for e in self.entries
            ],
        )
        more = f"（只显示最新 {self.LIMIT} 条）" if len(self.entries) == self.LIMIT else ""
        self.status.setText(f"共 {len(self.entries)} 条{more}")

    def verify(self) -> None:
        result = admin.verify_audit(context(self.store))
        if result.ok:
            reached = sum(1 for a in result.anchors if a.reached)
            self.status.setText(
                f"审计日志完整：共 {result.entries} 条，最新 {result.head}；"
                f"核对锚点 {reached} 个（写入密钥与备份）"
            )
        else:
            self.status.setText("审计日志有问题：" + "；".join(p.message for p in result.problems))

    def _ask_path(self) -> str:
        folder = export_folder(self.store.principal.username)
        return QFileDialog.getSaveFileName(
            self, "导出审计日志", str(folder / "审计日志.xlsx"), "Excel 工作簿 (*.xlsx)"
        )[0]

    def export(self) -> None:
        path = self.ask_path()
        if not path:
            return
        try:
            exported = admin.export_audit(context(self.store), Path(path), self.entries)
        except UserError as exc:
            QMessageBox.warning(self, "未导出", exc.message)
            return
        remember_export(self.store.principal.username, Path(path))
        self.status.setText(f"已导出 {exported.forms} 条：{exported.path}")
        self.reload()
        show_exported(
            self, f"已导出 {exported.forms} 条审计日志到：\n{exported.path}", exported.path
        )


class AccountDialog(QDialog):
    """A new account: name, role, first password (changed at first sign-in) and, for temporary
    staff, 有效期至 — the last day it may sign in (``govshare users add --expires``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("新增用户")
        form = QFormLayout(self)
        self.username = QLineEdit(self)
        self.display = QLineEdit(self)
        self.role = QComboBox(self)
        for role, label in ROLE_LABELS.items():
            self.role.addItem(label, role)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("用户名：", self.username)
        form.addRow("姓名：", self.display)
        form.addRow("角色：", self.role)
        form.addRow("初始密码：", self.password)
        self.limited = QCheckBox("设置有效期（临时人员）", self)
        self.limited.setObjectName("account_limited")
        self.until = QDateEdit(QDate.currentDate().addYears(1), self)
        self.until.setObjectName("account_expires")
        self.until.setDisplayFormat("yyyy-MM-dd")
        self.until.setCalendarPopup(True)
        self.until.setMinimumDate(QDate.currentDate())
        self.until.setEnabled(False)
        self.limited.toggled.connect(self.until.setEnabled)
        form.addRow("", self.limited)
        form.addRow("有效期至：", self.until)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def expires_at(self) -> date | None:
        """The last day the account may sign in (None: no limit)."""
        return _day(self.until) if self.limited.isChecked() else None


class UsersView(QWidget):
    """The 系统管理员's accounts: add, disable/enable, change role, reset password."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("users_view")
        self.store = store
        self.table = read_only_table(["用户名", "姓名", "角色", "状态", "有效期至"], self)
        buttons = _buttons(
            self,
            [
                ("新增用户…", self.add),
                ("停用", lambda: self._change(disabled=True)),
                ("启用（解锁）", lambda: self._change(disabled=False)),
                ("修改角色…", self.set_role),
                ("重置密码…", self.reset_password),
            ],
        )
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self.reload()

    def reload(self) -> None:
        self.accounts = admin.list_accounts(context(self.store))
        _fill(
            self.table,
            [
                [
                    a.username,
                    a.display_name,
                    Role(a.role).label,
                    "已停用" if a.disabled else "正常",
                    str(a.expires_at) if a.expires_at else "长期",
                ]
                for a in self.accounts
            ],
        )

    def _selected(self) -> str | None:
        row = self.table.currentRow()
        return self.accounts[row].username if 0 <= row < len(self.accounts) else None

    def _do(self, action: Callable[[], object]) -> None:
        try:
            action()
        except UserError as exc:
            QMessageBox.warning(self, "未完成", exc.message)
        self.reload()

    def add(self) -> None:
        dialog = AccountDialog(self)
        if dialog.exec():
            self._do(
                lambda: admin.add_account(
                    context(self.store),
                    dialog.username.text(),
                    Role(dialog.role.currentData()),  # item data comes back a str
                    dialog.password.text(),
                    display_name=dialog.display.text(),
                    expires_at=dialog.expires_at,
                )
            )

    def _change(
        self,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> None:
        name = self._selected()
        if name:
            self._do(
                lambda: admin.change_account(
                    context(self.store), name, role=role, disabled=disabled, password=password
                )
            )

    def set_role(self) -> None:
        name = self._selected()
        if not name:
            return
        labels = list(ROLE_LABELS.values())
        label, ok = QInputDialog.getItem(self, "修改角色", f"“{name}”的新角色：", labels, 0, False)
        if ok:
            self._change(role=Role.parse(label))

    def reset_password(self) -> None:
        name = self._selected()
        if not name:
            return
        password, ok = QInputDialog.getText(
            self,
            "重置密码",
            f"“{name}”的新初始密码（下次登录须修改）：",
            QLineEdit.EchoMode.Password,
        )
        if ok:
            self._change(password=password)


TabMaker = Callable[[Store, QWidget], QWidget]


def admin_tabs(store: Store) -> list[tuple[str, TabMaker]]:
    """The administrators' tabs the signed-in user may open, in order: title and how to make it
    (the 系统管理员's window shows them as tabs; the 工具 menu opens each, in a dialog where the
    window shows residents' data)."""
    principal = store.principal
    tabs: list[tuple[str, TabMaker]] = []
    if principal.may(Action.MANAGE_USERS):
        tabs.append(("用户管理", UsersView))
    if principal.may(Action.RESTORE) or principal.may(Action.BACKUP):
        tabs.append(("备份与恢复", BackupsView))
    if principal.may(Action.EDIT_FORMS):  # a 经办人's: in a dialog from the 工具 menu
        tabs.append(("下村笔记本", LaptopView))
    if principal.may(Action.INSTALL_FORMS):
        tabs.append(("报表模板", TemplatesView))
    if principal.may(Action.MANAGE_KEYS):
        tabs += [("本单位密钥", KeysView), ("上报设置", ReportSettingsView)]
    if principal.may(Action.READ_AUDIT):
        tabs.append(("审计日志", AuditView))
    elif principal.may(Action.VERIFY_AUDIT):
        tabs.append(("审计校验", _VerifyOnly))
    return tabs


class AdminPanel(QTabWidget):
    """What a 系统管理员 or 审计管理员 sees instead of (or beside) residents' data."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("admin_panel")
        self.backups: BackupsView | None = None
        for title, make in admin_tabs(store):
            tab = make(store, self)
            if isinstance(tab, BackupsView):
                self.backups = tab
            self.addTab(tab, title)

    def show_tab(self, title: str) -> bool:
        """Bring the tab called ``title`` forward (False: there is none)."""
        for index in range(self.count()):
            if self.tabText(index) == title:
                self.setCurrentIndex(index)
                return True
        return False


class _VerifyOnly(QWidget):
    """The 系统管理员 checks that the trail is intact, without reading it."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.status = QLabel("校验审计日志是否被改动、删除或插入（不显示日志内容）。", self)
        button = QPushButton("校验完整性", self)
        button.clicked.connect(lambda: self._verify(store))
        layout.addWidget(self.status)
        layout.addWidget(button)
        layout.addStretch(1)

    def _verify(self, store: Store) -> None:
        result = admin.verify_audit(context(store))
        self.status.setText(
            f"审计日志完整：共 {result.entries} 条。"
            if result.ok
            else "审计日志有问题：" + "；".join(p.message for p in result.problems)
        )
