"""比对核查 as the clerk works it: the checks run after every import and on demand, the cases they
found, and the finding typed back for each — the same from ``govshare checks`` and the window."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from govshare_desktop.core.backflow.runner import FileResult
from govshare_desktop.core.checks.cases import STATES, RunResult, move_case, run_checks
from govshare_desktop.core.checks.definitions import Check, load_checks
from govshare_desktop.core.checks.facts import FACTS
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.export.check_sheet import CheckSheet, SheetRow, export_check_sheet
from govshare_desktop.core.reports.corrections import FIELDS, close_corrected
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.requests import close_received
from govshare_desktop.core.store.models import CheckCase, Household, Person
from govshare_desktop.core.store.township import get_township, villages


def checks() -> dict[str, Check]:
    """The shipped checks (a broken file is an installation fault: refused loudly)."""
    found, problems = load_checks()
    if problems:
        raise UserError("核查规则有误：" + "；".join(p.message for p in problems))
    return found


def run(ctx: Context) -> RunResult:
    """Every check, now (on demand; also after each import)."""
    return run_checks(ctx.store, checks(), today=ctx.now().date(), now=ctx.now())


def after_import(ctx: Context, outcomes: list[FileResult]) -> RunResult | None:
    """The checks, when an import changed data (not after a dry run or when nothing went in)."""
    changed = any(o.status in ("imported", "applied") for o in outcomes)
    if not changed:
        return None
    with ctx.store.transaction() as session:
        closed = close_corrected(session, now=ctx.now())
        received = close_received(session, now=ctx.now())
        for request in received:
            ctx.trail().record(
                session,
                ctx.principal,
                "share_request_received",
                request.request_id,
                detail={"batch": request.received_batch, "resource": request.resource_code},
                now=ctx.now(),
            )
        for row in closed:
            ctx.trail().record(
                session,
                ctx.principal,
                "correction_closed",
                row.correction_id,
                detail={"batch": row.corrected_batch, "field": row.field},
                now=ctx.now(),
            )
    result = run(ctx)
    result.corrected = [row.correction_id for row in closed]
    result.received = [request.request_id for request in received]
    return result


@dataclass(frozen=True)
class CaseView:
    """One case as the worklist shows it."""

    id: int
    check_id: str
    title: str
    severity: str
    subject: str
    name: str
    village_code: str | None
    state: str
    evidence: dict[str, Any]
    note: str | None
    action: str

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    def evidence_text(self) -> str:
        return "；".join(
            f"{FACTS[name].label}：{FACTS[name].show(value)}"
            for name, value in self.evidence.items()
            if name in FACTS
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.check_id,
            "title": self.title,
            "severity": self.severity,
            "subject": self.subject,
            "name": self.name,
            "village": self.village_code,
            "state": self.state,
            "state_label": self.state_label,
            "evidence": self.evidence,
            "note": self.note,
        }


def cases(
    ctx: Context,
    *,
    check_id: str | None = None,
    village: str | None = None,
    states: tuple[str, ...] | None = None,
) -> list[CaseView]:
    """The worklist: per check and per village, the open ones by default."""
    ctx.principal.require(Action.VIEW)
    known = checks()
    query = select(CheckCase).order_by(CheckCase.check_id, CheckCase.village_code, CheckCase.id)
    if check_id:
        query = query.where(CheckCase.check_id == check_id)
    if village:
        query = query.where(CheckCase.village_code == village)
    query = query.where(
        CheckCase.state.in_(states or ("open", "village_verified", "township_reviewed"))
    )
    with ctx.store.sessions() as session:
        rows = list(session.scalars(query))
    out = []
    for row in rows:
        check = known.get(row.check_id)
        out.append(
            CaseView(
                id=row.id,
                check_id=row.check_id,
                title=check.title if check else row.check_id,
                severity=check.severity if check else "warning",
                subject=row.subject,
                name=row.name,
                village_code=row.village_code,
                state=row.state,
                evidence=json.loads(row.evidence),
                note=row.note,
                action=check.action if check else "",
            )
        )
    return out


def set_case_state(ctx: Context, case_id: int, state: str, note: str = "") -> None:
    """The finding for one case: village_verified, township_reviewed, confirmed, false_alarm."""
    move_case(ctx.store, case_id, state, note=note, now=ctx.now())


def export_sheet(
    ctx: Context,
    check_id: str,
    out: Path,
    *,
    village: str | None = None,
    masked: bool = True,
    reason: str = "",
) -> ExportedFile:
    """The 核查表 of one check (in one village, or the whole township) to take door to door."""
    known = checks()
    check = known.get(check_id)
    if check is None:
        raise UserError(f"没有核查规则“{check_id}”（可用：{'、'.join(known)}）")
    township = get_township(ctx.store)
    assert township is not None
    with ctx.store.sessions() as session:
        names = {v.code: v.name for v in villages(session)}
    found = cases(ctx, check_id=check_id, village=village)
    sheet = CheckSheet(
        title=check.title,
        unit=township.name + (names.get(village, village) if village else ""),
        explanation=check.explanation,
        action=check.action,
        rows=[
            SheetRow(c.name, c.subject, names.get(c.village_code or "", ""), c.evidence_text())
            for c in found
        ],
        made_on=ctx.now().date(),
    )
    return export_check_sheet(ctx.store, sheet, out, masked=masked, reason=reason)


def correctable(ctx: Context, dataset: str, record_key: str) -> dict[str, str]:
    """The fields a 纠错 may name for one record (person: ID number; household: 户号), each with
    its current value as the request would state it — what the window's 纠错 dialog offers."""
    ctx.principal.require(Action.VIEW)
    fields = FIELDS.get(dataset)
    if fields is None:
        raise UserError(f"数据集“{dataset}”不能纠错（可纠错：{'、'.join(FIELDS)}）")
    with ctx.store.sessions() as session:
        record: Person | Household | None
        if dataset == "person":
            record = session.scalar(select(Person).where(Person.id_number == record_key))
        else:
            record = session.scalar(select(Household).where(Household.household_no == record_key))
        if record is None:
            raise UserError(f"本地没有记录“{record_key}”（{dataset}）")
        values = {field: getattr(record, attribute) for field, (_, attribute) in fields.items()}
    return {field: "" if value is None else str(value) for field, value in values.items()}
