"""The 工作台's charts to Excel: a sheet for each chart with its figures (counts, yuan, rates with
their parts) and a native Excel chart drawn from those cells — columns with the township's lines,
a pyramid of two bar series on one axis, horizontal bars for completion — so the clerk can restyle
or copy it in Excel or WPS. Written with XlsxWriter (already the list exports' writer), in memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from govshare_desktop.core.stats import (
    COMPLETION,
    COVERAGE,
    PAYMENTS,
    POPULATION,
    PYRAMID,
    Chart,
    ChartSet,
)

SHEET_NAMES = {
    COVERAGE: "参保率和领取率",
    POPULATION: "人口金字塔",
    PAYMENTS: "待遇发放",
    COMPLETION: "一表通完成情况",
}
HEADER_ROW = 3
COLORS = ("#4472C4", "#ED7D31")
LINE_COLORS = ("#1F3864", "#A0400A")


@dataclass
class Column:
    header: str
    values: list[Any]
    number_format: str
    plotted: int | None = None  # the series it draws (by index), if any
    reference: int | None = None  # the township line it draws, if any
    hidden: bool = False


def columns(chart: Chart) -> list[Column]:
    """The figures of a chart as table columns after the categories: for a rate its base, its
    part and the rate; yuan for fen; the township's values as constant columns (its lines)."""
    n = len(chart.categories)
    out: list[Column] = []
    for index, s in enumerate(chart.series):
        drawn = index if s.drawn else None
        if s.is_rate:
            part, whole = s.counted
            out.append(Column(f"{whole}（{s.unit}）", list(s.bases), "#,##0"))
            out.append(Column(f"{part}（{s.unit}）", list(s.values), "#,##0"))
            rates = [v / b if b else None for v, b in zip(s.values, s.bases, strict=True)]
            out.append(Column(s.label, rates, "0.0%", drawn))
        elif s.unit == "元":
            out.append(Column(f"{s.label}（元）", [v / 100 for v in s.values], "#,##0.00", drawn))
        else:
            out.append(Column(f"{s.label}（{s.unit}）", list(s.values), "#,##0", drawn))
    for index, ref in enumerate(chart.references):
        rate = ref.value / ref.base if ref.base else None
        out.append(Column(ref.label, [rate] * n, "0.0%", reference=index))
    if chart.kind == PYRAMID:  # 男 to the left: negative on the chart, shown without the sign
        out[0].plotted = None
        out.append(
            Column(
                f"{chart.series[0].label}（作图用）",
                [-v for v in chart.series[0].values],
                "#,##0",
                0,
                hidden=True,
            )
        )
    return out


def charts_xlsx(chart_set: ChartSet, *, anchor: str = "") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties(
        {
            "title": f"统计图 — {chart_set.area_name}",
            "subject": chart_set.subtitle,
            "keywords": f"govshare-audit:{anchor}" if anchor else "",
            "comments": "govshare-desktop",
        }
    )
    styles = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "muted": book.add_format({"font_color": "#595959"}),
        "header": book.add_format(
            {
                "bold": True,
                "bg_color": "#D9E1F2",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        ),
        "note": book.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"}),
    }
    for chart in chart_set.charts:
        _sheet(book, styles, chart_set, chart)
    book.close()
    return buffer.getvalue()


def _sheet(book: Any, styles: dict[str, Any], chart_set: ChartSet, chart: Chart) -> None:
    name = SHEET_NAMES.get(chart.key, chart.key[:31])
    sheet = book.add_worksheet(name)
    sheet.write(0, 0, chart.title, styles["title"])
    sheet.write(1, 0, chart_set.subtitle, styles["muted"])
    table = columns(chart)
    n = len(chart.categories)
    sheet.write(HEADER_ROW, 0, chart.heading or "类别", styles["header"])
    sheet.set_row(HEADER_ROW, 32)
    width = max([len(chart.name(i)) for i in range(n)] + [6]) * 2 + 2
    sheet.set_column(0, 0, min(width, 60))
    for i in range(n):
        sheet.write_string(HEADER_ROW + 1 + i, 0, chart.name(i))
    for c, column in enumerate(table, start=1):
        cell = book.add_format({"num_format": column.number_format})
        sheet.write(HEADER_ROW, c, column.header, styles["header"])
        sheet.set_column(c, c, 14, cell, {"hidden": column.hidden})
        for i, value in enumerate(column.values):
            if value is None:
                sheet.write_blank(HEADER_ROW + 1 + i, c, None, cell)
            else:
                sheet.write_number(HEADER_ROW + 1 + i, c, value, cell)
    last = HEADER_ROW + n
    note_row = last + 2
    sheet.merge_range(note_row, 0, note_row, max(len(table), 6), chart.footnote, styles["note"])
    sheet.set_row(note_row, 15 * (1 + len(chart.footnote) // 60))
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.set_paper(9)  # A4, landscape, the figures and the chart on one page
    sheet.set_landscape()
    sheet.fit_to_pages(1, 1)
    if n:
        native = _native_chart(book, name, chart, table, last)
        sheet.insert_chart(note_row + 2, 0, native)  # under the figures: one page wide


def _ref(sheet: str, first: int, last: int, column: int) -> str:
    letter = xl_col_to_name(column)
    return f"='{sheet}'!${letter}${first + 1}:${letter}${last + 1}"


def _native_chart(book: Any, sheet: str, chart: Chart, table: list[Column], last: int) -> Any:
    first = HEADER_ROW + 1
    categories = _ref(sheet, first, last, 0)
    horizontal = chart.kind in (PYRAMID,) or chart.key == COMPLETION
    native = book.add_chart({"type": "bar" if horizontal else "column"})
    plotted = sorted(
        (
            (column.plotted, c, column)
            for c, column in enumerate(table, start=1)
            if column.plotted is not None
        ),
    )
    for _, c, column in plotted:
        assert column.plotted is not None
        series: dict[str, Any] = {
            "name": chart.series[column.plotted].label,
            "categories": categories,
            "values": _ref(sheet, first, last, c),
            "fill": {"color": COLORS[column.plotted % len(COLORS)]},
            "gap": 40 if chart.kind == PYRAMID else 80,
        }
        if chart.kind == PYRAMID:
            series["overlap"] = 100
        if len(chart.categories) <= 12:
            labels = column.number_format
            series["data_labels"] = {"value": True, "num_format": f"{labels};{labels}"}
        native.add_series(series)
    lines = [(c, column) for c, column in enumerate(table, start=1) if column.reference is not None]
    if lines:
        line = book.add_chart({"type": "line"})
        for c, column in lines:
            ref = chart.references[column.reference or 0]
            line.add_series(
                {
                    "name": ref.label,
                    "categories": categories,
                    "values": _ref(sheet, first, last, c),
                    "line": {
                        "color": LINE_COLORS[ref.series % 2],
                        "dash_type": "dash",
                        "width": 1.5,
                    },
                    "marker": {"type": "none"},
                }
            )
        native.combine(line)
    _axes(native, chart)
    native.set_title({"name": chart.title, "name_font": {"size": 12, "bold": True}})
    native.set_legend({"position": "bottom"})
    native.set_size({"width": 760, "height": 420})
    native.show_hidden_data()
    return native


def _axes(native: Any, chart: Chart) -> None:
    rate = chart.series[0].is_rate
    value_axis: dict[str, Any] = {
        "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}
    }
    if rate:
        value_axis.update({"min": 0, "max": 1, "num_format": "0%"})
    elif chart.kind == PYRAMID:
        value_axis["num_format"] = "#,##0;#,##0"
    else:
        value_axis.update({"num_format": "#,##0", "name": f"单位：{chart.caption}"})
    category_axis: dict[str, Any] = {}
    if chart.kind == PYRAMID:
        category_axis["label_position"] = "low"  # the age bands at the left edge, not at zero
    if chart.key == COMPLETION:
        category_axis["reverse"] = True  # the forms in the table's order, top down …
        category_axis["crossing"] = "max"  # … and the percentages still at the foot
    if chart.kind == PYRAMID or chart.key == COMPLETION:  # a bar chart: x is the value axis
        native.set_x_axis(value_axis)
        native.set_y_axis(category_axis)
    else:
        native.set_x_axis(category_axis)
        native.set_y_axis(value_axis)
