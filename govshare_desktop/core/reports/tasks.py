"""Report tasks coming down (``report_task`` packages) and the township's inbox of them.

A task names a form (template id and version), a period, an area, the issuing department and a
deadline. A package may bring the form itself (``data/templates/*.toml``) and new data elements
(``data/elements.toml``): they are stored in the database, versioned, and apply from the task's
period on (:mod:`govshare_desktop.core.forms.catalog`); a form already filled for an earlier period
keeps the version it was filled with. A task for another township, a template that does not check,
or a version older than the one installed refuses the whole package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.domain.workdays import WorkCalendar
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import VerifiedPackage
from govshare_desktop.core.forms.catalog import install_elements, install_template, load_catalog
from govshare_desktop.core.forms.dictionary import FormsError
from govshare_desktop.core.reports import content
from govshare_desktop.core.store.models import FormStatus, FormValue, ReportTask
from govshare_desktop.core.store.township import get_township

TASK_FILE = "data/task.json"
ELEMENTS_FILE = "data/elements.toml"
TEMPLATES_DIR = "data/templates/"

# Task states as the clerk sees them, from the form's status (None: nothing entered yet).
NOT_STARTED, FILLING, IN_REVIEW, SENT, RETURNED, ACCEPTED = (
    "未开始",
    "填报中",
    "待审核",
    "已上报",
    "已退回",
    "已接收",
)
STATE_OF_STATUS = {
    "draft": FILLING,
    "review": IN_REVIEW,
    "submitted": SENT,
    "returned": RETURNED,
    "accepted": ACCEPTED,
}
OPEN_STATES = (NOT_STARTED, FILLING, IN_REVIEW, RETURNED)


@dataclass(frozen=True)
class TaskDocument:
    task_id: str
    template_id: str
    template_version: str
    period: Period
    area: str
    issuer: tuple[str, str]
    issued_at: datetime
    deadline: date
    note: str


def parse_task(data: bytes) -> TaskDocument:
    """``data/task.json`` checked field by field (exchange-format.md)."""
    name = "task.json"
    document = content.load_object(data, name)
    period_text = content.text(document, "period", name)
    try:
        period = Period.parse(period_text)
    except ValueError:
        content.refuse(f"{name} 的 period“{period_text}”不是统计期（如 2026-12、2026Q4、2026）。")
    if str(period) != period_text:
        content.refuse(f"{name} 的 period“{period_text}”应写作“{period}”。")
    area = content.text(document, "area", name)
    if len(area) != 12 or not area.isdigit():
        content.refuse(f"{name} 的 area“{area}”应为 12 位统计用区划代码。")
    note = document.get("note")
    if note is not None and not isinstance(note, str):
        content.refuse(f"{name} 的 note 应为文本。")
    return TaskDocument(
        task_id=content.text(document, "task_id", name),
        template_id=content.text(document, "template_id", name),
        template_version=content.text(document, "template_version", name),
        period=period,
        area=area,
        issuer=content.party(document, "issued_by", name),
        issued_at=content.moment(content.text(document, "issued_at", name), f"{name} 的 issued_at"),
        deadline=content.day(content.text(document, "deadline", name), f"{name} 的 deadline"),
        note=note or "",
    )


def apply_report_task(
    session: Session, package: VerifiedPackage, *, user: str, now: datetime
) -> tuple[ReportTask, list[str]]:
    """Store the task (a task id seen before is updated: the county changed it) and whatever
    forms and elements it brings. Returns the task and what was installed, in sentences."""
    manifest = package.manifest
    paths = {entry.path for entry in manifest.files}
    if TASK_FILE not in paths:
        content.refuse("报表任务数据包中没有 data/task.json。")
    task = parse_task(package.read(TASK_FILE))
    township = get_township(session)
    assert township is not None  # the package was verified for this township
    if task.area != township.code and not task.area.startswith(township.code[:9]):
        content.refuse(
            f"task.json 的 area 为 {task.area}，不是本乡镇（{township.name}，{township.code}）"
            "或其所辖村（社区）：这项任务不是发给本单位的。"
        )
    installed = _install_forms(session, package, task, user=user, now=now)
    catalog = load_catalog(session)
    if task.template_id not in catalog.templates:
        content.refuse(
            f"task.json 要求填报的报表模板“{task.template_id}”本机没有，数据包也没有带来该模板。"
        )
    row = session.get(ReportTask, task.task_id) or ReportTask(task_id=task.task_id)
    row.template_id, row.template_version = task.template_id, task.template_version
    row.period, row.area = str(task.period), task.area
    row.issuer_code, row.issuer_name = task.issuer
    row.issued_at, row.deadline, row.note = task.issued_at, task.deadline, task.note
    row.package_id, row.received_at = manifest.package_id, now
    session.add(row)
    session.flush()
    return row, installed


def _install_forms(
    session: Session, package: VerifiedPackage, task: TaskDocument, *, user: str, now: datetime
) -> list[str]:
    manifest = package.manifest
    said: list[str] = []
    catalog = load_catalog(session)
    try:
        for entry in manifest.files:
            if entry.path == ELEMENTS_FILE:
                codes = install_elements(
                    session,
                    _utf8(package.read(entry.path), entry.path),
                    "elements.toml",
                    dictionary=catalog.dictionary,
                    package_id=manifest.package_id,
                    user=user,
                    now=now,
                )
                if codes:
                    said.append(f"新增数据项 {len(codes)} 个：{'、'.join(codes)}")
                catalog = load_catalog(session)
        for entry in manifest.files:
            if not (entry.path.startswith(TEMPLATES_DIR) and entry.path.endswith(".toml")):
                continue
            file_name = entry.path.removeprefix(TEMPLATES_DIR)
            stored = install_template(
                session,
                _utf8(package.read(entry.path), entry.path),
                file_name,
                dictionary=catalog.dictionary,
                origin="package",
                package_id=manifest.package_id,
                effective_from=str(task.period),
                user=user,
                now=now,
            )
            if stored is not None:
                if stored.template_id == task.template_id and stored.version != (
                    task.template_version
                ):
                    content.refuse(
                        f"task.json 写明模板版本 {task.template_version}，"
                        f"而随包模板 {file_name} 的版本为 {stored.version}。"
                    )
                said.append(
                    f"安装报表模板 {file_name}（版本 {stored.version}，{task.period} 期起适用）"
                )
    except FormsError as exc:
        content.refuse(exc.message)
    return said


def _utf8(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content.refuse(f"{path} 不是 UTF-8 编码的文本。")


# ---------------------------------------------------------------- the inbox


@dataclass(frozen=True)
class TaskView:
    """One task as the inbox shows it."""

    task_id: str
    template_id: str
    title: str
    template_version: str
    period: str
    area: str
    issuer_code: str
    issuer_name: str
    deadline: date
    note: str
    state: str
    workdays_left: int  # 0 on the due day, negative when overdue
    reason: str | None  # why the county returned it

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.open and self.workdays_left < 0

    @property
    def due_text(self) -> str:
        if not self.open:
            return "—"
        if self.workdays_left < 0:
            return f"已逾期 {-self.workdays_left} 个工作日"
        if self.workdays_left == 0:
            return "今天到期"
        return f"剩 {self.workdays_left} 个工作日"

    def as_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "template_id": self.template_id,
            "title": self.title,
            "template_version": self.template_version,
            "period": self.period,
            "area": self.area,
            "issued_by": {"code": self.issuer_code, "name": self.issuer_name},
            "deadline": self.deadline.isoformat(),
            "note": self.note,
            "state": self.state,
            "workdays_left": self.workdays_left if self.open else None,
            "overdue": self.overdue,
            "returned_reason": self.reason,
        }


def task_state(
    session: Session, template_id: str, area: str, period: str, elements: tuple[str, ...] = ()
) -> tuple[str, str | None]:
    """The task's state from its form's status; without one, 填报中 once a value of the form's
    elements exists for the period (预填 counts), else 未开始."""
    status = session.scalar(
        select(FormStatus).where(
            FormStatus.template == template_id,
            FormStatus.area == area,
            FormStatus.period == period,
        )
    )
    if status is not None:
        return STATE_OF_STATUS.get(status.status, FILLING), (
            status.reason if status.status == "returned" else None
        )
    started = session.scalar(
        select(FormValue.id)
        .where(FormValue.period == period, FormValue.element.in_(elements))
        .limit(1)
    )
    return (FILLING if started else NOT_STARTED), None


def inbox(session: Session, today: date, calendar: WorkCalendar) -> list[TaskView]:
    """Every task, the most urgent first: open tasks by working days left, then the others by
    deadline (newest first)."""
    templates = load_catalog(session).templates
    titles = {t.id: t.title for t in templates.values()}
    views = []
    for row in session.scalars(select(ReportTask)):
        template = templates.get(row.template_id)
        elements = template.elements if template is not None else ()
        state, reason = task_state(session, row.template_id, row.area, row.period, elements)
        views.append(
            TaskView(
                task_id=row.task_id,
                template_id=row.template_id,
                title=titles.get(row.template_id, row.template_id),
                template_version=row.template_version,
                period=row.period,
                area=row.area,
                issuer_code=row.issuer_code,
                issuer_name=row.issuer_name,
                deadline=row.deadline,
                note=row.note,
                state=state,
                workdays_left=calendar.workdays_left(today, row.deadline),
                reason=reason,
            )
        )
    open_ = sorted((v for v in views if v.open), key=lambda v: (v.deadline, v.title))
    done = sorted((v for v in views if not v.open), key=lambda v: v.deadline, reverse=True)
    return open_ + done


def task_for(session: Session, template_id: str, area: str, period: str) -> ReportTask | None:
    """The county's task for this form, if there is one (the newest, if the county sent two)."""
    return session.scalar(
        select(ReportTask)
        .where(
            ReportTask.template_id == template_id,
            ReportTask.area == area,
            ReportTask.period == period,
        )
        .order_by(ReportTask.received_at.desc())
        .limit(1)
    )


def require_task(session: Session, task_id: str) -> ReportTask:
    row = session.get(ReportTask, task_id)
    if row is None:
        raise UserError(f"没有报表任务“{task_id}”")
    return row
