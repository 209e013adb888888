"""Reports going up: 上报 makes a signed ``report`` package — ``report.json``, ``values.csv`` with
exactly the rows the form uses (合计 included) and ``form.pdf`` as printed — addressed to the task's
issuer or, without a task, to the department the template names (its code set by the 系统管理员).

A template may require a township-level review first (set per template by the 系统管理员): 上报 then
puts the form 待审核 and the 审核人's approval makes the package. The form's status change and its
package commit together or not at all. A form the county returned is corrected and sent again: a
new package, with a new sequence, whose ``report.json`` names the one it replaces.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.outbox import Outgoing, file_entry, make_package
from govshare_desktop.core.exchange.package import Party
from govshare_desktop.core.export.pdf import write_pdf
from govshare_desktop.core.forms.sheet import build_sheet
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.forms.values_form import FormData
from govshare_desktop.core.forms.values_text import COMPUTED, DERIVED, stored_text
from govshare_desktop.core.reports import content
from govshare_desktop.core.reports.tasks import task_for
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.models import Account, FormStatus, OutboxPackage, TrustedSender
from govshare_desktop.core.store.township import get_setting, set_setting

REVIEW_KEY = "report_review:"  # + template id → "1" when a 审核人 must approve before 上报
RECIPIENT_KEY = "report_recipient:"  # + department name → its 12-digit code
VALUES_HEADER = ("数据项代码", "对象", "统计期", "值", "来源", "说明")
LOCKED = ("review", "submitted", "accepted")  # values may not change in these states
ROLE_NAMES = {"clerk": "经办人", "reviewer": "审核人"}


@dataclass(frozen=True)
class Sent:
    """What 上报 did: the form's new status and, once it went up, its package."""

    status: str  # review | submitted
    package: OutboxPackage | None

    def summary(self, title: str) -> str:
        if self.package is None:
            return f"“{title}”已提交审核，审核人通过后生成上报数据包"
        return (
            f"“{title}”已上报：数据包 {self.package.file_name}（发往 {self.package.recipient_name}，"
            f"第 {self.package.sequence} 号）已生成，请写入 U 盘或共享文件夹报送"
        )


# ---------------------------------------------------------------- settings (系统管理员)


def review_required(session: Session, template_id: str) -> bool:
    return get_setting(session, REVIEW_KEY + template_id) == "1"


def set_review_required(session: Session, template_id: str, required: bool) -> None:
    set_setting(session, REVIEW_KEY + template_id, "1" if required else "0")


def set_report_recipient(session: Session, department: str, code: str) -> None:
    if len(code) != 12 or not code.isdigit():
        raise UserError(f"单位代码“{code}”应为 12 位统计用区划代码")
    set_setting(session, RECIPIENT_KEY + department, code)


def recipient_for(
    session: Session, template_id: str, department: str, area: str, period: Period
) -> tuple[Party, str | None]:
    """Who the report goes to, and the task it answers: the task's issuer, else the template's
    department with the code the 系统管理员 set (or that of a registered sender of that name)."""
    task = task_for(session, template_id, area, str(period))
    if task is not None:
        return Party(task.issuer_code, task.issuer_name), task.task_id
    code = get_setting(session, RECIPIENT_KEY + department)
    if code is None:
        registered = session.scalar(select(TrustedSender).where(TrustedSender.name == department))
        code = registered.code if registered is not None else None
    if code is not None:  # named as registered, where the county's key is
        known = session.get(TrustedSender, code)
        return Party(code, known.name if known is not None else department), None
    raise UserError(
        f"没有“{department}”的单位代码，无法上报：这张表没有县里下发的任务，"
        "请系统管理员先设置该部门的上报单位代码（govshare report recipient）"
    )


# ---------------------------------------------------------------- the package's files


def values_rows(data: FormData) -> list[tuple[str, str, str, str, str, str]]:
    """One row per (element, subject) of the form, 合计 included, in the form's order."""
    rows = []
    period = str(data.period)
    for code in data.template.elements:
        element = data.dictionary[code]
        for subject, _ in data.subjects:
            value = data.value(code, subject)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = Decimal(str(value))
            origin = data.origin(code, subject)
            stored = data.row(code, subject)
            rows.append(
                (
                    code,
                    subject,
                    period,
                    (stored.value if stored is not None else stored_text(element, value)) or "",
                    COMPUTED if origin in (None, DERIVED) else origin,
                    (stored.reason or "") if stored is not None else "",
                )
            )
    return rows


def render_pdf(data: FormData, *, author: str) -> bytes:
    """The form as printed (unmasked: the county receives the real report)."""
    with tempfile.TemporaryDirectory(prefix="govshare-report-") as folder:
        path = Path(folder) / "form.pdf"
        write_pdf([build_sheet(data, masked=False)], path, author=author)
        return path.read_bytes()


def _person(session: Session, username: str | None, role: str) -> dict[str, str] | None:
    if username is None:
        return None
    account = session.get(Account, username)
    return {"role": role, "name": account.display_name if account else username}


def report_outgoing(
    session: Session,
    data: FormData,
    pdf: bytes,
    status: FormStatus,
    recipient: Party,
    task_id: str | None,
    *,
    now: datetime,
) -> Outgoing:
    rows = values_rows(data)
    template = data.template
    document: dict[str, Any] = {
        "task_id": task_id,
        "template_id": template.id,
        "template_version": template.version or "builtin",
        "period": str(data.period),
        "area": data.area,
        "submitted_at": now.astimezone().isoformat(timespec="seconds"),
        "submitted_by": _person(session, status.submitted_by, "经办人"),
        "reviewed_by": _person(session, status.reviewed_by, "审核人"),
        "values": len(rows),
    }
    if status.report_package:  # a resubmission names the report it replaces
        document["replaces"] = status.report_package
    files = {
        "data/report.json": json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"),
        "data/values.csv": content.write_rows(VALUES_HEADER, rows),
        "data/form.pdf": pdf,
    }
    entries = {
        "data/report.json": file_entry("report", "json"),
        "data/values.csv": {**file_entry("values", "csv"), "rows": len(rows)},
        "data/form.pdf": file_entry("form", "pdf"),
    }
    return Outgoing(
        kind="report",
        recipient=recipient,
        subject=f"{template.title}（{data.period}，{data.unit}）",
        files=files,
        entries=entries,
        refers_to=task_id,
        replaces=status.report_package,
    )


# ---------------------------------------------------------------- 上报 and 审核


def submit_report(
    pool: FormValues, template_id: str, area: str, period: Period, *, now: datetime
) -> Sent:
    """上报: checked like any submission; 待审核 if the template wants a review, else the
    package is made at once."""
    store = pool.store
    store.principal.require(Action.SUBMIT_FORM)
    data = pool.submittable(template_id, area, period)
    with store.sessions() as session:
        needs_review = review_required(session, template_id)
    pdf = None if needs_review else render_pdf(data, author=store.principal.username)
    with store.transaction() as session:
        status = _status(
            session,
            template_id,
            area,
            period,
            allowed=("draft", "returned", None),
            username=store.principal.username,
            now=now,
        )
        status.submitted_by, status.reviewed_by = store.principal.username, None
        status.template_version = status.template_version or data.template.version
        if needs_review:
            _set(pool, session, status, "review", now, "submit")
            return Sent("review", None)
        return _send(pool, session, data, pdf or b"", status, "submit", now)


def approve_report(
    pool: FormValues, template_id: str, area: str, period: Period, *, now: datetime
) -> Sent:
    """The 审核人 approves a form 待审核: its package is made and it is 已上报."""
    store = pool.store
    store.principal.require(Action.REVIEW_FORM)
    data = pool.collect(template_id, area, period)
    pdf = render_pdf(data, author=store.principal.username)
    with store.transaction() as session:
        status = _status(
            session,
            template_id,
            area,
            period,
            allowed=("review",),
            username=store.principal.username,
            now=now,
        )
        status.reviewed_by = store.principal.username
        return _send(pool, session, data, pdf, status, "approve", now)


def _status(
    session: Session,
    template_id: str,
    area: str,
    period: Period,
    *,
    allowed: tuple[Any, ...],
    username: str,
    now: datetime,
) -> FormStatus:
    row = session.scalar(
        select(FormStatus).where(
            FormStatus.template == template_id,
            FormStatus.area == area,
            FormStatus.period == str(period),
        )
    )
    state = row.status if row is not None else None
    if state not in allowed:
        said = {"review": "正在等待审核", "submitted": "已上报", "accepted": "已被接收"}
        raise UserError(f"这张表{said.get(str(state), '不在可上报状态')}，不能重复上报")
    if row is None:
        row = FormStatus(
            template=template_id,
            area=area,
            period=str(period),
            status="draft",
            changed_by=username,
            changed_at=now,
        )
        session.add(row)
    return row


def _send(
    pool: FormValues,
    session: Session,
    data: FormData,
    pdf: bytes,
    status: FormStatus,
    action: str,
    now: datetime,
) -> Sent:
    recipient, task_id = recipient_for(
        session, data.template.id, data.template.department, data.area, data.period
    )
    outgoing = report_outgoing(session, data, pdf, status, recipient, task_id, now=now)
    what = f"{status.template} {status.area} {status.period}"
    package = make_package(
        pool.store, session, outgoing, now=now, audit_as=(action, what, {"status": "submitted"})
    )
    status.report_package = package.package_id
    _set(pool, session, status, "submitted", now)
    return Sent("submitted", package)


def _set(
    pool: FormValues,
    session: Session,
    status: FormStatus,
    state: str,
    now: datetime,
    action: str | None = None,
) -> None:
    """The form's new state; audited here unless the package's entry says it (``action`` None)."""
    status.status, status.reason = state, None
    status.changed_by, status.changed_at = pool.store.principal.username, now
    session.flush()
    if action is not None:
        audit_trail(pool.store).record(
            session,
            pool.store.principal,
            action,
            f"{status.template} {status.area} {status.period}",
            detail={"status": state},
            now=now,
        )
