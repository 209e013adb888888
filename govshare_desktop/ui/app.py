"""``govshare-desktop`` / ``python -m govshare_desktop``: show the window, open the database, fill it.

Start-up order matters for how fast the program feels: the window shell (Qt only) is shown first;
SQLAlchemy, the schema check and the first page's query run right after, on the next event-loop turn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_DEMO_HOUSEHOLDS = 500


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
        "--quit-after-show",
        action="store_true",
        help="主窗口显示后立即退出（用于测量启动时间）",
    )
    parser.add_argument(
        "--quit-after-load",
        action="store_true",
        help="打开数据库并显示第一页数据后退出（用于测量启动时间和冒烟测试）",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from govshare_desktop.ui.logs import install_excepthook, setup_logging

    setup_logging()
    install_excepthook()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from govshare_desktop.ui.i18n import install_chinese
    from govshare_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("govshare-desktop")
    app.setApplicationDisplayName("govshare-desktop")
    install_chinese(app)

    window = MainWindow()
    window.show()
    if args.quit_after_show:
        QTimer.singleShot(0, app.quit)
        return int(app.exec())
    keep: list[object] = []  # running tasks
    QTimer.singleShot(0, lambda: _open(app, window, args, keep))
    return int(app.exec())


def _open(app, window, args: argparse.Namespace, keep: list[object]) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from govshare_desktop.core.errors import UserError
    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.core.store.township import get_township

    try:
        store = open_store(args.db)
    except UserError as exc:
        QMessageBox.critical(window, "无法打开数据库", exc.message)
        app.exit(2)
        return

    def ready() -> None:
        window.attach(store)
        if args.quit_after_load:
            app.quit()

    if get_township(store) is not None:
        ready()
        return
    choice = "demo"
    if not args.demo:
        from govshare_desktop.ui.first_run import FirstRunDialog

        dialog = FirstRunDialog(window)
        if not dialog.exec():
            app.quit()
            return
        choice = dialog.choice
    if choice == "init":
        from govshare_desktop.core.store.township import init_township

        with store.transaction() as session:
            init_township(session, dialog.code, dialog.name)
        ready()
        return

    from govshare_desktop.core.demo import generate
    from govshare_desktop.ui.errors import show_error
    from govshare_desktop.ui.tasks import run_task

    def failed(exc: BaseException) -> None:
        show_error(window, exc)
        app.exit(2)

    window.statusBar().showMessage("正在生成演示乡镇……")
    keep.append(
        run_task(
            window,
            "正在生成演示乡镇……",
            lambda progress, cancel: generate(
                store, households=args.demo_households, progress=progress, cancel=cancel
            ),
            lambda _summary: ready(),
            failed,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
