"""Evaluating a parsed validation rule: numbers as Decimal, unknown as None, three-valued logic.

The language itself is described in :mod:`govshare_desktop.core.forms.expr`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from govshare_desktop.core.forms.expr_syntax import (
    ExpressionError,
    _Arith,
    _Call,
    _Compare,
    _error,
    _In,
    _Literal,
    _Logic,
    _Name,
    _Node,
    _Unary,
)

# Results do not depend on the caller's decimal context.
_DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


# ------------------------------------------------------------------------------------ evaluator

_NUMERIC_TEXT_RE = re.compile(r"\s*[+-]?[0-9]{1,100}(?:\.[0-9]{1,100})?\s*")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _numeric_text(text: str) -> int | Decimal | None:
    if not _NUMERIC_TEXT_RE.fullmatch(text):
        return None
    stripped = text.strip()
    return Decimal(stripped) if "." in stripped else int(stripped)


def _normalize(value: Any) -> Any:
    """An element value as the language sees it: floats -> Decimal, dates -> ISO text."""
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "真假值 " + ("true" if value else "false")
    if isinstance(value, str):
        return f"文本“{value if len(value) <= 20 else value[:20] + '…'}”"
    if _is_number(value):
        return f"数值 {value}"
    return f"{type(value).__name__} 类型的值"


class _Evaluator:
    def __init__(self, source: str, values: Mapping[str, Any]) -> None:
        self.source = source
        self.values = values

    def error(self, position: int, problem: str) -> ExpressionError:
        return _error(self.source, position, problem)

    def number(self, value: Any, position: int, where: str) -> int | Decimal:
        if _is_number(value):
            return value
        if isinstance(value, str):
            parsed = _numeric_text(value)
            if parsed is not None:
                return parsed
        raise self.error(position, f"{where}应为数值，却是{_describe(value)}")

    def truth(self, value: Any, node: _Node) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise self.error(node.pos, f"此处应为条件（真或假），却是{_describe(value)}")

    def compute(self, node: _Node) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Name):
            return _normalize(self.values.get(node.name))
        if isinstance(node, _Unary):
            return self.unary(node)
        if isinstance(node, _Arith):
            result = self.compute(node.first)
            for op, position, operand in node.rest:
                result = self.arith(op, position, result, self.compute(operand))
            return result
        if isinstance(node, _Compare):
            return self.compare_chain(node)
        if isinstance(node, _Logic):
            return self.logic(node)
        if isinstance(node, _In):
            return self.membership(node)
        return self.call(node)

    def unary(self, node: _Unary) -> Any:
        value = self.compute(node.operand)
        if node.op == "not":
            truth = self.truth(value, node.operand)
            return None if truth is None else not truth
        if value is None:
            return None
        number = self.number(value, node.operand.pos, f"“{node.op}”后")
        return -number if node.op == "-" else number

    def arith(self, op: str, position: int, left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        x = self.number(left, position, f"“{op}”两侧")
        y = self.number(right, position, f"“{op}”两侧")
        try:
            if op == "+":
                return x + y
            if op == "-":
                return x - y
            if op == "*":
                return x * y
            if y == 0:
                return None
            if isinstance(x, int) and isinstance(y, int):
                quotient, remainder = divmod(x, y)
                if remainder == 0:
                    return quotient
            return Decimal(x) / Decimal(y)
        except decimal.DecimalException:
            raise self.error(position, f"“{op}”的结果超出数值范围") from None

    def equal(self, left: Any, right: Any) -> bool:
        if isinstance(left, bool) or isinstance(right, bool):
            return isinstance(left, bool) and isinstance(right, bool) and left == right
        if _is_number(left) and isinstance(right, str):
            right = _numeric_text(right)
            return right is not None and bool(left == right)
        if _is_number(right) and isinstance(left, str):
            left = _numeric_text(left)
            return left is not None and bool(left == right)
        return bool(left == right)

    def orderable(self, op: str, position: int, left: Any, right: Any) -> tuple[Any, Any]:
        if isinstance(left, str) and isinstance(right, str):
            x, y = _numeric_text(left), _numeric_text(right)
            return (x, y) if x is not None and y is not None else (left, right)
        if not isinstance(left, (bool, str)) and not isinstance(right, (bool, str)):
            if _is_number(left) and _is_number(right):
                return left, right
            if type(left) is type(right):
                return left, right
        if _is_number(left) or _is_number(right):
            where = f"“{op}”两侧"
            return self.number(left, position, where), self.number(right, position, where)
        raise self.error(position, f"“{op}”无法比较{_describe(left)}和{_describe(right)}")

    def compare(self, op: str, position: int, left: Any, right: Any) -> bool | None:
        if left is None or right is None:
            return None
        if op == "==":
            return self.equal(left, right)
        if op == "!=":
            return not self.equal(left, right)
        x, y = self.orderable(op, position, left, right)
        try:
            if op == "<":
                return bool(x < y)
            if op == "<=":
                return bool(x <= y)
            if op == ">":
                return bool(x > y)
            return bool(x >= y)
        except TypeError:
            raise self.error(position, f"“{op}”无法比较{_describe(x)}和{_describe(y)}") from None

    def compare_chain(self, node: _Compare) -> bool | None:
        left = self.compute(node.first)
        result: bool | None = True
        for op, position, operand in node.rest:
            right = self.compute(operand)
            outcome = self.compare(op, position, left, right)
            if outcome is False:
                return False
            if outcome is None:
                result = None
            left = right
        return result

    def logic(self, node: _Logic) -> bool | None:
        decisive = node.op == "or"  # the value that settles the whole expression
        result: bool | None = not decisive
        for operand in node.operands:
            truth = self.truth(self.compute(operand), operand)
            if truth is decisive:
                return decisive
            if truth is None:
                result = None
        return result

    def membership(self, node: _In) -> bool | None:
        value = self.compute(node.operand)
        if value is None:
            return None
        unknown = False
        for option in node.options:
            candidate = self.compute(option)
            if candidate is None:
                unknown = True
            elif self.equal(value, candidate):
                return not node.negated
        return None if unknown else node.negated

    def call(self, node: _Call) -> Any:
        args = [self.compute(arg) for arg in node.args]
        name = node.function
        where = f"函数 {name} 的参数"
        if name in ("sum", "min", "max"):
            numbers = [self.number(arg, node.pos, where) for arg in args if arg is not None]
            if not numbers:
                return None
            if name == "sum":
                return sum(numbers, 0)
            return min(numbers) if name == "min" else max(numbers)
        if name == "coalesce":
            return next((arg for arg in args if arg is not None), None)
        if name == "empty":
            return args[0] is None or (isinstance(args[0], str) and not args[0].strip())
        if any(arg is None for arg in args):
            return None
        if name == "abs":
            return abs(self.number(args[0], node.pos, where))
        if name == "len":
            if not isinstance(args[0], str):
                raise self.error(node.pos, f"函数 len 的参数应为文本，却是{_describe(args[0])}")
            return len(args[0])
        return self.round(node, args)

    def round(self, node: _Call, args: Sequence[Any]) -> int | Decimal:
        where = "函数 round 的参数"
        value = self.number(args[0], node.pos, where)
        given: int | Decimal = self.number(args[1], node.pos, where) if len(args) > 1 else 0
        if given != int(given) or not -20 <= given <= 20:
            raise self.error(node.pos, "函数 round 的小数位数应为 -20 到 20 之间的整数")
        places = int(given)
        if isinstance(value, int):
            if places >= 0:
                return value
            step = 10**-places
            magnitude = (abs(value) + step // 2) // step * step
            return magnitude if value >= 0 else -magnitude
        context = decimal.Context(prec=max(28, value.adjusted() + places + 5))
        rounded = value.quantize(Decimal(1).scaleb(-places), decimal.ROUND_HALF_UP, context)
        return int(rounded) if places <= 0 else rounded
