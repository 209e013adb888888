"""Answers coming down: ``reply`` packages (to reports; corrections and share requests follow) and
``receipt`` packages for what the township sent.

A reply to a report the township never sent, or a reply whose 答复编号 was already received (a
replay in a new package), refuses the whole package: nothing changes. ``accepted`` marks the form
已接收; ``returned`` unlocks it with the county's reason, shown to the clerk and kept in the form's
status and the audit trail; the clerk corrects it and 上报 again, which makes a new package that
names the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import VerifiedPackage
from govshare_desktop.core.reports import content
from govshare_desktop.core.reports.corrections import answer
from govshare_desktop.core.sharing.requests import answer as share_answer
from govshare_desktop.core.store.models import FormStatus, OutboxPackage, Reply

REPLIES_FILE = "data/replies.csv"
RECEIPT_FILE = "data/receipt.json"
REPLY_HEADER = ("答复编号", "针对", "编号", "结果", "说明", "答复日期", "生效批次")
RESULTS = {
    "report": ("accepted", "returned"),
    "correction": ("accepted", "rejected"),
    "share_request": ("granted", "refused"),
}
RECEIPT_STATUSES = ("applied", "already_received", "refused")


@dataclass(frozen=True)
class ReplyDone:
    """What one reply changed, in a sentence for the import report."""

    reply_id: str
    target_kind: str
    target_id: str
    result: str
    said: str


def apply_replies(session: Session, package: VerifiedPackage, *, now: datetime) -> list[ReplyDone]:
    """Every row of ``data/replies.csv``; all or none (the caller's transaction)."""
    if REPLIES_FILE not in {entry.path for entry in package.manifest.files}:
        content.refuse("答复数据包中没有 data/replies.csv。")
    rows = content.read_rows(package.read(REPLIES_FILE), "replies.csv", REPLY_HEADER)
    done = []
    seen: set[str] = set()
    for line, row in rows:
        where = f"replies.csv 第 {line} 行"
        reply_id = row["答复编号"]
        if not reply_id:
            content.refuse(f"{where}没有答复编号。")
        if reply_id in seen or session.get(Reply, reply_id) is not None:
            content.refuse(f"{where}的答复编号 {reply_id} 已经收到过（重复的答复），本包不予导入。")
        seen.add(reply_id)
        target_kind, result = row["针对"], row["结果"]
        if target_kind not in RESULTS:
            content.refuse(
                f"{where}的“针对”为“{target_kind}”，应为 report、correction 或 share_request。"
            )
        if result not in RESULTS[target_kind]:
            allowed = " 或 ".join(RESULTS[target_kind])
            content.refuse(f"{where}的结果“{result}”不适用于 {target_kind}（应为 {allowed}）。")
        replied_on = content.day(row["答复日期"], f"{where}的答复日期")
        if target_kind == "report":
            said = _answer_report(session, package, row, where, now)
        elif target_kind == "correction":
            try:
                said = answer(
                    session, row["编号"], result, row["说明"], package.manifest.sender.code
                )
            except UserError as exc:
                content.refuse(f"{where}{exc.message}")
        else:
            try:
                said = share_answer(
                    session,
                    row["编号"],
                    result,
                    row["说明"],
                    sender=package.manifest.sender.code,
                    batch=row["生效批次"] or None,
                    replied_on=replied_on,
                )
            except UserError as exc:
                content.refuse(f"{where}{exc.message}")
        session.add(
            Reply(
                reply_id=reply_id,
                target_kind=target_kind,
                target_id=row["编号"],
                result=result,
                note=row["说明"],
                replied_on=replied_on,
                batch=row["生效批次"] or None,
                package_id=package.manifest.package_id,
                received_at=now,
            )
        )
        done.append(ReplyDone(reply_id, target_kind, row["编号"], result, said))
    session.flush()
    return done


def _answer_report(
    session: Session, package: VerifiedPackage, row: dict[str, str], where: str, now: datetime
) -> str:
    sent = session.get(OutboxPackage, row["编号"])
    sender = package.manifest.sender
    if sent is None or sent.kind != "report" or sent.recipient_code != sender.code:
        content.refuse(
            f"{where}答复的报表数据包 {row['编号']} 不是本单位发给 {sender.name} 的（从未发出）。"
        )
    status = session.scalar(select(FormStatus).where(FormStatus.report_package == sent.package_id))
    if status is None or status.status not in ("submitted", "accepted", "returned"):
        content.refuse(f"{where}答复的报表 {row['编号']} 已被更新的上报取代，答复不再适用。")
    result, note = row["结果"], row["说明"]
    if result == "returned":
        if not note:
            content.refuse(f"{where}退回报表没有写明理由（说明）。")
        status.status, status.reason = "returned", f"{sender.name}退回：{note}"
        said = f"{sent.subject}：被{sender.name}退回，理由：{note}"
    else:
        status.status, status.reason = "accepted", None
        said = f"{sent.subject}：{sender.name}已接收"
    status.changed_by, status.changed_at = sender.name[:64], now
    return said


def apply_receipt(session: Session, package: VerifiedPackage, *, now: datetime) -> str:
    """``data/receipt.json``: the recipient's word on a package the township sent."""
    if RECEIPT_FILE not in {entry.path for entry in package.manifest.files}:
        content.refuse("回执数据包中没有 data/receipt.json。")
    name = "receipt.json"
    document = content.load_object(package.read(RECEIPT_FILE), name)
    package_id = content.text(document, "package_id", name)
    status = content.text(document, "status", name)
    if status not in RECEIPT_STATUSES:
        content.refuse(f"{name} 的 status“{status}”应为 {' / '.join(RECEIPT_STATUSES)} 之一。")
    reason = document.get("reason_code")
    if reason is not None and not isinstance(reason, str):
        content.refuse(f"{name} 的 reason_code 应为文本或 null。")
    sent = session.get(OutboxPackage, package_id)
    sender = package.manifest.sender
    if sent is None or sent.recipient_code != sender.code:
        content.refuse(f"{name} 回执的数据包 {package_id} 不是本单位发给 {sender.name} 的。")
    sequence = document.get("sequence")
    if sequence != sent.sequence:
        content.refuse(f"{name} 的 sequence {sequence} 与本单位发出的第 {sent.sequence} 号不符。")
    received = content.moment(content.text(document, "received_at", name), f"{name} 的 received_at")
    sent.receipt_status, sent.receipt_reason, sent.receipt_at = status, reason, received
    label = {"applied": "已接收", "already_received": "已接收（重复）", "refused": "拒收"}[status]
    more = f"（{reason}）" if reason else ""
    return f"{sender.name}回执：{sent.subject} {label}{more}"
