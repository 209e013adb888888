"""First start on an empty database: set up this township, or open the clearly labelled demo township."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store.township import validate_township_code


class FirstRunDialog(QDialog):
    """``choice`` is ``"demo"`` or ``"init"`` after ``exec()``; for ``"init"``, ``code``/``name`` are set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("首次使用 — 设置乡镇（街道）")
        self.setObjectName("first_run")
        self.choice = ""
        self.code = ""
        self.name = ""
        layout = QVBoxLayout(self)
        intro = QLabel(
            "这是一个新的数据库。请填写本乡镇（街道）的12位统计用区划代码和名称；"
            "如果只是想先看看程序，可以打开虚构的演示乡镇“青禾镇”。",
            self,
        )
        intro.setWordWrap(True)
        self.setMinimumWidth(520)
        layout.addWidget(intro)
        form = QFormLayout()
        self.code_edit = QLineEdit(self)
        self.code_edit.setPlaceholderText("例：441900199000")
        self.code_edit.setMaxLength(12)
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("例：青禾镇")
        form.addRow("统计用区划代码：", self.code_edit)
        form.addRow("乡镇（街道）名称：", self.name_edit)
        layout.addLayout(form)
        buttons = QDialogButtonBox(self)
        ok = buttons.addButton("确定", QDialogButtonBox.ButtonRole.AcceptRole)
        demo = QPushButton("打开演示乡镇（青禾镇）", self)
        demo.setObjectName("demo_button")
        buttons.addButton(demo, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("退出", QDialogButtonBox.ButtonRole.RejectRole)
        ok.clicked.connect(self._accept_init)
        demo.clicked.connect(self._accept_demo)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _accept_init(self) -> None:
        try:
            self.code = validate_township_code(self.code_edit.text())
        except UserError as exc:
            QMessageBox.warning(self, "区划代码有误", exc.message)
            self.code_edit.setFocus()
            return
        self.name = self.name_edit.text().strip()
        if not self.name:
            QMessageBox.warning(self, "请填写名称", "乡镇（街道）名称不能为空")
            self.name_edit.setFocus()
            return
        self.choice = "init"
        self.accept()

    def _accept_demo(self) -> None:
        self.choice = "demo"
        self.accept()
