"""The 比对核查 page: the cases the cross-department checks found, as a worklist — per check, per
village (the window's 村（社区） filter), open ones by default — with what each check means and what
to do, and the finding typed back in the same screen.

Keyboard work, going down the list with what the cadres found: select a row, press 1 村已核实,
2 镇已审核, 3 确认有误 or 4 误报 (or click the button), type the 核实情况 (误报 must say why), Enter
records it and selects the next row; Esc goes back to the list. 「立即核查」 runs every check again
off the UI thread, 「打印核查表…」 exports the chosen check in the chosen village as PDF or Excel
for the cadres to take door to door, 「提出纠错…」 asks the source department to correct the
case's record. Everything is :mod:`govshare_desktop.core.services.checks`; this only shows it.

Signals of :class:`ChecksView`: ``correction_requested(object)`` — the clerk asked for a
correction of this case's record (its :class:`~govshare_desktop.core.services.checks.CaseView`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QObject,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.checks.cases import MOVES, OPEN_STATES, STATES, RunResult
from govshare_desktop.core.checks.definitions import SEVERITIES, Check
from govshare_desktop.core.domain import masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import checks
from govshare_desktop.core.services.checks import CaseView
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.correction_dialog import ERROR_STYLE, village_names
from govshare_desktop.ui.table_rows import RowRole, TableRows, page_label, rows_table
from govshare_desktop.ui.tasks import Task, run_task
from govshare_desktop.ui.tasks_view import ATTENTION, DONE, OVERDUE
from govshare_desktop.ui.usecases import context

HEADERS = ("核查项目", "姓名", "公民身份号码", "村（社区）", "数据显示", "状态", "核实情况")
CHECK, NAME, ID_NUMBER, VILLAGE, EVIDENCE, STATE, NOTE = range(len(HEADERS))
CaseRole = RowRole  # the row's CaseView

# The findings, in the order of their keys 1–4.
RESULTS = (
    ("village_verified", "村已核实"),
    ("township_reviewed", "镇已审核"),
    ("confirmed", "确认有误"),
    ("false_alarm", "误报…"),
)
RESULT_KEYS = {
    key.value: n for n, key in enumerate((Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4))
}
STATE_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("未办结", OPEN_STATES),
    *((STATES[s], (s,)) for s in STATES),
    ("全部", tuple(STATES)),
)
WORKING = QColor("#1d4ed8")  # verified or reviewed: on its way
CHOSEN = "QPushButton:checked { background:#1d4ed8; color:white; border:1px solid #1e3a8a; }"


class CasesModel(TableRows[CaseView], QAbstractTableModel):
    """The cases, in the core's order (per check, per village)."""

    headers = HEADERS

    def __init__(self, villages: Mapping[str, str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.villages = dict(villages)
        self.masked = True

    @property
    def cases(self) -> list[CaseView]:
        return self.rows

    def set_masked(self, masked: bool) -> None:
        self.masked = masked
        if self.rows:
            self.dataChanged.emit(self.index(0, NAME), self.index(len(self.rows) - 1, ID_NUMBER))

    def cell(self, case: CaseView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(case, column)
        if role == Qt.ItemDataRole.ToolTipRole and column in (EVIDENCE, NOTE, CHECK):
            return {EVIDENCE: case.evidence_text(), NOTE: case.note, CHECK: case.action}[column]
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = _colour(case, column)
            return QBrush(colour) if colour is not None else None
        return None

    def _cell(self, case: CaseView, column: int) -> str:
        if column == CHECK:
            return case.title
        if column == NAME:
            return masking.mask_name(case.name) if self.masked else case.name
        if column == ID_NUMBER:
            return masking.mask_id_number(case.subject) if self.masked else case.subject
        if column == VILLAGE:
            code = case.village_code or ""
            return self.villages.get(code, code) or "—"
        if column == EVIDENCE:
            return case.evidence_text()
        if column == STATE:
            return case.state_label
        return case.note or ""


def _colour(case: CaseView, column: int) -> QColor | None:
    if column == CHECK and case.severity == "error":
        return OVERDUE
    if column != STATE:
        return DONE if case.state in ("false_alarm", "gone") else None
    return {
        "open": ATTENTION,
        "village_verified": WORKING,
        "township_reviewed": WORKING,
        "confirmed": OVERDUE,
    }.get(case.state, DONE)


class ChecksView(QWidget):
    """The 比对核查 page."""

    correction_requested = Signal(object)

    def __init__(
        self,
        store: Store,
        parent: QWidget | None = None,
        *,
        village: str | None = None,
        masked: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checks_view")
        self.store = store
        self.village = village
        self.masked = masked
        self.unmask_reason = ""
        self.task: Task | None = None
        self.checks: dict[str, Check] = checks.checks()
        self.model = CasesModel(village_names(store), self)
        self.model.masked = masked
        self._build_bar()
        self._build_table()
        self._build_entry()
        self._lay_out()
        self.refresh()

    # ---------------------------------------------------------------- building

    def _build_bar(self) -> None:
        self.check = QComboBox(self)
        self.check.setObjectName("checks_check")
        self.check.addItem("全部核查项目", None)
        for check in self.checks.values():
            self.check.addItem(check.title, check.id)
        self.check.setToolTip("核查项目；打印核查表前请选择一项")
        self.check.currentIndexChanged.connect(lambda _i: self.refresh())
        self.state = QComboBox(self)
        self.state.setObjectName("checks_state")
        for label, states in STATE_FILTERS:
            self.state.addItem(label, states)
        self.state.currentIndexChanged.connect(lambda _i: self.refresh())
        may_run = self.store.principal.may(Action.IMPORT)
        self.run_button = _button("立即核查", "checks_run", self)
        self.run_button.setToolTip("用本地全部数据重新运行每一项比对核查（导入数据后会自动运行）")
        self.run_button.setEnabled(may_run)
        self.run_button.clicked.connect(self.run_checks)
        self.sheet_button = _button("打印核查表…", "checks_sheet", self)
        self.sheet_button.clicked.connect(self.print_sheet)
        self.summary = page_label(self, "checks_summary")

    def _build_table(self) -> None:
        self.table = rows_table(
            self,
            "checks_table",
            self.model,
            stretch=EVIDENCE,
            selection=QAbstractItemView.SelectionMode.ExtendedSelection,
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NOTE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(NOTE, 220)
        self.table.installEventFilter(self)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

    def _build_entry(self) -> None:
        self.detail = page_label(self, "checks_detail")
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setStyleSheet("background:#f3f4f6; border:1px solid #d1d5db; padding:6px 8px;")
        self.results = QButtonGroup(self)
        self.results.setExclusive(True)
        self.result_buttons: list[QPushButton] = []
        for number, (state, label) in enumerate(RESULTS, start=1):
            button = _button(f"{label}（&{number}）", f"checks_result_{state}", self)
            button.setCheckable(True)
            button.setStyleSheet(CHOSEN)
            button.setToolTip(
                f"在列表中按 {number} 选择“{label.rstrip('…')}”，再填核实情况、按回车"
            )
            self.results.addButton(button, number - 1)
            self.result_buttons.append(button)
        self.results.idClicked.connect(self.choose_result)
        self.note = QLineEdit(self)
        self.note.setObjectName("checks_note")
        self.note.setPlaceholderText("核实情况（回车记录并转到下一条；Esc 返回列表）")
        self.note.returnPressed.connect(self.record)
        self.note.installEventFilter(self)
        self.record_button = _button("记录", "checks_record", self)
        self.record_button.clicked.connect(self.record)
        self.correct_button = _button("提出纠错…", "checks_correct", self)
        self.correct_button.setToolTip(
            "数据确有错误：向数据来源部门提出纠错（核查事项记为“确认有误”）"
        )
        self.correct_button.clicked.connect(self.request_correction)
        self.status = page_label(self, "checks_status", selectable=True)

    def _lay_out(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("核查项目：", self))
        bar.addWidget(self.check)
        bar.addWidget(QLabel("  状态：", self))
        bar.addWidget(self.state)
        bar.addStretch(1)
        bar.addWidget(self.run_button)
        bar.addWidget(self.sheet_button)
        entry = QHBoxLayout()
        entry.addWidget(QLabel("核实结果：", self))
        for button in self.result_buttons:
            entry.addWidget(button)
        entry.addWidget(self.note, 1)
        entry.addWidget(self.record_button)
        entry.addWidget(self.correct_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(entry)
        layout.addWidget(self.status)

    # ---------------------------------------------------------------- the list

    def refresh(self) -> None:
        """The cases as the filters say, read afresh (the selection kept where it can be)."""
        kept = {case.id for case in self.selected_cases()}
        current = self.current_case()
        found = checks.cases(
            context(self.store),
            check_id=self.check.currentData(),
            village=self.village,
            states=self.state.currentData(),
        )
        self.model.villages = village_names(self.store)  # an import may bring a village
        self.model.load(found)
        self._summarise()
        if kept:
            self.select_ids(kept, current.id if current else None)
        elif found and not self.table.currentIndex().isValid():
            self.table.selectionModel().setCurrentIndex(
                self.model.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
        self._selection_changed()
        chosen = self.check.currentData() is not None
        self.sheet_button.setEnabled(self.store.principal.may(Action.EXPORT) and chosen)
        self.sheet_button.setToolTip(
            "把所选核查项目在所选村（社区）的待核实名单导出为 PDF 或 Excel，交村（社区）入户核实"
            if chosen
            else "请先在“核查项目”中选择一项"
        )

    def _summarise(self) -> None:
        found = self.model.cases
        if not found:
            self.summary.setText(
                "没有符合条件的核查事项。每次导入回流数据后会自动比对核查，也可以按「立即核查」。"
            )
            return
        errors = sum(1 for c in found if c.severity == "error")
        said = f"共 {len(found)} 件"
        said += f"，其中可能多发、错发待遇等错误 {errors} 件（红色）" if errors else ""
        self.summary.setText(
            said + "。选中一行按 1—4 填写核实结果，写明核实情况后按回车，自动转到下一条。"
        )

    def set_village(self, village: str | None) -> None:
        """The window's 村（社区） filter."""
        if village != self.village:
            self.village = village
            self.refresh()

    def set_masked(self, masked: bool, reason: str = "") -> None:
        self.masked, self.unmask_reason = masked, reason
        self.model.set_masked(masked)

    def current_case(self) -> CaseView | None:
        case = self.model.data(self.table.currentIndex(), CaseRole)
        return case if isinstance(case, CaseView) else None

    def selected_cases(self) -> list[CaseView]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.cases[row] for row in rows if row < len(self.model.cases)]

    def select_ids(self, ids: set[int], current: int | None = None) -> None:
        """Select these cases (those still listed); ``current`` gets the focus frame."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        rows = [r for r, case in enumerate(self.model.cases) if case.id in ids]
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            selection.select(self.model.index(row, 0), flags)
        focus = next(
            (r for r in rows if self.model.cases[r].id == current), rows[0] if rows else -1
        )
        if focus >= 0:
            selection.setCurrentIndex(
                self.model.index(focus, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
            self.table.scrollTo(self.model.index(focus, 0))

    def _selection_changed(self) -> None:
        """The detail and the 核实情况 of the selection; a finding is chosen again for it."""
        chosen = self.selected_cases()
        self._clear_result()
        if self.status.styleSheet() == ERROR_STYLE:  # a refusal was about the rows before
            self.status.clear()
            self.status.setStyleSheet("")
        case = chosen[0] if len(chosen) == 1 else self.current_case()
        self.detail.setText(
            self._explain(case) if case else "选中一件核查事项，这里显示核查说明和处理办法。"
        )
        self.note.setText((chosen[0].note or "") if len(chosen) == 1 else "")
        may = self.store.principal.may(Action.EDIT_FORMS)
        for button, (state, _label) in zip(self.result_buttons, RESULTS, strict=True):
            allowed = bool(chosen) and all(state in MOVES.get(c.state, ()) for c in chosen)
            button.setEnabled(may and allowed)
        self.record_button.setEnabled(may and bool(chosen))
        self.correct_button.setEnabled(
            may and len(chosen) == 1 and chosen[0].state not in ("false_alarm", "gone")
        )

    def _explain(self, case: CaseView) -> str:
        check = self.checks.get(case.check_id)
        if check is None:
            return html.escape(case.title)
        severity = SEVERITIES.get(check.severity, check.severity)
        return (
            f"<b>{html.escape(check.title)}</b>　<span style='color:#6b7280'>"
            f"{html.escape(check.department)}｜{severity}</span><br>"
            f"{html.escape(check.explanation)}<br><b>处理办法：</b>{html.escape(check.action)}"
        )

    # ---------------------------------------------------------------- typing results back

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """In the list: 1–4 choose the finding, Enter goes to 核实情况; there, Esc comes back."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key = int(event.key())
        plain = event.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        )
        if watched is self.table and plain and key in RESULT_KEYS:
            self.choose_result(RESULT_KEYS[key])
            return True
        if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._focus_note()
            return True
        if watched is self.note and key == Qt.Key.Key_Escape:
            self._clear_result()
            self.table.setFocus()
            return True
        return super().eventFilter(watched, event)

    def choose_result(self, number: int) -> None:
        """The finding to record for the selected cases (0–3: the buttons' order)."""
        button = self.result_buttons[number]
        if not self.selected_cases():
            self._refuse("请先在列表中选中核查事项。")
            self.table.setFocus()
            return
        if not button.isEnabled():
            state = STATES[RESULTS[number][0]]
            self._refuse(f"所选核查事项当前的状态不能改为“{state}”。")
            self.table.setFocus()
            return
        button.setChecked(True)
        false_alarm = RESULTS[number][0] == "false_alarm"
        self.note.setPlaceholderText(
            "误报须写明理由，例如：本人已在外地领取，有证明（必填）"
            if false_alarm
            else "核实情况（可不填；回车记录并转到下一条，Esc 返回列表）"
        )
        self.status.setText(
            f"核实结果：{RESULTS[number][1].rstrip('…')}。填写核实情况后按回车记录。"
        )
        self.status.setStyleSheet("")
        self._focus_note()

    def _focus_note(self) -> None:
        self.note.setFocus()
        self.note.selectAll()

    def _clear_result(self) -> None:
        self.results.setExclusive(False)
        for button in self.result_buttons:
            button.setChecked(False)
        self.results.setExclusive(True)
        self.note.setPlaceholderText("核实情况（回车记录并转到下一条；Esc 返回列表）")

    def record(self) -> None:
        """The chosen finding and 核实情况 for every selected case; then the next row."""
        number = self.results.checkedId()
        chosen = self.selected_cases()
        if number < 0 or not chosen:
            self._refuse("请先在列表中选中核查事项，再按 1—4 选择核实结果。")
            return
        state = RESULTS[number][0]
        ctx = context(self.store)
        done: list[int] = []
        refused: list[str] = []
        for case in chosen:
            try:
                checks.set_case_state(ctx, case.id, state, self.note.text())
            except UserError as exc:
                refused.append(exc.message)
            else:
                done.append(case.id)
        if not done:
            self._refuse(refused[0])  # e.g. 误报 without its reason: say so, stay on the note
            return
        order = [c.id for c in self.model.cases]
        after = order[max(order.index(i) for i in done) + 1 :]
        self._clear_result()
        self.refresh()
        listed = {c.id for c in self.model.cases}
        following = next((i for i in after if i in listed), None)
        if following is None and self.model.cases:
            following = self.model.cases[-1].id
        if following is not None:
            self.select_ids({following}, following)
        label = STATES[state]
        said = f"已记录 {len(done)} 件：{label}。"
        if refused:
            said += f"另有 {len(refused)} 件未记录：{refused[0]}"
        self.status.setText(said)
        self.status.setStyleSheet(ERROR_STYLE if refused else "")
        self.table.setFocus()

    def _refuse(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet(ERROR_STYLE)
        self._focus_note()

    def request_correction(self) -> None:
        chosen = self.selected_cases()
        if len(chosen) == 1:
            self.correction_requested.emit(chosen[0])

    # ---------------------------------------------------------------- run and print

    def run_checks(self) -> None:
        """Every check again, now, off the UI thread."""
        ctx = context(self.store)
        self.task = run_task(self, "正在比对核查……", lambda _p, _c: checks.run(ctx), self._ran)

    def _ran(self, result: RunResult) -> None:
        self.refresh()
        self.status.setText(result.summary() + "。")
        self.status.setStyleSheet("")

    def print_sheet(self) -> None:
        """The 核查表 of the chosen check in the chosen village (PDF or Excel), then open it."""
        check_id = self.check.currentData()
        if check_id is None:
            self.status.setText("请先选择一个核查项目，再打印核查表。")
            return
        place = self.model.villages.get(self.village or "", "全镇")
        suggested = Path.home() / f"核查表_{self.checks[check_id].title}_{place}.pdf"
        chosen, kind = QFileDialog.getSaveFileName(
            self, "打印核查表", str(suggested), "PDF 文件 (*.pdf);;Excel 工作簿 (*.xlsx)"
        )
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() not in (".pdf", ".xlsx"):
            path = path.with_name(path.name + (".xlsx" if "xlsx" in kind else ".pdf"))
        ctx = context(self.store)
        village, masked, reason = self.village, self.masked, self.unmask_reason
        self.task = run_task(
            self,
            "正在生成核查表……",
            lambda _p, _c: checks.export_sheet(
                ctx, check_id, path, village=village, masked=masked, reason=reason
            ),
            self._sheet_written,
        )

    def _sheet_written(self, result: ExportedFile) -> None:
        note = "已脱敏" if self.masked else "含完整个人信息，请妥善保管"
        self.status.setText(f"已生成核查表（{result.forms} 人，{note}）：{result.path}")
        self.status.setStyleSheet("")
        answer = QMessageBox.question(
            self,
            "核查表",
            f"核查表已保存到：\n{result.path}\n\n现在打开它打印吗？",
        )
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(result.path)))


def _button(text: str, name: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    return button
