"""A check's condition, written in the rule language of the report templates
(:mod:`govshare_desktop.core.forms.expr`), translated into a SQL expression over named facts.

The translation walks the parsed tree node by node and builds SQLAlchemy expressions: names become
the fact columns they stand for, literals become bound parameters, operators their SQL
counterparts. Nothing of the text reaches SQL as text, and nothing is evaluated in Python, so a check
over 100,000 people is one query. ``null`` is SQL's NULL with its three-valued logic — the same
"unknown" semantics the template rules have: a condition that is unknown for a person is no hit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, case, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

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
    """The condition as a SQL boolean expression over ``columns`` (fact name → column)."""
    unknown = sorted(expression.names - set(columns))
    if unknown:
        raise ExpressionError(f"未知的事实“{unknown[0]}”（可用：{'、'.join(sorted(columns))}）")
    return _Translator(expression.source, columns).node(expression.tree)


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
