"""A chart laid out as shapes — boxes, rules and text — in a rectangle of any size, with a function
that measures text: the window paints them with QPainter, the PDF draws them with reportlab
graphics, so screen, paper and file show the same chart.

Coordinates run from the top left, y downwards; a text's ``y`` is its baseline. ``size`` is the
body text size in the drawing's units (pixels on screen, points in PDF): titles, ticks and notes
are sized from it. Labels that do not fit are wrapped, turned upright (Chinese reads top to bottom
one character a line) or left out — never drawn over each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from govshare_desktop.core.stats import PERCENT, Chart

Measure = Callable[[str, float], float]
"""``measure(text, size)``: the width of ``text`` set at ``size``."""

INK, MUTED, GRID, AXIS, TRACK = "#262626", "#595959", "#D9D9D9", "#808080", "#E7E6E6"
SERIES_COLORS = ("#4472C4", "#ED7D31", "#70AD47", "#FFC000")
REFERENCE_COLORS = ("#1F3864", "#A0400A", "#375623", "#7F6000")
LINE = 1.3  # line height, in text sizes


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    tip: str = ""  # what the value is, in full (a tooltip on screen)


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    color: str = INK
    anchor: str = "start"  # start | middle | end
    bold: bool = False


Shape = Box | Rule | Text

_TOKEN = re.compile(r"[A-Za-z0-9.,:/%+\-]+|\s+|.")
_CLOSING = set("，。、；：！？）」』》”’%")
_OPENING = set("（「『《“‘")


def tokens(text: str) -> list[str]:
    """Pieces a line may break between: a Chinese character, or a run of Latin letters and
    digits; closing punctuation stays with what it closes, opening with what it opens."""
    out: list[str] = []
    carry = ""
    for piece in _TOKEN.findall(text):
        if piece in _OPENING:
            carry += piece
            continue
        piece, carry = carry + piece, ""
        if out and piece[0] in _CLOSING:
            out[-1] += piece
        else:
            out.append(piece)
    if carry:
        out.append(carry)
    return out


def wrap(text: str, width: float, size: float, measure: Measure) -> list[str]:
    """``text`` in lines no wider than ``width`` (a piece wider than that gets a line of its own);
    a newline in the text always breaks."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in tokens(paragraph):
            if line and measure(line + piece, size) > width:
                lines.append(line.rstrip())
                line = piece.lstrip()
            else:
                line += piece
        lines.append(line.rstrip())
    return lines


def elide(text: str, width: float, size: float, measure: Measure) -> str:
    if measure(text, size) <= width:
        return text
    while text and measure(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``: 0, 20, 40 … or 0, 2.5万, 5万 …"""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [i * step for i in range(steps + 1)]


def tick_text(value: float, chart: Chart, top: float) -> str:
    """A tick's label: 20%, 1,500, or 2万 on an axis that reaches 50,000 yuan."""
    if chart.unit == PERCENT:
        return f"{value:g}%"
    if chart.caption == "元" and top >= 50_000:
        return f"{value / 10_000:g}万" if value else "0"
    return f"{value:,.0f}"


class Layout:
    """The shapes of one chart being laid out, and the parts every kind of plot shares."""

    def __init__(self, chart: Chart, width: float, height: float, measure: Measure, size: float):
        self.chart, self.width, self.height, self.m, self.size = chart, width, height, measure, size
        self.pad = size * 0.7
        self.small = size * 0.85
        self.shapes: list[Shape] = []

    def text(self, x: float, y: float, text: str, size: float, **style: object) -> None:
        self.shapes.append(Text(x, y, text, size, **style))  # type: ignore[arg-type]

    def centred(self, x: float, mid: float, text: str, size: float, **style: object) -> None:
        """Text whose middle is at height ``mid``."""
        self.text(x, mid + size * 0.36, text, size, **style)

    def frame(self, legend: Sequence[tuple[str, str, bool]]) -> tuple[float, float]:
        """Title, legend and footnote; the top and bottom of what is left for the plot."""
        title_size = self.size * 1.2
        y = self.pad
        for line in wrap(self.chart.title, self.width - 2 * self.pad, title_size, self.m):
            y += title_size * LINE
            self.text(
                self.width / 2, y - title_size * 0.3, line, title_size, anchor="middle", bold=True
            )
        if legend and not self.chart.is_empty:
            y = self.legend(legend, y + self.size * 0.3)
        bottom = self.height - self.pad
        notes = [
            n for n in wrap(self.chart.footnote, self.width - 2 * self.pad, self.small, self.m) if n
        ]
        if bottom - len(notes) * self.small * LINE - y < self.size * 8:
            notes = []  # too little room: the plot first (the window shows the note on hover)
        for line in reversed(notes):
            self.text(self.pad, bottom - self.small * 0.3, line, self.small, color=MUTED)
            bottom -= self.small * LINE
        return y + self.pad * 0.6, bottom - self.pad * 0.6

    def legend(self, items: Sequence[tuple[str, str, bool]], top: float) -> float:
        """Swatches and labels centred in rows; (colour, label, dashed line?) each."""
        box, gap = self.size * 0.8, self.size * 1.2
        widths = [box + self.size * 0.35 + self.m(label, self.size) for _, label, _ in items]
        rows: list[list[int]] = [[]]
        used = 0.0
        for i, w in enumerate(widths):
            if rows[-1] and used + gap + w > self.width - 2 * self.pad:
                rows.append([])
                used = 0.0
            used += w + (gap if len(rows[-1]) else 0)
            rows[-1].append(i)
        y = top
        for row in rows:
            mid = y + self.size * LINE / 2
            x = (self.width - sum(widths[i] for i in row) - gap * (len(row) - 1)) / 2
            for i in row:
                color, label, dashed = items[i]
                if dashed:
                    self.shapes.append(Rule(x, mid, x + box, mid, color, self.size * 0.15, True))
                else:
                    self.shapes.append(Box(x, mid - box / 2, box, box, color))
                self.centred(x + box + self.size * 0.35, mid, label, self.size)
                x += widths[i] + gap
            y += self.size * LINE
        return y

    def cramped(self, top: float, bottom: float) -> bool:
        """Whether a plot from ``top`` to ``bottom`` is too low to draw (then it says so)."""
        if bottom - top >= self.size * 1.5:
            return False
        if bottom - top >= self.size:
            self.centred(
                self.width / 2,
                (top + bottom) / 2,
                "（图太小）",
                self.small,
                color=MUTED,
                anchor="middle",
            )
        return True

    def empty(self, top: float, bottom: float) -> None:
        self.centred(
            self.width / 2,
            (top + bottom) / 2,
            self.chart.empty_text,
            self.size,
            color=MUTED,
            anchor="middle",
        )

    def series_legend(self) -> list[tuple[str, str, bool]]:
        items = [
            (SERIES_COLORS[n], self.chart.series[i].label, False)
            for n, i in enumerate(self.chart.drawn)
        ]
        for ref in self.chart.references:
            value = "—" if ref.percent is None else f"{ref.percent:.1f}%"
            items.append((REFERENCE_COLORS[ref.series], f"{ref.label} {value}", True))
        return items
