"""Tiny hostile files written by hand (zipfile + XML text), cheap to make even when they unpack to
gigabytes: a declared range of the whole sheet, a 100 MB cell, gigabytes of shared strings."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_xml(
    rows: Iterable[Iterable[object]], *, dimension: str | None = None, start_row: int = 1
) -> Iterator[bytes]:
    """Worksheet XML in pieces: inline strings and numbers, cells with their references."""
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {_NS}>'.encode()
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    for r, row in enumerate(rows, start_row):
        cells = []
        for c, value in enumerate(row):
            if value is None:
                continue
            ref = f"{column_letters(c)}{r}"
            if isinstance(value, (int, float)):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(
                    f'<c r="{ref}" t="inlineStr"><is><t>{_escape(str(value))}</t></is></c>'
                )
        yield f'<row r="{r}">{"".join(cells)}</row>'.encode()
    yield b"</sheetData></worksheet>"


def write_xlsx(
    path: Path,
    sheet: Iterable[bytes],
    *,
    shared_strings: Iterable[bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """An .xlsx whose sheet (and sharedStrings.xml) are streamed in, deflated as they come."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            for piece in sheet:
                out.write(piece)
        if shared_strings is not None:
            with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                for piece in shared_strings:
                    out.write(piece)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def shared_strings_xml(strings: Iterable[bytes], *, count: int | None = None) -> Iterator[bytes]:
    """sharedStrings.xml from already-escaped UTF-8 pieces, each one <si>."""
    declared = f' count="{count}" uniqueCount="{count}"' if count is not None else ""
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {_NS}{declared}>'.encode()
    for s in strings:
        yield b"<si><t>" + s + b"</t></si>"
    yield b"</sst>"


def repeated(piece: bytes, total: int, *, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``total`` bytes of ``piece`` repeated, in chunks (never all in memory)."""
    block = piece * max(1, chunk // len(piece))
    left = total
    while left > 0:
        out = block[:left]
        left -= len(out)
        yield out


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()
