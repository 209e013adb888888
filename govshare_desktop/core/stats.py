"""The 工作台's charts as plain data: what each chart shows — its categories (villages, age bands,
months, forms), its series with Chinese labels, the township's line across a per-village chart and
the footnote that says how the figures were counted. Drawn on screen (QPainter), in PDF (reportlab
graphics) and in Excel (a native chart) from these same objects; worked out in SQL by
:mod:`govshare_desktop.core.stats_queries`.

Values are exact: people and form items are counted, money is in integer fen, a rate keeps its
numerator and denominator (``values`` of ``bases``) and becomes a percentage only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PERCENT, PEOPLE, YUAN = "percent", "people", "yuan"
COLUMNS, BARS, PYRAMID = "columns", "bars", "pyramid"  # vertical bars, horizontal bars, pyramid
UNIT_CAPTIONS = {PERCENT: "%", PEOPLE: "人", YUAN: "元"}

COVERAGE, POPULATION, PAYMENTS, COMPLETION = "coverage", "population", "payments", "completion"
TOWNSHIP_LABEL = "全镇"


@dataclass(frozen=True)
class Series:
    """One series: a value per category. A rate keeps its parts: ``values[i]`` of ``bases[i]``
    (``counted`` names both, e.g. 参保 of 应参保, in ``unit``: 人, 项)."""

    label: str
    values: tuple[int, ...]
    bases: tuple[int, ...] = ()
    counted: tuple[str, str] = ("", "")
    unit: str = "人"  # 元: ``values`` are fen
    drawn: bool = True  # False: in the data table and the tooltip only (e.g. 发放人次)

    @property
    def is_rate(self) -> bool:
        return bool(self.bases)


@dataclass(frozen=True)
class Reference:
    """A line across a per-village chart: the township's figure for one series (全镇参保率)."""

    label: str
    series: int
    value: int
    base: int

    @property
    def percent(self) -> float | None:
        return percent(self.value, self.base)


@dataclass(frozen=True)
class Chart:
    key: str  # coverage | population | payments | completion
    title: str
    kind: str  # columns | bars | pyramid
    unit: str  # percent | people | yuan
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    references: tuple[Reference, ...] = ()
    footnote: str = ""
    empty_text: str = "暂无数据"  # shown instead of an empty plot
    names: tuple[str, ...] = ()  # the categories in full, for tables and tooltips (2025年11月)
    heading: str = ""  # the categories' column heading in a table: 村（社区）, 年龄组 …

    def name(self, index: int) -> str:
        return self.names[index] if self.names else self.categories[index]

    @property
    def is_empty(self) -> bool:
        return not self.categories or not any(any(s.values) or any(s.bases) for s in self.series)

    @property
    def drawn(self) -> tuple[int, ...]:
        """The series drawn (by index); the others are in the data table and tooltips only."""
        return tuple(i for i, s in enumerate(self.series) if s.drawn)

    @property
    def caption(self) -> str:
        """The value axis's unit: %, 人, 元."""
        return UNIT_CAPTIONS[self.unit]

    def number(self, series: int, index: int) -> float | None:
        """The value as drawn: a percentage, yuan or a count (None: a rate of nothing)."""
        s = self.series[series]
        if s.is_rate:
            return percent(s.values[index], s.bases[index])
        if s.unit == "元":
            return s.values[index] / 100
        return float(s.values[index])

    def short(self, series: int, index: int) -> str:
        """The value written on its bar: 85.2%, 5.43万, 128."""
        value = self.number(series, index)
        if value is None:
            return "无需填报" if self.key == COMPLETION else "—"
        if self.series[series].is_rate:
            return f"{value:.1f}%"
        if self.series[series].unit == "元":
            return short_yuan(self.series[series].values[index])
        return f"{int(value):,}"

    def detail(self, series: int, index: int) -> str:
        """The value in full, for a tooltip and the data table: 东岭村 参保率 85.2%（参保 123 人，
        应参保 145 人）; 2026年10月 发放金额 54,321.00 元."""
        s = self.series[series]
        head = f"{self.name(index)} {s.label}"
        if s.is_rate:
            part, whole = s.counted
            return (
                f"{head} {self.short(series, index)}"
                f"（{part} {s.values[index]:,} {s.unit}，{whole} {s.bases[index]:,} {s.unit}）"
            )
        if s.unit == "元":
            return f"{head} {yuan(s.values[index])} 元"
        return f"{head} {s.values[index]:,} {s.unit}"


@dataclass(frozen=True)
class ChartSet:
    """The four charts of one area (the township or one village) on one day."""

    area: str  # area code
    area_name: str  # 青禾镇, or 青禾镇东岭村委会
    today: date
    charts: tuple[Chart, ...]

    def chart(self, key: str) -> Chart:
        for chart in self.charts:
            if chart.key == key:
                return chart
        raise KeyError(key)

    @property
    def subtitle(self) -> str:
        return (
            f"{self.area_name}　统计日期：{self.today.year}年{self.today.month}月{self.today.day}日"
        )


def percent(value: int, base: int) -> float | None:
    return None if base == 0 else value * 100 / base


def yuan(fen: int) -> str:
    """Fen as yuan with thousands separators: 5432100 → 54,321.00."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def short_yuan(fen: int) -> str:
    """A sum on a bar: 5.43万 from 10,000 yuan on, else whole yuan."""
    value = fen / 100
    if abs(value) >= 10_000:
        return f"{value / 10_000:.2f}万"
    return f"{value:,.0f}"


def short_name(name: str) -> str:
    """A village's name as a chart label: 东岭村委会 → 东岭村, 青禾社区居委会 → 青禾社区."""
    for suffix, short in (
        ("村民委员会", "村"),
        ("居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村委会", "村"),
        ("居委会", "社区"),
    ):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + short
    return name
