"""The 系统管理员's 「报表模板」 page: the forms this computer has — shipped, from county report
tasks, installed from a file — each version with where it came from and from which period it
applies, and 「安装报表模板…」 (a department's template, or a dictionary file's new data
elements). The checks and the audit entry are the use case's
(:func:`govshare_desktop.core.services.forms.install_template_file`); this only shows them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.catalog import ORIGINS
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.forms import catalog, install_template_file
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.usecases import context

HEADERS = ["报表", "部门", "模板 id", "版本", "来源", "适用统计期", "安装人", "安装时间"]


class TemplatesView(QWidget):
    """Every template version, and 「安装报表模板…」 for whoever may install (系统管理员)."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templates_view")
        self.store = store
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setObjectName("templates_table")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        note = QLabel(
            "县级部门的新报表或新版本可从模板文件（.toml）安装；安装前按 govshare forms check "
            "的规则检查。新版本只用于此后的统计期，已上报的报表仍按上报时的版本显示和导出。",
            self,
        )
        note.setWordWrap(True)
        row = QHBoxLayout()
        self.install_button = QPushButton("安装报表模板…", self)
        self.install_button.setObjectName("install_template")
        self.install_button.clicked.connect(self.choose_and_install)
        self.install_button.setVisible(store.principal.may(Action.INSTALL_FORMS))
        row.addWidget(self.install_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.problems: list[str] = []
        self.reload()

    def reload(self) -> None:
        found = catalog(context(self.store))
        self.problems = [problem.message for problem in found.problems]
        rows: list[list[str]] = []
        for template_id in found.templates:
            for entry in reversed(found.templates.installed(template_id)):  # newest first
                t = entry.template
                rows.append(
                    [
                        t.title,
                        t.department,
                        t.id,
                        entry.version_label,
                        ORIGINS.get(entry.origin, entry.origin)
                        + (f"（{entry.package_id}）" if entry.package_id else ""),
                        f"自 {entry.effective_from} 起" if entry.effective_from else "各期",
                        entry.installed_by,
                        f"{entry.installed_at:%Y-%m-%d %H:%M}" if entry.installed_at else "",
                    ]
                )
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def choose_and_install(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "安装报表模板", "", "报表模板或数据项字典 (*.toml)"
        )
        if name:
            self.install(Path(name))

    def install(self, path: Path) -> None:
        """Install ``path``; what was installed, or why not, in a message box."""
        try:
            said = install_template_file(context(self.store), path)
        except UserError as exc:
            QMessageBox.warning(self, "不能安装报表模板", exc.message)
            return
        self.reload()
        QMessageBox.information(self, "安装报表模板", said)
