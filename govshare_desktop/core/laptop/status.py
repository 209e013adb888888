"""Which villages are out on laptops (the office), what this database is (a laptop), and
cancelling a check-out whose laptop will not come back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.laptop.scope import village_name
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import LaptopCheckout, LaptopOrigin
from govshare_desktop.core.store.models_laptop import CANCELLED, IN, OUT

STATES = {OUT: "已检出", IN: "已检入", CANCELLED: "已作废"}


@dataclass(frozen=True)
class Checkout:
    """One check-out as the office lists it."""

    checkout_id: str
    village: str
    village_name: str
    period: str | None
    forms: list[str]
    state: str  # out | in | cancelled
    file_name: str
    laptop: str
    values: int
    checked_out_by: str
    checked_out_at: datetime
    ended_by: str | None
    ended_at: datetime | None

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    def describe(self) -> str:
        scope = (self.period or "各统计期") + (
            f"，报表 {'、'.join(self.forms)}" if self.forms else ""
        )
        text = (
            f"{self.village_name}（{self.village}） {self.state_label}：{self.checked_out_by} 于 "
            f"{self.checked_out_at:%Y-%m-%d %H:%M} 检出（{scope}，{self.values} 个值）"
            f"到 {self.file_name}" + (f"，笔记本 {self.laptop}" if self.laptop else "")
        )
        if self.ended_at is not None:
            verb = "检入" if self.state == IN else "作废"
            text += f"；{self.ended_by} 于 {self.ended_at:%Y-%m-%d %H:%M} {verb}"
        return text


def checkouts(store: Store, *, ended: bool = False) -> list[Checkout]:
    """The villages out on laptops now (``ended``: the check-outs checked in or cancelled too),
    newest first."""
    store.principal.require(Action.VIEW)
    query = select(LaptopCheckout).order_by(LaptopCheckout.checked_out_at.desc())
    if not ended:
        query = query.where(LaptopCheckout.state == OUT)
    with store.sessions() as session:
        return [_listed(session, row) for row in session.scalars(query)]


def _listed(session: Session, row: LaptopCheckout) -> Checkout:
    return Checkout(
        row.checkout_id,
        row.village_code,
        village_name(session, row.village_code),
        row.period,
        json.loads(row.forms or "[]"),
        row.state,
        row.file_name,
        row.laptop,
        row.value_count,
        row.checked_out_by,
        row.checked_out_at,
        row.ended_by,
        row.ended_at,
    )


def origin(store: Store) -> LaptopOrigin | None:
    """What this database is a check-out of, if it is a laptop's (else None)."""
    with store.sessions() as session:
        return session.scalar(select(LaptopOrigin))


def describe_origin(found: LaptopOrigin) -> str:
    """The laptop's database in a sentence (its status bar, ``govshare laptop status``)."""
    scope = found.period or "各统计期"
    text = (
        f"本数据库是笔记本检出：{found.township_name}{found.village_name}（{found.village_code}，"
        f"{scope}），{found.checked_out_by} 于 {found.checked_out_at:%Y-%m-%d %H:%M} 检出自 "
        f"{found.office}。只含该村（社区）的数据；录入的一表通数据回到办公室后检入。"
    )
    if found.checked_in_at is not None:
        text += (
            f"已于 {found.checked_in_at:%Y-%m-%d %H:%M} 由 {found.checked_in_by} 检入，"
            "此后在这里录入的数据不会再检入。"
        )
    return text


def cancel(store: Store, village: str, reason: str, *, now: datetime) -> Checkout:
    """The check-out of ``village`` given up (its laptop lost or broken): the village may be
    checked out again, and that laptop's file can no longer be checked in. Audited, with
    ``reason``."""
    principal = store.principal
    principal.require(Action.EDIT_FORMS)
    if not reason.strip():
        raise UserError("作废检出须说明原因（如：笔记本丢失）")
    with store.transaction() as session:
        row = session.scalar(
            select(LaptopCheckout)
            .where(LaptopCheckout.village_code == village, LaptopCheckout.state == OUT)
            .with_for_update()
        )
        if row is None:
            raise UserError(f"村（社区）{village} 没有检出到笔记本，无需作废")
        row.state, row.ended_by, row.ended_at = CANCELLED, principal.username, now
        row.result = json.dumps({"reason": reason.strip()}, ensure_ascii=False)
        audit_trail(store).record(
            session,
            principal,
            "laptop_cancel",
            village,
            detail={"checkout": row.checkout_id, "reason": reason.strip(), "file": row.file_name},
            now=now,
        )
        return _listed(session, row)
