"""Forms delivered as data: templates (versioned) and dictionary additions kept in the database,
the version a period is filled with, a submitted form keeping its version, and what is refused
— on the demo township's real SQLite store, with real template files."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.forms import form_sheets
from govshare_desktop.core.forms.catalog import (
    ORIGIN_FILE,
    ORIGIN_PACKAGE,
    FormCatalog,
    TemplateSet,
    check_template_text,
    check_version,
    install_elements,
    install_template,
    load_catalog,
    version_key,
)
from govshare_desktop.core.forms.dictionary import FormsError, load_dictionary, load_toml
from govshare_desktop.core.forms.templates import parse_template
from govshare_desktop.core.forms.values import SUBMITTED, FormValues
from govshare_desktop.core.resources import resource_path
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import FormStatus, StoredElements, StoredTemplate

T = "441900199000"
V = "441900199201"
OCT, NOV = Period.parse("2026-10"), Period.parse("2026-11")
NOW = datetime(2026, 11, 20, 9, 0)
NEW_TITLE = "老年人口及高龄津贴情况统计表（2027版）"
BUILT_IN_TEXT = resource_path("forms", "templates", "mz_elderly.toml").read_text(encoding="utf-8")


def newer_elderly(version: str = "2027.1") -> str:
    """The built-in 民政 form, as a department would send its next version: a new title, and
    高龄津贴 no longer on it (60+ and 80+ only)."""
    text = BUILT_IN_TEXT.replace("老年人口及高龄津贴情况统计表", NEW_TITLE)
    text = text.replace('[[columns]]\nelement = "S_ELDERLY_ALLOWANCE"\n', "")
    text = text.split("[[rules]]")[0] + '[[rules]]\ncheck = "P_80PLUS <= P_60PLUS"\n'
    text += 'severity = "error"\nmessage = "80周岁及以上人数不能多于60周岁及以上人数"\n'
    return f'version = "{version}"\n' + text


NEW_FORM = """
id = "mz_disabled"
version = "2027.1"
title = "残疾人两项补贴情况统计表"
department = "民政"
kind = "table"
period_type = "month"

[[columns]]
element = "P_TOTAL"

[[columns]]
element = "S_DISABLED_SUBSIDY"
"""

NEW_ELEMENTS = """
[[element]]
code = "S_DISABLED_SUBSIDY"
name = "享受残疾人两项补贴人数"
type = "integer"
level = "area"
unit = "人"
source = "民政（手工填报）"
"""


def install(
    store: Store,
    text: str,
    name: str,
    *,
    effective_from: str = "",
    origin: str = ORIGIN_FILE,
) -> StoredTemplate | None:
    with store.transaction() as session:
        return install_template(
            session,
            text,
            name,
            dictionary=load_catalog(session).dictionary,
            origin=origin,
            package_id="T-2027-001" if origin == ORIGIN_PACKAGE else None,
            effective_from=effective_from,
            user="admin",
            now=NOW,
        )


def add_elements(store: Store, text: str, name: str = "elements.toml") -> list[str]:
    with store.transaction() as session:
        return install_elements(
            session,
            text,
            name,
            dictionary=load_catalog(session).dictionary,
            package_id=None,
            user="admin",
            now=NOW,
        )


def reloaded(pool: FormValues) -> FormValues:
    """The pool as the window or a command builds it after an installation."""
    catalog = load_catalog(pool.store)
    assert catalog.problems == []
    return FormValues(pool.store, catalog.dictionary, catalog.templates)


def submit_village(pool: FormValues, period: Period) -> None:
    if period != OCT:
        pool.prefill(period, township_code=T, user="clerk", now=NOW)
    data = pool.collect("mz_elderly", V, period)
    for column in data.template.columns:
        if data.value(column.element, V) is None:
            pool.set(column.element, V, period, "0", user="clerk", now=NOW)
    pool.submit("mz_elderly", V, period, user="clerk", now=NOW)


# ---------------------------------------------------------------- versions


def test_versions_sort_as_numbers_and_the_built_in_one_first() -> None:
    ordered = ["", "0.9", "2026.1", "2027", "2027.1", "2027.2", "2027.10", "2028"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert check_version("2027.1", "x.toml") == "2027.1"
    for bad in ("2027.01", "v2", "2027.", "", "1..2", "２０２７"):
        with pytest.raises(FormsError, match=r"x\.toml 的 version“.*”无效"):
            check_version(bad, "x.toml")
    with pytest.raises(FormsError, match=r"x\.toml 的字段“version”应写成带引号的文字"):
        check_template_text("version = 2027.1\n" + BUILT_IN_TEXT, "x.toml", load_dictionary())


def test_built_in_templates_have_the_built_in_version(pool: FormValues) -> None:
    catalog = load_catalog(pool.store)
    assert catalog.problems == [] and catalog.dictionary == load_dictionary()
    elderly = catalog.templates["mz_elderly"]
    assert (elderly.version, elderly.version_label) == ("", "内置")
    assert list(catalog.templates) == list(pool.templates)  # the same ids in the same order
    assert pool.template_for("mz_elderly", OCT, V) is pool.templates["mz_elderly"]


# ---------------------------------------------------------------- installing


def test_a_new_version_applies_from_its_first_period(pool: FormValues) -> None:
    row = install(pool.store, newer_elderly(), "mz_elderly.toml", effective_from="2027-01")
    assert row is not None and (row.template_id, row.version, row.effective_from) == (
        "mz_elderly",
        "2027.1",
        "2027-01",
    )
    templates = load_catalog(pool.store).templates
    assert [t.version for t in templates.versions("mz_elderly")] == ["", "2027.1"]
    assert templates["mz_elderly"].title == NEW_TITLE  # the mapping: the newest
    assert templates.for_period("mz_elderly", Period.parse("2026-12")).version == ""
    assert templates.for_period("mz_elderly", Period.parse("2026Q4")).version == ""
    assert templates.for_period("mz_elderly", Period.parse("2027-01")).title == NEW_TITLE
    assert templates.for_period("mz_elderly", Period.parse("2027Q1")).title == NEW_TITLE
    entry = templates.installed("mz_elderly")[-1]
    assert (entry.origin, str(entry.effective_from), entry.installed_by) == (
        "file",
        "2027-01",
        "admin",
    )


def test_a_new_form_not_yet_in_effect_says_from_when(pool: FormValues) -> None:
    assert add_elements(pool.store, NEW_ELEMENTS) == ["S_DISABLED_SUBSIDY"]
    install(
        pool.store, NEW_FORM, "mz_disabled.toml", effective_from="2027-01", origin=ORIGIN_PACKAGE
    )
    values = reloaded(pool)
    assert list(values.templates)[-1] == "mz_disabled"  # after the built-in ones
    with pytest.raises(UserError) as refused:
        values.collect("mz_disabled", T, Period.parse("2026-10"))
    assert refused.value.message == (
        "报表模板“残疾人两项补贴情况统计表”在 2026-10 期尚未生效（自 2027-01 期起适用）"
    )
    january = values.collect("mz_disabled", T, Period.parse("2027-01"))
    assert [c.element for c in january.template.columns] == ["P_TOTAL", "S_DISABLED_SUBSIDY"]
    assert "mz_disabled" not in values.templates.in_effect(OCT)
    entry = values.templates.installed("mz_disabled")[0]
    assert (entry.origin, entry.package_id) == ("package", "T-2027-001")


def test_a_submitted_form_keeps_the_version_it_was_filled_with(pool: FormValues) -> None:
    submit_village(pool, OCT)
    with pool.store.sessions() as session:
        pinned = session.scalar(select(FormStatus.template_version).where(FormStatus.area == V))
    assert pinned == ""  # the built-in version
    # The department's next version, for every period — October was already submitted.
    install(pool.store, newer_elderly(), "mz_elderly_2027.toml")
    values = reloaded(pool)
    october = values.collect("mz_elderly", V, OCT)
    assert october.template.title == "老年人口及高龄津贴情况统计表"
    assert "S_ELDERLY_ALLOWANCE" in october.template.elements and october.status == SUBMITTED
    november = values.collect("mz_elderly", V, NOV)
    assert november.template.title == NEW_TITLE
    assert "S_ELDERLY_ALLOWANCE" not in november.template.elements
    # Exports read the same version as the screen.
    (sheet,) = form_sheets(values, "mz_elderly", OCT, area=V)
    assert sheet.data.template.title == "老年人口及高龄津贴情况统计表"
    # What October's form used stays locked, even an item the new version dropped.
    with pytest.raises(UserError, match="用于已上报的报表“老年人口及高龄津贴情况统计表”"):
        values.set("S_ELDERLY_ALLOWANCE", V, OCT, "5", user="clerk", now=NOW)
    values.set("S_ELDERLY_ALLOWANCE", V, NOV, "5", user="clerk", now=NOW)  # not on November's
    # Returned and submitted again: still the version it was first filled with.
    reviewer = FormValues(
        values.store.acting(Principal("wang", Role.REVIEWER)), values.dictionary, values.templates
    )
    reviewer.return_("mz_elderly", V, OCT, reason="核对", user="wang", now=NOW)
    values.submit("mz_elderly", V, OCT, user="clerk", now=NOW)
    assert values.collect("mz_elderly", V, OCT).template.version == ""
    submit_village(values, NOV)
    with pool.store.sessions() as session:
        pins = dict(session.execute(select(FormStatus.period, FormStatus.template_version)).all())
    assert pins == {"2026-10": "", "2026-11": "2027.1"}


def test_a_pinned_version_no_longer_installed_is_said(pool: FormValues) -> None:
    submit_village(pool, OCT)
    with pool.store.transaction() as session:
        session.execute(update(FormStatus).values(template_version="2025.3"))
    with pytest.raises(UserError, match=r"按模板版本 2025\.3 填报上报，本机已没有该版本"):
        pool.collect("mz_elderly", V, OCT)
    # …and what it may have used stays locked.
    with pytest.raises(UserError, match="已锁定"):
        pool.set("S_ELDERLY_ALLOWANCE", V, OCT, "5", user="clerk", now=NOW)


def test_the_same_text_again_is_no_change(pool: FormValues) -> None:
    assert install(pool.store, newer_elderly(), "mz_elderly.toml") is not None
    assert install(pool.store, newer_elderly(), "again.toml", origin=ORIGIN_PACKAGE) is None
    with pool.store.sessions() as session:
        assert len(list(session.scalars(select(StoredTemplate)))) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            newer_elderly("2026.1"),
            "报表模板 mz_elderly.toml 的版本 2026.1 早于本机已有的 2027.1，不能安装",
        ),
        (
            newer_elderly().replace("（2027版）", "（2027修订）"),
            "报表模板 mz_elderly.toml 的版本 2027.1 本机已有，内容却不同，不能安装"
            "（修改过的模板须用更高的版本号）",
        ),
        (
            BUILT_IN_TEXT.replace("老年人口及", "老年人口与"),
            "报表模板 mz_elderly.toml 的 id“mz_elderly”本机已有（“老年人口与高龄津贴情况统计表”），"
            '作为新版本安装须写明字段“version”（如 version = "2027.1"）',
        ),
    ],
)
def test_older_or_equal_versions_are_refused(pool: FormValues, text: str, message: str) -> None:
    install(pool.store, newer_elderly(), "mz_elderly_2027.toml")
    with pytest.raises(FormsError) as refused:
        install(pool.store, text, "mz_elderly.toml")
    assert refused.value.message == message
    assert [t.version for t in load_catalog(pool.store).templates.versions("mz_elderly")] == [
        "",
        "2027.1",
    ]


def test_the_built_in_text_itself_is_already_installed(pool: FormValues) -> None:
    assert install(pool.store, BUILT_IN_TEXT, "mz_elderly.toml") is None


def test_a_broken_template_is_refused_as_forms_check_says(pool: FormValues, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(NEW_FORM.replace("S_DISABLED_SUBSIDY", "NOPE"), encoding="utf-8")
    with pytest.raises(FormsError) as checked:  # what `govshare forms check` has always said
        parse_template(load_toml(path), path.name, load_dictionary())
    with pytest.raises(FormsError) as refused:
        install(pool.store, path.read_text(encoding="utf-8"), path.name)
    assert (
        refused.value.message
        == checked.value.message
        == (
            "报表模板 broken.toml 第 2 列引用的数据项“NOPE”不在数据项字典中"
            "（模板只能引用，不能定义数据项）"
        )
    )
    path.write_text(NEW_FORM.replace("[[columns]]", "[[columns]", 1), encoding="utf-8")
    with pytest.raises(FormsError, match=r"文件 broken\.toml 格式错误：.*line 9, column 10"):
        install(pool.store, path.read_text(encoding="utf-8"), path.name)
    with pytest.raises(FormsError, match=r"broken\.toml 的起用统计期无效"):
        install(pool.store, newer_elderly(), "broken.toml", effective_from="2027-13")
    with pool.store.sessions() as session:
        assert list(session.scalars(select(StoredTemplate))) == []


# ---------------------------------------------------------------- the dictionary


def test_new_elements_then_a_template_that_uses_them(pool: FormValues) -> None:
    with pytest.raises(FormsError, match="“S_DISABLED_SUBSIDY”不在数据项字典中"):
        install(pool.store, NEW_FORM, "mz_disabled.toml")
    assert add_elements(pool.store, NEW_ELEMENTS) == ["S_DISABLED_SUBSIDY"]
    assert add_elements(pool.store, NEW_ELEMENTS, "again.toml") == []  # the same definition
    assert install(pool.store, NEW_FORM, "mz_disabled.toml") is not None
    values = reloaded(pool)
    assert values.dictionary["S_DISABLED_SUBSIDY"].name == "享受残疾人两项补贴人数"
    values.set("S_DISABLED_SUBSIDY", V, OCT, "3", user="clerk", now=NOW)
    assert values.collect("mz_disabled", V, OCT).value("S_DISABLED_SUBSIDY", V) == 3
    with pool.store.sessions() as session:
        assert len(list(session.scalars(select(StoredElements)))) == 1


def test_an_element_is_defined_once(pool: FormValues) -> None:
    redefined = NEW_ELEMENTS + (
        '\n[[element]]\ncode = "P_TOTAL"\nname = "总人口"\ntype = "integer"\nlevel = "area"\n'
    )
    with pytest.raises(FormsError) as refused:
        add_elements(pool.store, redefined, "county.toml")
    assert refused.value.message == (
        "数据项字典 county.toml 中的数据项 P_TOTAL 与本机已有的“户籍人口数”定义不同："
        "一表通中每个数据项只能定义一次，不能重新定义"
    )
    with pool.store.sessions() as session:
        assert list(session.scalars(select(StoredElements))) == []  # nothing of the file


# ---------------------------------------------------------------- loading


def test_a_stored_text_that_no_longer_reads_is_a_problem_not_a_crash(pool: FormValues) -> None:
    install(pool.store, newer_elderly(), "mz_elderly.toml")
    with pool.store.transaction() as session:
        session.add(
            StoredTemplate(
                template_id="gone",
                version="1",
                effective_from="",
                file_name="gone.toml",
                source='id = "gone"\nversion = "1"\n[[columns]\n',
                origin="file",
                installed_by="admin",
                installed_at=NOW,
            )
        )
    catalog = load_catalog(pool.store)
    assert isinstance(catalog, FormCatalog) and "gone" not in catalog.templates
    (problem,) = catalog.problems
    assert "已安装的报表模板 gone.toml（版本 1）已不能使用" in problem.message
    assert catalog.templates["mz_elderly"].title == NEW_TITLE


def test_a_plain_mapping_is_the_built_in_templates(pool: FormValues) -> None:
    assert isinstance(pool.templates, TemplateSet)
    assert pool.templates.versions("nope") == ()
    with pytest.raises(UserError, match="没有报表模板“nope”"):
        pool.template_for("nope", OCT)


def test_loading_the_catalog_is_quick(pool: FormValues) -> None:
    add_elements(pool.store, NEW_ELEMENTS)
    for n in range(20):
        install(pool.store, newer_elderly(f"2027.{n + 1}"), f"mz_elderly_{n}.toml")
    install(pool.store, NEW_FORM, "mz_disabled.toml")
    started = time.perf_counter()
    catalog = load_catalog(pool.store)
    elapsed = time.perf_counter() - started
    assert len(catalog.templates.versions("mz_elderly")) == 21 and catalog.problems == []
    assert elapsed < 0.5, elapsed  # measured ~15 ms: the shipped files, then one parse per row
