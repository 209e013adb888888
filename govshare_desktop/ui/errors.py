"""Show user errors as a Chinese message; log anything else as a bug with its traceback."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from govshare_desktop.core.errors import UserError

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    if isinstance(exc, UserError):
        QMessageBox.warning(parent, "无法完成操作", exc.message)
        return
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    QMessageBox.critical(
        parent,
        "程序错误",
        f"程序遇到了意外错误，操作未完成，数据未被修改。\n请把以下信息告知技术支持：\n{type(exc).__name__}: {exc}",
    )
