"""Running the checks and keeping their cases.

Each hit is a case for one person and check, with its evidence — the facts the condition read, and
the batches behind them — and a state the township moves it through:

    待核实 (open) → 村已核实 (village_verified) / 镇已审核 (township_reviewed)
                 → 确认有误 (confirmed: → 校核纠错) or 误报 (false_alarm, with a reason)

A run after every import (and on demand) adds new hits as 待核实. A hit already a case keeps its
state while its evidence is the same; a case closed (确认有误, 误报) is not reopened by the same
evidence, and is reopened — back to 待核实, saying so — when the evidence changes. A case whose
person no longer matches becomes 已消除 (gone) if it was still open; closed cases stay as they
were. Every change is a :class:`CaseEvent`; the run is one transaction and one audit entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.checks.definitions import Check
from govshare_desktop.core.checks.facts import FACTS, FactQuery
from govshare_desktop.core.checks.sql import to_sql
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Batch, CheckCase, CheckCaseEvent

STATES = {
    "open": "待核实",
    "village_verified": "村已核实",
    "township_reviewed": "镇已审核",
    "confirmed": "确认有误",
    "false_alarm": "误报",
    "gone": "已消除",
}
OPEN_STATES = ("open", "village_verified", "township_reviewed")
CLOSED_STATES = ("confirmed", "false_alarm")
MOVES = {
    "open": ("village_verified", "township_reviewed", "confirmed", "false_alarm"),
    "village_verified": ("township_reviewed", "confirmed", "false_alarm"),
    "township_reviewed": ("confirmed", "false_alarm"),
}


@dataclass(frozen=True)
class Hit:
    subject: str
    name: str
    village_code: str | None
    evidence: dict[str, Any]
    batches: list[int]

    @property
    def evidence_text(self) -> str:
        return json.dumps(self.evidence, ensure_ascii=False, sort_keys=True, default=str)

    @property
    def evidence_key(self) -> str:
        return hashlib.sha256(self.evidence_text.encode("utf-8")).hexdigest()


@dataclass
class CheckOutcome:
    check: Check
    hits: int = 0
    new: int = 0
    reopened: int = 0
    gone: int = 0
    skipped: str | None = None  # why the check did not run (a dataset not imported yet)


@dataclass
class RunResult:
    outcomes: list[CheckOutcome] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)  # 纠错 the back-flow has now fixed
    received: list[str] = field(default_factory=list)  # 共享申请 whose data has now come

    def summary(self) -> str:
        ran = [o for o in self.outcomes if o.skipped is None]
        new = sum(o.new + o.reopened for o in ran)
        text = f"比对核查：运行 {len(ran)} 项，命中 {sum(o.hits for o in ran)} 人次，新增待核实 {new} 件"
        skipped = [o for o in self.outcomes if o.skipped]
        if skipped:
            text += f"；{len(skipped)} 项因数据未导入未运行"
        if self.corrected:
            text += f"；{len(self.corrected)} 条纠错已由回流数据更正"
        if self.received:
            text += f"；{len(self.received)} 项共享申请的数据已收到"
        return text


def find_hits(session: Session, check: Check, today: date) -> list[Hit]:
    """The people the check's condition holds for: one query."""
    query = FactQuery(today)
    columns = {name: FACTS[name].column(query) for name in check.facts}
    statement = query.select(
        [column.label(name) for name, column in columns.items()] + query.batches()
    ).where(to_sql(check.condition, columns))
    hits = []
    width = 4 + len(columns)
    for row in session.execute(statement):
        values = dict(zip(columns, row[4:width], strict=True))
        batches = sorted({b for b in (row[3], *row[width:]) if b is not None})
        hits.append(Hit(row[0], row[1], row[2], values, batches))
    return hits


def _imported(session: Session) -> set[str]:
    return set(session.scalars(select(Batch.dataset).distinct()))


def run_checks(
    store: Store, checks: Mapping[str, Check], *, today: date, now: datetime
) -> RunResult:
    """Every check, in one transaction; its cases updated as the module docstring says."""
    store.principal.require(Action.IMPORT)
    result = RunResult()
    user = store.principal.username
    with store.transaction() as session:
        imported = _imported(session)
        for check in checks.values():
            outcome = CheckOutcome(check)
            result.outcomes.append(outcome)
            missing = [d for d in check.datasets if d not in imported]
            if missing:
                outcome.skipped = f"尚未导入数据集 {'、'.join(missing)}"
                continue
            hits = find_hits(session, check, today)
            outcome.hits = len(hits)
            _merge(session, check, hits, outcome, user, now)
        audit_trail(store).record(
            session,
            store.principal,
            "check_run",
            "",
            detail={
                o.check.id: {"hits": o.hits, "new": o.new, "reopened": o.reopened, "gone": o.gone}
                if o.skipped is None
                else {"skipped": o.skipped}
                for o in result.outcomes
            },
            now=now,
        )
    return result


def _merge(
    session: Session,
    check: Check,
    hits: list[Hit],
    outcome: CheckOutcome,
    user: str,
    now: datetime,
) -> None:
    cases = {
        c.subject: c
        for c in session.scalars(select(CheckCase).where(CheckCase.check_id == check.id))
    }
    found: list[CheckCase] = []
    for hit in hits:
        case = cases.pop(hit.subject, None)
        if case is None:
            case = CheckCase(
                check_id=check.id, subject=hit.subject, state="open", first_found_at=now
            )
            _fill(case, hit, user, now)
            found.append(case)
            continue
        changed = case.evidence_key != hit.evidence_key
        if case.state in (*CLOSED_STATES, "gone") and (changed or case.state == "gone"):
            before = case.state
            _fill(case, hit, user, now)
            case.state = "open"
            _event(session, case, before, "open", "出现新的证据，重新待核实", user, now)
            outcome.reopened += 1
        else:
            case.last_found_at = now
            case.name, case.village_code = hit.name, hit.village_code
            case.batches = json.dumps(hit.batches)
    if found:  # one flush for all (the ids come back in one batch), then their events
        session.add_all(found)
        session.flush()
        for case in found:
            _event(session, case, None, "open", "比对核查发现", user, now)
        outcome.new += len(found)
    for case in cases.values():  # no longer hit
        if case.state in OPEN_STATES:
            before = case.state
            case.state, case.changed_by, case.changed_at = "gone", user, now
            _event(session, case, before, "gone", "数据已不再符合核查条件", user, now)
            outcome.gone += 1


def _fill(case: CheckCase, hit: Hit, user: str, now: datetime) -> None:
    case.name, case.village_code = hit.name, hit.village_code
    case.evidence, case.evidence_key = hit.evidence_text, hit.evidence_key
    case.batches = json.dumps(hit.batches)
    case.last_found_at = now
    case.changed_by, case.changed_at = user, now


def _event(
    session: Session,
    case: CheckCase,
    before: str | None,
    after: str,
    note: str | None,
    user: str,
    now: datetime,
) -> None:
    session.add(
        CheckCaseEvent(
            case_id=case.id, from_state=before, to_state=after, note=note, by=user, at=now
        )
    )


def move_case(
    store: Store, case_id: int, to_state: str, *, note: str = "", now: datetime
) -> CheckCase:
    """A clerk's finding: 村已核实, 镇已审核, 确认有误 or 误报 (which needs its reason)."""
    store.principal.require(Action.EDIT_FORMS)
    with store.transaction() as session:
        return move_in(store, session, case_id, to_state, note=note, now=now)


def move_in(
    store: Store, session: Session, case_id: int, to_state: str, *, note: str, now: datetime
) -> CheckCase:
    """:func:`move_case` inside the caller's transaction (a correction raised from a case
    confirms it in the same unit of work)."""
    case = session.get(CheckCase, case_id)
    if case is None:
        raise UserError(f"没有核查事项 {case_id}")
    allowed = MOVES.get(case.state, ())
    if to_state not in allowed:
        raise UserError(
            f"核查事项当前为“{STATES[case.state]}”，不能改为“{STATES.get(to_state, to_state)}”"
        )
    if to_state == "false_alarm" and not note.strip():
        raise UserError("标为误报须写明理由（例如：本人已在外地参保，有证明）")
    before = case.state
    case.state, case.note = to_state, note.strip() or case.note
    case.changed_by, case.changed_at = store.principal.username, now
    _event(session, case, before, to_state, note.strip() or None, store.principal.username, now)
    audit_trail(store).record(
        session,
        store.principal,
        "check_case",
        f"{case.check_id} {case.id}",
        detail={"from": before, "to": to_state, "note": note.strip() or None},
        now=now,
    )
    return case


def case_counts(session: Session) -> dict[str, dict[str, int]]:
    """{check id: {state: count}}."""
    out: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(CheckCase.check_id, CheckCase.state, func.count()).group_by(
            CheckCase.check_id, CheckCase.state
        )
    )
    for check_id, state, count in rows:
        out.setdefault(check_id, {})[state] = count
    return out
