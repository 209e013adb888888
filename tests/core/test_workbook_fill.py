"""A department's own workbook (表样) filled from the value pool: the values go where the mapping
says, everything else of the original stays as it was."""

from __future__ import annotations

import re
import shutil
import subprocess
from copy import copy
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.workbook_fill import (
    _put,
    check_workbook,
    fill_workbook,
    list_workbooks,
    load_workbooks,
    parse_mapping,
)
from govshare_desktop.core.forms.dictionary import FormsError
from govshare_desktop.core.resources import resource_path

PERIOD = Period.parse("2026-10")
FULL_DATA = {"masked": False, "reason": "报送县民政局审批"}  # personal data in full
TOWNSHIP = "441900199000"
VILLAGE = "441900199201"
TODAY = date(2026, 11, 3)
SAMPLE = "rs_resident_pension_enrollment_county"
TEMPLATE = "rs_resident_pension_enrollment"
SAMPLE_COLUMNS = {
    "C": "P_TOTAL",
    "D": "P_16PLUS",
    "E": "I_RESIDENT_PENSION",
    "G": "I_PAYING",
    "H": "P_60PLUS",
    "I": "I_RECEIVING",
}


def sample_path(suffix: str) -> Path:
    return resource_path("forms", "workbooks", f"{SAMPLE}{suffix}")


def merges(ws) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def look(cell) -> tuple:
    """A cell's style, comparable across workbooks (openpyxl's style proxies never compare equal)."""
    return (
        copy(cell.font),
        copy(cell.border),
        copy(cell.alignment),
        copy(cell.fill),
        cell.number_format,
        copy(cell.protection),
    )


# ---------------------------------------------------------------- the shipped sample


def test_sample_is_listed_and_checks(pool) -> None:
    found = list_workbooks(TEMPLATE)
    assert [m.id for m in found] == [SAMPLE]
    mapping = check_workbook(SAMPLE, pool.dictionary, pool.templates)
    assert mapping.workbook == sample_path(".xlsx")
    assert mapping.sheet == "参保情况" and mapping.total_row == 6 and mapping.first_row == 7
    assert list_workbooks("mz_elderly") == []
    assert load_workbooks()[1] == []


def test_sample_filled_for_the_township(pool, tmp_path) -> None:
    out = fill_workbook(pool, SAMPLE, TOWNSHIP, PERIOD, tmp_path / "填好的.xlsx", today=TODAY)
    assert out == tmp_path / "填好的.xlsx"
    data = pool.collect(TEMPLATE, TOWNSHIP, PERIOD)
    original = load_workbook(sample_path(".xlsx"))["参保情况"]
    filled = load_workbook(out)["参保情况"]

    # Fixed cells.
    assert filled["A2"].value == "统计时期：2026年10月"
    assert filled["A3"].value == "填报单位（盖章）：青禾镇"
    assert filled["H3"].value == "填报时间：2026年11月3日"
    # 合计 in its own row, then one row per village, numbered.
    assert data.subjects[0] == (TOWNSHIP, "合计")
    assert filled["B6"].value == "合计" and filled["A6"].value is None
    for letters, code in SAMPLE_COLUMNS.items():
        assert filled[f"{letters}6"].value == data.value(code, TOWNSHIP) is not None
    for number, (subject, label) in enumerate(data.subjects[1:], start=1):
        row = 6 + number
        assert filled[f"A{row}"].value == number
        assert filled[f"B{row}"].value == label
        for letters, code in SAMPLE_COLUMNS.items():
            value = filled[f"{letters}{row}"].value
            assert value == data.value(code, subject) is not None
            assert isinstance(value, int)
    # The rows left over stay empty; the department's own formulas stay.
    for row in range(7 + len(data.subjects) - 1, 17):
        assert all(filled[f"{c}{row}"].value is None for c in "ABCDEGHI")
    for row in range(6, 17):
        assert filled[f"F{row}"].value == original[f"F{row}"].value
        assert filled[f"J{row}"].value.startswith("=IF(N(H")

    # Nothing else changed: merges, widths, heights, print setup, styles.
    assert merges(filled) == merges(original)
    assert len(merges(filled)) == 16
    for letters in "ABCDEFGHIJK":
        assert filled.column_dimensions[letters].width == original.column_dimensions[letters].width
    for row in range(1, 20):
        assert filled.row_dimensions[row].height == original.row_dimensions[row].height
    assert filled.page_setup.orientation == original.page_setup.orientation == "landscape"
    assert filled.page_setup.paperSize == original.page_setup.paperSize
    assert filled.print_title_rows == original.print_title_rows
    assert filled.print_title_rows.replace("$", "") == "4:5"
    assert filled.page_setup.fitToWidth == original.page_setup.fitToWidth == 1
    assert filled.page_setup.fitToHeight == original.page_setup.fitToHeight == 0
    assert filled.sheet_properties.pageSetUpPr.fitToPage
    assert filled.print_area == original.print_area
    assert filled.print_options.horizontalCentered
    assert filled.oddFooter.center.text == original.oddFooter.center.text
    assert filled.freeze_panes == original.freeze_panes == "C6"
    for ref in ("C6", "C7", "B7", "A7", "I9", "D12"):
        assert look(filled[ref]) == look(original[ref]), ref
    assert filled["C6"].font.bold and filled["C7"].border.left.style == "thin"
    for row in [1, 4, 5, 18, 19]:  # title, headers and footer untouched
        for letters in "ABCDEFGHIJK":
            assert filled[f"{letters}{row}"].value == original[f"{letters}{row}"].value
            assert look(filled[f"{letters}{row}"]) == look(original[f"{letters}{row}"])
    assert [str(v.sqref) for v in filled.data_validations.dataValidation] == [
        str(v.sqref) for v in original.data_validations.dataValidation
    ]


def test_sample_filled_for_one_village(pool, tmp_path) -> None:
    out = fill_workbook(pool, SAMPLE, VILLAGE, PERIOD, tmp_path / "村.xlsx", today=TODAY)
    data = pool.collect(TEMPLATE, VILLAGE, PERIOD)
    ws = load_workbook(out)["参保情况"]
    assert ws["A3"].value == "填报单位（盖章）：青禾镇东岭村委会"
    assert ws["A7"].value == 1 and ws["B7"].value == "东岭村委会"
    assert ws["C7"].value == ws["C6"].value == data.value("P_TOTAL", VILLAGE)
    assert ws["B8"].value is None


def test_filling_never_touches_the_original_and_replaces_atomically(pool, tmp_path) -> None:
    before = sample_path(".xlsx").read_bytes()
    target = tmp_path / "out" / "表.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"old")
    fill_workbook(pool, SAMPLE, TOWNSHIP, PERIOD, target, today=TODAY)
    assert load_workbook(target)["参保情况"]["B6"].value == "合计"
    assert sorted(p.name for p in target.parent.iterdir()) == ["表.xlsx"]  # no temp left
    assert sample_path(".xlsx").read_bytes() == before
    with pytest.raises(FormsError, match="不能把填好的表写回部门表样原件"):
        fill_workbook(pool, SAMPLE, TOWNSHIP, PERIOD, sample_path(".xlsx"))


def test_sample_generator_is_deterministic(tmp_path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_samples", sample_path("").parent / "make_samples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    module.save_deterministic(module.county_enrollment_workbook(), first)
    module.save_deterministic(module.county_enrollment_workbook(), second)
    assert first.read_bytes() == second.read_bytes() == sample_path(".xlsx").read_bytes()


# ---------------------------------------------------------------- a roster with more people than rows


ROSTER_COLUMNS = {
    "B": "P_VILLAGE",
    "C": "P_NAME",
    "D": "P_ID_NUMBER",
    "E": "P_SEX",
    "F": "P_AGE",
    "G": "P_PHONE",
    "H": "S_ALLOWANCE_AMOUNT",
}


def roster_workbook(path: Path) -> Path:
    """A 民政 高龄津贴 roster as a department might send it: three prepared rows, a 合计 row with
    a SUM, a 备注 merged over two columns in every row, a footer, validation and a rule."""
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    thin, thick = Side(style="thin"), Side(style="medium")
    ws.merge_cells("A1:J1")
    ws["A1"] = "80周岁以上老年人高龄津贴发放花名册"
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws.merge_cells("A2:F2")
    ws["A2"] = "填报单位："
    ws["H2"] = "所属期："
    headers = ["序号", "村（社区）", "姓名", "公民身份号码", "性别", "年龄", "联系电话", "金额"]
    for column, text in enumerate([*headers, "备注"], start=1):
        ws.cell(3, column, text).font = Font(name="黑体", bold=True)
    ws.merge_cells("I3:J3")
    for row in range(3, 8):
        ws.row_dimensions[row].height = 18
        for column in range(1, 11):
            cell = ws.cell(row, column)
            cell.border = Border(
                left=thin, right=thin, top=thin, bottom=thick if row == 6 else thin
            )
            if row >= 4:
                cell.font = Font(name="仿宋", size=11, color="FF1F4E79")
                cell.fill = PatternFill("solid", fgColor="FFF7F7F7")
                cell.alignment = Alignment(horizontal="center")
        if 4 <= row <= 6:
            ws.merge_cells(start_row=row, start_column=9, end_row=row, end_column=10)
            ws.cell(row, 8).number_format = "#,##0.00"
    ws["A7"] = "合计"
    ws["H7"] = "=SUM(H4:H6)"
    ws.merge_cells("A9:J9")
    ws["A9"] = "经办人：　　　　审核人：　　　　分管领导："
    ws.row_dimensions[9].height = 30
    amounts = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    ws.add_data_validation(amounts)
    amounts.add("H4:H6")
    ws.conditional_formatting.add(
        "H4:H6",
        CellIsRule(
            operator="lessThan", formula=["0"], fill=PatternFill("solid", fgColor="FFFF0000")
        ),
    )
    ws.print_area = "A1:J9"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    wb.save(path)
    return path


def write_mapping(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


ROSTER_MAPPING = """
template = "mz_elderly_allowance_roster"
workbook = "roster.xlsx"

[cells]
"A2" = { value = "unit", text = "填报单位：{}" }
"I2" = "period"

[rows]
first = 4

[rows.columns]
"A" = "number"
""" + "\n".join(f'"{letters}" = "{code}"' for letters, code in ROSTER_COLUMNS.items())


def test_roster_rows_are_inserted_for_everyone(pool, tmp_path) -> None:
    roster_workbook(tmp_path / "roster.xlsx")
    mapping = write_mapping(tmp_path / "roster.toml", ROSTER_MAPPING)
    someone = pool.collect("mz_elderly_allowance_roster", TOWNSHIP, PERIOD).subjects[1][0]
    now = datetime(2026, 11, 3, 10, 0)
    pool.set("S_ALLOWANCE_AMOUNT", someone, PERIOD, "200.50", user="clerk", now=now)
    out = fill_workbook(
        pool, mapping, TOWNSHIP, PERIOD, tmp_path / "out.xlsx", today=TODAY, **FULL_DATA
    )
    data = pool.collect("mz_elderly_allowance_roster", TOWNSHIP, PERIOD)
    assert data.value("S_ALLOWANCE_AMOUNT", someone) == 20050
    people = len(data.subjects)
    assert people > 3
    extra = people - 3
    original = load_workbook(tmp_path / "roster.xlsx")["花名册"]
    ws = load_workbook(out)["花名册"]

    assert ws["A2"].value == "填报单位：青禾镇" and ws["I2"].value == "2026年10月"
    last = 3 + people
    for number, (subject, _) in enumerate(data.subjects, start=1):
        row = 3 + number
        assert ws[f"A{row}"].value == number
        assert ws[f"C{row}"].value == data.value("P_NAME", subject)
        id_cell = ws[f"D{row}"]
        assert id_cell.value == subject and id_cell.data_type == "s"
        assert id_cell.number_format == "@"
        assert ws[f"E{row}"].value in ("男", "女")
        assert ws[f"F{row}"].value == data.value("P_AGE", subject) >= 80
        fen = data.value("S_ALLOWANCE_AMOUNT", subject)
        amount = ws[f"H{row}"].value
        assert amount is None if fen is None else Decimal(str(amount)) == Decimal(fen) / 100
        if subject == someone:
            assert amount == 200.5
        assert ws[f"H{row}"].number_format == "#,##0.00"  # the workbook's own format kept
        # Inserted rows look like a prepared one; the block's last row keeps its thick bottom.
        source = 5 if row < last else 6
        for letters in "ABCDEFGHI":
            assert look(ws[f"{letters}{row}"])[:4] == look(original[f"{letters}{source}"])[:4]
        assert ws.row_dimensions[row].height == 18
        assert f"I{row}:J{row}" in merges(ws)
    assert ws[f"A{last}"].border.bottom.style == "medium"

    # Everything below moved down with its merges, heights and formulas.
    assert ws[f"A{7 + extra}"].value == "合计"
    assert ws[f"H{7 + extra}"].value == f"=SUM(H4:H{last})"
    assert ws[f"A{9 + extra}"].value.startswith("经办人")
    assert f"A{9 + extra}:J{9 + extra}" in merges(ws)
    assert ws.row_dimensions[9 + extra].height == 30
    assert merges(ws) == {"A1:J1", "A2:F2", "I3:J3", f"A{9 + extra}:J{9 + extra}"} | {
        f"I{row}:J{row}" for row in range(4, last + 1)
    }
    assert ws.print_area == f"'花名册'!$A$1:$J${9 + extra}"
    assert ws.print_title_rows.replace("$", "") == "3:3"
    assert ws.page_setup.orientation == "landscape"
    assert [str(v.sqref) for v in ws.data_validations.dataValidation] == [f"H4:H{last}"]
    assert [str(cf.sqref) for cf in ws.conditional_formatting] == [f"H4:H{last}"]
    assert ws["A1"].value == original["A1"].value and look(ws["A1"]) == look(original["A1"])


def test_roster_that_fits_needs_no_insertion(pool, tmp_path) -> None:
    roster_workbook(tmp_path / "roster.xlsx")
    mapping = write_mapping(
        tmp_path / "roster.toml", ROSTER_MAPPING.replace("first = 4", "first = 4\nlast = 6")
    )
    village = fill_workbook(pool, mapping, VILLAGE, PERIOD, tmp_path / "v.xlsx", today=TODAY)
    data = pool.collect("mz_elderly_allowance_roster", VILLAGE, PERIOD)
    ws = load_workbook(village)["花名册"]
    if len(data.subjects) <= 3:
        assert ws["A7"].value == "合计" and ws["H7"].value == "=SUM(H4:H6)"
    else:
        assert ws[f"A{4 + len(data.subjects)}"].value == "合计"


# ---------------------------------------------------------------- an individual form


def test_individual_form_cells_and_formula_like_text(pool, tmp_path) -> None:
    roster = pool.collect("mz_elderly_allowance_roster", TOWNSHIP, PERIOD)
    person = roster.subjects[0][0]
    now = datetime(2026, 11, 3, 10, 0)
    evil = '=HYPERLINK("http://example.invalid","点我")'
    pool.set("I_REG_IDENTITY", person, PERIOD, evil, user="clerk", now=now)
    pool.set("I_REG_GRADE", person, PERIOD, "300", user="clerk", now=now)
    wb = Workbook()
    ws = wb.active
    ws["A2"], ws["C2"], ws["A3"], ws["C3"], ws["A4"], ws["C4"] = (
        "姓名",
        "身份证号",
        "出生日期",
        "缴费档次",
        "参保身份",
        "填表日期",
    )
    ws["D2"].number_format = "@"
    wb.save(tmp_path / "登记表.xlsx")
    mapping = write_mapping(
        tmp_path / "登记表.toml",
        """
template = "rs_resident_pension_registration"
workbook = "登记表.xlsx"
[cells]
"B1" = "unit"
"B2" = "P_NAME"
"D2" = "P_ID_NUMBER"
"B3" = "P_BIRTH_DATE"
"D3" = "I_REG_GRADE"
"B4" = "I_REG_IDENTITY"
"D4" = "today"
""",
    )
    out = fill_workbook(
        pool, mapping, person, PERIOD, tmp_path / "out.xlsx", today=TODAY, **FULL_DATA
    )
    data = pool.collect("rs_resident_pension_registration", person, PERIOD)
    ws = load_workbook(out).active
    assert ws["B2"].value == data.value("P_NAME", person)
    assert ws["D2"].value == person and ws["D2"].number_format == "@"
    assert ws["B3"].value.date() == data.value("P_BIRTH_DATE", person)
    assert ws["B3"].is_date
    assert ws["D3"].value == 300 and ws["D3"].number_format == "0.00"
    assert ws["D4"].value.date() == TODAY
    assert ws["B1"].value.startswith("青禾镇")
    # Formula-like text from the data stays text, exactly as stored.
    assert ws["B4"].value == data.value("I_REG_IDENTITY", person)
    assert ws["B4"].value == evil  # commas in text are kept
    assert ws["B4"].data_type == "s" and ws["B4"].quotePrefix
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize("text", ["=1+2", "+8613800000000", "-3", "@SUM(A1)", "普通参保人员"])
def test_text_never_becomes_a_formula(text) -> None:
    ws = Workbook().active
    _put(ws["A1"], text, None)
    assert ws["A1"].value == text and ws["A1"].data_type == "s"
    assert bool(ws["A1"].quotePrefix) == (text[0] in "=+-@")


def test_money_gets_a_number_format_only_when_general(pool) -> None:
    ws = Workbook().active
    money = pool.dictionary["S_ALLOWANCE_AMOUNT"]
    ws["A2"].number_format = "#,##0.00;[Red]-#,##0.00"
    _put(ws["A1"], 12345, money)
    _put(ws["A2"], -50, money)
    assert ws["A1"].value == Decimal("123.45") and ws["A1"].number_format == "0.00"
    assert ws["A2"].value == Decimal("-0.5") and ws["A2"].number_format.startswith("#,##0.00;")


# ---------------------------------------------------------------- broken mappings


def copy_sample(tmp_path: Path) -> None:
    shutil.copyfile(sample_path(".xlsx"), tmp_path / "county.xlsx")


def sample_mapping(**changes: str) -> str:
    text = sample_path(".toml").read_text(encoding="utf-8")
    text = text.replace("rs_resident_pension_enrollment_county.xlsx", "county.xlsx")
    for old, new in changes.items():
        assert old in text or old == "PREPEND", old
        text = new + "\n" + text if old == "PREPEND" else text.replace(old, new)
    return text


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({'"C" = "P_TOTAL"': '"C" = "P_NOPE"'}, "[rows.columns] “C”", "“P_NOPE”不在数据项字典中"),
        (
            {'"C" = "P_TOTAL"': '"C" = "P_MALE"'},
            "[rows.columns] “C”",
            "不在“城乡居民基本养老保险参保情况统计表”中",
        ),
        ({'"A2" =': '"2A" ='}, "[cells] “2A”", "不是有效的单元格"),
        ({'"A" = "number"': '"A1" = "number"'}, "[rows.columns] “A1”", "不是有效的列"),
        (
            {'"A3" =': '"B3" ='},
            "[cells] “B3”",
            "B3 是合并单元格 A3:F3 的一部分，只能写入其左上角 A3",
        ),
        ({"first = 7 ": "first = 0 "}, "[rows] first", "应为行号"),
        (
            {'workbook = "county.xlsx"': 'workbook = "missing.xlsx"'},
            "workbook",
            "找不到表样文件“missing.xlsx”",
        ),
        ({'workbook = "county.xlsx"': 'workbook = "county.xls"'}, "workbook", "不是 .xlsx 文件"),
        ({'sheet = "参保情况"': 'sheet = "Sheet9"'}, "sheet", "没有工作表“Sheet9”"),
        (
            {'template = "rs_resident_pension_enrollment"': 'template = "nope"'},
            "template",
            "没有报表模板“nope”",
        ),
        ({"total_row = 6 ": "total_row = 9 "}, "[rows] total_row", "不能在逐行填写的区域内"),
        ({'"A2" = {': '"A2" = { colour = 1, '}, "[cells] “A2”", "应写成"),
        ({"PREPEND": "colour = 1"}, "colour", "不认识的字段"),
    ],
)
def test_broken_mapping_names_file_and_field(pool, tmp_path, changes, field, problem) -> None:
    copy_sample(tmp_path)
    path = write_mapping(tmp_path / "部门表样.toml", sample_mapping(**changes))
    with pytest.raises(FormsError) as caught:
        fill_workbook(pool, path, TOWNSHIP, PERIOD, tmp_path / "out.xlsx", today=TODAY)
    message = str(caught.value)
    assert message.startswith("部门表样 部门表样.toml 的 ") or "部门表样.toml" in message
    assert field in message and problem in message, message
    assert not (tmp_path / "out.xlsx").exists()


def test_writing_into_a_merged_row_cell_names_the_column(pool, tmp_path) -> None:
    roster_workbook(tmp_path / "roster.xlsx")
    mapping = write_mapping(tmp_path / "roster.toml", ROSTER_MAPPING + '\n"J" = "P_PHONE"')
    with pytest.raises(FormsError) as caught:
        fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "out.xlsx", today=TODAY)
    assert str(caught.value) == (
        "部门表样 roster.toml 的 [rows.columns] “J”：J4 是合并单元格 I4:J4 的一部分，只能写入其左上角 I4"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('"C5" = "P_NAME"', "花名册的固定单元格只能填 unit、period、today"),
        ('"C5" = "label"', "“label”只能用在 [rows.columns] 中"),
    ],
)
def test_roster_fixed_cells_are_limited(pool, tmp_path, text, problem) -> None:
    roster_workbook(tmp_path / "roster.xlsx")
    mapping = write_mapping(
        tmp_path / "roster.toml",
        ROSTER_MAPPING.replace('"I2" = "period"', f'"I2" = "period"\n{text}'),
    )
    with pytest.raises(FormsError, match=re.escape(f"roster.toml 的 [cells] “C5”：{problem}")):
        fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "out.xlsx")


def test_individual_form_has_no_rows(pool, tmp_path) -> None:
    Workbook().save(tmp_path / "a.xlsx")
    mapping = write_mapping(
        tmp_path / "a.toml",
        'template = "rs_resident_pension_registration"\nworkbook = "a.xlsx"\n'
        '[rows]\nfirst = 3\n[rows.columns]\n"B" = "P_NAME"\n',
    )
    with pytest.raises(FormsError, match=r"a\.toml 的 \[rows\]：.*是登记表"):
        check_workbook(mapping, pool.dictionary, pool.templates)


def test_unknown_mapping_id_and_broken_files_are_reported(tmp_path) -> None:
    with pytest.raises(FormsError, match="没有部门表样“nope”"):
        fill_workbook(None, "nope", TOWNSHIP, PERIOD, tmp_path / "x.xlsx")  # type: ignore[arg-type]
    write_mapping(tmp_path / "bad.toml", 'template = "x"\n')
    write_mapping(tmp_path / "worse.toml", "template = \n")
    found, problems = load_workbooks(tmp_path)
    assert found == []
    assert str(problems[0]) == "部门表样 bad.toml 缺少字段“workbook”"
    assert str(problems[1]).startswith("文件 worse.toml 格式错误")
    with pytest.raises(FormsError, match=re.escape("部门表样 bad.toml 缺少字段“workbook”")):
        parse_mapping(tmp_path / "bad.toml")


# ---------------------------------------------------------------- printed by LibreOffice


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_filled_sample_prints_with_libreoffice(pool, tmp_path) -> None:
    out = fill_workbook(pool, SAMPLE, TOWNSHIP, PERIOD, tmp_path / "filled.xlsx", today=TODAY)
    result = subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    pdf = tmp_path / "filled.pdf"
    assert pdf.exists() and pdf.stat().st_size > 0
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = page.extract_text()
    total = pool.collect(TEMPLATE, TOWNSHIP, PERIOD).value("P_TOTAL", TOWNSHIP)
    assert "青禾镇" in text and str(total) in text


def test_formulas_follow_inserted_rows() -> None:
    from govshare_desktop.core.export.workbook_rows import _adjust_formula

    formula = "=SUM(H4:H6)+'花名册'!A7+其他!A7+$B$9+H3+SUM(7:8)"
    assert (
        _adjust_formula(formula, "花名册", 6, 3)
        == "=SUM(H4:H9)+'花名册'!A10+其他!A7+$B$12+H3+SUM(10:11)"
    )
    assert _adjust_formula('=IF(A1="",1,2)', "花名册", 6, 3) == '=IF(A1="",1,2)'
