"""一表通 values: each filled once per (element, subject, period), whichever form it was entered
in, with its origin (computed from back-flow / entered / computed-then-overridden with a reason),
who and when, and its history. Forms lock when submitted and unlock when returned.

A township 统计表's 合计 row is not typed: for an additive element it is the sum of the rows shown
(the villages and, when it has something in it, the 「其他（未落户）」 row of records with no
village), for a rate a formula over other totals (``total`` in elements.toml or on a template
column). Those cells are *derived* when the form is read, never stored, and read-only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain import codes
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.compute import (
    OTHER_LABEL,
    compute_area_values,
    is_other_subject,
    other_subject,
    roster_rows,
)
from govshare_desktop.core.forms.dictionary import Element
from govshare_desktop.core.forms.expr import ExpressionError
from govshare_desktop.core.forms.templates import RuleResult, Template, evaluate_rules
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    Area,
    Batch,
    FormStatus,
    FormValue,
    FormValueHistory,
    Household,
    Person,
)
from govshare_desktop.core.store.township import get_township, villages

COMPUTED, ENTERED, OVERRIDDEN = "computed", "entered", "overridden"
DERIVED = "derived"  # a 合计 cell worked out from the form's rows, never stored
DRAFT, SUBMITTED, RETURNED = "draft", "submitted", "returned"


def canonical(element: Element, raw: Any) -> str | None:
    """The stored text of a value typed by a clerk or a script; a Chinese UserError if it is not
    a valid value of the element's type. Money is kept in fen."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    if element.type in ("integer", "decimal", "money"):  # thousands separators: 1,234
        text = text.replace(",", "").replace("，", "")
    what = f"“{element.name}”"
    if element.type == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise UserError(f"{what}应填整数，“{raw}”不是整数")
        return str(int(text))
    if element.type in ("decimal", "money"):
        try:
            number = Decimal(text.removesuffix("元"))
        except InvalidOperation:
            raise UserError(f"{what}应填数字，“{raw}”不是数字") from None
        if not number.is_finite():
            raise UserError(f"{what}应填数字，“{raw}”不是数字")
        if element.type == "money":
            fen = number * 100
            if fen != fen.to_integral_value():
                raise UserError(f"{what}的金额最多精确到分")
            return str(int(fen))
        return str(number.normalize())
    if element.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise UserError(f"{what}应填日期（如 2026-10-31），“{raw}”不是有效日期") from None
    if element.type == "code":
        assert element.code_list is not None
        try:
            return codes.table(element.code_list).code(text)
        except codes.UnknownCode as exc:
            raise UserError(f"{what}：{exc}") from None
    return text


def typed(element: Element, stored: str | None) -> Any:
    """The value for rules and computation: ints, Decimals, dates, text."""
    if stored is None:
        return None
    if element.type in ("integer", "money"):
        return int(stored)
    if element.type == "decimal":
        return Decimal(stored)
    if element.type == "date":
        return date.fromisoformat(stored)
    return stored


def stored_text(element: Element, value: Any) -> str | None:
    """The canonical text of a typed value (the inverse of :func:`typed` for numbers)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if element.type in ("integer", "money"):
            return str(int(value.to_integral_value(rounding=ROUND_HALF_UP)))
        return str(value.normalize())
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def display(element: Element, stored: str | None) -> str:
    if stored is None:
        return ""
    if element.type == "money":
        fen = int(stored)
        return f"{'-' if fen < 0 else ''}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
    if element.type == "code" and element.code_list:
        return codes.table(element.code_list).label(stored)
    return stored


def attribute_value(element: Element, raw: Any) -> Any:
    """A person or household attribute read from the registry, typed like a stored value."""
    if raw is None:
        return None
    if element.type == "date":
        return date.fromisoformat(str(raw)[:10])
    if element.type in ("integer", "money"):
        return int(raw)
    return typed(element, str(raw))


@dataclass
class FormData:
    """One form filled for one area (or person) and period: its rows in paper order and every
    cell's value — stored values from the pool, registry attributes for 花名册 and 登记表."""

    template: Template
    area: str
    period: Period
    subjects: list[tuple[str, str]]  # (subject: area code, ID number or 户号; row label)
    stored: dict[str, dict[str, FormValue]]
    attributes: dict[str, dict[str, Any]]
    status: str
    dictionary: Mapping[str, Element]
    unit: str = ""  # the reporting unit as printed: 青禾镇, or 青禾镇东风村 for one village
    # A township 统计表: the 合计 row's subject (the township) and that of 「其他（未落户）」
    # (in ``subjects`` only when it has something in it).
    total_subject: str | None = None
    other_subject: str | None = None

    def derived(self, code: str, subject: str) -> bool:
        """Whether this cell is worked out from the form rather than stored: a 合计 whose rule
        is not ``own``, or an entered element in the 「其他（未落户）」 row (back-flow only)."""
        if self.template.kind != "table" or code in self.attributes:
            return False
        if subject == self.total_subject:
            return self.template.total_rule(code, self.dictionary)[0] != "own"
        return subject == self.other_subject and not self.dictionary[code].computed

    def row(self, code: str, subject: str) -> FormValue | None:
        if self.derived(code, subject):
            return None  # a stored 合计 from before it was derived does not count
        return self.stored.get(code, {}).get(subject)

    def value(self, code: str, subject: str) -> Any:
        if code in self.attributes:
            return self.attributes[code].get(subject)
        if self.derived(code, subject):
            return self._derived_value(code, subject)
        row = self.row(code, subject)
        return typed(self.dictionary[code], row.value) if row is not None else None

    def origin(self, code: str, subject: str) -> str | None:
        if code in self.attributes:
            return COMPUTED if self.attributes[code].get(subject) is not None else None
        if self.derived(code, subject):
            return DERIVED if self.value(code, subject) is not None else None
        row = self.row(code, subject)
        return row.origin if row is not None else None

    def rows_sum(self, code: str) -> Any:
        """The sum of ``code`` over the rows shown below 合计 (None if every one is empty)."""
        values = [
            self.value(code, subject)
            for subject, _ in self.subjects
            if subject != self.total_subject
        ]
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    def _derived_value(self, code: str, subject: str) -> Any:
        if subject != self.total_subject:
            return None  # 「其他（未落户）」 has no entered values
        rule, formula = self.template.total_rule(code, self.dictionary)
        if rule == "sum":
            return self.rows_sum(code)
        if formula is None:
            return None
        try:
            result = formula.evaluate({name: self.rows_sum(name) for name in formula.names})
        except ExpressionError:
            return None
        if isinstance(result, bool) or not isinstance(result, int | Decimal):
            return None
        return typed(self.dictionary[code], stored_text(self.dictionary[code], Decimal(result)))

    def total_note(self, code: str) -> str:
        """How a derived 合计 is worked out, for a tooltip."""
        rule, formula = self.template.total_rule(code, self.dictionary)
        if rule == "sum":
            return "合计：各行相加，自动计算"
        if formula is not None:
            return f"合计：按 {formula.source} 计算（各项取合计行）"
        return "合计：此项不合计"

    def typed_values(self) -> dict[str, dict[str, Any]]:
        return {
            code: {s: self.value(code, s) for s, _ in self.subjects}
            for code in self.template.elements
        }

    def completeness(self) -> tuple[int, int]:
        """(filled, required) over the value cells the clerk answers for: every cell of a 统计表;
        in 花名册 and 登记表 the cells not read from the registry (a missing phone number there
        is a registry gap, corrected by 校核纠错, and does not block the form)."""
        codes = [c for c in self.template.elements if c not in self.attributes]
        if self.template.kind != "table":
            codes = [c for c in codes if not self.dictionary[c].computed]
        cells = [
            (code, subject)
            for code in codes
            for subject, _ in self.subjects
            if not self.derived(code, subject)  # 合计 and the like are worked out, not filled
        ]
        filled = sum(1 for code, subject in cells if self.value(code, subject) is not None)
        return filled, len(cells)

    def rule_results(self) -> list[RuleResult]:
        return evaluate_rules(self.template, self.typed_values(), [s for s, _ in self.subjects])

    @property
    def locked(self) -> bool:
        return self.status == SUBMITTED


@dataclass
class PrefillReport:
    inserted: int = 0
    changed: list[tuple[str, str, str | None, str]] = field(
        default_factory=list
    )  # element, area, old, new
    # Overrides kept although the back-flow now says something else: (element, area, kept, computed)
    kept_overrides: list[tuple[str, str, str | None, str]] = field(default_factory=list)


class FormValues:
    """The value pool of one store, with the element dictionary and the templates."""

    def __init__(
        self, store: Store, dictionary: Mapping[str, Element], templates: Mapping[str, Template]
    ):
        self.store = store
        self.dictionary = dictionary
        self.templates = templates

    # ---------------------------------------------------------------- reading

    def values(self, period: Period, subjects: list[str]) -> dict[str, dict[str, FormValue]]:
        """``{element: {subject: row}}`` for the period."""
        out: dict[str, dict[str, FormValue]] = {}
        with self.store.sessions() as session:
            rows = session.scalars(
                select(FormValue).where(
                    FormValue.period == str(period), FormValue.subject.in_(subjects)
                )
            )
            for row in rows:
                out.setdefault(row.element, {})[row.subject] = row
        return out

    def typed_values(self, period: Period, subjects: list[str]) -> dict[str, dict[str, Any]]:
        rows = self.values(period, subjects)
        return {
            code: {s: typed(self.dictionary[code], r.value) for s, r in by.items()}
            for code, by in rows.items()
            if code in self.dictionary
        }

    def township(self) -> tuple[str, str]:
        """(code, name) of the township this store serves."""
        township = get_township(self.store)
        if township is None:
            raise UserError("尚未初始化乡镇（街道），请先运行 govshare init")
        return township.code, township.name

    def collect(self, template_id: str, area: str, period: Period) -> FormData:
        """The form ``template_id`` for ``area`` and ``period``, with every cell's value.

        统计表: ``area`` is the township (a 合计 row, then every village) or one village.
        花名册: everyone the template's filter selects in the township or in one village.
        登记表: ``area`` is the person's ID number (or the 户号); refused with a Chinese message
        when the template's filter does not allow that subject (e.g. under 80 for 高龄津贴)."""
        self.store.principal.require(Action.VIEW)
        template = self.templates.get(template_id)
        if template is None:
            raise UserError(f"没有报表模板“{template_id}”")
        township_code, township_name = self.township()
        attributes: dict[str, dict[str, Any]] = {}
        with self.store.sessions() as session:
            names = {v.code: v.name for v in villages(session)}
            village_of = area
            if template.kind == "individual":
                if template.subject == "person":
                    query = select(Person.village_code).where(Person.id_number == area)
                else:
                    query = select(Household.village_code).where(Household.household_no == area)
                village_of = session.scalar(query) or ""
        unit = township_name + names.get(village_of, "")
        total_subject = other = None
        if template.kind == "table":
            if area == township_code:
                total_subject, other = township_code, other_subject(township_code)
                subjects = [(township_code, "合计"), *names.items(), (other, OTHER_LABEL)]
            elif area in names:
                subjects = [(area, names[area])]
            else:
                raise UserError(f"区划代码“{area}”不是本乡镇（街道）或其下的村（社区）")
        else:
            only = area if template.kind == "individual" else None
            village = area if template.kind == "roster" and area != township_code else None
            found = roster_rows(
                self.store, template, self.dictionary, period, only=only, village=village
            )
            if template.kind == "individual" and not found:
                what = "人员" if template.subject == "person" else "户"
                raise UserError(
                    f"该{what}不符合“{template.title}”的填报条件，或不在本乡镇户籍中"
                    f"（{period.label}末）"
                )
            subjects = [(subject, str(n)) for n, (subject, _) in enumerate(found, start=1)]
            for subject, values in found:
                for code, raw in values.items():
                    attributes.setdefault(code, {})[subject] = attribute_value(
                        self.dictionary[code], raw
                    )
        stored = self._stored(template, [s for s, _ in subjects], period)
        if other is not None and not any(
            row.value not in (None, "0")
            for by in stored.values()
            for s, row in by.items()
            if s == other
        ):
            subjects.pop()  # 「其他（未落户）」 only when there is something in it
        status = DRAFT if template.kind == "individual" else self.status(template_id, area, period)
        return FormData(
            template,
            area,
            period,
            subjects,
            stored,
            attributes,
            status,
            self.dictionary,
            unit,
            total_subject,
            other,
        )

    def township_totals(self, period: Period, codes: list[str]) -> dict[str, Any]:
        """``{element: typed 合计}`` of the township for the elements among ``codes`` whose 合计
        is derived on the 统计表 that use them (as those forms show it)."""
        township_code, _ = self.township()
        out: dict[str, Any] = {}
        for template in self.templates.values():
            wanted = (
                [c for c in template.elements if c in codes and c not in out]
                if template.kind == "table"
                else []
            )
            if not wanted:
                continue
            data = self.collect(template.id, township_code, period)
            for code in wanted:
                if data.derived(code, township_code):
                    out[code] = data.value(code, township_code)
        return out

    def collect_each(
        self,
        template_id: str,
        period: Period,
        *,
        area: str | None = None,
        subjects: list[str] | None = None,
    ) -> list[FormData]:
        """A batch of individual forms: one per person (or household) the template selects in
        ``area`` (default: the whole township), or for exactly ``subjects`` — refused, naming them,
        if the template does not allow some. One query for all, not one per form."""
        self.store.principal.require(Action.VIEW)
        template = self.templates.get(template_id)
        if template is None or template.kind != "individual":
            raise UserError(f"“{template_id}”不是登记表/申请表模板")
        township_code, township_name = self.township()
        village = area if area and area != township_code else None
        found = roster_rows(self.store, template, self.dictionary, period, village=village)
        if subjects is not None:
            allowed = dict(found)
            missing = [s for s in dict.fromkeys(subjects) if s not in allowed]
            if missing:
                raise UserError(
                    f"以下对象不符合“{template.title}”的填报条件，或不在本乡镇户籍中："
                    + "、".join(missing[:5])
                    + (f" 等 {len(missing)} 个" if len(missing) > 5 else "")
                )
            found = [(s, allowed[s]) for s in dict.fromkeys(subjects)]
        keys = [key for key, _ in found]
        stored = self._stored(template, keys, period)
        model = Person if template.subject == "person" else Household
        key_column = Person.id_number if template.subject == "person" else Household.household_no
        village_of: dict[str, str | None] = {}
        with self.store.sessions() as session:
            names = {v.code: v.name for v in villages(session)}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                query = select(key_column, model.village_code).where(key_column.in_(chunk))
                for key, village_code in session.execute(query):
                    village_of[key] = village_code
        return [
            FormData(
                template,
                key,
                period,
                [(key, "1")],
                {code: {key: by[key]} for code, by in stored.items() if key in by},
                {
                    code: {key: attribute_value(self.dictionary[code], raw)}
                    for code, raw in values.items()
                },
                DRAFT,
                self.dictionary,
                township_name + names.get(village_of.get(key) or "", ""),
            )
            for key, values in found
        ]

    def _stored(
        self, template: Template, keys: list[str], period: Period
    ) -> dict[str, dict[str, FormValue]]:
        stored: dict[str, dict[str, FormValue]] = {}
        with self.store.sessions() as session:
            for start in range(0, len(keys), 500):
                for row in session.scalars(
                    select(FormValue).where(
                        FormValue.period == str(period),
                        FormValue.element.in_(list(template.elements)),
                        FormValue.subject.in_(keys[start : start + 500]),
                    )
                ):
                    stored.setdefault(row.element, {})[row.subject] = row
        return stored

    # ---------------------------------------------------------------- prefill

    def prefill(
        self, period: Period, *, township_code: str, user: str, now: datetime
    ) -> PrefillReport:
        """Compute every computed element for every village and the township and store it. A value
        the clerk overrode is kept; the report says where the back-flow now differs from it."""
        self.store.principal.require(Action.EDIT_FORMS)
        computed = compute_area_values(
            self.store, list(self.dictionary.values()), period, township_code=township_code
        )
        report = PrefillReport()
        with self.store.transaction() as session:
            batch_id = session.scalar(select(func.max(Batch.id)))
            existing = {
                (r.element, r.subject): r
                for r in session.scalars(
                    select(FormValue).where(
                        FormValue.period == str(period), FormValue.element.in_(list(computed))
                    )
                )
            }
            for code, by_area in computed.items():
                for area, number in by_area.items():
                    new = str(number)
                    row = existing.get((code, area))
                    if row is None:
                        session.add(
                            FormValue(
                                element=code,
                                subject=area,
                                period=str(period),
                                value=new,
                                origin=COMPUTED,
                                computed_value=new,
                                batch_id=batch_id,
                                changed_by=user,
                                changed_at=now,
                            )
                        )
                        report.inserted += 1
                        continue
                    if row.origin == OVERRIDDEN:
                        if row.computed_value != new:
                            report.kept_overrides.append((code, area, row.value, new))
                            row.computed_value, row.batch_id = new, batch_id
                        continue
                    if row.value != new:
                        report.changed.append((code, area, row.value, new))
                        self._history(session, row, new, COMPUTED, None, user, now)
                        row.value = row.computed_value = new
                        row.origin, row.batch_id, row.changed_by, row.changed_at = (
                            COMPUTED,
                            batch_id,
                            user,
                            now,
                        )
        return report

    def carry_forward(self, period: Period, *, user: str, now: datetime) -> int:
        """Start this period from last period's entered values, for elements that allow it
        (``carry_forward = true``) and only where this period has no value yet. Returns how many."""
        self.store.principal.require(Action.EDIT_FORMS)
        codes = [e.code for e in self.dictionary.values() if e.carry_forward]
        if not codes:
            return 0
        previous = str(period.previous())
        carried = 0
        with self.store.transaction() as session:
            have = set(
                session.execute(
                    select(FormValue.element, FormValue.subject).where(
                        FormValue.period == str(period), FormValue.element.in_(codes)
                    )
                ).all()
            )
            for old in session.scalars(
                select(FormValue).where(
                    FormValue.period == previous,
                    FormValue.element.in_(codes),
                    FormValue.origin.in_([ENTERED, OVERRIDDEN]),
                    FormValue.value.is_not(None),
                )
            ):
                if (old.element, old.subject) in have:
                    continue
                row = FormValue(
                    element=old.element,
                    subject=old.subject,
                    period=str(period),
                    value=old.value,
                    origin=ENTERED,
                    computed_value=None,
                    reason=f"沿用{period.previous().label}",
                    changed_by=user,
                    changed_at=now,
                )
                session.add(row)
                session.flush()
                self._history(
                    session, row, old.value, ENTERED, row.reason, user, now, old=(None, None)
                )
                carried += 1
        return carried

    # ---------------------------------------------------------------- entering

    def set(
        self,
        element_code: str,
        subject: str,
        period: Period,
        raw: Any,
        *,
        user: str,
        now: datetime,
        reason: str | None = None,
    ) -> FormValue:
        self.store.principal.require(Action.EDIT_FORMS)
        element = self.dictionary.get(element_code)
        if element is None:
            raise UserError(f"数据项“{element_code}”不在数据项字典中")
        value = canonical(element, raw)
        if element.level == "area":
            self._refuse_derived(element, subject)
        with self.store.transaction() as session:
            locked = self._locked_by(session, element_code, subject, period)
            if locked:
                raise UserError(
                    f"“{element.name}”用于已上报的报表“{locked}”，已锁定；如需修改，请先将该报表退回"
                )
            row = session.scalar(
                select(FormValue).where(
                    FormValue.element == element_code,
                    FormValue.subject == subject,
                    FormValue.period == str(period),
                )
            )
            origin = ENTERED
            if element.computed:
                if row is not None and row.computed_value == value:
                    origin, reason = COMPUTED, None  # back to what the data says
                elif not (reason or "").strip():
                    raise UserError(f"“{element.name}”由回流数据计算得出，修改时须填写理由")
                else:
                    origin = OVERRIDDEN
            if row is None:
                row = FormValue(
                    element=element_code,
                    subject=subject,
                    period=str(period),
                    value=value,
                    origin=origin,
                    computed_value=None,
                    reason=reason,
                    changed_by=user,
                    changed_at=now,
                )
                session.add(row)
                session.flush()
                self._history(session, row, value, origin, reason, user, now, old=(None, None))
                return row
            if row.value == value and row.origin == origin:
                return row
            self._history(session, row, value, origin, reason, user, now)
            row.value, row.origin, row.reason, row.changed_by, row.changed_at = (
                value,
                origin,
                reason,
                user,
                now,
            )
            return row

    def _refuse_derived(self, element: Element, subject: str) -> None:
        """A 合计 worked out from the rows, or an entered value in the 「其他（未落户）」 row,
        cannot be typed."""
        if is_other_subject(subject):
            if not element.computed:
                raise UserError(
                    f"“{OTHER_LABEL}”行只有回流数据（不在本乡镇户籍的人员），"
                    f"“{element.name}”请填在各村（社区）"
                )
            return
        township = get_township(self.store)
        if township is None or subject != township.code:
            return
        rules = [
            t.total_rule(element.code, self.dictionary)[0]
            for t in self.templates.values()
            if t.kind == "table" and element.code in t.elements
        ] or [element.total_rule]
        if "own" in rules:
            return
        if "sum" in rules:
            raise UserError(f"“{element.name}”的合计由各行相加自动得出，请填写各村（社区）的数值")
        raise UserError(f"“{element.name}”的合计由本表其他合计数自动计算，不能直接填写")

    def history(self, element_code: str, subject: str, period: Period) -> list[FormValueHistory]:
        with self.store.sessions() as session:
            row = session.scalar(
                select(FormValue).where(
                    FormValue.element == element_code,
                    FormValue.subject == subject,
                    FormValue.period == str(period),
                )
            )
            if row is None:
                return []
            return list(
                session.scalars(
                    select(FormValueHistory)
                    .where(FormValueHistory.value_id == row.id)
                    .order_by(FormValueHistory.id)
                )
            )

    @staticmethod
    def _history(
        session: Session,
        row: FormValue,
        new: str | None,
        origin: str,
        reason: str | None,
        user: str,
        now: datetime,
        *,
        old: tuple[str | None, str | None] | None = None,
    ) -> None:
        old_value, old_origin = old if old is not None else (row.value, row.origin)
        session.add(
            FormValueHistory(
                value_id=row.id,
                old_value=old_value,
                new_value=new,
                old_origin=old_origin,
                new_origin=origin,
                reason=reason,
                changed_by=user,
                changed_at=now,
            )
        )

    # ---------------------------------------------------------------- workflow

    def status(self, template_id: str, area: str, period: Period) -> str:
        with self.store.sessions() as session:
            row = self._status_row(session, template_id, area, period)
            return row.status if row else DRAFT

    def completeness(self, template_id: str, area: str, period: Period) -> tuple[int, int]:
        """(filled, required): every value cell of the form (every row, every column)."""
        return self.collect(template_id, area, period).completeness()

    def submit(
        self, template_id: str, area: str, period: Period, *, user: str, now: datetime
    ) -> None:
        """Lock the form. Refused while a value is missing or an error-level rule fails."""
        self.store.principal.require(Action.SUBMIT_FORM)
        template = self.templates[template_id]
        if template.kind == "individual":
            raise UserError(f"“{template.title}”是个人填写、签字的登记表，打印后按纸质流程报送")
        data = self.collect(template_id, area, period)
        filled, required = data.completeness()
        if filled < required:
            raise UserError(f"“{template.title}”还有 {required - filled} 项未填写，不能上报")
        failed = list(
            dict.fromkeys(
                r.rule.message
                for r in data.rule_results()
                if r.rule.severity == "error" and r.passed is False
            )
        )
        if failed:
            raise UserError(f"“{template.title}”未通过校验，不能上报：" + "；".join(failed))
        self._set_status(template_id, area, period, SUBMITTED, None, user, now)

    def return_(
        self, template_id: str, area: str, period: Period, *, reason: str, user: str, now: datetime
    ) -> None:
        self.store.principal.require(Action.RETURN_FORM)
        if not reason.strip():
            raise UserError("退回报表须填写理由")
        if self.status(template_id, area, period) != SUBMITTED:
            raise UserError("只有已上报的报表才能退回")
        self._set_status(template_id, area, period, RETURNED, reason, user, now)

    def _set_status(
        self,
        template_id: str,
        area: str,
        period: Period,
        status: str,
        reason: str | None,
        user: str,
        now: datetime,
    ) -> None:
        with self.store.transaction() as session:
            row = self._status_row(session, template_id, area, period)
            if row is None:
                row = FormStatus(template=template_id, area=area, period=str(period))
                session.add(row)
            row.status, row.reason, row.changed_by, row.changed_at = status, reason, user, now
            audit_trail(self.store).record(
                session,
                self.store.principal,
                "submit" if status == SUBMITTED else "return",
                f"{template_id} {area} {period}",
                detail={"reason": reason} if reason else None,
                now=now,
            )

    @staticmethod
    def _status_row(
        session: Session, template_id: str, area: str, period: Period
    ) -> FormStatus | None:
        return session.scalar(
            select(FormStatus).where(
                FormStatus.template == template_id,
                FormStatus.area == area,
                FormStatus.period == str(period),
            )
        )

    def _locked_by(
        self, session: Session, element_code: str, subject: str, period: Period
    ) -> str | None:
        users = [t for t in self.templates.values() if element_code in t.elements]
        if not users:
            return None
        submitted = session.scalars(
            select(FormStatus.template).where(
                FormStatus.template.in_([t.id for t in users]),
                FormStatus.area.in_(self._covering_areas(session, subject)),
                FormStatus.period == str(period),
                FormStatus.status == SUBMITTED,
            )
        ).first()
        return self.templates[submitted].title if submitted else None

    @staticmethod
    def _covering_areas(session: Session, subject: str) -> list[str]:
        """The areas whose submitted forms include ``subject``: itself, its village (for a person
        or household) and the township (a township's 统计表 has a row for every village)."""
        areas = [subject]
        if is_other_subject(subject):  # 「其他（未落户）」 is a row of the township's forms
            return [subject, subject.removesuffix("-other")]
        village = session.scalar(
            select(Person.village_code).where(Person.id_number == subject)
        ) or session.scalar(select(Household.village_code).where(Household.household_no == subject))
        if village:
            areas.append(village)
        area = session.get(Area, village or subject)
        while area is not None and area.parent_code and area.level != "township":
            areas.append(area.parent_code)
            area = session.get(Area, area.parent_code)
        return areas
