"""The 一表通 page: pick a period, an area and a form (or every item of every form), see each data
element once — prefilled from back-flow data or entered — and type the missing ones.

A chosen 统计表 or 花名册 shows as its paper reads (:class:`SheetView`), editable in place; the
"数据项列表" button shows the same form as a plain list of its items instead.

Every accepted edit is saved at once (autosave: closing or a crash loses nothing typed). Changing a
computed value asks for a reason. 上报 locks the form's items and makes its signed report package
(or puts it 待审核 when the form needs a review: the 审核人's 「审核通过」 makes the package); the
page then offers to write the package to a USB stick or a shared folder (:class:`PackageWriter`).
退回 (审核人) unlocks a form 待审核 or 已上报; the status line says who submitted it and why a
form was returned.

Signals of :class:`FormsView`: ``changed()`` — a value or a status changed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.domain.period import Period, recent_periods
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.pdf import Sheets
from govshare_desktop.core.forms.dictionary import Element
from govshare_desktop.core.forms.sheet import Sheet
from govshare_desktop.core.forms.templates import Template
from govshare_desktop.core.forms.values import (
    SUBMITTED,
    FormValues,
)
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.reports.sending import Sent
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import forms, reports
from govshare_desktop.core.services.output import fill_department_workbook
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.form_output import FormOutput
from govshare_desktop.ui.outbox_view import PackageWriter
from govshare_desktop.ui.sheet_view import SheetView, refused_text
from govshare_desktop.ui.tasks import Task, run_task
from govshare_desktop.ui.usecases import context
from govshare_desktop.ui.values_model import EntryTable, ValuesModel

STATUS_LABELS = {
    "draft": "草稿",
    "review": "待审核（已锁定）",
    "submitted": "已上报（已锁定）",
    "returned": "已退回",
    "accepted": "已被接收（已锁定）",
}
ALL_ITEMS = ""  # the template combo's "every item" entry


class FormsView(QWidget):
    changed = Signal()

    def __init__(
        self,
        pool: FormValues,
        *,
        township: tuple[str, str],
        villages: list[tuple[str, str]],
        today: date,
        masked: bool = True,
        writer: PackageWriter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("forms_view")
        self.pool = pool
        self.writer = writer if writer is not None else PackageWriter(pool.store, self)
        self.masked = masked
        self.township_code = township[0]
        self.unmask_reason = ""
        self._build_choosers(township, villages, today)
        self._build_actions()
        self._build_table()
        self.sheet: SheetView | None = None
        self._lay_out()
        for combo in (self.period, self.area, self.template):
            combo.currentIndexChanged.connect(self.reload)
        self.reload()

    def _build_choosers(
        self, township: tuple[str, str], villages: list[tuple[str, str]], today: date
    ) -> None:
        """The period, the area (the township or a village) and the form."""
        self.period = QComboBox(self)
        self.period.setObjectName("forms_period")
        for period in recent_periods(today):
            self.period.addItem(period.label, str(period))
        self.area = QComboBox(self)
        self.area.setObjectName("forms_area")
        self.area.addItem(f"{township[1]}（全镇）", township[0])
        for code, name in villages:
            self.area.addItem(name, code)
        self.template = QComboBox(self)
        self.template.setObjectName("forms_template")
        self._fill_templates()

    def _fill_templates(self) -> None:
        self.template.addItem("一表通：全部统计表数据项", ALL_ITEMS)
        for kind in ("table", "roster"):
            for template in self.pool.templates.values():
                if template.kind == kind:
                    self.template.addItem(f"{template.department}｜{template.title}", template.id)

    def _build_actions(self) -> None:
        """预填, the list mode, 上报, 退回, 导出/打印 of the form shown, and the batch outputs."""
        self.list_mode = QPushButton("数据项列表", self)
        self.list_mode.setObjectName("forms_list_mode")
        self.list_mode.setCheckable(True)
        self.list_mode.setToolTip("按数据项逐项填写，而不是按报表表样")
        self.list_mode.toggled.connect(self.reload)
        self.prefill_button = QPushButton("按回流数据预填", self)
        self.prefill_button.clicked.connect(self.prefill)
        self.submit_button = QPushButton("上报", self)
        self.submit_button.setObjectName("forms_submit")
        self.submit_button.clicked.connect(self.submit)
        self.approve_button = QPushButton("审核通过", self)
        self.approve_button.setObjectName("forms_approve")
        self.approve_button.setToolTip("审核人确认待审核的报表无误，生成上报数据包")
        self.approve_button.clicked.connect(self.approve)
        self.return_button = QPushButton("退回…", self)
        self.return_button.setObjectName("forms_return")
        self.return_button.setToolTip("审核人把待审核或已上报的报表退回经办人修改（须填写理由）")
        self.return_button.clicked.connect(self.return_form)
        self.output = FormOutput(
            self, self.pool.store, self._shown_sheets, self._file_name, reason=self._reason
        )
        self.export_button, self.print_button = self.output.buttons()
        self._workbook_actions: list[QAction] = []
        self.batch_button = QPushButton("登记表批量导出/打印…", self)
        self.batch_button.setObjectName("batch_forms")
        self.batch_button.setToolTip("为所选区域内符合条件的每个人生成一份登记表/申请表，每份一页")
        batch_menu = QMenu(self.batch_button)
        self.batch_outputs: dict[str, FormOutput] = {}
        for template in self.pool.templates.values():
            if template.kind == "individual":
                output = self._batch_output(template)
                self.batch_outputs[template.id] = output
                _batch_actions(
                    batch_menu.addMenu(f"{template.department}｜{template.title}"), output
                )
        self.batch_button.setMenu(batch_menu)

    def _batch_output(self, template: Template) -> FormOutput:
        """The form for every eligible person of the chosen area, one a page."""

        def sheets(_progress: Progress) -> Sheets:
            return self._batch_sheets(template.id)

        def name() -> str:
            return f"{template.title}-{self.current_period}"

        return FormOutput(self, self.pool.store, sheets, name, batch=True, reason=self._reason)

    def _build_table(self) -> None:
        """The items as a list (the 一表通 of every form, or the list mode of one)."""
        self.model = ValuesModel(self.pool, self)
        self.model.reason_for = self._ask_reason
        self.model.dataChanged.connect(self._values_changed)
        self.model.entry_refused.connect(self._refused)
        self.table = EntryTable(self)
        self.table.setObjectName("forms_values")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.status = QLabel(self)
        self.status.setObjectName("forms_status")
        self.status.setWordWrap(True)

    def _lay_out(self) -> None:
        bar = QHBoxLayout()
        for label, widget in (
            ("统计期：", self.period),
            ("区域：", self.area),
            ("报表：", self.template),
        ):
            bar.addWidget(QLabel(label, self))
            bar.addWidget(widget)
        bar.addStretch(1)
        actions = QHBoxLayout()  # a second row: the window stays as narrow as an office screen
        for button in (
            self.prefill_button,
            self.list_mode,
            self.submit_button,
            self.approve_button,
            self.return_button,
            self.export_button,
            self.print_button,
            self.batch_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(actions)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.table)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)

    def _reason(self) -> str:
        return self.unmask_reason

    def _values_changed(self) -> None:
        self._update_checks()
        self.changed.emit()

    # ---------------------------------------------------------------- state

    @property
    def current_period(self) -> Period:
        return Period.parse(self.period.currentData())

    @property
    def current_template(self) -> Template | None:
        """The chosen form in the version it is filled with for the chosen period and area (the
        one pinned when it was submitted, else the one in effect); the newest if there is none."""
        key = self.template.currentData()
        return self._version(key, self.current_period, self.area.currentData()) if key else None

    def _version(self, template_id: str, period: Period, area: str) -> Template:
        """The version of the form for ``period`` and ``area``; the newest when it has none
        (not in effect yet, or a submitted form's version gone: reload says so)."""
        try:
            return self.pool.template_for(template_id, period, area)
        except UserError:
            return self.pool.templates[template_id]

    def _elements(self) -> list[Element]:
        templates = (
            [self.current_template]
            if self.current_template
            else [
                t
                for t in self.pool.templates.in_effect(self.current_period).values()
                if t.kind == "table"
            ]
        )
        codes: list[str] = []
        for template in templates:
            codes += [c for c in template.elements if c not in codes]
        return [self.pool.dictionary[c] for c in codes]

    def reload(self) -> None:
        area, period = self.area.currentData(), self.current_period
        template = self.current_template
        if template is not None and template.kind == "roster":
            self.list_mode.setChecked(False)
        self.list_mode.setEnabled(template is not None and template.kind == "table")
        self._update_workflow(None)
        for button in (self.export_button, self.print_button):
            button.setEnabled(template is not None and not self.list_mode.isChecked())
        self._offer_workbooks(template)
        if template is not None:
            try:
                self.pool.template_for(template.id, period, area)
            except UserError as exc:  # e.g. a form installed for later periods only
                self._unavailable(exc.message, area, period)
                return
        if template is not None and not self.list_mode.isChecked():
            self._show_sheet(template, area, period)
            return
        locked: set[str] = set()
        for each in self.pool.templates.in_effect(period).values():
            if each.kind == "table" and self.pool.status(each.id, area, period) == SUBMITTED:
                locked |= set(self._version(each.id, period, area).elements)
        self.model.load(self._elements(), area, period, locked)
        self.pages.setCurrentWidget(self.table)
        self._update_checks()

    def _unavailable(self, message: str, area: str, period: Period) -> None:
        """The chosen form cannot be shown for this period: nothing to fill, and why."""
        self._update_workflow(None)
        self.export_button.setEnabled(False)
        self.print_button.setEnabled(False)
        self.model.load([], area, period, set())
        self.pages.setCurrentWidget(self.table)
        self.status.setText(message)

    def _show_sheet(self, template: Template, area: str, period: Period) -> None:
        data = self.pool.collect(template.id, area, period)
        sheet = SheetView(self.pool, data, masked=self.masked, parent=self)
        sheet.changed.connect(self._values_changed)
        sheet.message.connect(self._refused)
        if self.sheet is not None:
            self.pages.removeWidget(self.sheet)
            self.sheet.deleteLater()
        self.sheet = sheet
        self.pages.addWidget(sheet)
        self.pages.setCurrentWidget(sheet)
        self._update_checks()

    def _refused(self, text: str) -> None:
        self._update_checks()
        self.status.setText(refused_text(text) + self.status.text())

    def _offer_workbooks(self, template: Template | None) -> None:
        """「导出…」 also offers each department workbook (表样) shipped for this form."""
        from govshare_desktop.core.export.workbook_fill import list_workbooks  # heavy: openpyxl

        menu = self.export_button.menu()
        for action in self._workbook_actions:
            menu.removeAction(action)
        self._workbook_actions = []
        if template is None or template.kind == "individual":
            return
        for mapping in list_workbooks(template.id):
            self._workbook_actions.append(self._workbook_action(menu, mapping.id, mapping.name))

    def _workbook_action(self, menu: QMenu, mapping_id: str, name: str) -> QAction:
        """「部门表样：…」: the department's own workbook, filled as the form is shown."""

        def fill(path: Path, progress: Progress, cancel: Cancel) -> Path:
            return fill_department_workbook(  # as the form is shown: masked or not
                context(self.pool.store).running(progress, cancel),
                self.pool,
                mapping_id,
                self.area.currentData(),
                self.current_period,
                path,
                masked=self.masked,
                reason=self.unmask_reason,
            )

        return menu.addAction(
            f"部门表样：{name}（.xlsx）…", lambda: self.output.export_workbook(name, fill)
        )

    def _shown_sheets(self, _progress: Progress) -> list[Sheet]:
        """The form on screen, as shown (masked or not); quick, so no progress to report."""
        if self.sheet is None:
            raise UserError("请先选择一张报表")
        return [self.sheet.sheet_model.sheet]

    def _file_name(self) -> str:
        template = self.current_template
        title = template.title if template else "一表通"
        return f"{title}-{self.area.currentText()}-{self.current_period}"

    def _batch_sheets(self, template_id: str) -> Sheets:
        """Every eligible person's form, read as it is written or laid out (a FormBatch)."""
        from govshare_desktop.core.export.forms import form_stream  # lazy: the exporters, on use

        return form_stream(
            self.pool,
            template_id,
            self.current_period,
            area=self.area.currentData(),
            masked=self.masked,
        )

    def set_masked(self, masked: bool, reason: str = "") -> None:
        self.unmask_reason = "" if masked else reason
        if masked != self.masked:
            self.masked = masked
            self.reload()

    def _update_checks(self) -> None:
        template = self.current_template
        data = None
        if template is None or self.list_mode.isChecked():
            filled = sum(
                1
                for e in self.model.elements
                if self.model.rows.get(e.code) and self.model.rows[e.code].value is not None
            )
            required = len(self.model.elements)
        else:
            assert self.sheet is not None
            data = self.sheet.sheet_model.form
            filled, required = data.completeness()
        text = (
            f"已填 {filled} / {required} 项。浅蓝：回流数据预填；浅橙：经办人修改过的预填值；"
            "浅黄：待填报。"
        )
        if template is not None:
            area = self.area.currentData()
            data = data or self.pool.collect(template.id, area, self.current_period)
            status = STATUS_LABELS.get(data.status, data.status)
            problems = list(
                dict.fromkeys(
                    f"{'错误' if r.rule.severity == 'error' else '提示'}：{r.rule.message}"
                    for r in data.rule_results()
                    if r.passed is False
                )
            )
            state = reports.report_state(
                context(self.pool.store), template.id, area, self.current_period
            )
            text += f"　报表状态：{status}。{report_line(state)}" + (
                "　" + "；".join(problems) if problems else "　校验通过。"
            )
            self._update_workflow(data.status)
        self.status.setText(text)

    def _update_workflow(self, status: str | None) -> None:
        """上报, 审核通过 and 退回 as the form's status (None: no form chosen) and the signed-in
        role allow: 上报 a draft or a returned form, 审核通过 (审核人) a form 待审核, 退回
        (审核人) one 待审核 or 已上报."""
        may = self.pool.store.principal.may
        self.submit_button.setEnabled(status in ("draft", "returned") and may(Action.SUBMIT_FORM))
        self.approve_button.setEnabled(status == "review" and may(Action.REVIEW_FORM))
        self.return_button.setEnabled(status in ("review", "submitted") and may(Action.RETURN_FORM))

    def show_form(self, template_id: str, period: str, area: str) -> bool:
        """Show one form for a period and area (a task opened on the 报表任务 page); False, and
        why in the status line, if this computer does not have the form or the area."""
        if self.template.findData(template_id) < 0 or self.area.findData(area) < 0:
            missing = "报表" if self.template.findData(template_id) < 0 else "区域"
            self.status.setText(f"本机没有这项任务的{missing}（{template_id}，{area}）。")
            return False
        if self.period.findData(period) < 0:  # e.g. a task for the coming month
            self.period.insertItem(0, Period.parse(period).label, period)
        chosen = ((self.period, period), (self.area, area), (self.template, template_id))
        for combo, _ in chosen:
            combo.blockSignals(True)
        self.list_mode.blockSignals(True)
        for combo, data in chosen:
            combo.setCurrentIndex(combo.findData(data))
        self.list_mode.setChecked(False)  # the form as its paper reads
        for combo, _ in chosen:
            combo.blockSignals(False)
        self.list_mode.blockSignals(False)
        self.reload()
        return True

    def refresh(self) -> None:
        """New data arrived: the pool's forms read afresh (every version: a task may have
        brought one), each listed, the one chosen kept, and the form shown read again."""
        found = forms.catalog(context(self.pool.store))
        self.pool.dictionary, self.pool.templates = found.dictionary, found.templates
        chosen = self.template.currentData()
        self.template.blockSignals(True)
        self.template.clear()
        self._fill_templates()
        self.template.setCurrentIndex(max(0, self.template.findData(chosen)))
        self.template.blockSignals(False)
        self.reload()

    # ---------------------------------------------------------------- actions

    def _ask_reason(self, element: Element) -> str | None:
        reason, ok = QInputDialog.getText(
            self, "修改预填值", f"“{element.name}”由回流数据计算得出。请说明修改理由："
        )
        return reason.strip() if ok and reason.strip() else None

    def prefill(self) -> Task:
        """按回流数据预填 off the UI thread: the page waits (greyed), the window does not."""
        ctx, pool, period = context(self.pool.store), self.pool, self.current_period
        self.setEnabled(False)
        self.prefill_task = run_task(
            self,
            "正在按回流数据预填……",
            lambda _p, _c: forms.prefill(ctx, pool, period),
            self._prefilled,
            self._prefill_failed,
        )
        return self.prefill_task

    def _prefill_failed(self, exc: BaseException) -> None:
        self.setEnabled(True)
        show_error(self, exc)

    def _prefilled(self, done: forms.Prefilled) -> None:
        self.setEnabled(True)
        report, carried = done.report, done.carried
        self.reload()
        self.changed.emit()
        message = f"已预填：新增 {report.inserted} 个值，随回流数据更新 {len(report.changed)} 个。"
        if carried:
            message += f"沿用上期填报的值 {carried} 个。"
        if report.kept_overrides:
            message += f"有 {len(report.kept_overrides)} 个经办人修改过的值与最新回流数据不同，已保留，请核对。"
        self.status.setText(message + "\n" + self.status.text())

    def submit(self) -> None:
        template = self.current_template
        if template is None:
            return
        try:
            sent = reports.submit_report(
                context(self.pool.store),
                self.pool,
                template.id,
                self.area.currentData(),
                self.current_period,
            )
        except UserError as exc:
            QMessageBox.warning(self, "不能上报", exc.message)
            return
        self._sent(template, sent)

    def approve(self) -> None:
        """审核通过 (审核人): the form 待审核 goes up; its package is made."""
        template = self.current_template
        if template is None:
            return
        try:
            sent = reports.approve_report(
                context(self.pool.store),
                self.pool,
                template.id,
                self.area.currentData(),
                self.current_period,
            )
        except UserError as exc:
            QMessageBox.warning(self, "不能审核通过", exc.message)
            return
        self._sent(template, sent)

    def _sent(self, template: Template, sent: Sent) -> None:
        """After 上报 or 审核通过: what happened, and the offer to write the new package."""
        self.reload()
        self.changed.emit()
        self.status.setText(sent.summary(template.title) + "\n" + self.status.text())
        if sent.package is not None:
            self.writer.offer(self, sent.package.package_id, self._said)

    def _said(self, text: str) -> None:
        self.status.setText(text + "\n" + self.status.text())

    def return_form(self) -> None:
        template = self.current_template
        if template is None:
            return
        reason, ok = QInputDialog.getText(self, "退回报表", "退回理由：")
        if not ok:
            return
        try:
            forms.return_form(
                context(self.pool.store),
                self.pool,
                template.id,
                self.area.currentData(),
                self.current_period,
                reason,
            )
        except UserError as exc:
            QMessageBox.warning(self, "不能退回", exc.message)
            return
        self.reload()
        self.changed.emit()


def report_line(state: reports.ReportState | None) -> str:
    """Who submitted and approved the form, and why it was returned, for the status line."""
    if state is None:
        return ""
    if state.status == "returned":
        reason = state.reason or "（未说明理由）"
        return (reason if "退回：" in reason else f"退回理由：{reason}") + "。请修改后重新上报。"
    said = [f"上报人：{state.submitted_by}"] if state.submitted_by else []
    if state.status == "review":
        said.append("等待审核人审核通过")
    if state.reviewed_by:
        said.append(f"审核人：{state.reviewed_by}")
    if state.package_file and state.status != "review":
        said.append(f"数据包：{state.package_file}")
    return "；".join(said) + "。" if said else ""


def _batch_actions(menu: QMenu, output: FormOutput) -> None:
    """A batch output's entries: PDF, Excel, print."""
    menu.addAction("导出 PDF（每人一页）…", lambda: output.export("pdf"))
    menu.addAction("导出 Excel（每人一个工作表）…", lambda: output.export("xlsx"))
    menu.addAction("打印…", output.print_)
