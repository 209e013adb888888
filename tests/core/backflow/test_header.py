"""Finding the table in a sheet: header row(s), preamble, data rows, footer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from govshare_desktop.core.backflow.header import (
    cell_text,
    locate,
    normalise_header,
    parse_preamble,
)
from govshare_desktop.core.backflow.readers import RawRow, open_table
from govshare_desktop.core.errors import UserError
from tests.samples import SAMPLES

HOUSEHOLD_XLSX = SAMPLES / "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = SAMPLES / "青禾镇_城乡居民养老保险参保_2026-10.csv"

HOUSEHOLD_HEADERS = {
    "序号",
    "户号",
    "所属村(社区)",
    "住址",
    "姓名",
    "与户主关系",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "人员状态",
    "变动日期",
    "联系电话",
}
KNOWN = HOUSEHOLD_HEADERS | {"身份证号", "险种", "参保日期", "档次", "缴费档次(元/年)", "备注"}


def known(text: str) -> bool:
    return text in KNOWN


def rows_of(*rows: list | tuple, start: int = 1) -> list[RawRow]:
    return [RawRow(start + i, tuple(r)) for i, r in enumerate(rows)]


def xlsx(tmp_path: Path, rows: list[list], merges: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return path


# --------------------------------------------------------------------------------------- texts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("姓  名", "姓名"),
        ("姓\u3000名", "姓名"),
        (" 公民身份\n号码 ", "公民身份号码"),
        ("缴费档次（元/年）", "缴费档次(元/年)"),
        ("缴费档次【元/年】", "缴费档次(元/年)"),
        ("缴费档次 [元/年]", "缴费档次(元/年)"),
        ("*姓名", "姓名"),
        ("＊公民身份号码（*）", "公民身份号码"),
        ("姓名：", "姓名"),
        ("姓名:", "姓名"),
        ("ＩＤ号", "ID号"),
        ("", ""),
    ],
)
def test_normalise_header(raw: str, expected: str) -> None:
    assert normalise_header(raw) == expected


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(2026.0) == "2026"
    assert cell_text(3.5) == "3.5"
    assert cell_text(4.419001954010112e17) == "4.419001954010112e+17"
    assert cell_text(dt.date(2026, 10, 31)) == "2026-10-31"
    assert cell_text(dt.datetime(2026, 10, 31, 8, 0)) == "2026-10-31 08:00:00"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["青禾镇户籍人口信息（回流数据）", "数据来源：东莞市公安局    数据时点：2026-10-31"],
            {"source_department": "东莞市公安局", "as_of": dt.date(2026, 10, 31)},
        ),
        (
            ["来源单位: 东莞市人力资源和社会保障局，截止日期：2026年10月31日"],
            {"source_department": "东莞市人力资源和社会保障局", "as_of": dt.date(2026, 10, 31)},
        ),
        (
            ["提供单位：东莞市民政局  统计时点：2026/9/30"],
            {"source_department": "东莞市民政局", "as_of": dt.date(2026, 9, 30)},
        ),
        (
            ["数据来源：东莞市公安局", "统计截止日期：2026年1月5日"],
            {"source_department": "东莞市公安局", "as_of": dt.date(2026, 1, 5)},
        ),
        (["（截至２０２６年１０月３１日）"], {"as_of": dt.date(2026, 10, 31)}),
        (["数据时点：20261031"], {"as_of": dt.date(2026, 10, 31)}),
        (["数据时点：2026-02-30"], {}),
        (["青禾镇户籍人口信息"], {}),
    ],
)
def test_parse_preamble(lines: list[str], expected: dict) -> None:
    assert parse_preamble(lines) == expected


# --------------------------------------------------------------------------------------- samples


def test_sample_household_xlsx() -> None:
    src = open_table(HOUSEHOLD_XLSX)
    table = locate(src.rows, known)
    assert table.header_rows == (3,)
    assert table.columns[:5] == ("序号", "户号", "所属村(社区)", "住址", "姓名")
    assert len(table.columns) == 13 and table.groups == ("",) * 13
    assert table.preamble == (
        "青禾镇户籍人口信息（回流数据）",
        "数据来源：东莞市公安局    数据时点：2026-10-31",
    )
    assert parse_preamble(table.preamble) == {
        "source_department": "东莞市公安局",
        "as_of": dt.date(2026, 10, 31),
    }
    data = list(table.data_rows())
    assert len(data) == 1044
    assert (data[0].number, data[-1].number) == (4, 1047)
    assert data[0].values[4] == "陈豪"
    assert table.footer is not None and table.footer.number == 1048
    assert table.footer.values[0] == "合计：1044人"
    assert [r.number for r in data if isinstance(r.values[9], float)] == [104]
    # data_rows() can be read again (the source is re-read from the start)
    assert sum(1 for _ in table.data_rows()) == 1044


def test_sample_gb18030_csv_header() -> None:
    table = locate(open_table(ENROLLMENT_CSV).rows, known)
    assert table.header_rows == (1,)
    assert table.columns[6] == "缴费档次(元/年)"
    assert table.preamble == ()
    assert sum(1 for _ in table.data_rows()) == 730
    assert table.footer is None


# --------------------------------------------------------------------------------------- two rows


GROUP_SHEET = [
    ["青禾镇参保人员名册"],
    ["数据来源：东莞市人力资源和社会保障局", None, None, None, "数据时点：2026-10-31"],
    ["序号", "姓名", "身份证号", "参保信息", None, None],
    [None, None, None, "险种", "参保日期", "档次"],
    [1, "张三", "441900195401011234", "城乡居民养老", dt.date(2011, 9, 15), 200],
    [2, "李四", "441900195602021234", "城乡居民养老", dt.date(2012, 1, 5), 500],
    ["合计：2人"],
    ["制表人：李某某", None, None, "审核人：王某某"],
]


def test_two_row_header_with_merged_group_cells(tmp_path: Path) -> None:
    path = xlsx(tmp_path, GROUP_SHEET, merges=("A1:F1", "A3:A4", "B3:B4", "C3:C4", "D3:F3"))
    table = locate(open_table(path).rows, known)
    assert table.header_rows == (3, 4)
    assert table.columns == ("序号", "姓名", "身份证号", "险种", "参保日期", "档次")
    assert table.groups == ("", "", "", "参保信息", "参保信息", "参保信息")
    assert table.preamble[0] == "青禾镇参保人员名册"
    assert parse_preamble(table.preamble) == {
        "source_department": "东莞市人力资源和社会保障局",
        "as_of": dt.date(2026, 10, 31),
    }
    data = list(table.data_rows())
    assert [r.number for r in data] == [5, 6]
    assert table.footer is not None and table.footer.values[0] == "合计：2人"


def test_two_row_header_when_the_sub_header_row_scores_higher() -> None:
    # Only 序号 and 身份证号 are recognised above, but all three sub-headers below.
    rows = rows_of(*GROUP_SHEET)
    table = locate(rows, lambda t: t in {"序号", "身份证号", "险种", "参保日期", "档次"})
    assert table.header_rows == (3, 4)
    assert table.columns == ("序号", "姓名", "身份证号", "险种", "参保日期", "档次")
    assert table.groups[3:] == ("参保信息",) * 3


def test_two_row_header_when_the_group_row_scores_higher() -> None:
    rows = rows_of(*GROUP_SHEET)
    table = locate(rows, lambda t: t in {"序号", "姓名", "身份证号", "险种", "档次"})
    assert table.header_rows == (3, 4)
    assert table.columns == ("序号", "姓名", "身份证号", "险种", "参保日期", "档次")


def test_group_row_above_a_complete_header() -> None:
    rows = rows_of(
        ["青禾镇参保人员名册"],
        ["基本信息", None, None, "参保信息", None, None],
        ["序号", "姓名", "身份证号", "险种", "参保日期", "档次"],
        [1, "张三", "441900195401011234", "城乡居民养老", "20110915", 200],
    )
    table = locate(rows, known)
    assert table.header_rows == (2, 3)
    assert table.columns == ("序号", "姓名", "身份证号", "险种", "参保日期", "档次")
    assert table.groups == ("基本信息",) * 3 + ("参保信息",) * 3
    assert table.preamble == ("青禾镇参保人员名册",)


def test_title_and_source_lines_are_not_group_rows() -> None:
    rows = rows_of(
        ["青禾镇参保人员名册", None, None],
        ["数据来源：东莞市公安局", None, "数据时点：2026-10-31"],
        ["姓名", "身份证号", "备注"],
        ["张三", "441900195401011234", None],
    )
    table = locate(rows, known)
    assert table.header_rows == (3,)
    assert table.groups == ("", "", "")
    assert len(table.preamble) == 2


def test_data_row_below_a_header_is_never_a_sub_header() -> None:
    # The first data row holds texts that happen to be header names, under named columns.
    rows = rows_of(["姓名", "备注", "住址"], ["档次", "险种", None], ["李四", None, "新围村"])
    table = locate(rows, known)
    assert table.header_rows == (1,)
    assert [r.number for r in table.data_rows()] == [2, 3]


# --------------------------------------------------------------------------------------- footers


@pytest.mark.parametrize(
    "footer", ["合计：2人", "总计 2 人", "制表人：李某某", "填表人:", "备注：以上数据仅供核对"]
)
def test_footer_rows_end_the_data(footer: str) -> None:
    rows = rows_of(
        ["姓名", "公民身份号码"],
        ["张三", "441900195401011234"],
        ["李四", "441900195602021234"],
        [footer, None],
        ["王五", "441900195803031234"],  # after the footer: not data
    )
    table = locate(rows, known)
    assert [r.number for r in table.data_rows()] == [2, 3]
    assert table.footer == RawRow(4, (footer, None))


def test_footer_in_a_later_column_and_words_inside_data() -> None:
    rows = rows_of(
        ["序号", "姓名", "备注"],
        [1, "张三", "合计缴费15年"],  # 合计 inside data: not a footer
        [2, "合计", None],  # a first cell that is a number: not a footer
        [None, "审核人：王某某", None],  # the first non-empty cell starts a footer
    )
    table = locate(rows, known)
    assert [r.number for r in table.data_rows()] == [2, 3]
    assert table.footer is not None and table.footer.number == 4


def test_subtotals_inside_the_data_are_skipped() -> None:
    rows = rows_of(
        ["序号", "姓名", "档次"],
        [1, "张三", 200],
        ["东岭村小计", None, 200],
        [2, "李四", 500],
        ["小计", None, 500],
        ["合计", None, 700],
        ["制表人：李某某"],
    )
    table = locate(rows, known)
    assert [r.number for r in table.data_rows()] == [2, 4]
    assert [r.number for r in table.subtotals] == [3, 5]
    assert table.footer is not None and table.footer.number == 6


def test_a_last_subtotal_is_the_footer() -> None:
    rows = rows_of(
        ["姓名", "性别"], ["张三", "男"], ["李四", "女"], ["  小计：2人", None], [None, None]
    )
    table = locate(rows, known)
    assert [r.number for r in table.data_rows()] == [2, 3]
    assert table.footer is not None and table.footer.number == 4
    assert table.subtotals == []


def test_blank_rows_inside_the_data_are_skipped(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path,
        [
            ["姓名", "公民身份号码"],
            ["张三", "441900195401011234"],
            [None, None],
            ["  ", ""],
            ["李四", "441900195602021234"],
            [None, None],
            ["合计：2人"],
        ],
    )
    table = locate(open_table(path).rows, known)
    assert [r.number for r in table.data_rows()] == [2, 5]
    assert table.footer is not None and table.footer.number == 7


def test_csv_with_blank_lines_and_no_footer(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(
        "姓名,公民身份号码\n张三,441900195401011234\n\n李四,441900195602021234\n".encode()
    )
    table = locate(open_table(path).rows, known)
    assert [r.number for r in table.data_rows()] == [2, 4]
    assert table.footer is None


# --------------------------------------------------------------------------------------- headers


def test_header_with_spaces_and_full_width_brackets(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path,
        [
            ["城乡居民养老保险参保名册"],
            ["姓  名", "公民身份\n号码", "缴费档次（元/年）", "*备注："],
            ["张三", "441900195401011234", 200, None],
        ],
    )
    table = locate(open_table(path).rows, known)
    assert table.header_rows == (2,)
    assert table.columns == ("姓名", "公民身份号码", "缴费档次(元/年)", "备注")


def test_most_recognised_cells_win_and_ties_go_to_the_earlier_row() -> None:
    rows = rows_of(
        ["姓名", "性别", "说明"],
        ["姓名", "性别", "民族"],  # three recognised
        ["姓名", "性别", "民族"],  # the same: the earlier wins
    )
    assert locate(rows, known).header_rows == (2,)
    tie = rows_of(["姓名", "性别"], ["姓名", "民族"])
    assert locate(tie, known).header_rows == (1,)


def test_unnamed_columns_and_trailing_empty_columns() -> None:
    rows = rows_of(["姓名", None, "性别", None, None], ["张三", "x", "男", None, None])
    table = locate(rows, known)
    assert table.columns == ("姓名", "", "性别")
    assert table.index("性  别") == 2 and table.index("民族") is None


def test_header_beyond_the_scanned_rows_is_not_found() -> None:
    rows = rows_of(*([["说明文字"]] * 5), ["姓名", "性别"])
    assert locate(rows, known, scan_rows=6).header_rows == (6,)
    with pytest.raises(UserError, match="找不到表头"):
        locate(rows, known, scan_rows=5)


def test_leading_blank_rows_do_not_count_against_the_scan() -> None:
    rows = [RawRow(n, (None, None)) for n in range(1, 41)] + rows_of(["姓名", "性别"], start=41)
    assert locate(rows, known, scan_rows=3).header_rows == (41,)


def test_no_header_is_a_user_error_naming_what_was_looked_for() -> None:
    rows = rows_of(["青禾镇名册"], ["姓名", "电话号码"], ["张三", "138"])
    with pytest.raises(UserError) as info:
        locate(rows, known, expected=["姓名", "公民身份号码"], file_name="名册.xlsx")
    err = info.value
    assert err.message.startswith("找不到表头：文件“名册.xlsx”前 30 行中")
    assert "“姓名”、“公民身份号码”" in err.message
    assert err.detail is not None and "第 2 行" in err.detail and "张三 | 138" in err.detail
    with pytest.raises(UserError, match="找不到表头"):
        locate([], known)


# --------------------------------------------------------------------------------------- sources


def test_one_shot_iterator_is_buffered_and_read_once() -> None:
    def gen() -> Iterator[RawRow]:
        yield from rows_of(["标题"], ["姓名", "性别"], ["张三", "男"], ["李四", "女"])

    table = locate(gen(), known)
    assert [r.number for r in table.data_rows()] == [3, 4]
    with pytest.raises(RuntimeError):
        table.data_rows()


def test_callable_source_is_re_read_not_buffered() -> None:
    calls = []

    def source() -> Iterator[RawRow]:
        calls.append(1)
        yield from rows_of(["姓名", "性别"], ["张三", "男"], ["合计"])

    table = locate(source, known)
    assert [r.number for r in table.data_rows()] == [2]
    assert [r.number for r in table.data_rows()] == [2]
    assert len(calls) == 3  # once to find the header, once per data_rows()
    assert table.footer is not None and table.footer.values == ("合计",)


def test_csv_two_row_header_counts_records_not_lines(tmp_path: Path) -> None:
    # A quoted header cell spanning two lines: the two header records are lines 1–2 and 3.
    text = '序号,"姓名\n(必填)",身份证号,参保信息,,\n,,,险种,参保日期,档次\n1,张三,441900195401011234,城乡居民养老,20110915,200\n'
    path = tmp_path / "h.csv"
    path.write_bytes(text.encode("gb18030"))
    table = locate(open_table(path).rows, lambda t: t in KNOWN | {"姓名(必填)"})
    assert table.header_rows == (1, 3)
    assert table.columns == ("序号", "姓名(必填)", "身份证号", "险种", "参保日期", "档次")
    assert [r.number for r in table.data_rows()] == [4]
