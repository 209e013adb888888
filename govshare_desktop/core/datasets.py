"""The datasets a clerk browses (户籍, 人员, 参保, 待遇发放): their columns, sorts and filters, as
SQL for :mod:`govshare_desktop.core.browse` (re-exported there)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govshare_desktop.core.domain import codes
from govshare_desktop.core.store.search import Resolved, SearchKind, classify, inline_sql

Params = dict[str, Any]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    sql: str
    sort: str | None = None  # ORDER BY expression; None: not sortable
    kind: str = "text"  # text | date | age | money | int | code | bool | period
    code_table: str | None = None
    mask: str | None = None  # name | id_number | phone | address | birth_date
    width: int = 100  # preferred width in pixels at normal font size

    @property
    def numeric(self) -> bool:
        return self.kind in {"age", "money", "int"}


# (value, dialect, paging) -> (SQL, params) or None. ``paging``: the statement is a page of a sorted
# list (see :meth:`Query.where`).
FilterSql = Callable[[Any, str, bool], tuple[str, Params] | None]


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str
    table: str  # "person t": the dataset's table, always aliased t
    columns: tuple[Column, ...]
    default_sort: str
    filters: Mapping[str, FilterSql] = field(default_factory=dict)
    # Joins needed only to show columns; the id query adds one only if its filter or sort uses it.
    joins: Mapping[str, str] = field(default_factory=dict)  # alias -> "LEFT JOIN area v ON …"
    totals: tuple[str, ...] = ()  # money columns the list sums in a 合计 row

    @property
    def from_sql(self) -> str:
        return " ".join([self.table, *self.joins.values()])

    def from_sql_for(self, *clauses: str) -> str:
        """FROM clause with only the joins whose alias the given SQL clauses mention."""
        text_ = " ".join(clauses)
        used = [sql for alias, sql in self.joins.items() if re.search(rf"\b{alias}\.", text_)]
        return " ".join([self.table, *used])

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def column_index(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Eq:
    """``column = value``. A *broad* filter (a village, a status: much of the list) is kept off the
    indexes on SQLite while paging: the sort's index then drives, and the first page is the first
    matching rows in index order instead of a sort of every matching row. Not when the sort
    begins with ``indexed_with`` (its own column, or one an index pairs it with — migration 0014:
    a sort that follows the filter, as 户号 follows the village, would walk the other villages'
    rows first)."""

    column_sql: str
    name: str
    broad: bool = True
    indexed_with: tuple[str, ...] = ()
    # No value chosen and the sort is one of ``indexed_with`` (which has no index of its own):
    # merge the page from each value's index range (see :class:`Every`).
    merged: bool = False

    def uses_index(self, leading: str) -> bool:
        """Is the filter an index's first column when the sort begins with ``leading``?"""
        return leading == self.column_sql or leading in self.indexed_with

    def __call__(self, value: Any, dialect: str, paging: bool) -> tuple[str, Params] | None:
        if value in (None, "") or isinstance(value, Every):
            return None
        column = self.column_sql
        if paging and self.broad and dialect == "sqlite":
            column = "+" + column
        return f"{column} = :{self.name}", {self.name: value}


@dataclass(frozen=True)
class Every:
    """No filter on an :class:`Eq` column — every one of ``values``, the column's values when the
    query was resolved. A page sorted by a column an index pairs with it (待遇发放 of 全部 months
    sorted by an amount or the date) is then merged from each value's own index range
    (:meth:`govshare_desktop.core.browse.Browser.page_statements`); a count or a sum is not
    filtered at all."""

    column_sql: str
    values: tuple[Any, ...]


_eq = Eq
# The sorts an index pairs with the village or the month (migration 0014): (village_code, 户号…)
VILLAGE_INDEXED = ("t.household_no", "t.address")
PERIOD_INDEXED = ("t.basic_fen", "t.account_fen", "t.total_fen", "t.paid_date")


def _found(value: Any, dialect: str, paging: bool) -> tuple[bool, str, Params] | None:
    """A person search as ``(row, SQL, params)``: with ``row`` false, SQL is a ``SELECT id`` of
    the persons found; with ``row`` true, a condition on a person row aliased ``p`` (a broad
    search while paging: checked row by row as the sort's index drives). ``None``: no search."""
    if isinstance(value, Resolved):
        if value.ids is not None:  # every person found, fewer than search.SMALL
            ids = ", ".join(map(str, value.ids)) or "NULL"
            return False, f"SELECT id FROM person WHERE id IN ({ids})", {}
        if paging:
            return (True, *inline_sql(value.search, "p", dialect))
        value = value.text  # counting: the search index finds them all at once
    query = classify(str(value or ""))
    if query.kind is SearchKind.EMPTY:
        return None
    return (False, *query.sql(dialect))


def _person_search(value: Any, dialect: str, paging: bool) -> tuple[str, Params] | None:
    if isinstance(value, Resolved):
        if value.ids is not None:
            return f"t.id IN ({', '.join(map(str, value.ids)) or 'NULL'})", {}
        if paging:
            return inline_sql(value.search, "t", dialect)
    found = _found(value, dialect, paging)
    if found is None:
        return None
    return f"t.id IN ({found[1]})", found[2]


def _household_search(value: Any, dialect: str, paging: bool) -> tuple[str, Params] | None:
    found = _found(value, dialect, paging)
    if found is None:
        return None
    row, sql, params = found
    if row:
        return f"EXISTS (SELECT 1 FROM person p WHERE p.household_id = t.id AND {sql})", params
    return f"t.id IN (SELECT m.household_id FROM person m WHERE m.id IN ({sql}))", params


def _ss_search(value: Any, dialect: str, paging: bool) -> tuple[str, Params] | None:
    """Social-security rows: by the registry's search keys, or by the name/ID the department sent."""
    kind = value.search.kind if isinstance(value, Resolved) else classify(str(value or "")).kind
    if kind is SearchKind.EMPTY:
        return None
    if kind is SearchKind.NOTHING:  # punctuation or spaces only: no one, not everyone
        return "1 = 0", {}
    found = _found(value, dialect, paging)
    assert found is not None
    row, sql, params = found
    registry = (
        f"EXISTS (SELECT 1 FROM person p WHERE p.id_number = t.id_number AND {sql})"
        if row
        else f"t.id_number IN (SELECT id_number FROM person WHERE id IN ({sql}))"
    )
    text_ = value.text if isinstance(value, Resolved) else classify(str(value)).text
    return f"({registry} OR t.id_number = :ss_q OR t.name = :ss_q)", {**params, "ss_q": text_}


def _payment_search(value: Any, dialect: str, paging: bool) -> tuple[str, Params] | None:
    found = _ss_search(value, dialect, paging)
    return None if found is None else (found[0].replace(" OR t.name = :ss_q", ""), found[1])


def _registry(value: Any, dialect: str, paging: bool) -> tuple[str, Params] | None:
    if value == "in":
        return "EXISTS (SELECT 1 FROM person p WHERE p.id_number = t.id_number)", {}
    if value == "out":
        return "NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = t.id_number)", {}
    return None


# ---------------------------------------------------------------- datasets

# Records a full back-flow snapshot no longer contained (marked, never deleted).
ABSENT_COLUMN = Column(
    "absent",
    "最新回流",
    "CASE WHEN t.absent_batch_id IS NULL THEN '' ELSE '不在最新回流中' END",
    None,
    width=110,
)

PERSONS = Dataset(
    key="person",
    title="人员",
    table="person t",
    joins={"v": "LEFT JOIN area v ON v.code = t.village_code"},
    columns=(
        Column(
            "id_number", "公民身份号码", "t.id_number", "t.id_number", mask="id_number", width=170
        ),
        Column("name", "姓名", "t.name", "t.name_initials, t.name", mask="name", width=80),
        Column("sex", "性别", "t.sex_code", "t.sex_code", "code", codes.SEX, width=50),
        Column("birth_date", "出生日期", "t.birth_date", "t.birth_date", "date", mask="birth_date"),
        Column("age", "年龄", "t.birth_date", "t.birth_date DESC", "age", width=50),
        Column(
            "ethnicity",
            "民族",
            "t.ethnicity_code",
            "t.ethnicity_code",
            "code",
            codes.ETHNICITY,
            width=70,
        ),
        Column(
            "village",
            "所属村（社区）",
            "v.name",
            "t.village_code, t.name_initials, t.name",
            width=120,
        ),
        Column(
            "household_no",
            "户号",
            "t.household_no",
            "t.household_no, t.relationship_code",
            width=110,
        ),
        Column(
            "relationship",
            "与户主关系",
            "t.relationship_code",
            "t.relationship_code",
            "code",
            codes.RELATIONSHIP,
            width=80,
        ),
        Column("status", "人员状态", "t.status", "t.status", "code", codes.PERSON_STATUS, width=80),
        Column("status_date", "变动日期", "t.status_date", "t.status_date", "date"),
        Column("phone", "联系电话", "t.phone", None, mask="phone", width=110),
        ABSENT_COLUMN,
    ),
    default_sort="household_no",
    filters={
        "village": _eq("t.village_code", "village", indexed_with=VILLAGE_INDEXED),
        "status": _eq("t.status", "status"),
        "household_id": _eq("t.household_id", "household_id", broad=False),
        "search": _person_search,
    },
)

HOUSEHOLDS = Dataset(
    key="household",
    title="户籍",
    table="household t",
    joins={"v": "LEFT JOIN area v ON v.code = t.village_code"},
    columns=(
        Column("household_no", "户号", "t.household_no", "t.household_no", width=110),
        Column(
            "household_type",
            "户别",
            "t.household_type",
            "t.household_type",
            "code",
            codes.HOUSEHOLD_TYPE,
            width=60,
        ),
        Column("head_name", "户主姓名", "t.head_name", "t.head_name", mask="name", width=80),
        Column(
            "head_id_number",
            "户主公民身份号码",
            "t.head_id_number",
            "t.head_id_number",
            mask="id_number",
            width=170,
        ),
        Column("village", "所属村（社区）", "v.name", "t.village_code", width=120),
        # its persons whose status is normal, kept on the row (core/store/members.py): indexed
        Column("members", "在册人数", "t.member_count", "t.member_count", "int", width=70),
        Column("address", "住址", "t.address", "t.address", mask="address", width=260),
        Column("as_of", "数据时点", "t.as_of", "t.as_of", "date"),
        ABSENT_COLUMN,
    ),
    default_sort="household_no",
    filters={
        "village": _eq("t.village_code", "village", indexed_with=VILLAGE_INDEXED),
        "search": _household_search,
    },
)

ENROLLMENTS = Dataset(
    key="ss_enrollment",
    title="参保",
    table="ss_enrollment t",
    joins={"v": "LEFT JOIN area v ON v.code = t.village_code"},
    columns=(
        Column(
            "id_number",
            "社会保障号码",
            "t.id_number",
            "t.id_number, t.scheme_code",
            mask="id_number",
            width=170,
        ),
        Column("name", "姓名", "t.name", "t.name", mask="name", width=80),
        Column(
            "scheme", "险种", "t.scheme_code", "t.scheme_code", "code", codes.SS_SCHEME, width=170
        ),
        Column(
            "status",
            "缴费状态",
            "t.status_code",
            "t.status_code",
            "code",
            codes.SS_PAYMENT_STATUS,
            width=80,
        ),
        Column("grade", "缴费档次（元/年）", "t.grade_fen", "t.grade_fen", "money", width=110),
        Column("start_date", "参保日期", "t.start_date", "t.start_date", "date"),
        Column("receiving", "待遇领取", "t.receiving", "t.receiving", "bool", width=70),
        Column("village", "所属村（社区）", "v.name", "t.village_code", width=120),
        Column(
            "registry",
            "户籍",
            "CASE WHEN EXISTS (SELECT 1 FROM person p WHERE p.id_number = t.id_number) THEN '本镇户籍' ELSE '非本镇户籍' END",
            None,
            width=90,
        ),
    ),
    default_sort="id_number",
    filters={
        "village": _eq("t.village_code", "village", indexed_with=VILLAGE_INDEXED),
        "scheme": _eq("t.scheme_code", "scheme"),
        "registry": _registry,
        "id_number": _eq("t.id_number", "id_number", broad=False),
        "search": _ss_search,
    },
)

PAYMENTS = Dataset(
    key="ss_payment",
    title="待遇发放",
    table="ss_payment t",
    columns=(
        Column(
            "id_number",
            "社会保障号码",
            "t.id_number",
            "t.id_number, t.period",  # the unique (id_number, period) index's order
            mask="id_number",
            width=170,
        ),
        Column(
            "name",
            "姓名",
            "COALESCE((SELECT p.name FROM person p WHERE p.id_number = t.id_number), (SELECT e.name FROM ss_enrollment e WHERE e.id_number = t.id_number LIMIT 1))",
            None,
            mask="name",
            width=80,
        ),
        Column("period", "发放年月", "t.period", "t.period", "period", width=80),
        Column("basic", "基础养老金（元）", "t.basic_fen", "t.basic_fen", "money", width=110),
        Column(
            "account", "个人账户养老金（元）", "t.account_fen", "t.account_fen", "money", width=130
        ),
        Column("total", "实发金额（元）", "t.total_fen", "t.total_fen", "money", width=110),
        Column("paid_date", "发放日期", "t.paid_date", "t.paid_date", "date"),
    ),
    default_sort="id_number",
    totals=("basic", "account", "total"),
    filters={
        "period": _eq("t.period", "period", indexed_with=PERIOD_INDEXED, merged=True),
        "id_number": _eq("t.id_number", "id_number", broad=False),
        "search": _payment_search,
    },
)

DATASETS: dict[str, Dataset] = {d.key: d for d in (HOUSEHOLDS, PERSONS, ENROLLMENTS, PAYMENTS)}
