"""The 一表通 data-element dictionary (``resources/forms/elements.toml``): every item defined once.

A malformed dictionary is a :class:`FormsError` naming the file, the element and the field; the
program starts without the forms rather than not at all.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.expr import Expression, ExpressionError, parse
from govshare_desktop.core.forms.vocabulary import AGGREGATES, Computation, check_filters
from govshare_desktop.core.resources import resource_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TYPES = ("integer", "decimal", "money", "text", "date", "code")
LEVELS = ("area", "household", "person")
NUMERIC = ("integer", "decimal", "money")
# How a 统计表's 合计 row gets an area element's value (``total`` in elements.toml, or per
# template column): the sum of the rows shown (the default for numbers), the row's own value
# (computed over the whole township, or filled in: the default for text, dates and codes),
# nothing, or ``{ formula = "…" }`` — an expression over other elements' totals, such as a rate.
TOTALS = ("sum", "own", "none")
FORMULA = "formula"


class FormsError(UserError):
    """A dictionary or template file that cannot be used: says which file and which field."""


@dataclass(frozen=True)
class Element:
    code: str
    name: str
    type: str
    level: str
    unit: str = ""
    source: str = ""
    description: str = ""
    code_list: str | None = None  # for type "code": a table in resources/codes
    compute: Computation | None = None
    carry_forward: bool = False  # may take last period's entered value as a starting point
    # Personal data shown masked unless the clerk unmasks: name | id_number | birth_date | phone |
    # address
    mask: str | None = None
    total: str | None = None  # sum | own | none | formula; None: by type (see default_total)
    total_formula: Expression | None = None

    @property
    def computed(self) -> bool:
        return self.compute is not None

    @property
    def total_rule(self) -> str:
        """How the 合计 row of a 统计表 gets this element's value (a template may say otherwise)."""
        return self.total or default_total(self.type)


def default_total(type_: str) -> str:
    return "sum" if type_ in NUMERIC else "own"


def parse_total(raw: Any, where: str) -> tuple[str, Expression | None]:
    """``total = "sum" | "own" | "none"`` or ``total = { formula = "…" }``, checked on its own;
    whether the formula's elements may be used is the caller's check."""
    if isinstance(raw, str):
        if raw not in TOTALS:
            raise FormsError(
                f'{where}的 total“{raw}”无效，可用：{"、".join(TOTALS)} 或 {{ formula = "…" }}'
            )
        return raw, None
    if isinstance(raw, dict) and set(raw) == {FORMULA} and isinstance(raw[FORMULA], str):
        try:
            return FORMULA, parse(raw[FORMULA])
        except ExpressionError as exc:
            raise FormsError(f"{where}的 total.formula：{exc}") from None
    raise FormsError(f'{where}的 total 应为 "sum"、"own"、"none" 或 {{ formula = "A * 100 / B" }}')


def check_total_formula(
    formula: Expression, owner: str, rule_of: Mapping[str, str], where: str, scope: str
) -> None:
    """A 合计 formula may only use elements whose 合计 is the sum of the rows (so there is no
    loop and the inputs are on the same footing); ``rule_of``: element -> its total rule."""
    for name in sorted(formula.names):
        if name == owner:
            raise FormsError(f"{where}的 total.formula 不能引用数据项自身")
        if name not in rule_of:
            raise FormsError(f"{where}的 total.formula 引用的数据项“{name}”不在{scope}中")
        if rule_of[name] != "sum":
            raise FormsError(
                f'{where}的 total.formula 只能引用合计为各行之和（total = "sum"）的数据项，'
                f"“{name}”不是"
            )


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise FormsError(f"找不到文件 {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormsError(f"文件 {path.name} 格式错误：{exc}") from None


def toml_text(text: str, file_name: str) -> dict[str, Any]:
    """A TOML text kept or being installed; a syntax error names the file, line and column —
    the same words as :func:`load_toml`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormsError(f"文件 {file_name} 格式错误：{exc}") from None


MASKS = ("name", "id_number", "birth_date", "phone", "address")


def _require(raw: Mapping[str, Any], key: str, where: str, kind: type = str) -> Any:
    value = raw.get(key)
    if value is None or (kind is str and not str(value).strip()):
        raise FormsError(f"{where}缺少字段“{key}”")
    if not isinstance(value, kind):
        raise FormsError(f"{where}的字段“{key}”类型不对（应为{_kind_name(kind)}）")
    return value


def _kind_name(kind: type) -> str:
    return {str: "文字", int: "整数", bool: "true/false", dict: "表", list: "列表"}.get(
        kind, kind.__name__
    )


def parse_computation(raw: Mapping[str, Any], where: str) -> Computation:
    found = [a for a in AGGREGATES if a in raw]
    if len(found) != 1:
        raise FormsError(f"{where}的 compute 应且只应写一种统计方式：{'、'.join(AGGREGATES)}")
    aggregate = found[0]
    target = raw[aggregate]
    if not isinstance(target, str) or not target:
        raise FormsError(f"{where}的 compute.{aggregate} 应为数据集名称或“数据集.列”")
    dataset, _, column = target.partition(".")
    if aggregate not in ("count",) and not column:
        raise FormsError(
            f"{where}的 compute.{aggregate} 需要写成“数据集.列”，如 ss_payment.total_fen"
        )
    where_clause = raw.get("where", {})
    if not isinstance(where_clause, dict):
        raise FormsError(f'{where}的 compute.where 应为表（如 {{ status = "normal" }}）')
    unknown = set(raw) - {aggregate, "where"}
    if unknown:
        raise FormsError(f"{where}的 compute 中有不认识的字段：{'、'.join(sorted(unknown))}")
    computation = Computation(aggregate, dataset, column or None, where_clause)
    problem = check_filters(computation)
    if problem:
        raise FormsError(f"{where}的 compute：{problem}")
    return computation


ELEMENT_FIELDS = frozenset(
    {
        "code",
        "name",
        "type",
        "level",
        "unit",
        "source",
        "description",
        "code_list",
        "compute",
        "carry_forward",
        "mask",
        "total",
    }
)


def parse_elements(document: Mapping[str, Any], file_name: str) -> dict[str, Element]:
    """The element dictionary, each element checked; a problem names the file and the element."""
    raw_elements = document.get("element")
    if not isinstance(raw_elements, list) or not raw_elements:
        raise FormsError(f"{file_name} 中没有 [[element]] 条目")
    elements: dict[str, Element] = {}
    for index, raw in enumerate(raw_elements, start=1):
        where = f"{file_name} 第 {index} 个数据项"
        if not isinstance(raw, dict):
            raise FormsError(f"{where}格式错误")
        code = _require(raw, "code", where)
        where = f"{file_name} 数据项 {code} "
        if code in elements:
            raise FormsError(f"{where}重复定义：每个数据项只能定义一次")
        if not code.replace("_", "").isalnum() or not code[0].isalpha() or not code.isascii():
            raise FormsError(f"{where}的代码只能由英文字母、数字和下划线组成，且以字母开头")
        type_ = _require(raw, "type", where)
        if type_ not in TYPES:
            raise FormsError(f"{where}的 type“{type_}”无效，可用：{'、'.join(TYPES)}")
        level = _require(raw, "level", where)
        if level not in LEVELS:
            raise FormsError(f"{where}的 level“{level}”无效，可用：{'、'.join(LEVELS)}")
        code_list = raw.get("code_list")
        if type_ == "code":
            if not code_list:
                raise FormsError(
                    f"{where}的类型为 code，需要写 code_list（resources/codes 中的代码表）"
                )
            if not resource_path("codes", f"{code_list}.json").exists():
                raise FormsError(f"{where}的 code_list“{code_list}”在 resources/codes 中不存在")
        compute = raw.get("compute")
        unknown = set(raw) - ELEMENT_FIELDS
        if unknown:
            raise FormsError(f"{where}中有不认识的字段：{'、'.join(sorted(unknown))}")
        mask = raw.get("mask")
        if mask is not None and mask not in MASKS:
            raise FormsError(f"{where}的 mask“{mask}”无效，可用：{'、'.join(MASKS)}")
        total, total_formula = _element_total(raw, where, level, type_)
        computation = parse_computation(compute, where) if compute is not None else None
        if computation is not None and (computation.aggregate == "attribute") != (level != "area"):
            raise FormsError(
                f"{where}：区域级数据项用 count/count_distinct/sum 统计，人员级和户级数据项用 attribute 取值"
            )
        elements[code] = Element(
            code=code,
            name=_require(raw, "name", where),
            type=type_,
            level=level,
            unit=str(raw.get("unit", "")),
            source=str(raw.get("source", "")),
            description=str(raw.get("description", "")),
            code_list=code_list,
            compute=computation,
            carry_forward=bool(raw.get("carry_forward", False)),
            mask=mask,
            total=total,
            total_formula=total_formula,
        )
    rules = {code: e.total_rule for code, e in elements.items() if e.level == "area"}
    for code, element in elements.items():
        if element.total_formula is not None:
            where = f"{file_name} 数据项 {code} "
            check_total_formula(element.total_formula, code, rules, where, "区域级数据项")
    return elements


def _element_total(
    raw: Mapping[str, Any], where: str, level: str, type_: str
) -> tuple[str | None, Expression | None]:
    """How an element's 合计 is made, if the dictionary says (else the type's default)."""
    if "total" not in raw:
        return None, None
    if level != "area":
        raise FormsError(f"{where}：只有区域级数据项（统计表的列）有合计，不能写 total")
    total, total_formula = parse_total(raw["total"], where)
    if total not in ("own", "none") and type_ not in NUMERIC:
        raise FormsError(f"{where}的类型为 {type_}，不是数字：合计只能是 own 或 none")
    return total, total_formula


def load_dictionary(path: Path | None = None) -> dict[str, Element]:
    path = path or resource_path("forms", "elements.toml")
    return parse_elements(load_toml(path), path.name)
