"""Reading back-flow files: xlsx, xls and CSV (UTF-8, UTF-8 with BOM, GB18030) into RawRows.

The .xls fixture ``data/legacy_tiny.xls`` was written with xlwt 1.3.0 (BIFF8, as old county
systems export; no LibreOffice on the build machine). Sheet 1 "说明" is empty; sheet 2 "名册":
rows 1–2 empty, row 3 a title merged over A3:E3, row 4 the header 序号/姓名/公民身份号码/出生日期/
金额, rows 5–7 data (an ID number written as a number in row 6, a text date, a datetime, a
boolean, a name with 𬌗 outside the BMP), row 8 "合计：3人".
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from govshare_desktop.core.backflow.readers import (
    SAMPLE_SIZE,
    RawRow,
    detect_encoding,
    open_table,
    open_table_bytes,
)
from govshare_desktop.core.errors import UserError

DATA = Path(__file__).resolve().parent / "data"
from tests.samples import SAMPLES  # noqa: E402

HOUSEHOLD_XLSX = SAMPLES / "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = SAMPLES / "青禾镇_城乡居民养老保险参保_2026-10.csv"
PAYMENT_CSV = SAMPLES / "青禾镇_城乡居民养老金发放明细_202608-202610.csv"
PACKAGE_ZIP = SAMPLES / "回流数据包_青禾镇_0001.zip"


def by_number(rows: list[RawRow]) -> dict[int, tuple]:
    return {r.number: r.values for r in rows}


# --------------------------------------------------------------------------------------- xlsx


@pytest.fixture
def offset_xlsx(tmp_path: Path) -> Path:
    """Data in C4:F9 (three empty rows and two empty columns before it), an empty first sheet."""
    wb = openpyxl.Workbook()
    wb.active.title = "空表"
    ws = wb.create_sheet("名册")
    ws["C4"] = "青禾镇测试名册"
    ws.merge_cells("C4:F4")
    for col, text in zip("CDEF", ["姓名", "出生日期", "公民身份号码", "在册"], strict=True):
        ws[f"{col}5"] = text
    ws["C6"], ws["D6"], ws["E6"], ws["F6"] = "张三", dt.date(1954, 1, 1), "441900195401011234", True
    ws["D6"].number_format = "yyyy-mm-dd"
    ws["C7"], ws["D7"], ws["E7"] = "李四", "1965/3/2", 441900195401011234  # ID stored as a number
    ws["C8"] = "王五"
    ws["D8"] = dt.datetime(2020, 1, 2, 3, 4, 5)
    ws["E8"] = "44190019540101123x "
    ws["F8"] = "#N/A"  # openpyxl writes this as an error cell
    ws["C9"] = 12
    ws["D9"] = 3.5
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    return path


def test_xlsx_row_numbers_are_sheet_rows_despite_empty_top_rows(offset_xlsx: Path) -> None:
    src = open_table(offset_xlsx)
    assert (src.kind, src.sheet_name, src.encoding) == ("xlsx", "名册", None)
    rows = list(src.rows())
    assert [r.number for r in rows] == list(range(1, 10))
    assert all(r.is_blank for r in rows[:3])
    values = by_number(rows)
    # index 0 is column A even though the used range starts at column C
    assert values[4][:3] == (None, None, "青禾镇测试名册")
    assert values[4][3:] == (None, None, None)  # merged cells: only the top-left holds the value
    assert values[5] == (None, None, "姓名", "出生日期", "公民身份号码", "在册")


def test_xlsx_values_keep_their_types(offset_xlsx: Path) -> None:
    values = by_number(list(open_table(offset_xlsx).rows()))
    assert values[6][2:] == ("张三", dt.date(1954, 1, 1), "441900195401011234", True)
    name, birth, id_number, empty = values[7][2:]
    assert (name, birth, empty) == ("李四", "1965/3/2", None)  # a text date stays text
    assert isinstance(id_number, float)  # a number stays a number (digits already lost)
    assert id_number == pytest.approx(4.419001954010112e17)
    assert values[8][2:] == ("王五", dt.datetime(2020, 1, 2, 3, 4, 5), "44190019540101123x ", None)
    assert values[9][2:4] == (12.0, 3.5)  # xlsx stores every number as a double


def test_xlsx_first_visible_sheet_with_data_and_choosing_a_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "封面"  # empty
    hidden = wb.create_sheet("字典")
    hidden["A1"] = "隐藏的下拉选项"
    hidden.sheet_state = "hidden"
    wb.create_sheet("数据")["A1"] = "姓名"
    wb.create_sheet("第二批")["B2"] = "公民身份号码"
    path = tmp_path / "sheets.xlsx"
    wb.save(path)

    assert open_table(path).sheet_name == "数据"
    assert open_table(path, sheet="字典").sheet_name == "字典"
    second = open_table(path, sheet=3)
    assert second.sheet_name == "第二批"
    assert list(second.rows()) == [RawRow(1, (None, None)), RawRow(2, (None, "公民身份号码"))]
    with pytest.raises(UserError, match="没有名为“名单”的工作表"):
        open_table(path, sheet="名单")
    with pytest.raises(UserError, match="没有第 9 个"):
        open_table(path, sheet=8)


def test_xlsx_without_any_data_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "空白.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(UserError, match=r"空白\.xlsx.*都是空的"):
        open_table(path)


def test_xlsx_rows_can_be_read_again_and_blank_rows_are_kept(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "性别"])
    ws.append(["张三", "男"])
    ws.append([None, None])
    ws.append(["李四", "女"])
    path = tmp_path / "blank.xlsx"
    wb.save(path)
    src = open_table(path)
    first = list(src.rows())
    assert first == list(src.rows())
    assert [r.number for r in first] == [1, 2, 3, 4]
    assert first[2].values == (None, None) and first[2].is_blank


# --------------------------------------------------------------------------------------- xls


def test_xls_fixture_through_calamine() -> None:
    src = open_table(DATA / "legacy_tiny.xls")
    assert (src.kind, src.sheet_name) == ("xls", "名册")  # the empty first sheet is passed over
    rows = list(src.rows())
    assert [r.number for r in rows] == list(range(1, 9))
    values = by_number(rows)
    assert values[1] == values[2] == (None,) * 5
    assert values[3] == ("青禾镇测试名册（xls）", None, None, None, None)  # merged A3:E3
    assert values[4] == ("序号", "姓名", "公民身份号码", "出生日期", "金额")
    assert values[5] == (1, "张三", "441900195401011234", dt.date(1954, 1, 1), 12.5)
    assert isinstance(values[5][0], int)  # BIFF stores small whole numbers as integers
    assert values[6][:2] == (2, "李四") and values[6][3:] == ("1965/3/2", None)
    assert isinstance(values[6][2], float)  # the ID number Excel kept as a number
    assert values[7] == (3, "王𬌗", "44190019540101123X", dt.datetime(2020, 1, 2, 3, 4, 5), True)
    assert values[8][0] == "合计：3人"


def test_kind_comes_from_the_content_not_the_extension(tmp_path: Path, offset_xlsx: Path) -> None:
    xls_named_xlsx = tmp_path / "其实是xls.xlsx"
    shutil.copyfile(DATA / "legacy_tiny.xls", xls_named_xlsx)
    assert open_table(xls_named_xlsx).kind == "xls"
    assert len(list(open_table(xls_named_xlsx).rows())) == 8

    xlsx_named_xls = tmp_path / "其实是xlsx.xls"
    shutil.copyfile(offset_xlsx, xlsx_named_xls)
    assert open_table(xlsx_named_xls).kind == "xlsx"
    assert len(list(open_table(xlsx_named_xls).rows())) == 9

    csv_named_xls = tmp_path / "其实是csv.xls"
    csv_named_xls.write_bytes("姓名,性别\n张三,男\n".encode("gb18030"))
    src = open_table(csv_named_xls)
    assert (src.kind, src.encoding) == ("csv", "gb18030")
    assert list(src.rows())[1].values == ("张三", "男")


# --------------------------------------------------------------------------------------- CSV


ROWS = [["姓名", "公民身份号码", "备注"], ["张三", "441900195401011234", ""], ["李四", "", "无"]]


def write_csv(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    text = "姓名,公民身份号码,备注\r\n张三,441900195401011234,\r\n李四,,无\r\n"
    src = open_table(write_csv(tmp_path / "a.csv", text, encoding))
    assert (src.kind, src.encoding, src.sheet_name) == ("csv", detected, None)
    rows = list(src.rows())
    assert rows == [
        RawRow(1, ("姓名", "公民身份号码", "备注")),  # no BOM left on the first header
        RawRow(2, ("张三", "441900195401011234", None)),  # "" → None
        RawRow(3, ("李四", None, "无")),
    ]


def test_csv_gb18030_with_characters_outside_gb2312(tmp_path: Path) -> None:
    # 镕 堃 喆: GBK, not GB2312. 䶮 (CJK Ext. A) and 𬌗 (Ext. E): only GB18030's four-byte codes.
    names = ["朱镕基", "王堃", "陈喆", "刘䶮", "张𬌗"]
    text = "姓名,序号\n" + "".join(f"{n},{i}\n" for i, n in enumerate(names, 1))
    data = text.encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")  # so this really needs GB18030
    path = tmp_path / "gb.csv"
    path.write_bytes(data)
    src = open_table(path)
    assert src.encoding == "gb18030"
    assert [r.values[0] for r in src.rows()][1:] == names


def test_csv_quoted_field_with_newlines_keeps_physical_line_numbers(tmp_path: Path) -> None:
    text = (
        "姓名,住址,电话\r\n"
        '张三,"东岭村\r\n7巷6号",138\r\n'
        '李四,"西塘村\n3巷\n29号",139\r\n'
        "\r\n"
        "王五,新围村,\r\n"
    )
    rows = list(open_table(write_csv(tmp_path / "q.csv", text, "utf-8")).rows())
    assert [r.number for r in rows] == [1, 2, 4, 7, 8]
    assert rows[1].values == ("张三", "东岭村\r\n7巷6号", "138")
    assert rows[2].values == ("李四", "西塘村\n3巷\n29号", "139")
    assert rows[3].values == () and rows[3].is_blank  # a blank line is a blank row
    assert rows[4].values == ("王五", "新围村", None)


def test_csv_ragged_rows_and_last_line_without_newline(tmp_path: Path) -> None:
    rows = list(open_table(write_csv(tmp_path / "r.csv", "a,b,c\n1\n2,3,4,5", "utf-8")).rows())
    assert [r.values for r in rows] == [("a", "b", "c"), ("1",), ("2", "3", "4", "5")]
    assert rows[1].cell(2) is None and rows[2].cell(3) == "5"


@pytest.mark.parametrize(("delimiter"), ["\t", ";"])
def test_csv_delimiter_sniffed_when_clearly_not_comma(tmp_path: Path, delimiter: str) -> None:
    text = "".join(delimiter.join(r) + "\n" for r in ROWS)
    src = open_table(write_csv(tmp_path / "t.txt", text, "gb18030"))
    assert src.delimiter == delimiter
    assert [r.values for r in src.rows()][1] == ("张三", "441900195401011234", None)


def test_csv_commas_win_over_the_odd_tab_or_semicolon(tmp_path: Path) -> None:
    text = "姓名,备注,住址\n张三,甲;乙,东岭\t村\n李四,丙,西塘\n"
    src = open_table(write_csv(tmp_path / "c.csv", text, "utf-8"))
    assert src.delimiter == ","
    assert list(src.rows())[1].values == ("张三", "甲;乙", "东岭\t村")


def test_utf16_text_export_from_excel(tmp_path: Path) -> None:
    # Excel's "Unicode 文本" export: UTF-16 with BOM, tab-separated
    text = "姓名\t公民身份号码\r\n张三\t441900195401011234\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    src = open_table(path)
    assert src.encoding == "utf-16"
    assert [r.values for r in src.rows()] == [
        ("姓名", "公民身份号码"),
        ("张三", "441900195401011234"),
    ]


def test_detect_encoding() -> None:
    assert detect_encoding(codecs.BOM_UTF8 + "姓名".encode()) == "utf-8-sig"
    assert detect_encoding(b"a,b,c\n1,2,3\n") == "utf-8"
    assert detect_encoding("姓名,性别".encode()) == "utf-8"
    assert detect_encoding("姓名,性别".encode()[:-1]) == "utf-8"  # a character cut by the sample
    assert detect_encoding("姓名,性别".encode("gbk")) == "gb18030"
    assert detect_encoding("刘䶮".encode("gb18030")) == "gb18030"
    with pytest.raises(ValueError):
        detect_encoding(b"\x80\x80\x80\xff\xff")


def test_encoding_found_after_a_long_ascii_start(tmp_path: Path) -> None:
    head = "id,code\n" + "".join(f"{i},{i * 7}\n" for i in range(20000))  # > 64 KiB ASCII
    assert len(head) > SAMPLE_SIZE
    path = tmp_path / "late.csv"
    path.write_bytes((head + "99999,张三\n").encode("gb18030"))
    src = open_table(path)
    assert src.encoding == "gb18030"
    assert list(src.rows())[-1] == RawRow(20002, ("99999", "张三"))


def test_csv_that_turns_undecodable_later_names_the_line(tmp_path: Path) -> None:
    good = "姓名,序号\n" + "".join(f"张三,{i}\n" for i in range(10000))  # UTF-8, > 64 KiB
    path = tmp_path / "mixed.csv"
    path.write_bytes(good.encode() + "李四,1\n".encode("gbk"))
    src = open_table(path)
    assert src.encoding == "utf-8"
    with pytest.raises(UserError, match=r"“mixed\.csv”第 10002 行有无法识别的字符"):
        list(src.rows())


def test_open_table_bytes_for_package_members() -> None:
    data = "\ufeff姓名,性别\n张三,男\n".encode()
    src = open_table_bytes(data, "data/person.csv")
    assert (src.kind, src.encoding, src.path) == ("csv", "utf-8-sig", Path("data/person.csv"))
    assert (
        list(src.rows())
        == list(src.rows())
        == [RawRow(1, ("姓名", "性别")), RawRow(2, ("张三", "男"))]
    )
    forced = open_table_bytes("姓名\n张三\n".encode("gb18030"), "x.csv", encoding="gb18030")
    assert forced.encoding == "gb18030"


def test_open_table_bytes_for_workbooks(offset_xlsx: Path) -> None:
    src = open_table_bytes(offset_xlsx.read_bytes(), "名册.xlsx")
    assert (src.kind, src.sheet_name) == ("xlsx", "名册")
    assert len(list(src.rows())) == 9
    xls = open_table_bytes((DATA / "legacy_tiny.xls").read_bytes(), "旧.xls")
    assert xls.kind == "xls" and list(xls.rows())[3].values[0] == "序号"


# --------------------------------------------------------------------------------------- errors


def test_empty_files_are_user_errors(tmp_path: Path) -> None:
    for name, content in [("空.csv", b""), ("bom.csv", codecs.BOM_UTF8), ("ws.csv", b" \r\n\r\n")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(UserError, match=f"文件“{name}”是空的"):
            open_table(path)
    with pytest.raises(UserError, match="是空的"):
        open_table_bytes(b"", "x.csv")


def test_corrupt_workbooks_are_user_errors(tmp_path: Path, offset_xlsx: Path) -> None:
    truncated = tmp_path / "半截.xlsx"
    data = offset_xlsx.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    garbage_zip = tmp_path / "乱码.xlsx"
    garbage_zip.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    garbage_ole = tmp_path / "坏的.xls"
    garbage_ole.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600)
    broken_xml = tmp_path / "坏表.xlsx"
    with zipfile.ZipFile(offset_xlsx) as src, zipfile.ZipFile(broken_xml, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = body[: len(body) // 2]
            dst.writestr(item, body)
    for path in (truncated, garbage_zip, garbage_ole, broken_xml):
        with pytest.raises(UserError) as info:
            open_table(path)
        assert info.value.message.startswith(
            f"文件“{path.name}”不是有效的 Excel 工作簿，可能已损坏："
        ), (
            path.name,
            info.value.message,
        )


def test_files_that_are_not_tables(tmp_path: Path) -> None:
    cases = {
        "图片.xlsx": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "是图片"),
        "公文.csv": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "是PDF 文件"),
        "二进制.csv": (b"\x01\x02\x00\x00\x05" * 40, "不是 CSV 文本文件"),
        "网页.xls": (
            '<html><head><meta charset="utf-8"></head><table><tr><td>姓名</td></tr></table>'.encode(),
            "网页（HTML）",
        ),
        "乱码.csv": (b"\x80\x80\x80\xff\xfe\xfd" * 10, "不是 UTF-8 或 GB18030/GBK"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(UserError, match=expected) as info:
            open_table(path)
        assert f"“{name}”" in info.value.message

    docx = tmp_path / "通知.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UserError, match=r"通知\.xlsx”是Word 文档"):
        open_table(docx)


def test_an_exchange_package_is_not_a_table() -> None:
    with pytest.raises(UserError, match="数据交换包"):
        open_table(PACKAGE_ZIP)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="找不到文件"):
        open_table(tmp_path / "没有.xlsx")
    with pytest.raises(UserError, match="是一个文件夹"):
        open_table(tmp_path)


# --------------------------------------------------------------------------------------- samples


def test_sample_household_xlsx() -> None:
    src = open_table(HOUSEHOLD_XLSX)
    assert (src.kind, src.sheet_name) == ("xlsx", "户籍人口")
    rows = list(src.rows())
    values = by_number(rows)
    assert len(rows) == 1049 and rows[0].number == 1 and rows[-1].number == 1049
    assert values[1][0] == "青禾镇户籍人口信息（回流数据）" and values[1][1:] == (None,) * 12
    assert values[2][0].startswith("数据来源：东莞市公安局")
    assert values[3][9] == "公民身份号码"
    assert values[4][0] == 1.0 and values[4][8] == dt.date(1964, 3, 16)
    assert isinstance(values[104][9], float)  # the ID stored as a number: rejected later
    text_dates = [v[8] for n, v in values.items() if 4 <= n <= 1047 and isinstance(v[8], str)]
    assert "1967/10/10" in text_dates
    assert values[1048][0] == "合计：1044人"
    assert values[1049][0] == "制表人：李某某" and values[1049][4] == "审核人：王某某"


def test_sample_csvs() -> None:
    expected = json.loads(Path(f"{ENROLLMENT_CSV}.expected.json").read_text(encoding="utf-8"))
    enrollment = open_table(ENROLLMENT_CSV)
    assert enrollment.encoding == expected["encoding"] == "gb18030"
    rows = list(enrollment.rows())
    assert len(rows) == expected["rows"] + 1
    assert rows[0].values[6] == "缴费档次（元/年）"
    assert all(r.number == i for i, r in enumerate(rows, 1))

    payment = open_table(PAYMENT_CSV)
    assert payment.encoding == "utf-8-sig"
    rows = list(payment.rows())
    assert rows[0].values[0] == "社会保障号码"  # BOM stripped
    assert len(rows) == 763


def test_sample_package_members_read_from_bytes() -> None:
    with zipfile.ZipFile(PACKAGE_ZIP) as z:
        manifest = json.loads(z.read("manifest.json"))
        for entry in manifest["files"]:
            src = open_table_bytes(z.read(entry["path"]), entry["path"], encoding=entry["encoding"])
            rows = list(src.rows())
            assert len(rows) == entry["rows"] + 1, entry["path"]


# --------------------------------------------------------------------------------------- memory


@pytest.mark.slow
def test_million_row_csv_streams_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        f.write("序号,公民身份号码,姓名,发放年月,实发金额\r\n")
        f.writelines(
            f'{i},4419001954010{i % 100000:05d},张三丰,202610,"314.16"\r\n'
            for i in range(1, 1_000_001)
        )
    assert path.stat().st_size > 40_000_000
    tracemalloc.start()
    try:
        src = open_table(path)
        count = 0
        last = None
        for row in src.rows():
            count += 1
            last = row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1_000_001
    assert last == RawRow(
        1_000_001, ("1000000", "441900195401000000", "张三丰", "202610", "314.16")
    )
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
