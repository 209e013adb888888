"""The error workbook: every rejected row as the file had it, with the reason, to send back to the
department that produced the file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from govshare_desktop.core.backflow.pipeline import Rejection
from govshare_desktop.core.domain.text import FORMULA_TRIGGERS


def safe_text(value: Any) -> str:
    """Cell text that a spreadsheet will never run as a formula (OWASP CSV/formula injection)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = f"{value:.0f}"
    elif isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    elif isinstance(value, (date, time)):
        value = value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_error_workbook(
    path: Path, *, file_name: str, headers: Sequence[str], rejections: Sequence[Rejection]
) -> Path:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("未导入的行")
    # Write-only sheets take widths and panes before the first row.
    widths = [8, 14, 20, 60] + [14] * len(headers)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    title = WriteOnlyCell(
        sheet, value=safe_text(f"“{file_name}”中未能导入的行（共 {len(rejections)} 行）")
    )
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    columns = ["原行号", "出错的列", "原因代码", "原因说明", *headers]
    header_cells = []
    for text in columns:
        cell = WriteOnlyCell(sheet, value=safe_text(text))
        cell.font = bold
        cell.fill = fill
        header_cells.append(cell)
    sheet.append(header_cells)
    wrap = Alignment(wrap_text=True, vertical="top")
    for rejection in rejections:
        cells = []
        for value in (rejection.row, rejection.column, rejection.reason_code, rejection.message):
            cell = WriteOnlyCell(sheet, value=value if isinstance(value, int) else safe_text(value))
            cell.alignment = wrap
            cells.append(cell)
        for value in rejection.values[: len(headers)] if headers else rejection.values:
            cell = WriteOnlyCell(sheet, value=safe_text(value))
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
