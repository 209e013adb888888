"""Finding the table inside a sheet: title and source lines above, header (one or two rows), data,
and the 合计/制表人 lines below.

County exports are made for printing: a merged title row, a "数据来源：… 数据时点：…" line, the
header (sometimes two rows, with a merged group cell such as 参保信息 over 险种/参保日期/档次),
the data, then 合计/小计 and 制表人/审核人 lines. :func:`locate` finds the header by asking the
caller which header texts it recognises, and :meth:`LocatedTable.data_rows` streams the rows in
between.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from govshare_desktop.core.backflow.readers import RawRow
from govshare_desktop.core.domain.text import squeeze
from govshare_desktop.core.errors import UserError

__all__ = [
    "FOOTER_PREFIXES",
    "LocatedTable",
    "cell_text",
    "is_footer_text",
    "locate",
    "normalise_header",
    "parse_preamble",
]

#: A row whose first non-empty cell starts with one of these (after normalisation) ends the data.
FOOTER_PREFIXES: tuple[str, ...] = (
    "合计",
    "总计",
    "小计",
    "制表人",
    "制表日期",
    "制表单位",
    "审核人",
    "审核日期",
    "填表人",
    "填报人",
    "填报日期",
    "负责人",
    "单位负责人",
    "经办人",
    "备注",
    "注:",
    "说明:",
    "以下空白",
    "以下无数据",
)
_FOOTER_FIRST_CHARS = frozenset(p[0] for p in FOOTER_PREFIXES) | {"(", "（"}

# Subtotals inside the data (per village, per page) are skipped, not the end of the table: a
# 小计 row only ends the table when no data row follows it.
_SUBTOTAL_RE = re.compile(r"^(?:小计|本页小计|本页合计|\D{1,12}小计)")

_OPEN_BRACKETS = "([［【〔｛{〖"
_CLOSE_BRACKETS = ")]］】〕｝}〗"
_BRACKETS = str.maketrans(
    {**dict.fromkeys(_OPEN_BRACKETS, "("), **dict.fromkeys(_CLOSE_BRACKETS, ")")}
)


def normalise_header(text: str) -> str:
    """Header text in one canonical form, for matching against known column names.

    Whitespace of every kind is removed, also inside (``姓  名`` → ``姓名``) and line breaks in a
    cell; full-width forms become half-width and every kind of bracket becomes ``()``
    (``缴费档次（元/年）`` → ``缴费档次(元/年)``); ``*`` required-field markers and trailing
    colons go.
    """
    t = squeeze(text).translate(_BRACKETS).replace("*", "").replace("()", "")
    return t.rstrip(":")


def cell_text(value: Any) -> str:
    """A cell value as text, for header and footer matching (never for data: see readers)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _first_text(row: RawRow) -> str | None:
    """The first non-empty cell of a row if it is text, else None."""
    for v in row.values:
        if v is None:
            continue
        if isinstance(v, str):
            if v.strip():
                return v
            continue
        return None
    return None


def _footer_kind(row: RawRow) -> str | None:
    """``"footer"``, ``"subtotal"`` or None for an ordinary row."""
    text = _first_text(row)
    if text is None:
        return None
    stripped = text.lstrip(" \t\r\n\u3000*＊")
    if not stripped:
        return None
    if stripped[0] not in _FOOTER_FIRST_CHARS and "小计" not in stripped[:14]:
        return None  # the common case, decided without normalising
    t = normalise_header(text)
    if _SUBTOTAL_RE.match(t):
        return "subtotal"
    return "footer" if is_footer_text(t) else None


def is_footer_text(text: str) -> bool:
    """Whether a (normalised) first-cell text starts a footer line such as ``合计：1044人``."""
    t = text.lstrip("(")
    return t.startswith(FOOTER_PREFIXES)


# --------------------------------------------------------------------------------------- result


@dataclass
class LocatedTable:
    """Where the table is. ``footer`` and ``subtotals`` are filled in as :meth:`data_rows` runs.

    ``columns`` has one normalised header text per column ("" for an unnamed column, trailing
    unnamed columns dropped); with a two-row header it is the lower (sub-)header text where there
    is one, and ``groups`` the merged group text above it ("" if none).
    """

    header_rows: tuple[int, ...]
    columns: tuple[str, ...]
    groups: tuple[str, ...]
    preamble: tuple[str, ...]
    footer: RawRow | None = None
    #: 小计/本页合计 rows met inside the data and skipped.
    subtotals: list[RawRow] = field(default_factory=list)
    _factory: Callable[[], Iterator[RawRow]] | None = field(default=None, repr=False)
    _skip: int = field(default=0, repr=False)
    _pending: Iterator[RawRow] | None = field(default=None, repr=False)

    def data_rows(self) -> Iterator[RawRow]:
        """Rows after the header, without blank rows and subtotals, up to the first footer row.

        Streams: each call re-reads the source if :func:`locate` was given a callable or a
        re-iterable; a one-shot iterator can be read once only.
        """
        rows: Iterator[RawRow]
        if self._factory is not None:
            rows = itertools.islice(self._factory(), self._skip, None)
        elif self._pending is not None:
            rows, self._pending = self._pending, None
        else:
            raise RuntimeError("data_rows() of a table located in a one-shot iterator was read")
        return self._data_rows(rows)

    def _data_rows(self, rows: Iterator[RawRow]) -> Iterator[RawRow]:
        self.footer = None
        self.subtotals = []
        subtotal: RawRow | None = None  # a 小计 row waiting to see whether data follows it
        for row in rows:
            values = row.values
            first = values[0] if values else None
            if (
                first is not None
                and (
                    first.__class__ is not str
                    or (
                        first[:1] not in _FOOTER_FIRST_CHARS
                        and not first[:1].isspace()
                        and first[:1]
                        not in "*＊"  # also true for "": empty cells take the slow path
                        and "小计" not in first[:14]
                    )
                )
            ):
                # The common case, decided from the first cell alone: a number, or text that
                # cannot start a footer or subtotal.
                if subtotal is not None:
                    self.subtotals.append(subtotal)
                    subtotal = None
                yield row
                continue
            if row.is_blank:
                continue
            kind = _footer_kind(row)
            if kind is None:
                if subtotal is not None:
                    self.subtotals.append(subtotal)
                    subtotal = None
                yield row
            elif kind == "subtotal":
                if subtotal is not None:
                    self.subtotals.append(subtotal)
                subtotal = row
            else:
                if subtotal is not None:
                    self.subtotals.append(subtotal)
                self.footer = row
                return
        if subtotal is not None:
            self.footer = subtotal

    def index(self, name: str) -> int | None:
        """The column whose (normalised) header is ``name``, or None."""
        try:
            return self.columns.index(normalise_header(name))
        except ValueError:
            return None


# --------------------------------------------------------------------------------------- locate


def locate(
    source_rows: Callable[[], Iterator[RawRow]] | Iterable[RawRow],
    is_header: Callable[[str], bool],
    *,
    scan_rows: int = 30,
    expected: Sequence[str] = (),
    file_name: str | None = None,
) -> LocatedTable:
    """Find the header among the first ``scan_rows`` non-blank rows.

    ``source_rows`` is best a callable such as ``source.rows`` (the data is then re-read from the
    start, streaming); a list works too, and a one-shot iterator is buffered over the header.
    ``is_header`` is asked about normalised cell texts; the row with most recognised cells wins
    (ties: the earlier), and at least two are needed. ``expected`` and ``file_name`` only make
    the error message helpful. Raises :class:`UserError` when no header is found.
    """
    factory, it = _rows_source(source_rows)
    buffer = _first_rows(it, scan_rows)
    texts = [[normalise_header(cell_text(v)) for v in row.values] for row in buffer]
    known = [[bool(t) and bool(is_header(t)) for t in row_texts] for row_texts in texts]
    scores = [sum(k) for k in known]
    best = max(range(len(buffer)), key=lambda i: (scores[i], -i), default=-1)
    if best < 0 or scores[best] < 2:
        if factory is not None:
            _close(it)
        raise _not_found(buffer, scores, best, scan_rows, expected, file_name)

    upper, lower = _header_span(texts, known, best)
    if upper == lower:
        columns = list(texts[best])
        groups = [""] * len(columns)
    else:
        columns, groups = _combine(texts[upper], known[upper], texts[lower])
    while columns and not columns[-1] and not groups[-1]:
        columns.pop()
        groups.pop()

    preamble = tuple(
        "  ".join(t for t in (cell_text(v).strip() for v in row.values) if t)
        for row in buffer[:upper]
        if not row.is_blank
    )
    table = LocatedTable(
        header_rows=tuple(buffer[i].number for i in range(upper, lower + 1)),
        columns=tuple(columns),
        groups=tuple(groups),
        preamble=preamble,
    )
    if factory is not None:
        _close(it)
        table._factory = factory
        table._skip = lower + 1
    else:
        table._pending = itertools.chain(buffer[lower + 1 :], it)
    return table


def _rows_source(
    source_rows: Callable[[], Iterator[RawRow]] | Iterable[RawRow],
) -> tuple[Callable[[], Iterator[RawRow]] | None, Iterator[RawRow]]:
    """How to read the rows again from the start (None: a one-shot iterator), and the rows."""
    if callable(source_rows):
        return source_rows, source_rows()
    if iter(source_rows) is source_rows:  # a one-shot iterator
        return None, iter(source_rows)
    factory = functools.partial(iter, source_rows)
    return factory, factory()


def _first_rows(it: Iterator[RawRow], scan_rows: int) -> list[RawRow]:
    """The rows up to the ``scan_rows``-th non-blank one."""
    buffer: list[RawRow] = []
    non_blank = 0
    for row in it:
        buffer.append(row)
        if not row.is_blank:
            non_blank += 1
            if non_blank >= scan_rows:
                break
    return buffer


def _header_span(texts: list[list[str]], known: list[list[bool]], best: int) -> tuple[int, int]:
    """The header's first and last row: the best row, with the row above or below when the two
    together are a two-row header (merged group headings over column names)."""
    if best + 1 < len(texts) and _is_two_row_header(
        texts[best], known[best], texts[best + 1], known[best + 1]
    ):
        return best, best + 1
    if best > 0 and _is_two_row_header(texts[best - 1], known[best - 1], texts[best], known[best]):
        return best - 1, best
    return best, best


def _close(it: Iterator[RawRow]) -> None:
    close = getattr(it, "close", None)
    if close is not None:
        close()  # a generator holding a file open


def _cell(row: list[Any], i: int) -> Any:
    return row[i] if i < len(row) else None


def _is_two_row_header(
    upper_t: list[str], upper_k: list[bool], lower_t: list[str], lower_k: list[bool]
) -> bool:
    """Whether two adjacent rows form one header: group cells above, sub-headers below.

    The lower row must name columns (recognised texts) where the upper row is blank or holds an
    unrecognised group text, and be blank (or repeat the text) under every column that the upper
    row names itself: those cells are merged vertically. A data row below a header never passes
    that test; a title or "数据来源：…" line above one neither (see below).
    """
    width = max(len(upper_t), len(lower_t))
    if not any(_cell(lower_k, j) and not _cell(upper_k, j) for j in range(width)):
        return False
    if any(upper_k):
        under = [_cell(lower_t, j) for j in range(len(upper_t)) if upper_k[j]]
        named = [t for j, t in enumerate(upper_t) if upper_k[j]]
        # blank under the vertically merged cells (a repeated text is tolerated, not needed)
        return "" in under and all(not u or u == t for u, t in zip(under, named, strict=True))
    # An upper row of group texts only (every column named in the lower row): tell it from a
    # title or a source line, which have one cell, or a colon.
    filled = [j for j, t in enumerate(upper_t) if t]
    if len(filled) < 2 or any(":" in upper_t[j] for j in filled):
        return False
    if any(not _cell(lower_t, j) for j in filled):
        return False
    first_group = filled[0]
    return any(
        not _cell(upper_t, j) and _cell(lower_t, j) for j in range(first_group + 1, len(lower_t))
    )


def _combine(
    upper_t: list[str], upper_k: list[bool], lower_t: list[str]
) -> tuple[list[str], list[str]]:
    width = max(len(upper_t), len(lower_t))
    columns: list[str] = []
    groups: list[str] = []
    group = ""  # the merged group text spreading to the right over blank upper cells
    for j in range(width):
        up = _cell(upper_t, j) or ""
        low = _cell(lower_t, j) or ""
        if up and (_cell(upper_k, j) or not low):
            group = ""
            columns.append(up)
            groups.append("")
        elif low:
            if up:
                group = up
            columns.append(low)
            groups.append(group)
        else:
            group = ""
            columns.append("")
            groups.append("")
    return columns, groups


def _not_found(
    buffer: list[RawRow],
    scores: list[int],
    best: int,
    scan_rows: int,
    expected: Sequence[str],
    file_name: str | None,
) -> UserError:
    where = f"文件“{file_name}”" if file_name else "表格"
    wanted = "、".join(f"“{e}”" for e in expected[:6])
    message = f"找不到表头：{where}前 {scan_rows} 行中没有一行含有至少两个能识别的列名"
    message += f"（应有{wanted}等列）。" if wanted else "。"
    if not buffer or all(row.is_blank for row in buffer):
        return UserError(message, detail="表格是空的。")
    lines = []
    if best >= 0 and scores[best] == 1:
        lines.append(f"只在第 {buffer[best].number} 行认出一个列名。")
    lines.append("表格开头几行是：")
    for row in [r for r in buffer if not r.is_blank][:5]:
        cells = (cell_text(v).strip() for v in row.values)
        lines.append(f"第 {row.number} 行：" + " | ".join(c for c in cells if c)[:120])
    return UserError(message, detail="\n".join(lines))


# --------------------------------------------------------------------------------------- preamble

_SOURCE_KEYS = ("数据来源", "来源单位", "提供单位", "数据提供单位")
_DATE_KEYS = (
    "数据时点",
    "统计时点",
    "截止日期",
    "截至日期",
    "截止时间",
    "截至时间",
    "数据截止",
    "截至",
)
_SOURCE_RE = re.compile(r"(?:" + "|".join(_SOURCE_KEYS) + r")\s*[:：]\s*(?P<value>.+)")
_NEXT_KEY_RE = re.compile(
    r"(?:"
    + "|".join((*_DATE_KEYS, "统计时间", "填报日期", "制表日期", "制表人", "填报单位"))
    + r")"
)
_DATE_RE = re.compile(
    r"(?:" + "|".join(_DATE_KEYS) + r")\s*(?:日期|时间)?\s*[:：]?\s*"
    r"(?:(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<compact>\d{8})(?!\d))"
)


def parse_preamble(lines: Iterable[str]) -> dict[str, Any]:
    """``source_department`` and ``as_of`` (a date) from title/source lines, where present.

    Understands 数据来源/来源单位/提供单位 and 数据时点/截止日期/统计时点 (also 截至…), with
    dates like 2026-10-31, 2026/10/31, 2026.10.31, 2026年10月31日 or 20261031.
    """
    found: dict[str, Any] = {}
    for line in lines:
        if "source_department" not in found and (m := _SOURCE_RE.search(line)):
            value = m.group("value")
            if nxt := _NEXT_KEY_RE.search(value):
                value = value[: nxt.start()]
            value = value.strip().split()[0] if value.strip() else ""
            value = value.strip(",，;；。、")
            if value:
                found["source_department"] = value
        if "as_of" not in found:
            for m in _DATE_RE.finditer(line):
                if m.group("compact"):
                    c = m.group("compact")
                    y, mo, d = int(c[:4]), int(c[4:6]), int(c[6:])
                else:
                    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
                try:
                    found["as_of"] = date(y, mo, d)
                except ValueError:
                    continue
                break
    return found
