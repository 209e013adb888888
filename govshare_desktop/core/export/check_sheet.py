"""The 核查表: the worklist of one check in one village (or the township) for village cadres to take
door to door — who, what the data says, and blank columns for what they found, with the signature
lines — as a landscape A4 PDF or an .xlsx. Masked by default (name and ID number); full data needs
a reason. Written through :func:`~govshare_desktop.core.export.audited.audited_write`: permission,
audit entry with SHA-256, private file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from govshare_desktop.core.domain import masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.audited import ExportedFile, audited_write, require_reason
from govshare_desktop.core.store.engine import Store

HEADERS = (
    "序号",
    "姓名",
    "公民身份号码",
    "村（社区）",
    "数据显示",
    "核实情况",
    "核实人",
    "核实日期",
)
WIDTHS_MM = (12, 22, 42, 28, 82, 50, 20, 20)  # landscape A4: 277 mm inside the margins


@dataclass(frozen=True)
class SheetRow:
    name: str
    id_number: str
    village: str
    evidence: str


@dataclass(frozen=True)
class CheckSheet:
    title: str  # the check's title
    unit: str  # 青禾镇 or 青禾镇东岭村
    explanation: str
    action: str
    rows: Sequence[SheetRow]
    made_on: date


def _cells(sheet: CheckSheet, masked: bool) -> list[list[str]]:
    out = []
    for number, row in enumerate(sheet.rows, start=1):
        name = masking.mask_name(row.name) if masked else row.name
        id_number = masking.mask_id_number(row.id_number) if masked else row.id_number
        out.append([str(number), name, id_number, row.village, row.evidence, "", "", ""])
    return out


def _write_pdf(sheet: CheckSheet, path: Path, masked: bool, author: str, anchor: str) -> None:
    from reportlab.lib import colors  # heavy: reportlab loads only for PDFs
    from reportlab.lib.pagesizes import A4, landscape  # heavy: as above
    from reportlab.lib.styles import ParagraphStyle  # heavy: as above
    from reportlab.lib.units import mm  # heavy: as above
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table  # heavy: as above

    fonts.register()
    body = ParagraphStyle("body", fontName=fonts.FONT_NAME, fontSize=9.5, leading=13)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"核查表：{sheet.title}",
        author=author,
        creator="govshare-desktop",
        keywords=f"govshare-audit:{anchor}" if anchor else "",
    )
    data = [list(HEADERS)] + [
        [Paragraph(cell, body) for cell in row] for row in _cells(sheet, masked)
    ]
    table = Table(data, colWidths=[w * mm for w in WIDTHS_MM], repeatRows=1)
    table.setStyle(
        [
            ("FONT", (0, 0), (-1, -1), fonts.FONT_NAME, 9.5),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("MINROWHEIGHT", (0, 1), (-1, -1), 11 * mm),
        ]
    )
    story = [
        Paragraph(f"比对核查表：{sheet.title}", title),
        Spacer(1, 3 * mm),
        Paragraph(f"核查单位：{sheet.unit}　　　　制表日期：{sheet.made_on:%Y年%m月%d日}", body),
        Paragraph(f"说明：{sheet.explanation}", body),
        Paragraph(f"请核实：{sheet.action}", body),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 10 * mm),
        Paragraph(
            "村（社区）核实人（签字）：________________　　"
            "村（社区）负责人（签字）：________________　　"
            "镇（街道）审核人（签字）：________________　　（盖章）",
            body,
        ),
    ]
    doc.build(story)


def _write_xlsx(sheet: CheckSheet, path: Path, masked: bool, author: str, anchor: str) -> None:
    from openpyxl import Workbook  # heavy: openpyxl loads only for workbooks
    from openpyxl.styles import Alignment, Border, Font, Side  # heavy: as above

    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "核查表"
    workbook.properties.creator = author
    if anchor:
        workbook.properties.keywords = f"govshare-audit:{anchor}"
    ws.append([f"比对核查表：{sheet.title}"])
    ws.append([f"核查单位：{sheet.unit}　制表日期：{sheet.made_on:%Y-%m-%d}"])
    ws.append([f"说明：{sheet.explanation}"])
    ws.append([f"请核实：{sheet.action}"])
    ws.append(list(HEADERS))
    thin = Side(style="thin")
    for row in _cells(sheet, masked):
        ws.append(row)
        for cell in ws[ws.max_row]:
            cell.data_type = "s"  # ID numbers stay text
    for row in ws.iter_rows(min_row=5, max_row=ws.max_row):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws["A1"].font = Font(size=14, bold=True)
    for column, width in zip("ABCDEFGH", WIDTHS_MM, strict=True):
        ws.column_dimensions[column].width = width / 2.2
    ws.append([])
    ws.append(["村（社区）核实人（签字）：", "", "", "镇（街道）审核人（签字）：", "", "（盖章）"])
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "5:5"
    workbook.save(path)


def export_check_sheet(
    store: Store, sheet: CheckSheet, out: Path, *, masked: bool = True, reason: str = ""
) -> ExportedFile:
    """The 核查表 as PDF or .xlsx (by the file's suffix), audited."""
    require_reason(masked, reason)
    out = Path(out)
    fmt = out.suffix.lower()
    if fmt not in (".pdf", ".xlsx"):
        raise UserError("核查表可导出为 .pdf 或 .xlsx 文件")
    if not sheet.rows:
        raise UserError(f"“{sheet.title}”在{sheet.unit}没有待核实的事项")
    writer = _write_pdf if fmt == ".pdf" else _write_xlsx
    author = store.principal.username
    return audited_write(
        store,
        out,
        lambda temp, anchor: writer(sheet, temp, masked, author, anchor),
        masked=masked,
        count=len(sheet.rows),
        detail={"kind": "check_sheet", "check": sheet.title, "reason": reason or None},
    )
