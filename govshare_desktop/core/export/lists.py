"""Any browse list (户籍, 人员, 参保, 待遇发放, search results) to an .xlsx workbook.

The columns are the dataset's own (:mod:`govshare_desktop.core.browse`), so what is exported is what
is shown, masked or not. Cells keep their kind: ID numbers, household numbers, phone numbers and every
other code are text (never a number, never in scientific notation); money is yuan as a real number
(``#,##0.00``); dates are real Excel dates (``yyyy-mm-dd``); counts and ages are numbers. Text that a
spreadsheet could take for a formula (``=``, ``+``, ``-``, ``@`` …) is written as a string cell with
Excel's quote prefix, so it is never run, not even after the cell is edited.

XlsxWriter writes in ``constant_memory`` mode: one row is held at a time, so memory stays flat for a
list of any length. The workbook is written inside a hidden temporary directory next to the target
and renamed into place at the end; a cancelled or failed export leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govshare_desktop.core.browse import Browser, Column, Query, format_cell
from govshare_desktop.core.domain import idnumber, masking
from govshare_desktop.core.domain.text import FORMULA_TRIGGERS
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import CANCELLED
from govshare_desktop.core.export.audited import ANCHOR_PREFIX, make_private
from govshare_desktop.core.private_files import file_sha256
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security.audit import GENESIS, Anchor, audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

PROGRESS_EVERY = 5_000  # rows between progress reports
CANCEL_EVERY = 500  # rows between looks at the cancel flag
WIDTH_SAMPLE = 1_000  # rows whose text sizes the columns
MEMO_LIMIT = 16_384  # remembered texts per column (names, addresses, labels)
DATE_MEMO_LIMIT = 65_536  # masked birth dates: every day of 179 years, so each is computed once
MIN_WIDTH, MAX_WIDTH = 6.0, 60.0  # Excel width units (about one Latin digit each)
PORTRAIT_WIDTH = 100  # wider lists print landscape
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # serial 0 of the 1900 date system
_FIRST_EXACT_SERIAL = date(1900, 3, 1)  # before it, Excel's phantom 1900-02-29 shifts serials
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ExportResult:
    rows: int
    path: Path
    sha256: str
    masked: bool


def display_width(text: str) -> int:
    """Width in Latin-character units: CJK (and other wide) characters count double."""
    return len(text) + sum(
        1 for ch in text if ord(ch) >= 0x1100 and unicodedata.east_asian_width(ch) in "WF"
    )


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: no []:*?/\\, at most 31 characters, never empty."""
    return (_SHEET_NAME_BAD.sub("_", title).strip("'") or "名单")[:31]


# ---------------------------------------------------------------- cell writers

# Each column gets one function (row, col, value) that writes a non-empty value in the column's kind.
CellWriter = Callable[[int, int, Any], None]
_MISSING = object()


class _Writers:
    """Builds the per-column cell writers; small caches make repeated values (codes, dates) cheap."""

    def __init__(self, sheet: Worksheet, formats: dict[str, Format], *, today: date) -> None:
        self.sheet = sheet
        self.formats = formats
        self.today = today

    def for_column(self, column: Column, *, masked: bool) -> CellWriter:
        if masked and column.mask:
            # Names, addresses and birth dates repeat (a household shares its address): remember
            # recent results. ID numbers and phone numbers hardly ever repeat in a list. The
            # masking functions are called directly (this runs once per cell).
            direct = {
                "name": masking.mask_name,
                "id_number": masking.mask_id_number,
                "phone": masking.mask_phone,
                "address": masking.mask_address,
            }.get(column.mask)
            mask = direct or partial(format_cell, column, masked=True, today=self.today)
            limits = {"name": MEMO_LIMIT, "address": MEMO_LIMIT, "birth_date": DATE_MEMO_LIMIT}
            return self.text(mask, remember=limits.get(column.mask, 0))
        kind = column.kind
        if kind == "money":
            return self._money()
        if kind == "date":
            return self._date()
        if kind == "age":
            return self._age()
        if kind == "int":
            return self._int()
        if kind in ("code", "bool", "period"):
            label = partial(format_cell, column, masked=False, today=self.today)
            return self.text(label, remember=MEMO_LIMIT)
        return self.text()  # text: ID numbers, 户号, phone numbers, names, addresses …

    def text(self, to_text: Callable[[Any], str] | None = None, *, remember: int = 0) -> CellWriter:
        """Always a string cell; text that looks like a formula gets Excel's quote prefix.

        ``to_text`` turns a stored value into the cell's text; ``remember`` keeps up to that many
        results (the cache is emptied when full, so memory stays bounded). The three
        variants repeat four lines on purpose: this runs once per cell."""
        write_string = self.sheet.write_string
        quoted = self.formats["quoted"]

        def plain(row: int, col: int, value: Any) -> None:
            text = value if value.__class__ is str else str(value)
            if text.startswith(FORMULA_TRIGGERS):
                write_string(row, col, text, quoted)
            elif text:
                write_string(row, col, text)

        def converted(row: int, col: int, value: Any) -> None:
            text = convert(value)
            if text.startswith(FORMULA_TRIGGERS):
                write_string(row, col, text, quoted)
            elif text:
                write_string(row, col, text)

        cache: dict[Any, str] = {}

        def remembered(row: int, col: int, value: Any) -> None:
            text = cache.get(value)
            if text is None:
                if len(cache) >= remember:
                    cache.clear()
                text = cache[value] = convert(value)
            if text.startswith(FORMULA_TRIGGERS):
                write_string(row, col, text, quoted)
            elif text:
                write_string(row, col, text)

        if to_text is None:
            return plain
        convert = to_text
        return remembered if remember else converted

    def _money(self) -> CellWriter:
        write_number = self.sheet.write_number
        money = self.formats["money"]
        fallback = self.text()

        def write(row: int, col: int, value: Any) -> None:
            if value.__class__ is int:
                write_number(row, col, value / 100, money)  # fen to yuan
            else:
                try:
                    write_number(row, col, int(value) / 100, money)
                except (TypeError, ValueError):
                    fallback(row, col, value)  # not an amount: keep what the record says

        return write

    def _date(self) -> CellWriter:
        write_number = self.sheet.write_number
        write_datetime = self.sheet.write_datetime
        date_format = self.formats["date"]
        fallback = self.text()
        serials: dict[Any, Any] = {}

        def serial(value: Any) -> int | date | None:
            try:
                day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            except ValueError:
                return None
            return day.toordinal() - _EXCEL_EPOCH if day >= _FIRST_EXACT_SERIAL else day

        def write(row: int, col: int, value: Any) -> None:
            number = serials.get(value, _MISSING)
            if number is _MISSING:
                number = serials[value] = serial(value)
            if number.__class__ is int:
                write_number(row, col, number, date_format)
            elif number is None:
                fallback(row, col, value)  # not a date: keep what the record says
            else:
                write_datetime(row, col, number, date_format)

        return write

    def _age(self) -> CellWriter:
        write_number = self.sheet.write_number
        today = self.today
        ages: dict[Any, Any] = {}

        def age_of(value: Any) -> int | None:
            try:
                born = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            except ValueError:
                return None
            return idnumber.age_on(born, today)

        def write(row: int, col: int, value: Any) -> None:
            age = ages.get(value, _MISSING)
            if age is _MISSING:
                age = ages[value] = age_of(value)
            if age is not None:
                write_number(row, col, age)

        return write

    def _int(self) -> CellWriter:
        write_number = self.sheet.write_number
        fallback = self.text()

        def write(row: int, col: int, value: Any) -> None:
            if value.__class__ is int:
                write_number(row, col, value)
            else:
                fallback(row, col, value)

        return write


def _sample_text(column: Column, value: Any, *, masked: bool, today: date) -> str:
    """The text a value shows as, for sizing its column (numbers as Excel formats them)."""
    if column.kind == "date" and not (masked and column.mask):
        return "0000-00-00" if value not in (None, "") else ""
    return format_cell(column, value, masked=masked, today=today)


# ---------------------------------------------------------------- the export


def _rows_label(done: int, total: int) -> str:
    return f"已导出 {done:,} / {total:,} 行"


def export_list(
    source: Store | Browser,
    query: Query,
    path: str | os.PathLike[str],
    *,
    masked: bool,
    today: date,
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    reason: str = "",
) -> ExportResult:
    """Write every row of ``query`` (in its order) to the workbook ``path``: the ``columns`` (keys,
    in order; default: the dataset's, as the window shows them), ``masked`` as the masked view
    shows them, else with ``reason`` in the audit entry. ``progress`` every few thousand rows;
    ``cancel`` stops it with ``Cancelled``; a cancelled or failed export leaves no file."""
    import xlsxwriter  # heavy: xlsxwriter, only for list exports
    from xlsxwriter.exceptions import XlsxWriterException  # heavy: as above

    browser = source if isinstance(source, Browser) else Browser(source)
    store = browser.store
    store.principal.require(Action.EXPORT if masked else Action.EXPORT_UNMASKED)
    trail = audit_trail(store)  # no key, no audit, no export
    head = trail.head()
    target = Path(path)
    dataset = query.dataset
    chosen = list(dataset.columns) if columns is None else [dataset.column(k) for k in columns]
    positions = [dataset.columns.index(c) for c in chosen]
    total = browser.count(query)
    work = _work_folder(target)
    if progress is not None:
        progress(0, total, _rows_label(0, total))
    draft = work / "list.xlsx"
    workbook = None
    try:
        options = {"constant_memory": True, "tmpdir": str(work), "strings_to_numbers": False}
        workbook = xlsxwriter.Workbook(str(draft), options)
        anchor = f"{ANCHOR_PREFIX}{head or Anchor(0, GENESIS)}"
        _describe(workbook, dataset.title, masked, today, store.principal.username, anchor)
        sheet = workbook.add_worksheet(sheet_name(dataset.title))
        formats = _formats(workbook)
        writers = _Writers(sheet, formats, today=today)
        plan = [
            (i, positions[i], writers.for_column(c, masked=masked)) for i, c in enumerate(chosen)
        ]
        widths = _header(sheet, chosen, formats["header"])
        row = 0
        for values in browser.iter_rows(query):
            row += 1
            for col, position, write in plan:
                value = values[position]
                if value is not None and value != "":
                    write(row, col, value)
            if row <= WIDTH_SAMPLE:
                _widen(widths, chosen, positions, values, masked=masked, today=today)
            if row % CANCEL_EVERY == 0:
                _tick(row, total, progress, cancel)
        if cancel is not None:
            cancel.check(CANCELLED)
        _lay_out(sheet, widths, rows=row)
        workbook.close()
        workbook = None
        make_private(draft)
        digest = file_sha256(draft)
        # In the audit trail before it appears: if the entry cannot be written, no file.
        detail = {"dataset": dataset.key, "path": str(target), "sha256": digest, "count": row}
        detail |= {"masked": masked, "columns": [c.key for c in chosen]}
        trail.log(store.principal, "export", target.name, detail=detail | _why(reason))
        os.replace(draft, target)
    except (OSError, XlsxWriterException) as exc:
        raise _write_error(target, exc) from None
    finally:
        if workbook is not None:  # not closed: release XlsxWriter's open row-data file first
            _release(workbook)
        shutil.rmtree(work, ignore_errors=True)
    if progress is not None:
        progress(row, row, _rows_label(row, row))
    return ExportResult(rows=row, path=target, sha256=digest, masked=masked)


def _widen(
    widths: list[float],
    chosen: Sequence[Column],
    positions: Sequence[int],
    values: Sequence[Any],
    *,
    masked: bool,
    today: date,
) -> None:
    """Widen the columns to fit this row's text (the first rows are a sample)."""
    for col, (position, column) in enumerate(zip(positions, chosen, strict=True)):
        text = _sample_text(column, values[position], masked=masked, today=today)
        widths[col] = max(widths[col], display_width(text))


def _tick(row: int, total: int, progress: Progress | None, cancel: Cancel | None) -> None:
    """Every few thousand rows: stop if asked, and now and then say how far."""
    if cancel is not None:
        cancel.check(CANCELLED)
    if progress is not None and row % PROGRESS_EVERY == 0:
        progress(row, max(total, row), _rows_label(row, max(total, row)))


def _work_folder(target: Path) -> Path:
    """A private folder beside the target for the draft and XlsxWriter's temporary files."""
    if not target.parent.is_dir():
        raise UserError(f"无法写入 Excel 文件 {target}：文件夹“{target.parent}”不存在")
    try:
        return Path(tempfile.mkdtemp(prefix=".govshare-export-", dir=target.parent))
    except OSError as exc:
        raise _write_error(target, exc) from None


def _why(reason: str) -> dict[str, str]:
    return {"reason": reason.strip()} if reason.strip() else {}


def _header(sheet: Any, chosen: Sequence[Column], style: Any) -> list[float]:
    """The frozen header row; returns the columns' starting widths (bold: a little wider)."""
    for col, column in enumerate(chosen):
        sheet.write_string(0, col, column.header, style)
    sheet.freeze_panes(1, 0)
    return [display_width(c.header) * 1.1 for c in chosen]


def _describe(
    workbook: Any, title: str, masked: bool, today: date, author: str, anchor: str
) -> None:
    """The file's properties: what it is, masked or not, who made it, the audit anchor."""
    workbook.set_properties(
        {
            "title": f"{title}名单",
            "subject": f"{title}名单（{'已脱敏' if masked else '含完整个人信息'}）",
            "author": author,
            "comments": f"导出日期 {today:%Y-%m-%d}；"
            + ("个人信息已脱敏" if masked else "含完整个人信息，请妥善保管"),
            "keywords": anchor,
        }
    )


def _formats(workbook: Any) -> dict[str, Any]:
    return {
        "header": workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#F2F2F2"}),
        "money": workbook.add_format({"num_format": MONEY_FORMAT}),
        "date": workbook.add_format({"num_format": DATE_FORMAT}),
        "quoted": workbook.add_format({"quote_prefix": True}),
    }


def _lay_out(sheet: Any, widths: list[float], *, rows: int) -> None:
    """Column widths that fit, an autofilter, and the print setup: A4, one page wide (landscape
    for a wide list), the header on every page, 「第 &P 页 共 &N 页」."""
    fitted = [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widths]
    for col, width in enumerate(fitted):
        sheet.set_column(col, col, width)
    sheet.autofilter(0, 0, max(rows, 1), len(widths) - 1)
    sheet.set_paper(9)
    if sum(fitted) > PORTRAIT_WIDTH:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.set_footer("&C第 &P 页 共 &N 页")


def _release(workbook: Any) -> None:
    """A workbook left unclosed by an error: close XlsxWriter's row-data files so the folder can
    be removed."""
    for worksheet in workbook.worksheets():
        handle = getattr(worksheet, "row_data_fh", None)
        if handle is not None:
            handle.close()


def _write_error(target: Path, exc: BaseException) -> UserError:
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    reason = (cause.strerror if isinstance(cause, OSError) else None) or str(exc)
    return UserError(
        f"无法写入 Excel 文件 {target}：{reason}（磁盘空间不足、文件正被其他程序打开或没有写权限？）"
        "未生成文件。"
    )
