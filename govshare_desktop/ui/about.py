"""帮助 → 关于: the program's version, where its database is, and the fingerprint of the key the
township signs its packages with (to read out when the county asks which key a package came from).

The fingerprint is public: every signed-in user may see it (the 系统管理员 exports and rotates the
key in 「本单位密钥」). A database set up by an earlier version may have no key yet: it is made the
first time a package is signed, and until then the dialog says so.
"""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop import __version__
from govshare_desktop.core.exchange import township_key
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.township import get_township

NO_KEY = "尚未生成（第一次上报或导出公钥时生成）"


def fingerprint_of(store: Store) -> str:
    """The fingerprint of the key in use, in groups of four (or :data:`NO_KEY`)."""
    with store.sessions() as session:
        current = township_key.current_key(session)
        if current is None:
            return NO_KEY
        return township_key.public_key(current).grouped_fingerprint


class AboutDialog(QDialog):
    """版本, 数据库, 本单位 and 签名密钥指纹, each selectable; 「复制」 copies them all."""

    def __init__(self, store: Store | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle("关于 govshare-desktop")
        self.setMinimumWidth(560)
        title = QLabel("govshare-desktop 乡镇政务数据共享桌面端", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        title.setFont(font)
        self.rows: list[tuple[str, str]] = [
            ("版本", __version__),
            ("运行环境", f"Python {platform.python_version()}，PySide6 {pyside_version}"),
        ]
        if store is not None:
            township = get_township(store)
            if township is not None:
                demo = "（演示数据）" if township.is_demo else ""
                self.rows.append(("本单位", f"{township.name}（{township.code}）{demo}"))
            self.rows.append(("数据库", store.where))
            self.rows.append(("签名密钥指纹", fingerprint_of(store)))
        form = QFormLayout()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setWeight(QFont.Weight.Bold)
        for label, value in self.rows:
            shown = value
            if label == "签名密钥指纹" and value != NO_KEY:  # eight groups a line, as 本单位密钥
                groups = value.split()
                shown = "\n".join(" ".join(groups[i : i + 8]) for i in range(0, len(groups), 8))
            field = QLabel(shown, self)
            field.setObjectName(f"about_{label}")
            field.setWordWrap(True)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if label == "签名密钥指纹" and value != NO_KEY:
                field.setFont(fixed)
            form.addRow(f"{label}：", field)
        note = QLabel(
            "签名密钥指纹（SHA-256）用于县级平台核对本单位上报数据包的签名；"
            "系统管理员可在「工具 → 本单位密钥」中导出公钥、打印公钥登记单。",
            self,
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton("复制", self)
        copy.setObjectName("about_copy")
        copy.clicked.connect(self.copy)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(f"{label}：{value}" for label, value in self.rows)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text())
