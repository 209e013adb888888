"""校核纠错 going up: a clerk tells the department a record came from that a field is wrong.

A request is raised from a check case, a person or household card, or a rejected import row; it
is addressed to the record's source department (the batch's ``source_department``, whose code is
the registered sender of that name or the one the 系统管理员 set). Requests waiting to go are
gathered into one signed ``correction`` package per department (``data/corrections.csv`` as the
contract has it), each with its reply deadline counted in working days from the day it is sent.

Then: 已发送 → 已答复（采纳 / 不采纳, with the reason) → 已更正 — closed by itself when a later
back-flow brings the proposed value (it says which batch fixed it) — or 超期 once past its deadline
unanswered, with the working days overdue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.checks.cases import move_in
from govshare_desktop.core.domain.workdays import WorkCalendar
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.outbox import Outgoing, file_entry, make_package
from govshare_desktop.core.exchange.package import Party
from govshare_desktop.core.reports import content, rejections
from govshare_desktop.core.reports.fields import FIELDS
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.sharing.calendar import work_calendar
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    Batch,
    CheckCase,
    Correction,
    Household,
    OutboxPackage,
    Person,
    TrustedSender,
)
from govshare_desktop.core.store.township import get_setting

REPLY_DAYS = 10  # working days the department has to answer (as for 有条件共享, 条例 §4)
HEADER = (
    "纠错编号", "数据集", "记录键", "字段", "现值", "建议值", "依据", "发现方式", "提出日期", "答复期限",
)  # fmt: skip
FOUND_BY = ("import_rejection", "cross_check", "clerk")
STATES = {
    "draft": "待发送",
    "sent": "已发送",
    "accepted": "已答复（采纳）",
    "rejected": "已答复（不采纳）",
    "corrected": "已更正",
}
RECIPIENT_KEY = "report_recipient:"  # the same department → code settings as reports


def _stored(session: Session, dataset: str, key: str, field: str) -> tuple[Any, Any]:
    """(the record, its current value of ``field`` as text)."""
    fields = FIELDS.get(dataset)
    if fields is None or field not in fields:
        known = "、".join(fields or ())
        raise UserError(f"数据集“{dataset}”没有可纠错的字段“{field}”（可纠错：{known}）")
    model, attribute = fields[field]
    column = Person.id_number if model is Person else Household.household_no
    record = session.scalar(select(model).where(column == key))
    if record is None:
        raise UserError(f"本地没有记录“{key}”（{dataset}）")
    value = getattr(record, attribute)
    return record, "" if value is None else str(value)


def raise_correction(
    store: Store,
    *,
    dataset: str,
    record_key: str,
    field: str,
    proposed: str,
    basis: str,
    found_by: str = "clerk",
    case_id: int | None = None,
    now: datetime,
) -> Correction:
    """A request, waiting to go (待发送) to the record's source department."""
    store.principal.require(Action.EDIT_FORMS)
    if found_by not in FOUND_BY:
        raise ValueError(found_by)
    if not basis.strip():
        raise UserError("纠错须写明依据（例如：户口簿、死亡医学证明、村委会入户核实）")
    with store.transaction() as session:
        record, current = _stored(session, dataset, record_key, field)
        if current == proposed.strip():
            raise UserError(f"建议值与现值相同（{current}），不需要纠错")
        if case_id is not None:  # raised from a case: it is 确认有误, in the same transaction
            case = session.get(CheckCase, case_id)
            if case is None:
                raise UserError(f"没有核查事项 {case_id}")
            if case.state != "confirmed":
                move_in(store, session, case_id, "confirmed", note=f"提出纠错：{field}", now=now)
        batch = session.get(Batch, record.batch_id)
        row = Correction(
            correction_id=str(uuid.uuid4()),
            dataset=dataset,
            record_key=record_key,
            name=getattr(record, "name", None) or getattr(record, "head_name", "") or "",
            field=field,
            current_value=current,
            proposed_value=proposed.strip(),
            basis=basis.strip(),
            found_by=found_by,
            case_id=case_id,
            department=batch.source_department if batch else "",
            raised_on=now.date(),
            state="draft",
            created_by=store.principal.username,
            created_at=now,
            changed_at=now,
        )
        session.add(row)
        session.flush()
        audit_trail(store).record(
            session,
            store.principal,
            "correction",
            row.correction_id,
            detail={"dataset": dataset, "field": field, "department": row.department},
            now=now,
        )
        return row


def _recipient(session: Session, department: str) -> Party:
    code = get_setting(session, RECIPIENT_KEY + department)
    known = session.get(TrustedSender, code) if code else None
    if code is None:
        known = session.scalar(select(TrustedSender).where(TrustedSender.name == department))
        code = known.code if known else None
    if code is None:
        raise UserError(
            f"没有“{department}”的单位代码，纠错无法发送：请系统管理员设置该部门的单位代码"
            "（govshare report recipient --department … --code …）或登记其公钥"
        )
    return Party(code, known.name if known else department)


def send_corrections(
    store: Store, *, now: datetime, calendar: WorkCalendar | None = None
) -> list[OutboxPackage]:
    """Every request waiting to go, one signed package per department, in one transaction."""
    store.principal.require(Action.SUBMIT_FORM)
    made = []
    with store.transaction() as session:
        deadline = (calendar or work_calendar(session)).deadline(now.date(), REPLY_DAYS)
        waiting = list(
            session.scalars(
                select(Correction)
                .where(Correction.state == "draft")
                .order_by(Correction.created_at)
            )
        )
        by_department: dict[str, list[Correction]] = {}
        for row in waiting:
            by_department.setdefault(row.department, []).append(row)
        for department, rows in by_department.items():
            recipient = _recipient(session, department)
            for row in rows:
                row.deadline, row.recipient_code = deadline, recipient.code
            csv = content.write_rows(HEADER, [_csv_row(row) for row in rows])
            package = make_package(
                store,
                session,
                Outgoing(
                    kind="correction",
                    recipient=recipient,
                    subject=f"校核纠错 {len(rows)} 条（{department}）",
                    files={"data/corrections.csv": csv},
                    entries={
                        "data/corrections.csv": {
                            **file_entry("corrections", "csv"),
                            "rows": len(rows),
                        }
                    },
                ),
                now=now,
            )
            for row in rows:
                row.state, row.package_id, row.changed_at = "sent", package.package_id, now
            made.append(package)
    return made


def _csv_row(row: Correction) -> tuple[str, ...]:
    return (
        row.correction_id,
        row.dataset,
        row.record_key,
        row.field,
        row.current_value,
        row.proposed_value,
        row.basis,
        row.found_by,
        row.raised_on.isoformat(),
        row.deadline.isoformat() if row.deadline else "",
    )


def answer(session: Session, correction_id: str, result: str, note: str, sender: str) -> str:
    """A reply: 采纳 (accepted) or 不采纳 (rejected, with the department's reason)."""
    row = session.get(Correction, correction_id)
    if row is None or row.state == "draft" or row.recipient_code != sender:
        raise UserError(f"答复的纠错 {correction_id} 不是本单位发给该部门的（从未发出）")
    if row.state == "corrected":
        return f"纠错 {row.field}（{row.name}）已更正，答复记录在案"
    row.state, row.answer = result, note or None
    verdict = "采纳" if result == "accepted" else f"不采纳：{note}"
    return f"纠错 {row.field}（{row.name}）：{verdict}"


def close_corrected(session: Session, *, now: datetime) -> list[Correction]:
    """Requests whose proposed value a later back-flow brought: 已更正, with the batch."""
    closed = []
    for row in session.scalars(
        select(Correction).where(Correction.state.in_(("sent", "accepted")))
    ):
        if row.found_by == "import_rejection":  # its record was never stored: was it brought?
            batch = rejections.brought(session, row)
            if batch is not None:
                row.state, row.corrected_batch, row.changed_at = "corrected", batch, now
                closed.append(row)
            continue
        try:
            record, current = _stored(session, row.dataset, row.record_key, row.field)
        except UserError:
            continue
        if current == row.proposed_value and record.batch_id is not None:
            row.state, row.corrected_batch, row.changed_at = "corrected", record.batch_id, now
            closed.append(row)
    return closed


@dataclass(frozen=True)
class CorrectionView:
    correction_id: str
    dataset: str
    record_key: str
    name: str
    field: str
    current_value: str
    proposed_value: str
    department: str
    state: str
    deadline: date | None
    workdays_left: int | None
    answer: str | None
    corrected_batch: int | None
    raised_on: date | None = None

    @property
    def overdue(self) -> bool:
        return self.state == "sent" and self.workdays_left is not None and self.workdays_left < 0

    @property
    def state_label(self) -> str:
        if self.overdue:
            return f"超期（{-(self.workdays_left or 0)} 个工作日）"
        return STATES.get(self.state, self.state)


def corrections(session: Session, today: date, calendar: WorkCalendar) -> list[CorrectionView]:
    rows = session.scalars(select(Correction).order_by(Correction.created_at.desc()))
    return [
        CorrectionView(
            row.correction_id,
            row.dataset,
            row.record_key,
            row.name,
            row.field,
            row.current_value,
            row.proposed_value,
            row.department,
            row.state,
            row.deadline,
            calendar.workdays_left(today, row.deadline) if row.deadline else None,
            row.answer,
            row.corrected_batch,
            row.raised_on,
        )
        for row in rows
    ]
