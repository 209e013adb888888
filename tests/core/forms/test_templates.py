"""Report templates: the starter set, broken files, a template written here, rules over real values."""

from __future__ import annotations

from pathlib import Path

import pytest

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.compute import compute_area_values, other_subject
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import evaluate_rules, load_templates

GOOD = """
id = "test_form"
title = "测试统计表"
department = "统计"
kind = "table"
period_type = "month"
[[columns]]
element = "P_TOTAL"
[[columns]]
group = "老年人"
element = "P_60PLUS"
header = "60岁以上"
[[rules]]
check = "P_60PLUS <= P_TOTAL"
message = "60岁以上人数不能多于总人口"
"""


def test_starter_set_loads_and_shares_elements_across_departments() -> None:
    templates, problems = load_templates(load_dictionary())
    assert problems == []
    assert sum(t.kind in ("table", "roster") for t in templates.values()) >= 8
    assert templates["mz_elderly_allowance_roster"].filter == {"status": "normal", "age_min": 80}
    departments = {t.department for t in templates.values()}
    assert len(departments) >= 4
    users_of_60plus = {t.department for t in templates.values() if "P_60PLUS" in t.elements}
    assert {"民政", "人社", "卫健"} <= users_of_60plus
    household = templates["ga_household_change"]
    assert household.legal["表号"] == "乡统1表"
    assert [c.group for c in household.columns][:2] == ["期末户数", "期末户数"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('id = "test_form"\n', ""), "缺少字段“id”"),
        (lambda t: t.replace('element = "P_TOTAL"', 'element = "NOT_IN_DICT"'), "不在数据项字典中"),
        (lambda t: t.replace('kind = "table"', 'kind = "chart"'), "kind“chart”无效"),
        (lambda t: t.replace("P_60PLUS <= P_TOTAL", "P_60PLUS <= "), "第 1 条规则"),
        (
            lambda t: t.replace("P_60PLUS <= P_TOTAL", "__import__('os').system('echo hi')"),
            "第 1 条规则",
        ),
        (lambda t: t.replace("P_60PLUS <= P_TOTAL", "UNKNOWN_X > 0"), "UNKNOWN_X"),
        (
            lambda t: t.replace('header = "60岁以上"', 'header = "60岁以上"\ntype = "integer"'),
            "不认识的字段",
        ),
    ],
)
def test_a_broken_template_names_its_file_and_the_others_still_load(
    tmp_path: Path, change, message: str
) -> None:
    (tmp_path / "good.toml").write_text(GOOD.replace("test_form", "good_form"), encoding="utf-8")
    (tmp_path / "broken.toml").write_text(change(GOOD), encoding="utf-8")
    templates, problems = load_templates(load_dictionary(), tmp_path)
    assert list(templates) == ["good_form"]
    assert len(problems) == 1
    assert "broken.toml" in str(problems[0]) and message in str(problems[0])


def test_a_new_form_is_a_file_and_nothing_else(demo_store, tmp_path: Path) -> None:
    (tmp_path / "new.toml").write_text(GOOD, encoding="utf-8")
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary, tmp_path)
    assert problems == []
    template = templates["test_form"]
    township = "441900199000"
    elements = [dictionary[code] for code in template.elements]
    values = compute_area_values(
        demo_store, elements, Period.parse("2026-10"), township_code=township
    )
    areas = list(values["P_TOTAL"])
    # Six villages, the 「其他（未落户）」 subject (nobody in the registry lacks a village) and 合计.
    assert township in areas and len(areas) == 8
    assert values["P_TOTAL"][other_subject(township)] == 0
    assert values["P_TOTAL"][township] == sum(
        v for a, v in values["P_TOTAL"].items() if a != township
    )
    results = evaluate_rules(template, values, areas)
    assert len(results) == 8 and all(r.passed for r in results)


def test_rules_flag_violations_and_unknowns() -> None:
    templates, _ = load_templates(load_dictionary())
    template = templates["mz_elderly"]
    values = {"P_60PLUS": {"v": 10}, "P_80PLUS": {"v": 12}, "S_ELDERLY_ALLOWANCE": {"v": None}}
    results = {(r.rule.message, r.area): r.passed for r in evaluate_rules(template, values, ["v"])}
    assert results[("80周岁及以上人数不能多于60周岁及以上人数", "v")] is False
    assert (
        results[("高龄津贴发放人数多于80周岁及以上户籍人口，请核对", "v")] is None
    )  # not entered yet
