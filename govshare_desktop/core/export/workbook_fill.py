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

import os
import re
from collections.abc import Iterable, Mapping
from copy import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zipfile import BadZipFile

from govshare_desktop.core.domain import codes
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.domain.text import FORMULA_TRIGGERS
from govshare_desktop.core.export import CANCELLED
from govshare_desktop.core.export.audited import ANCHOR_PREFIX, audited_write, require_reason
from govshare_desktop.core.forms.dictionary import Element, FormsError, load_toml
from govshare_desktop.core.forms.sheet import MASKERS
from govshare_desktop.core.forms.templates import Template
from govshare_desktop.core.progress import Cancel, Progress, check, report
from govshare_desktop.core.resources import resource_path

if TYPE_CHECKING:
    from govshare_desktop.core.forms.values import FormData, FormValues

UNIT, PERIOD, TODAY = "unit", "period", "today"
LABEL, NUMBER = "label", "number"
CELL_SPECIALS = (UNIT, PERIOD, TODAY)
ROW_SPECIALS = (LABEL, NUMBER)
TOP_KEYS = {"name", "template", "workbook", "sheet", "cells", "rows"}
ROW_KEYS = {"first", "last", "total_row", "columns"}
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_COLUMN = re.compile(r"[A-Z]{1,3}")
_LONG_CODE = re.compile(r"0[0-9]*|[0-9]{8,}[0-9Xx]?")
_REF = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)")
_ROWS_REF = re.compile(r"(\$?)([0-9]+):(\$?)([0-9]+)")


@dataclass(frozen=True)
class FixedCell:
    ref: str  # "B3"
    value: str  # unit | period | today | an element code
    text: str | None = None  # "填报时间：{}": the value put in at {}


@dataclass(frozen=True)
class WorkbookMapping:
    id: str  # the mapping file's stem
    path: Path  # the mapping file
    name: str
    template: str
    workbook: Path
    sheet: str | None = None
    cells: tuple[FixedCell, ...] = ()
    first_row: int | None = None
    last_row: int | None = None
    total_row: int | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (column letters, label | number | element)

    @property
    def has_rows(self) -> bool:
        return self.first_row is not None


def workbooks_dir() -> Path:
    return resource_path("forms", "workbooks")


# ---------------------------------------------------------------- reading mappings


def parse_mapping(path: Path) -> WorkbookMapping:
    """The mapping file ``path`` checked on its own: fields, cell references, the workbook file.
    Whether its elements belong to the template is :func:`check_mapping`'s job."""
    path = Path(path)
    document = load_toml(path)
    file = path.name

    def fail(field: str, problem: str) -> FormsError:
        return FormsError(f"部门表样 {file} 的 {field}：{problem}")

    unknown = set(document) - TOP_KEYS
    if unknown:
        raise fail(
            "、".join(sorted(unknown)),
            f"不认识的字段（可用：{'、'.join(sorted(TOP_KEYS))}）",
        )
    for key in ("template", "workbook"):
        value = document.get(key)
        if not isinstance(value, str) or not value.strip():
            raise FormsError(f"部门表样 {file} 缺少字段“{key}”")
    workbook = path.parent / document["workbook"]
    if workbook.suffix.lower() != ".xlsx":
        raise fail(
            "workbook", f"“{document['workbook']}”不是 .xlsx 文件，请在 Excel 中另存为 .xlsx"
        )
    if not workbook.is_file():
        raise fail(
            "workbook", f"找不到表样文件“{document['workbook']}”（应与 {file} 放在同一文件夹）"
        )
    sheet = document.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise fail("sheet", "应为工作表名称")
    name = document.get("name", workbook.stem)
    if not isinstance(name, str):
        raise fail("name", "应为文字")

    raw_cells = document.get("cells", {})
    if not isinstance(raw_cells, dict):
        raise fail("[cells]", '应为表，如 "B3" = "unit"')
    cells = []
    for ref, raw in raw_cells.items():
        field = f"[cells] “{ref}”"
        if not _valid_cell(ref.strip().upper()):
            raise fail(field, "不是有效的单元格（应写成 B3 这样的列字母加行号）")
        text = None
        if isinstance(raw, dict):
            if set(raw) - {"value", "text"} or not isinstance(raw.get("value"), str):
                raise fail(field, '应写成 "unit" 或 { value = "unit", text = "填报单位：{}" }')
            text = raw.get("text")
            if not isinstance(text, str) or text.count("{}") != 1:
                raise fail(field, "text 应为文字，且含一处 {}（值填在那里）")
            raw = raw["value"]
        if not isinstance(raw, str) or not raw.strip():
            raise fail(field, f"应为 {'、'.join(CELL_SPECIALS)} 或数据项代码")
        cells.append(FixedCell(ref.strip().upper(), raw.strip(), text))

    first = last = total = None
    columns: list[tuple[str, str]] = []
    raw_rows = document.get("rows")
    if raw_rows is not None:
        if not isinstance(raw_rows, dict):
            raise fail("[rows]", "应为表，如 first = 7")
        unknown = set(raw_rows) - ROW_KEYS
        if unknown:
            raise fail(
                "[rows] " + "、".join(sorted(unknown)),
                f"不认识的字段（可用：{'、'.join(sorted(ROW_KEYS))}）",
            )

        def row_number(key: str, required: bool = False) -> int | None:
            value = raw_rows.get(key)
            if value is None and not required:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ROW:
                raise fail(f"[rows] {key}", "应为行号（正整数）")
            return value

        first = row_number("first", required=True)
        last = row_number("last")
        total = row_number("total_row")
        assert first is not None
        if last is not None and last < first:
            raise fail("[rows] last", f"最后一行（{last}）在第一行（{first}）之前")
        if total is not None and (total == first or (last is not None and first <= total <= last)):
            raise fail("[rows] total_row", f"合计行（第 {total} 行）不能在逐行填写的区域内")
        raw_columns = raw_rows.get("columns")
        if not isinstance(raw_columns, dict) or not raw_columns:
            raise fail("[rows.columns]", '缺少列的对应，如 "C" = "P_TOTAL"')
        for letters, value in raw_columns.items():
            field = f"[rows.columns] “{letters}”"
            letters = letters.strip().upper()
            if not _COLUMN.fullmatch(letters) or _column_index(letters) > MAX_COLUMN:
                raise fail(field, "不是有效的列（应为 A、B … XFD）")
            if not isinstance(value, str) or not value.strip():
                raise fail(field, f"应为 {'、'.join(ROW_SPECIALS)} 或数据项代码")
            columns.append((letters, value.strip()))
    return WorkbookMapping(
        id=path.stem,
        path=path,
        name=name,
        template=document["template"].strip(),
        workbook=workbook,
        sheet=sheet.strip() if isinstance(sheet, str) else None,
        cells=tuple(cells),
        first_row=first,
        last_row=last,
        total_row=total,
        columns=tuple(columns),
    )


def check_mapping(
    mapping: WorkbookMapping,
    dictionary: Mapping[str, Element],
    templates: Mapping[str, Template],
) -> Template:
    """The mapping's template, after checking every element against the dictionary and the
    template, and every field against the template's kind."""
    file = mapping.path.name

    def fail(field: str, problem: str) -> FormsError:
        return FormsError(f"部门表样 {file} 的 {field}：{problem}")

    template = templates.get(mapping.template)
    if template is None:
        raise fail("template", f"没有报表模板“{mapping.template}”")

    def element(code: str, field: str) -> None:
        if code not in dictionary:
            raise fail(field, f"数据项“{code}”不在数据项字典中")
        if code not in template.elements:
            raise fail(field, f"数据项“{code}”（{dictionary[code].name}）不在“{template.title}”中")

    for cell in mapping.cells:
        field = f"[cells] “{cell.ref}”"
        if cell.value in CELL_SPECIALS:
            continue
        if cell.value in ROW_SPECIALS:
            raise fail(field, f"“{cell.value}”只能用在 [rows.columns] 中")
        element(cell.value, field)
        if template.kind == "roster":
            raise fail(
                field,
                "花名册的固定单元格只能填 unit、period、today，数据项请写在 [rows.columns] 中",
            )
    if template.kind == "individual":
        if mapping.has_rows:
            raise fail("[rows]", f"“{template.title}”是登记表，数据项请写在 [cells] 中")
    else:
        if mapping.total_row is not None and template.kind != "table":
            raise fail("[rows] total_row", "只有统计表有合计行")
        for letters, value in mapping.columns:
            if value not in ROW_SPECIALS:
                element(value, f"[rows.columns] “{letters}”")
    return template


def resolve_mapping(mapping_path_or_id: str | Path) -> Path:
    """A mapping file: a path, or the id (file stem) of a shipped mapping."""
    text = str(mapping_path_or_id)
    if (
        isinstance(mapping_path_or_id, Path)
        or text.endswith(".toml")
        or os.sep in text
        or "/" in text
    ):
        return Path(mapping_path_or_id)
    path = workbooks_dir() / f"{text}.toml"
    if not path.is_file():
        raise FormsError(f"没有部门表样“{text}”（在 {workbooks_dir()} 中找不到 {text}.toml）")
    return path


def load_workbooks(directory: Path | None = None) -> tuple[list[WorkbookMapping], list[FormsError]]:
    """Every mapping in the directory that reads, and an error for each one that does not."""
    directory = directory or workbooks_dir()
    found: list[WorkbookMapping] = []
    problems: list[FormsError] = []
    if not directory.is_dir():
        return found, problems
    for path in sorted(directory.glob("*.toml")):
        try:
            found.append(parse_mapping(path))
        except FormsError as exc:
            problems.append(exc)
    return found, problems


def list_workbooks(template_id: str, directory: Path | None = None) -> list[WorkbookMapping]:
    """The shipped department workbooks for one template (broken mappings are left out; see
    :func:`load_workbooks` for their errors)."""
    return [m for m in load_workbooks(directory)[0] if m.template == template_id]


def check_workbook(
    mapping_path_or_id: str | Path,
    dictionary: Mapping[str, Element],
    templates: Mapping[str, Template],
) -> WorkbookMapping:
    """Everything that can be checked without data: the mapping, its template, the workbook's
    sheet and the fixed cells (none inside a merged cell)."""
    mapping = parse_mapping(resolve_mapping(mapping_path_or_id))
    check_mapping(mapping, dictionary, templates)
    ws = _sheet(_load(mapping), mapping)
    for cell in mapping.cells:
        _writable(ws, cell.ref, mapping, f"[cells] “{cell.ref}”")
    return mapping


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
    template = check_mapping(mapping, pool.dictionary, pool.templates)
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


# ---------------------------------------------------------------- the workbook


def _load(mapping: WorkbookMapping) -> Any:
    from openpyxl import load_workbook  # heavy: openpyxl loads only for workbooks

    try:
        return load_workbook(mapping.workbook, rich_text=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FormsError(
            f"部门表样 {mapping.path.name} 的 workbook：无法打开“{mapping.workbook.name}”（{exc}）"
        ) from None


def _sheet(workbook: Any, mapping: WorkbookMapping) -> Any:
    if mapping.sheet is None:
        return workbook.worksheets[0]
    if mapping.sheet not in workbook.sheetnames:
        raise FormsError(
            f"部门表样 {mapping.path.name} 的 sheet：“{mapping.workbook.name}”中没有工作表"
            f"“{mapping.sheet}”（有：{'、'.join(workbook.sheetnames)}）"
        )
    return workbook[mapping.sheet]


def _writable(ws: Any, ref: str, mapping: WorkbookMapping, field: str) -> Any:
    """The cell at ``ref``; a FormsError naming the mapping field if it is covered by a merge."""
    from openpyxl.cell.cell import MergedCell  # heavy: openpyxl loads only for workbooks

    cell = ws[ref]
    if isinstance(cell, MergedCell):
        merged = next((r for r in ws.merged_cells.ranges if ref in r), None)
        where = f"合并单元格 {merged.coord} 的一部分" if merged else "合并单元格的一部分"
        top = f"，只能写入其左上角 {merged.start_cell.coordinate}" if merged else ""
        raise FormsError(f"部门表样 {mapping.path.name} 的 {field}：{ref} 是{where}{top}")
    return cell


def _valid_cell(ref: str) -> bool:
    match = _CELL.fullmatch(ref)
    return match is not None and _column_index(match[1]) <= MAX_COLUMN and int(match[2]) <= MAX_ROW


def _column_index(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


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
    from openpyxl.cell.cell import MergedCell  # heavy: openpyxl loads only for workbooks
    from openpyxl.formatting.formatting import ConditionalFormattingList  # heavy: as above
    from openpyxl.formula.translate import Translator  # heavy: openpyxl loads only for workbooks
    from openpyxl.worksheet.cell_range import (  # heavy: openpyxl loads only for workbooks
        CellRange,
        MultiCellRange,
    )

    def moved(ranges: Any) -> MultiCellRange:
        out = []
        for cell_range in ranges.ranges:
            copied = CellRange(cell_range.coord)
            _shift_range(copied, at, count)
            out.append(copied)
        return MultiCellRange(out)

    assert source < at
    ws.insert_rows(at, count)

    # Merged cells: below the insertion move down, across it grow.
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

    # Row heights and row styles.
    for index in sorted((i for i in ws.row_dimensions if i >= at), reverse=True):
        dimension = ws.row_dimensions.pop(index)
        dimension.index = index + count
        ws.row_dimensions[index + count] = dimension
    template = ws.row_dimensions.get(source)

    # The new rows: styles (and formulas) of the source row, and its own horizontal merges.
    skip = set(skip)
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

    # Formulas anywhere on the sheet that point at moved rows.
    for (row, _column), cell in list(ws._cells.items()):
        if cell.data_type == "f" and isinstance(cell.value, str) and not at <= row < at + count:
            cell.value = _adjust_formula(cell.value, ws.title, at, count, block_first)

    # Print area, print titles, page breaks.
    if ws._print_area is not None and ws._print_area.ranges:
        ws.print_area = [str(r) for r in moved(ws._print_area).sorted()]
    if ws._print_rows is not None:
        low, high = ws._print_rows.min_row, ws._print_rows.max_row
        if high >= at:
            ws.print_title_rows = f"{low + count if low >= at else low}:{high + count}"
    for brk in ws.row_breaks.brk:
        if brk.id is not None and brk.id >= at:  # a break sits below row ``id``
            brk.id += count

    # Validations, conditional formats, links, pictures.
    for validation in ws.data_validations.dataValidation:
        validation.sqref = moved(validation.sqref)
    if ws.conditional_formatting:
        old = ws.conditional_formatting
        ws.conditional_formatting = ConditionalFormattingList()
        for formatting in old:
            for rule in formatting.rules:
                ws.conditional_formatting.add(str(moved(formatting.sqref)), rule)
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
