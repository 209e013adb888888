"""Forms laid out as their paper reads (the layout the form view, Excel and PDF share), filled from
the one value pool: 统计表 with merged headers, 花名册 with totals, 登记表 with signature areas."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.sheet import (
    FOOTER,
    HEADER,
    LABEL,
    MARK,
    NUMBER,
    SIGNATURE,
    STUB,
    TITLE,
    TOTAL,
    build_sheet,
)
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.store.models import Person

T = "441900199000"
V = "441900199201"
P = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 30)


def _cells(sheet, role):
    return [(r, c, cell) for r, c, cell in sheet if cell.role == role]


def test_a_table_reads_like_the_paper_form(pool: FormValues) -> None:
    data = pool.collect("ga_household_change", T, P)
    sheet = build_sheet(data)
    (title,) = _cells(sheet, TITLE)
    assert title[:2] == (0, 0) and title[2].colspan == sheet.columns
    assert title[2].text == "户籍人口及变动情况统计表"
    marks = _cells(sheet, MARK)
    assert marks[0][2].text == "表　　号：乡统1表"
    assert all(c + cell.colspan == sheet.columns for _, c, cell in marks)  # top right
    headers = {cell.text: (r, c, cell) for r, c, cell in _cells(sheet, HEADER)}
    assert headers["期末户数"][2].colspan == 2  # a group over 合计 and 其中：集体户
    assert headers["村（社区）"][2].rowspan == 2
    assert headers["期末户籍人口"][2].rowspan == 2  # no group: spans both header rows
    numbers = [cell.text for _, _, cell in _cells(sheet, NUMBER)]
    assert numbers == ["甲", "1", "2", "3", "4", "5"]
    stubs = [cell.text for _, _, cell in _cells(sheet, STUB)]
    assert stubs[0] == "合计" and len(stubs) == 7
    stored = pool.values(P, [T])
    total_row = _cells(sheet, STUB)[0][0]
    assert sheet.cells[(total_row, 1)].value == int(stored["H_TOTAL"][T].value)
    assert sheet.cells[(total_row, 1)].type == "integer"
    (footer,) = _cells(sheet, FOOTER)
    for name in data.template.signatories:
        assert name in footer[2].text
    first, last = sheet.table_rows
    assert first == headers["村（社区）"][0] and last == total_row + 6
    assert sheet.header_rows == (first, first + 2)  # two header rows and the 栏次 row


def test_three_level_headers_from_a_template_written_here(pool: FormValues, tmp_path: Path) -> None:
    (tmp_path / "three.toml").write_text(
        """
id = "three"
title = "三级表头测试表"
department = "测试"
kind = "table"
period_type = "month"
[[columns]]
element = "P_TOTAL"
[[columns]]
group = ["人口结构", "按年龄"]
element = "P_60PLUS"
[[columns]]
group = ["人口结构", "按年龄"]
element = "P_80PLUS"
[[columns]]
group = "人口结构"
element = "P_MALE"
""",
        encoding="utf-8",
    )
    templates, problems = load_templates(pool.dictionary, tmp_path)
    assert problems == []
    pool.templates = templates
    sheet = build_sheet(pool.collect("three", T, P))
    headers = {cell.text: (r, c, cell) for r, c, cell in _cells(sheet, HEADER)}
    top = headers["村（社区）"][0]
    assert headers["村（社区）"][2].rowspan == 3
    assert headers["人口结构"][:2] == (top, 2) and headers["人口结构"][2].colspan == 3
    assert headers["按年龄"][:2] == (top + 1, 2) and headers["按年龄"][2].colspan == 2
    male = pool.dictionary["P_MALE"].name + "（人）"  # no unit line: the unit goes in the header
    assert headers[male][:2] == (top + 1, 4) and headers[male][2].rowspan == 2
    assert headers[pool.dictionary["P_TOTAL"].name + "（人）"][2].rowspan == 3


def test_a_roster_lists_the_people_its_filter_selects_and_totals_money(pool: FormValues) -> None:
    data = pool.collect("mz_elderly_allowance_roster", T, P)
    ids = [s for s, _ in data.subjects]
    assert ids and all(data.value("P_AGE", s) >= 80 for s in ids)
    pool.set("S_ALLOWANCE_AMOUNT", ids[0], P, "200", user="clerk", now=NOW)
    pool.set("S_ALLOWANCE_AMOUNT", ids[1], P, "300.5", user="clerk", now=NOW)
    data = pool.collect("mz_elderly_allowance_roster", T, P)
    sheet = build_sheet(data)
    id_column = 1 + data.template.elements.index("P_ID_NUMBER")
    first_row = _cells(sheet, STUB)[0][0]
    id_cell = sheet.cells[(first_row, id_column)]
    assert id_cell.value == ids[0] and isinstance(id_cell.value, str) and id_cell.type == "text"
    assert not id_cell.editable  # registry facts are corrected by 校核纠错, not in a form
    totals = {c: cell for _, c, cell in _cells(sheet, TOTAL)}
    money_column = 1 + data.template.elements.index("S_ALLOWANCE_AMOUNT")
    assert totals[money_column].value == Decimal("500.50")
    assert totals[money_column].text == "500.50"
    assert any(cell.text == f"共 {len(ids)} 人" for cell in totals.values())
    # The phone number is a registry gap where missing: only the allowance is the clerk's to fill.
    assert data.completeness() == (2, len(ids))


def test_a_masked_roster_hides_personal_data(pool: FormValues) -> None:
    data = pool.collect("mz_elderly_allowance_roster", T, P)
    sheet = build_sheet(data, masked=True)
    person = data.subjects[0][0]
    row = _cells(sheet, STUB)[0][0]
    elements = data.template.elements
    id_cell = sheet.cells[(row, 1 + elements.index("P_ID_NUMBER"))]
    name_cell = sheet.cells[(row, 1 + elements.index("P_NAME"))]
    assert person not in id_cell.text and id_cell.value == id_cell.text
    assert data.value("P_NAME", person) not in name_cell.text
    assert sheet.cells[(row, 1 + elements.index("S_ALLOWANCE_AMOUNT"))].editable


def test_an_individual_form_from_the_shared_pool(pool: FormValues) -> None:
    roster = pool.collect("mz_elderly_allowance_roster", T, P)
    person = roster.subjects[0][0]
    pool.set("S_ALLOWANCE_AMOUNT", person, P, "200", user="clerk", now=NOW)  # in the roster…
    data = pool.collect("mz_elderly_allowance_application", person, P)
    sheet = build_sheet(data)
    assert sheet.position("S_ALLOWANCE_AMOUNT", person) is not None
    row, column = sheet.position("S_ALLOWANCE_AMOUNT", person)
    assert sheet.cells[(row, column)].text == "200.00"  # …shows in the application form
    assert column + sheet.cells[(row, column)].colspan == sheet.columns  # fills its row
    labels = [cell.text for _, _, cell in _cells(sheet, LABEL)]
    assert labels[:3] == ["姓名", "性别", "年龄"]
    for signature in data.template.signatures:
        assert signature in labels
    assert len(_cells(sheet, SIGNATURE)) == len(data.template.signatures)
    assert data.unit.startswith("青禾镇") and len(data.unit) > 3  # the person's village
    assert not sheet.landscape


def test_an_individual_form_is_refused_for_someone_the_filter_excludes(pool: FormValues) -> None:
    with pool.store.sessions() as session:
        young = session.scalar(select(Person.id_number).where(Person.birth_date > date(1990, 1, 1)))
    with pytest.raises(UserError, match="不符合“高龄津贴申请表”的填报条件"):
        pool.collect("mz_elderly_allowance_application", young, P)


def test_a_township_table_is_complete_only_when_every_row_is(pool: FormValues) -> None:
    data = pool.collect("mz_elderly", T, P)
    rows = len(data.subjects)
    villages = rows - 1  # the 合计 row is worked out from the villages, not filled
    assert rows == 7 and data.completeness() == (3 * villages, 4 * villages)
    with pytest.raises(UserError, match=f"还有 {villages} 项未填写"):
        pool.submit("mz_elderly", T, P, user="clerk", now=NOW)
    for subject, _ in data.subjects[1:]:
        eighty = pool.values(P, [subject])["P_80PLUS"][subject].value
        pool.set("S_ELDERLY_ALLOWANCE", subject, P, eighty, user="clerk", now=NOW)
    pool.submit("mz_elderly", T, P, user="clerk", now=NOW)
    # The township's submitted table has a row for every village: those values are locked too.
    with pytest.raises(UserError, match="已锁定"):
        pool.set("S_ELDERLY_ALLOWANCE", V, P, "1", user="clerk", now=NOW)
    assert not any(cell.editable for _, _, cell in build_sheet(pool.collect("mz_elderly", T, P)))
