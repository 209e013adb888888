"""One form filled for one area and period (:class:`FormData`), and what a prefill changed
(:class:`PrefillReport`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.dictionary import Element
from govshare_desktop.core.forms.expr import ExpressionError
from govshare_desktop.core.forms.templates import RuleResult, Template, evaluate_rules
from govshare_desktop.core.forms.values_text import COMPUTED, DERIVED, LOCKED, stored_text, typed
from govshare_desktop.core.store.models import FormValue


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
        return self.status in LOCKED


@dataclass
class PrefillReport:
    inserted: int = 0
    changed: list[tuple[str, str, str | None, str]] = field(
        default_factory=list
    )  # element, area, old, new
    # Overrides kept although the back-flow now says something else: (element, area, kept, computed)
    kept_overrides: list[tuple[str, str, str | None, str]] = field(default_factory=list)
