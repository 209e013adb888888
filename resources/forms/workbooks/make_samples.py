"""Make the sample department workbook (表样) shipped beside its mapping file.

A county 人社局 sends its own 《城乡居民基本养老保险参保情况统计表》: its own title, wording and
column order, a 参保率 and a 领取率 column it computes with formulas, two-row merged headers, a
合计 row above the villages, ten prepared rows, a footer line and A4 landscape print setup. The
mapping ``rs_resident_pension_enrollment_county.toml`` says where the 一表通 values go.

Run from the repository root (the output is byte-for-byte the same every time)::

    .venv/bin/python resources/forms/workbooks/make_samples.py
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties

HERE = Path(__file__).resolve().parent
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
FONT = "宋体"
FIRST_DATA, LAST_DATA = 7, 16  # prepared village rows; 合计 is row 6

# (column, header, width); a header under the 60周岁以上 group sits in row 5.
COLUMNS = [
    ("A", "序号", 6),
    ("B", "村（社区）", 14),
    ("C", "户籍人口数", 10),
    ("D", "16周岁以上户籍人口数（应参保人数）", 15),
    ("E", "实际参保人数", 10),
    ("F", "参保率（%）", 9),
    ("G", "截止填报日期实际缴费人数", 13),
    ("H", "60周岁以上人数", 12),
    ("I", "领取养老保险待遇人数", 13),
    ("J", "领取率（%）", 9),
    ("K", "备注", 12),
]
GROUP = ("H", "J", "60周岁以上参保及领取养老保险待遇情况")


def county_enrollment_workbook() -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "参保情况"
    thin, medium = Side(style="thin"), Side(style="medium")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    body = Font(name=FONT, size=11)

    ws.merge_cells("A1:K1")
    ws["A1"] = "城乡居民基本养老保险参保情况统计表"
    ws["A1"].font = Font(name=FONT, size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36

    ws.merge_cells("A2:E2")
    ws["A2"] = "统计时期："
    ws.merge_cells("I2:K2")
    ws["I2"] = "单位：人、%"
    ws["I2"].alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells("A3:F3")
    ws["A3"] = "填报单位（盖章）："
    ws.merge_cells("H3:K3")
    ws["H3"] = "填报时间：　　年　　月　　日"
    ws["H3"].alignment = Alignment(horizontal="right", vertical="center")
    for ref in ("A2", "A3"):
        ws[ref].alignment = Alignment(horizontal="left", vertical="center")
    for ref in ("A2", "I2", "A3", "H3"):
        ws[ref].font = body
    ws.row_dimensions[2].height = ws.row_dimensions[3].height = 20

    header = Font(name=FONT, size=10.5, bold=True)
    group_first, group_last, group_title = GROUP
    for letters, text, width in COLUMNS:
        ws.column_dimensions[letters].width = width
        in_group = group_first <= letters <= group_last
        top = ws[f"{letters}5" if in_group else f"{letters}4"]
        top.value = text
        if not in_group:
            ws.merge_cells(f"{letters}4:{letters}5")
    ws[f"{group_first}4"] = group_title
    ws.merge_cells(f"{group_first}4:{group_last}4")
    ws.row_dimensions[4].height = 30
    ws.row_dimensions[5].height = 42

    ws["B6"] = "合计"
    for row in range(6, LAST_DATA + 1):
        ws.row_dimensions[row].height = 20
        ws[f"F{row}"] = f'=IF(N(D{row})>0,ROUND(E{row}/D{row}*100,2),"")'
        ws[f"J{row}"] = f'=IF(N(H{row})>0,ROUND(I{row}/H{row}*100,2),"")'

    last_letter = COLUMNS[-1][0]
    for row in range(4, LAST_DATA + 1):
        for letters, _, _ in COLUMNS:
            cell = ws[f"{letters}{row}"]
            # A header merged over rows 4-5 draws the bottom border of its top-left cell.
            spans_header = row == 4 and not group_first <= letters <= group_last
            cell.border = Border(
                left=medium if letters == "A" else thin,
                right=medium if letters == last_letter else thin,
                top=medium if row == 4 else thin,
                bottom=medium if row in (5, LAST_DATA) or spans_header else thin,
            )
            if row <= 5:
                cell.font, cell.alignment = header, center
                continue
            cell.font = Font(name=FONT, size=11, bold=row == 6)
            if letters in ("A", "B"):
                cell.alignment = Alignment(horizontal="center", vertical="center")
            elif letters != "K":
                cell.alignment = Alignment(horizontal="right", vertical="center")
                cell.number_format = "0.00" if letters in ("F", "J") else "#,##0"

    footer_row = LAST_DATA + 2
    ws.merge_cells(f"A{footer_row}:K{footer_row}")
    ws[f"A{footer_row}"] = (
        "审核人：" + "　" * 10 + "填表人：" + "　" * 10 + "联系电话：" + "　" * 10
    )
    ws[f"A{footer_row}"].font = body
    ws.row_dimensions[footer_row].height = 24
    note_row = footer_row + 1
    ws.merge_cells(f"A{note_row}:K{note_row}")
    ws[f"A{note_row}"] = (
        "说明：1. 参保率＝实际参保人数÷16周岁以上户籍人口数×100%；"
        "2. 领取率＝领取养老保险待遇人数÷60周岁以上人数×100%；"
        "3. 本表于每月5日前报县人社局城乡居民养老保险股，同时报送电子版。"
    )
    ws[f"A{note_row}"].font = Font(name=FONT, size=9)
    ws[f"A{note_row}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[note_row].height = 30

    counts = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        showErrorMessage=True,
        errorTitle="数据有误",
        error="人数应为不小于 0 的整数",
    )
    ws.add_data_validation(counts)
    for letters in ("C", "D", "E", "G", "H", "I"):
        counts.add(f"{letters}6:{letters}{LAST_DATA}")

    ws.freeze_panes = "C6"
    ws.print_area = f"A1:K{note_row}"
    ws.print_title_rows = "4:5"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.size = 9

    wb.properties.creator = "县人力资源和社会保障局"
    wb.properties.title = "城乡居民基本养老保险参保情况统计表"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


def save_deterministic(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps in the document properties and the zip entries (openpyxl
    stamps ``modified`` with the time of saving)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    data,
                )
            fixed = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, data)


def main() -> None:
    path = HERE / "rs_resident_pension_enrollment_county.xlsx"
    save_deterministic(county_enrollment_workbook(), path)
    print(path)


if __name__ == "__main__":
    main()
