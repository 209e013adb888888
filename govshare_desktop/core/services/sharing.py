"""目录 and 共享申请 as the clerk, the 审核人 and the township work them: the catalog searched, a
request drafted from an entry, approved, sent and followed to its answer and its data; the
register of what the township holds and why — the same from ``govshare catalog|share`` and the
window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from govshare_desktop.core.domain.workdays import CalendarDay, WorkCalendar
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import ExportedFile, audited_write
from govshare_desktop.core.export.reminder import Letter, write_letter
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing import catalog as catalog_core
from govshare_desktop.core.sharing import register, requests
from govshare_desktop.core.sharing.calendar import (
    YearInfo,
    calendar_years,
    work_calendar,
    year_rows,
)
from govshare_desktop.core.store.models import OutboxPackage, ShareRequest
from govshare_desktop.core.store.township import get_township


def _calendar(ctx: Context) -> WorkCalendar:
    """The program's one working-day calendar: the built-in table with the county's years."""
    with ctx.store.sessions() as session:
        return work_calendar(session)


def catalog(
    ctx: Context, text: str = "", share_type: str | None = None
) -> list[catalog_core.Resource]:
    """The catalog, searched (name, 信息项, 提供方, pinyin initials) and filtered by 共享类型,
    each entry with the back-flow it arrives as and whether that is overdue."""
    ctx.principal.require(Action.VIEW)
    if share_type is not None and share_type not in catalog_core.SHARE_TYPES:
        raise UserError(f"共享类型应为 {'、'.join(catalog_core.SHARE_TYPES)} 之一")
    with ctx.store.sessions() as session:
        return catalog_core.resources(session, ctx.now().date(), text=text, share_type=share_type)


def draft_request(
    ctx: Context,
    *,
    resource_code: str,
    items: list[str],
    purpose: str,
    basis: str,
    scope: str,
    use_until: date,
) -> ShareRequest:
    """A share request (待审核) for some 信息项 of a catalog entry; 不予共享 is refused with its basis."""
    return requests.draft_request(
        ctx.store,
        resource_code=resource_code,
        items=items,
        purpose=purpose,
        basis=basis,
        scope=scope,
        use_until=use_until,
        now=ctx.now(),
    )


def approve_request(ctx: Context, request_id: str) -> ShareRequest:
    """The 审核人 approves a request: it may go up."""
    return requests.approve_request(ctx.store, request_id, now=ctx.now())


def send_requests(ctx: Context) -> list[OutboxPackage]:
    """Every approved request in one signed package per platform, into the outbox, each with its
    答复期限 (1 or 10 working days by 共享类型)."""
    return requests.send_requests(ctx.store, now=ctx.now(), calendar=_calendar(ctx))


def request_list(ctx: Context) -> list[requests.RequestView]:
    """Every request with where it stands: 待审核, 待发送, 已发送 (or 超期), 已同意, 不同意, 已收到."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        return requests.share_requests(session, ctx.now().date(), _calendar(ctx))


URGE_HEADERS = ("序号", "申请编号", "资源名称", "提供方", "信息项", "发送日期", "答复期限", "超期")
URGE_WIDTHS_MM = (10, 26, 50, 40, 64, 22, 22, 26)


def print_urge_letter(ctx: Context, out: Path) -> ExportedFile:
    """The 催办函 (PDF) to the platform: the share requests unanswered past their deadline."""
    late = [r for r in request_list(ctx) if r.overdue]
    if not late:
        raise UserError("没有超期未答复的共享申请")
    if Path(out).suffix.lower() != ".pdf":
        raise UserError("催办函导出为 .pdf 文件")
    township = get_township(ctx.store)
    assert township is not None
    rows = [
        (
            str(number),
            r.request_id[:8],
            r.resource_name,
            r.provider,
            r.items,
            f"{r.sent_on}",
            f"{r.deadline}",
            f"{-(r.workdays_left or 0)} 个工作日",
        )
        for number, r in enumerate(late, start=1)
    ]
    letter = Letter(
        title="共享申请催办函",
        addressee="政务数据共享主管部门",
        text=f"{township.name}依据《政务数据共享条例》提出的下列共享申请已超过答复期限"
        f"（无条件共享 1 个工作日、有条件共享 10 个工作日；共 {len(late)} 项），"
        "请尽快答复；不予共享的，请说明理由。申请编号以数据包中为准。",
        headers=URGE_HEADERS,
        widths_mm=URGE_WIDTHS_MM,
        rows=rows,
        township=township.name,
        made_on=ctx.now().date(),
    )
    return audited_write(
        ctx.store,
        Path(out),
        lambda temp, anchor: write_letter(
            temp, letter, author=ctx.principal.username, anchor=anchor
        ),
        masked=True,
        count=len(late),
        detail={"kind": "share_request_reminder"},
    )


def holdings(ctx: Context) -> list[register.Holding]:
    """The register of data received: each dataset, its source, and the basis it is held on
    (回流, or the share request with its 用途 and 使用期限)."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        return register.holdings(session)


def use_warning(ctx: Context, datasets: Iterable[str]) -> str | None:
    """What to say before exporting or searching data held past its 使用期限 (else None)."""
    with ctx.store.sessions() as session:
        return register.use_warning(session, datasets, ctx.now().date())


def calendar(ctx: Context) -> tuple[list[YearInfo], str | None]:
    """The years whose holiday arrangement is known and where each came from (内置, or the
    county's 日历包), and the warning for this year or next when one is not."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        years = calendar_years(session)
        today = ctx.now().date()
        warning = work_calendar(session).warning((today.year, today.year + 1))
    return years, warning


def calendar_days(ctx: Context, year: int) -> list[CalendarDay]:
    """One year's days off and 调休 working days, as the calendar in use has them."""
    ctx.principal.require(Action.VIEW)
    with ctx.store.sessions() as session:
        return year_rows(session, year)
