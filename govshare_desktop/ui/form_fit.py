"""How a form fits the view that shows it: it uses the width it has, and its headers wrap between
words, not inside them: 「60周岁/及以上」, never 「60周岁及以/上」.

A form laid out for paper is narrower than most screens: :func:`use_width` spreads its columns over
the view's width, each in proportion, up to :data:`MOST_SPREAD` times as wide (wider would part the
numbers from their headers).

Chinese has no spaces, and Qt may break a line between any two characters. A header's text is cut
here into words by a few rules that fit the statistical headers of the departments' forms — after
punctuation, around brackets, before a conjunction (及 和 与 或 并) and before the nouns a header
ends on (人数, 人口, 金额, 情况 …), after 以上/以下 — and shown with WORD JOINER (U+2060) between
the characters of each word, which Qt's line breaker honours. A word longer than
:data:`LONGEST_WORD` characters may still break inside (else its column would have to be as wide
as it). The text the model holds is never changed: only what is drawn.
"""

from __future__ import annotations

import re
from itertools import pairwise

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QTableView

from govshare_desktop.core.forms.sheet import HEADER, LABEL, Sheet

JOINER = "\u2060"
LONGEST_WORD = 8  # characters: a longer word may break inside
MOST_SPREAD = 1.6
WORDED = (HEADER, LABEL)  # cells whose text wraps between words: headers, a 登记表's labels
CELL_MARGIN = 5  # pixels the style leaves on each side of an item's text (Fusion: 3, and a border)

_AFTER_CHARS = "、，,;；/／:：。 "
_OPEN = "（(《【“"
_CLOSE = "）)》】”"
_CONJUNCTIONS = "及和与或并"
# Nouns a header ends on: a line may break before them.
_HEADS = (
    "人数",
    "人口",
    "户数",
    "人次",
    "金额",
    "情况",
    "待遇",
    "比例",
    "标准",
    "合计",
    "小计",
    "补贴",
    "津贴",
    "日期",
    "年月",
    "号码",
    "名称",
    "类别",
    "状态",
    "地址",
    "参保",
    "缴费",
    "领取",
    "发放",
    "注销",
    "养老",
    "医疗",
    "本期",
)
# A line may break after them.
_TAILS = ("以上", "以下", "以内", "以外", "其中", "城乡居民", "企业职工")

_BREAK_BEFORE = re.compile(
    "(?=[" + re.escape(_OPEN) + "])|(?=(?:" + "|".join(_HEADS) + "))|(?=[" + _CONJUNCTIONS + "])"
)


def words(text: str) -> list[str]:
    """``text`` cut where a line may break (the pieces joined give ``text`` back)."""
    cuts = {0, len(text)}
    for index, char in enumerate(text):
        if char in _AFTER_CHARS or char in _CLOSE:
            cuts.add(index + 1)
    for match in _BREAK_BEFORE.finditer(text):
        cuts.add(match.start())
    for tail in _TAILS:
        for match in re.finditer(tail, text):
            cuts.add(match.end())
    ordered = sorted(cuts)
    pieces = [text[a:b] for a, b in pairwise(ordered) if b > a]
    merged: list[str] = []
    carry = ""  # a conjunction or an opening bracket goes with the word after it
    for piece in pieces:
        piece = carry + piece
        carry = ""
        core = piece.strip()
        if len(core) == 1 and (core in _CONJUNCTIONS or core in _OPEN):
            carry = piece
            continue
        # No word of one character (「已/参保」) and none of punctuation only (「其中/：」).
        alone = len(core) <= 1 or all(c in _AFTER_CHARS + _CLOSE for c in piece)
        if merged and (alone or len(merged[-1]) == 1):
            merged[-1] += piece
        else:
            merged.append(piece)
    if carry:
        merged.append(carry)
    return merged


def breakable(text: str) -> str:
    """``text`` as drawn: the characters of each word held together."""
    if not text or "\n" in text:
        return text
    return "".join(JOINER.join(word) if len(word) <= LONGEST_WORD else word for word in words(text))


def longest_word_width(metrics: QFontMetrics, text: str) -> int:
    """How wide a column must be for ``text`` to wrap only between its words."""
    held = [w.strip() for w in words(text) if len(w) <= LONGEST_WORD]
    return max((metrics.horizontalAdvance(w) for w in held), default=0)


def lines_needed(metrics: QFontMetrics, text: str, width: int) -> int:
    """How many lines ``text`` takes in ``width`` pixels, wrapped as it is drawn."""
    if width <= 0:
        return 1
    rect = metrics.boundingRect(
        QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), breakable(text)
    )
    return max(1, round(rect.height() / max(1, metrics.lineSpacing())))


def fit_headers(view: QTableView, sheet: Sheet) -> None:
    """Widen a form's columns to hold each header's longest word, and make its header rows tall
    enough for the lines the headers wrap to (in the view's font, bold as headers are drawn)."""
    font = QFont(view.font())
    font.setBold(True)
    metrics = QFontMetrics(font)
    margin = 2 * CELL_MARGIN
    for _row, column, cell in sheet:
        if cell.role in WORDED and cell.colspan == 1:
            need = longest_word_width(metrics, cell.text) + margin
            if view.columnWidth(column) < need:
                view.setColumnWidth(column, need)
    heights: dict[int, int] = {}
    for row, column, cell in sheet:
        if cell.role in WORDED and cell.rowspan == 1:
            width = sum(view.columnWidth(c) for c in range(column, column + cell.colspan))
            lines = lines_needed(metrics, cell.text, width - margin)
            need = int((lines + 0.7) * metrics.height())
            heights[row] = max(heights.get(row, 0), need)
    for row, need in heights.items():
        if view.rowHeight(row) < need:
            view.setRowHeight(row, need)


def use_width(view: QTableView, widths: list[int]) -> list[int]:
    """``widths`` spread over the view's width (each column in proportion, at most
    :data:`MOST_SPREAD` times its own), leaving room for a vertical scroll bar."""
    natural = sum(widths)
    room = view.viewport().width() - view.verticalScrollBar().sizeHint().width() - 2
    if natural <= 0 or room <= natural:
        return widths
    scale = min(room / natural, MOST_SPREAD)
    return [int(width * scale) for width in widths]
