"""合计 of a 统计表: worked out from the rows shown, never typed — the sum for an additive element, a
declared formula (a rate) or the row's own value otherwise — and a 「其他（未落户）」 row for the
records that belong to no village, so that every column adds up."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.compute import OTHER_LABEL, other_subject
from govshare_desktop.core.forms.dictionary import FormsError, load_dictionary
from govshare_desktop.core.forms.sheet import build_sheet
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import DERIVED, FormValues
from govshare_desktop.core.resources import resource_path
from govshare_desktop.core.store.models import FormValue

T = "441900199000"
OTHER = other_subject(T)
P = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 10, 0)
TABLES = sorted(t.id for t in load_templates(load_dictionary())[0].values() if t.kind == "table")


def _villages(data) -> list[str]:
    return [s for s, label in data.subjects if s != T and s != OTHER]


def _cell(sheet, code: str, subject: str):
    where = sheet.position(code, subject)
    assert where is not None, (code, subject)
    return sheet.cells[where]


# ---------------------------------------------------------------- an entered element's 合计


def test_an_entered_total_is_the_sum_of_the_villages_and_cannot_be_typed(pool) -> None:
    data = pool.collect("yb_resident_medical", T, P)
    villages = _villages(data)
    typed = [10, 12, 9, 11, 8, 14][: len(villages)]
    for village, number in zip(villages, typed, strict=True):
        pool.set("S_LOW_INCOME", village, P, str(number), user="clerk", now=NOW)
    assert sum(typed) == 64
    # The 合计 cannot be typed as something else (the clerk's 60 would pass every check) …
    with pytest.raises(UserError, match="合计由各行相加自动得出"):
        pool.set("S_LOW_INCOME", T, P, "60", user="clerk", now=NOW)
    # … and a 合计 stored before it was worked out (an older database) is not what the form says.
    with pool.store.transaction() as session:
        session.add(
            FormValue(
                element="S_LOW_INCOME",
                subject=T,
                period=str(P),
                value="60",
                origin="entered",
                changed_by="clerk",
                changed_at=NOW,
            )
        )
    data = pool.collect("yb_resident_medical", T, P)
    assert data.value("S_LOW_INCOME", T) == 64
    assert data.origin("S_LOW_INCOME", T) == DERIVED and data.row("S_LOW_INCOME", T) is None
    cell = _cell(build_sheet(data), "S_LOW_INCOME", T)
    assert cell.text == "64" and cell.value == 64 and not cell.editable
    # Every cell of the form is filled once the villages are: 合计 is not a cell to fill.
    filled, required = data.completeness()
    assert filled == required == len(villages) * 3
    # A village's own form has no 合计 row; its cell stays the clerk's.
    village = pool.collect("yb_resident_medical", villages[0], P)
    assert _cell(build_sheet(village), "S_LOW_INCOME", villages[0]).editable


def test_a_computed_total_follows_an_overridden_village(pool) -> None:
    data = pool.collect("wj_population", T, P)
    village = _villages(data)[0]
    before = data.value("P_TOTAL", T)
    old = data.value("P_TOTAL", village)
    pool.set("P_TOTAL", village, P, str(old + 5), user="clerk", now=NOW, reason="新迁入未回流")
    data = pool.collect("wj_population", T, P)
    assert data.value("P_TOTAL", T) == before + 5
    assert not _cell(build_sheet(data), "P_TOTAL", T).editable
    with pytest.raises(UserError, match="合计由各行相加自动得出"):
        pool.set("P_TOTAL", T, P, "1", user="clerk", now=NOW, reason="x")


# ---------------------------------------------------------------- non-additive elements

RATE = """
[[element]]
code = "I_ENROLL_RATE"
name = "城乡居民养老保险参保率"
type = "decimal"
unit = "%"
level = "area"
source = "人社"
total = { formula = "round(I_RESIDENT_PENSION * 100 / P_16PLUS, 2)" }
"""

RATE_TEMPLATE = """
id = "rate_form"
title = "参保率统计表"
department = "人社"
kind = "table"
period_type = "month"

[[columns]]
element = "P_16PLUS"

[[columns]]
element = "I_RESIDENT_PENSION"

[[columns]]
element = "I_ENROLL_RATE"

[[columns]]
element = "S_LOW_INCOME"
total = "own"

[[columns]]
element = "S_ELDERLY_ALLOWANCE"
total = "none"
"""


def _rate_forms(tmp_path: Path, element: str = RATE, template: str = RATE_TEMPLATE):
    shipped = resource_path("forms", "elements.toml").read_text(encoding="utf-8")
    (tmp_path / "elements.toml").write_text(shipped + element, encoding="utf-8")
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "rate.toml").write_text(template, encoding="utf-8")
    dictionary = load_dictionary(tmp_path / "elements.toml")
    templates, problems = load_templates(dictionary, tmp_path / "templates")
    return dictionary, templates, problems


def test_a_rate_totals_by_its_formula_and_others_as_declared(demo_store, tmp_path) -> None:
    dictionary, templates, problems = _rate_forms(tmp_path)
    assert problems == []
    assert dictionary["I_ENROLL_RATE"].total_rule == "formula"
    pool = FormValues(demo_store, dictionary, templates)
    pool.prefill(P, township_code=T, user="clerk", now=NOW)
    data = pool.collect("rate_form", T, P)
    villages = _villages(data)
    for number, village in enumerate(villages, start=1):
        pool.set("I_ENROLL_RATE", village, P, f"{90 + number}.5", user="clerk", now=NOW)
        pool.set("S_ELDERLY_ALLOWANCE", village, P, str(number), user="clerk", now=NOW)
    pool.set("S_LOW_INCOME", T, P, "7", user="clerk", now=NOW)  # "own": the 合计 is filled
    data = pool.collect("rate_form", T, P)
    enrolled, adults = data.value("I_RESIDENT_PENSION", T), data.value("P_16PLUS", T)
    assert enrolled == sum(data.value("I_RESIDENT_PENSION", v) for v in villages)
    expected = (Decimal(enrolled) * 100 / adults).quantize(Decimal("0.01"))
    rate = data.value("I_ENROLL_RATE", T)
    assert rate == expected and rate != sum(data.value("I_ENROLL_RATE", v) for v in villages)
    assert data.value("S_LOW_INCOME", T) == 7
    assert data.value("S_ELDERLY_ALLOWANCE", T) is None  # "none": left blank
    sheet = build_sheet(data)
    assert _cell(sheet, "I_ENROLL_RATE", T).text == str(expected)
    assert not _cell(sheet, "I_ENROLL_RATE", T).editable
    assert _cell(sheet, "S_LOW_INCOME", T).editable
    assert not _cell(sheet, "S_ELDERLY_ALLOWANCE", T).editable
    with pytest.raises(UserError, match="自动计算"):
        pool.set("I_ENROLL_RATE", T, P, "50", user="clerk", now=NOW)
    assert "I_RESIDENT_PENSION * 100 / P_16PLUS" in data.total_note("I_ENROLL_RATE")


@pytest.mark.parametrize(
    ("element", "template", "message"),
    [
        (RATE.replace('{ formula = "round(', '"average" #'), None, "total“average”无效"),
        (RATE.replace("round(I_RESIDENT", "round(I_RESIDENT)"), None, "total.formula"),
        (RATE.replace("I_RESIDENT_PENSION *", "I_ENROLL_RATE *"), None, "不能引用数据项自身"),
        (RATE.replace("I_RESIDENT_PENSION *", "S_CONTACT_PHONE *"), None, "只能引用合计为各行之和"),
        (
            RATE.replace('type = "decimal"', 'type = "text"'),
            None,
            "不是数字：合计只能是 own 或 none",
        ),
        (RATE + 'total = "sum"\n', None, "格式错误"),  # a key given twice
        (RATE.replace('level = "area"', 'level = "person"'), None, "只有区域级数据项"),
        (
            RATE,
            RATE_TEMPLATE.replace('element = "P_16PLUS"', 'element = "P_TOTAL"'),
            "引用的数据项“P_16PLUS”不在本表的列中",
        ),
        (
            RATE,
            RATE_TEMPLATE.replace('element = "P_16PLUS"', 'element = "P_16PLUS"\ntotal = "own"'),
            "只能引用合计为各行之和",
        ),
        (RATE, RATE_TEMPLATE.replace('total = "none"', 'total = "half"'), "total“half”无效"),
    ],
)
def test_a_wrong_total_declaration_is_refused_at_load(
    tmp_path, element: str, template: str | None, message: str
) -> None:
    with pytest.raises(FormsError) as caught:
        _, _, problems = _rate_forms(tmp_path, element, template or RATE_TEMPLATE)
        if problems:
            raise problems[0]
    assert message in str(caught.value), str(caught.value)


def test_total_is_only_for_tables(tmp_path) -> None:
    roster = (
        'id = "r"\ntitle = "名册"\ndepartment = "民政"\nkind = "roster"\nperiod_type = "month"\n'
        '[[columns]]\nelement = "P_NAME"\ntotal = "sum"\n'
    )
    _, _, problems = _rate_forms(tmp_path, RATE, roster)
    assert len(problems) == 1 and "只有统计表有合计行" in str(problems[0])


# ---------------------------------------------------------------- 其他（未落户）


def test_payments_to_people_outside_the_registry_get_a_row_of_their_own(pool) -> None:
    data = pool.collect("rs_pension_payment", T, P)
    assert data.subjects[-1] == (OTHER, OTHER_LABEL)
    villages = _villages(data)
    # Without that row the villages do not add up to the township's payments.
    for code in ("I_PAID_TOTAL", "I_PAID_PEOPLE"):
        assert sum(data.value(code, v) for v in villages) < data.value(code, T)
        assert data.value(code, OTHER) > 0
    sheet = build_sheet(data)
    stubs = [cell.text for _, _, cell in sheet if cell.role == "stub"]
    assert stubs[0] == "合计" and stubs[-1] == OTHER_LABEL
    # Registry counts have nobody there; its cells come from back-flow data, like a village's.
    assert data.value("P_60PLUS", OTHER) == 0
    with pytest.raises(UserError, match="只有回流数据"):
        pool.set("S_LOW_INCOME", OTHER, P, "3", user="clerk", now=NOW)
    # A form without such records has no such row.
    assert all(s != OTHER for s, _ in pool.collect("wj_population", T, P).subjects)


def test_the_other_row_of_an_entered_column_is_blank_and_not_required(demo_store, tmp_path) -> None:
    form = (
        'id = "paid"\ntitle = "发放与低保"\ndepartment = "人社"\nkind = "table"\n'
        'period_type = "month"\n[[columns]]\nelement = "I_PAID_PEOPLE"\n'
        '[[columns]]\nelement = "S_LOW_INCOME"\n'
    )
    dictionary, templates, problems = _rate_forms(tmp_path, RATE, form)
    assert problems == []
    pool = FormValues(demo_store, dictionary, templates)
    pool.prefill(P, township_code=T, user="clerk", now=NOW)
    data = pool.collect("paid", T, P)
    assert data.subjects[-1] == (OTHER, OTHER_LABEL)
    assert data.derived("S_LOW_INCOME", OTHER) and data.value("S_LOW_INCOME", OTHER) is None
    assert not _cell(build_sheet(data), "S_LOW_INCOME", OTHER).editable
    filled, required = data.completeness()
    assert required == 2 * len(_villages(data)) + 1  # the other row's computed cell only
    assert filled == len(_villages(data)) + 1


def test_a_submitted_township_form_locks_its_other_row(pool) -> None:
    data = pool.collect("rs_pension_payment", T, P)
    pool.submit("rs_pension_payment", T, P, user="clerk", now=NOW)
    with pytest.raises(UserError, match="已锁定"):
        pool.set("I_PAID_PEOPLE", OTHER, P, "1", user="clerk", now=NOW, reason="核对")
    assert data.value("I_PAID_PEOPLE", OTHER) > 0


# ---------------------------------------------------------------- the invariant


@pytest.mark.parametrize("template_id", TABLES)
def test_every_total_is_the_sum_of_the_rows_shown(pool, template_id: str) -> None:
    """For every table template on the demo township: the 合计 shown is the sum of the rows shown,
    and for a computed element so is what the back-flow data says for the whole township."""
    data = pool.collect(template_id, T, P)
    rows = [s for s, _ in data.subjects if s != T]
    with pool.store.sessions() as session:
        township_computed = {
            row.element: int(row.computed_value)
            for row in session.scalars(
                select(FormValue).where(FormValue.subject == T, FormValue.period == str(P))
            )
            if row.computed_value is not None
        }
    for code in data.template.elements:
        if data.dictionary[code].type not in ("integer", "decimal", "money"):
            continue  # (every column of the shipped tables is a number, summed by default)
        shown = [data.value(code, s) for s in rows]
        total = (
            sum(v for v in shown if v is not None) if any(v is not None for v in shown) else None
        )
        assert data.value(code, T) == total, code
        if data.dictionary[code].computed:
            assert township_computed[code] == total, (template_id, code)
