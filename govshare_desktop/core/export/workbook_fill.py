"""A department's own workbook (表样): fill a copy of the .xlsx a department sent, cell for cell
where a mapping file says, and keep everything else of the original — styles, merges, widths,
headers, formulas, print setup.

A mapping is a TOML file beside the workbook (shipped ones in ``resources/forms/workbooks/``)::

    name = "县人社局参保情况统计表（表样）"      # optional, shown when choosing a workbook
    template = "rs_resident_pension_enrollment"   # the 一表通 template whose values go in
    workbook = "rs_county_enrollment.xlsx"        # beside this file
    sheet = "参保情况"                             # optional, default the first sheet

    [cells]                                       # fixed cells
    "B3" = "unit"                                 # the reporting unit (青禾镇, 青禾镇东岭村)
    "F3" = "period"                               # the period label (2026年10月)
    "H3" = { value = "today", text = "填报时间：{}" }   # the fill date, inside a text

    [rows]                                        # 统计表 and 花名册: one row per subject
    first = 7                                     # the first data row
    total_row = 6                                 # optional (统计表): 合计 in a fixed row
    last = 16                                     # optional: the last prepared row

    [rows.columns]
    "A" = "number"                                # 1, 2, 3 … (not on the 合计 row)
    "B" = "label"                                 # 合计 / the village / the roster's 序号
    "C" = "P_TOTAL"                               # an element of the template

A 统计表's data rows are its villages in order, then 「其他（未落户）」 when the form has that row
(records with no village; not numbered), so the department's own ``=SUM()`` over the block adds
up to the township. The township's 合计 goes only into ``total_row``, never into a data row, and
only into cells of it that do not already hold a formula: where the workbook sums, its formula
stays. Without ``total_row`` the 合计 is not written at all (the workbook's own 合计 row, if any,
is left to its formulas). A 花名册 has a row per person. When the workbook has fewer prepared rows
than that, rows are inserted inside the prepared block (so its bottom border stays at the bottom
and ``SUM`` ranges over it grow — openpyxl's ``insert_rows`` moves no formula, so every formula on
the sheet is adjusted here, and a range over a one-row block grows too), styled like a prepared
row, and everything below moves down: merged cells, row heights, print area, page breaks,
formulas, validations, conditional formats, links and pictures. A mapped cell of any row that
holds a formula is never overwritten. 登记表 use ``[cells]`` only: ``"B4" = "P_NAME"``.

Values keep their types: numbers stay numbers, money goes in as yuan (``0.00`` unless the cell
already has a number format), dates as dates, ID numbers and long codes as text (``@``). Nothing
from the data becomes a formula. The copy is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govshare_desktop.core.domain import codes
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.domain.text import FORMULA_TRIGGERS
from govshare_desktop.core.export import CANCELLED
from govshare_desktop.core.export.audited import ANCHOR_PREFIX, audited_write, require_reason
from govshare_desktop.core.export.workbook_mapping import (
    _CELL,
    LABEL,
    MAX_ROW,
    NUMBER,
    PERIOD,
    ROW_SPECIALS,
    TODAY,
    UNIT,
    FixedCell,
    WorkbookMapping,
    _column_index,
    _load,
    _sheet,
    _writable,
    check_mapping,
    check_workbook,
    list_workbooks,
    load_workbooks,
    parse_mapping,
    resolve_mapping,
)
from govshare_desktop.core.export.workbook_rows import _bordered, _insert_rows
from govshare_desktop.core.forms.dictionary import Element, FormsError
from govshare_desktop.core.forms.sheet import MASKERS
from govshare_desktop.core.progress import Cancel, Progress, check, report

if TYPE_CHECKING:
    from govshare_desktop.core.forms.values import FormData, FormValues

_LONG_CODE = re.compile(r"0[0-9]*|[0-9]{8,}[0-9Xx]?")


# ---------------------------------------------------------------- filling


def fill_workbook(
    pool: FormValues,
    mapping_path_or_id: str | Path,
    area: str,
    period: Period,
    out_path: str | Path,
    *,
    masked: bool = True,
    reason: str = "",
    today: date | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Fill a copy of the department's workbook with the form ``mapping.template`` for ``area``
    (a township or village code; an ID number for a 登记表) and ``period``; returns ``out_path``.

    Like every export it goes through :func:`~govshare_desktop.core.export.audited.audited_write`:
    the permission is checked, the file is recorded in the audit trail (SHA-256, who, why) before
    it appears, the audit anchor goes into its properties, and it is private to its owner.
    Personal data is written masked unless ``masked`` is False, which needs the permission and a
    ``reason``. ``progress(step, 3, label)``: values gathered, workbook filled, saved; once
    ``cancel`` is set, :class:`~govshare_desktop.core.progress.Cancelled` and no file."""
    mapping = parse_mapping(resolve_mapping(mapping_path_or_id))
    # Checked against the template's version for this period and area (the one collect fills).
    versions = (
        {mapping.template: pool.template_for(mapping.template, period, area)}
        if mapping.template in pool.templates
        else {}
    )
    template = check_mapping(mapping, pool.dictionary, versions)
    out = Path(out_path)
    if out.resolve() == mapping.workbook.resolve():
        raise FormsError(f"不能把填好的表写回部门表样原件 {mapping.workbook.name}，请另选保存位置")
    # A form without personal data (a 统计表) is as safe as a masked one.
    masked = masked or not any(pool.dictionary[code].mask for code in template.elements)
    require_reason(masked, reason)
    report(progress, 0, 3, f"正在汇总“{template.title}”的数据……")
    data = pool.collect(template.id, area, period)
    principal = pool.store.principal
    check(cancel, CANCELLED)

    def make(temp: Path, anchor: str) -> None:
        report(progress, 1, 3, f"正在填写部门表样 {mapping.workbook.name}……")
        workbook = _load(mapping)
        ws = _sheet(workbook, mapping)
        _Filler(ws, mapping, data, today or date.today(), masked=masked).fill()
        workbook.properties.lastModifiedBy = principal.username
        workbook.properties.keywords = f"{ANCHOR_PREFIX}{anchor}"
        check(cancel, CANCELLED)  # before the save: a cancelled fill leaves no file
        report(progress, 2, 3, "正在保存……")
        workbook.save(temp)

    out.parent.mkdir(parents=True, exist_ok=True)
    audited_write(
        pool.store,
        out,
        make,
        masked=masked,
        count=1,
        detail={
            "template": template.id,
            "period": str(period),
            "area": area if template.kind != "individual" else "",
            "format": "xlsx",
            "workbook": mapping.workbook.name,
            **({"reason": reason.strip()} if reason.strip() else {}),
        },
    )
    report(progress, 3, 3, "已导出")
    return out


class _Filler:
    def __init__(
        self, ws: Any, mapping: WorkbookMapping, data: FormData, today: date, *, masked: bool
    ) -> None:
        self.ws = ws
        self.mapping = mapping
        self.data = data
        self.today = today
        self.masked = masked
        self.dictionary = data.dictionary

    def value_of(self, code: str, subject: str) -> tuple[Any, Element | None]:
        """The value to write and the element that types it; masked personal data is text."""
        element = self.dictionary[code]
        value = self.data.value(code, subject)
        if self.masked and element.mask is not None and value is not None:
            return MASKERS[element.mask](_text(value, element)), None
        return value, element

    def fill(self) -> None:
        mapping, data = self.mapping, self.data
        rows: list[tuple[int, str, str, int | None]] = []  # (row, subject, label, number)
        moved_from, moved_by = MAX_ROW + 1, 0  # rows at or below moved_from go down moved_by
        if mapping.has_rows:
            assert mapping.first_row is not None
            subjects = list(data.subjects)
            total: tuple[str, str] | None = None
            if data.template.kind == "table" and subjects:
                if mapping.total_row is not None:
                    total = (subjects[0][0], "合计")
                if subjects[0][0] == data.total_subject:
                    subjects = subjects[1:]  # 合计 never goes into a data row
            first = mapping.first_row
            last = mapping.last_row or self._prepared_last(first)
            prepared = last - first + 1
            if len(subjects) > prepared:
                extra = len(subjects) - prepared
                at = last if prepared >= 2 else last + 1
                source = last - 1 if prepared >= 2 else last
                skip = {_column_index(letters) for letters, value in mapping.columns}
                block = first if prepared < 2 else None  # rows go below a one-row block
                _insert_rows(self.ws, at, extra, source, skip, block_first=block)
                moved_from, moved_by = at, extra
            count = 0
            for offset, (subject, label) in enumerate(subjects):
                numbered = subject != data.other_subject  # 其他（未落户） is not a village
                if numbered:
                    count += 1
                rows.append((first + offset, subject, label, count if numbered else None))
            if total is not None:
                assert mapping.total_row is not None
                row = mapping.total_row
                rows.append((row + moved_by if row >= moved_from else row, *total, None))
        for cell in mapping.cells:
            match = _CELL.fullmatch(cell.ref)
            assert match is not None
            row = int(match[2])
            ref = f"{match[1]}{row + moved_by if row >= moved_from else row}"
            target = _writable(self.ws, ref, mapping, f"[cells] “{cell.ref}”")
            if target.data_type != "f":  # a cell the workbook computes keeps its formula
                self.put_fixed(target, cell)
        for row, subject, label, number in rows:
            for letters, value in mapping.columns:
                ref = f"{letters}{row}"
                target = _writable(self.ws, ref, mapping, f"[rows.columns] “{letters}”")
                if target.data_type == "f":
                    continue  # the department's own formula (its SUM for 合计) stays
                if value == NUMBER:
                    if number is not None:
                        _put(target, number, None)
                elif value == LABEL:
                    kind = self.data.template.kind
                    _put(
                        target, int(label) if kind == "roster" and label.isdigit() else label, None
                    )
                else:
                    self.put_element(target, value, subject)

    def _prepared_last(self, first: int) -> int:
        """The last prepared data row: from ``first`` down, bordered rows with nothing in the
        mapped columns but a printed 序号 (so it stops before a footer, a merged line or the
        form's own 合计 row). ``[rows] last`` says it when this guess is wrong."""
        from openpyxl.cell.cell import MergedCell  # heavy: openpyxl loads only for workbooks

        columns = [(_column_index(letters), value) for letters, value in self.mapping.columns]
        row = first
        while row < self.ws.max_row and row + 1 != self.mapping.total_row:
            cells = [(self.ws.cell(row + 1, c), value) for c, value in columns]
            if any(
                isinstance(cell, MergedCell)
                or not (
                    cell.value is None or (value in ROW_SPECIALS and isinstance(cell.value, int))
                )
                for cell, value in cells
            ):
                break
            if not any(_bordered(cell) for cell, _ in cells):
                break
            row += 1
        return row

    def put_fixed(self, target: Any, cell: FixedCell) -> None:
        value: Any
        if cell.value == UNIT:
            value, element = self.data.unit, None
        elif cell.value == PERIOD:
            value, element = self.data.period.label, None
        elif cell.value == TODAY:
            value, element = self.today, None
        else:
            subject = self.data.area
            if self.data.template.kind == "individual" and self.data.subjects:
                subject = self.data.subjects[0][0]
            value, element = self.value_of(cell.value, subject)
        if cell.text is None:
            if value is not None or cell.value in (UNIT, PERIOD, TODAY):
                _put(target, value, element)
            return
        _put(target, cell.text.replace("{}", _text(value, element)), None)

    def put_element(self, target: Any, code: str, subject: str) -> None:
        value, element = self.value_of(code, subject)
        if value is not None:  # nothing to say: the template's own content stays
            _put(target, value, element)


def _put(target: Any, value: Any, element: Element | None) -> None:
    """Write one typed value, keeping the cell's style (only a missing number format is set)."""
    kind = element.type if element is not None else None
    if kind == "money" and isinstance(value, int):
        target.value = Decimal(value) / 100
        if target.number_format == "General":
            target.number_format = "0.00"
        return
    if kind == "code" and element is not None and element.code_list and value is not None:
        value = codes.table(element.code_list).label(str(value))
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, (int, Decimal, date)):
        target.value = value  # dates get yyyy-mm-dd from openpyxl unless already a date format
        return
    text = "" if value is None else str(value)
    target.value = text or None
    if not text:
        return
    target.data_type = "s"  # never a formula, whatever the text says
    if text.startswith(FORMULA_TRIGGERS):
        target.quotePrefix = True  # Excel's leading apostrophe: stays text when edited
    if _LONG_CODE.fullmatch(text):
        target.number_format = "@"


def _text(value: Any, element: Element | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if element is not None and element.type == "money" and isinstance(value, int):
        return f"{Decimal(value) / 100:,.2f}"
    if element is not None and element.type == "code" and element.code_list:
        return codes.table(element.code_list).label(str(value))
    return str(value)


__all__ = [
    "FixedCell",
    "WorkbookMapping",
    "check_mapping",
    "check_workbook",
    "fill_workbook",
    "list_workbooks",
    "load_workbooks",
    "parse_mapping",
    "resolve_mapping",
]
