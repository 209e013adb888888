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

import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from govshare_desktop.core.forms.expr_eval import _DECIMAL_CONTEXT, _Evaluator
from govshare_desktop.core.forms.expr_syntax import (
    MAX_DEPTH,
    MAX_NUMBER_DIGITS,
    MAX_SOURCE_LENGTH,
    ExpressionError,
    _error,
    _Node,
    _Parser,
    _tokenize,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_NUMBER_DIGITS",
    "MAX_SOURCE_LENGTH",
    "Expression",
    "ExpressionError",
    "parse",
]


# ------------------------------------------------------------------------------------------ API


@dataclass(frozen=True)
class Expression:
    """A parsed rule. ``names`` are the element codes it reads (not the function names)."""

    source: str
    names: frozenset[str]
    _root: _Node = field(repr=False, compare=False)

    @property
    def tree(self) -> _Node:
        """The parsed tree (frozen nodes), for a translator such as the checks' SQL compiler."""
        return self._root

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
