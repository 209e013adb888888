"""Checking a laptop's database back in: read it with the clerk's password (:func:`read_checkin`),
let the clerk choose where both sides changed a value (:meth:`CheckIn.resolve`), then apply it in
one transaction of the office's database (:func:`apply_checkin`).

A value is *typed on the laptop* when its version there differs from the version the office
recorded at check-out (or the office had none then). It is applied when the office's value is
still at that version (or still absent); it is a conflict when the office changed it too — unless
both sides now say the same. A value on a form submitted at the office meanwhile is a conflict
too, which only 「保留办公室的值」 settles (return the form first to take the laptop's). Values
the laptop's 预填 computed are not carried back (the office's 预填 computes them from the same
back-flow), nor are values outside the check-out (another period, form or village). Persons,
households and other records are never written back: they come from the back-flow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.values import COMPUTED, FormValues, display
from govshare_desktop.core.laptop.scope import (
    REASON,
    TAKE_LAPTOP,
    TAKE_OFFICE,
    TAKES,
    Scope,
    subject_labels,
)
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action, Principal
from govshare_desktop.core.security.vault import Vault, key_file_for
from govshare_desktop.core.store.engine import Store, open_store
from govshare_desktop.core.store.models import (
    FormValue,
    FormValueHistory,
    Household,
    LaptopCheckout,
    LaptopCheckoutValue,
    LaptopOrigin,
    Person,
)
from govshare_desktop.core.store.models_laptop import CANCELLED, IN, OUT
from govshare_desktop.core.store.township import get_township

Key = tuple[str, str, str]  # element, subject, period


class _MovedOn(Exception):
    """An office value changed again between reading the laptop's file and checking it in."""


@dataclass(frozen=True)
class LaptopValue:
    """A value as the laptop's database has it."""

    element: str
    subject: str
    period: str
    value: str | None
    origin: str
    reason: str | None
    computed_value: str | None
    changed_by: str
    changed_at: datetime

    @property
    def key(self) -> Key:
        return self.element, self.subject, self.period


@dataclass(frozen=True)
class Change:
    """A value typed on the laptop, and the office's value as the check-in found it."""

    laptop: LaptopValue
    office_id: int | None  # None: the office has no such value
    office_version: int | None


@dataclass
class Conflict:
    """A value both sides changed since the check-out, side by side; ``take`` once chosen."""

    element: str
    element_name: str
    subject: str
    subject_label: str  # masked
    period: str
    office_value: str  # as shown
    office_by: str
    office_at: datetime | None
    laptop_value: str
    laptop_by: str
    laptop_at: datetime
    locked: str | None  # the submitted form that locks the office's value
    change: Change = field(repr=False)
    take: str | None = None

    def describe(self) -> str:
        office = (
            f"办公室：“{self.office_value}”（{self.office_by}，{self.office_at:%Y-%m-%d %H:%M}）"
            if self.office_at is not None
            else "办公室：（无）"
        )
        lock = f"【办公室的值用于已上报的“{self.locked}”，已锁定】" if self.locked else ""
        return (
            f"{self.period} {self.subject_label} “{self.element_name}” — {office}；"
            f"笔记本：“{self.laptop_value}”（{self.laptop_by}，{self.laptop_at:%Y-%m-%d %H:%M}）{lock}"
        )


class ConflictsUnresolved(UserError):
    """Values both sides changed, not yet chosen: nothing was checked in."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        lines = "\n".join(f"  {n}. {c.describe()}" for n, c in enumerate(conflicts, 1))
        super().__init__(
            f"有 {len(conflicts)} 个数据项在笔记本和办公室都改过，须逐个选择保留哪边的值"
            f"（命令行：--take office 保留办公室的值，--take laptop 采用笔记本的值），"
            f"检入没有执行：\n{lines}"
        )


@dataclass
class CheckIn:
    """A laptop's database read, ready to check in: what will be applied, the conflicts to
    choose, what is left out. Holds the laptop's key (in memory) to mark the file afterwards."""

    path: Path
    checkout_id: str
    village: str
    village_name: str
    checked_out_by: str
    checked_out_at: datetime
    scope: str
    changes: list[Change]
    conflicts: list[Conflict]
    same: int  # typed on the laptop as the office has it now
    computed: int  # computed by the laptop's 预填: not carried back
    ignored: list[str]  # typed outside the check-out: not carried back
    key: bytes | None = field(repr=False, default=None)

    def resolve(self, conflict: Conflict, take: str) -> None:
        """The clerk's choice for one conflict: ``"office"`` or ``"laptop"``."""
        if take not in TAKES:
            raise UserError(f"“{take}”不是可选的处理方式：office（{TAKES[TAKE_OFFICE]}）或 laptop")
        if take == TAKE_LAPTOP and conflict.locked:
            raise UserError(
                f"“{conflict.element_name}”（{conflict.subject_label}）用于已上报的报表"
                f"“{conflict.locked}”，已锁定，只能保留办公室的值；如需采用笔记本的值，请先将该报表退回"
            )
        conflict.take = take

    @property
    def unresolved(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.take is None]


@dataclass(frozen=True)
class CheckedIn:
    village: str
    village_name: str
    applied: int
    took_laptop: int
    kept_office: int
    same: int
    computed: int
    ignored: int
    warning: str | None  # the laptop's file could not be marked (the office is checked in)

    def summary(self) -> str:
        text = (
            f"已检入{self.village_name}（{self.village}）：写入笔记本上录入的值 {self.applied} 个"
        )
        if self.took_laptop or self.kept_office:
            text += f"；冲突 {self.took_laptop + self.kept_office} 个，采用笔记本的值 "
            text += f"{self.took_laptop} 个，保留办公室的值 {self.kept_office} 个（均记入修改历史）"
        if self.same:
            text += f"；两边相同 {self.same} 个"
        if self.computed:
            text += f"；笔记本预填计算的值 {self.computed} 个不写回（以办公室预填为准）"
        if self.ignored:
            text += f"；不在检出范围内的值 {self.ignored} 个未检入"
        text += "。人员、户籍等记录不写回（以回流数据为准）。该村已不再处于检出状态。"
        return text + (f"\n注意：{self.warning}" if self.warning else "")


# ---------------------------------------------------------------- reading the laptop


def read_checkin(
    store: Store, pool: FormValues, path: Path, password: str, *, now: datetime
) -> CheckIn:
    """The laptop's database at ``path``, opened with its clerk's ``password`` and compared with
    the office's values. Refused in Chinese for a file that is no check-out, one of another
    township or database, a check-out already checked in or cancelled, or a wrong password."""
    store.principal.require(Action.EDIT_FORMS)
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise UserError(f"检出文件 {path} 不存在")
    if not key_file_for(path).is_file():
        raise UserError(
            f"检出文件旁没有它的密钥文件 {key_file_for(path).name}（检出时与数据库一起写出），"
            "无法打开：请把两个文件一起复制过来"
        )
    vault = Vault.load(path)
    owner = next(iter(vault.users)) if len(vault.users) == 1 else store.principal.username
    try:
        key = vault.unlock(owner, password, now)
    except UserError:
        raise UserError(f"密码不正确：检出文件要用检出人 {owner} 的密码打开") from None
    laptop = open_store(path, key=key if vault.cipher == "sqlcipher" else None)
    try:
        with laptop.sessions() as session:
            origin = session.scalar(select(LaptopOrigin))
            if origin is None:
                raise UserError(f"{path.name} 不是笔记本检出文件（其中没有检出记录），不能检入")
            typed, subjects = _laptop_values(session, origin.village_code)
    except DatabaseError as exc:
        raise UserError(f"检出文件 {path} 无法读取（{exc.orig or exc}）") from None
    finally:
        laptop.dispose()
    with store.sessions() as session:
        record = _refuse(session, origin)
        scope = Scope.of(
            record.village_code, record.period, json.loads(record.forms), pool.templates
        )
        labels = subject_labels(session, record.village_code, subjects)
        plan = CheckIn(
            path,
            record.checkout_id,
            record.village_code,
            origin.village_name,
            record.checked_out_by,
            record.checked_out_at,
            scope.describe(),
            [],
            [],
            0,
            0,
            [],
            key,
        )
        _plan(session, pool, plan, scope, typed, subjects, labels)
    return plan


def _laptop_values(
    session: Session, village: str
) -> tuple[list[tuple[LaptopValue, int]], set[str]]:
    """Every value in the laptop's database with its version, and the village's subjects there."""
    subjects = {village}
    subjects |= set(
        session.scalars(select(Household.household_no).where(Household.village_code == village))
    )
    subjects |= set(session.scalars(select(Person.id_number).where(Person.village_code == village)))
    found = [
        (
            LaptopValue(
                row.element,
                row.subject,
                row.period,
                row.value,
                row.origin,
                row.reason,
                row.computed_value,
                row.changed_by,
                row.changed_at,
            ),
            row.version,
        )
        for row in session.scalars(select(FormValue))
    ]
    return found, subjects


def _refuse(session: Session, origin: LaptopOrigin) -> LaptopCheckout:
    """The office's record of the check-out the laptop's file is, if it may be checked in."""
    township = get_township(session)
    if township is None or township.code != origin.township_code:
        here = f"{township.name}（{township.code}）" if township else "（未初始化）"
        raise UserError(
            f"该检出文件来自{origin.township_name}（{origin.township_code}）的数据库，"
            f"不是本乡镇（街道）{here}的，不能检入"
        )
    record = session.get(LaptopCheckout, origin.checkout_id)
    what = (
        f"{origin.village_name}（{origin.village_code}），{origin.checked_out_at:%Y-%m-%d %H:%M} "
        f"由 {origin.checked_out_by} 检出"
    )
    if record is None or record.village_code != origin.village_code:
        raise UserError(
            f"本数据库没有这次检出的记录（{what}，检出自 {origin.office}）："
            "该文件不是从本数据库检出的，或该村（社区）没有检出，不能检入"
        )
    if origin.checked_in_at is not None or record.state == IN:
        at = record.ended_at or origin.checked_in_at
        by = record.ended_by or origin.checked_in_by
        raise UserError(
            f"该检出文件（{what}）已于 {at:%Y-%m-%d %H:%M} 由 {by} 检入，不能再次检入"
            if at is not None
            else f"该检出文件（{what}）已检入，不能再次检入"
        )
    if record.state == CANCELLED:
        ended = f"{record.ended_at:%Y-%m-%d %H:%M}" if record.ended_at else ""
        raise UserError(
            f"这次检出（{what}）已于 {ended} 由 {record.ended_by} 作废"
            f"（{json.loads(record.result or '{}').get('reason', '')}），不能检入；"
            "笔记本上录入的数据请在办公室重新录入"
        )
    if record.state != OUT:
        raise UserError(f"这次检出（{what}）的状态为“{record.state}”，不能检入")
    return record


def _plan(
    session: Session,
    pool: FormValues,
    plan: CheckIn,
    scope: Scope,
    typed: list[tuple[LaptopValue, int]],
    subjects: set[str],
    labels: dict[str, str],
) -> None:
    """Sort what the laptop typed: to apply, in conflict, the same on both sides, left out."""
    taken: dict[Key, tuple[int, FormValue]] = {
        (row.element, row.subject, row.period): (version, row)
        for version, row in session.execute(
            select(LaptopCheckoutValue.version, FormValue)
            .join(FormValue, FormValue.id == LaptopCheckoutValue.value_id)
            .where(LaptopCheckoutValue.checkout_id == plan.checkout_id)
        )
    }
    changed = [
        value
        for value, version in typed
        if value.key not in taken or taken[value.key][0] != version
    ]
    office = _office_rows(session, [v for v in changed if v.key not in taken])
    for value in changed:
        if value.origin == COMPUTED:  # the laptop's 预填 (of the village or the township)
            plan.computed += 1
            continue
        element = pool.dictionary.get(value.element)
        if (
            element is None
            or value.subject not in subjects
            or not scope.covers(value.element, value.period)
        ):
            plan.ignored.append(f"{value.period} {value.subject} {value.element}")
            continue
        snapshot: int | None = None
        row = office.get(value.key)
        if value.key in taken:
            snapshot, row = taken[value.key]
        if row is not None and (row.value, row.origin) == (value.value, value.origin):
            plan.same += 1
            continue
        unchanged = (
            row is None if snapshot is None else (row is not None and row.version == snapshot)
        )
        change = Change(value, row.id if row else None, row.version if row else None)
        locked = pool._locked_by(session, value.element, value.subject, Period.parse(value.period))
        if unchanged and not locked:
            plan.changes.append(change)
            continue
        plan.conflicts.append(
            Conflict(
                value.element,
                element.name,
                value.subject,
                labels.get(value.subject, value.subject),
                value.period,
                display(element, row.value) if row else "",
                row.changed_by if row else "",
                row.changed_at if row else None,
                display(element, value.value),
                value.changed_by,
                value.changed_at,
                locked,
                change,
            )
        )


def _office_rows(session: Session, values: list[LaptopValue]) -> dict[Key, FormValue]:
    """The office's values of these keys, where it has them."""
    wanted = {v.key for v in values}
    subjects = sorted({v.subject for v in values})
    found: dict[Key, FormValue] = {}
    for start in range(0, len(subjects), 500):
        for row in session.scalars(
            select(FormValue).where(FormValue.subject.in_(subjects[start : start + 500]))
        ):
            key = (row.element, row.subject, row.period)
            if key in wanted:
                found[key] = row
    return found


# ---------------------------------------------------------------- applying


def apply_checkin(
    store: Store, pool: FormValues, plan: CheckIn, *, take: str | None = None, now: datetime
) -> CheckedIn:
    """Check ``plan`` in, in one transaction: the values typed on the laptop, each conflict as
    chosen (``take`` chooses for those not yet chosen), history and audit; the village is then
    no longer out. Conflicts left unchosen refuse the whole check-in
    (:class:`ConflictsUnresolved`), as does an office value changed again since ``plan`` was
    read (read the file again). Afterwards the laptop's file is marked as checked in."""
    principal = store.principal
    principal.require(Action.EDIT_FORMS)
    if take is not None:
        for conflict in plan.unresolved:
            plan.resolve(conflict, take)
    if plan.unresolved:
        raise ConflictsUnresolved(plan.unresolved)
    took = [c for c in plan.conflicts if c.take == TAKE_LAPTOP]
    kept = [c for c in plan.conflicts if c.take == TAKE_OFFICE]
    result = {
        "checkout": plan.checkout_id,
        "file": str(plan.path),
        "applied": len(plan.changes),
        "took_laptop": len(took),
        "kept_office": len(kept),
        "same": plan.same,
        "computed": plan.computed,
        "ignored": len(plan.ignored),
    }
    try:
        with store.transaction() as session:
            record = session.get(LaptopCheckout, plan.checkout_id, with_for_update=True)
            if record is None or record.state != OUT:
                raise UserError("这次检出已被检入或作废（可能在另一台电脑上），检入没有执行")
            for change in plan.changes:
                _write(session, pool, change, REASON)
            for conflict in took:
                chosen = (
                    f"{REASON}（与办公室的修改冲突，选用笔记本的值；办公室原为"
                    f"“{conflict.office_value}”，{conflict.office_by}）"
                )
                _write(session, pool, conflict.change, chosen)
            for conflict in kept:
                _keep(session, conflict, principal, now)
            record.state, record.ended_by, record.ended_at = IN, principal.username, now
            record.result = json.dumps(result, ensure_ascii=False)
            audit_trail(store).record(
                session, principal, "laptop_checkin", plan.village, detail=result, now=now
            )
    except (StaleDataError, IntegrityError, _MovedOn):  # another clerk saved one just now
        raise UserError(
            "检入时办公室又有人修改了其中的数据，检入没有执行：请重新检入（重新读取检出文件）"
        ) from None
    warning = _mark_laptop(plan, principal, now)
    return CheckedIn(
        plan.village,
        plan.village_name,
        len(plan.changes),
        len(took),
        len(kept),
        plan.same,
        plan.computed,
        len(plan.ignored),
        warning,
    )


def _write(session: Session, pool: FormValues, change: Change, reason: str) -> None:
    """The laptop's value into the office's, if the office's is still as the plan found it."""
    value = change.laptop
    row = session.scalar(
        select(FormValue).where(
            FormValue.element == value.element,
            FormValue.subject == value.subject,
            FormValue.period == value.period,
        )
    )
    if (row.version if row else None) != change.office_version:
        raise _MovedOn()
    locked = pool._locked_by(session, value.element, value.subject, Period.parse(value.period))
    if locked:
        name = pool.dictionary[value.element].name
        raise UserError(f"“{name}”用于已上报的报表“{locked}”，已锁定，检入没有执行")
    old = (row.value, row.origin) if row else (None, None)
    if row is None:
        row = FormValue(
            element=value.element,
            subject=value.subject,
            period=value.period,
            value=value.value,
            origin=value.origin,
            computed_value=value.computed_value,
            reason=value.reason,
            changed_by=value.changed_by,
            changed_at=value.changed_at,
        )
        session.add(row)
    else:
        row.value, row.origin, row.reason = value.value, value.origin, value.reason
        row.changed_by, row.changed_at = value.changed_by, value.changed_at
    session.flush()
    session.add(
        FormValueHistory(
            value_id=row.id,
            old_value=old[0],
            new_value=value.value,
            old_origin=old[1],
            new_origin=value.origin,
            reason=reason + (f"：{value.reason}" if value.reason else ""),
            changed_by=value.changed_by,
            changed_at=value.changed_at,
        )
    )


def _keep(session: Session, conflict: Conflict, principal: Principal, now: datetime) -> None:
    """The office's value kept: the laptop's, not taken, goes into the value's history."""
    change = conflict.change
    if change.office_id is None:
        return  # nothing at the office to keep a history of: the laptop's value is dropped
    row = session.get(FormValue, change.office_id)
    if row is None or row.version != change.office_version:
        raise _MovedOn()
    session.add(
        FormValueHistory(
            value_id=row.id,
            old_value=row.value,
            new_value=row.value,
            old_origin=row.origin,
            new_origin=row.origin,
            reason=(
                f"{REASON}：与办公室的修改冲突，保留办公室的值；笔记本上 {conflict.laptop_by} 于 "
                f"{conflict.laptop_at:%Y-%m-%d %H:%M} 填为“{conflict.laptop_value}”，未采用"
            ),
            changed_by=principal.username,
            changed_at=now,
        )
    )


def _mark_laptop(plan: CheckIn, principal: Principal, now: datetime) -> str | None:
    """The laptop's file says it was checked in (and its audit trail too); a failure here is a
    warning — the office's record already refuses a second check-in."""
    try:
        vault = Vault.load(plan.path)
        laptop = open_store(plan.path, key=plan.key if vault.cipher == "sqlcipher" else None)
        laptop = laptop.acting(principal, plan.key)
        try:
            with laptop.transaction() as session:
                origin = session.get(LaptopOrigin, plan.checkout_id)
                if origin is not None:
                    origin.checked_in_by, origin.checked_in_at = principal.username, now
                audit_trail(laptop).record(
                    session,
                    principal,
                    "laptop_checkin",
                    plan.village,
                    detail={"checkout": plan.checkout_id},
                    now=now,
                )
        finally:
            laptop.dispose()
    except Exception as exc:  # the file went read-only, the stick was pulled out …
        return f"检出文件 {plan.path} 未能标记为已检入（{exc}）；办公室已记录检入，它不能再次检入"
    return None
