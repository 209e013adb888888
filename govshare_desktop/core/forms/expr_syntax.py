"""Reading a validation rule: the tokenizer, the syntax tree and the recursive-descent parser.

The language itself is described in :mod:`govshare_desktop.core.forms.expr`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

MAX_SOURCE_LENGTH = 1000
MAX_DEPTH = 50
MAX_NUMBER_DIGITS = 30


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
