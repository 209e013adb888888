"""下村笔记本 (工具 → 下村笔记本…): the villages out on laptops, 「检出到笔记本…」, 「笔记本检入…」 with
the conflicts side by side to choose one by one, and 「作废检出…」. On a laptop's own database it
says what the database is a check-out of instead. Everything is the use cases'
(:mod:`govshare_desktop.core.services.laptop`: permission, transaction, audit); this only asks and
shows.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.laptop.checkin import CheckIn
from govshare_desktop.core.services import forms, laptop, reports, stats
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.table_rows import read_only_table
from govshare_desktop.ui.tasks import Task, run_task
from govshare_desktop.ui.usecases import context

NOTE = (
    "下村入户时，可把一个村（社区）检出到笔记本：生成一个加密的数据库文件（及同名 .keys 密钥文件），"
    "在笔记本上用本人的账户和密码登录，离线填报一表通数据；回来后「笔记本检入」，两边都改过的数据项"
    "逐个选择保留哪边的值（均记入修改历史）。人员、户籍等记录不写回，以回流数据为准。"
)
HEADERS = ["村（社区）", "状态", "检出人", "检出时间", "范围", "文件", "笔记本", "结束"]
CONFLICT_HEADERS = [
    "统计期",
    "对象",
    "数据项",
    "办公室的值",
    "办公室修改",
    "笔记本的值",
    "笔记本修改",
    "选择",
]
CHOICES = [("", "请选择…"), ("office", "保留办公室的值"), ("laptop", "采用笔记本的值")]


class LaptopView(QWidget):
    """What is out, and the three actions; on a laptop, what this database is."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("laptop_view")
        self.store = store
        self.ctx = context(store)
        self.task: Task | None = None
        self.message: QMessageBox | None = None
        self.conflicts: ConflictsDialog | None = None
        layout = QVBoxLayout(self)
        here = laptop.this_laptop(self.ctx)
        self.note = QLabel(here or NOTE, self)
        self.note.setObjectName("laptop_note")
        self.note.setWordWrap(True)
        if here:
            self.note.setStyleSheet("font-weight: bold")
        layout.addWidget(self.note)
        buttons = QHBoxLayout()
        self.checkout_button = QPushButton("检出到笔记本…", self)
        self.checkin_button = QPushButton("笔记本检入…", self)
        self.cancel_button = QPushButton("作废检出…", self)
        for button, slot, name in (
            (self.checkout_button, self.ask_checkout, "laptop_checkout"),
            (self.checkin_button, self.ask_checkin, "laptop_checkin"),
            (self.cancel_button, self.ask_cancel, "laptop_cancel"),
        ):
            button.setObjectName(name)
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            button.setVisible(here is None)  # a laptop checks nothing out of itself
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.table = read_only_table(HEADERS, self)
        self.table.setObjectName("laptop_checkouts")
        layout.addWidget(self.table, 1)
        self.checkouts: list[laptop.Checkout] = []
        self.reload()

    def _pool(self) -> FormValues:
        found = forms.catalog(self.ctx)
        return FormValues(self.store, found.dictionary, found.templates)

    def reload(self) -> None:
        self.checkouts = laptop.status(self.ctx, ended=True)
        self.table.setRowCount(len(self.checkouts))
        for row, c in enumerate(self.checkouts):
            ended = f"{c.ended_by} {c.ended_at:%Y-%m-%d %H:%M}" if c.ended_at else ""
            scope = (c.period or "各统计期") + (f"，{'、'.join(c.forms)}" if c.forms else "")
            cells = [
                f"{c.village_name}（{c.village}）",
                c.state_label,
                c.checked_out_by,
                f"{c.checked_out_at:%Y-%m-%d %H:%M}",
                f"{scope}，{c.values} 个值",
                c.file_name,
                c.laptop,
                ended,
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def _done(self, title: str, text: str) -> None:
        self.reload()
        self.message = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self)
        self.message.setObjectName("laptop_message")
        self.message.open()

    # ---------------------------------------------------------------- check-out

    def ask_checkout(self) -> QDialog:
        dialog = CheckoutDialog(self.ctx, self)
        dialog.accepted.connect(lambda: self.check_out(*dialog.chosen()))
        dialog.open()
        return dialog

    def check_out(
        self,
        village: str,
        out: Path,
        password: str,
        period: Period | None,
        name: str,
        task: str | None = None,
    ) -> None:
        pool = self._pool()
        self.task = run_task(
            self,
            "正在检出到笔记本……",
            lambda _p, _c: laptop.checkout(
                self.ctx,
                pool,
                village,
                out,
                password=password,
                period=period,
                laptop=name,
                task=task,
            ),
            lambda done: self._done("已检出", done.summary()),
        )

    # ---------------------------------------------------------------- check-in

    def ask_checkin(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "选择笔记本上的检出文件", "", "检出的数据库 (*.db)"
        )
        if not name:
            return
        password, ok = QInputDialog.getText(
            self,
            "笔记本检入",
            "检出人的登录密码（检出文件用它打开）：",
            QLineEdit.EchoMode.Password,
        )
        if ok and password:
            self.check_in(Path(name), password)

    def check_in(self, path: Path, password: str) -> None:
        """Read the file; with conflicts, show them to choose; then check it in."""
        pool = self._pool()

        def read(plan: CheckIn) -> None:
            if not plan.conflicts:
                self._apply(pool, plan)
                return
            self.conflicts = ConflictsDialog(self.ctx, plan, self)
            self.conflicts.accepted.connect(lambda: self._apply(pool, plan))
            self.conflicts.open()

        self.task = run_task(
            self,
            "正在读取检出文件……",
            lambda _p, _c: laptop.read_checkin(self.ctx, pool, path, password),
            read,
        )

    def _apply(self, pool: FormValues, plan: CheckIn) -> None:
        def failed(exc: BaseException) -> None:
            show_error(self, exc)
            self.reload()

        self.task = run_task(
            self,
            "正在检入……",
            lambda _p, _c: laptop.checkin(self.ctx, pool, plan),
            lambda done: self._done("已检入", done.summary()),
            failed,
        )

    # ---------------------------------------------------------------- cancelling

    def ask_cancel(self) -> None:
        row = self.table.currentRow()
        chosen = self.checkouts[row] if 0 <= row < len(self.checkouts) else None
        if chosen is None or chosen.state != "out":
            QMessageBox.information(self, "作废检出", "请先在列表中选择一个“已检出”的村（社区）。")
            return
        reason, ok = QInputDialog.getText(
            self,
            "作废检出",
            f"作废{chosen.village_name}的检出（笔记本丢失或损坏时）：该村可重新检出，"
            "那台笔记本上的文件不能再检入。\n原因：",
        )
        if ok:
            self.cancel(chosen.village, reason)

    def cancel(self, village: str, reason: str) -> None:
        try:
            done = laptop.cancel(self.ctx, village, reason)
        except UserError as exc:
            show_error(self, exc)
            return
        self._done("已作废", f"已作废：{done.describe()}")


class CheckoutDialog(QDialog):
    """检出到笔记本: the village, the period (empty: every period), the laptop's name, the file,
    and the clerk's password again."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkout_dialog")
        self.setWindowTitle("检出到笔记本")
        form = QFormLayout(self)
        self.village = QComboBox(self)
        for code, name in stats.areas(ctx)[1:]:
            self.village.addItem(f"{name}（{code}）", code)
        self.task = QComboBox(self)
        self.task.setObjectName("checkout_task")
        self.task.addItem("（不按报表任务）", None)
        self._task_periods: dict[str, str] = {}
        for view in reports.tasks(ctx)[0]:
            if view.open:
                self.task.addItem(
                    f"{view.title}｜{view.period}｜截止 {view.deadline}（{view.due_text}）",
                    view.task_id,
                )
                self._task_periods[view.task_id] = view.period
        self.task.currentIndexChanged.connect(self._task_chosen)
        self.period = QLineEdit(self)
        self.period.setPlaceholderText("例：2026-11；不填则检出各统计期")
        self.laptop = QLineEdit(self)
        self.laptop.setPlaceholderText("笔记本的名称或编号（可不填）")
        self.file = QLineEdit(self)
        choose = QPushButton("选择…", self)
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(choose)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("您的登录密码：笔记本上用它登录")
        form.addRow("村（社区）：", self.village)
        form.addRow("报表任务：", self.task)
        form.addRow("统计期：", self.period)
        form.addRow("笔记本：", self.laptop)
        form.addRow("检出文件：", row)
        form.addRow("登录密码：", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("检出")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _choose(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "检出文件保存为", f"{self.village.currentText()}.db", "数据库 (*.db)"
        )
        if name:
            self.file.setText(name)

    def _task_chosen(self) -> None:
        """A task sets the period (and the form): the clerk does not type it."""
        task = self.task.currentData()
        self.period.setText(self._task_periods.get(task, "") if task else "")
        self.period.setEnabled(not task)

    def chosen(self) -> tuple[str, Path, str, Period | None, str, str | None]:
        task = self.task.currentData()
        text = self.period.text().strip()
        period = Period.parse(text) if text and not task else None
        return (
            str(self.village.currentData()),
            Path(self.file.text().strip()),
            self.password.text(),
            period,
            self.laptop.text(),
            task,
        )

    def _accept(self) -> None:
        problem = ""
        if not self.file.text().strip():
            problem = "请选择检出文件的保存位置"
        elif not self.password.text():
            problem = "请输入您的登录密码"
        else:
            try:
                self.chosen()
            except ValueError as exc:
                problem = str(exc)
        if problem:
            QMessageBox.warning(self, "检出到笔记本", problem)
            return
        self.accept()


class ConflictsDialog(QDialog):
    """The values both sides changed, side by side, each with its choice; 「检入」 once every one
    is chosen."""

    def __init__(self, ctx: Context, plan: CheckIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflicts_dialog")
        self.setWindowTitle("笔记本检入：两边都改过的数据项")
        self.resize(1100, 420)
        self.ctx, self.plan = ctx, plan
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{plan.village_name}：以下 {len(plan.conflicts)} 个数据项在检出后，办公室和笔记本上都改过。"
            "请逐个选择保留哪边的值（另一边的值记入修改历史）；其余 "
            f"{len(plan.changes)} 个笔记本上录入的值将直接写入。",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = read_only_table(CONFLICT_HEADERS, self)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setRowCount(len(plan.conflicts))
        self.choices: list[QComboBox] = []
        for row, c in enumerate(plan.conflicts):
            at = f"{c.office_at:%Y-%m-%d %H:%M}" if c.office_at else ""
            cells = [
                c.period,
                c.subject_label,
                c.element_name,
                c.office_value,
                f"{c.office_by} {at}".strip() + (f"（已上报“{c.locked}”）" if c.locked else ""),
                c.laptop_value,
                f"{c.laptop_by} {c.laptop_at:%Y-%m-%d %H:%M}",
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
            combo = QComboBox(self.table)
            for take, label in CHOICES:
                if not (take == "laptop" and c.locked):
                    combo.addItem(label, take)
            combo.currentIndexChanged.connect(lambda _i: self._update())
            self.table.setCellWidget(row, len(cells), combo)
            self.choices.append(combo)
        layout.addWidget(self.table, 1)
        row_buttons = QHBoxLayout()
        for take, label in CHOICES[1:]:
            button = QPushButton(f"全部{label}", self)
            button.setObjectName(f"all_{take}")
            button.clicked.connect(lambda _checked=False, take=take: self.choose_all(take))
            row_buttons.addWidget(button)
        row_buttons.addStretch(1)
        layout.addLayout(row_buttons)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("检入")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    def choose_all(self, take: str) -> None:
        for combo in self.choices:
            index = combo.findData(take)
            if index >= 0:
                combo.setCurrentIndex(index)

    def _update(self) -> None:
        ready = all(combo.currentData() for combo in self.choices)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ready)

    def _accept(self) -> None:
        try:
            for conflict, combo in zip(self.plan.conflicts, self.choices, strict=True):
                laptop.resolve(self.ctx, self.plan, conflict, str(combo.currentData()))
        except UserError as exc:
            show_error(self, exc)
            return
        self.accept()
