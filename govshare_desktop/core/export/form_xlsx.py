"""Forms to Excel with openpyxl, cell for cell the layout of :mod:`govshare_desktop.core.forms.sheet`
(the same one the screen and the PDF show): merged title and headers, borders on the table part,
widths that fit Chinese text, real numbers and dates, text cells for ID numbers and codes, and A4
print setup (orientation by width, one page wide, header rows repeated, page numbers).

Nothing from the data ever becomes a formula: text that starts with ``=``, ``+``, ``-``, ``@`` (or
a tab, CR, NUL) is stored as text.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govshare_desktop.core.domain.text import FORMULA_TRIGGERS
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.sheet import HEADER, SIGNATURE, TITLE, TOTAL, Cell, Sheet

FONT_NAME = "宋体"
NUMBER_FORMATS = {
    "integer": "0",
    "money": "#,##0.00",
    "decimal": "0.00##",
    "date": "yyyy-mm-dd",
    "text": "@",
}
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def put_text(cell: Any, text: str) -> None:
    """Store ``text`` so that Excel shows it as typed and never evaluates it."""
    cell.value = text
    if text.startswith(FORMULA_TRIGGERS):
        cell.data_type = "s"


def _title(text: str, taken: set[str]) -> str:
    # A mask's * becomes a full-width ＊ (Excel forbids *): dropped, 张*丰 would read as 张丰.
    base = _BAD_TITLE.sub("", text.replace("*", "＊"))[:28] or "表"
    title, n = base, 2
    while title in taken:
        title = f"{base[:26]}-{n}"
        n += 1
    taken.add(title)
    return title


def write_xlsx(sheets: Sequence[Sheet], path: Path, *, author: str = "", anchor: str = "") -> Path:
    """One worksheet per sheet (a batch of individual forms: one worksheet per person)."""
    from openpyxl import Workbook  # heavy: openpyxl loads only for workbooks

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = author or "govshare-desktop"
    workbook.properties.title = sheets[0].title
    workbook.properties.subject = sheets[0].data.period.label
    if anchor:  # the audit trail's head when this file was made (see core/security/audit)
        workbook.properties.keywords = f"govshare-audit:{anchor}"
    taken: set[str] = set()
    for sheet in sheets:
        name = sheet.title
        if sheet.data.template.kind == "individual":
            name = f"{sheet.who()}-{sheet.title}"  # masked on a masked sheet
        _write_sheet(workbook.create_sheet(_title(name, taken)), sheet)
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=".govshare-", suffix=".xlsx", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        workbook.save(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(
            f"无法写入 Excel 文件 {path}：{exc.strerror or exc}（磁盘已满或没有写权限？）"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return path


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import (  # heavy: openpyxl loads only for workbooks
        Alignment,
        Border,
        Font,
        Side,
    )
    from openpyxl.utils import get_column_letter  # heavy: openpyxl loads only for workbooks
    from openpyxl.worksheet.properties import PageSetupProperties  # heavy: as above

    thin = Side(style="thin", color="000000")
    ruled = Border(left=thin, right=thin, top=thin, bottom=thin)
    fonts = {
        TITLE: Font(name=FONT_NAME, size=16, bold=True),
        HEADER: Font(name=FONT_NAME, size=10.5, bold=True),
        TOTAL: Font(name=FONT_NAME, size=10.5, bold=True),
    }
    body = Font(name=FONT_NAME, size=10.5)
    first, last = sheet.table_rows
    for row, column, cell in sheet:
        target = ws.cell(row=row + 1, column=column + 1)
        _value(target, cell)
        target.font = fonts.get(cell.role, body)
        target.alignment = Alignment(
            horizontal=cell.align,
            vertical="bottom" if cell.role == SIGNATURE else "center",
            wrap_text=True,
        )
        if cell.type in NUMBER_FORMATS and (cell.element is not None or cell.role == TOTAL):
            target.number_format = NUMBER_FORMATS[cell.type]
        if cell.rowspan > 1 or cell.colspan > 1:
            ws.merge_cells(
                start_row=row + 1,
                start_column=column + 1,
                end_row=row + cell.rowspan,
                end_column=column + cell.colspan,
            )
        if first <= row <= last:  # every cell of a merged range carries the border
            for r in range(row, row + cell.rowspan):
                for c in range(column, column + cell.colspan):
                    ws.cell(row=r + 1, column=c + 1).border = ruled
    for index, width in enumerate(sheet.column_widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = round(width * 2 + 1.5, 1)
    for row in range(sheet.rows):
        lines = sheet.row_heights.get(row, 1.0)
        ws.row_dimensions[row + 1].height = 30 if row == 0 else round(lines * 14 + 6, 1)
    for row, _, cell in sheet:  # headers wrap onto two lines
        if cell.role == HEADER and cell.rowspan == 1:
            ws.row_dimensions[row + 1].height = max(ws.row_dimensions[row + 1].height or 0, 34)

    ws.sheet_view.showGridLines = False
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    setup.orientation = "landscape" if sheet.landscape else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.75
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = 9
    header_first, header_last = sheet.header_rows
    if header_last >= header_first:
        ws.print_title_rows = f"{header_first + 1}:{header_last + 1}"
        ws.freeze_panes = ws.cell(row=header_last + 2, column=1)
    ws.print_area = f"A1:{get_column_letter(sheet.columns)}{sheet.rows}"


def _value(target: Any, cell: Cell) -> None:
    value = cell.value if cell.element is not None or cell.role == TOTAL else None
    if value is None or cell.type == "text":
        text = str(value) if value is not None else cell.text
        if text:
            put_text(target, text)
        return
    target.value = value
