"""A department's workbook (表样) that sums its own 合计 with ``=SUM()``: the formulas stay where
they are and still cover every row after rows are inserted, the township total never lands in a
village row, and LibreOffice — which recalculates on opening — gets the township total, not twice
it."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Border, Side

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.workbook_fill import fill_workbook
from govshare_desktop.core.export.workbook_rows import _adjust_formula
from govshare_desktop.core.forms.compute import OTHER_LABEL, other_subject

TOWNSHIP = "441900199000"
PERIOD = Period.parse("2026-10")
TODAY = date(2026, 11, 3)
TEMPLATE = "rs_pension_payment"
COLUMNS = {"C": "I_RECEIVING", "D": "I_PAID_PEOPLE", "E": "I_PAID_TOTAL", "F": "P_60PLUS"}
SUMMED = "CDE"  # the department sums these; F's 合计 is left for us to fill

needs_libreoffice = pytest.mark.skipif(
    shutil.which("libreoffice") is None, reason="LibreOffice is not installed"
)


def payment_workbook(path: Path, *, total: str, prepared: int) -> tuple[int, int, int]:
    """A county 人社 表样: headers in row 3, ``prepared`` bordered village rows and a 合计 row
    with ``=SUM()`` in C:E — above the villages (``total="top"``) or below them. Returns
    (first data row, last data row, 合计 row)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "发放情况"
    ws["A1"] = "城乡居民基本养老保险待遇发放情况统计表"
    ws["A2"] = "填报单位："
    for letters, text in zip(
        "ABCDEF", ["序号", "村（社区）", "领取人数", "发放人数", "金额", "60岁以上"], strict=True
    ):
        ws[f"{letters}3"] = text
    first = 5 if total == "top" else 4
    last = first + prepared - 1
    total_row = 4 if total == "top" else last + 1
    thin = Side(style="thin")
    for row in range(3, max(last, total_row) + 1):
        for letters in "ABCDEF":
            ws[f"{letters}{row}"].border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws[f"B{total_row}"] = "合计"
    for letters in SUMMED:
        ws[f"{letters}{total_row}"] = f"=SUM({letters}{first}:{letters}{last})"
    ws[f"A{max(last, total_row) + 2}"] = "填表人：　　　　审核人："
    wb.save(path)
    return first, last, total_row


def write_mapping(
    path: Path,
    *,
    first: int,
    total_row: int | None,
    last: int | None = None,
    template: str = TEMPLATE,
    columns: dict[str, str] = COLUMNS,
) -> Path:
    lines = [
        f'template = "{template}"',
        'workbook = "payments.xlsx"',
        "[cells]",
        '"A2" = { value = "unit", text = "填报单位：{}" }',
        "[rows]",
        f"first = {first}",
    ]
    if total_row is not None:
        lines.append(f"total_row = {total_row}")
    if last is not None:
        lines.append(f"last = {last}")
    lines += ["[rows.columns]", '"A" = "number"', '"B" = "label"']
    lines += [f'"{letters}" = "{code}"' for letters, code in columns.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def recalculated(path: Path, tmp_path: Path):
    """The sheet as LibreOffice computes it on opening (formulas evaluated, values cached)."""
    outdir = tmp_path / "lo-out"
    result = subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return load_workbook(outdir / path.name, data_only=True).active


def number(value) -> Decimal:
    return Decimal(str(value or 0))


def expected_rows(pool):
    data = pool.collect(TEMPLATE, TOWNSHIP, PERIOD)
    rows = data.subjects[1:]
    assert rows[-1] == (other_subject(TOWNSHIP), OTHER_LABEL)  # payments outside the registry
    return data, rows


def check_rows(ws, data, rows, first: int) -> None:
    """Every village, then 其他（未落户）, once each; 合计 in none of them."""
    for offset, (subject, label) in enumerate(rows):
        row = first + offset
        assert ws[f"B{row}"].value == label
        assert ws[f"A{row}"].value == (None if label == OTHER_LABEL else offset + 1)
        for letters, code in COLUMNS.items():
            fen_or_count = data.value(code, subject)
            value = number(ws[f"{letters}{row}"].value)
            if code == "I_PAID_TOTAL":
                assert value == Decimal(fen_or_count) / 100
            else:
                assert value == fen_or_count
    labels = [ws[f"B{r}"].value for r in range(first, first + len(rows))]
    assert "合计" not in labels


@needs_libreoffice
def test_total_row_keeps_the_departments_sum_over_inserted_rows(pool, tmp_path) -> None:
    first, _, total_row = payment_workbook(tmp_path / "payments.xlsx", total="top", prepared=3)
    mapping = write_mapping(tmp_path / "payments.toml", first=first, total_row=total_row)
    out = fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "filled.xlsx", today=TODAY)
    data, rows = expected_rows(pool)
    assert len(rows) > 3  # rows were inserted into the prepared block
    end = first + len(rows) - 1

    ws = load_workbook(out).active
    check_rows(ws, data, rows, first)
    for letters in SUMMED:  # the department's formula, grown over every inserted row
        assert ws[f"{letters}{total_row}"].value == f"=SUM({letters}{first}:{letters}{end})"
    # Where the workbook has no formula, our 合计 (the sum of the rows shown) goes in.
    assert ws[f"F{total_row}"].value == data.value("P_60PLUS", TOWNSHIP)
    assert ws[f"B{total_row}"].value == "合计" and ws[f"A{total_row}"].value is None

    calc = recalculated(out, tmp_path)
    for letters, code in COLUMNS.items():
        column = [number(calc[f"{letters}{r}"].value) for r in range(first, end + 1)]
        total = number(calc[f"{letters}{total_row}"].value)
        township = data.value(code, TOWNSHIP)
        if code == "I_PAID_TOTAL":
            township = Decimal(township) / 100
        assert total == sum(column) == township, letters
    # The back-flow data's own figure for the whole township agrees.
    with pool.store.sessions() as session:
        from sqlalchemy import select

        from govshare_desktop.core.store.models import FormValue

        computed = session.scalar(
            select(FormValue.computed_value).where(
                FormValue.element == "I_PAID_TOTAL",
                FormValue.subject == TOWNSHIP,
                FormValue.period == str(PERIOD),
            )
        )
    assert number(calc[f"E{total_row}"].value) == Decimal(computed) / 100


@needs_libreoffice
def test_without_total_row_the_township_is_not_counted_twice(pool, tmp_path) -> None:
    first, last, total_row = payment_workbook(
        tmp_path / "payments.xlsx", total="bottom", prepared=10
    )
    mapping = write_mapping(tmp_path / "payments.toml", first=first, total_row=None)
    out = fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "filled.xlsx", today=TODAY)
    data, rows = expected_rows(pool)
    ws = load_workbook(out).active
    assert ws[f"B{first}"].value == rows[0][1]  # the first village, not 合计
    check_rows(ws, data, rows, first)
    for letters in SUMMED:
        assert ws[f"{letters}{total_row}"].value == f"=SUM({letters}{first}:{letters}{last})"

    calc = recalculated(out, tmp_path)
    households = number(calc[f"D{total_row}"].value)
    assert households == data.value("I_PAID_PEOPLE", TOWNSHIP)  # once, not twice
    assert (
        number(calc[f"E{total_row}"].value) == Decimal(data.value("I_PAID_TOTAL", TOWNSHIP)) / 100
    )
    assert number(calc[f"C{total_row}"].value) == data.value("I_RECEIVING", TOWNSHIP)


@needs_libreoffice
def test_a_one_row_block_grows_its_sum(pool, tmp_path) -> None:
    first, last, total_row = payment_workbook(
        tmp_path / "payments.xlsx", total="bottom", prepared=1
    )
    assert (first, last, total_row) == (4, 4, 5)
    mapping = write_mapping(tmp_path / "payments.toml", first=first, total_row=None, last=last)
    out = fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "filled.xlsx", today=TODAY)
    data, rows = expected_rows(pool)
    end = first + len(rows) - 1
    ws = load_workbook(out).active
    check_rows(ws, data, rows, first)
    moved = total_row + len(rows) - 1
    assert ws[f"B{moved}"].value == "合计"
    assert ws[f"C{moved}"].value == f"=SUM(C{first}:C{end})"
    calc = recalculated(out, tmp_path)
    assert number(calc[f"D{moved}"].value) == data.value("I_PAID_PEOPLE", TOWNSHIP)


def test_a_range_over_a_one_row_block_grows_only_when_asked() -> None:
    assert _adjust_formula("=SUM(C4:C4)+C5", "S", 5, 6) == "=SUM(C4:C4)+C11"
    assert _adjust_formula("=SUM(C4:C4)+C5", "S", 5, 6, 4) == "=SUM(C4:C10)+C11"
    assert _adjust_formula("=SUM(C3:C4)", "S", 5, 6, 4) == "=SUM(C3:C4)"  # starts above the block


POPULATION = {"C": "H_TOTAL", "D": "P_TOTAL", "E": "P_MALE", "F": "P_60PLUS"}


@needs_libreoffice
@pytest.mark.parametrize("total", ["top", "bottom"])
def test_a_registry_form_keeps_the_departments_sums(pool, tmp_path, total: str) -> None:
    """A form whose rows are the villages only (no 其他（未落户）): with ``total_row`` the SUM
    stays in it; without, 合计 goes into no village row and the SUM counts each village once."""
    first, last, total_row = payment_workbook(tmp_path / "payments.xlsx", total=total, prepared=8)
    mapping = write_mapping(
        tmp_path / "payments.toml",
        first=first,
        total_row=total_row if total == "top" else None,
        template="wj_population",
        columns=POPULATION,
    )
    out = fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "filled.xlsx", today=TODAY)
    data = pool.collect("wj_population", TOWNSHIP, PERIOD)
    villages = data.subjects[1:]
    ws = load_workbook(out).active
    assert [ws[f"B{first + i}"].value for i in range(len(villages))] == [v for _, v in villages]
    for letters in SUMMED:
        assert ws[f"{letters}{total_row}"].value == f"=SUM({letters}{first}:{letters}{last})"
    calc = recalculated(out, tmp_path)
    for letters, code in POPULATION.items():
        if letters in SUMMED or total == "top":
            assert number(calc[f"{letters}{total_row}"].value) == data.value(code, TOWNSHIP)
