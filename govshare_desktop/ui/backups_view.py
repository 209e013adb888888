"""备份与恢复: the backups, 立即备份, a backup to a folder or USB stick of one's choosing, and
restoring one (系统管理员).

The list shows one place at a time (位置): the folder beside the database where the daily backups
go, or the folder last backed up to by hand — remembered per account, so a USB stick that comes
back under the same drive letter is listed again. A backup to another place is the same online
backup (its key file beside it, the newest 7 kept there too); afterwards the message offers
「打开所在文件夹」. Everything is the use cases' (:mod:`govshare_desktop.core.services.admin`:
permission, audit entry); this only shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import admin
from govshare_desktop.core.store.backup import BackupFile, BackupResult
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.exported import show_exported
from govshare_desktop.ui.settings import set_user_value, user_value
from govshare_desktop.ui.table_rows import read_only_table
from govshare_desktop.ui.tasks import run_task
from govshare_desktop.ui.usecases import context

NOTE = (
    "每天自动备份一次到数据库旁的 backups 文件夹，保留最近 7 份；升级前、恢复前的安全副本"
    "不会自动删除。「备份到其他位置」可把备份（连同密钥文件）保存到U盘或其他文件夹，建议定期"
    "备份到U盘并另地存放。恢复会先校验备份，失败时当前数据库不变。"
)
BESIDE = "数据库旁的 backups 文件夹"
OTHER = "其他位置…"


class BackupsView(QWidget):
    """备份与恢复 (系统管理员; a 经办人 backs up only).

    A restore is checked first (right key, integrity); the live database is kept as a safety
    copy and is untouched if anything fails. Afterwards the program must start afresh on the
    restored database: ``restored`` is emitted and the window closes.

    Signals: ``restored(Path)`` — the database was replaced by this backup."""

    restored = Signal(Path)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backups_view")
        self.store = store
        self.files: list[BackupFile] = []
        self.task: object | None = None
        self.message: QMessageBox | None = None  # the last backup's
        self.ask_folder: Callable[[Path], Path | None] = self._ask_folder  # tests answer
        self.default_folder = admin.backup_folder(context(store))
        self.place = QComboBox(self)
        self.place.setObjectName("backup_place")
        self.place.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.place.addItem(BESIDE, str(self.default_folder))
        remembered = user_value(store.principal.username, "backup_folder")
        if remembered and Path(remembered) != self.default_folder:
            self.place.addItem(_short(Path(remembered)), remembered)
        self.place.addItem(OTHER, None)
        self.place.activated.connect(self._place_chosen)
        self.where = QLabel(self)
        self.where.setObjectName("backup_where")
        self.where.setWordWrap(True)
        self.table = read_only_table(["时间", "类型", "文件", "大小"], self)
        self.table.doubleClicked.connect(lambda _index: self.restore_selected())
        note = QLabel(NOTE, self)
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(self._buttons(store))
        place = QHBoxLayout()
        place.addWidget(QLabel("位置：", self))
        place.addWidget(self.place)
        place.addWidget(self.where, 1)
        layout.addLayout(place)
        layout.addWidget(self.table, 1)
        self.reload()

    def _buttons(self, store: Store) -> QHBoxLayout:
        actions: list[tuple[str, str, Callable[[], object]]] = []
        if store.principal.may(Action.BACKUP):
            actions += [
                ("立即备份", "backup_now", self.backup_now),
                ("备份到其他位置（U盘）…", "backup_elsewhere", self.backup_elsewhere),
            ]
        if store.principal.may(Action.RESTORE):
            actions += [
                ("从所选备份恢复…", "restore_selected", self.restore_selected),
                ("选择其他备份文件…", "restore_other", self.restore_other),
            ]
        row = QHBoxLayout()
        for text, name, slot in actions:
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(lambda _checked=False, s=slot: s())
            row.addWidget(button)
        row.addStretch(1)
        return row

    # ---------------------------------------------------------------- where

    @property
    def folder(self) -> Path:
        """The folder listed."""
        data = self.place.currentData()
        return Path(data) if data else self.default_folder

    def _show_folder(self, folder: Path) -> None:
        """List ``folder`` (added to the choices if it is new)."""
        index = self.place.findData(str(folder))
        if index < 0:
            index = self.place.count() - 1  # before 其他位置…
            self.place.insertItem(index, _short(folder), str(folder))
        self.place.setCurrentIndex(index)
        self.reload()

    def _place_chosen(self, index: int) -> None:
        if self.place.itemData(index) is None:  # 其他位置…: a folder to list
            chosen = self.ask_folder(self.folder)
            if chosen is None:
                self.place.setCurrentIndex(0)
                self.reload()
                return
            self._show_folder(chosen)
            return
        self.reload()

    def _ask_folder(self, start: Path) -> Path | None:
        name = QFileDialog.getExistingDirectory(self, "选择备份位置（U盘或其他文件夹）", str(start))
        return Path(name) if name else None

    def reload(self) -> None:
        folder = self.folder
        self.files = admin.list_backups(context(self.store), folder) if folder.is_dir() else []
        self.where.setText(
            str(folder) if folder.is_dir() else f"{folder}（不存在：U盘是否已插好？）"
        )
        _fill(
            self.table,
            [
                [f"{f.when:%Y-%m-%d %H:%M:%S}", f.kind, f.path.name, f"{f.size / 2**20:.1f} MB"]
                for f in self.files
            ],
        )

    # ---------------------------------------------------------------- backing up

    def backup_now(self) -> None:
        """To the folder beside the database (the daily backups' place)."""
        self._back_up(None)

    def backup_elsewhere(self) -> None:
        """To a folder or USB stick chosen now (starting at the one chosen last)."""
        user = self.store.principal.username
        start = Path(user_value(user, "backup_folder") or str(Path.home()))
        chosen = self.ask_folder(start if start.is_dir() else Path.home())
        if chosen is None:
            return
        set_user_value(user, "backup_folder", str(chosen))
        self._back_up(chosen)

    def _back_up(self, folder: Path | None) -> None:
        ctx = context(self.store)

        def done(result: BackupResult) -> None:
            self._show_folder(folder or self.default_folder)
            self.message = show_exported(
                self, f"已备份到：\n{result.path}\n（密钥文件一并保存）", result.path, "已备份"
            )

        self.task = run_task(
            self,
            "正在备份……",
            lambda progress, cancel: admin.back_up(ctx.running(progress, cancel), folder),
            done,
        )

    # ---------------------------------------------------------------- restoring

    def restore_selected(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.files):
            QMessageBox.information(self, "恢复备份", "请先在列表中选择一份备份。")
            return
        chosen = self.files[row]
        self.restore(chosen.path, f"{chosen.when:%Y-%m-%d %H:%M:%S} 的{chosen.kind}")

    def restore_other(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "选择备份文件", str(self.folder), "数据库备份 (*.db *.dump)"
        )
        if name:
            self.restore(Path(name), Path(name).name)

    def restore(self, backup: Path, described: str) -> None:
        answer = QMessageBox.warning(
            self,
            "恢复备份",
            f"用 {described}（{backup.name}）替换当前数据库？\n\n"
            "此后录入或导入的数据将不在恢复后的数据库中。当前数据库会先另存为安全副本"
            "（backups/govshare-before-restore-…），恢复完成后程序将关闭，请重新打开并登录。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        ctx = context(self.store)

        def done(safety: Path | None) -> None:
            kept = f"\n原数据库已另存为：{safety}" if safety else ""
            QMessageBox.information(
                self,
                "已恢复",
                f"数据库已恢复为 {backup.name}。{kept}\n程序现在关闭，请重新打开并登录。",
            )
            self.restored.emit(backup)

        def failed(exc: BaseException) -> None:
            show_error(self, exc)
            self.reload()

        self.task = run_task(
            self, "正在校验并恢复备份……", lambda _p, _c: admin.restore(ctx, backup), done, failed
        )


def _short(folder: Path) -> str:
    """A place as the list names it: the folder's name (a drive: its letter)."""
    return folder.name or str(folder)


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
