"""First start on an empty database: set up this township, open the clearly labelled demo
township, or connect to the township's server where several clerks share one database (office
mode)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
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
    """``choice`` is ``"demo"``, ``"init"`` or ``"server"`` after ``exec()``; for ``"init"``,
    ``code``/``name`` are set, for ``"server"`` the checked ``url``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("首次使用 — 设置乡镇（街道）")
        self.setObjectName("first_run")
        self.choice = ""
        self.code = ""
        self.name = ""
        self.url = ""
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
        server = QPushButton("连接单位服务器…", self)
        server.setObjectName("server_button")
        server.setToolTip("本单位多名经办人共用服务器上的数据库时（由系统管理员提供连接地址）")
        buttons.addButton(server, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("退出", QDialogButtonBox.ButtonRole.RejectRole)
        ok.clicked.connect(self._accept_init)
        demo.clicked.connect(self._accept_demo)
        server.clicked.connect(self._accept_server)
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

    def _accept_server(self) -> None:
        """The server's address, from the system administrator; checked before it is taken:
        encrypted unless it is this computer, reachable, and set up for a township."""
        from sqlalchemy.engine import make_url  # lazy: SQLAlchemy only for a server

        from govshare_desktop.core.security import signin  # lazy: the core only for a server
        from govshare_desktop.core.store.server import is_server_url  # lazy: as above

        url, ok = QInputDialog.getText(
            self,
            "连接单位服务器",
            "数据库服务器的连接地址（由系统管理员提供），例：\n"
            "postgresql://govshare_app@192.168.1.10/qinghe?sslmode=verify-full&sslrootcert=根证书文件\n"
            "口令放在 pgpass 文件中，不写在地址里。",
        )
        url = url.strip()
        if not ok or not url:
            return
        if not is_server_url(url):
            QMessageBox.warning(
                self,
                "连接地址有误",
                f"“{url}”不是数据库服务器的连接地址（应以 postgresql:// 开头）",
            )
            return
        if make_url(url).password:
            QMessageBox.warning(
                self, "连接地址中有口令", "口令不要写在连接地址里（会被记住），请放在 pgpass 文件中"
            )
            return
        try:
            ready = signin.is_initialised(url)
        except UserError as exc:
            QMessageBox.warning(self, "无法连接数据库服务器", exc.message)
            return
        if not ready:
            QMessageBox.warning(
                self,
                "服务器上还没有本乡镇的数据库",
                "请系统管理员先运行 govshare server init --url 连接地址 --area 区划代码 --name 名称",
            )
            return
        self.url, self.choice = url, "server"
        self.accept()
