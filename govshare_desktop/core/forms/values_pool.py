"""The 一表通 value pool: reading values and whole forms, setting one value (with its origin,
history and audit entry), and which submitted form locks a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.catalog import TemplateSet
from govshare_desktop.core.forms.compute import (
    OTHER_LABEL,
    is_other_subject,
    other_subject,
    roster_rows,
)
from govshare_desktop.core.forms.dictionary import Element
from govshare_desktop.core.forms.templates import Template
from govshare_desktop.core.forms.values_form import FormData
from govshare_desktop.core.forms.values_text import (
    COMPUTED,
    DRAFT,
    ENTERED,
    LOCKED,
    OVERRIDDEN,
    attribute_value,
    canonical,
    display,
    typed,
)
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    Area,
    FormStatus,
    FormValue,
    FormValueHistory,
    Household,
    Person,
)
from govshare_desktop.core.store.township import get_township, villages


class StaleValue(UserError):
    """A value changed by someone else since the clerk saw it: the edit is refused, naming who
    changed it, when, and to what (:attr:`current`, to show instead)."""

    def __init__(self, element: Element, current: FormValue) -> None:
        # A copy of the row, free of the session its transaction rolls back (which expires it).
        columns = FormValue.__table__.columns.keys()
        self.current = FormValue(**{name: getattr(current, name) for name in columns})
        super().__init__(
            f"“{element.name}”已被 {current.changed_by} 于 {current.changed_at:%Y-%m-%d %H:%M} "
            f"改为“{display(element, current.value)}”，您看到的是修改前的值，这次修改没有保存。"
            "现已显示最新的值，请核对后再填"
        )


class ValuePool:
    """The value pool of one store, with the element dictionary and the templates (every
    version: :func:`~govshare_desktop.core.forms.catalog.load_catalog`; a plain mapping is taken
    as the built-in ones)."""

    def __init__(
        self, store: Store, dictionary: Mapping[str, Element], templates: Mapping[str, Template]
    ):
        self.store = store
        self.dictionary = dictionary
        self.templates = templates

    @property
    def templates(self) -> TemplateSet:
        """Every version of every template; as a mapping, the newest version of each id."""
        return self._templates

    @templates.setter
    def templates(self, templates: Mapping[str, Template]) -> None:
        if not isinstance(templates, TemplateSet):
            templates = TemplateSet.built_in(templates)
        self._templates = templates

    def template_for(self, template_id: str, period: Period, area: str | None = None) -> Template:
        """The version of ``template_id`` a form of ``period`` is filled with: the one pinned when
        the form for ``area`` was submitted, else the newest in effect for the period. A
        :class:`UserError` for an unknown id, a pinned version no longer installed or a template
        not yet in effect."""
        pinned: str | None = None
        if area is not None and template_id in self.templates:
            with self.store.sessions() as session:
                pinned = session.scalar(
                    select(FormStatus.template_version).where(
                        FormStatus.template == template_id,
                        FormStatus.area == area,
                        FormStatus.period == str(period),
                    )
                )
        return self.templates.for_period(template_id, period, pinned)

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
        template = self.template_for(template_id, period, area)
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
        for template in self.templates.in_effect(period).values():
            if template.kind != "table" or not any(
                c in codes and c not in out
                for version in self.templates.versions(template.id)
                for c in version.elements
            ):
                continue
            data = self.collect(template.id, township_code, period)  # the version it was filled in
            for code in data.template.elements:
                if code in codes and code not in out and data.derived(code, township_code):
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
        template = self.template_for(template_id, period) if template_id in self.templates else None
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
        seen: int | None = None,
    ) -> FormValue:
        """Store a value typed by ``user``. ``seen`` is the version of the value the clerk was
        looking at (0: none was stored): if another clerk has changed it since, the edit is
        refused with who and when (:class:`StaleValue`) — never silently overwritten. Two writers
        at the same moment are told apart by the database (the row's version check, the unique
        key for a first value)."""
        self.store.principal.require(Action.EDIT_FORMS)
        element = self.dictionary.get(element_code)
        if element is None:
            raise UserError(f"数据项“{element_code}”不在数据项字典中")
        value = canonical(element, raw)
        if element.level == "area":
            self._refuse_derived(element, subject, period)
        try:
            return self._store_value(
                element, subject, period, value, user=user, now=now, reason=reason, seen=seen
            )
        except (StaleDataError, IntegrityError):  # lost the race to another writer
            current = self._value_row(element_code, subject, period)
            if current is None:
                raise
            raise StaleValue(element, current) from None

    def _value_row(self, element_code: str, subject: str, period: Period) -> FormValue | None:
        with self.store.sessions() as session:
            return session.scalar(
                select(FormValue).where(
                    FormValue.element == element_code,
                    FormValue.subject == subject,
                    FormValue.period == str(period),
                )
            )

    def _store_value(
        self,
        element: Element,
        subject: str,
        period: Period,
        value: str | None,
        *,
        user: str,
        now: datetime,
        reason: str | None,
        seen: int | None,
    ) -> FormValue:
        element_code = element.code
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
            if seen is not None and row is not None and row.version != seen:
                raise StaleValue(element, row)  # seen 0: someone stored a first value meanwhile
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

    def _refuse_derived(self, element: Element, subject: str, period: Period) -> None:
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
            for t in self.templates.in_effect(period).values()
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
        """The title of a submitted form — in the version it was filled with — that uses the
        element for the subject, if any."""
        users = [
            template_id
            for template_id in self.templates
            if any(element_code in t.elements for t in self.templates.versions(template_id))
        ]
        if not users:
            return None
        submitted = session.execute(
            select(FormStatus.template, FormStatus.template_version).where(
                FormStatus.template.in_(users),
                FormStatus.area.in_(self._covering_areas(session, subject)),
                FormStatus.period == str(period),
                FormStatus.status.in_(LOCKED),
            )
        )
        for template_id, pinned in submitted:
            try:
                template = self.templates.for_period(template_id, period, pinned)
            except UserError:  # its version is gone: still submitted, it locks what it may use
                return self.templates[template_id].title
            if element_code in template.elements:
                return template.title
        return None

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
