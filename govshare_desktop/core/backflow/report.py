"""The change report a clerk can act on after an import: who died or moved out, who was born or
moved in, whose social-security status changed, what is no longer in the back-flow, and the
cross-checks (校核) that need a 纠错 — e.g. a deceased person still being paid a pension."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.apply import Outcome
from govshare_desktop.core.domain import codes
from govshare_desktop.core.store.models import Enrollment, Payment, Person, RecordHistory

BIRTH_WINDOW = timedelta(days=366)

# Store columns as the clerk knows them (for the change details).
COLUMN_LABELS = {
    "name": "姓名",
    "sex_code": "性别",
    "ethnicity_code": "民族",
    "birth_date": "出生日期",
    "household_no": "户号",
    "relationship_code": "与户主关系",
    "village_code": "所属村（社区）",
    "status": "人员状态",
    "status_date": "变动日期",
    "phone": "联系电话",
    "household_type": "户别",
    "address": "住址",
    "head_id_number": "户主公民身份号码",
    "head_name": "户主姓名",
    "status_code": "缴费状态",
    "grade_fen": "缴费档次（分/年）",
    "start_date": "参保日期",
    "receiving": "待遇领取标志",
    "person_no": "个人编号",
    "basic_fen": "基础养老金（分）",
    "account_fen": "个人账户养老金（分）",
    "total_fen": "实发金额（分）",
    "paid_date": "发放日期",
}


@dataclass
class ChangeReport:
    dataset: str
    first_import: bool = False
    deaths: list[dict[str, Any]] = field(default_factory=list)
    moved_out: list[dict[str, Any]] = field(default_factory=list)
    births: list[dict[str, Any]] = field(default_factory=list)
    move_ins: list[dict[str, Any]] = field(default_factory=list)
    ss_changes: list[dict[str, Any]] = field(default_factory=list)
    absent: list[dict[str, Any]] = field(default_factory=list)
    field_changes: list[dict[str, Any]] = field(default_factory=list)
    deceased_still_paid: list[dict[str, Any]] = field(default_factory=list)
    new_villages: list[dict[str, Any]] = field(default_factory=list)

    def summary_counts(self) -> dict[str, int]:
        return {
            "deaths_reported": len(self.deaths),
            "moved_out_reported": len(self.moved_out),
            "births": len(self.births),
            "move_ins": len(self.move_ins),
            "ss_status_changes": len(self.ss_changes),
            "new_villages": len(self.new_villages),
        }

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        def cut(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return items if limit is None else items[:limit]

        return {
            "dataset": self.dataset,
            "first_import": self.first_import,
            "deaths": cut(self.deaths),
            "moved_out": cut(self.moved_out),
            "births": cut(self.births),
            "move_ins": cut(self.move_ins),
            "ss_changes": cut(self.ss_changes),
            "absent": cut(self.absent),
            "deceased_still_paid": cut(self.deceased_still_paid),
            "new_villages": cut(self.new_villages),
        }

    def lines(self) -> list[str]:
        """Short Chinese lines for the result page and the CLI."""
        out = []
        if self.first_import:
            out.append("首次导入该类数据：全部记录均为新增。")
        for items, title in (
            (self.deaths, "新增死亡注销"),
            (self.moved_out, "新增迁出注销"),
            (self.births, "新出生"),
            (self.move_ins, "新迁入"),
            (self.ss_changes, "社保状态变化"),
            (self.absent, "本次回流中不再包含（已标记，未删除）"),
            (self.new_villages, "新出现的村（社区），请核实"),
        ):
            if items:
                out.append(f"{title}：{len(items)} 条")
        if self.deceased_still_paid:
            out.append(
                f"校核：{len(self.deceased_still_paid)} 名已死亡人员在死亡后仍有待遇发放记录，"
                "请核实并向人社部门提交纠错"
            )
        return out or ["没有需要关注的变化。"]


def build_report(
    session: Session,
    dataset: str,
    outcome: Outcome,
    *,
    batch_id: int,
    as_of: date | None,
    periods: list[int] | None,
    new_villages: list[tuple[str, str]],
) -> ChangeReport:
    report = ChangeReport(dataset=dataset, first_import=outcome.table_was_empty)
    report.new_villages = [{"code": c, "name": n} for c, n in new_villages]
    report.absent = [{"key": k, "name": n} for k, n in outcome.absent]
    labels = COLUMN_LABELS
    report.field_changes = [
        {
            "key": c.key,
            "name": c.label,
            "field": labels.get(c.column, c.column),
            "old": "" if c.old is None else str(c.old),
            "new": "" if c.new is None else str(c.new),
        }
        for c in outcome.changes
    ]
    if dataset == "person":
        _person_changes(session, report, outcome, batch_id, as_of)
    elif dataset == "ss_enrollment":
        _enrollment_changes(session, report, batch_id)
    if dataset in ("person", "ss_payment"):
        report.deceased_still_paid = deceased_still_paid(session, periods)
    return report


def _person_changes(
    session: Session, report: ChangeReport, outcome: Outcome, batch_id: int, as_of: date | None
) -> None:
    status_changes = session.execute(
        select(RecordHistory.record_key, RecordHistory.old_value, RecordHistory.new_value).where(
            RecordHistory.batch_id == batch_id,
            RecordHistory.dataset == "person",
            RecordHistory.field == "status",
        )
    ).all()
    if status_changes:
        people = {
            p.id_number: p
            for p in session.scalars(
                select(Person).where(Person.id_number.in_([k for k, _, _ in status_changes]))
            )
        }
        for key, _old, new in status_changes:
            person = people.get(key)
            item = {
                "id_number": key,
                "name": person.name if person else "",
                "date": str(person.status_date) if person and person.status_date else None,
            }
            if new == "deceased":
                report.deaths.append(item)
            elif new == "moved_out":
                report.moved_out.append(item)
    if outcome.table_was_empty:
        return
    reference = as_of or date.today()
    for record in outcome.inserted:
        item = {
            "id_number": record["id_number"],
            "name": record["name"],
            "birth_date": str(record["birth_date"]),
        }
        if record["birth_date"] >= reference - BIRTH_WINDOW:
            report.births.append(item)
        else:
            report.move_ins.append(item)


def _enrollment_changes(session: Session, report: ChangeReport, batch_id: int) -> None:
    rows = session.execute(
        select(
            RecordHistory.record_key,
            RecordHistory.field,
            RecordHistory.old_value,
            RecordHistory.new_value,
        ).where(
            RecordHistory.batch_id == batch_id,
            RecordHistory.dataset == "ss_enrollment",
            RecordHistory.field.in_(["status_code", "receiving"]),
        )
    ).all()
    schemes = codes.table(codes.SS_SCHEME)
    statuses = codes.table(codes.SS_PAYMENT_STATUS)
    names = {}
    if rows:
        ids = list({key.split("|")[0] for key, *_ in rows})
        names = dict(
            session.execute(
                select(Enrollment.id_number, Enrollment.name).where(Enrollment.id_number.in_(ids))
            ).all()
        )
    for key, column, old, new in rows:
        id_number, scheme = key.split("|")
        if column == "status_code":
            what = "缴费状态"
            old_text, new_text = statuses.label(old), statuses.label(new)
        else:
            what = "待遇领取"
            old_text = "是" if old == "1" else "否"
            new_text = "是" if new == "1" else "否"
        report.ss_changes.append(
            {
                "id_number": id_number,
                "name": names.get(id_number, ""),
                "scheme": schemes.label(scheme),
                "field": what,
                "old": old_text,
                "new": new_text,
            }
        )


def deceased_still_paid(session: Session, periods: list[int] | None = None) -> list[dict[str, Any]]:
    """校核: payments for a month after the person's death month (``periods``: only those months)."""
    deceased: dict[str, tuple[str, date]] = {}
    for number, name, died in session.execute(
        select(Person.id_number, Person.name, Person.status_date).where(
            Person.status == "deceased", Person.status_date.is_not(None)
        )
    ):
        if died is not None:
            deceased[number] = (name, died)
    if not deceased:
        return []
    found: dict[str, dict[str, Any]] = {}
    numbers = list(deceased)
    for start in range(0, len(numbers), 900):
        statement = select(Payment.id_number, Payment.period, Payment.total_fen).where(
            Payment.id_number.in_(numbers[start : start + 900])
        )
        if periods is not None:
            statement = statement.where(Payment.period.in_(periods))
        for number, period, total in session.execute(statement):
            name, died = deceased[number]
            if period <= died.year * 100 + died.month:
                continue
            item = found.setdefault(
                number,
                {
                    "id_number": number,
                    "name": name,
                    "died": str(died),
                    "periods": [],
                    "total_fen": 0,
                },
            )
            item["periods"].append(period)
            item["total_fen"] += total
    for item in found.values():
        item["periods"].sort()
    return sorted(found.values(), key=lambda i: i["id_number"])
