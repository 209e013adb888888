"""The change report a clerk can act on after an import: who died or moved out, who was born or
moved in, whose social-security status changed, what is no longer in the back-flow, which records
were left as they were because their rows were rejected, and the findings (校核) that need a look
or a 纠错 — a deceased person still being paid a pension, amounts of payments already received that
the new file states differently."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.apply import Outcome
from govshare_desktop.core.backflow.fields import datasets
from govshare_desktop.core.domain import codes
from govshare_desktop.core.store.models import Enrollment, Payment, Person, RecordHistory

BIRTH_WINDOW = timedelta(days=366)
KEPT_LABELS = {
    "person": "人员",
    "household": "户",
    "ss_enrollment": "参保",
    "ss_payment": "待遇发放",
    "assistance": "救助",
    "allowance_payment": "津贴发放",
    "medical_enrollment": "医保参保",
    "cremation": "火化",
    "death_certificate": "死亡医学证明",
    "disability_card": "残疾人证",
}

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
    # Rejected rows and the existing records left exactly as they were because of them.
    rejected_rows: list[int] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    kept_count: int = 0
    spared_everything: list[int] = field(default_factory=list)  # rows that named nobody readable
    # 校核: existing payments (same 公民身份号码 and month) whose amounts the file changes.
    amount_changes: list[dict[str, Any]] = field(default_factory=list)
    amount_change_count: int = 0
    amount_change_total_fen: int = 0  # new minus old 实发金额, summed (signed)
    # Exact counts: the lists of births, move-ins and absent records keep only the first few
    # thousand (``Outcome.keep_details``).
    births_count: int = 0
    move_ins_count: int = 0
    absent_count: int = 0

    def summary_counts(self) -> dict[str, int]:
        return {
            "deaths_reported": len(self.deaths),
            "moved_out_reported": len(self.moved_out),
            "births": self.births_count,
            "move_ins": self.move_ins_count,
            "ss_status_changes": len(self.ss_changes),
            "new_villages": len(self.new_villages),
            "kept_for_rejected_rows": self.kept_count,
            "amount_changes": self.amount_change_count,
            "amount_change_total_fen": self.amount_change_total_fen,
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
            "births_count": self.births_count,
            "move_ins_count": self.move_ins_count,
            "absent_count": self.absent_count,
            "deceased_still_paid": cut(self.deceased_still_paid),
            "new_villages": cut(self.new_villages),
            "kept": cut(self.kept),
            "kept_count": self.kept_count,
            "spared_everything": self.spared_everything,
            "amount_changes": cut(self.amount_changes),
            "amount_change_count": self.amount_change_count,
            "amount_change_total_fen": self.amount_change_total_fen,
        }

    def lines(self) -> list[str]:
        """Short Chinese lines for the result page and the CLI."""
        out = []
        if self.first_import:
            out.append("首次导入该类数据：全部记录均为新增。")
        for count, title in (
            (len(self.deaths), "新增死亡注销"),
            (len(self.moved_out), "新增迁出注销"),
            (self.births_count, "新出生"),
            (self.move_ins_count, "新迁入"),
            (len(self.ss_changes), "社保状态变化"),
            (self.absent_count, "本次回流中不再包含（已标记，未删除）"),
            (len(self.new_villages), "新出现的村（社区），请核实"),
        ):
            if count:
                out.append(f"{title}：{count:,} 条")
        if self.rejected_rows:
            rows = _rows_text(self.rejected_rows)
            if self.kept_count:
                counts: dict[str, int] = {}
                for item in self.kept:
                    counts[item["dataset"]] = counts.get(item["dataset"], 0) + 1
                what = "、".join(f"{KEPT_LABELS.get(d, d)} {n} 条" for d, n in counts.items())
                out.append(
                    f"拒收的行（{rows}）没有改动任何记录：{self.kept_count} 条已有记录（{what}）"
                    "因所在行被拒收而保持原样（未清空字段，未标记为“不在最新回流中”）"
                )
            else:
                out.append(f"拒收的行（{rows}）没有改动任何记录")
        if self.spared_everything:
            out.append(
                f"{_rows_text(self.spared_everything)}被拒收且看不出是哪条记录，为稳妥起见，"
                "本次没有把任何记录标记为“不在最新回流中”"
            )
        if self.deceased_still_paid:
            out.append(
                f"校核：{len(self.deceased_still_paid)} 名已死亡人员在死亡后仍有待遇发放记录，"
                "请核实并向人社部门提交纠错"
            )
        if self.amount_change_count:
            out.append(
                f"校核：{self.amount_change_count} 条已有的待遇发放记录（同一人、同一发放年月）"
                f"金额与此前不同，实发金额合计差额 {yuan(self.amount_change_total_fen, signed=True)} 元，"
                "请向人社部门核实"
            )
        return out or ["没有需要关注的变化。"]

    def amount_change_lines(self, mask: Callable[[dict[str, Any]], str] | None = None) -> list[str]:
        """One line per changed payment: who, month, each amount old → new (in yuan)."""
        out = []
        for item in self.amount_changes:
            who = mask(item) if mask else f"{item['name']}（{item['id_number']}）"
            amounts = "，".join(
                f"{c['field']} {yuan(c['old_fen'])} → {yuan(c['new_fen'])}" for c in item["changes"]
            )
            out.append(
                f"{who} {_period_text(item['period'])}：{amounts}"
                f"（差额 {yuan(item['difference_fen'], signed=True)} 元）"
            )
        return out


def yuan(fen: int | None, *, signed: bool = False) -> str:
    """Integer fen as yuan with two decimals (``+1,110.78`` when ``signed``)."""
    if fen is None:
        return ""
    sign = "+" if signed and fen > 0 else "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _period_text(period: int) -> str:
    return f"{period // 100}-{period % 100:02d}"


def _rows_text(rows: list[int], limit: int = 10) -> str:
    shown = "、".join(str(r) for r in rows[:limit])
    more = f" 等 {len(rows)} 行" if len(rows) > limit else " 行"
    return f"第 {shown}{more}"


def build_report(
    session: Session,
    dataset: str,
    outcome: Outcome,
    *,
    batch_id: int,
    as_of: date | None,
    periods: list[int] | None,
    new_villages: list[tuple[str, str]],
    rejected_rows: list[int] | None = None,
    kept: list[tuple[str, str, str, tuple[int, ...]]] | None = None,
    spared_everything: list[int] | None = None,
) -> ChangeReport:
    report = ChangeReport(dataset=dataset, first_import=outcome.table_was_empty)
    report.new_villages = [{"code": c, "name": n} for c, n in new_villages]
    report.rejected_rows = list(rejected_rows or [])
    report.spared_everything = list(spared_everything or [])
    report.kept = [
        {"dataset": d, "key": k, "name": n, "rows": list(rows)} for d, k, n, rows in kept or []
    ]
    report.kept_count = len(report.kept)
    report.absent = [{"key": k, "name": n} for k, n in outcome.absent]
    report.absent_count = outcome.counts.absent
    labels = _column_labels(dataset)
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
    if dataset == "ss_payment":
        _amount_changes(session, report, batch_id)
    return report


def _column_labels(dataset: str) -> dict[str, str]:
    """Store columns as the clerk knows them: the shared ones above for the 公安 and 人社
    datasets; the others store their fields under the fields' own keys, so their labels in
    datasets.json come first (a 救助's status_code is its 保障状态, not a 缴费状态)."""
    if dataset in ("household", "person", "ss_enrollment", "ss_payment"):
        return COLUMN_LABELS
    return COLUMN_LABELS | {f.key: f.label for f in datasets()[dataset].fields}


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
    for born, n in outcome.inserted_births.items():
        if born >= reference - BIRTH_WINDOW:
            report.births_count += n
        else:
            report.move_ins_count += n
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


AMOUNT_COLUMNS = ("basic_fen", "account_fen", "total_fen")
AMOUNT_LABELS = {
    "basic_fen": "基础养老金",
    "account_fen": "个人账户养老金",
    "total_fen": "实发金额",
}
AMOUNT_DETAILS = 5000  # listed; the count and the total are always exact


def _amount_changes(session: Session, report: ChangeReport, batch_id: int) -> None:
    """校核: payments already on record whose amounts this import changed (from the history it
    wrote: one row per changed field, old and new in fen)."""
    changed = (
        RecordHistory.batch_id == batch_id,
        RecordHistory.dataset == "ss_payment",
        RecordHistory.field.in_(AMOUNT_COLUMNS),
    )
    report.amount_change_count = (
        session.scalar(select(func.count(func.distinct(RecordHistory.record_key))).where(*changed))
        or 0
    )
    if not report.amount_change_count:
        return
    report.amount_change_total_fen = int(
        session.scalar(
            select(
                func.sum(
                    cast(RecordHistory.new_value, Integer) - cast(RecordHistory.old_value, Integer)
                )
            ).where(*changed, RecordHistory.field == "total_fen")
        )
        or 0
    )
    keys = list(
        session.scalars(
            select(RecordHistory.record_key)
            .where(*changed)
            .group_by(RecordHistory.record_key)
            .order_by(RecordHistory.record_key)
            .limit(AMOUNT_DETAILS)
        )
    )
    items: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 900):
        rows = session.execute(
            select(
                RecordHistory.record_key,
                RecordHistory.field,
                RecordHistory.old_value,
                RecordHistory.new_value,
            )
            .where(*changed, RecordHistory.record_key.in_(keys[start : start + 900]))
            .order_by(RecordHistory.id)
        )
        for key, column, old, new in rows:
            number, period = key.split("|")
            item = items.setdefault(
                key,
                {
                    "id_number": number,
                    "name": "",
                    "period": int(period),
                    "changes": [],
                    "difference_fen": 0,
                },
            )
            old_fen = None if old is None else int(old)
            new_fen = None if new is None else int(new)
            item["changes"].append(
                {
                    "column": column,
                    "field": AMOUNT_LABELS[column],
                    "old_fen": old_fen,
                    "new_fen": new_fen,
                }
            )
            if column == "total_fen":
                item["difference_fen"] = (new_fen or 0) - (old_fen or 0)
    names = _names(session, list({item["id_number"] for item in items.values()}))
    for item in items.values():
        item["name"] = names.get(item["id_number"], "")
        item["changes"].sort(key=lambda c: AMOUNT_COLUMNS.index(c["column"]))
    report.amount_changes = [items[k] for k in keys if k in items]


def _names(session: Session, numbers: list[str]) -> dict[str, str]:
    """Names for 公民身份号码: from the registry, else from the enrollments."""
    names: dict[str, str] = {}
    for start in range(0, len(numbers), 900):
        chunk = numbers[start : start + 900]
        for model in (Enrollment, Person):  # the registry's name wins
            names.update(
                session.execute(
                    select(model.id_number, model.name).where(model.id_number.in_(chunk))
                ).all()
            )
    return names


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
            # ``period + 0``: looked up by the ID number's index, never by the period's. A large
            # import has just written its months: planned with statistics from before it,
            # PostgreSQL went through the million new rows of those months (2 s) for a few.
            statement = statement.where((Payment.period + 0).in_(periods))
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
