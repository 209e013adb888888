"""Checking a village out to a laptop: a new database, set up for the clerk alone, with what the
village's forms need, and the office's record of it — in one transaction of the office's database.

The laptop's database is built under temporary names (``<file>.setup`` and its key file) while the
office's transaction is open, renamed into place (key file first, as a setup does: :class:`~
govshare_desktop.core.security.signin.PendingSetup`), and only then is the office's transaction
committed: a check-out that fails leaves neither the file nor the record. The values are read once,
in that transaction: the versions recorded are those of the values copied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.catalog import TemplateSet
from govshare_desktop.core.laptop.scope import Scope, village_name
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action, Principal
from govshare_desktop.core.security.signin import PendingSetup
from govshare_desktop.core.security.signin_base import vault_of
from govshare_desktop.core.security.vault import Vault, key_file_for, new_recovery_secret
from govshare_desktop.core.store.engine import Store, open_store, sqlcipher_available
from govshare_desktop.core.store.models import (
    Account,
    AllowancePayment,
    Area,
    Assistance,
    Base,
    Batch,
    Cremation,
    DeathCertificate,
    DisabilityCard,
    Enrollment,
    FormStatus,
    FormValue,
    FormValueHistory,
    Household,
    LaptopCheckout,
    LaptopCheckoutValue,
    LaptopOrigin,
    MedicalEnrollment,
    Payment,
    Person,
    ReportTask,
    Setting,
    StoredElements,
    StoredTemplate,
    table_of,
)
from govshare_desktop.core.store.models_laptop import OUT
from govshare_desktop.core.store.summary import rebuild as rebuild_summary
from govshare_desktop.core.store.township import KEY_DEMO, KEY_TOWNSHIP_CODE, Township, get_township

# Records of a person, found by ID number (and by village where they carry one).
PERSON_RECORDS: tuple[type[Any], ...] = (
    Enrollment,
    Payment,
    MedicalEnrollment,
    Assistance,
    AllowancePayment,
    DisabilityCard,
    DeathCertificate,
    Cremation,
)
SETUP_SUFFIX = ".setup"


@dataclass(frozen=True)
class CheckedOut:
    """What a check-out wrote: the laptop's database (and its key file beside it, which goes with
    it) and what it holds."""

    checkout_id: str
    village: str
    village_name: str
    path: Path
    keys: Path
    scope: str  # the period and forms, as a phrase
    households: int
    persons: int
    values: int
    encrypted: bool

    def summary(self) -> str:
        secured = "已加密" if self.encrypted else "本机无法使用 SQLCipher，未加密"
        return (
            f"已将{self.village_name}（{self.village}）检出到 {self.path}（{secured}）："
            f"{self.households} 户，{self.persons} 人，一表通数据 {self.values} 个（{self.scope}）。"
            f"请把该文件和同名的 .keys 密钥文件一起带到笔记本上，用本人的账户和密码登录。"
        )


def check_out(
    store: Store,
    templates: TemplateSet,
    village: str,
    out: Path,
    *,
    password: str,
    period: str | None = None,
    forms: tuple[str, ...] = (),
    laptop: str = "",
    task: str | None = None,
    now: datetime,
) -> CheckedOut:
    """Check ``village`` out into a new database at ``out`` for the signed-in clerk, whose
    ``password`` (checked against the office's keys) will open it. Refused in Chinese for a
    village not of this township, one already out, a file already there or a wrong password.
    ``task``: a report task from the county — its form and period are the scope, and the task
    goes with the village (the laptop's 报表任务 page shows it, deadline and all)."""
    principal = store.principal
    principal.require(Action.EDIT_FORMS)
    out = Path(out).expanduser().resolve()
    _refuse_target(store, out)
    period, forms, task_row = _asked(store, templates, village, period, forms, task)
    _check_password(store, principal.username, password, now)
    scope = Scope.of(village, period, forms, templates)
    checkout_id = str(uuid.uuid4())
    built = False
    try:
        with store.transaction() as session:
            township = _township_and_village(session, village)
            values = list(session.scalars(select(FormValue).where(scope.values())))
            record = _mark_out(session, scope, checkout_id, out, laptop, values, principal, now)
            origin = LaptopOrigin(
                checkout_id=checkout_id,
                township_code=township.code,
                township_name=township.name,
                office=store.where,
                village_code=village,
                village_name=village_name(session, village),
                period=period,
                forms=scope.forms_json,
                laptop=record.laptop,
                checked_out_by=principal.username,
                checked_out_at=now,
            )
            tasks = [task_row] if task_row else []
            counts = _build(session, store, out, password, origin, values, township, tasks, now)
            built = True
            detail = {
                "checkout": checkout_id,
                "file": str(out),
                "laptop": record.laptop,
                "period": period,
                "forms": list(forms),
                **({"task": task_row["task_id"]} if task_row else {}),
                **counts,
            }
            audit_trail(store).record(
                session, principal, "laptop_checkout", village, detail=detail, now=now
            )
    except BaseException:
        if built:  # the office did not record it: the file would be a check-out of nothing
            _remove(out)
        raise
    return CheckedOut(
        checkout_id,
        village,
        origin.village_name,
        out,
        key_file_for(out),
        scope.describe() + (f"，报表任务 {task_row['task_id']}" if task_row else ""),
        counts["households"],
        counts["persons"],
        counts["values"],
        sqlcipher_available(),
    )


def _mark_out(
    session: Session,
    scope: Scope,
    checkout_id: str,
    out: Path,
    laptop: str,
    values: list[FormValue],
    principal: Principal,
    now: datetime,
) -> LaptopCheckout:
    """The office's record of the check-out and of each value's version."""
    record = LaptopCheckout(
        checkout_id=checkout_id,
        village_code=scope.village,
        period=scope.period,
        forms=scope.forms_json,
        state=OUT,
        file_name=str(out),
        laptop=laptop.strip(),
        value_count=len(values),
        checked_out_by=principal.username,
        checked_out_at=now,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # another PC checked the same village out a moment ago
        raise UserError(f"村（社区）{scope.village} 刚被其他人检出，不能再次检出") from None
    if values:
        session.execute(
            insert(LaptopCheckoutValue),
            [{"checkout_id": checkout_id, "value_id": v.id, "version": v.version} for v in values],
        )
    return record


def _asked(
    store: Store,
    templates: TemplateSet,
    village: str,
    period: str | None,
    forms: tuple[str, ...],
    task: str | None,
) -> tuple[str | None, tuple[str, ...], dict[str, Any] | None]:
    """The period, forms and report task asked for, checked — said before the password is."""
    task_row: dict[str, Any] | None = None
    with store.sessions() as session:
        if task:
            task_row = _task(session, task.strip(), village, period, forms)
            period, forms = task_row["period"], (task_row["template_id"],)
        for template_id in forms:
            if template_id not in templates:
                raise UserError(f"没有报表“{template_id}”：请用 govshare forms list 查看报表编号")
        _township_and_village(session, village)
    return period, forms, task_row


def _task(
    session: Session, task_id: str, village: str, period: str | None, forms: tuple[str, ...]
) -> dict[str, Any]:
    """The report task's row, refused when it does not fit what else was asked for."""
    row = session.get(ReportTask, task_id)
    if row is None:
        raise UserError(f"没有报表任务“{task_id}”：请在「报表任务」页查看任务编号")
    area = session.get(Area, row.area)  # a task of the township covers each of its villages
    if row.area != village and area is not None and area.level == "village":
        raise UserError(f"报表任务“{task_id}”是{area.name}（{row.area}）的，不是 {village} 的")
    if (period and period != row.period) or (forms and tuple(forms) != (row.template_id,)):
        raise UserError(
            f"报表任务“{task_id}”已定了统计期（{row.period}）和报表（{row.template_id}），"
            "不必再另外指定"
        )
    return {c.key: getattr(row, c.key) for c in table_of(ReportTask).columns}


def _refuse_target(store: Store, out: Path) -> None:
    if out.suffix.lower() != ".db":
        raise UserError(f"检出文件“{out.name}”应以 .db 结尾（它是一个数据库文件）")
    if store.path is not None and out == store.path.resolve():
        raise UserError("检出文件不能是本数据库自身，请另选一个文件名")
    for path in (out, key_file_for(out)):
        if path.exists():
            raise UserError(f"文件 {path} 已存在：检出不会覆盖已有文件，请另选文件名或先移走它")
    if not out.parent.is_dir():
        raise UserError(f"文件夹 {out.parent} 不存在")


def _check_password(store: Store, username: str, password: str, now: datetime) -> None:
    """The clerk's password, checked as a sign-in checks it (a wrong one counts towards the
    lockout): the laptop's database will open with it."""
    vault = vault_of(store)
    try:
        vault.unlock(username, password, now)
    except UserError:
        vault.note_failure(username, now)
        raise UserError("密码不正确：检出的数据库要用您登录本数据库的密码打开") from None


def _township_and_village(session: Session, village: str) -> Township:
    township = get_township(session)
    if township is None:
        raise UserError("尚未初始化乡镇（街道），请先运行 govshare init")
    area = session.get(Area, village)
    if area is None or area.level != "village" or area.parent_code != township.code:
        raise UserError(f"“{village}”不是本乡镇（街道）{township.name}的村（社区）代码")
    out = session.scalar(
        select(LaptopCheckout).where(
            LaptopCheckout.village_code == village, LaptopCheckout.state == OUT
        )
    )
    if out is not None:
        raise UserError(
            f"{area.name}（{village}）已于 {out.checked_out_at:%Y-%m-%d %H:%M} 由 "
            f"{out.checked_out_by} 检出到笔记本（{out.file_name}），尚未检入；"
            "请先检入，或作废那次检出（笔记本丢失时）"
        )
    return township


def _build(
    session: Session,
    store: Store,
    out: Path,
    password: str,
    origin: LaptopOrigin,
    values: list[FormValue],
    township: Township,
    tasks: list[dict[str, Any]],
    now: datetime,
) -> dict[str, int]:
    """The laptop's database at ``out`` (and its key file), for the signed-in clerk alone."""
    temp = out.with_name(out.name + SETUP_SUFFIX)
    for suffix in ("", "-wal", "-shm", "-journal", ".keys"):
        Path(f"{temp}{suffix}").unlink(missing_ok=True)
    cipher = sqlcipher_available()
    vault, dek = Vault.create(temp, "sqlcipher" if cipher else "none", new_recovery_secret())
    vault.recovery = None  # the office keeps the data: a forgotten password loses only the laptop
    principal = store.principal
    vault.add_user(principal.username, password, dek, must_change=False)
    vault.save()
    laptop = open_store(temp, key=dek if cipher else None).acting(principal, dek)
    pending = PendingSetup(out, laptop, None, "", dek, cipher)
    try:
        with laptop.transaction() as target:
            counts = _copy(session, target, origin.village_code, values, township)
            _put(target, ReportTask, tasks)
            rebuild_summary(target)  # the laptop's 预填 reads its own summary
            _account(session, target, principal, now)
            target.add(origin)
            audit_trail(laptop).record(
                target,
                principal,
                "laptop_checkout",
                origin.village_code,
                detail={"checkout": origin.checkout_id, "office": origin.office, **counts},
                now=now,
            )
        pending.finish().store.dispose()
    except BaseException:
        pending.abandon()
        raise
    return counts


def _account(session: Session, target: Session, principal: Principal, now: datetime) -> None:
    account = session.get(Account, principal.username)
    assert principal.role is not None
    target.add(
        Account(
            username=principal.username,
            display_name=account.display_name if account else principal.username,
            role=principal.role.value,
            disabled=False,
            created_by="laptop_checkout",
            created_at=now,
        )
    )


def _rows(session: Session, model: type[Base], *where: Any) -> list[dict[str, Any]]:
    table = table_of(model)
    return [dict(row) for row in session.execute(select(table).where(*where)).mappings()]


def _put(target: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        target.execute(insert(table_of(model)), rows[start : start + 1000])


def _copy(
    session: Session,
    target: Session,
    village: str,
    values: list[FormValue],
    township: Township,
) -> dict[str, int]:
    """The township, the village and what its forms read, copied row for row (same keys)."""
    areas = _rows(session, Area, Area.code.in_([township.county_code, township.code, village]))
    areas.sort(key=lambda a: ("county", "township", "village").index(a["level"]))
    households = _rows(session, Household, Household.village_code == village)
    persons = _rows(session, Person, Person.village_code == village)
    kept_households = {h["id"] for h in households}
    for person in persons:
        if person["household_id"] not in kept_households:
            person["household_id"] = None  # a household registered in another village
    numbers = select(Person.id_number).where(Person.village_code == village)
    records: list[tuple[type[Base], list[dict[str, Any]]]] = []
    for model in PERSON_RECORDS:
        where = model.id_number.in_(numbers)
        if hasattr(model, "village_code"):
            where = or_(where, model.village_code == village)
        rows = _rows(session, model, where)
        for row in rows:
            if row.get("village_code") not in (None, village):
                row["village_code"] = None  # another village: not in this database
        records.append((model, rows))
    keys = [column.key for column in table_of(FormValue).columns]
    value_rows = [{key: getattr(v, key) for key in keys} for v in values]
    ids = [v.id for v in values]
    history = []
    for start in range(0, len(ids), 500):
        history += _rows(
            session, FormValueHistory, FormValueHistory.value_id.in_(ids[start : start + 500])
        )
    batches = {
        row[key]
        for rows in [households, persons, value_rows, *(rows for _m, rows in records)]
        for row in rows
        for key in ("batch_id", "absent_batch_id")
        if row.get(key) is not None
    }
    batch_rows = _rows(session, Batch, Batch.id.in_(sorted(batches))) if batches else []
    for batch in batch_rows:
        batch["package_id"] = None  # the packages stay at the office
    settings = _rows(session, Setting, Setting.key.in_([KEY_TOWNSHIP_CODE, KEY_DEMO]))
    statuses = _rows(session, FormStatus, FormStatus.area.in_([village, township.code]))
    tables: list[tuple[type[Base], list[dict[str, Any]]]] = [
        (Setting, settings),
        (Area, areas),
        (Batch, batch_rows),
        (Household, households),
        (Person, persons),
        *records,
        (FormValue, value_rows),
        (FormValueHistory, history),
        (FormStatus, statuses),
        (StoredTemplate, _rows(session, StoredTemplate)),
        (StoredElements, _rows(session, StoredElements)),
    ]
    for model, rows in tables:
        _put(target, model, rows)
    return {"households": len(households), "persons": len(persons), "values": len(value_rows)}


def _remove(out: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    key_file_for(out).unlink(missing_ok=True)
