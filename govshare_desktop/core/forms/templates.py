"""Report templates (``resources/forms/templates/*.toml``): one human-readable file per department
form, referencing data elements by code and never redefining them. Adding a department's form is
adding a file.

Kinds so far:

* 统计表 (``kind = "table"``): rows are the villages plus a township total (and 「其他（未落户）」
  for records with no village), columns are area-level elements under optional group headers (a
  two-level header); a column may set ``total`` (see dictionary.py) for how its 合计 is worked out;
* 花名册 (``kind = "roster"``): the people (or households) a ``filter`` selects — the same filter
  vocabulary as computed elements — with person-level (or household-level) elements as columns;
* 登记表/申请表 (``kind = "individual"``): one form per person (or household) the filter allows,
  laid out as rows of label/value cells (``[[layout]]``) with signature and seal areas.

Each carries the statutory marks (表号/制定机关/批准文号/有效期至), the unit line, the signatories
and validation rules. A broken template is reported with its file and field; the others still load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govshare_desktop.core.forms.dictionary import (
    NUMERIC,
    Element,
    FormsError,
    check_total_formula,
    load_toml,
    parse_total,
)
from govshare_desktop.core.forms.expr import Expression, ExpressionError, parse
from govshare_desktop.core.forms.vocabulary import Computation, check_filters
from govshare_desktop.core.resources import resource_path

KINDS = ("table", "roster", "individual")
PERIOD_TYPES = ("month", "quarter", "half", "year", "once")
SEVERITIES = ("error", "warning")
LEGAL_MARKS = ("表号", "制定机关", "批准机关", "批准文号", "有效期至")
# A template's ``version = "2027.1"``: dotted whole numbers, no leading zeros (so two texts are
# never the same version). A built-in template without one has the built-in version "", shown as
# 「内置」, older than every numbered version.
BUILT_IN = ""
BUILT_IN_LABEL = "内置"
_VERSION = re.compile(r"(0|[1-9][0-9]{0,8})(\.(0|[1-9][0-9]{0,8})){0,5}")


@dataclass(frozen=True)
class TemplateColumn:
    element: str
    header: str
    # The header cells above this column's own, outermost first: ``group = "老年人口"`` or
    # ``group = ["60周岁以上参保及领取待遇情况", "其中"]``. Neighbours with the same path merge.
    groups: tuple[str, ...] = ()
    # 统计表: this form's own rule for the 合计 row, instead of the element's (see dictionary.py)
    total: str | None = None
    total_formula: Expression | None = None

    @property
    def group(self) -> str:
        return " / ".join(self.groups)


@dataclass(frozen=True)
class LayoutCell:
    """One label/value pair of an individual form; ``span`` value columns wide."""

    element: str
    label: str
    span: int = 1


@dataclass(frozen=True)
class Rule:
    check: Expression
    severity: str
    message: str


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    department: str
    kind: str
    period_type: str
    file: str
    columns: tuple[TemplateColumn, ...]
    rules: tuple[Rule, ...] = ()
    legal: Mapping[str, str] = field(default_factory=dict)
    unit_line: str = ""
    signatories: tuple[str, ...] = ()
    subject: str = "area"  # area (统计表) | person | household (花名册, 登记表)
    # Which people or households a roster lists, or an individual form may be made for.
    filter: Mapping[str, Any] = field(default_factory=dict)
    layout: tuple[tuple[LayoutCell, ...], ...] = ()  # individual forms: rows of label/value cells
    signatures: tuple[str, ...] = ()  # individual forms: signature and seal areas
    version: str = BUILT_IN  # "2027.1"; "" for a built-in template that names none

    @property
    def version_label(self) -> str:
        """The version as shown: 「内置」 for the built-in one."""
        return self.version or BUILT_IN_LABEL

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(c.element for c in self.columns)

    def total_rule(
        self, code: str, dictionary: Mapping[str, Element]
    ) -> tuple[str, Expression | None]:
        """How this 统计表's 合计 row gets ``code``: ``sum`` of the rows shown, the row's ``own``
        value, ``none``, or ``formula`` (with the expression, over other columns' totals)."""
        for column in self.columns:
            if column.element == code and column.total is not None:
                return column.total, column.total_formula
        element = dictionary[code]
        return element.total_rule, element.total_formula


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    area: str
    passed: bool | None  # None: not decidable yet (a value is missing)


def check_version(raw: Any, file_name: str) -> str:
    """A template's ``version`` as written — ``"2027.1"``: dotted whole numbers — or a
    :class:`FormsError` naming the file and the field."""
    if not isinstance(raw, str):
        raise FormsError(
            f'报表模板 {file_name} 的字段“version”应写成带引号的文字，如 version = "2027.1"'
        )
    if not _VERSION.fullmatch(raw):
        raise FormsError(
            f"报表模板 {file_name} 的 version“{raw}”无效：应为以点分隔的数字"
            f'（不以 0 开头），如 version = "2027.1"'
        )
    return raw


def version_key(version: str) -> tuple[int, ...]:
    """How versions sort: ``"2027.1" < "2027.2" < "2027.10" < "2028"``; the built-in ``""``
    before every numbered one."""
    return tuple(int(part) for part in version.split(".")) if version else ()


def parse_template(
    document: Mapping[str, Any], file_name: str, elements: Mapping[str, Element]
) -> Template:
    """A template file's document, checked against the element dictionary; a problem is a
    :class:`FormsError` naming the file and the field."""

    def need(key: str) -> str:
        value = document.get(key)
        if not isinstance(value, str) or not value.strip():
            raise FormsError(f"报表模板 {file_name} 缺少字段“{key}”")
        return value

    template_id, kind, period_type = need("id"), need("kind"), need("period_type")
    if kind not in KINDS:
        raise FormsError(f"报表模板 {file_name} 的 kind“{kind}”无效，可用：{'、'.join(KINDS)}")
    subject, roster_filter = _subject(document, kind, file_name)
    if period_type not in PERIOD_TYPES:
        raise FormsError(
            f"报表模板 {file_name} 的 period_type“{period_type}”无效，可用：{'、'.join(PERIOD_TYPES)}"
        )
    layout: list[tuple[LayoutCell, ...]] = []
    if kind == "individual":
        raw_columns: Any = _layout(document, file_name, layout)
    else:
        raw_columns = document.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise FormsError(f"报表模板 {file_name} 没有 [[columns]]")
    columns = [
        _column(raw, f"报表模板 {file_name} 第 {index} 列", elements, subject, kind)
        for index, raw in enumerate(raw_columns, start=1)
    ]
    if kind == "table":
        _check_total_formulas(columns, kind, period_type, file_name, elements)
    rules = [
        _rule(raw, f"报表模板 {file_name} 第 {index} 条规则", elements)
        for index, raw in enumerate(document.get("rules", []), start=1)
    ]
    legal, signatures, signatories = _marks(document, file_name)
    return Template(
        id=template_id,
        title=need("title"),
        department=need("department"),
        kind=kind,
        period_type=period_type,
        file=file_name,
        columns=tuple(columns),
        rules=tuple(rules),
        legal=legal,
        unit_line=str(document.get("unit_line", "")),
        signatories=signatories,
        subject=subject,
        filter=roster_filter,
        layout=tuple(layout),
        signatures=signatures,
        version=check_version(document["version"], file_name) if "version" in document else "",
    )


def _subject(document: Mapping[str, Any], kind: str, file_name: str) -> tuple[str, dict[str, Any]]:
    """Whom the rows are about (area, person or household) and, for a 花名册 or 登记表, who is on it."""
    if kind not in ("roster", "individual"):
        return "area", {}
    subject = document.get("subject", "person")
    if subject not in ("person", "household"):
        raise FormsError(f"报表模板 {file_name} 的 subject 应为 person 或 household")
    roster_filter = document.get("filter", {})
    if not isinstance(roster_filter, dict):
        raise FormsError(f"报表模板 {file_name} 的 filter 应为表（如 {{ age_min = 80 }}）")
    problem = check_filters(Computation("count", subject, None, roster_filter))
    if problem:
        raise FormsError(f"报表模板 {file_name} 的 filter：{problem}")
    return subject, roster_filter


def _layout(
    document: Mapping[str, Any], file_name: str, layout: list[tuple[LayoutCell, ...]]
) -> list[dict[str, Any]]:
    """A 登记表's rows of label/value cells (appended to ``layout``); its elements as columns."""
    raw_rows = document.get("layout")
    if not isinstance(raw_rows, list) or not raw_rows:
        raise FormsError(f"报表模板 {file_name} 没有 [[layout]]（登记表的行）")
    raw_columns: list[dict[str, Any]] = []
    for row_no, raw_row in enumerate(raw_rows, start=1):
        cells = raw_row.get("cells") if isinstance(raw_row, dict) else None
        if not isinstance(cells, list) or not cells:
            raise FormsError(f"报表模板 {file_name} 第 {row_no} 行 layout 缺少 cells")
        row = []
        for cell in cells:
            if not isinstance(cell, dict) or set(cell) - {"element", "label", "span"}:
                raise FormsError(
                    f"报表模板 {file_name} 第 {row_no} 行的格子只能有 element、label、span"
                )
            span = cell.get("span", 1)
            if not isinstance(span, int) or not 1 <= span <= 6:
                raise FormsError(f"报表模板 {file_name} 第 {row_no} 行的 span 应为 1～6")
            raw_columns.append({"element": cell.get("element"), "header": cell.get("label")})
            row.append(LayoutCell(str(cell.get("element")), str(cell.get("label") or ""), span))
        layout.append(tuple(row))
    return raw_columns


def _column(
    raw: Any, where: str, elements: Mapping[str, Element], subject: str, kind: str
) -> TemplateColumn:
    code = raw.get("element") if isinstance(raw, dict) else None
    if not isinstance(code, str) or not code:
        raise FormsError(f"{where}缺少字段“element”")
    element = elements.get(code)
    if element is None:
        raise FormsError(
            f"{where}引用的数据项“{code}”不在数据项字典中（模板只能引用，不能定义数据项）"
        )
    if element.level != subject:
        expected = {"area": "区域级", "person": "人员级", "household": "户级"}[subject]
        raise FormsError(f"{where}的数据项“{code}”不是{expected}数据项，不能用于此报表")
    unknown = {k for k, v in raw.items() if v is not None} - {"element", "header", "group", "total"}
    if unknown:
        raise FormsError(f"{where}中有不认识的字段：{'、'.join(sorted(unknown))}")
    groups = raw.get("group") or ()
    if isinstance(groups, str):
        groups = (groups,)
    if not isinstance(groups, list | tuple) or not all(
        isinstance(g, str) and g.strip() for g in groups
    ):
        raise FormsError(f"{where}的 group 应为文字或文字列表（多级表头，外层在前）")
    if len(groups) > 3:
        raise FormsError(f"{where}的 group 最多三级")
    total: str | None = None
    total_formula: Expression | None = None
    if raw.get("total") is not None:
        if kind != "table":
            raise FormsError(f"{where}：只有统计表有合计行，不能写 total")
        total, total_formula = parse_total(raw["total"], where)
        if total not in ("own", "none") and element.type not in NUMERIC:
            raise FormsError(f"{where}的数据项“{code}”不是数字：合计只能是 own 或 none")
    return TemplateColumn(
        element=code,
        header=str(raw.get("header") or element.name),
        groups=tuple(g.strip() for g in groups),
        total=total,
        total_formula=total_formula,
    )


def _check_total_formulas(
    columns: list[TemplateColumn],
    kind: str,
    period_type: str,
    file_name: str,
    elements: Mapping[str, Element],
) -> None:
    """A 合计 formula reads other columns' 合计 on this form, each the sum of its rows."""
    probe = Template("", "", "", kind, period_type, file_name, tuple(columns))
    rule_of = {c.element: probe.total_rule(c.element, elements)[0] for c in columns}
    for index, column in enumerate(columns, start=1):
        _, formula = probe.total_rule(column.element, elements)
        if formula is not None:
            where = f"报表模板 {file_name} 第 {index} 列（{column.element}）"
            check_total_formula(formula, column.element, rule_of, where, "本表的列")


def _rule(raw: Any, where: str, elements: Mapping[str, Element]) -> Rule:
    if not isinstance(raw, dict) or not isinstance(raw.get("check"), str):
        raise FormsError(f"{where}缺少字段“check”")
    try:
        check = parse(raw["check"])
    except ExpressionError as exc:
        raise FormsError(f"{where}：{exc}") from None
    missing = sorted(check.names - set(elements))
    if missing:
        raise FormsError(f"{where}引用了字典中没有的数据项：{'、'.join(missing)}")
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise FormsError(f"{where}的 severity“{severity}”无效，可用：error、warning")
    message = raw.get("message")
    if not isinstance(message, str) or not message:
        raise FormsError(f"{where}缺少字段“message”（给经办人看的中文说明）")
    return Rule(check, severity, message)


def _marks(
    document: Mapping[str, Any], file_name: str
) -> tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]:
    """The statutory marks (表号, 制定机关…), the signature and seal areas, the signatories line."""
    legal = document.get("legal", {})
    if not isinstance(legal, dict) or set(legal) - set(LEGAL_MARKS):
        raise FormsError(f"报表模板 {file_name} 的 [legal] 只能包含：{'、'.join(LEGAL_MARKS)}")
    signatures = document.get("signatures", [])
    if not isinstance(signatures, list) or not all(isinstance(x, str) for x in signatures):
        raise FormsError(f"报表模板 {file_name} 的 signatures 应为文字列表（签字、盖章栏）")
    signatories = document.get("signatories", [])
    if not isinstance(signatories, list) or not all(isinstance(s, str) for s in signatories):
        raise FormsError(f"报表模板 {file_name} 的 signatories 应为文字列表")
    return {k: str(v) for k, v in legal.items()}, tuple(signatures), tuple(signatories)


def load_templates(
    elements: Mapping[str, Element], directory: Path | None = None
) -> tuple[dict[str, Template], list[FormsError]]:
    """Every template in the directory that is valid, and an error for each one that is not."""
    directory = directory or resource_path("forms", "templates")
    templates: dict[str, Template] = {}
    problems: list[FormsError] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            template = parse_template(load_toml(path), path.name, elements)
            if template.id in templates:
                raise FormsError(
                    f"报表模板 {path.name} 的 id“{template.id}”与 {templates[template.id].file} 重复"
                )
            templates[template.id] = template
        except FormsError as exc:
            problems.append(exc)
    return templates, problems


def evaluate_rules(
    template: Template, values: Mapping[str, Mapping[str, Any]], areas: Sequence[str]
) -> list[RuleResult]:
    """Each rule for each area (village rows and the total row)."""
    results = []
    for area in areas:
        row = {code: by_area.get(area) for code, by_area in values.items()}
        for rule in template.rules:
            outcome = rule.check.evaluate(row)
            results.append(RuleResult(rule, area, None if outcome is None else bool(outcome)))
    return results
