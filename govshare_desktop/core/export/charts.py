"""The 工作台's charts to files: PDF drawn with reportlab graphics — the same shapes the window
paints (:mod:`.charts_plots`), in the embedded CJK font, one chart on each A4 landscape page — and
Excel with a native chart beside each chart's figures (:mod:`.charts_xlsx`). Both return bytes;
:func:`export_chart_file` writes them through the audited export.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.audited import ExportedFile, audited_write
from govshare_desktop.core.export.charts_layout import Box, Rule, Shape, Text
from govshare_desktop.core.export.charts_plots import draw_chart
from govshare_desktop.core.export.paging import A4, MM, page_label
from govshare_desktop.core.export.pdf import measure_with
from govshare_desktop.core.stats import ChartSet
from govshare_desktop.core.store.engine import Store

FORMATS = ("pdf", "xlsx")
PAGE = (A4[1], A4[0])  # landscape
MARGIN = 15 * MM
BODY_PT = 10.5


def drawing(shapes: list[Shape], width: float, height: float) -> Any:
    """The shapes as a reportlab :class:`~reportlab.graphics.shapes.Drawing` (y turned upwards)."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String  # heavy: reportlab
    from reportlab.lib.colors import HexColor  # heavy: reportlab

    out = Drawing(width, height)
    for shape in shapes:
        if isinstance(shape, Box):
            out.add(
                Rect(
                    shape.x,
                    height - shape.y - shape.h,
                    shape.w,
                    shape.h,
                    fillColor=HexColor(shape.fill),
                    strokeColor=None,
                )
            )
        elif isinstance(shape, Rule):
            out.add(
                Line(
                    shape.x1,
                    height - shape.y1,
                    shape.x2,
                    height - shape.y2,
                    strokeColor=HexColor(shape.color),
                    strokeWidth=shape.width * 0.75,
                    strokeDashArray=[4, 3] if shape.dash else None,
                )
            )
        elif isinstance(shape, Text):
            # The CJK fonts have no bold face: a bold line is set twice, a hair apart.
            for shift in (0.0, shape.size / 40) if shape.bold else (0.0,):
                out.add(
                    String(
                        shape.x + shift,
                        height - shape.y,
                        shape.text,
                        fontName=fonts.FONT_NAME,
                        fontSize=shape.size,
                        fillColor=HexColor(shape.color),
                        textAnchor=shape.anchor,
                    )
                )
    return out


def charts_pdf(chart_set: ChartSet, *, author: str = "", anchor: str = "", font: str = "") -> bytes:
    """Each chart on its own A4 landscape page, under the area and the day, numbered."""
    from reportlab.graphics import renderPDF  # heavy: reportlab
    from reportlab.pdfgen.canvas import Canvas  # heavy: reportlab

    fonts.register(font)
    measure = measure_with(fonts.FONT_NAME)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1, initialFontName=fonts.FONT_NAME)
    canvas.setTitle(f"统计图 — {chart_set.area_name}")
    canvas.setAuthor(author)
    canvas.setCreator("govshare-desktop")
    canvas.setSubject(chart_set.subtitle)
    if anchor:  # the audit trail's head when this file was made (see core/security/audit)
        canvas.setKeywords(f"govshare-audit:{anchor}")
    width, height = PAGE[0] - 2 * MARGIN, PAGE[1] - 2 * MARGIN - 12 * MM
    total = len(chart_set.charts)
    for number, chart in enumerate(chart_set.charts, start=1):
        canvas.setFont(fonts.FONT_NAME, 9)
        canvas.setFillGray(0.35)
        canvas.drawString(MARGIN, PAGE[1] - MARGIN + 2, chart_set.subtitle)
        shapes = draw_chart(chart, width, height, measure, BODY_PT)
        renderPDF.draw(drawing(shapes, width, height), canvas, MARGIN, MARGIN + 8 * MM)
        canvas.setFont(fonts.FONT_NAME, 9)
        canvas.setFillGray(0)
        canvas.drawCentredString(PAGE[0] / 2, 8 * MM, page_label(number, total))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def chart_bytes(chart_set: ChartSet, fmt: str, *, author: str = "", anchor: str = "") -> bytes:
    if fmt == "pdf":
        return charts_pdf(chart_set, author=author, anchor=anchor)
    from govshare_desktop.core.export.charts_xlsx import charts_xlsx  # heavy: xlsxwriter

    return charts_xlsx(chart_set, anchor=anchor)


def export_chart_file(
    store: Store, chart_set: ChartSet, out: Path, *, fmt: str, author: str = ""
) -> ExportedFile:
    """The charts as ``fmt`` (pdf or xlsx) at ``out``, through the audited export: figures only,
    no personal data (masked)."""
    return audited_write(
        store,
        out,
        lambda temp, anchor: temp.write_bytes(
            chart_bytes(chart_set, fmt, author=author, anchor=anchor)
        ),
        masked=True,
        count=len(chart_set.charts),
        detail={
            "charts": [c.key for c in chart_set.charts],
            "area": chart_set.area,
            "format": fmt,
        },
    )
