"""The error workbook: every rejected row as the file had it, with the reason, to send back to the
department that produced the file — and, on a second sheet, the payments already on record whose
amounts the file changed (校核: the department confirms which amount is right).

It holds personal data in full (the department must find its own rows), so it is written like
every export: through the audited writer (permission for full data, an audit entry with its
SHA-256 and why, the anchor in its properties, written beside and renamed, private to its owner).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from govshare_desktop.core.backflow.normalize import CONTROL_CHARACTERS
from govshare_desktop.core.backflow.pipeline import Rejection
from govshare_desktop.core.domain.text import FORMULA_TRIGGERS
from govshare_desktop.core.export.audited import ANCHOR_PREFIX, audited_write
from govshare_desktop.core.store.engine import Store


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
    # A control character (a row rejected for one) is shown, not written: Excel cannot hold it.
    text = CONTROL_CHARACTERS.sub(lambda m: f"<U+{ord(m.group()):04X}>", str(value))
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


SEND_BACK_REASON = "拒收的行与金额变化，退回数据提供单位核对"


def write_error_workbook(
    store: Store,
    path: Path,
    *,
    file_name: str,
    headers: Sequence[str],
    rejections: Sequence[Rejection],
    amount_changes: Sequence[dict[str, Any]] = (),
) -> Path:
    from openpyxl import Workbook  # heavy: openpyxl loads only for workbooks
    from openpyxl.cell import WriteOnlyCell  # heavy: openpyxl loads only for workbooks
    from openpyxl.styles import (  # heavy: openpyxl loads only for workbooks
        Alignment,
        Font,
        PatternFill,
    )
    from openpyxl.utils import get_column_letter  # heavy: openpyxl loads only for workbooks

    workbook = Workbook(write_only=True)
    if amount_changes:
        _amount_sheet(workbook, file_name, amount_changes)
    if not rejections and amount_changes:
        return _save(store, workbook, path, file_name, len(amount_changes))
    sheet = workbook.create_sheet("未导入的行", 0)
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
    return _save(store, workbook, path, file_name, len(rejections) + len(amount_changes))


def _save(store: Store, workbook: Any, path: Path, file_name: str, count: int) -> Path:
    def make(temp: Path, anchor: str) -> None:
        workbook.properties.creator = store.principal.username
        workbook.properties.keywords = f"{ANCHOR_PREFIX}{anchor}"
        workbook.save(temp)

    path.parent.mkdir(parents=True, exist_ok=True)
    audited_write(
        store,
        path,
        make,
        masked=False,
        count=count,
        detail={"kind": "error_workbook", "source_file": file_name, "reason": SEND_BACK_REASON},
    )
    return path


AMOUNT_HEADERS = [
    "公民身份号码",
    "姓名",
    "发放年月",
    "项目",
    "原金额（元）",
    "新金额（元）",
    "差额（元）",
]


def _amount_sheet(workbook: Any, file_name: str, changes: Sequence[dict[str, Any]]) -> None:
    """One row per changed amount: who, month, item, old, new, difference (yuan, two decimals)."""
    from openpyxl.cell import WriteOnlyCell  # heavy: openpyxl loads only for workbooks
    from openpyxl.styles import (  # heavy: openpyxl loads only for workbooks
        Font,
        PatternFill,
    )
    from openpyxl.utils import get_column_letter  # heavy: openpyxl loads only for workbooks

    sheet = workbook.create_sheet("金额变化")
    for index, width in enumerate([22, 10, 10, 16, 14, 14, 12], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    title = WriteOnlyCell(
        sheet,
        value=safe_text(f"“{file_name}”使已有的 {len(changes)} 条待遇发放记录金额发生变化，请核实"),
    )
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    header_cells = []
    for text in AMOUNT_HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
        header_cells.append(cell)
    sheet.append(header_cells)

    def money(fen: int | None) -> Any:
        if fen is None:
            return None
        cell = WriteOnlyCell(sheet, value=Decimal(fen) / 100)
        cell.number_format = "#,##0.00"
        return cell

    for item in changes:
        period = item["period"]
        for change in item["changes"]:
            old, new = change["old_fen"], change["new_fen"]
            number = WriteOnlyCell(sheet, value=safe_text(item["id_number"]))
            number.data_type = "s"
            sheet.append(
                [
                    number,
                    safe_text(item["name"]),
                    f"{period // 100}-{period % 100:02d}",
                    change["field"],
                    money(old),
                    money(new),
                    money((new or 0) - (old or 0)),
                ]
            )
