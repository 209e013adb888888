"""The fields a 校核纠错 request may name, by the contract's column names (性别代码, 出生日期 …),
and how a field named by a back-flow file's column maps onto them."""

from __future__ import annotations

from typing import Any

from govshare_desktop.core.backflow.fields import datasets
from govshare_desktop.core.backflow.record_builder import stored_column
from govshare_desktop.core.store.models import Household, Person

# The fields a request may name, per dataset: the contract's column → the stored attribute.
FIELDS: dict[str, dict[str, tuple[type[Any], str]]] = {
    "person": {
        "姓名": (Person, "name"),
        "性别代码": (Person, "sex_code"),
        "民族代码": (Person, "ethnicity_code"),
        "出生日期": (Person, "birth_date"),
        "户号": (Person, "household_no"),
        "与户主关系代码": (Person, "relationship_code"),
        "所属村（社区）代码": (Person, "village_code"),
        "人员状态": (Person, "status"),
        "变动日期": (Person, "status_date"),
        "联系电话": (Person, "phone"),
    },
    "household": {
        "户别": (Household, "household_type"),
        "户主公民身份号码": (Household, "head_id_number"),
        "户主姓名": (Household, "head_name"),
        "所属村（社区）代码": (Household, "village_code"),
        "住址": (Household, "address"),
    },
}


def contract_field(dataset: str, key: str) -> str:
    """The name a request gives a dataset's field: the contract's column where a clerk may name
    it too (``sex`` → 性别代码), else the field's label (出生日期, 社会保障号码 …)."""
    column = stored_column(dataset, key)
    for name, (_model, attribute) in FIELDS.get(dataset, {}).items():
        if attribute == column:
            return name
    return datasets()[dataset].field(key).label


def stored_of(dataset: str, field: str) -> str | None:
    """The store's column of a field a request names (the reverse of :func:`contract_field`)."""
    for name, (_model, attribute) in FIELDS.get(dataset, {}).items():
        if name == field:
            return attribute
    key = next((f.key for f in datasets()[dataset].fields if f.label == field), None)
    return stored_column(dataset, key) if key else None
