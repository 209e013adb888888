"""Limits a back-flow file must keep before it is handed to a reader that allocates what it is told.

python-calamine builds a whole worksheet in memory: 32 bytes for every cell of the rectangle
spanned by the cells the sheet names (two cells at A1 and XFD1048576 ask for 512 GiB and abort
the process), a vector as long as the shared-string count the file declares, and every string
in full. So an .xlsx is inspected first, from the ZIP central directory and a streamed scan of
its XML parts with bounded memory (1 MiB at a time, nothing parsed into a tree):

* the members: their number, each part's and the total uncompressed size, the compression ratio;
* every worksheet: the range its ``<dimension>`` declares, and the extent of the row and cell
  references it actually holds (the declared range may be missing or wrong, so the references
  decide a big real file; a declared range beyond the limits is refused as well, because some
  reader versions size their buffers by it);
* the shared strings: their declared and actual count, their total size;
* any single cell or shared string (the XML between one cell's start and the next).

The limits are generous for real back-flow files — a full Excel sheet of 1,048,576 rows by 61
columns fits — and far below what makes the reader exhaust memory. CSV files are streamed with a
limit on one physical line (:data:`MAX_LINE_CHARS`); .xls (BIFF8) cells and strings are bounded by
the format itself (65,536 rows, 32,767 characters), its file size by :data:`MAX_XLS_BYTES`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator

from govshare_desktop.core.errors import UserError

__all__ = [
    "MAX_CELLS",
    "MAX_CELL_BYTES",
    "MAX_COLUMNS",
    "MAX_LINE_CHARS",
    "MAX_PART_BYTES",
    "MAX_RATIO",
    "MAX_ROWS",
    "MAX_SHARED_STRINGS",
    "MAX_SHARED_STRINGS_BYTES",
    "MAX_WORKBOOK_BYTES",
    "MAX_XLS_BYTES",
    "check_xlsx",
    "column_number",
]

#: Rows of one worksheet: Excel's own maximum (a sheet cannot be longer in Excel either).
MAX_ROWS = 1_048_576
#: Columns of one worksheet (back-flow files have 6–60; Excel allows 16,384).
MAX_COLUMNS = 1_000
#: Cells of the rectangle the reader allocates (32 bytes each: 64 million ≈ 2 GiB): room for
#: 1,048,576 rows × 61 columns.
MAX_CELLS = 64_000_000
#: One cell or shared string, as XML. Excel itself stops at 32,767 characters (≈ 100 KB).
MAX_CELL_BYTES = 1 * 2**20
#: The shared-strings part, uncompressed (a million rows of unique names, IDs and addresses
#: take about 300 MiB).
MAX_SHARED_STRINGS = MAX_CELLS
MAX_SHARED_STRINGS_BYTES = 512 * 2**20
#: All parts of a workbook together, uncompressed (1,048,576 × 60 cells of XML ≈ 3 GiB).
MAX_WORKBOOK_BYTES = 4 * 2**30
#: Any part other than worksheets and shared strings (styles, workbook, relationships …).
MAX_PART_BYTES = 64 * 2**20
#: Uncompressed : compressed, for any part above :data:`RATIO_FLOOR_BYTES` and for the whole file.
#: Excel's own files compress 5–30:1; a sheet of one value repeated reaches about 150:1.
MAX_RATIO = 400
RATIO_FLOOR_BYTES = 2**20
MAX_MEMBERS = 10_000
#: One physical line of a CSV file, in characters (the csv module itself stops a field at 131,072).
MAX_LINE_CHARS = 2**20
#: A legacy .xls workbook (BIFF8 stops at 65,536 rows × 256 columns; real ones are far smaller).
MAX_XLS_BYTES = 512 * 2**20

_CHUNK = 2**20
#: How much of a worksheet is read tag by tag before the quick scan takes over (see _Extent).
_HEAD_BYTES = 64 * 2**10
_XML_SUFFIXES = (".xml", ".rels", ".vml")
# The start of a cell (<c …>) or shared string (<si …>), with or without a namespace prefix.
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(?:c|si)(?=[\s/>])")
# Row and cell references as every spreadsheet writer puts them: r="AB12" on <c>, r="12" on
# <row>, r first in a cell. No other SpreadsheetML element has an attribute named r.
_LAST_ROW = re.compile(rb'<row r="(\d{1,9})"')
# The slow, exact way: every row and cell start tag, its r attribute if any.
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_PLAIN_REF = re.compile(rb"([A-Z]{0,4})(\d{1,9})")
# A cell whose r is not its first attribute, or that has none (placed by position).
_CELL_UNUSUAL = re.compile(rb'<c(?! r=")')
# Parts that are not cells (drawings, charts, themes, document properties): no references there.
_NOT_SHEETS = re.compile(
    r"(?i)(?:^|/)(?:drawings|charts|theme|customXml|docProps|media)/|\.(?:rels|vml)$"
)
_DIMENSION = re.compile(rb"""<(?:[\w.\-]+:)?dimension\s[^>]*?ref\s*=\s*["']([^"']*)["']""")
_SST_COUNT = re.compile(rb"""<(?:[\w.\-]+:)?sst\s[^>]*>""")
_COUNT_ATTR = re.compile(rb"""(?:uniqueCount|count)\s*=\s*["'](\d+)["']""")
_RANGE = re.compile(r"^\$?([A-Za-z]{1,4})\$?(\d{1,9})(?::\$?([A-Za-z]{1,4})\$?(\d{1,9}))?$")


def column_number(letters: str | bytes) -> int:
    """A → 1, Z → 26, AA → 27, XFD → 16384."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for ch in text.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def _count(n: int) -> str:
    return f"{n:,}"


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.0f} MiB"
    return f"{n / 2**10:.0f} KiB"


def _refuse(name: str, what: str) -> UserError:
    return UserError(f"文件“{name}”{what}，疑为损坏或恶意文件，未导入。")


def check_xlsx(zf: zipfile.ZipFile, name: str, *, file_size: int) -> None:
    """Refuse (UserError) an .xlsx whose reading would exceed a limit; reads at most 1 MiB at once."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(name, f"包含 {_count(len(infos))} 个部件，超过上限 {_count(MAX_MEMBERS)}")
    total = 0
    for info in infos:
        total += info.file_size
        part = info.filename
        lower = part.lower()
        if lower.endswith("sharedstrings.xml"):
            limit = MAX_SHARED_STRINGS_BYTES
        elif "/worksheets/" in lower or lower.endswith(".bin"):
            limit = MAX_WORKBOOK_BYTES
        else:
            limit = MAX_PART_BYTES
        if info.file_size > limit:
            what = "共享字符串" if limit == MAX_SHARED_STRINGS_BYTES else f"部件“{part}”"
            raise _refuse(
                name, f"的{what}解压后有 {_size(info.file_size)}，超过上限 {_size(limit)}"
            )
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _refuse(
                name,
                f"的部件“{part}”压缩比约为 {ratio}:1（压缩后 {_size(info.compress_size)}，"
                f"解压后 {_size(info.file_size)}），超过上限 {MAX_RATIO}:1",
            )
    if total > MAX_WORKBOOK_BYTES:
        raise _refuse(name, f"解压后共有 {_size(total)}，超过上限 {_size(MAX_WORKBOOK_BYTES)}")
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * max(file_size, 1):
        raise _refuse(
            name,
            f"整体压缩比约为 {total // max(file_size, 1)}:1（文件 {_size(file_size)}，"
            f"解压后 {_size(total)}），超过上限 {MAX_RATIO}:1",
        )
    for info in infos:
        if info.filename.lower().endswith(_XML_SUFFIXES) and not info.is_dir():
            _scan_part(zf, info, name)


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The part's bytes, 1 MiB at a time, never more than its declared size."""
    left = info.file_size
    try:
        with zf.open(info) as handle:
            while left > 0:
                chunk = handle.read(min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise UserError(
            f"文件“{name}”不是有效的 Excel 工作簿，可能已损坏：部件“{info.filename}”无法解压（{exc}）"
        ) from exc


def _up_to(limit: str, alphabet: str) -> str:
    """A regex for the strings of ``alphabet`` characters (no leading zero for digits) that
    denote at most ``limit``: shorter ones, or as long and not greater, character by character."""
    first = alphabet[1] if alphabet[0] == "0" else alphabet[0]
    any_ = f"[{alphabet[0]}-{alphabet[-1]}]"
    options = [limit]
    if len(limit) > 1:
        options.append(f"[{first}-{alphabet[-1]}]{any_}{{0,{len(limit) - 2}}}")
    for i, ch in enumerate(limit):
        low = first if i == 0 else alphabet[0]
        if ch > low:
            below = chr(ord(ch) - 1)
            options.append(f"{limit[:i]}[{low}-{below}]{any_}{{{len(limit) - i - 1}}}")
    return "(?:" + "|".join(options) + ")"


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Extent:
    """The rows and columns a worksheet's cells reach, as the reader will place them.

    A chunk is taken in at the cost of a few scans when all its references are ordinary and
    within the rows and columns seen so far (the last <row> of the chunk and the widest column
    before it); any other chunk — the first, a new widest column, a reference written unusually,
    cells without one — is tokenised tag by tag.
    """

    def __init__(self) -> None:
        self.rows = 0
        self.columns = 0
        self.row = 0  # where the reader is: the row and column of the last cell
        self.column = 0
        self._known: re.Pattern[bytes] | None = None
        self._known_for = (-1, -1)

    def add(self, body: bytes, name: str, part: str) -> None:
        last = _LAST_ROW.search(body, max(0, body.rfind(b"<row ")))
        row = int(last.group(1)) if last else self.rows
        if (
            self.columns
            and row
            and b"\t" not in body
            and b"\n" not in body
            and b"\r" not in body
            and _CELL_UNUSUAL.search(body) is None
            and self._within(max(row, self.rows)).search(body) is None
        ):
            self.rows = max(self.rows, row)
            self.row, self.column = row, 0
            return
        self._tokenise(body, name, part)

    def _within(self, rows: int) -> re.Pattern[bytes]:
        """A search for any " r" that is not an ordinary reference within the extent."""
        if self._known is None or self._known_for != (rows, self.columns):
            columns = _up_to(_letters(self.columns), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            numbers = _up_to(str(rows), "0123456789")
            pattern = f' r(?!="{columns}?{numbers}")'.encode()
            self._known, self._known_for = re.compile(pattern), (rows, self.columns)
        return self._known

    def _tokenise(self, body: bytes, name: str, part: str) -> None:
        for tag in _TAG.finditer(body):
            found = _R_ATTR.search(tag.group(2))
            ref = None
            if found:
                value = found.group(1) if found.group(1) is not None else found.group(2)
                ref = _PLAIN_REF.fullmatch(value.strip())
                if ref is None:
                    raise _refuse(name, f"的部件“{part}”中有无法识别的单元格位置（r 属性）")
            if tag.group(1) == b"row":
                self.row = int(ref.group(2)) if ref else self.row + 1
                self.column = 0
            elif ref and ref.group(1):
                self.row = int(ref.group(2))
                self.column = column_number(ref.group(1))
            else:
                self.column += 1
            if self.row > self.rows:
                self.rows = self.row
            if self.column > self.columns:
                self.columns = self.column

    def columns_used(self) -> int:
        return self.columns


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """One XML part: the longest cell/string, the reference extent, the declared range and count."""
    part = info.filename
    shared = part.lower().endswith("sharedstrings.xml")
    cells = not shared and not _NOT_SHEETS.search(part)
    separator = b"<si>" if shared else b"<c "
    carry = b""
    run = 0  # bytes of the item (cell or string) the previous chunk ended in
    items = 0
    extent = _Extent()
    first = True
    for chunk in _chunks(zf, info, name):
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"<")
        if cut <= 0:
            if len(data) > MAX_CELL_BYTES:
                raise _too_long(name, part, shared)
            carry = data
            continue
        body, carry = data[:cut], data[cut:]
        if first:
            first = False
            _check_declared(body, name, shared)
        pieces = body.split(separator) if separator in body else _ITEM_START.split(body)
        items += len(pieces) - 1
        if len(pieces) == 1:
            run += len(body)
        else:
            run += len(pieces[0])
            if run > MAX_CELL_BYTES or max(map(len, pieces)) > MAX_CELL_BYTES:
                raise _too_long(name, part, shared)
            run = len(pieces[-1])
        if run > MAX_CELL_BYTES:
            raise _too_long(name, part, shared)
        if cells:
            if not extent.columns and len(body) > _HEAD_BYTES:
                # Tag by tag only as far as needed to know the sheet's width: the rest of the
                # first chunk is taken like any later one (tokenised if it reaches further).
                cut = body.rfind(b"<", 0, _HEAD_BYTES)
                if cut > 0:
                    extent.add(body[:cut], name, part)
                    body = body[cut:]
            extent.add(body, name, part)
    if first and carry:
        _check_declared(carry, name, shared)
    if shared:
        if items > MAX_SHARED_STRINGS:
            raise _refuse(
                name, f"有 {_count(items)} 个共享字符串，超过上限 {_count(MAX_SHARED_STRINGS)}"
            )
        return
    if cells:
        _check_extent(name, part, extent.rows, extent.columns_used())


def _too_long(name: str, part: str, shared: bool) -> UserError:
    what = "一个共享字符串" if shared else "一个单元格"
    return _refuse(
        name,
        f"的{what}（部件“{part}”）超过 {_size(MAX_CELL_BYTES)}（Excel 单元格最多 32,767 个字符）",
    )


def _check_declared(head: bytes, name: str, shared: bool) -> None:
    """The range a worksheet declares, the count the shared strings declare (start of the part)."""
    if shared:
        tag = _SST_COUNT.search(head)
        if tag:
            for value in _COUNT_ATTR.findall(tag.group(0)):
                if int(value) > MAX_SHARED_STRINGS:
                    raise _refuse(
                        name,
                        f"声明有 {_count(int(value))} 个共享字符串，"
                        f"超过上限 {_count(MAX_SHARED_STRINGS)}",
                    )
        return
    found = _DIMENSION.search(head)
    if not found:
        return
    ref = found.group(1).decode("ascii", "replace").strip()
    m = _RANGE.match(ref)
    if not m:
        return  # a malformed range says nothing; the references decide
    last_col, last_row = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))
    rows = int(last_row) - min(int(m.group(2)), int(last_row)) + 1
    columns = column_number(last_col) - min(column_number(m.group(1)), column_number(last_col)) + 1
    if rows > MAX_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise _refuse(
            name,
            f"的工作表声明的范围 {ref} 超过上限（{_count(MAX_COLUMNS)} 列/{_count(MAX_ROWS)} 行/"
            f"{_count(MAX_CELLS)} 个单元格）",
        )


def _check_extent(name: str, part: str, rows: int, columns: int) -> None:
    if rows > MAX_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise _refuse(
            name,
            f"的工作表（部件“{part}”）用到第 {_count(rows)} 行、第 {_count(columns)} 列，"
            f"超过上限（{_count(MAX_COLUMNS)} 列/{_count(MAX_ROWS)} 行/{_count(MAX_CELLS)} 个单元格）",
        )
