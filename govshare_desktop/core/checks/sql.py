"""A check's condition, written in the rule language of the report templates
(:mod:`govshare_desktop.core.forms.expr`), translated into a SQL expression over named facts.

The translation walks the parsed tree node by node and builds SQLAlchemy expressions: names become
the fact columns they stand for, literals become bound parameters, operators their SQL
counterparts. Nothing of the text reaches SQL as text, and no person's data is evaluated in Python,
so a check over 100,000 people is one query. ``null`` is SQL's NULL with its three-valued logic — the same
"unknown" semantics the template rules have: a condition that is unknown for a person is no hit.

Where to start. A fact some records make true (``CARE_SUBSIDY``: 护理补贴 paid) has a known value
for everyone without them (0). If the condition cannot hold with that value — worked out on the
tree by :func:`can_hold`, the other facts taken as anything — only persons among those records can
be hits, and the query says so: ``person.id_number IN (SELECT id_number FROM … WHERE …)``, which
SQLite starts from (reading a few thousand rows, then each person by the unique ID number index)
rather than looking up each of the township's persons. The term adds nothing the condition does
not already imply, so the hits are the same; only records that are few beside the persons are
used so (:class:`.facts.Records`). Working it out walks the same parsed tree over a handful of
constants (0, NULL, the rule's literals) — no ``eval``, no person's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from govshare_desktop.core.checks.facts import FACTS, Records
from govshare_desktop.core.forms.expr import Expression, ExpressionError
from govshare_desktop.core.forms.expr_syntax import (
    _Arith,
    _Call,
    _Compare,
    _In,
    _Literal,
    _Logic,
    _Name,
    _Node,
    _Unary,
)

_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def to_sql(expression: Expression, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    """The condition as a SQL boolean expression over ``columns`` (fact name → column), and for
    the facts of :data:`.facts.FACTS` it names, where to start (:func:`needed_records`)."""
    unknown = sorted(expression.names - set(columns))
    if unknown:
        raise ExpressionError(f"未知的事实“{unknown[0]}”（可用：{'、'.join(sorted(columns))}）")
    condition = _Translator(expression.source, columns).node(expression.tree)
    starts = [records.start() for records in needed_records(expression)]
    return and_(*starts, condition) if starts else condition


def needed_records(expression: Expression) -> list[Records]:
    """The records (few beside the persons) without which the condition cannot hold: for each,
    its facts set to their value without them and the condition found never true."""
    facts: dict[Records, dict[str, Any]] = {}
    for name in sorted(expression.names):
        fact = FACTS.get(name)
        if fact is not None and fact.held is not None and fact.held.few:
            facts.setdefault(fact.held, {})[name] = fact.absent
    return [records for records, absent in facts.items() if not can_hold(expression, absent)]


def can_hold(expression: Expression, known: Mapping[str, Any]) -> bool:
    """Whether the condition may be true for a person whose facts named in ``known`` have those
    values, whatever the others are. False only when SQL's three-valued logic makes it false or
    unknown for every value of the others; anything not worked out here counts as "may"."""
    return _truth(_Bounds(known).node(expression.tree)) not in (False, None, _NOT_TRUE)


class _Translator:
    def __init__(self, source: str, columns: Mapping[str, ColumnElement[Any]]) -> None:
        self.source = source
        self.columns = columns

    def node(self, node: _Node) -> ColumnElement[Any]:
        if isinstance(node, _Literal):
            return literal(node.value) if node.value is not None else literal(None)
        if isinstance(node, _Name):
            return self.columns[node.name]
        if isinstance(node, _Unary):
            inner = self.node(node.operand)
            return not_(inner) if node.op == "not" else (-inner if node.op == "-" else inner)
        if isinstance(node, _Arith):
            return self.arith(node)
        if isinstance(node, _Compare):
            return self.compare(node)
        if isinstance(node, _Logic):
            parts = [self.node(operand) for operand in node.operands]
            return and_(*parts) if node.op == "and" else or_(*parts)
        if isinstance(node, _In):
            operand = self.node(node.operand)
            options = [self.node(option) for option in node.options]
            test = operand.in_(options)
            return not_(test) if node.negated else test
        if isinstance(node, _Call):
            return self.call(node)
        raise ExpressionError(f"检查条件“{self.source}”中有无法翻译的部分")

    def arith(self, node: _Arith) -> ColumnElement[Any]:
        result = self.node(node.first)
        for op, _position, operand in node.rest:
            right = self.node(operand)
            if op == "/":
                # NULL for a division by zero, as the template rules say (unknown)
                result = result * 1.0 / func.nullif(right, 0)
            elif op in _ARITH:
                result = _ARITH[op](result, right)
            else:
                raise ExpressionError(f"检查条件不支持运算符“{op}”")
        return result

    def compare(self, node: _Compare) -> ColumnElement[Any]:
        parts = []
        left = self.node(node.first)
        for op, _position, operand in node.rest:
            right = self.node(operand)
            parts.append(_COMPARE[op](left, right))
            left = right
        return and_(*parts) if len(parts) > 1 else parts[0]

    def call(self, node: _Call) -> ColumnElement[Any]:
        args = [self.node(arg) for arg in node.args]
        if node.function == "coalesce":
            return func.coalesce(*args)
        if node.function == "empty":
            return or_(args[0].is_(None), func.trim(args[0]) == "")
        if node.function == "abs":
            return func.abs(args[0])
        if node.function in ("min", "max") and len(args) > 1:
            return self.extreme(node.function, args)
        if node.function == "sum":
            total: ColumnElement[Any] = func.coalesce(args[0], 0)
            for arg in args[1:]:
                total = total + func.coalesce(arg, 0)
            return total
        raise ExpressionError(f"检查条件不支持函数 {node.function}")

    @staticmethod
    def extreme(function: str, args: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        """min/max of several values (portable: a CASE chain, NULLs skipped)."""
        best = args[0]
        for arg in args[1:]:
            better = arg < best if function == "min" else arg > best
            best = case((best.is_(None), arg), (and_(arg.is_not(None), better), arg), else_=best)
        return best


_ANY = object()  # a value not known (another fact, or something not worked out)
_NOT_TRUE = object()  # a condition known to be false or unknown, not which: NULL and x
_NUMBER = (int, Decimal)  # the literals; bool is an int: SQL's true and false are 1 and 0


def _truth(value: Any) -> Any:
    """A value as a condition: True, False, None (unknown), _NOT_TRUE or _ANY."""
    if value is None or value is _ANY or value is _NOT_TRUE:
        return value
    return bool(value) if isinstance(value, _NUMBER) else _ANY


def _all(values: list[Any], conjunction: bool) -> Any:
    """``and`` (conjunction) or ``or`` of conditions, with SQL's NULL: NULL and x is never true,
    whatever x is; NULL or x may be."""
    truths = [_truth(value) for value in values]
    if (not conjunction) in truths:
        return not conjunction  # false and …, true or …
    if _ANY in truths:
        never = conjunction and (None in truths or _NOT_TRUE in truths)
        return _NOT_TRUE if never else _ANY
    if _NOT_TRUE in truths:
        return _NOT_TRUE
    return None if None in truths else conjunction


def _compare(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if isinstance(left, _NUMBER) and isinstance(right, _NUMBER):
        return _COMPARE[op](left, right)
    if isinstance(left, str) and isinstance(right, str) and op in ("==", "!="):
        return _COMPARE[op](left, right)
    return _ANY  # text order depends on the collation; anything else: not worked out


class _Bounds:
    """The condition's value for a person with some facts known (see :func:`can_hold`)."""

    def __init__(self, known: Mapping[str, Any]) -> None:
        self.known = known

    def node(self, node: _Node) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Name):
            return self.known.get(node.name, _ANY)
        if isinstance(node, _Unary):
            return self.unary(node.op, self.node(node.operand))
        if isinstance(node, _Compare):
            parts, left = [], self.node(node.first)
            for op, _position, operand in node.rest:
                right = self.node(operand)
                parts.append(_compare(op, left, right))
                left = right
            return _all(parts, True)
        if isinstance(node, _Logic):
            return _all([self.node(operand) for operand in node.operands], node.op == "and")
        if isinstance(node, _In):
            return self.among(node)
        if isinstance(node, _Arith):
            return self.arith(node)
        if isinstance(node, _Call) and node.function == "coalesce":
            for arg in node.args:
                value = self.node(arg)
                if value is not None:
                    return _ANY if value is _NOT_TRUE else value  # NOT_TRUE: maybe NULL
            return None
        return _ANY

    @staticmethod
    def unary(op: str, value: Any) -> Any:
        if value is None or value is _ANY:
            return value
        if op == "not":
            truth = _truth(value)
            return truth if truth in (_ANY, None) else _ANY if truth is _NOT_TRUE else not truth
        if not isinstance(value, _NUMBER):
            return _ANY
        return -value if op == "-" else value

    def among(self, node: _In) -> Any:
        operand = self.node(node.operand)
        options = [self.node(option) for option in node.options]
        found = _all([_compare("==", operand, option) for option in options], False)
        return self.unary("not", found) if node.negated else found

    def arith(self, node: _Arith) -> Any:
        result = self.node(node.first)
        for op, _position, operand in node.rest:
            right = self.node(operand)
            if result is None or right is None:
                result = None
            elif not (isinstance(result, _NUMBER) and isinstance(right, _NUMBER)):
                return _ANY
            elif op == "/":
                result = None if right == 0 else Decimal(result) / Decimal(right)
            elif op in _ARITH:
                result = _ARITH[op](result, right)
            else:
                return _ANY
        return result
