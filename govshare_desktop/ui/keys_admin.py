"""The 系统管理员's 「本单位密钥」 and 「上报设置」 tabs.

「本单位密钥」: the fingerprint of the key the township signs its packages with (in groups of
four, to read out over the phone when the county registers it), since when it is used, the keys
retired before it, and 「导出公钥…」, 「打印公钥登记单…」, 「更换密钥…」.

「上报设置」: for each form that goes up, whether a 审核人 must approve it first; for each
department, the code its reports go to when the county sent no task.

Every change and every file is the use case's
(:mod:`govshare_desktop.core.services.reports`: permission, audit entry); these only show them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.township_key import PublicKey
from govshare_desktop.core.services import reports
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.table_rows import read_only_table
from govshare_desktop.ui.usecases import context

KEY_NOTE = (
    "本单位上报的数据包都用这把密钥签名。县级平台须先登记本单位的公钥，才能验证并接收数据包："
    "请导出公钥文件（.pem），打印公钥登记单签字盖章，一并交县级平台；登记时请电话核对下面的指纹。"
)
ROTATE_WARNING = (
    "更换本单位签名密钥？\n\n"
    "更换后，新的数据包都用新密钥签名。县级平台登记新公钥之前，会因签名无法验证而拒收这些数据包。"
    "请在更换后立即导出新公钥、打印公钥登记单，交县级平台重新登记。\n\n"
    "只在密钥可能泄露（如电脑丢失、被他人使用）或县级平台要求时更换。"
    "旧密钥停用但保留，此前报送的数据包仍可验证。"
)
SETTINGS_NOTE = (
    "勾选「上报前须审核」的报表，经办人上报后先由审核人「审核通过」，再生成上报数据包。"
    "县级下发任务的报表一律报给下发单位；没有任务的报表报给下表所列部门的上报单位代码"
    "（12 位，双击修改）。"
)


def fingerprint_lines(key: PublicKey) -> str:
    """The fingerprint in groups of four, eight groups a line."""
    groups = key.grouped_fingerprint.split()
    return "\n".join(" ".join(groups[i : i + 8]) for i in range(0, len(groups), 8))


class KeysView(QWidget):
    """「本单位密钥」: the key in use, the retired ones, export, print, rotate."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keys_view")
        self.store = store
        note = QLabel(KEY_NOTE, self)
        note.setWordWrap(True)
        self.fingerprint = QLabel(self)
        self.fingerprint.setObjectName("key_fingerprint")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(16)
        font.setWeight(QFont.Weight.Bold)
        self.fingerprint.setFont(font)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.since = QLabel(self)
        self.since.setObjectName("key_since")
        self.retired = read_only_table(["已停用的密钥指纹", "启用时间", "停用时间"], self)
        self.retired.setObjectName("retired_keys")
        buttons = QHBoxLayout()
        for text, name, slot in (
            ("导出公钥…", "export_key", self.export_key),
            ("打印公钥登记单…", "print_key_sheet", self.print_sheet),
            ("更换密钥…", "rotate_key", self.rotate),
        ):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel(self)
        self.status.setObjectName("keys_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        current = QGroupBox("正在使用的密钥指纹（SHA-256）", self)
        box = QVBoxLayout(current)
        box.addWidget(self.fingerprint)
        box.addWidget(self.since)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(current)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.retired, 1)
        layout.addStretch(0)  # takes the space while no key was retired (the list hidden)
        self.keys: list[PublicKey] = []
        self.refresh()

    def refresh(self) -> None:
        self.keys = reports.township_public_keys(context(self.store))
        key = self.keys[0]
        self.fingerprint.setText(fingerprint_lines(key))
        self.since.setText(f"启用时间：{key.created_at:%Y-%m-%d %H:%M}（{key.created_by}）")
        old = [k for k in self.keys if k.retired_at is not None]
        self.retired.setRowCount(len(old))
        for row, each in enumerate(old):
            assert each.retired_at is not None
            for column, text in enumerate(
                (
                    each.grouped_fingerprint,
                    f"{each.created_at:%Y-%m-%d %H:%M}",
                    f"{each.retired_at:%Y-%m-%d %H:%M}",
                )
            ):
                self.retired.setItem(row, column, QTableWidgetItem(text))
        self.retired.setVisible(bool(old))

    def _save_path(self, title: str, name: str, kind: str, suffix: str) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / name), kind)
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)

    def export_key(self) -> None:
        path = self._save_path("导出本单位公钥", "本单位签名公钥.pem", "公钥文件 (*.pem)", ".pem")
        if path is None:
            return
        try:
            key = reports.export_public_key(context(self.store), path)
        except UserError as exc:
            QMessageBox.warning(self, "未导出公钥", exc.message)
            return
        self.status.setText(f"已导出公钥：{path}（指纹 {key.grouped_fingerprint}）")

    def print_sheet(self) -> None:
        path = self._save_path("保存公钥登记单", "公钥登记单.pdf", "PDF 文件 (*.pdf)", ".pdf")
        if path is None:
            return
        try:
            reports.print_key_sheet(context(self.store), path)
        except UserError as exc:
            QMessageBox.warning(self, "未生成公钥登记单", exc.message)
            return
        self.status.setText(f"已保存公钥登记单：{path}")
        answer = QMessageBox.question(
            self,
            "公钥登记单",
            f"公钥登记单已保存到：\n{path}\n\n现在打开它打印吗？打印后签字盖章，与公钥文件一并交县级平台。",
        )
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def rotate(self) -> None:
        answer = QMessageBox.warning(
            self,
            "更换密钥",
            ROTATE_WARNING,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            key = reports.rotate_township_key(context(self.store))
        except UserError as exc:
            QMessageBox.warning(self, "未更换密钥", exc.message)
            return
        self.refresh()
        self.status.setText(
            f"已更换密钥，新指纹 {key.grouped_fingerprint}。"
            "请立即导出新公钥、打印公钥登记单，交县级平台重新登记。"
        )


class ReportSettingsView(QWidget):
    """「上报设置」: 上报前须审核 per form, 上报单位代码 per department."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report_settings_view")
        self.store = store
        note = QLabel(SETTINGS_NOTE, self)
        note.setWordWrap(True)
        self.review = read_only_table(["部门", "报表", "上报前须审核"], self)
        self.review.setObjectName("review_settings")
        self.review.horizontalHeader().setStretchLastSection(False)
        self.review.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.review.itemChanged.connect(self._review_changed)
        self.recipients = read_only_table(["部门", "上报单位代码", "说明"], self)
        self.recipients.setObjectName("recipient_settings")
        self.recipients.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.recipients.itemChanged.connect(self._recipient_changed)
        self.status = QLabel(self)
        self.status.setObjectName("report_settings_status")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(_caption("上报前须审核", self))
        layout.addWidget(self.review, 3)
        layout.addWidget(_caption("上报单位（没有县级任务时）", self))
        layout.addWidget(self.recipients, 2)
        layout.addWidget(self.status)
        self.refresh()

    def refresh(self) -> None:
        review, recipients = reports.report_settings(context(self.store))
        for table in (self.review, self.recipients):
            table.blockSignals(True)
        self.review.setRowCount(len(review))
        for row, setting in enumerate(review):
            self.review.setItem(row, 0, _fixed(setting.department))
            self.review.setItem(row, 1, _fixed(setting.title))
            check = _fixed("")
            check.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            check.setCheckState(
                Qt.CheckState.Checked if setting.required else Qt.CheckState.Unchecked
            )
            check.setData(Qt.ItemDataRole.UserRole, setting.template_id)
            self.review.setItem(row, 2, check)
        self.recipients.setRowCount(len(recipients))
        for row, each in enumerate(recipients):
            self.recipients.setItem(row, 0, _fixed(each.department))
            code = QTableWidgetItem(each.code)
            code.setData(Qt.ItemDataRole.UserRole, each.department)
            code.setToolTip("双击修改：12 位统计用区划代码（如 441900000002）")
            self.recipients.setItem(row, 1, code)
            self.recipients.setItem(row, 2, _fixed(_recipient_note(each)))
        for table in (self.review, self.recipients):
            table.blockSignals(False)

    def _review_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 2:
            return
        required = item.checkState() == Qt.CheckState.Checked
        template_id = item.data(Qt.ItemDataRole.UserRole)
        try:
            reports.set_review_required(context(self.store), template_id, required)
        except UserError as exc:
            QMessageBox.warning(self, "未保存", exc.message)
        else:
            shown = self.review.item(item.row(), 1)
            title = shown.text() if shown is not None else template_id
            self.status.setText(f"“{title}”" + ("上报前须审核。" if required else "上报无须审核。"))
        QTimer.singleShot(0, self.refresh)  # not while the table is still delivering the change

    def _recipient_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 1:
            return
        department = item.data(Qt.ItemDataRole.UserRole)
        code = item.text().strip()
        try:
            reports.set_report_recipient(context(self.store), department, code)
        except UserError as exc:
            QMessageBox.warning(self, "未保存", exc.message)
        else:
            self.status.setText(f"“{department}”的报表（没有县级任务时）报往 {code}。")
        QTimer.singleShot(0, self.refresh)  # not while the table is still delivering the change


def _recipient_note(setting: reports.RecipientSetting) -> str:
    if not setting.code:
        return "未设置：没有县级任务时，这个部门的报表无法上报"
    if setting.matched:
        return f"{setting.registered_name}（按已登记发送方的名称确定，可双击改为其他代码）"
    return setting.registered_name


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("font-weight: bold; margin-top: 6px;")
    return label


def _fixed(text: str) -> QTableWidgetItem:
    """A cell that cannot be edited."""
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item
