"""Reporting periods as a value type: ``2026-10`` (month), ``2026Q3``, ``2026H2``, ``2026`` (year)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import Enum


class PeriodKind(str, Enum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.value]

    @property
    def label(self) -> str:
        return {"month": "月报", "quarter": "季报", "half": "半年报", "year": "年报"}[self.value]


_PATTERNS = (
    (re.compile(r"^(\d{4})-?(\d{2})$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})年(\d{1,2})月$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})[Qq]([1-4])$"), PeriodKind.QUARTER),
    (re.compile(r"^(\d{4})[Hh]([12])$"), PeriodKind.HALF),
    (re.compile(r"^(\d{4})年?$"), PeriodKind.YEAR),
)


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A calendar period. ``index`` counts months (1..12), quarters, halves or is 1 for a year."""

    year: int
    kind: PeriodKind
    index: int = 1

    def __post_init__(self) -> None:
        limit = 12 // self.kind.months
        if not 1 <= self.index <= limit:
            raise ValueError(f"{self.kind.value} index must be 1..{limit}, got {self.index}")
        if not 1900 <= self.year <= 2200:
            raise ValueError(f"year out of range: {self.year}")

    @classmethod
    def parse(cls, text: str | int) -> Period:
        value = str(text).strip()
        for pattern, kind in _PATTERNS:
            m = pattern.match(value)
            if m:
                index = int(m.group(2)) if kind is not PeriodKind.YEAR else 1
                try:
                    return cls(int(m.group(1)), kind, index)
                except ValueError as exc:
                    raise ValueError(f"“{value}”不是有效的统计期：{exc}") from None
        raise ValueError(f"“{value}”不是有效的统计期（例：2026-10、2026Q3、2026H2、2026）")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, PeriodKind.MONTH, month)

    @classmethod
    def of_date(cls, day: date, kind: PeriodKind = PeriodKind.MONTH) -> Period:
        return cls(day.year, kind, (day.month - 1) // kind.months + 1)

    @property
    def first_month(self) -> int:
        return (self.index - 1) * self.kind.months + 1

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        last = self.first_month + self.kind.months - 1
        return date(self.year, last, calendar.monthrange(self.year, last)[1])

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def shift(self, steps: int) -> Period:
        per_year = 12 // self.kind.months
        zero_based = self.year * per_year + self.index - 1 + steps
        return Period(zero_based // per_year, self.kind, zero_based % per_year + 1)

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        return self.shift(-1)

    def months(self) -> list[Period]:
        return [Period.month(self.year, self.first_month + i) for i in range(self.kind.months)]

    @property
    def yyyymm(self) -> int:
        """``202610`` for a month period (the 费款所属期/发放年月 form)."""
        if self.kind is not PeriodKind.MONTH:
            raise ValueError("only a month has a YYYYMM form")
        return self.year * 100 + self.index

    @classmethod
    def from_yyyymm(cls, value: int | str) -> Period:
        number = int(value)
        return cls.month(number // 100, number % 100)

    def __str__(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.index:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}Q{self.index}"
        if self.kind is PeriodKind.HALF:
            return f"{self.year}H{self.index}"
        return f"{self.year}"

    @property
    def label(self) -> str:
        """Chinese label for forms: ``2026年10月``, ``2026年第3季度``, ``2026年下半年``, ``2026年``."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}年{self.index}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}年第{self.index}季度"
        if self.kind is PeriodKind.HALF:
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        return f"{self.year}年"


def recent_periods(today: date, count: int = 12) -> list[Period]:
    """The last finished months, quarters, half-years and years, newest first (the periods a
    form is filled for)."""
    periods: list[Period] = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.HALF, PeriodKind.YEAR):
        current = Period.of_date(today, kind)
        periods += [current.shift(-i) for i in range(count if kind is PeriodKind.MONTH else 4)]
    return periods
