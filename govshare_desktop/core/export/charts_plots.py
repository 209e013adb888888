"""The three kinds of plot the 工作台's charts use, laid out as shapes (:mod:`.charts_layout`):

* columns — vertical bars per category, side by side per series, with the township's lines across
  (参保率 and 领取率 per village; payments per month);
* progress — one row per category: its label and value above a bar on a grey track that is 100 %
  (一表通 completion per form: long form titles get the full width);
* pyramid — 男 to the left and 女 to the right of the age bands, oldest on top.
"""

from __future__ import annotations

from collections.abc import Callable

from govshare_desktop.core.export.charts_layout import (
    AXIS,
    GRID,
    LINE,
    MUTED,
    REFERENCE_COLORS,
    SERIES_COLORS,
    TRACK,
    Box,
    Layout,
    Measure,
    Rule,
    Shape,
    elide,
    nice_ticks,
    tick_text,
    wrap,
)
from govshare_desktop.core.stats import BARS, COLUMNS, PERCENT, PYRAMID, Chart, Reference

DONE_COLOR = "#70AD47"  # a form filled completely


def draw_chart(
    chart: Chart, width: float, height: float, measure: Measure, size: float
) -> list[Shape]:
    """The chart's shapes in a ``width`` × ``height`` rectangle, body text at ``size``."""
    layout = Layout(chart, width, height, measure, size)
    plots = {COLUMNS: columns, BARS: progress, PYRAMID: pyramid}
    plots[chart.kind](layout)
    return layout.shapes


def tip(chart: Chart, index: int) -> str:
    """Every series' value of one category, in full."""
    return "\n".join(chart.detail(s, index) for s in range(len(chart.series)))


def _bar_texts(chart: Chart, series: int, index: int, wan: bool) -> list[str]:
    """What may be written on a bar, longest first: 85.2%, 85%; 6.08万, 6.1万 (``wan``: the
    chart's money is in 万); none for a rate of nothing."""
    value = chart.number(series, index)
    if value is None:
        return []
    if chart.series[series].is_rate:
        return [f"{value:.1f}%", f"{value:.0f}%"]
    if chart.series[series].unit == "元" and wan:
        return [f"{value / 10_000:.2f}万", f"{value / 10_000:.1f}万"]
    return [f"{value:,.0f}"]


def _label_form(lay: Layout, texts: list[list[str]], room: float) -> int | None:
    """Which of the texts' forms every bar of a series has room for (one form for all bars,
    so that they read alike), or None: no values on the bars."""
    for form in range(2):
        if all(not t or lay.m(t[min(form, len(t) - 1)], lay.small) <= room for t in texts):
            return form
    return None


def _category_lines(lay: Layout, room: float) -> list[list[str]]:
    """Each category label as lines that fit ``room``: as written (a newline breaks), wrapped to
    at most three lines, or upright, one character a line."""
    cats = lay.chart.categories
    plain = [c.split("\n") for c in cats]
    if all(lay.m(line, lay.size) <= room for lines in plain for line in lines):
        return plain
    wrapped = [wrap(c, room, lay.size, lay.m) for c in cats]
    if max(len(w) for w in wrapped) <= 3 and all(
        lay.m(line, lay.size) <= room for w in wrapped for line in w
    ):
        return wrapped
    return [list(c.replace("\n", "")) for c in cats]


def columns(lay: Layout) -> None:
    chart = lay.chart
    top, bottom = lay.frame(lay.series_legend())
    if chart.is_empty:
        lay.empty(top, bottom)
        return
    n, drawn = len(chart.categories), chart.drawn
    values = {s: [chart.number(s, i) for i in range(n)] for s in drawn}
    highest = max((v or 0.0) for row in values.values() for v in row)
    top_value = 100.0 if chart.unit == PERCENT else highest
    ticks = nice_ticks(top_value)
    labels = [tick_text(t, chart, ticks[-1]) for t in ticks]
    left = lay.pad + max(lay.m(t, lay.small) for t in labels) + lay.size * 0.4
    refs = [(r, f"{r.percent:.1f}%") for r in chart.references if r.percent is not None]
    right = lay.width - lay.pad - max((lay.m(t, lay.small) for _, t in refs), default=0.0)
    right -= lay.size * 0.4 if refs else 0.0
    slot = (right - left) / n
    lines = _category_lines(lay, slot * 0.94)
    rows = max(len(c) for c in lines)
    # The unit above the axis, and room above the highest bar for its value
    plot_top = top + lay.small * (LINE + (0.8 if chart.unit == PERCENT else 1.4))
    plot_bottom = bottom - rows * lay.size * LINE - lay.size * 0.3
    if lay.cramped(plot_top, plot_bottom):
        return
    steps = int((plot_bottom - plot_top) // (lay.small * 1.8))
    if steps < len(ticks) - 1:  # a low plot: fewer ticks, their labels apart
        ticks = nice_ticks(top_value, max(steps, 1))
        labels = [tick_text(t, chart, ticks[-1]) for t in ticks]
    if chart.unit != PERCENT:
        lay.text(lay.pad, top + lay.small, f"单位：{chart.caption}", lay.small, color=MUTED)

    def y_of(value: float) -> float:
        return plot_bottom - value / ticks[-1] * (plot_bottom - plot_top)

    for t, label in zip(ticks, labels, strict=True):
        y = y_of(t)
        lay.shapes.append(Rule(left, y, right, y, AXIS if t == 0 else GRID, 1.0))
        lay.centred(left - lay.size * 0.4, y, label, lay.small, color=MUTED, anchor="end")
    group = slot * (0.6 if len(drawn) == 1 else 0.76)
    values_on_bars: list[tuple[float, float, str]] = []
    width = group / len(drawn)
    room = width if len(drawn) > 1 else slot * 0.96
    wan = chart.caption == "元" and ticks[-1] >= 50_000  # as the ticks are written
    texts = {s: [_bar_texts(chart, s, i, wan) for i in range(n)] for s in drawn}
    forms = [_label_form(lay, texts[s], room) for s in drawn]
    for i in range(n):
        x = left + i * slot + (slot - group) / 2
        for k, s in enumerate(drawn):
            value = values[s][i]
            if value is None:
                continue
            y = y_of(max(value, 0.0))
            lay.shapes.append(
                Box(x + k * width, y, width, plot_bottom - y, SERIES_COLORS[k], tip(chart, i))
            )
            form, mine = forms[k], texts[s][i]
            if form is not None and mine:
                text = mine[min(form, len(mine) - 1)]
                values_on_bars.append((x + (k + 0.5) * width, y - lay.small * 0.3, text))
        for row, line in enumerate(lines[i]):
            baseline = plot_bottom + lay.size * 0.3 + (row + 1) * lay.size * LINE - lay.size * 0.3
            lay.text(left + (i + 0.5) * slot, baseline, line, lay.size, anchor="middle")
    _references(lay, refs, y_of, left, right)
    for x, baseline, text in values_on_bars:  # over the lines, on a white ground
        half = lay.m(text, lay.small) / 2 + lay.size * 0.1
        lay.shapes.append(
            Box(x - half, baseline - lay.small * 0.95, 2 * half, lay.small * 1.2, "#FFFFFF")
        )
        lay.text(x, baseline, text, lay.small, anchor="middle")


def _references(
    lay: Layout,
    refs: list[tuple[Reference, str]],
    y_of: Callable[[float], float],
    left: float,
    right: float,
) -> None:
    """The township's dashed lines across the plot, each with its value at the right end
    (moved apart when two are close)."""
    placed: list[float] = []
    for ref, text in sorted(refs, key=lambda r: -(r[0].percent or 0.0)):
        y = y_of(ref.percent or 0.0)
        color = REFERENCE_COLORS[ref.series]
        lay.shapes.append(Rule(left, y, right, y, color, lay.size * 0.15, True))
        mid = y
        for other in placed:
            if abs(mid - other) < lay.small * 1.1:
                mid = other + lay.small * 1.1
        placed.append(mid)
        lay.centred(right + lay.size * 0.3, mid, text, lay.small, color=color)


def progress(lay: Layout) -> None:
    chart = lay.chart
    top, bottom = lay.frame([])
    if not chart.categories:
        lay.empty(top, bottom)
        return
    n = len(chart.categories)
    bar = lay.size * 0.9
    row = lay.size * LINE + bar + lay.size * 0.5
    if n * row > bottom - top:
        bar = max(lay.size * 0.35, (bottom - top) / n - lay.size * LINE - lay.size * 0.2)
        row = max((bottom - top) / n, lay.size * LINE + bar + lay.size * 0.2)
    left, right = lay.pad, lay.width - lay.pad
    if n * row > bottom - top:  # the rows that fit, and how many more there are
        n = max(int((bottom - top - lay.size * LINE) // row), 0)
        more = f"另有 {len(chart.categories) - n} 张报表，放大窗口可见"
        lay.text(left, top + n * row + lay.size * 1.05, more, lay.small, color=MUTED)
    for i in range(n):
        y = top + i * row
        value = chart.number(0, i)
        s = chart.series[0]
        if value is None:
            note = chart.short(0, i)
        else:
            note = f"{chart.short(0, i)}（{s.values[i]:,}/{s.bases[i]:,}{s.unit}）"
        note_width = lay.m(note, lay.size)
        title = elide(chart.categories[i], right - left - note_width - lay.size, lay.size, lay.m)
        baseline = y + lay.size * 1.05
        lay.text(left, baseline, title, lay.size)
        lay.text(
            right,
            baseline,
            note,
            lay.size,
            color=MUTED if value is None else "#262626",
            anchor="end",
        )
        bar_top = y + lay.size * LINE
        lay.shapes.append(Box(left, bar_top, right - left, bar, TRACK, tip(chart, i)))
        if value:
            color = DONE_COLOR if value >= 100 else SERIES_COLORS[0]
            lay.shapes.append(
                Box(
                    left,
                    bar_top,
                    (right - left) * min(value, 100.0) / 100,
                    bar,
                    color,
                    tip(chart, i),
                )
            )


def pyramid(lay: Layout) -> None:
    chart = lay.chart
    male, female = chart.series[0], chart.series[1]
    legend = [
        (SERIES_COLORS[0], f"{male.label}（{sum(male.values):,} 人）", False),
        (SERIES_COLORS[1], f"{female.label}（{sum(female.values):,} 人）", False),
    ]
    top, bottom = lay.frame(legend)
    if chart.is_empty:
        lay.empty(top, bottom)
        return
    n = len(chart.categories)
    highest = max(max(male.values), max(female.values))
    ticks = nice_ticks(highest, 4)
    label_size = lay.small
    centre = max(lay.m(c, label_size) for c in chart.categories) + lay.size * 0.8
    values_room = lay.m(f"{highest:,}", lay.small) + lay.size * 0.3
    half = (lay.width - 2 * lay.pad - centre) / 2 - values_room
    centre_left = lay.pad + values_room + half
    centre_right = centre_left + centre
    plot_top, plot_bottom = top, bottom - lay.small * LINE - lay.size * 0.2
    if lay.cramped(plot_top, plot_bottom) or half <= 0:
        return
    slot = (plot_bottom - plot_top) / n
    height = slot * 0.78
    for t in ticks:
        for x in (centre_left - t / ticks[-1] * half, centre_right + t / ticks[-1] * half):
            lay.shapes.append(Rule(x, plot_top, x, plot_bottom, AXIS if t == 0 else GRID))
            lay.text(
                x,
                plot_bottom + lay.small * 1.15,
                f"{t:,.0f}",
                lay.small,
                color=MUTED,
                anchor="middle",
            )
    for band in range(n):
        y = plot_top + (n - 1 - band) * slot + (slot - height) / 2
        mid = y + height / 2
        for k, series in enumerate((male, female)):
            count = series.values[band]
            w = count / ticks[-1] * half
            x = centre_left - w if k == 0 else centre_right
            lay.shapes.append(Box(x, y, w, height, SERIES_COLORS[k], tip(chart, band)))
            if slot >= lay.small * 1.05 and count:
                if k == 0:
                    lay.centred(x - lay.size * 0.25, mid, f"{count:,}", lay.small, anchor="end")
                else:
                    lay.centred(x + w + lay.size * 0.25, mid, f"{count:,}", lay.small)
        lay.centred(
            (centre_left + centre_right) / 2,
            mid,
            chart.categories[band],
            label_size,
            anchor="middle",
        )
