"""共享申请: asking for data the township lacks, and knowing when the answer is overdue.

A clerk drafts a request from a catalog entry (信息项 chosen from the entry's, 用途, 依据, 范围,
使用期限); a 不予共享 entry cannot be requested, and the refusal says why (the entry's basis). The
审核人 approves it; approved requests go up in one signed ``share_request`` package
(``data/share_requests.csv``) to the platform the catalog came from, each with its 答复期限: 1
working day for 无条件, 10 for 有条件 (条例; domain.md §1, §4), counted from the day it is sent.

A ``reply`` (针对 ``share_request``) grants it — naming in 生效批次 the back-flow package that will
bring the data, when it knows — or refuses it with the reason. The first back-flow that brings the
data closes a granted request as 已收到: the named package, or else the first batch after the grant
of a dataset the resource is linked to. Unanswered past its deadline a request is 超期, with the
working days, and a 催办函 can be printed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain.workdays import WorkCalendar
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.outbox import Outgoing, file_entry, make_package
from govshare_desktop.core.exchange.package import Party
from govshare_desktop.core.reports import content
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.sharing.catalog import split_items
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    Batch,
    CatalogLink,
    CatalogResource,
    OutboxPackage,
    PackageReceipt,
    ShareRequest,
    TrustedSender,
)

REPLY_DAYS = {"无条件": 1, "有条件": 10}
HEADER = (
    "申请编号", "资源代码", "资源名称", "信息项", "用途", "依据", "范围", "使用期限", "提出日期",
    "答复期限",
)  # fmt: skip
STATES = {
    "draft": "待审核",
    "approved": "待发送",
    "sent": "已发送",
    "granted": "已同意",
    "refused": "不同意",
    "received": "已收到",
}


def draft_request(
    store: Store,
    *,
    resource_code: str,
    items: list[str],
    purpose: str,
    basis: str,
    scope: str,
    use_until: date,
    now: datetime,
) -> ShareRequest:
    """A request (待审核) for some of a catalog entry's 信息项."""
    store.principal.require(Action.EDIT_FORMS)
    with store.transaction() as session:
        entry = session.get(CatalogResource, resource_code)
        if entry is None:
            raise UserError(f"目录中没有资源“{resource_code}”（请先导入县级下发的目录）")
        if entry.share_type == "不予":
            raise UserError(
                f"“{entry.name}”为不予共享资源，不能申请：{entry.condition or '提供方未说明依据'}"
            )
        offered = split_items(entry.items)
        wanted = [item.strip() for item in items if item.strip()]
        if not wanted:
            raise UserError(f"请选择要申请的信息项（可选：{'、'.join(offered)}）")
        unknown = [item for item in wanted if item not in offered]
        if unknown:
            raise UserError(
                f"“{entry.name}”没有信息项 {'、'.join(unknown)}（可选：{'、'.join(offered)}）"
            )
        for label, value in (("用途", purpose), ("依据", basis), ("范围", scope)):
            if not value.strip():
                raise UserError(f"共享申请须写明{label}")
        if use_until <= now.date():
            raise UserError(f"使用期限 {use_until} 已过，应为今天以后的日期")
        row = ShareRequest(
            request_id=str(uuid.uuid4()),
            resource_code=entry.code,
            resource_name=entry.name,
            provider=entry.provider,
            provider_code=entry.provider_code,
            share_type=entry.share_type,
            items="、".join(dict.fromkeys(wanted)),
            purpose=purpose.strip(),
            basis=basis.strip(),
            scope=scope.strip(),
            use_until=use_until,
            state="draft",
            created_by=store.principal.username,
            created_at=now,
            changed_at=now,
        )
        session.add(row)
        session.flush()
        _audit(store, session, row, "share_request", now)
        return row


def approve_request(store: Store, request_id: str, *, now: datetime) -> ShareRequest:
    """The 审核人's approval: the request may go up."""
    store.principal.require(Action.REVIEW_FORM)
    with store.transaction() as session:
        row = _get(session, request_id)
        if row.state != "draft":
            raise UserError(f"共享申请当前为“{STATES[row.state]}”，不需要审核")
        row.state, row.approved_by, row.approved_at = "approved", store.principal.username, now
        row.changed_at = now
        _audit(store, session, row, "share_request_approved", now)
        return row


def _get(session: Session, request_id: str) -> ShareRequest:
    row = session.get(ShareRequest, request_id)
    if row is None:
        raise UserError(f"没有共享申请 {request_id}")
    return row


def _audit(store: Store, session: Session, row: ShareRequest, action: str, now: datetime) -> None:
    audit_trail(store).record(
        session,
        store.principal,
        action,
        row.request_id,
        detail={"resource": row.resource_code, "items": row.items, "state": row.state},
        now=now,
    )


def _platform(session: Session, row: ShareRequest) -> Party:
    """Where requests go: the platform whose catalog offered the resource."""
    entry = session.get(CatalogResource, row.resource_code)
    receipt = session.get(PackageReceipt, entry.package_id) if entry is not None else None
    if receipt is None:
        raise UserError(f"“{row.resource_name}”已不在目录中，共享申请无法发送")
    known = session.get(TrustedSender, receipt.sender_code)
    return Party(receipt.sender_code, known.name if known else receipt.sender_code)


def send_requests(store: Store, *, now: datetime, calendar: WorkCalendar) -> list[OutboxPackage]:
    """Every approved request, in one signed package per platform, in one transaction."""
    store.principal.require(Action.SUBMIT_FORM)
    made = []
    with store.transaction() as session:
        waiting = list(
            session.scalars(
                select(ShareRequest)
                .where(ShareRequest.state == "approved")
                .order_by(ShareRequest.created_at)
            )
        )
        by_platform: dict[Party, list[ShareRequest]] = {}
        for row in waiting:
            by_platform.setdefault(_platform(session, row), []).append(row)
        for platform, rows in by_platform.items():
            for row in rows:
                row.sent_on = now.date()
                row.deadline = calendar.deadline(now.date(), REPLY_DAYS[row.share_type])
            package = make_package(
                store,
                session,
                Outgoing(
                    kind="share_request",
                    recipient=platform,
                    subject=f"共享申请 {len(rows)} 项",
                    files={"data/share_requests.csv": content.write_rows(HEADER, _csv(rows))},
                    entries={
                        "data/share_requests.csv": {
                            **file_entry("share_requests", "csv"),
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


def _csv(rows: list[ShareRequest]) -> list[tuple[str, ...]]:
    return [
        (
            row.request_id,
            row.resource_code,
            row.resource_name,
            row.items,
            row.purpose,
            row.basis,
            row.scope,
            row.use_until.isoformat(),
            (row.sent_on or row.created_at.date()).isoformat(),
            row.deadline.isoformat() if row.deadline else "",
        )
        for row in rows
    ]


def answer(
    session: Session,
    request_id: str,
    result: str,
    note: str,
    *,
    sender: str,
    batch: str | None,
    replied_on: date,
) -> str:
    """A reply: granted (with the package to expect, if named) or refused (with the reason)."""
    row = session.get(ShareRequest, request_id)
    sent = session.get(OutboxPackage, row.package_id) if row and row.package_id else None
    if row is None or sent is None or sent.recipient_code != sender:
        raise UserError(f"答复的共享申请 {request_id} 不是本单位发给该平台的（从未发出）")
    if row.state not in ("sent", "granted", "refused"):
        raise UserError(f"共享申请 {request_id} 已收到数据，答复不再适用")
    if result == "refused" and not note:
        raise UserError("不同意共享须说明理由（条例：拒绝应当说明理由）")
    row.state, row.answer, row.answered_on = result, note or None, replied_on
    row.expected_package = batch or None
    if result == "granted":
        expect = f"，数据将随数据包 {batch} 回流" if batch else ""
        return f"共享申请“{row.resource_name}”：已同意{expect}"
    return f"共享申请“{row.resource_name}”：不同意，理由：{note}"


def close_received(session: Session, *, now: datetime) -> list[ShareRequest]:
    """Granted requests whose data has come: the named package's batch, or the first batch after
    the grant of a dataset the resource is linked to (which the named package links too)."""
    closed = []
    for row in session.scalars(select(ShareRequest).where(ShareRequest.state == "granted")):
        batch = None
        if row.expected_package:
            batch = session.scalar(
                select(Batch).where(Batch.package_id == row.expected_package).order_by(Batch.id)
            )
            if batch is not None:
                for dataset in session.scalars(
                    select(Batch.dataset).where(Batch.package_id == row.expected_package)
                ):
                    if session.get(CatalogLink, (row.resource_code, dataset)) is None:
                        session.add(
                            CatalogLink(
                                resource_code=row.resource_code, dataset=dataset, how="request"
                            )
                        )
        else:
            datasets = select(CatalogLink.dataset).where(
                CatalogLink.resource_code == row.resource_code
            )
            since = datetime.combine(row.answered_on or row.changed_at.date(), datetime.min.time())
            batch = session.scalar(
                select(Batch)
                .where(Batch.dataset.in_(datasets), Batch.imported_at >= since)
                .order_by(Batch.id)
            )
        if batch is not None:
            row.state, row.received_batch, row.changed_at = "received", batch.id, now
            closed.append(row)
    session.flush()
    return closed


@dataclass(frozen=True)
class RequestView:
    request_id: str
    resource_code: str
    resource_name: str
    provider: str
    share_type: str
    items: str
    purpose: str
    basis: str
    scope: str
    use_until: date
    state: str
    created_by: str
    approved_by: str | None
    sent_on: date | None
    deadline: date | None
    workdays_left: int | None
    answer: str | None
    received_batch: int | None

    @property
    def overdue(self) -> bool:
        return self.state == "sent" and self.workdays_left is not None and self.workdays_left < 0

    @property
    def state_label(self) -> str:
        if self.overdue:
            return f"超期（{-(self.workdays_left or 0)} 个工作日）"
        return STATES.get(self.state, self.state)


def share_requests(session: Session, today: date, calendar: WorkCalendar) -> list[RequestView]:
    rows = session.scalars(select(ShareRequest).order_by(ShareRequest.created_at.desc()))
    return [
        RequestView(
            row.request_id,
            row.resource_code,
            row.resource_name,
            row.provider,
            row.share_type,
            row.items,
            row.purpose,
            row.basis,
            row.scope,
            row.use_until,
            row.state,
            row.created_by,
            row.approved_by,
            row.sent_on,
            row.deadline,
            calendar.workdays_left(today, row.deadline) if row.deadline else None,
            row.answer,
            row.received_batch,
        )
        for row in rows
    ]
