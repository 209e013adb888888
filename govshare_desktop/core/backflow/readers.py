"""Reading back-flow files row by row: .xlsx and legacy .xls through python-calamine, CSV streamed.

Every reader yields :class:`RawRow` objects: the row number as the clerk sees it (the spreadsheet's
row number, or the CSV file's physical line number where the record starts) and the cell values
as the file holds them. Nothing is converted to text here: an ID number that Excel stored as a
number arrives as a ``float`` so that the caller can reject it (``id_number_not_text``) instead
of importing a number whose last digits Excel has already lost.

The kind of a file is decided by its first bytes, never by its extension alone: county systems
export ``.xls`` files that are really CSV or HTML, and clerks rename files.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from govshare_desktop.core.backflow.limits import MAX_LINE_CHARS, MAX_XLS_BYTES, check_xlsx
from govshare_desktop.core.errors import UserError

__all__ = [
    "CsvSource",
    "ExcelSource",
    "RawRow",
    "TableSource",
    "detect_encoding",
    "local_names",
    "open_table",
    "open_table_bytes",
]

ZIP_MAGIC = b"PK"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

#: How much of a text file is looked at to decide its encoding and delimiter.
SAMPLE_SIZE = 64 * 1024
#: A sample that is pure ASCII says nothing about the encoding; read on up to this much.
SAMPLE_MAX = 4 * 1024 * 1024
#: The start of a ZIP, where the local headers name its first members (a truncated package).
ZIP_HEAD_BYTES = 64 * 1024

_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_XLS_SUFFIXES = {".xls"}

# Other binary formats that clerks pick by mistake, for a message that says what the file is.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF 文件"),
    (b"\x89PNG", "图片"),
    (b"\xff\xd8\xff", "图片"),
    (b"GIF8", "图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)


class RawRow(NamedTuple):
    """One row of a sheet or one CSV record, values exactly as the file holds them.

    ``number`` is 1-based: the sheet's row number, or for CSV the physical line on which the
    record starts (a quoted field may span lines). ``values`` holds ``str``, ``int``, ``float``,
    ``bool``, ``datetime``/``date``/``time`` or ``None`` for an empty cell; index 0 is column A.
    """

    number: int
    values: tuple[Any, ...]

    def cell(self, index: int) -> Any:
        """The value in column ``index`` (0-based), ``None`` past the end of a short row."""
        return self.values[index] if 0 <= index < len(self.values) else None

    @property
    def is_blank(self) -> bool:
        """Every cell empty or only whitespace."""
        for v in self.values:  # a plain loop: this runs for every row of a million-row file
            if v is not None and (v.__class__ is not str or v.strip()):
                return False
        return True


class TableSource(Protocol):
    """A table file opened for reading; :meth:`rows` streams it and may be called again."""

    path: Path
    kind: str  # "xlsx" | "xls" | "csv"
    encoding: str | None  # csv only: "utf-8-sig" | "utf-8" | "gb18030" (| "utf-16")
    sheet_name: str | None

    def rows(self) -> Iterator[RawRow]: ...


# --------------------------------------------------------------------------------------- opening


def open_table(
    path: Path | str, *, sheet: str | int | None = None, encoding: str | None = None
) -> TableSource:
    """Open a back-flow file. Raises :class:`UserError` (naming the file) for anything unreadable.

    ``sheet`` chooses a worksheet by name or 0-based index; by default the first visible
    worksheet that has data. ``encoding`` overrides detection for CSV (e.g. from a package
    manifest).
    """
    path = Path(path)
    name = path.name
    head_zip = b""
    try:
        with path.open("rb") as f:
            head = f.read(8)
            sample = b"" if _is_workbook(head) else _read_sample(f, head)
            size = os.fstat(f.fileno()).st_size
            if head.startswith(ZIP_MAGIC):
                f.seek(0)
                head_zip = f.read(ZIP_HEAD_BYTES)
    except FileNotFoundError:
        raise UserError(f"找不到文件“{path}”。") from None
    except IsADirectoryError:
        raise UserError(f"“{path}”是一个文件夹，不是文件。") from None
    except PermissionError:
        raise UserError(f"没有权限读取文件“{name}”，请确认文件没有被其他程序占用。") from None
    except OSError as exc:
        raise UserError(f"无法读取文件“{name}”：{exc.strerror or exc}") from exc
    if _is_workbook(head):
        kind = _workbook_kind(head, name, lambda: zipfile.ZipFile(path), size, lambda: head_zip)
        return _open_excel(kind, name, path, sheet, lambda: _calamine_from_path(path, kind))
    enc, delimiter = _inspect_text(sample, name, encoding)
    return CsvSource(path, name, lambda: path.open("rb"), enc, delimiter)


def open_table_bytes(
    data: bytes, name: str, *, sheet: str | int | None = None, encoding: str | None = None
) -> TableSource:
    """Like :func:`open_table` for a file held in memory (a member of an exchange package).

    ``name`` is what messages call the file; ``path`` of the result is ``Path(name)``.
    """
    path = Path(name)
    head = data[:8]
    if _is_workbook(head):
        kind = _workbook_kind(
            head,
            name,
            lambda: zipfile.ZipFile(io.BytesIO(data)),
            len(data),
            lambda: data[:ZIP_HEAD_BYTES],
        )
        return _open_excel(
            kind, name, path, sheet, lambda: CalamineWorkbook.from_filelike(io.BytesIO(data))
        )
    sample = _read_sample(io.BytesIO(data))
    enc, delimiter = _inspect_text(sample, path.name, encoding)
    return CsvSource(path, path.name, lambda: io.BytesIO(data), enc, delimiter)


# --------------------------------------------------------------------------------------- Excel


class ExcelSource:
    """One worksheet of an .xlsx/.xls workbook. Calamine holds the sheet's cells in memory."""

    encoding: str | None = None

    def __init__(
        self, path: Path, name: str, kind: str, sheet_name: str, sheet: Any, sheet_names: list[str]
    ) -> None:
        self.path = path
        self.name = name
        self.kind = kind
        self.sheet_name: str | None = sheet_name
        self.sheet_names = tuple(sheet_names)
        self._sheet = sheet

    def __repr__(self) -> str:
        return f"ExcelSource({self.name!r}, kind={self.kind!r}, sheet={self.sheet_name!r})"

    def rows(self) -> Iterator[RawRow]:
        return _iter_sheet(self._sheet)


def _workbook_kind(
    head: bytes,
    name: str,
    open_zip: Callable[[], zipfile.ZipFile],
    size: int,
    zip_head: Callable[[], bytes],
) -> str:
    """ "xls" or "xlsx" (checked against the limits), else a UserError saying what the file is."""
    if head.startswith(OLE2_MAGIC):
        if size > MAX_XLS_BYTES:
            raise UserError(
                f"文件“{name}”有 {size / 2**20:.0f} MiB，超过 .xls 工作簿的上限 "
                f"{MAX_XLS_BYTES // 2**20} MiB，疑为损坏或恶意文件，未导入；"
                "请另存为 Excel 工作簿（.xlsx）后再导入。"
            )
        return "xls"
    try:
        with open_zip() as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                check_xlsx(zf, name, file_size=size)
                return "xlsx"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged_zip(name, zip_head(), exc) from exc
    if "manifest.json" in names and "manifest.sig" in names:
        raise UserError(f"文件“{name}”是数据交换包，不是表格文件：请用“导入数据包”功能导入。")
    if "word/document.xml" in names:
        what = "Word 文档"
    elif "content.xml" in names:
        what = "OpenDocument（WPS/LibreOffice）文件"
    else:
        what = "zip 压缩包"
    raise UserError(
        f"文件“{name}”是{what}，不是 Excel 工作簿或 CSV 文件：请另存为 Excel 工作簿（.xlsx）后再导入。"
    )


def local_names(data: bytes) -> list[str]:
    """Member names from the local headers at the start of a ZIP (its central directory, at the
    end, may be missing: a file cut short)."""
    names: list[str] = []
    offset = 0
    while len(names) < 8 and data.startswith(b"PK\x03\x04", offset):
        fixed = data[offset + 4 : offset + 30]
        if len(fixed) < 26:
            break
        flags, csize, nlen, xlen = (
            int.from_bytes(fixed[2:4], "little"),
            int.from_bytes(fixed[14:18], "little"),
            int.from_bytes(fixed[22:24], "little"),
            int.from_bytes(fixed[24:26], "little"),
        )
        raw = data[offset + 30 : offset + 30 + nlen]
        if len(raw) < nlen:
            break
        names.append(raw.decode("utf-8" if flags & 0x800 else "cp437", "replace"))
        if flags & 0x08:  # sizes follow the data: the next header cannot be found cheaply
            break
        offset += 30 + nlen + xlen + csize
    return names


def _damaged_zip(name: str, head: bytes, exc: BaseException) -> UserError:
    """An unreadable ZIP: a damaged exchange package, a damaged workbook, or some other ZIP."""
    names = local_names(head)
    if any(n in ("manifest.json", "manifest.sig") or n.startswith("data/") for n in names):
        return UserError(
            f"文件“{name}”是损坏或不完整的数据交换包（可能在复制或下载时被截断，"
            "ZIP 目录缺失或损坏），无法导入：请向发送单位重新获取该数据包。"
        )
    return _corrupt(name, exc)


def _calamine_from_path(path: Path, kind: str) -> Any:
    # python-calamine chooses the reader by the extension when given a path; a renamed file
    # (an .xls saved as .xlsx) must go through the content-sniffing file-like route instead.
    suffix = path.suffix.lower()
    if (kind == "xlsx" and suffix in _XLSX_SUFFIXES) or (kind == "xls" and suffix in _XLS_SUFFIXES):
        return CalamineWorkbook.from_path(str(path))
    with path.open("rb") as f:
        return CalamineWorkbook.from_filelike(f)


def _calamine_call(name: str, fn: Callable[[], Any]) -> Any:
    """Run a python-calamine call, turning its failures (and Rust panics) into a UserError."""
    try:
        return fn()
    except UserError:
        raise
    except Exception as exc:
        if type(exc).__name__ == "PasswordError":
            raise UserError(
                f"文件“{name}”设置了打开密码：请在 Excel 中取消密码后另存，再导入。"
            ) from exc
        raise _corrupt(name, exc) from exc
    except BaseException as exc:  # pyo3 turns a Rust panic into PanicException(BaseException)
        if type(exc).__name__ == "PanicException":
            raise _corrupt(name, exc) from exc
        raise


def _corrupt(name: str, exc: BaseException) -> UserError:
    reason = str(exc).strip() or type(exc).__name__
    return UserError(f"文件“{name}”不是有效的 Excel 工作簿，可能已损坏：{reason}")


def _open_excel(
    kind: str, name: str, path: Path, sheet: str | int | None, load: Callable[[], Any]
) -> ExcelSource:
    wb = _calamine_call(name, load)
    try:
        names: list[str] = list(wb.sheet_names)
        if not names:
            raise UserError(f"文件“{name}”中没有工作表。")
        if isinstance(sheet, str):
            if sheet not in names:
                raise UserError(
                    f"文件“{name}”中没有名为“{sheet}”的工作表（有：{'、'.join(names)}）。"
                )
            chosen = sheet
            ws = _calamine_call(name, lambda: wb.get_sheet_by_name(chosen))
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise UserError(f"文件“{name}”只有 {len(names)} 个工作表，没有第 {sheet + 1} 个。")
            chosen = names[sheet]
            ws = _calamine_call(name, lambda: wb.get_sheet_by_name(chosen))
        else:
            chosen, ws = _first_sheet_with_data(wb, name, names)
    finally:
        # The sheet keeps its own copy of the cells; closing releases the file (Windows locks it).
        wb.close()
    return ExcelSource(path, name, kind, chosen, ws, names)


def _first_sheet_with_data(wb: Any, name: str, names: list[str]) -> tuple[str, Any]:
    """The first visible worksheet with any cell; hidden sheets only if no visible one has data."""
    visible: list[str] = []
    hidden: list[str] = []
    for meta in getattr(wb, "sheets_metadata", None) or []:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue  # chart sheets, macro sheets
        (visible if meta.visible == SheetVisibleEnum.Visible else hidden).append(meta.name)
    if not visible and not hidden:
        visible = list(names)
    for sheet_name in visible + hidden:
        ws = _calamine_call(name, functools.partial(wb.get_sheet_by_name, sheet_name))
        if ws.start is not None and ws.height > 0:
            return sheet_name, ws
    raise UserError(f"文件“{name}”的工作表都是空的，没有可导入的数据。")


def _iter_sheet(sheet: Any) -> Iterator[RawRow]:
    start = sheet.start
    if start is None:
        return
    first_row, first_col = start
    pad = (None,) * first_col  # calamine's rows begin at the first used column
    rows: Iterator[list[Any]] = iter(sheet.iter_rows())
    number = 1
    if first_row > 0:
        # python-calamine (0.2–0.9) pads iter_rows() with empty rows down to the used range, so
        # its rows count from sheet row 1. Should a version start at the used range instead, its
        # first row would hold data: tell the two apart instead of trusting one behaviour.
        head = next(rows, None)
        if head is None:
            return
        if any(v != "" for v in head):
            number = first_row + 1
        rows = itertools.chain([head], rows)
    for raw in rows:
        # calamine gives "" for empty cells, merged-away cells and error cells (#N/A …).
        yield RawRow(number, pad + tuple([None if v == "" else v for v in raw]))
        number += 1


# --------------------------------------------------------------------------------------- CSV


class CsvSource:
    """A delimited text file, decoded and parsed as a stream (constant memory)."""

    kind = "csv"
    sheet_name: str | None = None

    def __init__(
        self,
        path: Path,
        name: str,
        open_binary: Callable[[], IO[bytes]],
        encoding: str,
        delimiter: str,
    ) -> None:
        self.path = path
        self.name = name
        self.encoding: str | None = encoding
        self.delimiter = delimiter
        self._open_binary = open_binary

    def __repr__(self) -> str:
        return f"CsvSource({self.name!r}, encoding={self.encoding!r}, delimiter={self.delimiter!r})"

    def rows(self) -> Iterator[RawRow]:
        encoding = self.encoding or "utf-8"
        last_line = 0
        try:
            with (
                self._open_binary() as raw,
                io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="") as text,
            ):
                reader = csv.reader(self._lines(text), delimiter=self.delimiter)
                for fields in reader:  # the first record: strip a BOM the codec left
                    last_line = reader.line_num
                    if fields and fields[0].startswith("\ufeff"):
                        fields[0] = fields[0][1:]
                    yield RawRow(1, tuple([f if f != "" else None for f in fields]))
                    break
                make = RawRow
                for fields in reader:  # the rest: the hot loop of a large import
                    number = last_line + 1
                    last_line = reader.line_num
                    yield make(number, tuple([f if f != "" else None for f in fields]))
        except UnicodeDecodeError as exc:
            # The text layer decodes ahead of the parser: find the line itself.
            bad = self._undecodable_line(encoding)
            where = f"第 {bad} 行" if bad else f"第 {last_line + 1} 行附近"
            raise UserError(
                f"文件“{self.name}”{where}有无法识别的字符"
                f"（按 {_encoding_label(encoding)} 编码读取失败），文件可能混用了编码或已损坏。"
            ) from exc
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise UserError(
                    f"文件“{self.name}”第 {last_line + 1} 行附近有一个字段超过 "
                    f"{csv.field_size_limit():,} 个字符，疑为损坏或恶意文件，未导入。"
                ) from exc
            raise UserError(
                f"文件“{self.name}”第 {last_line + 1} 行附近的格式有误，无法按 CSV 读取：{exc}"
            ) from exc
        except OSError as exc:
            raise UserError(f"读取文件“{self.name}”时出错：{exc.strerror or exc}") from exc

    def _lines(self, text: IO[str]) -> Iterator[str]:
        """The physical lines, each read with a limit: a file with no line break in gigabytes
        is refused after :data:`MAX_LINE_CHARS` characters instead of being read whole."""
        readline = text.readline
        limit = MAX_LINE_CHARS
        number = 0
        while True:
            line = readline(limit + 1)
            if not line:
                return
            number += 1
            if len(line) > limit:
                raise UserError(
                    f"文件“{self.name}”第 {number} 行超过 {limit:,} 个字符（没有换行），"
                    "疑为损坏或恶意文件，未导入。"
                )
            yield line

    def _undecodable_line(self, encoding: str) -> int | None:
        if encoding.startswith("utf-16"):
            return None  # b"\n" is not a line break there
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with self._open_binary() as raw:
                for number, line in enumerate(raw, 1):
                    try:
                        decoder.decode(line)
                    except UnicodeDecodeError:
                        return number
        except OSError:
            return None
        return None


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text sample: ``utf-8-sig`` (BOM), ``utf-8``, or ``gb18030``.

    GBK and GB2312 are subsets of GB18030, so ``gb18030`` reads them too. A UTF-16 BOM
    (Excel's "Unicode 文本") gives ``utf-16``. A multi-byte character cut off at the end of the
    sample is allowed. Raises :class:`ValueError` if the sample is neither UTF-8 nor GB18030.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for candidate in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(candidate)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return candidate
    raise ValueError("the sample is neither UTF-8 nor GB18030 text")


def _encoding_label(encoding: str) -> str:
    return {
        "utf-8-sig": "UTF-8",
        "utf-8": "UTF-8",
        "gb18030": "GB18030/GBK",
        "utf-16": "UTF-16",
    }.get(encoding, encoding)


def _is_workbook(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or head.startswith(OLE2_MAGIC)


def _read_sample(f: IO[bytes], head: bytes = b"") -> bytes:
    """The start of a text file (``head``: bytes already read), read on past a pure-ASCII start
    until a non-ASCII byte shows up: ASCII alone says nothing about the encoding."""
    sample = head + f.read(SAMPLE_SIZE - len(head))
    if not sample.isascii() or len(sample) < SAMPLE_SIZE:
        return sample
    parts = [sample]
    total = len(sample)
    while total < SAMPLE_MAX:
        chunk = f.read(SAMPLE_SIZE)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        if not chunk.isascii():
            parts.append(f.read(SAMPLE_SIZE))  # so that the first non-ASCII character is whole
            break
    return b"".join(parts)


def _inspect_text(sample: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    """Check that a non-workbook file is usable text; return (encoding, delimiter)."""
    if not sample.removeprefix(codecs.BOM_UTF8).strip():
        raise UserError(f"文件“{name}”是空的，没有可导入的数据。")
    for magic, what in _OTHER_MAGIC:
        if sample.startswith(magic):
            raise UserError(f"文件“{name}”是{what}，不是 Excel 工作簿或 CSV 文件，无法导入。")
    if encoding is None:
        if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise UserError(
                f"文件“{name}”不是 Excel 工作簿（.xlsx/.xls），也不是 CSV 文本文件，无法导入。"
            )
        try:
            encoding = detect_encoding(sample)
        except ValueError:
            raise UserError(
                f"文件“{name}”既不是 Excel 工作簿，也不是能识别的文本文件"
                "（不是 UTF-8 或 GB18030/GBK 编码），无法导入。"
            ) from None
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    except LookupError:
        raise UserError(f"文件“{name}”声明的编码“{encoding}”无法识别。") from None
    head = text.lstrip("\ufeff \t\r\n")[:2048].lower()
    if head.startswith("<") and any(
        tag in head for tag in ("<html", "<table", "<!doctype", "<?xml", "<meta", "<head", "<body")
    ):
        raise UserError(
            f"文件“{name}”实际是网页（HTML）或 XML 格式，不是真正的 Excel 工作簿："
            "请用 Excel 打开后“另存为”Excel 工作簿（.xlsx），再导入。"
        )
    if not text.strip("\ufeff \t\r\n"):
        raise UserError(f"文件“{name}”是空的，没有可导入的数据。")
    return encoding, _sniff_delimiter(text)


def _sniff_delimiter(text: str) -> str:
    """Comma, unless tabs (or semicolons) separate the first lines clearly more consistently."""
    lines = [line for line in text.splitlines()[:60] if line.strip()][:30]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end inside a line

    def score(delim: str) -> int:
        counts = [line.count(delim) for line in lines]
        nonzero = [c for c in counts if c]
        if not nonzero:
            return 0
        mode = max(set(nonzero), key=nonzero.count)
        return counts.count(mode)

    best, best_score = ",", score(",")
    for delim in ("\t", ";"):
        s = score(delim)
        if s > best_score:
            best, best_score = delim, s
    return best
