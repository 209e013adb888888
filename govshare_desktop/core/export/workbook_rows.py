"""Making room in a department's workbook: rows inserted below the last mapped row (styles, merged
cells, heights and borders copied), and every formula, merged range and print area shifted past
them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from copy import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

_REF = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)")
_ROWS_REF = re.compile(r"(\$?)([0-9]+):(\$?)([0-9]+)")


def _bordered(cell: Any) -> bool:
    border = cell.border
    return any(
        side is not None and side.style is not None
        for side in (border.left, border.right, border.top, border.bottom)
    )


# ---------------------------------------------------------------- inserting rows


def _insert_rows(
    ws: Any,
    at: int,
    count: int,
    source: int,
    skip: Iterable[int] = (),
    *,
    block_first: int | None = None,
) -> None:
    """Insert ``count`` rows before row ``at`` styled like row ``source`` (above ``at``), and
    move everything openpyxl's ``insert_rows`` leaves behind (it moves cells only: no formula,
    merge or print setting follows). Formulas of ``source`` in columns not in ``skip`` are
    copied, adjusted to their row. ``block_first``: the prepared block starts there and ends just
    above ``at`` (rows appended below a block), so a range over the block grows with it."""
    assert source < at
    ws.insert_rows(at, count)
    _grow_merges(ws, at, count)
    _move_row_heights(ws, at, count)
    _fill_new_rows(ws, at, count, source, set(skip))

    # Formulas anywhere on the sheet that point at moved rows.
    for (row, _column), cell in list(ws._cells.items()):
        if cell.data_type == "f" and isinstance(cell.value, str) and not at <= row < at + count:
            cell.value = _adjust_formula(cell.value, ws.title, at, count, block_first)

    _move_print_settings(ws, at, count)
    _move_the_rest(ws, at, count)


def _moved(ranges: Any, at: int, count: int) -> Any:
    """A copy of the ``MultiCellRange`` ``ranges`` with rows inserted before ``at``."""
    from openpyxl.worksheet.cell_range import (  # heavy: openpyxl loads only for workbooks
        CellRange,
        MultiCellRange,
    )

    out = []
    for cell_range in ranges.ranges:
        copied = CellRange(cell_range.coord)
        _shift_range(copied, at, count)
        out.append(copied)
    return MultiCellRange(out)


def _grow_merges(ws: Any, at: int, count: int) -> None:
    """Merged cells: below the insertion move down, across it grow."""
    from openpyxl.cell.cell import MergedCell  # heavy: openpyxl loads only for workbooks

    for merged in ws.merged_cells.ranges:
        if merged.min_row >= at:
            merged.shift(row_shift=count)
        elif merged.max_row >= at:
            for row in range(at, at + count):
                for column in range(merged.min_col, merged.max_col + 1):
                    above = ws._cells.get((at - 1, column))
                    filler = MergedCell(ws, row=row, column=column)
                    if above is not None:
                        filler._style = copy(above._style)
                    ws._cells[(row, column)] = filler
            merged.expand(down=count)


def _move_row_heights(ws: Any, at: int, count: int) -> None:
    """Row heights and row styles at and below ``at`` move down."""
    for index in sorted((i for i in ws.row_dimensions if i >= at), reverse=True):
        dimension = ws.row_dimensions.pop(index)
        dimension.index = index + count
        ws.row_dimensions[index + count] = dimension


def _fill_new_rows(ws: Any, at: int, count: int, source: int, skip: set[int]) -> None:
    """The new rows: height, styles (and formulas, outside ``skip``) of the source row, and its
    own horizontal merges."""
    from openpyxl.cell.cell import MergedCell  # heavy: openpyxl loads only for workbooks
    from openpyxl.formula.translate import Translator  # heavy: openpyxl loads only for workbooks

    template = ws.row_dimensions.get(source)
    row_merges = [
        (m.min_col, m.max_col)
        for m in ws.merged_cells.ranges
        if m.min_row == m.max_row == source and m.max_col > m.min_col
    ]
    for row in range(at, at + count):
        if template is not None and template.height is not None:
            ws.row_dimensions[row].height = template.height
        for column in range(1, ws.max_column + 1):
            original = ws._cells.get((source, column))
            if original is None or isinstance(original, MergedCell):
                continue  # nothing to copy, or filled in by merging below
            if isinstance(ws._cells.get((row, column)), MergedCell):
                continue  # inside a merge that grew over the new rows
            cell = ws.cell(row, column)
            cell._style = copy(original._style)
            if column not in skip and original.data_type == "f" and isinstance(original.value, str):
                cell.value = Translator(original.value, original.coordinate).translate_formula(
                    cell.coordinate
                )
        for low, high in row_merges:
            ws.merge_cells(start_row=row, start_column=low, end_row=row, end_column=high)
            for column in range(low + 1, high + 1):
                ws._cells[(row, column)]._style = copy(ws._cells[(source, column)]._style)


def _move_print_settings(ws: Any, at: int, count: int) -> None:
    """Print area, print titles, page breaks."""
    if ws._print_area is not None and ws._print_area.ranges:
        ws.print_area = [str(r) for r in _moved(ws._print_area, at, count).sorted()]
    if ws._print_rows is not None:
        low, high = ws._print_rows.min_row, ws._print_rows.max_row
        if high >= at:
            ws.print_title_rows = f"{low + count if low >= at else low}:{high + count}"
    for brk in ws.row_breaks.brk:
        if brk.id is not None and brk.id >= at:  # a break sits below row ``id``
            brk.id += count


def _move_the_rest(ws: Any, at: int, count: int) -> None:
    """Validations, conditional formats, links, pictures."""
    from openpyxl.formatting.formatting import (  # heavy: openpyxl loads only for workbooks
        ConditionalFormattingList,
    )

    for validation in ws.data_validations.dataValidation:
        validation.sqref = _moved(validation.sqref, at, count)
    if ws.conditional_formatting:
        old = ws.conditional_formatting
        ws.conditional_formatting = ConditionalFormattingList()
        for formatting in old:
            for rule in formatting.rules:
                ws.conditional_formatting.add(str(_moved(formatting.sqref, at, count)), rule)
    for cell in ws._cells.values():
        if getattr(cell, "_hyperlink", None) is not None:
            cell._hyperlink.ref = cell.coordinate
    for drawing in [*ws._images, *ws._charts]:
        anchor = getattr(drawing, "anchor", None)
        for marker in (getattr(anchor, "_from", None), getattr(anchor, "to", None)):
            if marker is not None and marker.row >= at - 1:  # zero-based
                marker.row += count


def _shift_range(cell_range: Any, at: int, count: int) -> None:
    if cell_range.min_row >= at:
        cell_range.shift(row_shift=count)
    elif cell_range.max_row >= at:
        cell_range.expand(down=count)


def _adjust_formula(
    formula: str, sheet: str, at: int, count: int, block_first: int | None = None
) -> str:
    """``formula`` with references to rows at or below ``at`` on ``sheet`` moved down by
    ``count`` (a range across ``at`` grows, as when a row is inserted in Excel; so does a range
    from within a block starting at ``block_first`` down to the row just above ``at``)."""
    from openpyxl.formula.tokenizer import (  # heavy: openpyxl loads only for workbooks
        Token,
        Tokenizer,
        TokenizerError,
    )

    try:
        tokens = Tokenizer(formula)
    except TokenizerError:
        return formula
    changed = False
    for token in tokens.items:
        if token.type != Token.OPERAND or token.subtype != Token.RANGE:
            continue
        prefix, bang, ref = token.value.rpartition("!")
        if bang and prefix.strip("'").replace("''", "'") != sheet:
            continue
        new = _adjust_ref(ref, at, count, block_first)
        if new != ref:
            token.value = prefix + bang + new
            changed = True
    return tokens.render() if changed else formula


def _adjust_ref(ref: str, at: int, count: int, block_first: int | None = None) -> str:
    def row(number: str) -> str:
        value = int(number)
        return str(value + count if value >= at else value)

    parts = ref.split(":")
    if len(parts) > 2:
        return ref
    matches = [_REF.fullmatch(p) for p in parts]
    if block_first is not None and len(parts) == 2 and matches[0] and matches[1]:
        low, high = sorted((int(matches[0][4]), int(matches[1][4])))
        if high == at - 1 and low >= block_first:  # over the block that rows were added to
            end = matches[1] if int(matches[1][4]) == high else matches[0]
            grown = f"{end[1]}{end[2]}{end[3]}{high + count}"
            return ":".join(grown if m is end else p for m, p in zip(matches, parts, strict=True))
    if all(_REF.fullmatch(p) for p in parts):
        return ":".join(
            _REF.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{row(m[4])}", part) for part in parts
        )
    whole_rows = _ROWS_REF.fullmatch(ref)
    if whole_rows:
        a, b = whole_rows[2], whole_rows[4]
        return f"{whole_rows[1]}{row(a)}:{whole_rows[3]}{row(b)}"
    return ref
