"""The person card and the household view (dialogs opened from any browse page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.browse import Column, format_cell
from govshare_desktop.core.domain import codes, idnumber, masking
from govshare_desktop.core.records import PersonCard
from govshare_desktop.core.store.models import Household, Person

_MONEY = Column("money", "", "", kind="money")


def _fen(value: int | None) -> str:
    return format_cell(_MONEY, value, masked=False, today=date.today())


def _address(household: Household, masked: bool) -> str:
    address = masking.mask_address(household.address) if masked else household.address
    return address or "—"


def _provenance(record: Household | Person) -> str:
    """Source department and as-of date (数据时点) of a back-flowed record."""
    return f"{record.source_department}，数据时点 {record.as_of or '—'}"


def _forms_button(
    forms: Sequence[tuple[str, str]], on_choose: Callable[[str], None], parent: QWidget
) -> QPushButton:
    """A "填写登记表" button with a menu of the individual forms (template id, title)."""

    def choose(template_id: str) -> Callable[[], None]:
        return lambda: on_choose(template_id)

    button = QPushButton("填写登记表…", parent)
    button.setObjectName("fill_form")
    menu = QMenu(button)
    for template_id, title in forms:
        menu.addAction(title, choose(template_id))
    button.setMenu(menu)
    button.setEnabled(bool(forms))
    if not forms:
        button.setToolTip("没有适用于此对象的登记表模板")
    return button


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], parent: QWidget) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers), parent)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(value)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _correction_button(parent: QWidget, on_click: Callable[[], None]) -> QPushButton:
    """「纠错…」: ask the department the record came from to correct one of its fields."""
    button = QPushButton("纠错…", parent)
    button.setObjectName("correct_record")
    button.setToolTip("信息与实际不符：向数据来源部门提出纠错（校核纠错）")
    button.clicked.connect(on_click)
    return button


class PersonCardDialog(QDialog):
    """Signals: ``household_requested(int)`` — the clerk asked to open this person's household;
    ``form_requested(str, str)`` — fill the individual form (template id) for this ID number;
    ``correction_requested(str, str)`` — a 纠错 of this person's record (dataset, ID number)."""

    household_requested = Signal(int)
    form_requested = Signal(str, str)
    correction_requested = Signal(str, str)

    def __init__(
        self,
        card: PersonCard,
        *,
        masked: bool,
        today: date,
        forms: Sequence[tuple[str, str]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.card = card
        self._masked = masked
        self._today = today
        name = masking.mask_name(card.name) if masked else card.name
        self.setWindowTitle(f"人员信息 — {name}")
        self.setObjectName("person_card")
        self.resize(720, 640)
        layout = QVBoxLayout(self)
        layout.addLayout(self._head(name))
        layout.addLayout(self._facts())
        layout.addWidget(self._enrollments_box())
        layout.addWidget(self._payments_box(), 1)
        layout.addWidget(self._buttons(forms))

    def _head(self, name: str) -> QHBoxLayout:
        """The name (masked or not) and whether the person is registered in this township."""
        title = QLabel(f"<b style='font-size:16pt'>{name}</b>", self)
        badge = QLabel(self)
        badge.setObjectName("registry_badge")
        if self.card.in_registry:
            badge.setText("本镇户籍")
            badge.setStyleSheet("color:#1b5e20; border:1px solid #1b5e20; padding:2px 6px;")
        else:
            badge.setText("非本镇户籍（仅社保数据）")
            badge.setStyleSheet("color:#b45309; border:1px solid #b45309; padding:2px 6px;")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(badge)
        head.addStretch(1)
        return head

    def _facts(self) -> QFormLayout:
        card, masked = self.card, self._masked
        facts = QFormLayout()
        number = masking.mask_id_number(card.id_number) if masked else card.id_number
        facts.addRow("公民身份号码：", QLabel(number, self))
        if card.person is not None:
            self._person_facts(facts, card.person)
        elif idnumber.is_valid(card.id_number):  # only social-security data: what the number says
            info = idnumber.parse(card.id_number)
            sex = codes.table(codes.SEX).label(info.sex_code)
            facts.addRow(
                "性别 / 年龄（据证件号）：", QLabel(f"{sex}，{info.age_on(self._today)} 岁", self)
            )
        facts.addRow("所属村（社区）：", QLabel(card.village.name if card.village else "—", self))
        if card.household is not None and card.person is not None:
            self._household_facts(facts, card.household, card.person)
        if card.person is not None:
            facts.addRow("数据来源：", QLabel(_provenance(card.person), self))
        return facts

    def _person_facts(self, facts: QFormLayout, person: Person) -> None:
        masked = self._masked
        born = masking.mask_birth_date(person.birth_date) if masked else f"{person.birth_date}"
        age = idnumber.age_on(person.birth_date, self._today)
        facts.addRow("性别：", QLabel(codes.table(codes.SEX).label(person.sex_code), self))
        facts.addRow("出生日期 / 年龄：", QLabel(f"{born}（{age} 岁）", self))
        facts.addRow(
            "民族：", QLabel(codes.table(codes.ETHNICITY).label(person.ethnicity_code), self)
        )
        status = codes.table(codes.PERSON_STATUS).label(person.status)
        if person.status_date:
            status += f"（{person.status_date}）"
        facts.addRow("人员状态：", QLabel(status, self))
        phone = masking.mask_phone(person.phone) if masked else person.phone
        facts.addRow("联系电话：", QLabel(phone or "—", self))

    def _household_facts(self, facts: QFormLayout, household: Household, person: Person) -> None:
        link = QLabel(f"<a href='#'>{household.household_no}</a>（点击查看全户）", self)
        link.setObjectName("household_link")
        link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        household_id = household.id
        link.linkActivated.connect(lambda _href: self.household_requested.emit(household_id))
        facts.addRow("户号：", link)
        facts.addRow(
            "与户主关系：",
            QLabel(codes.table(codes.RELATIONSHIP).label(person.relationship_code), self),
        )
        facts.addRow("住址：", QLabel(_address(household, self._masked), self))

    def _enrollments_box(self) -> QGroupBox:
        enrollments = self.card.enrollments
        schemes = codes.table(codes.SS_SCHEME)
        statuses = codes.table(codes.SS_PAYMENT_STATUS)
        box = QGroupBox(f"社会保险参保（{len(enrollments)}）", self)
        self.enrollments = _table(
            ["险种", "缴费状态", "缴费档次（元/年）", "参保日期", "待遇领取", "数据来源"],
            [
                [
                    schemes.label(e.scheme_code),
                    statuses.label(e.status_code),
                    _fen(e.grade_fen),
                    str(e.start_date or ""),
                    "是" if e.receiving else "否",
                    e.source_department,
                ]
                for e in enrollments
            ],
            box,
        )
        self.enrollments.setObjectName("enrollments")
        QVBoxLayout(box).addWidget(self.enrollments)
        visible_rows = min(max(len(enrollments), 1), 5)
        self.enrollments.setFixedHeight(
            self.enrollments.horizontalHeader().sizeHint().height()
            + visible_rows * self.enrollments.verticalHeader().defaultSectionSize()
            + 6
        )
        return box

    def _payments_box(self) -> QGroupBox:
        card = self.card
        box = QGroupBox(
            f"待遇发放（{len(card.payments)} 个月，合计 {_fen(card.total_paid_fen)} 元）", self
        )
        self.payments = _table(
            ["发放年月", "基础养老金（元）", "个人账户养老金（元）", "实发金额（元）", "发放日期"],
            [
                [
                    f"{p.period // 100}-{p.period % 100:02d}",
                    _fen(p.basic_fen),
                    _fen(p.account_fen),
                    _fen(p.total_fen),
                    str(p.paid_date or ""),
                ]
                for p in card.payments
            ],
            box,
        )
        self.payments.setObjectName("payments")
        for column in range(1, 4):
            for row in range(self.payments.rowCount()):
                item = self.payments.item(row, column)
                assert item is not None  # _table filled every cell
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        QVBoxLayout(box).addWidget(self.payments)
        return box

    def _buttons(self, forms: Sequence[tuple[str, str]]) -> QDialogButtonBox:
        buttons = QDialogButtonBox(self)
        if self.card.in_registry:
            fill = _forms_button(forms, self._fill_form, self)
            buttons.addButton(fill, QDialogButtonBox.ButtonRole.ActionRole)
        if self.card.person is not None:  # a record 公安 sent: it can be corrected
            number = self.card.id_number
            correct = _correction_button(
                self, lambda: self.correction_requested.emit("person", number)
            )
            buttons.addButton(correct, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        return buttons

    def _fill_form(self, template_id: str) -> None:
        self.form_requested.emit(template_id, self.card.id_number)


class HouseholdDialog(QDialog):
    """Signals: ``person_requested(str)`` — open the card of a member (by ID number);
    ``form_requested(str, str)`` — fill an individual form (template id) for the household (户号)
    or, for a person form, for the selected member (the first member if none is selected);
    ``correction_requested(str, str)`` — a 纠错 of the household's record (dataset, 户号)."""

    person_requested = Signal(str)
    form_requested = Signal(str, str)
    correction_requested = Signal(str, str)

    def __init__(
        self,
        household: Household,
        members: list[Person],
        *,
        masked: bool,
        today: date,
        forms: Sequence[tuple[str, str, str]] = (),  # (template id, title, subject kind)
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("household_dialog")
        self._household_no = household.household_no
        self._form_subjects = {template_id: kind for template_id, _, kind in forms}
        self.setWindowTitle(f"户籍信息 — 户号 {household.household_no}")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        facts = QFormLayout()
        facts.addRow("户号：", QLabel(household.household_no, self))
        facts.addRow(
            "户别：",
            QLabel(codes.table(codes.HOUSEHOLD_TYPE).label(household.household_type), self),
        )
        facts.addRow(
            "所属村（社区）：", QLabel(household.village.name if household.village else "—", self)
        )
        facts.addRow("住址：", QLabel(_address(household, masked), self))
        facts.addRow("数据来源：", QLabel(_provenance(household), self))
        layout.addLayout(facts)

        relationship = codes.table(codes.RELATIONSHIP)
        statuses = codes.table(codes.PERSON_STATUS)
        self._members = members
        self.members = _table(
            ["与户主关系", "姓名", "公民身份号码", "性别", "年龄", "人员状态"],
            [
                [
                    relationship.label(m.relationship_code),
                    masking.mask_name(m.name) if masked else m.name,
                    masking.mask_id_number(m.id_number) if masked else m.id_number,
                    codes.table(codes.SEX).label(m.sex_code),
                    str(idnumber.age_on(m.birth_date, today)),
                    statuses.label(m.status),
                ]
                for m in members
            ],
            self,
        )
        self.members.setObjectName("members")
        self.members.activated.connect(self._open_member)
        layout.addWidget(QLabel(f"家庭成员（{len(members)} 人，双击查看人员信息）：", self))
        layout.addWidget(self.members, 1)
        buttons = QDialogButtonBox(self)
        fill = _forms_button(
            [
                (t, title if kind == "household" else f"{title}（选中的成员）")
                for t, title, kind in forms
            ],
            self._fill_form,
            self,
        )
        buttons.addButton(fill, QDialogButtonBox.ButtonRole.ActionRole)
        number = household.household_no
        correct = _correction_button(
            self, lambda: self.correction_requested.emit("household", number)
        )
        buttons.addButton(correct, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _fill_form(self, template_id: str) -> None:
        if self._form_subjects.get(template_id) == "household":
            self.form_requested.emit(template_id, self._household_no)
            return
        if not self._members:
            return
        row = self.members.currentRow()
        member = self._members[row if 0 <= row < len(self._members) else 0]
        self.form_requested.emit(template_id, member.id_number)

    def _open_member(self, index: QModelIndex) -> None:
        if 0 <= index.row() < len(self._members):
            self.person_requested.emit(self._members[index.row()].id_number)
