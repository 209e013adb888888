"""Applying a verified package other than a back-flow (``report_task``, ``reply``, ``receipt``,
``calendar``, ``catalog``) in the import's transaction; what it changed comes back as sentences
for the import report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from govshare_desktop.core.exchange.package import VerifiedPackage
from govshare_desktop.core.reports.replies import apply_receipt, apply_replies
from govshare_desktop.core.reports.tasks import apply_report_task
from govshare_desktop.core.sharing.calendar import apply_calendar
from govshare_desktop.core.sharing.catalog import apply_catalog


def apply_loop_package(
    session: Session, package: VerifiedPackage, *, user: str, now: datetime
) -> list[str]:
    kind = package.manifest.kind
    if kind == "report_task":
        task, installed = apply_report_task(session, package, user=user, now=now)
        return [
            f"收到报表任务：{task.template_id}（{task.period}，{task.issuer_name}下发），"
            f"截止 {task.deadline:%Y-%m-%d}",
            *installed,
        ]
    if kind == "reply":
        return [done.said for done in apply_replies(session, package, now=now)]
    if kind == "receipt":
        return [apply_receipt(session, package, now=now)]
    if kind == "calendar":
        return apply_calendar(session, package, now=now)
    if kind == "catalog":
        return apply_catalog(session, package, now=now)
    raise ValueError(f"not a report-loop kind: {kind}")
