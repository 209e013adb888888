"""What the signed-in session brings to the main window, whatever it shows: masking and unmasking
personal data (with a reason, audited), the idle lock, signing out on close, and the actions of
the 系统管理员 and the 审计管理员 (backups, the audit viewer, their own window without residents'
data).

:class:`SessionWindow` is the base of :class:`~govshare_desktop.ui.main_window.MainWindow`, which
adds the pages, the search and the filters. Like it, this module loads only Qt at import: the
store and the use cases load after the window is shown.
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the store and the use cases load after the window is shown
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.core.store.backup import BackupResult
    from govshare_desktop.core.store.engine import Store
    from govshare_desktop.ui.signin import IdleLock
    from govshare_desktop.ui.tasks import Task

log = logging.getLogger(__name__)


class SessionWindow(QMainWindow):
    """A main window with a signed-in store (once :attr:`store` is set).

    Subclasses show the data and override :meth:`_show_masked` to mask or unmask it.

    Signals: ``signed_out()`` — 注销/切换用户 ended the session (the program then closes the
    window, disposes of the store and shows the sign-in again; see ``ui/app.py``).
    """

    signed_out = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.store: Store | None = None
        self.masked = True
        self.unmask_reason = ""
        self.locked = False
        self._signed_out = False
        self._db_path: Path | str | None = None  # the file, or the township server's URL
        self.idle: IdleLock | None = None
        self.backup_task: Task | None = None
        self.integrity_task: Task | None = None  # the start-up check beside the window
        self.dialogs: list[QDialog] = []  # open dialogs (hidden too when the window locks)
        self.toolbar = QToolBar("查找", self)
        self.toolbar.setObjectName("toolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(self.toolbar)
        self.unmask_action = QAction("显示完整信息", self)
        self.unmask_action.setObjectName("unmask")
        self.unmask_action.setCheckable(True)
        self.unmask_action.setToolTip(
            "默认脱敏显示姓名、证件号、电话和住址；查看完整信息需说明事由"
        )
        self.unmask_action.toggled.connect(self._unmask_toggled)

    def _context(self) -> Context:
        from govshare_desktop.ui.usecases import context  # lazy: after the window shows

        assert self.store is not None
        return context(self.store)

    def _show_dialog(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        dialog.show()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Signing out is recorded (the database stays open only while the window is); the
        window's size, place and splitters are remembered. Work still running (an import, an
        export, a backup) is cancelled first — after the clerk agreed — and waited for, so no
        worker still uses the database once it is closed; cancelled work leaves nothing behind."""
        from govshare_desktop.ui.settings import save_window
        from govshare_desktop.ui.tasks import abandon_tasks, running_tasks

        tasks = running_tasks(self)
        shown = [t.title.removeprefix("正在").rstrip("…. ") for t in tasks if not t.quiet]
        if shown and not self._agree_to_stop(shown):
            event.ignore()
            return
        if tasks:
            self.statusBar().showMessage("正在停止未完成的工作……")
            abandon_tasks(tasks)
        # E.g. an import wizard's held preview: rolled back before the sign-out is written.
        for dialog in {*self.dialogs, *self.findChildren(QDialog)}:
            dialog.reject()
        self._record_sign_out()
        save_window(self)
        super().closeEvent(event)

    def _agree_to_stop(self, titles: list[str]) -> bool:
        answer = QMessageBox.question(
            self,
            "关闭窗口",
            f"「{'」「'.join(titles)}」还没有完成。\n关闭窗口将取消它：已做的部分不会保存，"
            "数据库保持开始之前的样子。\n\n确定要关闭吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _record_sign_out(self) -> None:
        """The 「logout」 entry, once per session."""
        store = self.store
        if store is not None and store.principal.role is not None and not self._signed_out:
            self._signed_out = True
            from govshare_desktop.core.services import session  # lazy: after the window shows

            session.sign_out(self._context())

    def switch_user(self) -> None:
        """注销/切换用户: the session ends (recorded) without ending the program — whoever
        listens to ``signed_out`` shows the sign-in again."""
        if self.idle is not None:
            self.idle.stop()
        self._record_sign_out()
        self.signed_out.emit()

    # ---------------------------------------------------------------- masking

    def _unmask_toggled(self, checked: bool) -> None:
        if checked:
            reason, ok = QInputDialog.getText(
                self, "显示完整信息", "查看完整的个人信息需说明事由（将记入审计日志）："
            )
            if not ok or not reason.strip():
                self.set_masked(True)
                return
            self.set_masked(False, reason=reason.strip())
        else:
            self.set_masked(True)

    def set_masked(self, masked: bool, *, reason: str = "") -> None:
        if not masked:
            from govshare_desktop.core.errors import UserError  # lazy: after the window shows
            from govshare_desktop.core.services import session

            try:  # needs the permission; the reason goes into the audit trail
                session.unmask(self._context(), reason, "窗口：显示完整信息")
            except UserError as exc:
                QMessageBox.warning(self, "不能显示完整信息", exc.message)
                masked = True
            else:
                log.info("personal data unmasked on screen")
        self.masked = masked
        self.unmask_action.blockSignals(True)
        self.unmask_action.setChecked(not masked)
        self.unmask_action.blockSignals(False)
        self.unmask_reason = "" if masked else reason
        self._show_masked(masked, self.unmask_reason)

    def _show_masked(self, masked: bool, reason: str) -> None:
        """Mask (or unmask, for ``reason``) what the window shows."""

    # ---------------------------------------------------------------- idle lock

    def enable_idle_lock(self, db_path: Path | str, minutes: float | None = None) -> None:
        """Hide personal data after ``minutes`` idle (default 10) until the password is typed."""
        from govshare_desktop.ui.signin import IDLE_MINUTES, IdleLock

        self._db_path = db_path
        self.idle = IdleLock(minutes if minutes is not None else IDLE_MINUTES, self.lock, self)

    def lock(self) -> None:
        from govshare_desktop.core.services import session  # lazy: after the window shows
        from govshare_desktop.ui.signin import UnlockDialog

        if self.store is None or self._db_path is None or self.locked:
            return
        self.locked = True
        # Personal data goes first; nothing below may keep it on screen. An ID number copied from
        # a list must not outlive the lock either (whoever put it there: the offscreen and some
        # Linux platforms cannot tell whether it came from this program).
        QApplication.clipboard().clear()
        windows = {*self.dialogs, *self.findChildren(QDialog)}  # forms, print previews …
        shown = (self.centralWidget(), *windows)
        hidden = [w for w in shown if w is not None and w.isVisible()]
        for widget in hidden:
            widget.hide()
        for window in windows:  # e.g. an import preview holding a database file's writes
            if hasattr(window, "before_lock"):
                window.before_lock()
        # Locking never depends on a write succeeding: see session.lock.
        session.lock(self._context())
        user = self.store.principal.username
        while not UnlockDialog(self._db_path, user, self).exec():
            if QMessageBox.question(self, "退出", "不解锁就退出程序？") == (
                QMessageBox.StandardButton.Yes
            ):
                self.close()
                return
        self.locked = False
        session.unlock(self._context())
        for widget in hidden:
            widget.show()
        if self.idle is not None:
            self.idle.timer.start()

    # ---------------------------------------------------------------- administrators

    def _admin_actions(self, store: Store) -> None:
        """「立即备份」 and 「审计日志…」 on the toolbar, for whoever may use them."""
        from govshare_desktop.core.security.permissions import Action

        if store.principal.may(Action.BACKUP):
            backup = QAction("立即备份", self)
            backup.setObjectName("backup_action")
            backup.setToolTip(
                "用 SQLite 在线备份把数据库（加密）和密钥文件备份到数据库旁的 backups 文件夹"
            )
            backup.triggered.connect(self.backup_now)
            self.toolbar.addAction(backup)
        if store.principal.may(Action.READ_AUDIT):
            audit = QAction("审计日志…", self)
            audit.setObjectName("audit_action")
            audit.triggered.connect(self.open_audit)
            self.toolbar.addAction(audit)

    def _role_notice(self, store: Store) -> None:
        """系统管理员 do not see residents' data: their window is accounts, backups and restore,
        and the audit check."""
        from govshare_desktop.ui.admin import AdminPanel

        panel = QWidget(self)
        layout = QVBoxLayout(panel)
        notice = QLabel(f"{store.principal.label}：您的角色不查看居民数据。", panel)
        notice.setObjectName("role_notice")
        layout.addWidget(notice)
        admin = AdminPanel(store, panel)
        if admin.backups is not None:  # after a restore the program starts afresh
            admin.backups.restored.connect(lambda _path: self.close())
        layout.addWidget(admin, 1)
        self.setCentralWidget(panel)
        self.toolbar.hide()  # search and filters are for residents' data
        self.statusBar().showMessage(f"数据库：{store.path or store.url}")

    def open_audit(self) -> QDialog:
        """The 审计管理员's audit viewer."""
        from govshare_desktop.ui.admin import AuditView

        assert self.store is not None
        dialog = QDialog(self)
        dialog.setObjectName("audit_dialog")
        dialog.setWindowTitle("审计日志")
        dialog.resize(1100, 640)
        layout = QVBoxLayout(dialog)
        layout.addWidget(AuditView(self.store, dialog))
        self._show_dialog(dialog)
        return dialog

    def backup_now(self) -> None:
        """「立即备份」: the same backup as the daily one, off the UI thread."""
        from govshare_desktop.core.services.admin import back_up  # lazy: after the window shows
        from govshare_desktop.ui.tasks import run_task

        ctx = self._context()

        def done(result: BackupResult) -> None:
            QMessageBox.information(
                self, "已备份", f"已备份到：\n{result.path}\n（密钥文件一并保存）"
            )

        self.backup_task = run_task(
            self,
            "正在备份……",
            lambda progress, cancel: back_up(ctx.running(progress, cancel)),
            done,
        )
