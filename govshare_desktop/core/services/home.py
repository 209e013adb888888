"""The 工作台: what needs doing today, gathered from the other use cases — report tasks by
deadline, 比对核查 cases, 校核纠错 and share requests waiting, packages not yet written out, the
back-flow's freshness, the holiday calendar and the last backup.

Each line of the desk comes from a *source*: a small function that reads one use case and says
how many, how urgent (:data:`OVERDUE`, :data:`SOON`, :data:`OK`), one line in Chinese and the
page that opens it. A new source is one entry in :data:`SOURCES`; the page shows whatever they
return. A source names the permission its work needs: a role without it gets no line (not an
error) — the 审计管理员, who reads but does not work the data, gets an empty desk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services import checks, reports, sharing
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.backup import backup_due, default_backup_dir, last_backup_time
from govshare_desktop.core.store.township import get_township

OVERDUE, SOON, OK = "overdue", "soon", "ok"  # how urgent, most first
URGENCY_LABELS = {OVERDUE: "已逾期", SOON: "即将到期", OK: "正常"}
SOON_WORKDAYS = 3  # a deadline this many working days away (or fewer) is near
BACKUP_LATE_DAYS = 7  # no backup for this long: red (the daily one should have run)
MORE_LINES = 8  # at most this many lines of particulars per entry


@dataclass(frozen=True)
class DueItem:
    """One line of the desk."""

    key: str  # which source said it (stable: tests and the page's object names use it)
    title: str
    count: int | None  # None: nothing to count (the backup, the calendar)
    urgency: str  # OVERDUE, SOON or OK
    detail: str  # one line in Chinese
    page: str  # the window page that opens it (``backup``: the 立即备份 action)
    more: tuple[str, ...] = ()  # the particulars: one task, one dataset … per line

    @property
    def overdue(self) -> bool:
        return self.urgency == OVERDUE


@dataclass(frozen=True)
class Desk:
    township: str
    day: date
    items: list[DueItem]

    @property
    def heading(self) -> str:
        weekday = "一二三四五六日"[self.day.weekday()]
        return (
            f"{self.township}　{self.day.year}年{self.day.month}月{self.day.day}日　星期{weekday}"
        )


@dataclass(frozen=True)
class Source:
    key: str
    needs: Action  # the permission the work needs: without it, no line
    read: Callable[[Context], list[DueItem]]


def desk(ctx: Context) -> Desk:
    """The 工作台 of the signed-in user: one line per source their role may work, in the order
    of :data:`SOURCES`."""
    township = get_township(ctx.store)
    items = [
        item for source in SOURCES if ctx.principal.may(source.needs) for item in source.read(ctx)
    ]
    return Desk(township.name if township else "未初始化", ctx.now().date(), items)


def _worst(*urgencies: str) -> str:
    for urgency in (OVERDUE, SOON):
        if urgency in urgencies:
            return urgency
    return OK


def _period(text: str) -> str:
    try:
        return Period.parse(text).label
    except ValueError:
        return text


def _said(parts: list[str], nothing: str) -> str:
    return "，".join(p for p in parts if p) or nothing


# ---------------------------------------------------------------- the sources


def _tasks(ctx: Context) -> list[DueItem]:
    """报表任务 not yet sent up, by working days left."""
    views, warning = reports.tasks(ctx)
    open_ = [v for v in views if v.open]  # the most urgent first (the core's order)
    late = [v for v in open_ if v.overdue]
    near = [v for v in open_ if not v.overdue and v.workdays_left <= SOON_WORKDAYS]
    waiting = Counter(v.state for v in open_)
    parts = [f"{len(open_)} 项待报送" if open_ else ""]
    if late:
        parts.append(f"{len(late)} 项已逾期（最多 {-min(v.workdays_left for v in late)} 个工作日）")
    if near:
        parts.append(f"{len(near)} 项 {SOON_WORKDAYS} 个工作日内到期")
    parts += [f"{n} 项{state}" for state, n in waiting.items() if state in ("待审核", "已退回")]
    if open_:
        first = open_[0]
        parts.append(f"最急：{first.title}（{first.due_text}）")
    more = [f"{v.title} {_period(v.period)}：{v.due_text}，{v.state}" for v in open_]
    return [
        DueItem(
            "tasks",
            "报表任务",
            len(open_),
            OVERDUE if late else SOON if near else OK,
            _said(parts, "没有待报送的报表任务"),
            "tasks",
            tuple(more[:MORE_LINES]) + ((warning,) if warning and open_ else ()),
        )
    ]


def _cases(ctx: Context) -> list[DueItem]:
    """比对核查 cases still open: 待核实, 村已核实, 镇已审核."""
    found = checks.cases(ctx)
    states = Counter(case.state_label for case in found)
    errors = sum(1 for case in found if case.severity == "error")
    by_check = Counter(case.title for case in found)
    parts = [f"{n} 个{label}" for label, n in states.items()]
    if errors:
        parts.append(f"其中 {errors} 个为“错误”级")
    return [
        DueItem(
            "checks",
            "比对核查",
            len(found),
            SOON if errors else OK,
            _said(parts, "没有待核实的核查线索"),
            "checks",
            tuple(f"{title}：{n} 个" for title, n in by_check.most_common(MORE_LINES)),
        )
    ]


def _corrections(ctx: Context) -> list[DueItem]:
    """校核纠错 to send, awaiting an answer (or overdue), or accepted and awaiting the data."""
    views = reports.correction_list(ctx)
    drafts = [v for v in views if v.state == "draft"]
    sent = [v for v in views if v.state == "sent"]
    late = [v for v in sent if v.overdue]
    near = [
        v for v in sent if v.workdays_left is not None and 0 <= v.workdays_left <= SOON_WORKDAYS
    ]
    accepted = [v for v in views if v.state == "accepted"]
    parts = [
        f"{len(drafts)} 项待发送" if drafts else "",
        f"{len(sent)} 项等待答复" if sent else "",
        f"{len(late)} 项已超期（最多 {-min(v.workdays_left or 0 for v in late)} 个工作日）"
        if late
        else "",
        f"{len(accepted)} 项已采纳、待回流更正" if accepted else "",
    ]
    more = [f"{v.department}：{v.name} {v.field}，{v.state_label}" for v in late + drafts + sent]
    return [
        DueItem(
            "corrections",
            "校核纠错",
            len(drafts) + len(sent) + len(accepted),
            OVERDUE if late else SOON if drafts or near else OK,
            _said(parts, "没有未办结的纠错"),
            "corrections",
            tuple(dict.fromkeys(more))[:MORE_LINES],
        )
    ]


def _requests(ctx: Context) -> list[DueItem]:
    """共享申请 waiting: for the 审核人's approval, to be sent, for an answer, for the data."""
    views = sharing.request_list(ctx)
    states = Counter(v.state for v in views)
    late = [v for v in views if v.overdue]
    parts = [
        f"{states['draft']} 项待审核" if states["draft"] else "",
        f"{states['approved']} 项待发送" if states["approved"] else "",
        f"{states['sent']} 项等待答复" if states["sent"] else "",
        f"{len(late)} 项已超期（最多 {-min(v.workdays_left or 0 for v in late)} 个工作日）"
        if late
        else "",
        f"{states['granted']} 项已同意、待收数据" if states["granted"] else "",
    ]
    pending = [v for v in views if v.state in ("draft", "approved", "sent", "granted")]
    return [
        DueItem(
            "sharing",
            "共享申请",
            len(pending),
            OVERDUE if late else SOON if states["draft"] or states["approved"] else OK,
            _said(parts, "没有未办结的共享申请"),
            "sharing",
            tuple(f"{v.resource_name}（{v.provider}）：{v.state_label}" for v in pending)[
                :MORE_LINES
            ],
        )
    ]


def _outbox(ctx: Context) -> list[DueItem]:
    """Packages made but never written to a folder (they have gone nowhere yet), and those the
    recipient refused."""
    entries = reports.outbox(ctx)
    waiting = [e for e in entries if e.written_at is None]
    refused = [e for e in entries if e.receipt_status == "refused"]
    kinds = Counter(e.kind_label for e in waiting)
    parts = [
        f"{len(waiting)} 个数据包尚未写出（{'、'.join(f'{k} {n}' for k, n in kinds.items())}）"
        if waiting
        else "",
        f"{len(refused)} 个被对方拒收" if refused else "",
    ]
    more = [f"{e.subject}：对方拒收，{e.receipt_reason or ''}" for e in refused]
    more += [f"{e.kind_label}：{e.subject}（发往 {e.recipient_name}）" for e in waiting]
    return [
        DueItem(
            "outbox",
            "发件箱",
            len(waiting) + len(refused),
            OVERDUE if refused else SOON if waiting else OK,
            _said(parts, "数据包都已写出"),
            "outbox",
            tuple(more[:MORE_LINES]),
        )
    ]


def _freshness(ctx: Context) -> list[DueItem]:
    """Per dataset held: its last batch and 数据时点, against the 更新周期 the catalog gives
    (the catalog's own judgement, :func:`sharing.catalog`); and data held past its 使用期限."""
    held = sharing.holdings(ctx)
    if not held:
        return []
    today = ctx.now().date()
    resources = sharing.catalog(ctx)
    cycles: dict[str, str] = {}
    stale: dict[str, int] = {}
    for resource in resources:
        for dataset in resource.datasets:
            cycles.setdefault(dataset, resource.cycle)
            if resource.stale_days:
                stale[dataset] = max(stale.get(dataset, 0), resource.stale_days)
    late = [h for h in held if h.dataset in stale]
    expired = [h for h in held if h.expired(today)]
    newest = max(h.last_as_of or h.last_imported.date() for h in held)
    parts = [f"{len(held)} 类数据"]
    if late:
        parts.append(f"{len(late)} 类逾期未更新（{'、'.join(h.title for h in late)}）")
    if expired:
        parts.append(f"{len(expired)} 类已过使用期限")
    parts.append(f"最近数据时点 {newest:%Y-%m-%d}")
    detail = "，".join(parts) + ("" if resources else "（目录未到，不能按更新周期判断）")
    more = []
    for h in sorted(held, key=lambda h: h.dataset not in stale):  # the stale ones first
        line = f"{h.title}：数据时点 {h.last_as_of or '—'}，{h.last_imported:%m-%d} 导入"
        if h.dataset in cycles:
            line += f"，{cycles[h.dataset]}更新"
        if h.dataset in stale:
            line += f"，逾期 {stale[h.dataset]} 天未更新"
        if h.expired(today):
            line += f"，使用期限 {h.use_until} 已届满"
        more.append(line)
    return [
        DueItem(
            "freshness",
            "回流数据",
            len(late) + len(expired),
            OVERDUE if late or expired else OK,
            detail,
            "sharing",
            tuple(more),
        )
    ]


def _calendar(ctx: Context) -> list[DueItem]:
    """The holiday arrangement of this year or next not imported yet (deadlines then count
    weekends only): only said when so."""
    _years, warning = sharing.calendar(ctx)
    if warning is None:
        return []
    return [
        DueItem(
            "calendar",
            "节假日安排",
            None,
            SOON,
            warning + "；请导入县里下发的日历包",
            "tasks",
        )
    ]


def _backup(ctx: Context) -> list[DueItem]:
    """The newest backup in the program's own folder, where the daily backup goes (a database
    on a server is backed up by the server's administrator: no line)."""
    if ctx.store.path is None:
        return []
    now = ctx.now()
    folder = default_backup_dir(ctx.store.path)
    last = last_backup_time(folder)
    if last is None:
        detail, urgency = "还没有备份过；按回车立即备份", OVERDUE
    else:
        days = (now.date() - last.date()).days
        when = {0: "今天", 1: "昨天"}.get(days, f"{days} 天前")
        detail = f"最近备份：{last:%Y-%m-%d %H:%M}（{when}）"
        urgency = OK
        if backup_due(folder, now):
            urgency = OVERDUE if days >= BACKUP_LATE_DAYS else SOON
            detail += "；按回车立即备份"
    return [DueItem("backup", "数据备份", None, urgency, detail, "backup", (str(folder),))]


SOURCES: tuple[Source, ...] = (
    Source("tasks", Action.EDIT_FORMS, _tasks),
    Source("checks", Action.EDIT_FORMS, _cases),
    Source("corrections", Action.EDIT_FORMS, _corrections),
    Source("sharing", Action.EDIT_FORMS, _requests),
    Source("outbox", Action.SUBMIT_FORM, _outbox),
    Source("freshness", Action.IMPORT, _freshness),
    Source("calendar", Action.EDIT_FORMS, _calendar),
    Source("backup", Action.BACKUP, _backup),
)
