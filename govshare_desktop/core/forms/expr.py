"""Validation-rule expressions written in report templates by non-programmers.

A rule such as ``V_80PLUS >= 0 and V_80PLUS <= V_60PLUS`` or ``sum(A, B) == TOTAL`` is read by
our own tokenizer and recursive-descent parser into a small tree of frozen nodes, which a tiny
interpreter walks. Template text never reaches Python's own compiler or evaluator: the language
has no attribute access, no indexing, no exponent and only a fixed whitelist of functions, so a
template cannot do anything but compute a value from the element values it is given.

Semantics, in short:

* Numbers are ``int`` or ``decimal.Decimal`` (``0.1 + 0.2 == 0.3`` holds); floats handed in are
  converted through their shortest repr. Text that looks like a number (``"12"``, ``" 3.5 "``)
  takes part in arithmetic and ordering as that number; ``==`` between two texts stays exact.
* ``None`` means "unknown": a missing element, ``null``, or a division by zero. Arithmetic and
  comparisons with an unknown operand are unknown; ``and``/``or``/``not``/``in`` use three-valued
  logic. A rule whose result is ``None`` is treated by the caller as not violated.
* ``sum``/``min``/``max`` skip unknown items (all unknown -> unknown); ``round`` rounds half up
  (四舍五入); ``empty`` is true for unknown or blank text; ``coalesce`` gives its first known value.
* Problems in the rule itself raise :class:`ExpressionError` from :func:`parse`; a value of the
  wrong kind met while evaluating (text where a number is needed) raises it from ``evaluate``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_NUMBER_DIGITS",
    "MAX_SOURCE_LENGTH",
    "Expression",
    "ExpressionError",
    "parse",
]

MAX_SOURCE_LENGTH = 1000
MAX_DEPTH = 50
MAX_NUMBER_DIGITS = 30

# Results do not depend on the caller's decimal context.
_DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


class ExpressionError(ValueError):
    """A rule that cannot be read or computed. The message is Chinese and names the position.

    ``position`` is the 0-based character offset in the rule (the message counts from 1), or
    ``None`` when the problem has no single place.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def _error(source: str, position: int | None, problem: str) -> ExpressionError:
    shown = source if len(source) <= 40 else source[:40] + "…"
    if position is None:
        return ExpressionError(f"规则“{shown}”{problem}", None)
    return ExpressionError(f"规则“{shown}”第 {position + 1} 个字符处{problem}", position)


# --------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "str", "name", "kw", "op", "(", ")", ",", "end"
    text: str  # as written, for messages
    value: Any
    pos: int


_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
# Python words a template author might try; refused with a clear message instead of being names.
_RESERVED = frozenset(
    {
        "if", "else", "elif", "lambda", "for", "while", "import", "from", "def", "class",
        "return", "is", "as", "with", "yield", "del", "global", "nonlocal", "pass", "raise",
        "try", "except", "finally", "assert", "async", "await", "break", "continue", "None",
    }
)  # fmt: skip
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_TWO_CHAR_OPS = frozenset({"==", "!=", "<=", ">="})
_ONE_CHAR_OPS = frozenset({"<", ">", "+", "-", "*", "/"})
_FULL_WIDTH = {
    "（": "(", "）": ")", "，": ",", "“": '"', "”": '"', "‘": "'", "’": "'", "＝": "=",
    "＜": "<", "＞": ">", "！": "!", "＋": "+", "－": "-", "＊": "*", "／": "/",
}  # fmt: skip
_REFUSED = {
    "**": "不支持乘方运算“**”",
    "<>": "不等于要写成“!=”",
    "&&": "“&&”要写成 and",
    "||": "“||”要写成 or",
    "=": "等于要写成“==”",
    "!": "“!”要写成“!=”或 not",
    ".": "不支持属性访问“.”",
    "[": "不支持方括号“[”（索引或列表）；列表请写成 in (…)",
    "]": "不支持方括号“]”（索引或列表）",
    "^": "不支持乘方运算“^”",
    "&": "“&”要写成 and",
    "|": "“|”要写成 or",
}
_STRING_ESCAPES = {"\\": "\\", '"': '"', "'": "'"}


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if "0" <= ch <= "9":
            match = _NUMBER_RE.match(source, i)
            assert match is not None
            text, end = match.group(), match.end()
            if end < n and (source[end] in "._" or source[end].isalnum()):
                raise _error(source, i, f"数字“{source[i : end + 1]}”写法不对")
            digits = len(text) - text.count(".")
            if digits > MAX_NUMBER_DIGITS:
                raise _error(source, i, f"数字太长（{digits} 位，最多 {MAX_NUMBER_DIGITS} 位）")
            value: Any = Decimal(text) if "." in text else int(text)
            tokens.append(_Token("num", text, value, i))
            i = end
            continue
        match = _NAME_RE.match(source, i)
        if match is not None:
            word = match.group()
            if word.lower() in _KEYWORDS:
                tokens.append(_Token("kw", word, word.lower(), i))
            elif word in _RESERVED:
                hint = "；空值请写 null" if word == "None" else ""
                raise _error(source, i, f"不支持“{word}”{hint}")
            else:
                tokens.append(_Token("name", word, word, i))
            i = match.end()
            continue
        if ch in "\"'":
            i = _read_string(source, i, tokens)
            continue
        two = source[i : i + 2]
        if two in _TWO_CHAR_OPS:
            tokens.append(_Token("op", two, two, i))
            i += 2
            continue
        if two in _REFUSED:
            raise _error(source, i, _REFUSED[two])
        if ch in _ONE_CHAR_OPS:
            tokens.append(_Token("op", ch, ch, i))
        elif ch in "(),":
            tokens.append(_Token(ch, ch, ch, i))
        elif ch in _REFUSED:
            raise _error(source, i, _REFUSED[ch])
        elif ch in _FULL_WIDTH:
            raise _error(source, i, f"全角符号“{ch}”，请改用半角“{_FULL_WIDTH[ch]}”")
        elif ch.isalpha():
            raise _error(
                source, i, f"“{ch}”不能写在引号外：名称只能用英文字母、数字和下划线，文本要加引号"
            )
        elif ch.isprintable():
            raise _error(source, i, f"无法识别的字符“{ch}”")
        else:
            raise _error(source, i, f"无法识别的字符 U+{ord(ch):04X}")
        i += 1
    tokens.append(_Token("end", "", None, n))
    return tokens


def _read_string(source: str, start: int, tokens: list[_Token]) -> int:
    quote = source[start]
    parts: list[str] = []
    i = start + 1
    while i < len(source):
        ch = source[i]
        if ch == quote:
            tokens.append(_Token("str", source[start : i + 1], "".join(parts), start))
            return i + 1
        if ch == "\\":
            escaped = source[i + 1 : i + 2]
            if escaped not in _STRING_ESCAPES:
                raise _error(source, i, "文本中的“\\”后只能跟 \\、\" 或 '")
            parts.append(_STRING_ESCAPES[escaped])
            i += 2
            continue
        parts.append(ch)
        i += 1
    raise _error(source, start, f"文本缺少结尾的引号 {quote}")


# ---------------------------------------------------------------------------------------- nodes


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class _Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Unary:
    op: str  # "-", "+", "not"
    operand: _Node
    pos: int


@dataclass(frozen=True, slots=True)
class _Arith:
    """``first op operand op operand …`` at one precedence level, left to right."""

    first: _Node
    rest: tuple[tuple[str, int, _Node], ...]  # (operator, its position, right operand)
    pos: int


@dataclass(frozen=True, slots=True)
class _Compare:
    """``a < b <= c`` means ``a < b and b <= c`` (as in mathematics)."""

    first: _Node
    rest: tuple[tuple[str, int, _Node], ...]
    pos: int


@dataclass(frozen=True, slots=True)
class _Logic:
    op: str  # "and", "or"
    operands: tuple[_Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class _In:
    operand: _Node
    options: tuple[_Node, ...]
    negated: bool
    pos: int


@dataclass(frozen=True, slots=True)
class _Call:
    function: str
    args: tuple[_Node, ...]
    pos: int


_Node = _Literal | _Name | _Unary | _Arith | _Compare | _Logic | _In | _Call

# name -> (fewest, most arguments; None = any number)
_ARITY: dict[str, tuple[int, int | None]] = {
    "sum": (1, None),
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "round": (1, 2),
    "len": (1, 1),
    "empty": (1, 1),
    "coalesce": (1, None),
}


# --------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str, tokens: list[_Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.names: set[str] = set()

    # helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_keyword(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "kw" and token.value == word

    def error(self, position: int | None, problem: str) -> ExpressionError:
        return _error(self.source, position, problem)

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(position, f"嵌套太深（最多 {MAX_DEPTH} 层）")

    def leave(self) -> None:
        self.depth -= 1

    def expect_close(self, opening: _Token) -> None:
        token = self.peek()
        if token.kind == ")":
            self.advance()
            return
        if token.kind == "end":
            raise self.error(
                token.pos, f"缺少右括号“)”（与第 {opening.pos + 1} 个字符处的“(”配对）"
            )
        raise self.error(token.pos, f"多余的“{token.text}”（是否缺少运算符或“)”？）")

    # grammar, lowest precedence first

    def parse(self) -> _Node:
        node = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise self.error(token.pos, "多余的右括号“)”")
        if token.kind != "end":
            raise self.error(token.pos, f"多余的“{token.text}”（是否缺少运算符？）")
        return node

    def parse_or(self) -> _Node:
        return self.parse_logic("or", self.parse_and)

    def parse_and(self) -> _Node:
        return self.parse_logic("and", self.parse_not)

    def parse_logic(self, word: str, operand: Callable[[], _Node]) -> _Node:
        first = operand()
        operands = [first]
        while self.at_keyword(word):
            self.advance()
            operands.append(operand())
        if len(operands) == 1:
            return first
        return _Logic(word, tuple(operands), first.pos)

    def parse_not(self) -> _Node:
        if self.at_keyword("not"):
            token = self.advance()
            self.enter(token.pos)
            operand = self.parse_not()
            self.leave()
            return _Unary("not", operand, token.pos)
        return self.parse_comparison()

    def parse_comparison(self) -> _Node:
        left = self.parse_additive()
        if self.at_keyword("in") or (self.at_keyword("not") and self.at_keyword("in", 1)):
            negated = self.at_keyword("not")
            if negated:
                self.advance()
            keyword = self.advance()
            return _In(left, self.parse_in_list(keyword), negated, left.pos)
        rest: list[tuple[str, int, _Node]] = []
        while self.peek().kind == "op" and self.peek().value in ("==", "!=", "<", "<=", ">", ">="):
            op = self.advance()
            rest.append((op.value, op.pos, self.parse_additive()))
        return _Compare(left, tuple(rest), left.pos) if rest else left

    def parse_in_list(self, keyword: _Token) -> tuple[_Node, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise self.error(opening.pos, '“in”后面应是括号里的列表，例如 in ("01", "02")')
        self.advance()
        self.enter(opening.pos)
        if self.peek().kind == ")":
            raise self.error(self.peek().pos, "“in”后面的列表是空的")
        options = [self.parse_or()]
        while self.peek().kind == ",":
            self.advance()
            options.append(self.parse_or())
        self.expect_close(opening)
        self.leave()
        return tuple(options)

    def parse_additive(self) -> _Node:
        return self.parse_arith(("+", "-"), self.parse_multiplicative)

    def parse_multiplicative(self) -> _Node:
        return self.parse_arith(("*", "/"), self.parse_unary)

    def parse_arith(self, ops: tuple[str, ...], operand: Callable[[], _Node]) -> _Node:
        first = operand()
        rest: list[tuple[str, int, _Node]] = []
        while self.peek().kind == "op" and self.peek().value in ops:
            op = self.advance()
            rest.append((op.value, op.pos, operand()))
        return _Arith(first, tuple(rest), first.pos) if rest else first

    def parse_unary(self) -> _Node:
        token = self.peek()
        if token.kind == "op" and token.value in ("-", "+"):
            self.advance()
            self.enter(token.pos)
            operand = self.parse_unary()
            self.leave()
            return _Unary(token.value, operand, token.pos)
        return self.parse_primary()

    def parse_primary(self) -> _Node:
        token = self.peek()
        if token.kind in ("num", "str"):
            self.advance()
            return _Literal(token.value, token.pos)
        if token.kind == "kw" and token.value in ("true", "false", "null"):
            self.advance()
            constant = {"true": True, "false": False, "null": None}[token.value]
            return _Literal(constant, token.pos)
        if token.kind == "name":
            self.advance()
            if self.peek().kind == "(":
                return self.parse_call(token)
            self.names.add(token.value)
            return _Name(token.value, token.pos)
        if token.kind == "(":
            self.advance()
            self.enter(token.pos)
            inner = self.parse_or()
            self.expect_close(token)
            self.leave()
            return inner
        if token.kind == "end":
            raise self.error(token.pos, "缺少数值")
        raise self.error(token.pos, f"“{token.text}”前缺少数值")

    def parse_call(self, name: _Token) -> _Node:
        function = name.value.lower()
        arity = _ARITY.get(function)
        if arity is None:
            known = "、".join(_ARITY)
            raise self.error(name.pos, f"未知函数“{name.text}”（可用的函数：{known}）")
        opening = self.advance()
        self.enter(opening.pos)
        args: list[_Node] = []
        if self.peek().kind == ")":
            self.advance()
        else:
            args.append(self.parse_or())
            while self.peek().kind == ",":
                self.advance()
                args.append(self.parse_or())
            self.expect_close(opening)
        self.leave()
        fewest, most = arity
        if len(args) < fewest or (most is not None and len(args) > most):
            if most is None:
                wanted = f"至少 {fewest} 个"
            elif fewest == most:
                wanted = f"{fewest} 个"
            else:
                wanted = f"{fewest} 到 {most} 个"
            raise self.error(name.pos, f"函数 {function} 需要{wanted}参数，却给了 {len(args)} 个")
        return _Call(function, tuple(args), name.pos)


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


# ------------------------------------------------------------------------------------------ API


@dataclass(frozen=True)
class Expression:
    """A parsed rule. ``names`` are the element codes it reads (not the function names)."""

    source: str
    names: frozenset[str]
    _root: _Node = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The rule's value for these element values; missing names are ``None`` (unknown).

        A condition gives ``True``, ``False`` or ``None``; raises :class:`ExpressionError` when a
        value has the wrong kind (text where a number is needed, a number where a condition is).
        """
        with decimal.localcontext(_DECIMAL_CONTEXT):
            return _Evaluator(self.source, values).compute(self._root)


@lru_cache(maxsize=1024)
def parse(source: str) -> Expression:
    """Read a rule; raises :class:`ExpressionError` naming the problem and where it is."""
    if not isinstance(source, str):
        raise TypeError(f"rule must be str, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise _error(
            source,
            MAX_SOURCE_LENGTH,
            f"超出长度上限（规则共 {len(source)} 个字符，最多 {MAX_SOURCE_LENGTH} 个）",
        )
    parser = _Parser(source, _tokenize(source))
    root = parser.parse()
    return Expression(source, frozenset(parser.names), root)
