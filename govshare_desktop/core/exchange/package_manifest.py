"""The ``govshare-exchange/1`` manifest: the package's kinds and refusal reasons, the values a
verified package is read into, the names a package may hold, and parsing the manifest's JSON
strictly (no duplicate keys, no NaN, every field checked).

The format is described in :mod:`govshare_desktop.core.exchange.package`.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, NoReturn

from govshare_desktop.core.errors import UserError

FORMAT = "govshare-exchange/1"
KINDS = (
    "backflow",
    "report_task",
    "report",
    "correction",
    "share_request",
    "catalog",
    "reply",
    "calendar",
    "receipt",
)
MODES = ("full", "delta")
REASONS = (
    "signature_invalid",
    "unknown_sender",
    "wrong_recipient",
    "checksum_mismatch",
    "unsafe_member",
    "malformed",
    "manifest_mismatch",
)
#: The check each reason code stands for, as named in the clerk's message.
CHECK_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "signature_invalid": "签名校验",
        "unknown_sender": "发送方核对",
        "wrong_recipient": "接收方核对",
        "checksum_mismatch": "文件校验（SHA-256）",
        "unsafe_member": "安全检查",
        "malformed": "格式检查",
        "manifest_mismatch": "清单核对（行数与格式）",
    }
)

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
DATA_PREFIX = "data/"
MAX_NAME_LENGTH = 255

NESTED_ARCHIVE_SUFFIXES = frozenset(
    {
        ".zip", ".zipx", ".7z", ".rar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz",
        ".lz", ".lzma", ".lz4", ".zst", ".z", ".tar", ".cab", ".arj", ".lzh", ".ace", ".jar",
        ".war", ".apk", ".iso", ".cpio", ".rpm", ".deb", ".dmg", ".wim",
    }
)  # fmt: skip

_CODE_RE = re.compile(r"[0-9]{12}")
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ANCHOR_RE = re.compile(r"[0-9]+:[0-9a-f]{64}")
_DRIVE_RE = re.compile(r"[A-Za-z]:")
_WINDOWS_FORBIDDEN = frozenset(':*?"<>|')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


class PackageRefused(UserError):
    """The whole package is refused; nothing from it may be applied.

    ``reason_code`` is one of :data:`REASONS`; ``problem`` is the Chinese sentence saying what failed
    and where (member name, expected vs. actual hash prefix, sender code …); ``message`` wraps it with
    the name of the failed check.
    """

    def __init__(self, reason_code: str, problem: str, *, detail: str | None = None) -> None:
        if reason_code not in REASONS:
            raise ValueError(f"unknown reason code {reason_code!r}")
        super().__init__(
            f"数据包未通过{CHECK_NAMES[reason_code]}，已整体拒收，没有导入任何数据：{problem}",
            detail=detail,
        )
        self.reason_code = reason_code
        self.problem = problem


@dataclass(frozen=True)
class PackageFile:
    path: str
    dataset: str
    source_department: str
    format: str
    encoding: str
    rows: int | None
    sha256: str
    mode: str = "full"  # "full" | "delta"


@dataclass(frozen=True)
class Party:
    code: str
    name: str


@dataclass(frozen=True)
class Manifest:
    format: str
    package_id: str
    kind: str
    sender: Party
    recipient: Party
    sequence: int
    created_at: datetime
    as_of: date | None
    files: tuple[PackageFile, ...]
    raw: bytes = field(repr=False)  # the exact manifest.json bytes (what the signature covers)
    # Packages going up carry the sender's audit chain head ("seq:mac"), so that a truncated or
    # rewritten audit trail at the township shows against the copy the county keeps.
    audit_anchor: str | None = None

    def file(self, path: str) -> PackageFile:
        for entry in self.files:
            if entry.path == path:
                return entry
        raise KeyError(path)


@dataclass(frozen=True)
class VerifiedPackage:
    """A package whose container, signature, recipient and file checksums have all been verified."""

    manifest: Manifest
    sha256: str  # of the whole package file
    _contents: Mapping[str, bytes] = field(repr=False, compare=False, hash=False)

    def read(self, path: str) -> bytes:
        """The verified bytes of a data file the manifest lists (held in memory, never on disk)."""
        try:
            return self._contents[path]
        except KeyError:
            raise KeyError(
                f"{path!r} is not a file of package {self.manifest.package_id}"
            ) from None


# ---------------------------------------------------------------------------------------------------
# Container


def _refuse(reason: str, problem: str, *, detail: str | None = None) -> NoReturn:
    raise PackageRefused(reason, problem, detail=detail)


def _exc_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _show(name: str) -> str:
    """A member name fit for a message: invisible characters escaped, long names shortened."""
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in name)
    return shown if len(shown) <= 120 else shown[:117] + "…"


def _name_problem(name: str) -> str | None:
    """Why a member name is unsafe (Chinese), or None."""
    if not name:
        return "名称为空"
    if len(name) > MAX_NAME_LENGTH:
        return "名称过长"
    if "\\" in name:
        return "名称中含有反斜杠“\\”"
    if name.startswith("/"):
        return "使用了绝对路径"
    if _DRIVE_RE.match(name):
        return "带有盘符"
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in name):
        return "名称中含有控制字符或不可见字符"
    body = name[:-1] if name.endswith("/") else name
    for part in body.split("/"):
        if part == "..":
            return "路径中含有上级目录“..”"
        if part in ("", "."):
            return "路径不规范（含有空段或“.”）"
        if any(ch in _WINDOWS_FORBIDDEN for ch in part):
            return '名称中含有 Windows 不允许的字符（: * ? " < > |）'
        if part != part.strip() or part.endswith("."):
            return "名称首尾有空格或以“.”结尾"
        if part.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
            return "使用了 Windows 保留设备名"
    return None


def _is_nested_archive_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in NESTED_ARCHIVE_SUFFIXES


# ---------------------------------------------------------------------------------------------------
# Manifest


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"非标准 JSON 常量 {name}")


def _load_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
        )
    except _DuplicateKey as exc:
        raise PackageRefused("malformed", f"manifest.json 中字段“{exc}”重复出现。") from exc
    except UnicodeDecodeError as exc:
        raise PackageRefused(
            "malformed", "manifest.json 不是 UTF-8 文本。", detail=_exc_text(exc)
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise PackageRefused(
            "malformed", "manifest.json 不是有效的 JSON。", detail=_exc_text(exc)
        ) from exc
    if not isinstance(document, dict):
        _refuse("malformed", "manifest.json 的顶层不是 JSON 对象。")
    return document


def _peek_sender_code(document: Mapping[str, Any]) -> str:
    """``format`` and ``sender.code``: all that is read from the manifest before its signature."""
    fmt = document.get("format")
    if fmt != FORMAT:
        shown = f"“{_show(str(fmt))}”" if fmt is not None else "缺失"
        _refuse("malformed", f"manifest.json 的 format 为{shown}，本程序只接受“{FORMAT}”。")
    sender = document.get("sender")
    code = sender.get("code") if isinstance(sender, dict) else None
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        _refuse(
            "malformed",
            "manifest.json 缺少有效的发送方代码 sender.code（应为 12 位统计用区划代码）。",
        )
    return code


def _parse_manifest(document: Mapping[str, Any], raw: bytes) -> Manifest:
    """Validate a parsed manifest.json against the contract (``malformed`` / ``unsafe_member``)."""
    _peek_sender_code(document)
    package_id = _text(document, "package_id")
    try:
        uuid.UUID(package_id)
    except ValueError:
        _refuse("malformed", f"manifest.json 的 package_id“{_show(package_id)}”不是 UUID。")
    kind = _text(document, "kind")
    if kind not in KINDS:
        _refuse("malformed", f"manifest.json 的 kind“{_show(kind)}”不是 {' / '.join(KINDS)} 之一。")
    sender = _party(document, "sender")
    recipient = _party(document, "recipient")
    sequence = document.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        _refuse("malformed", "manifest.json 的 sequence 应为从 1 开始的整数。")
    created_at = _timestamp(_text(document, "created_at"))
    as_of_value = document.get("as_of")
    as_of: date | None = None
    if as_of_value is not None:
        if not isinstance(as_of_value, str) or not _DATE_RE.fullmatch(as_of_value):
            _refuse("malformed", "manifest.json 的 as_of 应为 YYYY-MM-DD 格式的日期。")
        try:
            as_of = date.fromisoformat(as_of_value)
        except ValueError:
            _refuse("malformed", f"manifest.json 的 as_of“{as_of_value}”不是有效日期。")
    elif kind == "backflow":
        _refuse("malformed", "回流数据包的 manifest.json 缺少 as_of（数据截止日期）。")
    entries = document.get("files")
    if not isinstance(entries, list):
        _refuse("malformed", "manifest.json 缺少文件列表 files（应为数组）。")
    files = tuple(_package_file(entry, index) for index, entry in enumerate(entries))
    seen: dict[str, str] = {}
    for entry in files:
        key = unicodedata.normalize("NFC", entry.path).casefold()
        if key in seen:
            _refuse("malformed", f"manifest.json 的文件清单中“{_show(entry.path)}”重复出现。")
        seen[key] = entry.path
    anchor = document.get("audit_anchor")
    if anchor is not None and (not isinstance(anchor, str) or not _ANCHOR_RE.fullmatch(anchor)):
        _refuse("malformed", "manifest.json 的 audit_anchor 应为“序号:64位十六进制”。")
    return Manifest(
        audit_anchor=anchor,
        format=FORMAT,
        package_id=package_id,
        kind=kind,
        sender=sender,
        recipient=recipient,
        sequence=sequence,
        created_at=created_at,
        as_of=as_of,
        files=files,
        raw=raw,
    )


def _text(obj: Mapping[str, Any], key: str, where: str = "") -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        _refuse("malformed", f"manifest.json 缺少字段 {where}{key}（应为非空文本）。")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        _refuse("malformed", f"manifest.json 的字段 {where}{key} 含有控制字符。")
    return value


def _party(document: Mapping[str, Any], key: str) -> Party:
    value = document.get(key)
    if not isinstance(value, dict):
        _refuse("malformed", f"manifest.json 缺少 {key}（应为含 code 和 name 的对象）。")
    code = value.get("code")
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        _refuse("malformed", f"manifest.json 的 {key}.code 应为 12 位统计用区划代码。")
    return Party(code=code, name=_text(value, "name", f"{key}."))


def _timestamp(value: str) -> datetime:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        _refuse("malformed", f"manifest.json 的 created_at“{_show(value)}”不是 ISO 8601 时间。")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        _refuse(
            "malformed", f"manifest.json 的 created_at“{_show(value)}”没有写时区（如 +08:00）。"
        )
    return parsed


def _package_file(entry: object, index: int) -> PackageFile:
    where = f"files[{index}]."
    if not isinstance(entry, dict):
        _refuse("malformed", f"manifest.json 的 files[{index}] 不是对象。")
    path = _text(entry, "path", where)
    problem = _name_problem(path)
    if problem is None and (not path.startswith(DATA_PREFIX) or path.endswith("/")):
        problem = "不是 data/ 目录下的文件"
    if problem is None and _is_nested_archive_name(path):
        problem = "是压缩包（不允许嵌套压缩包）"
    if problem:
        _refuse("unsafe_member", f"manifest.json 列出的文件“{_show(path)}”{problem}。")
    source_department = entry.get("source_department")
    if not isinstance(source_department, str):
        _refuse("malformed", f"manifest.json 缺少字段 {where}source_department（应为文本）。")
    rows = entry.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
        _refuse("malformed", f"manifest.json 的 {where}rows 应为非负整数。")
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not _SHA256_RE.fullmatch(sha256):
        _refuse("malformed", f"manifest.json 的 {where}sha256 应为 64 位十六进制 SHA-256 值。")
    mode = entry.get("mode", "full")
    if mode not in MODES:
        _refuse("malformed", f"manifest.json 的 {where}mode 应为 full 或 delta。")
    return PackageFile(
        path=path,
        dataset=_text(entry, "dataset", where),
        source_department=source_department,
        format=_text(entry, "format", where),
        encoding=_text(entry, "encoding", where),
        rows=rows,
        sha256=sha256.lower(),
        mode=mode,
    )
