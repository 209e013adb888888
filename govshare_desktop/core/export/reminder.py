"""The 催办单 (and the letter it is written as, :func:`write_letter`): one page (or more) to a department listing the 校核纠错 requests it has not answered
past their deadline — each with its 纠错编号, the record (masked), the field, the values and the working
days overdue — with the township's signature and seal lines. Written through
:func:`~govshare_desktop.core.export.audited.audited_write`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from govshare_desktop.core.domain import masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.audited import ExportedFile, audited_write
from govshare_desktop.core.store.engine import Store

HEADERS = (
    "序号",
    "纠错编号",
    "姓名",
    "记录",
    "字段",
    "现值 → 建议值",
    "提出日期",
    "答复期限",
    "超期",
)
WIDTHS_MM = (10, 28, 18, 40, 22, 58, 22, 22, 26)


@dataclass(frozen=True)
class Overdue:
    correction_id: str
    name: str
    record_key: str
    field: str
    current_value: str
    proposed_value: str
    raised_on: date
    deadline: date
    workdays_overdue: int


def write_reminder(
    store: Store,
    out: Path,
    *,
    township: str,
    department: str,
    rows: Sequence[Overdue],
    made_on: date,
) -> ExportedFile:
    if not rows:
        raise UserError(f"没有发往“{department}”且已超期未答复的纠错")
    if Path(out).suffix.lower() != ".pdf":
        raise UserError("催办单导出为 .pdf 文件")

    def write(temp: Path, anchor: str) -> None:
        _pdf(temp, township, department, rows, made_on, store.principal.username, anchor)

    return audited_write(
        store,
        Path(out),
        write,
        masked=True,
        count=len(rows),
        detail={"kind": "reminder", "department": department},
    )


# Values of these fields are personal data: masked on paper as on screen.
_MASKS = {
    "姓名": masking.mask_name,
    "户主姓名": masking.mask_name,
    "户主公民身份号码": masking.mask_id_number,
    "联系电话": masking.mask_phone,
    "出生日期": masking.mask_birth_date,
    "住址": masking.mask_address,
}


def _shown(field: str, value: str) -> str:
    mask = _MASKS.get(field)
    return mask(value) if mask and value else value


def _pdf(
    path: Path,
    township: str,
    department: str,
    rows: Sequence[Overdue],
    made_on: date,
    author: str,
    anchor: str,
) -> None:
    cells = [
        (
            str(number),
            row.correction_id[:8],
            masking.mask_name(row.name),
            masking.mask_id_number(row.record_key) if len(row.record_key) == 18 else row.record_key,
            row.field,
            f"{_shown(row.field, row.current_value) or '（空）'} → "
            f"{_shown(row.field, row.proposed_value) or '（请核实）'}",
            row.raised_on.isoformat(),
            row.deadline.isoformat(),
            f"{row.workdays_overdue} 个工作日",
        )
        for number, row in enumerate(rows, start=1)
    ]
    write_letter(
        path,
        Letter(
            title="校核纠错催办单",
            addressee=department,
            text=f"{township}依据《政务数据共享条例》提出的下列校核纠错请求，已超过答复期限"
            f"（共 {len(rows)} 条），请尽快核实答复并更正相关数据。纠错编号以数据包中为准。",
            headers=HEADERS,
            widths_mm=WIDTHS_MM,
            rows=cells,
            township=township,
            made_on=made_on,
        ),
        author=author,
        anchor=anchor,
    )


@dataclass(frozen=True)
class Letter:
    """A one-table letter from the township: title, to whom, what it asks, the table, the lines
    for the clerk's signature and the township's seal."""

    title: str
    addressee: str
    text: str
    headers: Sequence[str]
    widths_mm: Sequence[float]
    rows: Sequence[Sequence[str]]
    township: str
    made_on: date


def write_letter(path: Path, letter: Letter, *, author: str, anchor: str) -> None:
    """``letter`` as a landscape A4 PDF (the 催办单 of corrections, the 催办函 of share requests)."""
    from reportlab.lib import colors  # heavy: reportlab loads only for PDFs
    from reportlab.lib.pagesizes import A4, landscape  # heavy: as above
    from reportlab.lib.styles import ParagraphStyle  # heavy: as above
    from reportlab.lib.units import mm  # heavy: as above
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table  # heavy: as above

    fonts.register()
    body = ParagraphStyle("body", fontName=fonts.FONT_NAME, fontSize=10, leading=14)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=letter.title,
        author=author,
        creator="govshare-desktop",
        keywords=f"govshare-audit:{anchor}" if anchor else "",
    )
    cells = [list(letter.headers)] + [
        [Paragraph(text, body) for text in row] for row in letter.rows
    ]
    table = Table(cells, colWidths=[w * mm for w in letter.widths_mm], repeatRows=1)
    table.setStyle(
        [
            ("FONT", (0, 0), (-1, -1), fonts.FONT_NAME, 10),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    made_on = letter.made_on
    doc.build(
        [
            Paragraph(letter.title, title),
            Spacer(1, 4 * mm),
            Paragraph(f"{letter.addressee}：", body),
            Paragraph(f"　　{letter.text}", body),
            Spacer(1, 4 * mm),
            table,
            Spacer(1, 12 * mm),
            Paragraph(
                f"经办人（签字）：________________　　联系电话：________________　　"
                f"{letter.township}（盖章）　　{made_on.year} 年 {made_on.month} 月 {made_on.day} 日",
                body,
            ),
        ]
    )
