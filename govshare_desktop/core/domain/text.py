"""Text normalisation shared by every boundary where people or spreadsheets type things."""

from __future__ import annotations

import unicodedata

# A cell starting with one of these could be taken for a formula by a spreadsheet (OWASP CSV /
# formula injection): every export and workbook writer stores such text as text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")

_SPACES = {"\u3000", "\u00a0", "\u2002", "\u2003", "\u2009", "\u200b", "\ufeff"}


def to_halfwidth(text: str) -> str:
    """Full-width ASCII variants (１２Ｘ，ａ) and the ideographic space become their ASCII forms."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif ch in _SPACES:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def squeeze(text: str) -> str:
    """Half-width, NFC, and every kind of whitespace removed (``姓  名`` → ``姓名``)."""
    return "".join(unicodedata.normalize("NFC", to_halfwidth(text)).split())
