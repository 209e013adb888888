"""Signing in: the first-run setup (administrator and recovery secret shown once), the login
dialog, the forced password change, and the idle lock that hides personal data.

Automation (smoke tests, scripted starts) signs in through ``GOVSHARE_USER`` and
``GOVSHARE_PASSWORD`` without a dialog, as the command line does.
"""

# Imports inside functions — lazy: the restore path of the login dialog loads backups only when used.

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import signin
from govshare_desktop.core.services.admin import change_own_password
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store

log = logging.getLogger(__name__)
ENV_USER, ENV_PASSWORD = "GOVSHARE_USER", "GOVSHARE_PASSWORD"
IDLE_MINUTES = 10


class SetupDialog(QDialog):
    """Shown once after setting up a database: the accounts and secrets to write down — each
    with 「复制」, all of them with 「全部复制」 and on one page with 「打印账户交接单…」 — and the
    ``notes`` (such as 磁盘加密), wrapped, never cut."""

    def __init__(
        self,
        lines: list[tuple[str, str]],
        parent: QWidget | None = None,
        *,
        notes: list[tuple[str, str]] | None = None,
        unit: str = "",
        where: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("setup_dialog")
        self.setWindowTitle("请记下管理员密码和恢复密钥")
        self.setMinimumWidth(640)
        self.lines = list(lines)
        self.notes = list(notes or [])
        self.unit, self.where = unit, where
        self.preview: QDialog | None = None
        intro = QLabel(
            "数据库已加密。下列密码和恢复密钥只显示这一次，请打印账户交接单或抄写后妥善保管"
            "（恢复密钥放入保险柜）。首次登录须修改初始密码。",
            self,
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        form = QFormLayout()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for label, value in self.lines:
            field = QLineEdit(value, self)
            field.setReadOnly(True)
            field.setObjectName(label)
            field.setFont(fixed)
            field.setCursorPosition(0)
            copy = QPushButton("复制", self)
            copy.setObjectName(f"copy_{label}")
            copy.clicked.connect(lambda _checked=False, v=value: self._copy(v))
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(copy)
            form.addRow(f"{label}：", row)
        layout.addLayout(form)
        for label, value in self.notes:  # long advice: wrapped, never cut in a one-line box
            note = QLabel(f"{label}：{value}", self)
            note.setObjectName(f"note_{label}")
            note.setWordWrap(True)
            note.setStyleSheet("color:#991b1b;")
            layout.addWidget(note)
        buttons = QDialogButtonBox(self)
        copy_all = buttons.addButton("全部复制", QDialogButtonBox.ButtonRole.ActionRole)
        copy_all.setObjectName("copy_all")
        copy_all.clicked.connect(lambda: self._copy(self.text()))
        printing = buttons.addButton("打印账户交接单…", QDialogButtonBox.ButtonRole.ActionRole)
        printing.setObjectName("print_handover")
        printing.clicked.connect(self.print_handover)
        buttons.addButton("已记下", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def text(self) -> str:
        """Everything shown, one ``名称：值`` a line."""
        return "\n".join(f"{label}：{value}" for label, value in self.lines + self.notes)

    def _copy(self, text: str) -> None:
        QApplication.clipboard().setText(text)

    def print_handover(self) -> QDialog:
        """The 账户交接单 in the print preview (its print button opens the printer dialog)."""
        from govshare_desktop.ui.form_output import PrintPreview
        from govshare_desktop.ui.handover import TITLE, handover_page

        page = handover_page(self.lines, self.notes, unit=self.unit, where=self.where)
        self.preview = PrintPreview(self, TITLE, [page])
        self.preview.open()
        return self.preview


class LoginDialog(QDialog):
    """``signed`` after ``exec()``: the signed-in session."""

    def __init__(
        self, db: Path | str, parent: QWidget | None = None, *, title: str = "登录", user: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("login_dialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.db = db
        self.signed: signin.SignedIn | None = None
        self.typed = ""  # the password that signed in (a forced change does not ask it again)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.user = QLineEdit(user, self)
        self.user.setObjectName("login_user")
        self.password = QLineEdit(self)
        self.password.setObjectName("login_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("用户名：", self.user)
        form.addRow("密码：", self.password)
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setObjectName("login_message")
        self.message.setStyleSheet("color:#b91c1c")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(self)
        self.login_button = buttons.addButton("登录", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("退出", QDialogButtonBox.ButtonRole.RejectRole)
        # Shown only when the database cannot be read at all: nobody can sign in to restore it
        # from the window, so a 系统管理员 restores it from here.
        self.restore_button = buttons.addButton(
            "从备份恢复…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.restore_button.setObjectName("login_restore")
        self.restore_button.hide()
        self.restore_button.clicked.connect(self.restore_backup)
        self._unreadable: tuple[str, str] | None = None  # the credentials that got that far
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.password if user else self.user).setFocus()

    def try_sign_in(self) -> None:
        from govshare_desktop.ui import preload

        preload.wait()  # what loads beside the dialog has loaded: one thread imports at a time
        user, password = self.user.text().strip(), self.password.text()
        try:
            self.signed = signin.sign_in(self.db, user, password)
        except signin.DatabaseUnreadable as exc:
            self._unreadable = (user, password)
            self.restore_button.show()
            self.message.setText(exc.message)
            return
        except UserError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            self.password.setFocus()
            return
        self.typed = password
        self.accept()

    def restore_backup(self) -> None:
        """Restore the unreadable database with the credentials just typed (a 系统管理员's)."""
        from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

        from govshare_desktop.core.services.admin import restore_unreadable
        from govshare_desktop.core.store.backup import backup_files, default_backup_dir

        if self._unreadable is None or not isinstance(self.db, Path):  # only a file is unreadable
            return
        files = backup_files(default_backup_dir(self.db))
        other = "选择其他备份文件…"
        items = [f"{f.when:%Y-%m-%d %H:%M:%S}　{f.kind}　{f.path.name}" for f in files]
        choice, ok = QInputDialog.getItem(
            self,
            "从备份恢复",
            "数据库无法读取。选择要恢复的备份（需要系统管理员的用户名和密码）：",
            [*items, other],
            0,
            False,
        )
        if not ok:
            return
        if choice == other:
            name, _ = QFileDialog.getOpenFileName(
                self, "选择备份文件", str(default_backup_dir(self.db)), "数据库备份 (*.db)"
            )
            if not name:
                return
            backup = Path(name)
        else:
            backup = files[items.index(choice)].path
        answer = QMessageBox.warning(
            self,
            "从备份恢复",
            f"用备份 {backup.name} 替换无法读取的数据库？损坏的文件会另存为安全副本。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            safety = restore_unreadable(self.db, backup, *self._unreadable)
        except UserError as exc:
            self.message.setText(exc.message)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self._unreadable = None
        self.restore_button.hide()
        kept = f"损坏的文件另存为 {safety.name}。" if safety else ""
        self.message.setText(f"已从 {backup.name} 恢复数据库。{kept}请登录。")
        self.password.clear()
        self.password.setFocus()


class UnlockDialog(LoginDialog):
    """The idle lock's prompt: the signed-in user's password again (the name cannot be changed).
    Checked with :func:`unlock_check`: no new session is opened, and a wrong password counts
    towards the lockout like a sign-in."""

    def __init__(self, db: Path | str, user: str, parent: QWidget | None = None) -> None:
        super().__init__(db, parent, title="已锁定 — 输入密码解锁", user=user)
        self.user.setReadOnly(True)

    def try_sign_in(self) -> None:
        try:
            unlock_check(self.db, self.user.text(), self.password.text())
        except UserError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            return
        self.accept()


class ChangePasswordDialog(QDialog):
    """Change the signed-in user's password (forced after a generated or reset password).

    ``old``: the password just typed to sign in — then 当前密码 is not asked again."""

    def __init__(
        self, store: Store, *, forced: bool, old: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("change_password")
        self.setWindowTitle("修改密码")
        self.store = store
        layout = QVBoxLayout(self)
        if forced:
            layout.addWidget(QLabel("这是初始密码（或已被重置），请先设置自己的密码。", self))
        form = QFormLayout()
        self.old = QLineEdit(old, self)
        self.new = QLineEdit(self)
        self.again = QLineEdit(self)
        for name, edit in (("old", self.old), ("new", self.new), ("again", self.again)):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setObjectName(f"password_{name}")
        form.addRow("当前密码：", self.old)
        form.addRow("新密码：", self.new)
        form.addRow("再输入一次：", self.again)
        form.setRowVisible(self.old, not old)
        layout.addLayout(form)
        (self.new if old else self.old).setFocus()
        layout.addWidget(QLabel("至少 8 位，含小写字母、大写字母、数字、符号中的三种。", self))
        self.message = QLabel(self)
        self.message.setStyleSheet("color:#b91c1c")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.change)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def change(self) -> None:
        if self.new.text() != self.again.text():
            self.message.setText("两次输入的新密码不一致")
            return
        try:
            change_own_password(Context(self.store), self.old.text(), self.new.text())
        except UserError as exc:
            self.message.setText(exc.message)
            return
        self.accept()


def sign_in_quietly(db: Path | str) -> signin.SignedIn | None:
    """Sign in from ``GOVSHARE_USER``/``GOVSHARE_PASSWORD`` (automation), if both are set."""
    user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
    if not user or not password:
        return None
    return signin.sign_in(db, user, password)


def type_in_later(dialog: LoginDialog, seconds: float, pressed: Callable[[], None]) -> None:
    """A measured start (``--login-after``): after ``seconds``, ``GOVSHARE_USER`` and
    ``GOVSHARE_PASSWORD`` typed into ``dialog`` and 登录 pressed, as a clerk would — ``pressed()``
    as it is pressed; a refused sign-in closes the dialog (nobody is there to try again)."""

    def press() -> None:
        dialog.user.setText(os.environ.get(ENV_USER, ""))
        dialog.password.setText(os.environ.get(ENV_PASSWORD, ""))
        pressed()
        dialog.login_button.click()
        if dialog.signed is None:
            log.error("measured sign-in refused: %s", dialog.message.text())
            dialog.reject()

    QTimer.singleShot(int(seconds * 1000), press)


class IdleLock(QObject):
    """After ``minutes`` without keyboard or mouse input, ``lock()`` is called (the window hides
    personal data and asks for the password). Any input restarts the count."""

    def __init__(self, minutes: float, lock: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(minutes * 60_000))
        self.timer.timeout.connect(lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (
            QEvent.Type.KeyPress,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseMove,
            QEvent.Type.Wheel,
        ):
            self.timer.start()
        return False

    def stop(self) -> None:
        """No more locking (the session ended): the timer stops and input no longer restarts it."""
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


def unlock_check(db: Path | str, username: str, password: str) -> None:
    """The password again, to unlock (counts towards the lockout like a sign-in); ``db`` is the
    database file or the township server's URL."""
    signin.confirm_password(db, username, password)
