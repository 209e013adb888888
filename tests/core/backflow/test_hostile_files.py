"""Hostile input (issue 13): files built to exhaust memory or smuggle bytes are refused before the
reader allocates, with a Chinese message naming the file and what is too large; real files pass.

Every hostile file is a few KB to a few MB on disk, written by hand (tests/core/backflow/hostile.py).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from govshare_desktop.core.backflow import limits
from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.backflow.readers import open_table
from govshare_desktop.core.errors import UserError
from tests.core.backflow.hostile import (
    repeated,
    shared_strings_xml,
    sheet_xml,
    write_xlsx,
)

_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_ONE_SHARED_CELL = (
    b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
)
PERSON_HEADER = "公民身份号码,姓名,性别代码,民族代码,出生日期,户号,与户主关系代码,所属村（社区）代码,人员状态,变动日期,联系电话"


def _refusal(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        list(open_table(path).rows())
    return caught.value.message


def _peak_kib_refusing(path: Path) -> int:
    """Open ``path`` in a child process; its peak RSS in KiB (VmHWM since exec: the parent's
    pages at fork are not counted). A crash (SIGABRT) fails the test."""
    code = (
        "import sys\n"
        "from govshare_desktop.core.backflow.readers import open_table\n"
        "from govshare_desktop.core.errors import UserError\n"
        "try:\n"
        "    list(open_table(sys.argv[1]).rows())\n"
        "except UserError as exc:\n"
        "    print(exc.message)\n"
        "else:\n"
        "    sys.exit(3)\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'):\n"
        "        print(line.split()[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "RUST_BACKTRACE": "0"},
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-500:])
    message, peak = done.stdout.strip().splitlines()
    assert path.name in message
    return int(peak)


# ---------------------------------------------------------------- xlsx: the rectangle of cells


def test_declared_range_of_the_whole_sheet_is_refused(tmp_path) -> None:
    path = write_xlsx(
        tmp_path / "全表.xlsx", sheet_xml([["姓名", "公民身份号码"]], dimension="A1:XFD1048576")
    )
    assert path.stat().st_size < 4096
    message = _refusal(path)
    assert "全表.xlsx" in message
    assert "工作表声明的范围 A1:XFD1048576 超过上限" in message
    assert "1,000 列" in message and "1,048,576 行" in message and "未导入" in message


def test_two_far_apart_cells_do_not_abort_the_process(tmp_path) -> None:
    """A1 and XFD1048576, no <dimension>: the reader would allocate 512 GiB and abort."""
    sheet = [
        b'<?xml version="1.0"?>' + _NS + b'<sheetData><row r="1"><c r="A1" t="inlineStr">'
        b'<is><t>x</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        b"</sheetData></worksheet>"
    ]
    path = write_xlsx(tmp_path / "sparse.xlsx", sheet)
    assert "第 1,048,576 行、第 16,384 列" in _refusal(path)
    assert _peak_kib_refusing(path) < 300 * 1024


def test_cells_placed_by_position_count_too(tmp_path) -> None:
    """Cells without a reference (allowed by the format) are placed one after another."""
    row = b"<row>" + b"<c><v>1</v></c>" * (limits.MAX_COLUMNS + 1) + b"</row>"
    path = write_xlsx(
        tmp_path / "wide.xlsx",
        [b'<?xml version="1.0"?>' + _NS + b"<sheetData>" + row + b"</sheetData></worksheet>"],
    )
    assert f"第 {limits.MAX_COLUMNS + 1:,} 列" in _refusal(path)


def test_a_reference_written_unusually_is_still_read(tmp_path) -> None:
    sheet = [
        b'<?xml version="1.0"?>' + _NS + b"<sheetData><row r='1'><c r='A1'><v>1</v></c>"
        b"<c\tr = 'XFD1'><v>2</v></c></row></sheetData></worksheet>"
    ]
    assert "第 16,384 列" in _refusal(write_xlsx(tmp_path / "odd.xlsx", sheet))


def test_a_reference_that_is_no_reference_is_refused(tmp_path) -> None:
    sheet = [
        b'<?xml version="1.0"?>' + _NS + b'<sheetData><row r="1"><c r="XFD&#49;"><v>1</v></c>'
        b"</row></sheetData></worksheet>"
    ]
    assert "无法识别的单元格位置" in _refusal(write_xlsx(tmp_path / "entity.xlsx", sheet))


# ---------------------------------------------------------------- xlsx: strings and sizes


def test_declared_shared_string_count_is_refused(tmp_path) -> None:
    """<sst uniqueCount="2^40">: the reader reserves that many strings and aborts."""
    path = write_xlsx(
        tmp_path / "sst.xlsx",
        [b'<?xml version="1.0"?>' + _NS + _ONE_SHARED_CELL],
        shared_strings=shared_strings_xml([b"x"], count=2**40),
    )
    assert "声明有 1,099,511,627,776 个共享字符串" in _refusal(path)
    assert _peak_kib_refusing(path) < 300 * 1024


def test_a_100_mb_cell_in_a_100_kb_file_is_refused_by_its_ratio(tmp_path) -> None:
    path = write_xlsx(
        tmp_path / "bomb.xlsx",
        [b'<?xml version="1.0"?>' + _NS + _ONE_SHARED_CELL],
        shared_strings=shared_strings_xml([b"".join(repeated(b"A", 100_000_000))], count=1),
    )
    assert path.stat().st_size < 200_000
    message = _refusal(path)
    assert "压缩比" in message and "bomb.xlsx" in message
    assert _peak_kib_refusing(path) < 300 * 1024


def test_a_single_cell_above_the_limit_is_refused(tmp_path) -> None:
    """Incompressible text, so that the ratio does not catch it first."""
    big = os.urandom(limits.MAX_CELL_BYTES).hex().encode()  # 2 MiB, ratio about 2:1
    sheet = [
        b'<?xml version="1.0"?>' + _NS + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>',
        big,
        b"</t></is></c></row></sheetData></worksheet>",
    ]
    message = _refusal(write_xlsx(tmp_path / "cell.xlsx", sheet))
    assert "一个单元格" in message and "超过 1 MiB" in message


def test_a_string_split_into_rich_text_runs_is_one_string(tmp_path) -> None:
    run = b"<r><t>" + os.urandom(64 * 1024).hex().encode() + b"</t></r>"
    strings = [b'<?xml version="1.0"?><sst xmlns="x"><si>', run * 20, b"</si></sst>"]
    path = write_xlsx(
        tmp_path / "runs.xlsx",
        [b'<?xml version="1.0"?>' + _NS + _ONE_SHARED_CELL],
        shared_strings=strings,
    )
    assert "一个共享字符串" in _refusal(path)


def _declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size the central directory gives for ``member`` (as a file that
    would unpack to ``size`` bytes says it), without writing those bytes."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == name:
            struct.pack_into("<I", data, at + 24, size)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    else:
        raise AssertionError(member)
    path.write_bytes(bytes(data))


def test_shared_strings_above_the_total_limit_are_refused_unread(tmp_path) -> None:
    path = write_xlsx(
        tmp_path / "strings.xlsx",
        [b'<?xml version="1.0"?>' + _NS + _ONE_SHARED_CELL],
        shared_strings=shared_strings_xml([b"x"], count=1),
    )
    _declare_size(path, "xl/sharedStrings.xml", limits.MAX_SHARED_STRINGS_BYTES + 1)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/sharedStrings.xml").file_size > limits.MAX_SHARED_STRINGS_BYTES
    message = _refusal(path)
    assert "共享字符串解压后有 512.0 MiB" in message or "共享字符串解压后有" in message


def test_real_workbooks_pass_whatever_their_dimension_says(tmp_path) -> None:
    """A wrong (too small) or missing <dimension>, cells without references: all read in full."""
    rows = [["姓名", "数量"]] + [[f"人{i}", i] for i in range(3000)]
    wrong = write_xlsx(tmp_path / "wrong.xlsx", sheet_xml(rows, dimension="A1:A1"))
    missing = write_xlsx(tmp_path / "missing.xlsx", sheet_xml(rows))
    positional = b"".join(sheet_xml(rows)).replace(b' r="', b' x="')
    plain = write_xlsx(tmp_path / "plain.xlsx", [positional])
    for path in (wrong, missing, plain):
        read = list(open_table(path).rows())
        assert len(read) == 3001 and read[-1].values == ("人2999", 2999), path.name


def test_limits_allow_a_full_sheet_of_sixty_columns() -> None:
    assert limits.MAX_ROWS * 60 <= limits.MAX_CELLS
    assert limits.MAX_COLUMNS >= 60


# ---------------------------------------------------------------- CSV


def test_a_csv_line_without_end_is_refused_not_read_whole(tmp_path) -> None:
    path = tmp_path / "one_line.csv"
    with path.open("wb") as f:
        f.write((PERSON_HEADER + "\n").encode())
        for piece in repeated(b"A", 3 * limits.MAX_LINE_CHARS):
            f.write(piece)
    message = _refusal(path)
    assert "one_line.csv" in message and "第 2 行超过 1,048,576 个字符" in message


def test_a_csv_field_above_the_csv_limit_is_refused_clearly(tmp_path) -> None:
    path = tmp_path / "field.csv"
    path.write_text(PERSON_HEADER + '\n"' + "A\n" * 100_000 + '"\n', encoding="utf-8")
    assert "有一个字段超过" in _refusal(path)


def _person_rows(count: int) -> list[str]:
    from datetime import date

    from govshare_desktop.core.domain import idnumber

    lines = []
    for i in range(count):
        number = idnumber.make("441900", date(1960 + i // 400, 1, 1 + i % 28), i % 400, male=True)
        lines.append(f"{number},测试{i:04d},1,01,,19920100001,02,441900199201,正常,,")
    return lines


def test_a_nul_in_a_name_past_the_sample_rejects_that_row(township, tmp_path) -> None:
    lines = _person_rows(1500)
    number = lines[1400].split(",")[0]
    lines[1400] = lines[1400].replace("测试1400", "王\0芳")
    path = tmp_path / "person_2026-10.csv"
    path.write_text(PERSON_HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert path.read_bytes().index(b"\0") > 64 * 1024  # beyond what the encoding sniffer reads
    result = import_file(township, path, user="test")
    bad = [r for r in result.rejections if r.reason_code == "control_character"]
    assert [(r.row, r.column) for r in bad] == [(1402, "姓名")]
    assert "U+0000" in bad[0].message
    with township.engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM person")).scalars().all()
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM person WHERE id_number = :n"), {"n": number}
            ).scalar()
            == 0
        )
    assert len(names) == result.inserted and not any("\0" in n for n in names)


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x85", "\x9f"])
def test_other_control_characters_are_rejected(township, tmp_path, char) -> None:
    lines = _person_rows(3)
    lines[1] = lines[1].replace("测试0001", f"测{char}试")
    path = tmp_path / "person.csv"
    path.write_text(PERSON_HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(township, path, user="test")
    assert [r.reason_code for r in result.rejections] == ["control_character"]
    assert result.inserted == 2


def test_error_workbook_shows_the_control_character(township, tmp_path) -> None:
    from govshare_desktop.core.backflow.error_workbook import safe_text

    assert safe_text("王\0芳") == "王<U+0000>芳"


@pytest.mark.parametrize(
    ("far", "said"),
    [
        ("ALM{row}", "第 1,001 列"),
        ("B1048577", "第 1,048,577 行"),
        ("ALM{row}:cell", "第 1,001 列"),
    ],
)
def test_a_far_cell_after_the_head_read_tag_by_tag_is_found(tmp_path, far, said) -> None:
    """The scan reads the first 64 KiB of a sheet tag by tag and the rest quickly: a cell past
    the head that reaches further (a wider column, a later row, one without a reference in a
    wide row) is still seen, in the first MiB as later."""
    rows = [[f"名字{r}", r] for r in range(1, 4000)]  # ~200 KiB of ordinary narrow rows
    head = b"".join(sheet_xml(rows))[: -len(b"</sheetData></worksheet>")]
    assert len(head) > 2 * limits._HEAD_BYTES
    row = len(rows) + 1
    if far.endswith(":cell"):  # cells placed by position, one past the limit
        tail = f'<row r="{row}">'.encode() + b"<c><v>1</v></c>" * (limits.MAX_COLUMNS + 1)
        tail += b"</row>"
    else:
        ref = far.format(row=row)
        tail = f'<row r="{ref.lstrip("ABLM")}"><c r="{ref}"><v>1</v></c></row>'.encode()
    path = write_xlsx(tmp_path / "far.xlsx", [head, tail, b"</sheetData></worksheet>"])
    assert said in _refusal(path)
