"""校核纠错 from the rows an import left out.

A back-flow row the program could not take — an ID number whose check digit is wrong, a date that is
no date, a code outside its table — is the sending department's data, wrong at the source. The
import keeps each such row (``import_rejection``); from one, a clerk raises a correction to the
department the file came from: the field that was rejected, the value the file had, the value it
should have and the basis. The record is not in the store (its row was left out), so the request
states what the file said, and it closes itself when a later back-flow brings the record with the
proposed value (for a wrong ID number: a record under the proposed number).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.backflow import normalize as nz
from govshare_desktop.core.backflow.targets import TARGETS
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.reports.fields import contract_field, stored_of
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Batch, Correction, ImportRejection

# Rows rejected for these reasons say nothing wrong about a field: the file repeated a record, or
# the row cannot be read at all. A 纠错 about them would have no field to name.
NOT_CORRECTABLE = frozenset({nz.DUPLICATE_IN_FILE, nz.CONTROL_CHARACTER})


@dataclass(frozen=True)
class RejectedRow:
    """One row an import left out, as the 纠错 dialog and ``govshare corrections rejected`` show."""

    id: int
    batch_id: int
    dataset: str
    department: str
    file_name: str
    row: int
    column: str
    field: str | None
    reason_code: str
    message: str
    record_key: str | None
    name: str
    value: str | None
    cells: dict[str, str]
    correction_id: str | None

    @property
    def correctable(self) -> bool:
        return (
            self.field is not None
            and self.record_key is not None
            and self.reason_code not in NOT_CORRECTABLE
            and self.correction_id is None
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "batch": self.batch_id,
            "dataset": self.dataset,
            "department": self.department,
            "file": self.file_name,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "reason_code": self.reason_code,
            "message": self.message,
            "record_key": self.record_key,
            "name": self.name,
            "value": self.value,
            "correction": self.correction_id,
        }


def _key_column(dataset: str) -> str:
    return TARGETS[dataset].key[0]  # id_number, or household_no for households


def _view(row: ImportRejection, batch: Batch) -> RejectedRow:
    key_field = _key_column(batch.dataset)
    # The record key the request names: the ID number (or 户号) as read; when that very cell was
    # rejected, the file's text of it — the department finds the record by what it sent.
    key = row.household_no if key_field == "household_no" else row.id_number
    if key is None and row.field == key_field:
        key = row.value
    return RejectedRow(
        id=row.id,
        batch_id=batch.id,
        dataset=batch.dataset,
        department=batch.source_department,
        file_name=batch.file_name or "",
        row=row.row,
        column=row.column,
        field=contract_field(batch.dataset, row.field) if row.field else None,
        reason_code=row.reason_code,
        message=row.message,
        record_key=key,
        name=row.name or "",
        value=row.value,
        cells=json.loads(row.cells),
        correction_id=row.correction_id,
    )


def _key_label(dataset: str) -> str:
    return contract_field(dataset, _key_column(dataset))


def rejected_rows(session: Session, batch_id: int | None = None) -> list[RejectedRow]:
    """The rows imports left out, newest batch first (one batch's, when given)."""
    query = (
        select(ImportRejection, Batch)
        .join(Batch, Batch.id == ImportRejection.batch_id)
        .order_by(Batch.id.desc(), ImportRejection.row)
    )
    if batch_id is not None:
        query = query.where(ImportRejection.batch_id == batch_id)
    return [_view(row, batch) for row, batch in session.execute(query)]


def raise_from_rejection(
    store: Store, rejection_id: int, *, proposed: str, basis: str, now: datetime
) -> Correction:
    """A request (待发送) about a rejected row's field, to the department its file came from."""
    store.principal.require(Action.EDIT_FORMS)
    if not basis.strip():
        raise UserError("纠错须写明依据（例如：户口簿、身份证、死亡医学证明）")
    with store.transaction() as session:
        found = session.execute(
            select(ImportRejection, Batch)
            .join(Batch, Batch.id == ImportRejection.batch_id)
            .where(ImportRejection.id == rejection_id)
        ).first()
        if found is None:
            raise UserError(f"没有被拒导入行 {rejection_id}")
        rejection, batch = found
        view = _view(rejection, batch)
        where = f"“{view.file_name}”第 {view.row} 行"
        if view.correction_id is not None:
            raise UserError(f"{where}已提出过纠错（{view.correction_id}）")
        if view.field is None or view.reason_code in NOT_CORRECTABLE:
            raise UserError(f"{where}的问题（{view.message}）不是某个字段的值有误，无法纠错")
        if view.record_key is None:
            raise UserError(f"{where}读不出{_key_label(view.dataset)}，部门无法据此找到记录")
        current = view.value or ""
        if current == proposed.strip():
            raise UserError(f"建议值与文件中的值相同（{current}），不需要纠错")
        row = Correction(
            correction_id=str(uuid.uuid4()),
            dataset=view.dataset,
            record_key=view.record_key,
            name=view.name,
            field=view.field,
            current_value=current,
            proposed_value=proposed.strip(),
            basis=basis.strip(),
            found_by="import_rejection",
            department=view.department,
            raised_on=now.date(),
            state="draft",
            created_by=store.principal.username,
            created_at=now,
            changed_at=now,
        )
        session.add(row)
        rejection.correction_id = row.correction_id
        session.flush()
        audit_trail(store).record(
            session,
            store.principal,
            "correction",
            row.correction_id,
            detail={
                "dataset": view.dataset,
                "field": view.field,
                "department": view.department,
                "rejected_row": {"batch": view.batch_id, "row": view.row},
            },
            now=now,
        )
        return row


def brought(session: Session, row: Correction) -> int | None:
    """The batch after the rejected row's that brought its record with the proposed value (for a
    wrong key: a record under the proposed key), or None."""
    after_batch = session.scalar(
        select(ImportRejection.batch_id).where(ImportRejection.correction_id == row.correction_id)
    )
    if after_batch is None or row.dataset not in TARGETS:
        return None
    table = TARGETS[row.dataset].table
    key = table.c[_key_column(row.dataset)]
    if row.field == _key_label(row.dataset):
        query = select(table.c.batch_id).where(key == row.proposed_value)
    else:
        column = stored_of(row.dataset, row.field)
        if column is None or column not in table.c:
            return None
        query = select(table.c.batch_id, table.c[column]).where(key == row.record_key)
    query = query.where(table.c.batch_id > after_batch, table.c.absent_batch_id.is_(None))
    for found in session.execute(query.limit(50)):
        if len(found) == 1 or (found[1] is not None and str(found[1]) == row.proposed_value):
            return int(found[0])
    return None
