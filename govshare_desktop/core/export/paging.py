"""Forms laid out on A4 pages: every cell of a :class:`Sheet` becomes a positioned box, rows flow
onto pages, the header rows repeat on every page, and the signatories line and the seal area follow
the last row. The result is device-independent (points, origin top left), drawn by reportlab for
PDF and by QPainter for printing, so the PDF and the printout are the same page.

Text is measured with the caller's ``measure(text, size)`` (the embedded font's metrics).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from govshare_desktop.core.forms.sheet import HEADER, SIGNATURE, TITLE, TOTAL, Sheet

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 15 * MM, 14 * MM, 16 * MM
BODY_SIZE, TITLE_SIZE, MIN_SIZE = 10.5, 18.0, 6.0
PAD = 2.5  # inside a ruled cell
SEAL_HEIGHT = 30 * MM  # room for the office seal (公章 are about 42 mm across; it may overlap)

Measure = Callable[[str, float], float]


@dataclass(frozen=True)
class Box:
    x: float
    y: float  # top edge, from the top of the page
    w: float
    h: float
    lines: tuple[str, ...]
    size: float
    align: str = "left"  # left | center | right
    valign: str = "middle"  # middle | bottom
    border: bool = False
    bold: bool = False

    @property
    def leading(self) -> float:
        return self.size * 1.3


@dataclass
class Page:
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)
    title: str = ""  # the form on this page (document outline, messages)


def wrap(text: str, width: float, size: float, measure: Measure) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: anywhere in Chinese text, at spaces or
    anywhere in Latin text when a word is longer than the line."""
    if "\n" not in text and measure(text, size) <= width:
        return [text]
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if line and measure(line + ch, size) > width:
                lines.append(line)
                line = "" if ch == " " else ch
            else:
                line += ch
        lines.append(line)
    return lines


class _SheetLayout:
    def __init__(self, sheet: Sheet, measure: Measure) -> None:
        self.sheet = sheet
        self.measure = measure
        self.page_w, self.page_h = (A4[1], A4[0]) if sheet.landscape else A4
        usable = self.page_w - 2 * MARGIN_X
        total = sum(sheet.column_widths)
        unit = usable / total  # points per character of width
        self.size = max(MIN_SIZE, min(BODY_SIZE, unit * 0.92))
        self.x = [MARGIN_X]
        for width in sheet.column_widths:
            self.x.append(self.x[-1] + width * unit)
        self.heights = self._row_heights()

    def _font(self, role: str) -> float:
        if role == TITLE:
            return max(self.size, min(TITLE_SIZE, self.size * 1.7))
        return self.size

    def _needed(self, text: str, width: float, size: float) -> int:
        return len(wrap(text, width - 2 * PAD, size, self.measure)) if text else 1

    def _row_heights(self) -> list[float]:
        sheet = self.sheet
        leading = self.size * 1.3
        heights = [
            max(1.0, sheet.row_heights.get(r, 1.0)) * leading + 2 * PAD for r in range(sheet.rows)
        ]
        spanning = []
        for row, column, cell in sheet:
            width = self.x[column + cell.colspan] - self.x[column]
            size = self._font(cell.role)
            need = self._needed(cell.text, width, size) * size * 1.3 + 2 * PAD
            if cell.role == TITLE:
                need = size * 2.2
            if cell.rowspan == 1:
                heights[row] = max(heights[row], need)
            else:
                spanning.append((row, cell.rowspan, need))
        for row, span, need in spanning:
            have = sum(heights[row : row + span])
            if need > have:
                heights[row + span - 1] += need - have
        return heights

    def boxes(self, row: int, top: float) -> list[Box]:
        """The boxes of the cells that start in ``row``, with the row's top edge at ``top``."""
        out = []
        first, last = self.sheet.table_rows
        for column in range(self.sheet.columns):
            cell = self.sheet.cells.get((row, column))
            if cell is None:
                continue
            w = self.x[column + cell.colspan] - self.x[column]
            h = sum(self.heights[row : row + cell.rowspan])
            size = self._font(cell.role)
            lines = wrap(cell.text, w - 2 * PAD, size, self.measure) if cell.text else []
            if len(lines) > 1 and cell.text.isascii() and " " not in cell.text:
                # An ID number or amount never breaks: shrink it to fit its cell instead.
                size = max(MIN_SIZE, size * (w - 2 * PAD) / self.measure(cell.text, size))
                lines = [cell.text]
            out.append(
                Box(
                    self.x[column],
                    top,
                    w,
                    h,
                    tuple(lines),
                    size,
                    cell.align,
                    "bottom" if cell.role == SIGNATURE else "middle",
                    border=first <= row <= last,
                    bold=cell.role in (TITLE, HEADER, TOTAL),
                )
            )
        return out


def layout(sheets: Sequence[Sheet], measure: Measure) -> list[Page]:
    """Every sheet on its own pages (a batch of individual forms: one form a page, or more
    pages where a form is long)."""
    pages: list[Page] = []
    for sheet in sheets:
        pages += _layout_sheet(sheet, measure)
    return pages


def _layout_sheet(sheet: Sheet, measure: Measure) -> list[Page]:
    lay = _SheetLayout(sheet, measure)
    header_first, header_last = sheet.header_rows
    table_first, table_last = sheet.table_rows
    top_rows = list(range(0, min(header_first, table_first)))
    header_rows = list(range(header_first, header_last + 1))
    body_rows = [
        r for r in range(min(header_first, table_first), table_last + 1) if r not in header_rows
    ]
    tail_rows = list(range(table_last + 1, sheet.rows))
    bottom = lay.page_h - MARGIN_BOTTOM
    pages: list[Page] = []

    def new_page(with_header: bool) -> float:
        pages.append(Page(lay.page_w, lay.page_h, title=sheet.title))
        y = MARGIN_TOP
        if with_header:
            for row in header_rows:
                pages[-1].boxes += lay.boxes(row, y)
                y += lay.heights[row]
        return y

    y = MARGIN_TOP
    pages.append(Page(lay.page_w, lay.page_h, title=sheet.title))
    for row in top_rows:
        pages[-1].boxes += lay.boxes(row, y)
        y += lay.heights[row]
    for row in header_rows:
        pages[-1].boxes += lay.boxes(row, y)
        y += lay.heights[row]
    for row in body_rows:
        if y + lay.heights[row] > bottom:
            y = new_page(with_header=True)
        pages[-1].boxes += lay.boxes(row, y)
        y += lay.heights[row]
    tail_height = sum(lay.heights[r] for r in tail_rows)
    seal = sheet.data.template.kind != "individual"
    if seal:
        tail_height += SEAL_HEIGHT
    if y + tail_height > bottom:
        y = new_page(with_header=False)
    for row in tail_rows:
        pages[-1].boxes += lay.boxes(row, y)
        y += lay.heights[row]
    if seal:
        pages[-1].boxes.append(
            Box(
                lay.page_w - MARGIN_X - 60 * MM,
                y + 4 * MM,
                60 * MM,
                lay.size * 2,
                (f"{sheet.data.unit}（盖章）",),
                lay.size,
                "center",
            )
        )
    return pages


def page_label(number: int, total: int) -> str:
    return f"第 {number} 页 共 {total} 页"
