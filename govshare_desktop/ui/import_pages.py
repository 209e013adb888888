"""The import wizard's pages: the files, the detected dataset and column mapping (editable), the
preview (the import itself, held uncommitted), and the result of the import. Each step runs off the UI thread through
:func:`run_task`; what the pages show is worked out in :mod:`govshare_desktop.ui.import_results`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from govshare_desktop.core.backflow.fields import ColumnMapping, datasets, match_columns
from govshare_desktop.core.backflow.normalize import text
from govshare_desktop.core.backflow.packages import is_package
from govshare_desktop.core.backflow.pipeline import ImportPlan, plan_file, remember_mapping
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.services.imports import needs_sending_back, write_send_back
from govshare_desktop.ui import errors
from govshare_desktop.ui.import_results import (
    SUMMARY_HEADERS,
    Item,
    commit_items,
    hold_items,
    import_items,
    preview_rows,
    report_html,
    summary_rows,
)
from govshare_desktop.ui.rejected_dialog import RejectedRowsDialog
from govshare_desktop.ui.tasks import abandon_tasks, run_task

if TYPE_CHECKING:
    from govshare_desktop.ui.import_wizard import ImportWizard

FILE_FILTER = "回流数据 (*.xlsx *.xls *.csv *.zip);;所有文件 (*)"
NOT_IMPORTED = "（不导入）"


def _table(headers: Sequence[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[Any]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem("" if value is None else str(value))
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class _Page(QWizardPage):
    """A wizard page whose Next/Finish button follows :meth:`set_ready`.

    Readiness is a hidden mandatory field, QWizard's own mechanism: the button updates itself when
    the field changes, with no ``isComplete`` override and no ``completeChanged`` bookkeeping.
    """

    _names = 0

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.wizard_ = wizard
        self._ready = QLineEdit(self)
        self._ready.hide()
        _Page._names += 1
        self.registerField(f"ready{_Page._names}*", self._ready)

    @property
    def ready(self) -> bool:
        return bool(self._ready.text())

    def set_ready(self, ready: bool) -> None:
        self._ready.setText("1" if ready else "")


class FilesPage(_Page):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle("选择回流数据文件")
        self.setSubTitle(
            "Excel（.xlsx/.xls）、CSV 文件，或县级平台的回流数据包（.zip）。也可以把文件拖到主窗口上。"
        )
        self.list = QListWidget(self)
        self.list.setObjectName("files")
        add = QPushButton("添加文件…", self)
        add.clicked.connect(self._choose)
        remove = QPushButton("移除", self)
        remove.clicked.connect(self._remove)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def add_paths(self, paths: Sequence[Path]) -> None:
        known = {item.path for item in self.wizard_.items}
        for path in paths:
            if path in known or not path.is_file():
                continue
            item = Item(path=path, package=is_package(path))
            self.wizard_.items.append(item)
            self.list.addItem(f"{path.name}　（{'回流数据包' if item.package else '表格文件'}）")
        self.set_ready(bool(self.wizard_.items))

    def _choose(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "选择回流数据文件", "", FILE_FILTER)
        self.add_paths([Path(n) for n in names])

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            del self.wizard_.items[row]
            self.set_ready(bool(self.wizard_.items))


class MappingPage(_Page):
    """The detected dataset and column mapping of each table file, which the clerk may correct."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.planned = False
        self.setTitle("核对数据类型和列的对应关系")
        self.setSubTitle("程序已按表头自动识别；如有不对，请在右侧选择正确的字段。")
        self.file = QComboBox(self)
        self.file.setObjectName("mapping_file")
        self.file.currentIndexChanged.connect(self._show)
        self.dataset = QComboBox(self)
        self.dataset.setObjectName("mapping_dataset")
        for key, spec in datasets().items():
            self.dataset.addItem(spec.title, key)
        self.dataset.activated.connect(self._dataset_chosen)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.problem = QLabel(self)
        self.problem.setObjectName("mapping_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b91c1c;")
        # What happened while the clerk was away (a preview let go at the screen lock).
        self.notice = QLabel(self)
        self.notice.setObjectName("mapping_notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color:#1d4ed8;")
        self.columns = _table(["文件中的列", "示例", "对应字段"], self)
        self.columns.setObjectName("mapping_columns")
        self.remember = QCheckBox("记住此对应关系，下次同样格式的文件自动使用", self)
        self.remember.setChecked(True)
        self.delta = QCheckBox(
            "此文件只包含有变化的记录（不把文件中没有的记录标记为“不在最新回流中”）", self
        )
        self.delta.setObjectName("mapping_delta")
        self.delta.toggled.connect(self._delta_toggled)
        top = QHBoxLayout()
        top.addWidget(QLabel("文件：", self))
        top.addWidget(self.file, 1)
        top.addWidget(QLabel("数据类型：", self))
        top.addWidget(self.dataset)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.info)
        layout.addWidget(self.problem)
        layout.addWidget(self.notice)
        layout.addWidget(self.columns, 1)
        layout.addWidget(self.delta)
        layout.addWidget(self.remember)

    def initializePage(self) -> None:
        self.planned = False
        self.set_ready(False)
        store = self.wizard_.store
        items = list(self.wizard_.items)

        def work(progress: Progress, cancel: Cancel) -> None:
            for done, item in enumerate(items):
                progress(done, len(items), f"正在识别 {item.path.name}")
                if item.package or item.plan is not None:
                    continue
                try:
                    item.plan = plan_file(store, item.path)
                except Exception as exc:  # a UserError (bad file) is shown per file
                    item.error = getattr(exc, "message", None) or str(exc)

        self.wizard_.task = run_task(self, "正在识别文件……", work, lambda _r: self._planned())

    def _planned(self) -> None:
        self.file.blockSignals(True)
        self.file.clear()
        for index, item in enumerate(self.wizard_.items):
            if not item.package:
                self.file.addItem(item.path.name, index)
        self.file.blockSignals(False)
        self.planned = True
        self._show()
        self._update_ready()

    def _item(self) -> Item | None:
        index = self.file.currentData()
        return None if index is None else self.wizard_.items[index]

    def _show(self) -> None:
        item = self._item()
        self.columns.setRowCount(0)
        if item is None:
            self.info.setText("没有需要核对的表格文件（数据包的格式是固定的）。")
            self.problem.setText("")
            self.dataset.setEnabled(False)
            return
        self.dataset.setEnabled(item.plan is not None)
        if item.plan is None:
            self.info.setText("")
            self.problem.setText(f"无法读取此文件：{item.error}")
            return
        plan = item.plan
        self.delta.blockSignals(True)
        self.delta.setChecked(not plan.full_snapshot)
        self.delta.blockSignals(False)
        self.dataset.setCurrentIndex(self.dataset.findData(plan.mapping.dataset))
        source = plan.source_department or f"未注明（将记为“{plan.dataset.default_source}”）"
        self.info.setText(
            f"表头在第 {'、'.join(map(str, plan.table.header_rows))} 行；数据来源：{source}；"
            f"数据时点：{plan.as_of or '未注明'}"
            + ("；使用了上次记住的对应关系" if plan.mapping.remembered else "")
        )
        samples = self._samples(plan)
        labels = [NOT_IMPORTED] + [f.label for f in plan.dataset.fields if f.type != "ignore"]
        keys = [None] + [f.key for f in plan.dataset.fields if f.type != "ignore"]
        self.columns.setRowCount(len(plan.headers))
        for row, header in enumerate(plan.headers):
            self.columns.setItem(row, 0, QTableWidgetItem(header or f"（第 {row + 1} 列）"))
            self.columns.setItem(row, 1, QTableWidgetItem(samples.get(row, "")))
            combo = QComboBox(self.columns)
            for label, key in zip(labels, keys, strict=True):
                combo.addItem(label, key)
            combo.setCurrentIndex(max(0, combo.findData(plan.mapping.fields.get(row))))
            combo.currentIndexChanged.connect(lambda _i, r=row, c=combo: self._field_chosen(r, c))
            self.columns.setCellWidget(row, 2, combo)
        self.columns.resizeColumnsToContents()
        self._show_problem(plan)

    def _samples(self, plan: ImportPlan) -> dict[int, str]:
        out: dict[int, str] = {}
        for count, raw in enumerate(plan.table.data_rows()):
            for column, value in enumerate(raw.values):
                if value not in (None, "") and column not in out:
                    out[column] = text(value)[:30]
            if count >= 20:
                break
        return out

    def _show_problem(self, plan: ImportPlan) -> None:
        missing = plan.mapping.missing_required()
        self.problem.setText(f"缺少必填字段：{'、'.join(missing)}" if missing else "")
        self._update_ready()

    def _dataset_chosen(self, _index: int) -> None:
        item = self._item()
        if item is None or item.plan is None:
            return
        key = self.dataset.currentData()
        spec = datasets()[key]
        mapping = ColumnMapping(key, match_columns(spec, item.plan.headers), item.plan.headers)
        item.plan = ImportPlan(**{**item.plan.__dict__, "mapping": mapping})
        self._show()

    def _field_chosen(self, row: int, combo: QComboBox) -> None:
        item = self._item()
        if item is None or item.plan is None:
            return
        fields = {c: k for c, k in item.plan.mapping.fields.items() if c != row}
        key = combo.currentData()
        if key is not None:
            fields = {c: k for c, k in fields.items() if k != key}  # a field maps from one column
            fields[row] = key
        mapping = ColumnMapping(item.plan.mapping.dataset, fields, item.plan.headers)
        item.plan = ImportPlan(**{**item.plan.__dict__, "mapping": mapping, "problem": None})
        self._show()

    def _delta_toggled(self, delta: bool) -> None:
        item = self._item()
        if item is not None and item.plan is not None:
            item.plan = ImportPlan(**{**item.plan.__dict__, "full_snapshot": not delta})

    def _update_ready(self) -> None:
        self.set_ready(
            self.planned
            and all(
                item.package or (item.plan is not None and not item.plan.mapping.missing_required())
                for item in self.wizard_.items
            )
        )

    def remember_confirmed(self) -> None:
        """Keep the confirmed mappings (called when the clerk moves on to the preview)."""
        if self.remember.isChecked():
            for item in self.wizard_.items:
                if item.plan is not None and not item.plan.mapping.remembered:
                    remember_mapping(
                        self.wizard_.store,
                        item.plan,
                        user=self.wizard_.store.principal.username,
                        now=datetime.now(),
                    )


class PreviewPage(_Page):
    """A dry run of every file: what would change, and which rows would be refused."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle("预览：将要发生的变化")
        self.setSubTitle(
            "以下是导入的结果，尚未保存：其他人看不到这些变化。点“导入”保存；"
            "点“上一步”或“取消”则放弃，数据库保持原样。"
        )
        self.summary = _table(SUMMARY_HEADERS, self)
        self.summary.setObjectName("preview_summary")
        self.tabs = QTabWidget(self)
        self.changes = _table(["文件", "记录", "姓名", "字段", "原值", "新值"], self)
        self.changes.setObjectName("preview_changes")
        self.rejections = _table(["文件", "行号", "列", "原因代码", "说明"], self)
        self.rejections.setObjectName("preview_rejections")
        self.tabs.addTab(self.changes, "变化明细")
        self.tabs.addTab(self.rejections, "将被拒收的行")
        # Work of the window's that writes when it ends, waited for before a preview is held.
        self.waiting = QLabel(self)
        self.waiting.setObjectName("preview_waiting")
        self.waiting.setWordWrap(True)
        self.waiting.setStyleSheet("color:#1d4ed8;")
        self.waiting.hide()
        self._recheck = QTimer(self)
        self._recheck.setSingleShot(True)
        self._recheck.setInterval(200)
        self._recheck.timeout.connect(self._start_when_free)
        layout = QVBoxLayout(self)
        layout.addWidget(self.waiting)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

    def initializePage(self) -> None:
        self.set_ready(False)
        self.wizard_.mapping_page.notice.clear()
        self.wizard_.mapping_page.remember_confirmed()
        self.wizard_.let_go()  # a preview held before (the clerk went back): dropped
        self._start_when_free()

    def _start_when_free(self) -> None:
        """On a database file the preview holds the file's one write transaction until 「导入」:
        the window's work that writes when it ends (the daily backup's audit entry, an export's)
        would wait for it and fail, so the preview waits for that work first, and says so."""
        if self.wizard_.currentPage() is not self:  # the clerk went back meanwhile
            return
        busy = self.wizard_.writers_at_work()
        if busy:
            self.waiting.setText(
                f"正在等待「{'」「'.join(busy)}」完成，然后预览"
                "（数据库文件同一时间只能由一项工作写入）……"
            )
            self.waiting.show()
            self._recheck.start()
            return
        self.waiting.hide()
        store = self.wizard_.store
        items = list(self.wizard_.items)

        def work(progress: Progress, cancel: Cancel) -> None:
            # Table files are imported here and held; 「导入」 commits them (no second run).
            held, found = hold_items(
                store, items, now=datetime.now(), progress=progress, cancel=cancel
            )
            self.wizard_.held = held
            for item, (results, status, _message) in zip(items, found, strict=True):
                item.preview, item.preview_status = results, status

        self.wizard_.task = run_task(self, "正在读取并核对……", work, lambda _r: self._done())

    def cleanupPage(self) -> None:
        """Back to the mapping: the preview still being made is stopped and the held import
        rolled back (the mapping may change)."""
        task = self.wizard_.task
        if task is not None and not task.done:  # else it would hold the file after we left
            abandon_tasks([task])
        self.wizard_.let_go()
        super().cleanupPage()

    def _done(self) -> None:
        items = self.wizard_.items
        _fill(self.summary, summary_rows(items, preview=True))
        change_rows, rejection_rows = preview_rows(items)
        _fill(self.changes, change_rows)
        _fill(self.rejections, rejection_rows)
        self.tabs.setTabText(0, f"变化明细（{len(change_rows)}）")
        self.tabs.setTabText(1, f"将被拒收的行（{len(rejection_rows)}）")
        self.set_ready(True)


class ResultPage(_Page):
    """Runs the import for real; shows the change report and offers the error workbooks."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle("导入结果")
        self.summary = _table(SUMMARY_HEADERS, self)
        self.summary.setObjectName("result_summary")
        self.report = QTextBrowser(self)
        self.report.setObjectName("result_report")
        self.save_errors = QPushButton("保存拒收行和金额变化工作簿（发回数据提供单位）…", self)
        self.save_errors.setObjectName("save_errors")
        self.save_errors.clicked.connect(self._save_errors)
        self.save_errors.setVisible(False)
        self.correct = QPushButton("向数据来源部门纠错…", self)
        self.correct.setObjectName("correct_rejected")
        self.correct.setToolTip("对被拒的行逐条提出校核纠错，在「校核纠错」页按部门发送")
        self.correct.clicked.connect(self.open_rejected)
        self.correct.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary, 1)
        layout.addWidget(QLabel("变化报告：", self))
        layout.addWidget(self.report, 2)
        layout.addWidget(self.save_errors)
        layout.addWidget(self.correct)

    def initializePage(self) -> None:
        self.set_ready(False)
        store = self.wizard_.store
        items = list(self.wizard_.items)
        now = datetime.now()

        held = self.wizard_.held

        def work(progress: Progress, cancel: Cancel) -> None:
            if held is not None:  # the preview was the import: kept now
                found = commit_items(store, held, items, now=now, progress=progress, cancel=cancel)
            else:
                found = import_items(
                    store, items, dry_run=False, now=now, progress=progress, cancel=cancel
                )
            for item, (results, status, message) in zip(items, found, strict=True):
                item.results, item.status, item.message = results, status, message

        def failed(exc: BaseException) -> None:
            errors.show_error(self, exc)  # looked up when called (tests replace it)
            self.report.setText(
                "导入没有完成，数据库保持导入前的状态。"
                + (f"\n{exc}" if getattr(exc, "message", None) else "")
            )
            self.set_ready(True)

        self.wizard_.task = run_task(self, "正在导入……", work, lambda _r: self._done(), failed)

    def _done(self) -> None:
        items = self.wizard_.items
        _fill(self.summary, summary_rows(items, preview=False))
        self.report.setHtml(report_html(items) or "导入完成。")
        self.save_errors.setVisible(any(needs_sending_back(r) for i in items for r in i.results))
        self.correct.setVisible(bool(self._rejected_batches()))
        self.set_ready(True)
        if any(i.results for i in items):
            self.wizard_.imported.emit()

    def _rejected_batches(self) -> set[int]:
        return {
            r.batch_id
            for item in self.wizard_.items
            for r in item.results
            if r.rejected and r.batch_id is not None
        }

    def open_rejected(self) -> RejectedRowsDialog:
        """The rows this import left out, each open to a 纠错 to the department it came from."""
        dialog = RejectedRowsDialog(self.wizard_.store, self, batches=self._rejected_batches())
        dialog.open()
        return dialog

    def _save_errors(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "选择保存位置")
        if not folder:
            return
        ctx = Context(self.wizard_.store)
        written = [
            write_send_back(ctx, result, Path(folder))
            for item in self.wizard_.items
            for result in item.results
            if needs_sending_back(result)
        ]
        QMessageBox.information(self, "已保存", "已保存：\n" + "\n".join(str(p) for p in written))
