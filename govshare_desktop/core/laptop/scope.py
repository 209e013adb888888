"""What a check-out covers, the same at check-out and check-in: the village's 一表通 subjects (the
village itself, its households, its persons), and how each is shown — masked, as personal data is
everywhere it is shown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from govshare_desktop.core.domain.masking import mask_id_number, mask_name
from govshare_desktop.core.forms.catalog import TemplateSet
from govshare_desktop.core.store.models import Area, FormValue, Household, Person

REASON = "下村录入（笔记本）"  # the reason of every value a check-in writes
TAKE_OFFICE, TAKE_LAPTOP = "office", "laptop"
TAKES = {TAKE_OFFICE: "保留办公室的值", TAKE_LAPTOP: "采用笔记本的值"}


@dataclass(frozen=True)
class Scope:
    """A village, and optionally one period and some forms (their elements): which values a
    check-out copies, and which a check-in looks at."""

    village: str
    period: str | None = None
    forms: tuple[str, ...] = ()
    elements: frozenset[str] | None = None  # the forms' elements; None: every element

    @classmethod
    def of(
        cls, village: str, period: str | None, forms: Sequence[str], templates: TemplateSet
    ) -> Scope:
        if not forms:
            return cls(village, period)
        elements: set[str] = set()
        for template_id in forms:
            for version in templates.versions(template_id):
                elements |= set(version.elements)
        return cls(village, period, tuple(forms), frozenset(elements))

    @property
    def forms_json(self) -> str:
        return json.dumps(list(self.forms), ensure_ascii=False)

    def values(self) -> ColumnElement[bool]:
        """The values of the village's subjects in the scope (a WHERE clause on form_value)."""
        households = select(Household.household_no).where(Household.village_code == self.village)
        persons = select(Person.id_number).where(Person.village_code == self.village)
        clause = and_(
            or_(
                FormValue.subject == self.village,
                FormValue.subject.in_(households),
                FormValue.subject.in_(persons),
            ),
            FormValue.period == self.period if self.period else true(),
            FormValue.element.in_(sorted(self.elements)) if self.elements is not None else true(),
        )
        return clause

    def covers(self, element: str, period: str) -> bool:
        """Whether a value of ``element`` for ``period`` is in the scope (its subject apart)."""
        return (self.period is None or period == self.period) and (
            self.elements is None or element in self.elements
        )

    def describe(self) -> str:
        period = f"{self.period} 期" if self.period else "各统计期"
        forms = f"报表 {'、'.join(self.forms)}" if self.forms else "全部报表"
        return f"{period}，{forms}"


def village_name(session: Session, code: str) -> str:
    area = session.get(Area, code)
    return area.name if area is not None else code


def subject_labels(session: Session, village: str, subjects: set[str]) -> dict[str, str]:
    """How each subject is shown: the village by name, a household by 户号 and its head's masked
    name, a person by masked name and ID number."""
    labels = {village: village_name(session, village)} if village in subjects else {}
    rest = sorted(subjects - labels.keys())
    for start in range(0, len(rest), 500):
        chunk = rest[start : start + 500]
        for number, name in session.execute(
            select(Person.id_number, Person.name).where(Person.id_number.in_(chunk))
        ):
            labels[number] = f"{mask_name(name)}（{mask_id_number(number)}）"
        for household_no, head in session.execute(
            select(Household.household_no, Household.head_name).where(
                Household.household_no.in_(chunk)
            )
        ):
            labels[household_no] = f"户 {household_no}" + (
                f"（户主 {mask_name(head)}）" if head else ""
            )
    return {subject: labels.get(subject, subject) for subject in subjects}
