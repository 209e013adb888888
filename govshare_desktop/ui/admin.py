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

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
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
from govshare_desktop.core.store.backup import (
    BackupFile,
    BackupResult,
    backup_files,
    default_backup_dir,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.exported import show_exported
from govshare_desktop.ui.forms_admin import TemplatesView
from govshare_desktop.ui.keys_admin import KeysView, ReportSettingsView
from govshare_desktop.ui.settings import export_folder, remember_export
from govshare_desktop.ui.tasks import run_task
from govshare_desktop.ui.usecases import context


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


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
        self.table = _table(["序号", "时间", "用户", "角色", "操作", "对象", "结果", "详情"], self)
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
    """A new account: name, role, first password (changed at first sign-in)."""

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
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class UsersView(QWidget):
    """The 系统管理员's accounts: add, disable/enable, change role, reset password."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("users_view")
        self.store = store
        self.table = _table(["用户名", "姓名", "角色", "状态", "有效期至"], self)
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
                    str(a.expires_at or ""),
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
                    dialog.role.currentData(),
                    dialog.password.text(),
                    display_name=dialog.display.text(),
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


class BackupsView(QWidget):
    """备份与恢复 (系统管理员): the backups beside the database, 立即备份, and restoring one.

    A restore is checked first (right key, integrity); the live database is kept as a safety
    copy and is untouched if anything fails. Afterwards the program must start afresh on the
    restored database: ``restored`` is emitted and the window closes."""

    restored = Signal(Path)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backups_view")
        self.store = store
        self.files: list[BackupFile] = []
        self.task: object | None = None
        self.table = _table(["时间", "类型", "文件", "大小"], self)
        self.table.doubleClicked.connect(lambda _index: self.restore_selected())
        note = QLabel(
            "备份保存在数据库旁的 backups 文件夹，每天自动备份一次，保留最近 7 份；"
            "升级前、恢复前的安全副本不会自动删除。恢复会先校验备份，失败时当前数据库不变。",
            self,
        )
        note.setWordWrap(True)
        actions = []
        if store.principal.may(Action.BACKUP):
            actions.append(("立即备份", self.backup_now))
        if store.principal.may(Action.RESTORE):
            actions += [
                ("从所选备份恢复…", self.restore_selected),
                ("选择其他备份文件…", self.restore_other),
            ]
        buttons = _buttons(self, actions)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self.reload()

    def reload(self) -> None:
        path = self.store.path
        self.files = backup_files(default_backup_dir(path)) if path else []
        _fill(
            self.table,
            [
                [f"{f.when:%Y-%m-%d %H:%M:%S}", f.kind, f.path.name, f"{f.size / 2**20:.1f} MB"]
                for f in self.files
            ],
        )

    def backup_now(self) -> None:
        ctx = context(self.store)

        def done(result: BackupResult) -> None:
            self.reload()
            QMessageBox.information(
                self, "已备份", f"已备份到：\n{result.path}\n（密钥文件一并保存）"
            )

        self.task = run_task(
            self,
            "正在备份……",
            lambda progress, cancel: admin.back_up(ctx.running(progress, cancel)),
            done,
        )

    def restore_selected(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.files):
            QMessageBox.information(self, "恢复备份", "请先在列表中选择一份备份。")
            return
        chosen = self.files[row]
        self.restore(chosen.path, f"{chosen.when:%Y-%m-%d %H:%M:%S} 的{chosen.kind}")

    def restore_other(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            "选择备份文件",
            str(self.store.path.parent if self.store.path else ""),
            "数据库备份 (*.db)",
        )
        if name:
            self.restore(Path(name), Path(name).name)

    def restore(self, backup: Path, described: str) -> None:
        answer = QMessageBox.warning(
            self,
            "恢复备份",
            f"用 {described}（{backup.name}）替换当前数据库？\n\n"
            "此后录入或导入的数据将不在恢复后的数据库中。当前数据库会先另存为安全副本"
            "（backups/govshare-before-restore-…），恢复完成后程序将关闭，请重新打开并登录。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        ctx = context(self.store)

        def done(safety: Path | None) -> None:
            kept = f"\n原数据库已另存为：{safety}" if safety else ""
            QMessageBox.information(
                self,
                "已恢复",
                f"数据库已恢复为 {backup.name}。{kept}\n程序现在关闭，请重新打开并登录。",
            )
            self.restored.emit(backup)

        def failed(exc: BaseException) -> None:
            show_error(self, exc)
            self.reload()

        self.task = run_task(
            self, "正在校验并恢复备份……", lambda _p, _c: admin.restore(ctx, backup), done, failed
        )


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
