"""The vocabulary of computed elements, shared by the dictionary, the templates and the SQL that
computes them: what may be counted or summed (:data:`DATASETS`), filtered (:data:`FILTERS`) or
read from a record (:data:`ATTRIBUTES`), and a :class:`Computation` checked against it.

Below :mod:`~govshare_desktop.core.forms.dictionary`, :mod:`~govshare_desktop.core.forms.templates`
and :mod:`~govshare_desktop.core.forms.compute`: the files are checked when they load, the SQL is
built later, and both read the same words from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AGGREGATES = ("count", "count_distinct", "sum", "attribute")


@dataclass(frozen=True)
class Computation:
    aggregate: str  # count | count_distinct | sum (area level) | attribute (person/household level)
    dataset: str  # person | household | ss_enrollment | ss_payment
    column: str | None  # for count_distinct / sum
    where: Mapping[str, Any] = field(default_factory=dict)


# dataset -> (table, village expression, columns that may be aggregated)
DATASETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "person": ("person t", "t.village_code", ("id_number", "household_no")),
    "household": ("household t", "t.village_code", ("household_no",)),
    "ss_enrollment": ("ss_enrollment t", "t.village_code", ("id_number",)),
    "ss_payment": (
        "ss_payment t LEFT JOIN person p ON p.id_number = t.id_number",
        "p.village_code",
        ("id_number", "total_fen", "basic_fen", "account_fen"),
    ),
}

FILTERS: dict[str, dict[str, type]] = {
    "person": {
        "status": str,
        "sex": str,
        "age_min": int,
        "age_max": int,
        "status_in_period": bool,
        "relationship": str,
        "ethnicity": str,
    },
    "household": {"household_type": str},
    "ss_enrollment": {"scheme": str, "status_code": str, "receiving": bool, "registry": str},
    "ss_payment": {"period_in": bool},
}


# Person- and household-level attributes: element value = one column (or a derived value) of the
# subject's record.
ATTRIBUTES: dict[str, dict[str, str]] = {
    "person": {
        "name": "t.name",
        "id_number": "t.id_number",
        "sex_code": "t.sex_code",
        "birth_date": "t.birth_date",
        "age": "t.birth_date",  # turned into completed years at period end in Python
        "village": "(SELECT a.name FROM area a WHERE a.code = t.village_code)",
        "household_no": "t.household_no",
        "phone": "t.phone",
        "relationship_code": "t.relationship_code",
        "ethnicity_code": "t.ethnicity_code",
    },
    "household": {
        "household_no": "t.household_no",
        "head_name": "t.head_name",
        "address": "t.address",
        "village": "(SELECT a.name FROM area a WHERE a.code = t.village_code)",
    },
}


def check_filters(computation: Computation) -> str | None:
    """A Chinese description of what is wrong with a computation, or None."""
    if computation.aggregate == "attribute":
        attributes = ATTRIBUTES.get(computation.dataset)
        if attributes is None:
            return f"取值的对象应为 {'、'.join(ATTRIBUTES)}，不能是“{computation.dataset}”"
        if computation.column not in attributes:
            return f"“{computation.dataset}.{computation.column}”不能取值，可用：{'、'.join(attributes)}"
        return None
    if computation.dataset not in DATASETS:
        return f"数据集“{computation.dataset}”无效，可用：{'、'.join(DATASETS)}"
    allowed = FILTERS[computation.dataset]
    if computation.column and computation.column not in DATASETS[computation.dataset][2]:
        return f"“{computation.dataset}.{computation.column}”不能用于统计"
    for key, value in computation.where.items():
        if key not in allowed:
            return f"筛选条件“{key}”不适用于 {computation.dataset}，可用：{'、'.join(allowed)}"
        expected = allowed[key]
        values = value if isinstance(value, list) and expected is str else [value]
        if not values or not all(_type_ok(v, expected) for v in values):
            return f"筛选条件“{key}”的值类型不对"
    return None


def _type_ok(value: Any, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    return isinstance(value, expected) and not isinstance(value, bool)
