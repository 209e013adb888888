"""``govshare-desktop`` / ``python -m govshare_desktop``: show the window, open the database, fill it.

Start-up order matters for how fast the program feels: the window shell (Qt only) is shown and
painted first; SQLAlchemy, the sign-in and the first page follow once it has been painted. While
the login dialog waits for the clerk, what the signed-in window needs loads beside it
(:mod:`~govshare_desktop.ui.preload`).
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt, the store and the window load inside main(), in start-up order
    from PySide6.QtWidgets import QApplication

    from govshare_desktop.core.progress import Cancel, Progress
    from govshare_desktop.core.security.signin import SignedIn
    from govshare_desktop.core.services.setup import Prepared
    from govshare_desktop.core.store.engine import Store
    from govshare_desktop.ui.main_window import MainWindow

DEFAULT_DEMO_HOUSEHOLDS = 500
OPEN_AT_LATEST_MS = 500


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="govshare-desktop", description="govshare-desktop 乡镇政务数据共享桌面端"
    )
    parser.add_argument(
        "--db", metavar="PATH", help="数据库文件路径（默认：GOVSHARE_DB 或用户数据目录）"
    )
    parser.add_argument(
        "--demo", action="store_true", help="数据库为空时直接生成演示乡镇（青禾镇），不询问"
    )
    parser.add_argument("--demo-households", type=int, default=DEFAULT_DEMO_HOUSEHOLDS, metavar="N")
    parser.add_argument(
        "--idle-minutes",
        type=float,
        default=float(os.environ.get("GOVSHARE_IDLE_MINUTES", "10")),
        metavar="N",
        help="无操作 N 分钟后锁定并隐藏个人信息（默认 10；也可用 GOVSHARE_IDLE_MINUTES）",
    )
    parser.add_argument(
        "--quit-after-show",
        action="store_true",
        help="主窗口第一次绘制后立即退出（用于测量启动时间）",
    )
    parser.add_argument(
        "--quit-after-paint",
        action="store_true",
        help="登录（GOVSHARE_USER/GOVSHARE_PASSWORD 或登录对话框）、打开数据库，工作台绘制后"
        "退出，在标准错误输出上报告各步时刻（用于测量启动时间）",
    )
    parser.add_argument(
        "--login-after",
        type=float,
        metavar="SECONDS",
        help="与 --quit-after-paint 一起用：显示登录对话框，SECONDS 秒后填入 GOVSHARE_USER/"
        "GOVSHARE_PASSWORD 并按「登录」，如同办事员输入（测量按登录后要等多久）",
    )
    parser.add_argument(
        "--quit-after-load",
        action="store_true",
        help="打开数据库并显示第一页数据后退出（用于测量启动时间和冒烟测试）",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="自检后退出（不显示窗口）：新建临时演示数据库（或用 --db 和 GOVSHARE_USER/"
        "GOVSHARE_PASSWORD 打开已有的），建主窗口，导出一张报表 PDF；通过时退出码 0",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.smoke:  # no screen needed: before the QApplication exists
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from govshare_desktop.ui.logs import install_excepthook, setup_logging

    install_excepthook()  # the log file itself after the first paint (its folder: ~10 ms)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from govshare_desktop.ui import settings
    from govshare_desktop.ui.i18n import chinese_dates, install_chinese
    from govshare_desktop.ui.main_window import MainWindow
    from govshare_desktop.ui.painted import after_paint, once, report_step
    from govshare_desktop.ui.zoom import apply_default_font

    chinese_dates()  # before the application: Qt reads LC_TIME as it starts
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)  # a widget program: never a bare QCoreApplication
    app.setOrganizationName(settings.ORGANISATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("govshare-desktop")
    _set_icon(app)
    apply_default_font(app)  # at least 10.5 pt
    install_chinese(app)
    if args.smoke:
        from govshare_desktop.ui import smoke

        setup_logging()
        return smoke.run(args.db)

    window = MainWindow()
    settings.restore_window(window)  # as big and where it was when it last closed
    if args.quit_after_show or args.quit_after_paint:
        after_paint(window, lambda: report_step("painted"))
    window.show()
    if args.quit_after_show:
        after_paint(window, app.quit)
        return int(app.exec())
    keep: list[object] = []  # running tasks

    def open_() -> None:
        setup_logging()  # before the database: migrations and sign-in are logged
        _open(app, window, args, keep)

    opening = once(open_)
    after_paint(window, lambda: QTimer.singleShot(0, opening))  # the shell on screen first
    QTimer.singleShot(OPEN_AT_LATEST_MS, opening)  # (a window never painted: minimised)
    return int(app.exec())


def _set_icon(app: QApplication) -> None:
    from PySide6.QtGui import QIcon

    from govshare_desktop.core.resources import resource_path

    icon = resource_path("icons", "govshare.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


ENV_ADMIN_PASSWORD, ENV_CLERK_PASSWORD = "GOVSHARE_ADMIN_PASSWORD", "GOVSHARE_CLERK_PASSWORD"
LOCK_WAIT = 3.0  # seconds the window waits for a govshare command to finish before giving up


def _open(
    app: QApplication, window: MainWindow, args: argparse.Namespace, keep: list[object]
) -> None:
    """Where the database is, whether another copy uses it, first-run setup, then sign-in."""
    from govshare_desktop.core.errors import UserError
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.engine import resolve_url, sqlite_path
    from govshare_desktop.core.store.location import (
        AlreadyRunning,
        acquire_writer_lock,
        check_local,
    )
    from govshare_desktop.core.store.server import is_server_url
    from govshare_desktop.ui.settings import remembered_server

    url = resolve_url(args.db or remembered_server())
    if is_server_url(url):
        _open_server(app, window, args, url)
        return
    path = sqlite_path(url)
    try:
        if path is None:
            raise UserError("只支持本机的 SQLite 数据库文件或单位的 PostgreSQL 服务器")
        check_local(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Held while the program runs: a govshare command or a restore waits for the window.
        keep.append(acquire_writer_lock(path, wait=LOCK_WAIT, purpose="使用窗口"))
        if not signin.is_initialised(path):
            _first_run(app, window, args, keep, path)
            return
    except AlreadyRunning as exc:
        _fail(app, window, args, "数据库正在使用", exc.message + "本程序将退出。")
        return
    except UserError as exc:
        _fail(app, window, args, "无法打开数据库", exc.message)
        return
    _sign_in(app, window, args, path)


def _open_server(app: QApplication, window: MainWindow, args: argparse.Namespace, url: str) -> None:
    """Office mode: the township's database on the server — set up there by its administrator
    (govshare server init); the server arbitrates its writers (no lock file)."""
    from govshare_desktop.core.errors import UserError
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.server import shown

    try:
        ready = signin.is_initialised(url)
    except UserError as exc:  # no TLS to a remote address, unreachable, refused
        _fail(app, window, args, "无法连接数据库服务器", exc.message)
        return
    if not ready:
        _fail(
            app,
            window,
            args,
            "服务器上还没有本乡镇的数据库",
            f"数据库服务器 {shown(url)} 上还没有建立本乡镇的数据库："
            "请系统管理员先运行 govshare server init --url 连接地址 --area 区划代码 --name 名称",
        )
        return
    _sign_in(app, window, args, url)


def _scripted(args: argparse.Namespace) -> bool:
    """Run by a script (a test, a benchmark): messages go to stderr only, no dialog waits."""
    return bool(args.quit_after_load or getattr(args, "quit_after_paint", False))


def _fail(
    app: QApplication, window: MainWindow, args: argparse.Namespace, title: str, message: str
) -> None:
    """Say why the program cannot go on (in a dialog, or on stderr when run by a script)."""
    print(f"{title}：{message}", file=sys.stderr)
    if not _scripted(args):
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(window, title, message)
    app.exit(2)


def _first_run(
    app: QApplication,
    window: MainWindow,
    args: argparse.Namespace,
    keep: list[object],
    path: Path,
) -> None:
    """A database without accounts: a new one (this township or the demo), or one from an
    earlier version (encrypted). It is prepared under temporary names (``core/services/setup``,
    the same use cases as ``govshare init``/``demo``); the accounts and the recovery secret are
    shown once, and only then is it renamed into place and usable. What an interrupted setup
    left is cleared first, with a notice."""
    import os

    from govshare_desktop.core.services import setup
    from govshare_desktop.ui.errors import show_error
    from govshare_desktop.ui.tasks import run_task

    notice = setup.clear_interrupted(path)
    if notice:
        print(f"上次设置未完成：{notice}", file=sys.stderr)
        if not _scripted(args):
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.information(window, "上次设置未完成", notice)
    existing = path.exists() and path.stat().st_size > 0
    choice = "existing" if existing else "demo"
    if not existing and not args.demo:
        from govshare_desktop.ui.first_run import FirstRunDialog

        dialog = FirstRunDialog(window)
        if not dialog.exec():
            app.quit()
            return
        choice = dialog.choice
        if choice == "server":  # 连接单位服务器: remembered, and every later start opens it
            from govshare_desktop.ui.settings import remember_server

            remember_server(dialog.url)
            _sign_in(app, window, args, dialog.url)
            return
    admin_password = os.environ.get(ENV_ADMIN_PASSWORD)

    def prepare(progress: Progress, cancel: Cancel) -> Prepared:
        if choice == "init":
            return setup.prepare_township(
                path, code=dialog.code, name=dialog.name, admin_password=admin_password
            )
        if choice == "existing" and _has_township(path):
            return setup.prepare_upgrade(path, admin_password=admin_password)
        return setup.prepare_demo(  # a new demo township, or an earlier database without one
            path,
            households=args.demo_households,
            clerk_password=os.environ.get(ENV_CLERK_PASSWORD),
            admin_password=admin_password,
            progress=progress,
            cancel=cancel,
        )

    def failed(exc: BaseException) -> None:
        show_error(window, exc)
        app.exit(2)

    window.statusBar().showMessage("正在设置数据库……")
    keep.append(
        run_task(
            window,
            "正在设置数据库……",
            prepare,
            lambda prepared: _finish_setup(app, window, args, path, prepared),
            failed,
        )
    )


def _has_township(path: Path) -> bool:
    """Whether a plain database from an earlier version already serves a township."""
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM township").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()


def _finish_setup(
    app: QApplication,
    window: MainWindow,
    args: argparse.Namespace,
    path: Path,
    prepared: Prepared,
) -> None:
    """Show the accounts and secrets, then make the database usable and sign in."""
    from govshare_desktop.core.errors import UserError
    from govshare_desktop.core.killpoints import reached
    from govshare_desktop.core.store.location import DISK_ENCRYPTION_ADVICE, volume_encrypted

    shown = list(prepared.shown)
    to_write_down = len(shown) > 2  # passwords to write down: shown in a dialog too
    notes = []
    if volume_encrypted(path) is False:  # defence in depth: said once, at setup
        notes.append(("磁盘加密", f"未启用。{DISK_ENCRYPTION_ADVICE}。"))
    for label, value in shown + notes:  # also in the terminal, once
        print(f"{label}：{value}", file=sys.stderr, flush=True)
    if to_write_down and not args.quit_after_load:
        from govshare_desktop.ui.signin import SetupDialog

        SetupDialog(shown, window, notes=notes, where=prepared.where).exec()
    reached("setup:shown")
    try:
        prepared.finish()
    except BaseException as exc:
        prepared.abandon()
        if not isinstance(exc, (UserError, OSError)):
            raise
        _fail(app, window, args, "设置数据库失败", f"{exc}。请重新启动本程序再试。")
        return
    _sign_in(app, window, args, path)


def _sign_in(
    app: QApplication,
    window: MainWindow,
    args: argparse.Namespace,
    path: Path | str,
    *,
    quietly: bool = True,
) -> None:
    """Sign in (from the environment when ``quietly`` and it is set, else the login dialog),
    then give the window its store. 注销/切换用户 comes back here with a new window."""
    from govshare_desktop.core.errors import UserError
    from govshare_desktop.ui.signin import (
        ENV_PASSWORD,
        ChangePasswordDialog,
        sign_in_quietly,
    )

    login_after = getattr(args, "login_after", None)  # measured: the dialog, typed in by itself
    try:
        signed = sign_in_quietly(path) if quietly and login_after is None else None
    except UserError as exc:
        _fail(app, window, args, "无法登录", exc.message)
        return
    typed = os.environ.get(ENV_PASSWORD, "")  # what signed in: not asked again below
    if signed is None and args.quit_after_paint and login_after is None:  # nobody to type
        _fail(
            app,
            window,
            args,
            "无法登录",
            "--quit-after-paint 需要 GOVSHARE_USER 和 GOVSHARE_PASSWORD",
        )
        return
    if signed is None:
        asked = _login_dialog(window, path, login_after)
        if asked is None:
            app.quit()
            return
        signed, typed = asked
    if signed.must_change_password:
        change = ChangePasswordDialog(signed.store, forced=True, old=typed, parent=window)
        if not change.exec():
            signed.store.dispose()
            app.quit()
            return
    store = _checked(window, signed.store, args)
    from govshare_desktop.core.store.location import held_lock

    lock = held_lock(path) if isinstance(path, Path) else None  # a server has no lock file
    if lock is not None:  # a second writer is told who has the database
        lock.note(account=store.principal.username)
    try:
        window.attach(store)
    except Exception as exc:
        from sqlalchemy.exc import DatabaseError

        if not isinstance(exc, DatabaseError):
            raise
        _fail(
            app,
            window,
            args,
            "数据库已损坏",
            f"数据库 {path} 已损坏到无法读取（{exc.orig}）。请系统管理员从备份恢复："
            "govshare restore 备份文件",
        )
        return
    window.enable_idle_lock(path, args.idle_minutes)
    window.signed_out.connect(lambda: _switch_user(app, window, args, path))
    if store.principal.gate is None:  # else once the integrity check has passed
        _daily_backup(window, store, args)
    if args.quit_after_load:
        app.quit()
    if args.quit_after_paint:
        from govshare_desktop.ui.painted import after_paint, report_step

        report_step("attached")
        after_paint(window, lambda: _quit_painted(app, window))


def _login_dialog(
    window: MainWindow, path: Path | str, login_after: float | None
) -> tuple[SignedIn, str] | None:
    """The login dialog (the signed-in session and the password typed), or None: 退出. What
    the window needs loads beside it while the clerk types (:mod:`~govshare_desktop.ui.preload`);
    a measured start (``--login-after``) types into it by itself."""
    from govshare_desktop.ui import preload
    from govshare_desktop.ui.painted import report_step
    from govshare_desktop.ui.signin import LoginDialog, type_in_later

    preload.start()
    dialog = LoginDialog(path, window, title="登录 — govshare-desktop")
    if login_after is not None:
        type_in_later(dialog, login_after, lambda: report_step("login pressed"))
    if not dialog.exec() or dialog.signed is None:
        return None
    return dialog.signed, dialog.typed


def _quit_painted(app: QApplication, window: MainWindow) -> None:
    """--quit-after-paint: the 工作台 is painted; what still runs beside it (the integrity check,
    the charts) is stopped, then the program ends."""
    from govshare_desktop.ui.painted import report_step
    from govshare_desktop.ui.tasks import abandon_tasks, running_tasks

    report_step("home painted")
    abandon_tasks(running_tasks())
    app.quit()


def _switch_user(
    app: QApplication, old: MainWindow, args: argparse.Namespace, path: Path | str
) -> MainWindow:
    """注销/切换用户: a new, empty window takes the old one's place (so the program does not end
    with its last window), the old window closes and its store is disposed of, and the sign-in
    is shown again — always the dialog, never the environment's account."""
    from govshare_desktop.ui.main_window import MainWindow
    from govshare_desktop.ui.settings import restore_window, save_window

    store = old.store
    save_window(old)
    window = MainWindow()
    restore_window(window)
    window.show()
    old.close()  # the session was recorded as ended by switch_user
    old.deleteLater()
    if store is not None:
        store.dispose()
    _sign_in(app, window, args, path, quietly=False)
    return window


def _checked(window: MainWindow, store: Store, args: argparse.Namespace) -> Store:
    """The integrity check at start. It reads the whole file (15 s on the largest townships),
    so it runs beside the window: the clerk can look and search at once, and nothing is written
    until it has passed (:class:`~govshare_desktop.core.domain.permissions.IntegrityGate`) — a
    damaged database is opened read-only (nothing more is written into it) until the 系统管理员
    restores a backup. The daily backup waits for it. A start that quits after loading (measured
    or scripted) checks first."""
    from dataclasses import replace

    from govshare_desktop.core.domain.permissions import IntegrityGate
    from govshare_desktop.core.store.backup import quick_check
    from govshare_desktop.ui.tasks import run_task

    if store.server:  # the server checks its own pages; there is no file to read
        return store
    if args.quit_after_load:
        problems = quick_check(store, connect=store.file_connect())
        if problems:
            _say_damaged(window, store, problems, args)
            return store.acting(replace(store.principal, read_only=True))
        return store
    gate = IntegrityGate()
    gated = store.acting(replace(store.principal, gate=gate))

    def done(problems: list[str]) -> None:
        window.status_line.set_notice("")
        if problems:
            gate.failed(problems)
            _say_damaged(window, store, problems, args)
            return
        gate.passed()
        _daily_backup(window, gated, args)

    # In front of the status bar's facts, whether they are counted before or after it ends.
    window.status_line.set_notice("正在检查数据库是否完好（检查完成前不能保存）……")
    window.integrity_task = run_task(
        window,
        "正在检查数据库……",
        lambda progress, cancel: quick_check(store, connect=store.file_connect(), cancel=cancel),
        done,
        lambda exc: done([f"无法完成检查：{exc}"]),
        quiet=True,
    )
    return gated


def _say_damaged(
    window: MainWindow, store: Store, problems: list[str], args: argparse.Namespace
) -> None:
    from govshare_desktop.core.store.backup import default_backup_dir, list_backups

    newest = list_backups(default_backup_dir(store.path))[:1] if store.path else []
    message = (
        "数据库检查发现损坏：" + "；".join(problems[:5]) + "。\n"
        "已以只读方式打开：可以查看，不能录入或导入。请系统管理员登录本程序，在「备份与恢复」中"
        "从备份恢复（或用命令 govshare restore 备份文件）"
        + (f"。最近的备份：{newest[0][1]}" if newest else "")
    )
    print(message, file=sys.stderr)
    if not _scripted(args):
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(window, "数据库已损坏", message)


def _daily_backup(window: MainWindow, store: Store, args: argparse.Namespace) -> None:
    """Once a day, after signing in, off the UI thread."""
    from datetime import datetime

    from govshare_desktop.core.services.admin import back_up
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.core.store.backup import backup_due, default_backup_dir
    from govshare_desktop.ui.tasks import run_task

    if args.quit_after_load or store.path is None or store.principal.damaged:
        return
    if backup_due(default_backup_dir(store.path), datetime.now()):
        window.statusBar().showMessage("正在进行每日自动备份……", 5000)
        window.backup_task = run_task(
            window,
            "正在进行每日自动备份……",
            lambda progress, cancel: back_up(
                Context(store, progress=progress, cancel=cancel), automatic=True
            ),
            lambda result: window.statusBar().showMessage(f"已自动备份：{result.path}", 8000),
        )


if __name__ == "__main__":
    sys.exit(main())
