"""The 一表通 loop with the county as the clerk, the 审核人 and the 系统管理员 work it: the township's
key, report tasks, 上报 and 审核, the outbox — the same from ``govshare keys|tasks|report|outbox``
and the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange import township_key
from govshare_desktop.core.exchange.outbox import OutboxEntry, outbox_entries, unwritten
from govshare_desktop.core.exchange.outbox import write_package as write_one
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.export.key_sheet import write_key_sheet
from govshare_desktop.core.export.reminder import Overdue, write_reminder
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.private_files import private_write
from govshare_desktop.core.reports import corrections, rejections, sending
from govshare_desktop.core.reports.tasks import TaskView, inbox
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.calendar import work_calendar
from govshare_desktop.core.store.models import (
    Account,
    Correction,
    FormStatus,
    OutboxPackage,
    Setting,
    TrustedSender,
)
from govshare_desktop.core.store.township import get_setting, get_township

# ---------------------------------------------------------------- the township's key


def township_public_keys(ctx: Context) -> list[township_key.PublicKey]:
    """Every key the township has signed with, the one in use first (made now if there is none:
    a database set up by an earlier version)."""
    ctx.principal.require(Action.MANAGE_KEYS)
    ensure_township_key(ctx)
    with ctx.store.sessions() as session:
        return township_key.public_keys(session)


def ensure_township_key(ctx: Context) -> township_key.PublicKey:
    """The key in use; made (and audited) if the township has none yet — at setup, or the first
    time a database from an earlier version needs one."""
    secret = _secret(ctx)
    with ctx.store.transaction() as session:
        current = township_key.current_key(session)
        if current is None:
            current = township_key.make_key(session, secret, user=ctx.user, now=ctx.now())
            ctx.trail().record(
                session,
                ctx.principal,
                "key_create",
                current.fingerprint,
                detail={"fingerprint": current.fingerprint},
                now=ctx.now(),
            )
        return township_key.public_key(current)


def export_public_key(ctx: Context, out: Path) -> township_key.PublicKey:
    """``govshare keys export --out FILE.pem``: the public half, for the county to register."""
    ctx.principal.require(Action.MANAGE_KEYS)
    key = ensure_township_key(ctx)
    out = Path(out)
    if not out.parent.is_dir():
        raise UserError(f"文件夹 {out.parent} 不存在")
    try:
        private_write(out, key.pem)
    except OSError as exc:
        raise UserError(f"无法写入 {out}：{exc.strerror or exc}") from None
    ctx.audit("key_export", str(out), {"fingerprint": key.fingerprint})
    return key


def rotate_township_key(ctx: Context) -> township_key.PublicKey:
    """A new key; the old one is retired (its public half kept, so old packages stay verifiable).
    The county must register the new public key before the next package arrives."""
    ctx.principal.require(Action.MANAGE_KEYS)
    secret = _secret(ctx)
    with ctx.store.transaction() as session:
        old, new = township_key.rotate_key(session, secret, user=ctx.user, now=ctx.now())
        ctx.trail().record(
            session,
            ctx.principal,
            "key_rotate",
            new.fingerprint,
            detail={"old": old.fingerprint if old else None, "new": new.fingerprint},
            now=ctx.now(),
        )
        return township_key.public_key(new)


def _secret(ctx: Context) -> bytes:
    if ctx.store.secret is None:
        raise UserError("没有登录，不能使用本单位签名密钥")
    return ctx.store.secret


# ---------------------------------------------------------------- settings


def set_report_recipient(ctx: Context, department: str, code: str) -> None:
    """The code of the department a form without a task goes to (系统管理员)."""
    ctx.principal.require(Action.MANAGE_KEYS)
    with ctx.store.transaction() as session:
        sending.set_report_recipient(session, department, code)
        ctx.trail().record(
            session,
            ctx.principal,
            "report_recipient",
            department,
            detail={"code": code},
            now=ctx.now(),
        )


def set_review_required(ctx: Context, template_id: str, required: bool) -> None:
    """Whether a 审核人 must approve this form before it goes up (系统管理员)."""
    ctx.principal.require(Action.MANAGE_KEYS)
    with ctx.store.transaction() as session:
        sending.set_review_required(session, template_id, required)
        ctx.trail().record(
            session,
            ctx.principal,
            "report_review",
            template_id,
            detail={"required": required},
            now=ctx.now(),
        )


# ---------------------------------------------------------------- tasks, 上报, 审核


def tasks(ctx: Context, today: date | None = None) -> tuple[list[TaskView], str | None]:
    """The inbox, most urgent first, and the calendar's warning when a deadline falls in a year
    whose holidays are not known yet."""
    ctx.principal.require(Action.VIEW)
    today = today or ctx.now().date()
    with ctx.store.sessions() as session:
        calendar = work_calendar(session)
        views = inbox(session, today, calendar)
    years = sorted({v.deadline.year for v in views if v.open} | {today.year})
    return views, calendar.warning(years)


def submit_report(
    ctx: Context, pool: FormValues, template: str, area: str, period: Period
) -> sending.Sent:
    """上报 (the form is checked, locked, and its package made — or it waits for review)."""
    return sending.submit_report(pool, template, area, period, now=ctx.now())


def approve_report(
    ctx: Context, pool: FormValues, template: str, area: str, period: Period
) -> sending.Sent:
    return sending.approve_report(pool, template, area, period, now=ctx.now())


# ---------------------------------------------------------------- the outbox


def outbox(ctx: Context) -> list[OutboxEntry]:
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        return outbox_entries(session)


def write_package(ctx: Context, package_id: str, directory: Path) -> list[Path]:
    """A package (again) into a folder — a USB stick, a shared folder — with every package to the
    same recipient made before it and not yet written anywhere (receipts): the recipient applies
    them in sequence, and holds a package that skips one."""
    ctx.principal.require(Action.SUBMIT_FORM)
    with ctx.store.sessions() as session:
        target = session.get(OutboxPackage, package_id)
        if target is None:
            raise UserError(f"发件箱中没有数据包 {package_id}")
        earlier = [
            row.package_id
            for row in unwritten(session)
            if row.recipient_code == target.recipient_code and row.sequence < target.sequence
        ]
    return [write_one(ctx.store, each, directory, now=ctx.now()) for each in [*earlier, package_id]]


def write_unwritten(ctx: Context, directory: Path) -> list[Path]:
    """Every package not yet written anywhere (reports, receipts), in sequence order."""
    ctx.principal.require(Action.SUBMIT_FORM)
    with ctx.store.sessions() as session:
        waiting = [row.package_id for row in unwritten(session)]
    return [write_one(ctx.store, package_id, directory, now=ctx.now()) for package_id in waiting]


def report_package(ctx: Context, template: str, area: str, period: Period) -> OutboxPackage:
    """The last report package of this form."""
    with ctx.store.sessions() as session:
        status = session.scalar(
            select(FormStatus).where(
                FormStatus.template == template,
                FormStatus.area == area,
                FormStatus.period == str(period),
            )
        )
        row = session.get(OutboxPackage, status.report_package) if status else None
    if row is None:
        raise UserError("这张表还没有上报数据包")
    return row


def print_key_sheet(ctx: Context, out: Path) -> township_key.PublicKey:
    """The 公钥登记单 (PDF) to print, sign, stamp and hand to the county with the PEM."""
    ctx.principal.require(Action.MANAGE_KEYS)
    key = ensure_township_key(ctx)
    township = get_township(ctx.store)
    assert township is not None
    out = Path(out)
    if not out.parent.is_dir():
        raise UserError(f"文件夹 {out.parent} 不存在")
    try:
        write_key_sheet(
            out,
            township=township.name,
            code=township.code,
            pem=key.pem,
            fingerprint=key.fingerprint,
            made_on=ctx.now().date(),
            author=ctx.user,
        )
    except OSError as exc:
        raise UserError(f"无法写入 {out}：{exc.strerror or exc}") from None
    ctx.audit("key_sheet", str(out), {"fingerprint": key.fingerprint})
    return key


# ---------------------------------------------------------------- what the window shows (read only)


@dataclass(frozen=True)
class ReportState:
    """Where one form stands in the loop, as people read it (names, not account names)."""

    status: str
    reason: str | None  # why it was returned: the county's reply, or the 审核人's
    submitted_by: str | None
    reviewed_by: str | None
    changed_by: str
    changed_at: datetime
    package_file: str | None  # the last report package made for it


def report_state(ctx: Context, template: str, area: str, period: Period) -> ReportState | None:
    """The form's status, who submitted and approved it, why it was returned; None for a form
    never submitted."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        row = session.scalar(
            select(FormStatus).where(
                FormStatus.template == template,
                FormStatus.area == area,
                FormStatus.period == str(period),
            )
        )
        if row is None:
            return None
        people = {row.submitted_by, row.reviewed_by, row.changed_by} - {None}
        names = {
            account.username: account.display_name or account.username
            for account in session.scalars(select(Account).where(Account.username.in_(people)))
        }
        package_file = (
            session.scalar(
                select(OutboxPackage.file_name).where(
                    OutboxPackage.package_id == row.report_package
                )
            )
            if row.report_package
            else None
        )
        return ReportState(
            status=row.status,
            reason=row.reason,
            submitted_by=names.get(row.submitted_by or "", row.submitted_by),
            reviewed_by=names.get(row.reviewed_by or "", row.reviewed_by),
            changed_by=names.get(row.changed_by, row.changed_by),
            changed_at=row.changed_at,
            package_file=package_file,
        )


@dataclass(frozen=True)
class ReviewSetting:
    template_id: str
    department: str
    title: str
    required: bool


@dataclass(frozen=True)
class RecipientSetting:
    department: str
    code: str  # "" when none: the department's forms cannot go up without a county task
    registered_name: str  # the registered sender of that code, "" if none
    matched: bool  # no code set: that of the registered sender named as the department


def report_settings(ctx: Context) -> tuple[list[ReviewSetting], list[RecipientSetting]]:
    """What the 系统管理员's 「上报设置」 shows: for each form that goes up (统计表, 花名册)
    whether a 审核人 must approve it first, and for each department the code its reports go to
    when the county sent no task."""
    ctx.principal.require(Action.MANAGE_KEYS)
    with ctx.store.sessions() as session:
        templates = [t for t in load_catalog(session).templates.values() if t.kind != "individual"]
        review = [
            ReviewSetting(t.id, t.department, t.title, sending.review_required(session, t.id))
            for t in templates
        ]
        set_keys = session.scalars(
            select(Setting.key).where(Setting.key.startswith(sending.RECIPIENT_KEY))
        )
        departments = dict.fromkeys(
            [t.department for t in templates]
            + [key.removeprefix(sending.RECIPIENT_KEY) for key in set_keys]
        )
        recipients = []
        for department in departments:  # as sending.recipient_for finds it
            code = get_setting(session, sending.RECIPIENT_KEY + department) or ""
            named = None
            if not code:
                named = session.scalar(
                    select(TrustedSender).where(TrustedSender.name == department)
                )
                code = named.code if named is not None else ""
            known = session.get(TrustedSender, code) if code else None
            recipients.append(
                RecipientSetting(department, code, known.name if known else "", named is not None)
            )
    return review, recipients


# ---------------------------------------------------------------- 校核纠错


def raise_correction(
    ctx: Context,
    *,
    dataset: str,
    record_key: str,
    field: str,
    proposed: str,
    basis: str,
    case_id: int | None = None,
) -> Correction:
    """A correction request (待发送) to the department the record came from; raised from a
    check case, the case is 确认有误 with it (one transaction: a refused request changes neither)."""
    return corrections.raise_correction(
        ctx.store,
        dataset=dataset,
        record_key=record_key,
        field=field,
        proposed=proposed,
        basis=basis,
        found_by="cross_check" if case_id is not None else "clerk",
        case_id=case_id,
        now=ctx.now(),
    )


def rejected_rows(ctx: Context, batch: int | None = None) -> list[rejections.RejectedRow]:
    """The rows imports left out (of one batch, when given), each with whether a 纠错 can name
    it — the source of 校核纠错 found by import (发现方式 ``import_rejection``)."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        return rejections.rejected_rows(session, batch)


def raise_from_rejection(ctx: Context, rejection: int, *, proposed: str, basis: str) -> Correction:
    """A correction request (待发送) about a rejected import row's field, to the department the
    file came from, with the value the file had and the one it should have."""
    return rejections.raise_from_rejection(
        ctx.store, rejection, proposed=proposed, basis=basis, now=ctx.now()
    )


def send_corrections(ctx: Context) -> list[OutboxPackage]:
    """Every request waiting to go: one signed package per department, into the outbox."""
    return corrections.send_corrections(ctx.store, now=ctx.now())


def correction_list(ctx: Context) -> list[corrections.CorrectionView]:
    """Every request with its state: 待发送, 已发送, 已答复, 已更正 — or 超期 with the days."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        return corrections.corrections(session, ctx.now().date(), work_calendar(session))


def print_reminder(ctx: Context, department: str, out: Path) -> ExportedFile:
    """The 催办单 (PDF) to one department: its requests overdue, with the days."""
    township = get_township(ctx.store)
    assert township is not None
    overdue = [
        Overdue(
            v.correction_id,
            v.name,
            v.record_key,
            v.field,
            v.current_value,
            v.proposed_value,
            v.raised_on or v.deadline or ctx.now().date(),
            v.deadline or ctx.now().date(),
            -(v.workdays_left or 0),
        )
        for v in correction_list(ctx)
        if v.overdue and v.department == department
    ]
    return write_reminder(
        ctx.store,
        Path(out),
        township=township.name,
        department=department,
        rows=overdue,
        made_on=ctx.now().date(),
    )
