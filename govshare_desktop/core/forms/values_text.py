"""一表通 values as text: the origin and status words, the canonical stored text of a value, the
typed value read back, and the text shown to a clerk.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from govshare_desktop.core.domain import codes
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import Element

COMPUTED, ENTERED, OVERRIDDEN = "computed", "entered", "overridden"
DERIVED = "derived"  # a 合计 cell worked out from the form's rows, never stored
DRAFT, SUBMITTED, RETURNED = "draft", "submitted", "returned"
IN_REVIEW, ACCEPTED = "review", "accepted"  # 待审核 (township review), 已接收 (by the county)
LOCKED = (IN_REVIEW, SUBMITTED, ACCEPTED)  # a form in these states keeps its values as they are


def canonical(element: Element, raw: Any) -> str | None:
    """The stored text of a value typed by a clerk or a script; a Chinese UserError if it is not
    a valid value of the element's type. Money is kept in fen."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    if element.type in ("integer", "decimal", "money"):  # thousands separators: 1,234
        text = text.replace(",", "").replace("，", "")
    what = f"“{element.name}”"
    if element.type == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise UserError(f"{what}应填整数，“{raw}”不是整数")
        return str(int(text))
    if element.type in ("decimal", "money"):
        try:
            number = Decimal(text.removesuffix("元"))
        except InvalidOperation:
            raise UserError(f"{what}应填数字，“{raw}”不是数字") from None
        if not number.is_finite():
            raise UserError(f"{what}应填数字，“{raw}”不是数字")
        if element.type == "money":
            fen = number * 100
            if fen != fen.to_integral_value():
                raise UserError(f"{what}的金额最多精确到分")
            return str(int(fen))
        return str(number.normalize())
    if element.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise UserError(f"{what}应填日期（如 2026-10-31），“{raw}”不是有效日期") from None
    if element.type == "code":
        assert element.code_list is not None
        try:
            return codes.table(element.code_list).code(text)
        except codes.UnknownCode as exc:
            raise UserError(f"{what}：{exc}") from None
    return text


def typed(element: Element, stored: str | None) -> Any:
    """The value for rules and computation: ints, Decimals, dates, text."""
    if stored is None:
        return None
    if element.type in ("integer", "money"):
        return int(stored)
    if element.type == "decimal":
        return Decimal(stored)
    if element.type == "date":
        return date.fromisoformat(stored)
    return stored


def stored_text(element: Element, value: Any) -> str | None:
    """The canonical text of a typed value (the inverse of :func:`typed` for numbers)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if element.type in ("integer", "money"):
            return str(int(value.to_integral_value(rounding=ROUND_HALF_UP)))
        return str(value.normalize())
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def display(element: Element, stored: str | None) -> str:
    if stored is None:
        return ""
    if element.type == "money":
        fen = int(stored)
        return f"{'-' if fen < 0 else ''}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
    if element.type == "code" and element.code_list:
        return codes.table(element.code_list).label(stored)
    return stored


def attribute_value(element: Element, raw: Any) -> Any:
    """A person or household attribute read from the registry, typed like a stored value."""
    if raw is None:
        return None
    if element.type == "date":
        return date.fromisoformat(str(raw)[:10])
    if element.type in ("integer", "money"):
        return int(raw)
    return typed(element, str(raw))
