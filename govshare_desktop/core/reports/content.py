"""Reading the small data files of report-loop packages strictly: JSON objects (UTF-8, no duplicate
keys, no NaN) and CSV files with an exact header. Every problem is refused as ``malformed`` with the
file, the line and the field named."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NoReturn

from govshare_desktop.core.exchange.package import PackageRefused


def refuse(problem: str) -> NoReturn:
    raise PackageRefused("malformed", problem)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"字段“{key}”重复出现")
        out[key] = value
    return out


def _constant(name: str) -> NoReturn:
    raise ValueError(f"不允许的数值 {name}")


def load_object(data: bytes, name: str) -> dict[str, Any]:
    """A JSON object from ``data`` (a file of the package called ``name``)."""
    try:
        document = json.loads(
            data.decode("utf-8-sig"), object_pairs_hook=_pairs, parse_constant=_constant
        )
    except UnicodeDecodeError:
        refuse(f"{name} 不是 UTF-8 编码的文本。")
    except ValueError as exc:
        refuse(f"{name} 不是有效的 JSON：{exc}")
    if not isinstance(document, dict):
        refuse(f"{name} 应为一个 JSON 对象。")
    return document


def text(document: Mapping[str, Any], key: str, name: str, *, optional: bool = False) -> str:
    value = document.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value.strip():
        refuse(f"{name} 缺少字段 {key}（应为非空文本）。")
    return value.strip()


def day(value: str, where: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        refuse(f"{where}“{value}”不是 YYYY-MM-DD 格式的日期。")


def moment(value: str, where: str) -> datetime:
    """An ISO 8601 time; with an offset it is turned into this PC's local time (naive)."""
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        refuse(f"{where}“{value}”不是 ISO 8601 时间。")
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def party(document: Mapping[str, Any], key: str, name: str) -> tuple[str, str]:
    value = document.get(key)
    if not isinstance(value, dict):
        refuse(f"{name} 的 {key} 应为含 code 和 name 的对象。")
    code = text(value, "code", f"{name} 的 {key}.")
    if len(code) != 12 or not code.isdigit():
        refuse(f"{name} 的 {key}.code“{code}”应为 12 位统计用区划代码。")
    return code, text(value, "name", f"{name} 的 {key}.")


def read_rows(data: bytes, name: str, header: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of a UTF-8 CSV whose header is exactly ``header``."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        refuse(f"{name} 不是 UTF-8 编码的 CSV。")
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        found = [cell.strip() for cell in next(reader)]
    except StopIteration:
        refuse(f"{name} 是空文件（应有表头：{'、'.join(header)}）。")
    if found != list(header):
        refuse(f"{name} 的表头应为“{','.join(header)}”，实际为“{','.join(found)}”。")
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        line = reader.line_num
        if len(record) != len(header):
            refuse(f"{name} 第 {line} 行有 {len(record)} 列，表头有 {len(header)} 列。")
        rows.append((line, {h: cell.strip() for h, cell in zip(header, record, strict=True)}))
    return rows


def write_rows(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """A UTF-8 CSV (no BOM, ``\\r\\n`` line ends as the csv module writes them)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if cell is None else str(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8")
