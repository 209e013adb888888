"""The 纠错 dialog (校核纠错): the clerk tells the department a record came from that one of its
fields is wrong — which field, the value it should have and on what basis. Opened from the person
card or the household view (the record is that one) or from a check case (the case's person; the
case becomes 确认有误 with it).

The fields a request may name and their current values are the core's
(:func:`govshare_desktop.core.services.checks.correctable`); the request is
:func:`govshare_desktop.core.services.reports.raise_correction`. A coded field (性别, 民族, 与户主关系,
人员状态, 户别, 村（社区）) offers its codes by name and a date field a date, so what goes up is in
the form the department keeps.

Signals of :class:`CorrectionDialog`: ``raised(object)`` — the request was made (its
:class:`~govshare_desktop.core.store.models.Correction`).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.domain import codes, masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.services import checks, reports
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.township import villages
from govshare_desktop.ui.usecases import context

DATASET_LABELS = {"person": "人员", "household": "户"}
CODED = {  # a field kept as a code → its code table
    "性别代码": codes.SEX,
    "民族代码": codes.ETHNICITY,
    "与户主关系代码": codes.RELATIONSHIP,
    "人员状态": codes.PERSON_STATUS,
    "户别": codes.HOUSEHOLD_TYPE,
}
VILLAGE_FIELD = "所属村（社区）代码"
DATES = ("出生日期", "变动日期")
_MASKS = {
    "姓名": masking.mask_name,
    "户主姓名": masking.mask_name,
    "户主公民身份号码": masking.mask_id_number,
    "出生日期": masking.mask_birth_date,
    "联系电话": masking.mask_phone,
    "住址": masking.mask_address,
}
ERROR_STYLE = "color:#b91c1c;"


def village_names(store: Store) -> dict[str, str]:
    """The township's villages (社区) by code."""
    with store.sessions() as session:
        return {village.code: village.name for village in villages(session)}


def field_options(field: str, village_list: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, code) of a coded field; empty for a field typed as text or a date."""
    if field == VILLAGE_FIELD:
        return [(name, code) for code, name in village_list.items()]
    table = CODED.get(field)
    return [(label, code) for code, label in codes.table(table)] if table else []


def shown_value(field: str, value: str, masked: bool, village_list: Mapping[str, str]) -> str:
    """A field's value as the clerk reads it: a code with its name, personal data masked."""
    if not value:
        return "（空）"
    if masked and field in _MASKS:
        return _MASKS[field](value) or value
    if field == VILLAGE_FIELD:
        return f"{village_list.get(value, value)}（{value}）"
    table = CODED.get(field)
    if table:
        label = codes.table(table).label(value)
        return _coded(label, value)
    return value


def _coded(label: str, code: str) -> str:
    """「男（1）」; a code that is a word (人员状态: normal) is not shown."""
    return code if label == code else f"{label}（{code}）" if code.isdigit() else label


class CorrectionDialog(QDialog):
    """纠错: one record, one field at a time."""

    raised = Signal(object)

    def __init__(
        self,
        store: Store,
        *,
        dataset: str,
        record_key: str,
        masked: bool,
        case_id: int | None = None,
        case_title: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """Raises :class:`UserError` when the record cannot be corrected (not kept here)."""
        super().__init__(parent)
        self.store = store
        self.dataset = dataset
        self.record_key = record_key
        self.case_id = case_id
        self.masked = masked
        self.values = checks.correctable(context(store), dataset, record_key)
        self.villages = village_names(store)
        self.setObjectName("correction_dialog")
        self.setWindowTitle("提出纠错")
        self.setMinimumWidth(600)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "发现本地数据与实际不符时，向数据来源部门提出纠错。纠错在「校核纠错」页汇总后"
            "按部门生成签名数据包报送；部门答复或回流数据更正后自动更新状态。",
            self,
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("color:#4b5563;")
        layout.addWidget(intro)
        layout.addLayout(self._form(case_title))
        self.error = QLabel(self)
        self.error.setObjectName("correction_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton("提出纠错", QDialogButtonBox.ButtonRole.AcceptRole)
        assert self.ok is not None
        self.ok.setObjectName("correction_ok")
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._field_changed()
        self.field.setFocus()

    def _form(self, case_title: str) -> QFormLayout:
        form = QFormLayout()
        form.addRow("纠错对象：", QLabel(self._subject(), self))
        if case_title:
            about = QLabel(f"{case_title}\n（提出后，此核查事项记为“确认有误”）", self)
            about.setWordWrap(True)
            form.addRow("来自核查：", about)
        self.field = QComboBox(self)
        self.field.setObjectName("correction_field")
        for name in self.values:
            self.field.addItem(name.removesuffix("代码"), name)
        self.field.currentIndexChanged.connect(lambda _i: self._field_changed())
        form.addRow("字段：", self.field)
        self.current = QLabel(self)
        self.current.setObjectName("correction_current")
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("现值：", self.current)
        self.text = QLineEdit(self)
        self.text.setObjectName("correction_text")
        self.choice = QComboBox(self)
        self.choice.setObjectName("correction_choice")
        self.date = QDateEdit(self)
        self.date.setObjectName("correction_date")
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setCalendarPopup(True)
        self.editors = QStackedWidget(self)
        for editor in (self.text, self.choice, self.date):
            self.editors.addWidget(editor)
        self.editors.setFixedHeight(self.text.sizeHint().height() + 4)
        form.addRow("建议值：", self.editors)
        self.basis = QLineEdit(self)
        self.basis.setObjectName("correction_basis")
        self.basis.setPlaceholderText("必填，例如：户口簿、死亡医学证明、村委会入户核实")
        form.addRow("依据：", self.basis)
        return form

    def _subject(self) -> str:
        name = self.values.get("姓名") or self.values.get("户主姓名") or ""
        if self.masked:
            name = masking.mask_name(name)
        if self.dataset == "person":
            number = masking.mask_id_number(self.record_key) if self.masked else self.record_key
            return f"人员　{name}　{number}"
        return f"户　户号 {self.record_key}（户主 {name}）"

    @property
    def chosen_field(self) -> str:
        return str(self.field.currentData())

    def _field_changed(self) -> None:
        field = self.chosen_field
        value = self.values.get(field, "")
        self.current.setText(shown_value(field, value, self.masked, self.villages))
        options = field_options(field, self.villages)
        if options:
            self.choice.clear()
            for label, code in options:
                self.choice.addItem(label if field == VILLAGE_FIELD else _coded(label, code), code)
            self.choice.setCurrentIndex(max(0, self.choice.findData(value)))
            self.editors.setCurrentWidget(self.choice)
        elif field in DATES:
            parsed = QDate.fromString(value, "yyyy-MM-dd")
            self.date.setDate(parsed if parsed.isValid() else QDate.currentDate())
            self.editors.setCurrentWidget(self.date)
        else:
            self.text.clear()
            self.text.setPlaceholderText("应为的正确值")
            self.editors.setCurrentWidget(self.text)
        self.error.clear()

    def proposed(self) -> str:
        """The value the request proposes, in the form the department keeps it."""
        editor = self.editors.currentWidget()
        if editor is self.choice:
            return str(self.choice.currentData() or "")
        if editor is self.date:
            return self.date.date().toString("yyyy-MM-dd")
        return self.text.text().strip()

    def submit(self) -> None:
        """The request, or why not (the dialog stays open to put it right)."""
        # Asked here too: raise_correction marks a case 确认有误 before it checks the request.
        if not self.proposed():
            self.error.setText("请填写建议值。")
            return
        if self.proposed() == self.values.get(self.chosen_field, ""):
            self.error.setText("建议值与现值相同，不需要纠错。")
            return
        if not self.basis.text().strip():
            self.error.setText("纠错须写明依据（例如：户口簿、死亡医学证明、村委会入户核实）。")
            self.basis.setFocus()
            return
        try:
            row = reports.raise_correction(
                context(self.store),
                dataset=self.dataset,
                record_key=self.record_key,
                field=self.chosen_field,
                proposed=self.proposed(),
                basis=self.basis.text(),
                case_id=self.case_id,
            )
        except UserError as exc:
            self.error.setText(exc.message)
            return
        self.raised.emit(row)
        self.accept()
