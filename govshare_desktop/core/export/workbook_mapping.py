"""A department's 表样 mapping (``resources/forms/workbooks/*.toml``): reading it, checking it against
its template and its workbook, and finding the mappings of a template.

What a mapping says is described in :mod:`govshare_desktop.core.export.workbook_fill`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zipfile import BadZipFile

from govshare_desktop.core.forms.dictionary import Element, FormsError, load_toml
from govshare_desktop.core.forms.templates import Template
from govshare_desktop.core.resources import resource_path

if TYPE_CHECKING:
    pass


UNIT, PERIOD, TODAY = "unit", "period", "today"
LABEL, NUMBER = "label", "number"
CELL_SPECIALS = (UNIT, PERIOD, TODAY)
ROW_SPECIALS = (LABEL, NUMBER)
TOP_KEYS = {"name", "template", "workbook", "sheet", "cells", "rows"}
ROW_KEYS = {"first", "last", "total_row", "columns"}
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_COLUMN = re.compile(r"[A-Z]{1,3}")


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

    cells = _parse_cells(document.get("cells", {}), fail)
    first, last, total, columns = _parse_rows(document.get("rows"), fail)
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


_Fail = Callable[[str, str], FormsError]


def _parse_cells(raw_cells: Any, fail: _Fail) -> list[FixedCell]:
    """The ``[cells]`` table: fixed cells filled with the unit, the period, the date or a value."""
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
    return cells


def _parse_rows(
    raw_rows: Any, fail: _Fail
) -> tuple[int | None, int | None, int | None, list[tuple[str, str]]]:
    """The ``[rows]`` table: (first, last, total row, [(column letters, value)]), all empty
    without one."""
    if raw_rows is None:
        return None, None, None, []
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
    columns = []
    for letters, value in raw_columns.items():
        field = f"[rows.columns] “{letters}”"
        letters = letters.strip().upper()
        if not _COLUMN.fullmatch(letters) or _column_index(letters) > MAX_COLUMN:
            raise fail(field, "不是有效的列（应为 A、B … XFD）")
        if not isinstance(value, str) or not value.strip():
            raise fail(field, f"应为 {'、'.join(ROW_SPECIALS)} 或数据项代码")
        columns.append((letters, value.strip()))
    return first, last, total, columns


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
