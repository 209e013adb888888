"""After an export: what was written and where, with 「打开文件」 and 「打开所在文件夹」 — a clerk who
exported a list mostly wants to open it next, or find it to attach to a message.

The message opens window-modal without blocking (the window keeps running: the idle lock still
fires); the file and the folder open with the program the system has for them
(``QDesktopServices.openUrl``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def open_path(path: Path) -> bool:
    """Open a file or a folder as the system would (False: nothing could open it)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class ExportedMessage(QMessageBox):
    """「已导出 … 到：路径」 with 「打开文件」, 「打开所在文件夹」 and 「确定」 (the default)."""

    def __init__(self, parent: QWidget | None, title: str, text: str, path: Path) -> None:
        super().__init__(QMessageBox.Icon.Information, title, text, parent=parent)
        self.setObjectName("exported_message")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.path = path
        self.open_file = self.addButton("打开文件", QMessageBox.ButtonRole.ActionRole)
        self.open_folder = self.addButton("打开所在文件夹", QMessageBox.ButtonRole.ActionRole)
        ok = self.addButton("确定", QMessageBox.ButtonRole.AcceptRole)
        self.setDefaultButton(ok)
        self.setEscapeButton(ok)
        self.open_file.clicked.connect(lambda: open_path(self.path))
        self.open_folder.clicked.connect(lambda: open_path(self.path.parent))


def show_exported(
    parent: QWidget | None, text: str, path: Path, title: str = "导出完成"
) -> ExportedMessage:
    """Say where the export went (window-modal, not blocking) and offer to open it."""
    box = ExportedMessage(parent, title, text, path)
    box.open()
    return box
