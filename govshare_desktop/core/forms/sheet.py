"""A filled form laid out the way its paper reads: a grid of cells, some merged.

One layout serves every consumer — the form view on screen, the Excel workbook and the PDF — so a
form looks the same wherever it appears, and a template's layout is written once.

* 统计表: the title; the statutory marks (表号/制定机关/批准文号/有效期至) top right; 填报单位（盖章）,
  the period and the unit line; multi-level merged column headers; the 栏次 row (甲, 1, 2, …); a
  合计 row (read-only where it is worked out from the rows below), then one row per village and,
  when it has something in it, 「其他（未落户）」; the signatories line (单位负责人、审核人、填表人…).
* 花名册: the same top; 序号 and one column per element; a 合计 row under money columns.
* 登记表/申请表: label/value cells row by row, then the signature and seal areas.

Qt-free: the UI shows a :class:`Sheet` with spans, the exporters write it to xlsx and PDF.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from math import ceil
from typing import Any

from govshare_desktop.core.domain import codes, masking
from govshare_desktop.core.forms.dictionary import Element
from govshare_desktop.core.forms.values import FormData, display, stored_text

# Cell roles
TITLE, MARK, META, HEADER, NUMBER, STUB, VALUE, TOTAL, LABEL, SIGNATURE, FOOTER = (
    "title",
    "mark",
    "meta",
    "header",
    "number",
    "stub",
    "value",
    "total",
    "label",
    "signature",
    "footer",
)
MARK_LABELS = {
    "表号": "表　　号",
    "制定机关": "制定机关",
    "批准机关": "批准机关",
    "批准文号": "批准文号",
    "有效期至": "有效期至",
}
BLANK = "　" * 4  # room for a handwritten name
DATE_BLANK = "　　年　　月　　日"
MASKERS = {
    "name": masking.mask_name,
    "id_number": masking.mask_id_number,
    "birth_date": masking.mask_birth_date,
    "phone": masking.mask_phone,
    "address": masking.mask_address,
}
PORTRAIT_WIDTH = 46  # characters of 10.5 pt text across an A4 page inside the margins


@dataclass(frozen=True)
class Cell:
    text: str = ""
    role: str = VALUE
    rowspan: int = 1
    colspan: int = 1
    align: str = "left"  # left | center | right
    # Value cells: which value this is, its typed value for exporters and how to format it.
    element: str | None = None
    subject: str | None = None
    value: Any = None  # int, Decimal (yuan for money), date or str
    type: str = "text"  # integer | decimal | money | date | text
    origin: str | None = None  # computed | entered | overridden | None (empty)
    editable: bool = False


@dataclass
class Sheet:
    title: str
    data: FormData
    rows: int
    columns: int
    cells: dict[tuple[int, int], Cell]  # keyed by the top-left position of each (merged) cell
    table_rows: tuple[int, int]  # the ruled grid: first and last row with borders
    header_rows: tuple[int, int]  # rows repeated at the top of every printed page
    column_widths: list[float]  # in Chinese characters
    row_heights: dict[int, float] = field(default_factory=dict)  # in lines; 1 if absent
    landscape: bool = False
    masked: bool = False  # personal data shown masked

    def __iter__(self) -> Iterator[tuple[int, int, Cell]]:
        for (row, column), cell in sorted(self.cells.items()):
            yield row, column, cell

    def value_cells(self) -> Iterator[tuple[int, int, Cell]]:
        return ((r, c, cell) for r, c, cell in self if cell.element is not None)

    def position(self, element: str, subject: str) -> tuple[int, int] | None:
        for row, column, cell in self.value_cells():
            if cell.element == element and cell.subject == subject:
                return row, column
        return None

    def who(self) -> str:
        """Whom an individual form is about, as the form shows it: the name (masked on a masked
        sheet), else the subject's number (masked likewise). Used to name worksheets and files,
        which must not carry what the sheet masks."""
        where = self.position("P_NAME", self.data.area)
        if where is not None and self.cells[where].text:
            return self.cells[where].text
        return masking.mask_id_number(self.data.area) if self.masked else self.data.area


def build_sheet(data: FormData, *, masked: bool = False) -> Sheet:
    """``masked``: personal data (elements with a ``mask``) shown masked and not editable."""
    builder = _Builder(data, masked)
    kind = data.template.kind
    if kind == "table":
        return builder.table()
    if kind == "roster":
        return builder.roster()
    return builder.individual()


def _value_type(element: Element) -> str:
    return element.type if element.type in ("integer", "decimal", "money", "date") else "text"


def _width(text: str) -> float:
    """Printed width in Chinese characters (ASCII counts half)."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.6 for ch in text)


class _Builder:
    def __init__(self, data: FormData, masked: bool) -> None:
        self.data = data
        self.masked = masked
        self.template = data.template
        self.dictionary = data.dictionary
        self.cells: dict[tuple[int, int], Cell] = {}
        self.heights: dict[int, float] = {}
        self.row = 0

    # ---------------------------------------------------------------- pieces

    def put(self, row: int, column: int, cell: Cell) -> None:
        self.cells[(row, column)] = cell

    def value_cell(self, code: str, subject: str, *, colspan: int = 1) -> Cell:
        element = self.dictionary[code]
        value = self.data.value(code, subject)
        origin = self.data.origin(code, subject)
        row = self.data.row(code, subject)
        text = display(element, row.value) if row is not None else _attribute_text(element, value)
        if element.type == "money" and value is not None:
            value = Decimal(value) / 100
        elif element.type == "code" and value is not None:
            value = text
        registry_fact = code in self.data.attributes  # name, ID number… come from the registry
        hidden = self.masked and element.mask is not None and value is not None
        if hidden and element.mask is not None:
            text = value = MASKERS[element.mask](text)  # a masked date is text (1956-**-**)
        numeric = element.type in ("integer", "decimal", "money")
        return Cell(
            text,
            VALUE,
            colspan=colspan,
            align="right" if numeric else ("center" if element.type == "date" else "left"),
            element=code,
            subject=subject,
            value=value,
            type="text" if hidden else _value_type(element),
            origin=origin,
            editable=not (self.data.locked or registry_fact or hidden),
        )

    def title(self, columns: int) -> None:
        self.put(self.row, 0, Cell(self.template.title, TITLE, colspan=columns, align="center"))
        self.heights[self.row] = 2.0
        self.row += 1

    def marks(self, columns: int) -> None:
        legal = self.template.legal
        if not legal:
            return
        width = min(columns, max(2, ceil(columns / 3)))
        for key in ("表号", "制定机关", "批准机关", "批准文号", "有效期至"):
            if key in legal:
                text = f"{MARK_LABELS[key]}：{legal[key]}"
                self.put(self.row, columns - width, Cell(text, MARK, colspan=width))
                self.row += 1

    def meta(self, columns: int, left: str) -> None:
        right = "　".join(x for x in (self.data.period.label, self.template.unit_line) if x)
        if self.template.period_type == "once":
            right = f"填表日期：{DATE_BLANK}"
        half = max(1, columns // 2)
        self.put(self.row, 0, Cell(left, META, colspan=half))
        if columns > half:
            self.put(self.row, half, Cell(right, META, colspan=columns - half, align="right"))
        self.row += 1

    def headers(self, stub: str) -> tuple[int, int]:
        """Multi-level column headers under the stub column; returns (first row, 栏次 row)."""
        columns = self.template.columns
        depth = 1 + max((len(c.groups) for c in columns), default=0)
        top = self.row
        self.put(top, 0, Cell(stub, HEADER, rowspan=depth, align="center"))
        for level in range(depth - 1):
            j = 0
            while j < len(columns):
                path = columns[j].groups[: level + 1]
                if len(columns[j].groups) <= level:
                    j += 1
                    continue
                run = 1
                while j + run < len(columns) and columns[j + run].groups[: level + 1] == path:
                    run += 1
                self.put(top + level, 1 + j, Cell(path[-1], HEADER, colspan=run, align="center"))
                j += run
        for j, column in enumerate(columns):
            element = self.dictionary[column.element]
            text = column.header
            if element.unit and element.unit not in self.template.unit_line:
                text += f"（{element.unit}）"
            level = len(column.groups)
            self.put(top + level, 1 + j, Cell(text, HEADER, rowspan=depth - level, align="center"))
        self.row = top + depth
        return top, self.row - 1

    def number_row(self, stub: str) -> int:
        self.put(self.row, 0, Cell(stub, NUMBER, align="center"))
        for j in range(len(self.template.columns)):
            self.put(self.row, 1 + j, Cell(str(j + 1), NUMBER, align="center"))
        self.row += 1
        return self.row - 1

    def signatories(self, columns: int) -> None:
        names = self.template.signatories
        if not names:
            return
        parts = [f"{n}：{DATE_BLANK if '日期' in n else BLANK}" for n in names]
        self.put(self.row, 0, Cell("　　".join(parts), FOOTER, colspan=columns))
        self.row += 1

    def widths(self, columns: int, stub: float) -> list[float]:
        widths = [stub] + [0.0] * (columns - 1)
        for j, column in enumerate(self.template.columns):
            header = max(4.0, min(8.0, ceil(_width(column.header) / 2) + 1.0))
            values = [
                _width(cell.text)
                for (_, c), cell in self.cells.items()
                if c == 1 + j and cell.role in (VALUE, TOTAL) and cell.colspan == 1
            ]
            widths[1 + j] = max(header, min(20.0, max(values, default=0) + 1.0))
        return widths

    def fit(self, widths: list[float]) -> None:
        """Widen the statutory-mark block leftwards until its text fits; give lines that are
        longer than the page (the signatories line) the height to wrap."""
        for (row, column), cell in list(self.cells.items()):
            need = _width(cell.text) + 1.0
            if cell.role == MARK:
                start = column
                while start > 0 and sum(widths[start:]) < need:
                    start -= 1
                if start != column:
                    del self.cells[(row, column)]
                    self.cells[(row, start)] = replace(cell, colspan=len(widths) - start)
            elif cell.role in (FOOTER, META) and cell.rowspan == 1:
                room = sum(widths[column : column + cell.colspan])
                if need > room:
                    self.heights[row] = max(self.heights.get(row, 1.0), float(ceil(need / room)))

    def sheet(
        self, columns: int, table: tuple[int, int], header: tuple[int, int], widths: list[float]
    ) -> Sheet:
        self.fit(widths)
        return Sheet(
            title=self.template.title,
            data=self.data,
            rows=self.row,
            columns=columns,
            cells=self.cells,
            table_rows=table,
            header_rows=header,
            column_widths=widths,
            row_heights=self.heights,
            landscape=sum(widths) > PORTRAIT_WIDTH,
            # A form without personal data (a 统计表) is as safe as a masked one.
            masked=self.masked
            or not any(self.dictionary[code].mask for code in self.template.elements),
        )

    # ---------------------------------------------------------------- kinds

    def table(self) -> Sheet:
        columns = 1 + len(self.template.columns)
        self.title(columns)
        self.marks(columns)
        self.meta(columns, f"填报单位（盖章）：{self.data.unit}")
        first, _ = self.headers("村（社区）")
        numbers = self.number_row("甲")
        for subject, label in self.data.subjects:
            align = "center" if label == "合计" else "left"
            self.put(self.row, 0, Cell(label, STUB, align=align, subject=subject))
            for j, column in enumerate(self.template.columns):
                self.put(self.row, 1 + j, self.table_cell(column.element, subject))
            self.row += 1
        last = self.row - 1
        self.signatories(columns)
        stub = max([4.0] + [_width(label) + 1.0 for _, label in self.data.subjects])
        return self.sheet(columns, (first, last), (first, numbers), self.widths(columns, stub))

    def table_cell(self, code: str, subject: str) -> Cell:
        """A 统计表 cell; a 合计 worked out from the rows (see FormData.derived) is read-only."""
        cell = self.value_cell(code, subject)
        if not self.data.derived(code, subject):
            return cell
        element = self.dictionary[code]
        text = display(element, stored_text(element, self.data.value(code, subject)))
        return replace(cell, text=text, editable=False)

    def roster(self) -> Sheet:
        columns = 1 + len(self.template.columns)
        self.title(columns)
        self.marks(columns)
        self.meta(columns, f"填报单位（盖章）：{self.data.unit}")
        first, header_last = self.headers("序号")
        for subject, label in self.data.subjects:
            self.put(self.row, 0, Cell(label, STUB, align="center", subject=subject))
            for j, column in enumerate(self.template.columns):
                self.put(self.row, 1 + j, self.value_cell(column.element, subject))
            self.row += 1
        money = [
            j
            for j, c in enumerate(self.template.columns)
            if self.dictionary[c.element].type == "money"
        ]
        if money:
            self.put(self.row, 0, Cell("合计", TOTAL, align="center"))
            text_column = next(
                (j for j, c in enumerate(self.template.columns) if j not in money), None
            )
            for j in range(len(self.template.columns)):  # ruled like every other row
                self.put(self.row, 1 + j, Cell("", TOTAL))
            if text_column is not None:
                people = "户" if self.template.subject == "household" else "人"
                count = f"共 {len(self.data.subjects)} {people}"
                self.put(self.row, 1 + text_column, Cell(count, TOTAL))
            for j in money:
                code = self.template.columns[j].element
                total = sum((self.data.value(code, s) or 0 for s, _ in self.data.subjects), start=0)
                self.put(
                    self.row,
                    1 + j,
                    Cell(
                        display(self.dictionary[code], str(total)),
                        TOTAL,
                        align="right",
                        value=Decimal(total) / 100,
                        type="money",
                    ),
                )
            self.row += 1
        last = self.row - 1
        self.signatories(columns)
        stub = max(3.0, _width(str(len(self.data.subjects))) + 1.0)
        return self.sheet(columns, (first, last), (first, header_last), self.widths(columns, stub))

    def individual(self) -> Sheet:
        layout = self.template.layout
        columns = max(sum(1 + cell.span for cell in row) for row in layout)
        subject = self.data.subjects[0][0]
        self.title(columns)
        self.meta(columns, f"填报单位：{self.data.unit}")
        first = self.row
        for cells in layout:
            column = 0
            for index, layout_cell in enumerate(cells):
                element = self.dictionary[layout_cell.element]
                label = layout_cell.label or element.name
                self.put(self.row, column, Cell(label, LABEL, align="center"))
                span = layout_cell.span
                if index == len(cells) - 1:
                    span = columns - column - 1  # the last value cell fills the row
                self.put(
                    self.row,
                    column + 1,
                    self.value_cell(layout_cell.element, subject, colspan=span),
                )
                column += 1 + span
            self.heights[self.row] = 1.6
            self.row += 1
        for signature in self.template.signatures:
            self.put(self.row, 0, Cell(signature, LABEL, align="center"))
            sign = "签字（盖章）：" + "　" * 6 + DATE_BLANK
            self.put(
                self.row,
                1,
                Cell(sign, SIGNATURE, colspan=columns - 1, align="right"),
            )
            self.heights[self.row] = 4.0
            self.row += 1
        last = self.row - 1
        self.signatories(columns)
        # Labels and values take turns at different places in different rows: equal columns.
        widths = [max(5.0, (PORTRAIT_WIDTH - 4) / columns)] * columns
        sheet = self.sheet(columns, (first, last), (first, first - 1), widths)
        sheet.landscape = False
        return sheet


def _attribute_text(element: Element, value: Any) -> str:
    if value is None:
        return ""
    if element.type == "code" and element.code_list:
        return codes.table(element.code_list).label(str(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
