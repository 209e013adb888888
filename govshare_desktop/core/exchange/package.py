"""Read, verify and build ``govshare-exchange/1`` packages (ZIP + ``manifest.json`` + ``manifest.sig``).

Verification runs entirely in memory: the package is read once into ``bytes`` (so what is hashed is what
is checked), nothing is extracted or written to disk, and a refused package raises :class:`PackageRefused`
before any data file is handed out. The order of the checks:

0. **Container safety, from the ZIP central directory only — nothing is decompressed yet.** The file must
   start with a ZIP local header and open as a ZIP (else ``malformed``). Every member name must be a
   plain relative path: no ``..``/``.``/empty segments, no leading ``/``, no drive letter, no backslash,
   no control or invisible characters, no characters or names Windows cannot store (``: * ? " < > |``,
   ``CON``, trailing dots or spaces), and the ZIP library must not have had to rewrite it. No two
   members may share a name, also ignoring case and Unicode normal form. No symlinks or other special
   files (``external_attr`` file type), no encrypted members, no nested archives (``.zip``, ``.7z``,
   ``.gz`` … by name), no members other than ``manifest.json``, ``manifest.sig`` and files or
   directories under ``data/``. Declared sizes must keep within ``max_member_bytes`` each and
   ``max_total_bytes`` together; the compression ratio of a member (above 1 MiB) and of the whole
   package must not exceed ``max_ratio``. Anything unsafe is ``unsafe_member``; a compression method
   other than stored/deflate is ``malformed``. When a member is read, reading stops one byte past its
   declared size and a member longer or shorter than declared is refused.
1. **Signature.** ``manifest.json`` (≤ 1 MiB) and ``manifest.sig`` are read and the manifest is parsed as
   strict JSON (UTF-8, no duplicate keys, no NaN) — this must precede the signature check, because the
   signer's key is chosen by the manifest's ``sender.code``. Only ``format`` (must be
   ``govshare-exchange/1``) and ``sender.code`` are consulted at this point; a missing manifest or
   signature, bad JSON or wrong format is ``malformed``. The key comes from ``trusted_keys`` (configured
   at installation, never from the package): no key is ``unknown_sender``; a signature that is not one
   line of standard base64 of 64 bytes, or does not verify over the exact manifest bytes, is
   ``signature_invalid``. Only then is the rest of the manifest validated (``malformed``).
2. **Recipient.** ``recipient.code`` must be the township's code, else ``wrong_recipient``.
3. **Sequence** is the caller's business (the store knows the last one): it is exposed as
   ``manifest.sequence``.
4. **Member list and files.** The ``data/`` members must be exactly the files the manifest lists (an
   unlisted member is ``unsafe_member``; empty directory entries under ``data/`` are tolerated). This
   check needs the manifest, so it runs after the signature: the manifest it relies on is then
   authentic, and an edited manifest is reported as what it is (``signature_invalid``). Unlisted members
   are never decompressed. Then each listed file must be present, decompress cleanly within its declared
   size and match its SHA-256, else ``checksum_mismatch``; a listed file whose content is itself an
   archive (by its magic bytes) is ``unsafe_member``. Office documents (``.xlsx``/``.docx`` …), which
   are ZIP containers, are allowed as data files.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import io
import json
import os
import re
import stat
import unicodedata
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govshare_desktop.core.errors import UserError

__all__ = [
    "CHECK_NAMES",
    "FORMAT",
    "KINDS",
    "REASONS",
    "Manifest",
    "PackageFile",
    "PackageRefused",
    "Party",
    "VerifiedPackage",
    "build_package",
    "load_public_key",
    "public_key_fingerprint",
    "read_manifest_unverified",
    "verify_package",
]

FORMAT = "govshare-exchange/1"
KINDS = ("backflow", "report", "correction", "share_request", "receipt")
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

DEFAULT_MAX_MEMBER_BYTES = 512 * 2**20
DEFAULT_MAX_TOTAL_BYTES = 2 * 2**30
DEFAULT_MAX_RATIO = 200
MAX_MEMBERS = 1000
MAX_MANIFEST_BYTES = 2**20
MAX_SIGNATURE_BYTES = 1024
MAX_NAME_LENGTH = 255
#: Members up to this size are not ratio-checked one by one (a tiny file can compress "too well"
#: harmlessly); they still count towards the total and the whole package's ratio.
RATIO_FLOOR_BYTES = 2**20
#: The package file itself may exceed ``max_total_bytes`` by this much (headers, stored members).
CONTAINER_SLACK_BYTES = 64 * 2**20

NESTED_ARCHIVE_SUFFIXES = frozenset(
    {
        ".zip", ".zipx", ".7z", ".rar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz",
        ".lz", ".lzma", ".lz4", ".zst", ".z", ".tar", ".cab", ".arj", ".lzh", ".ace", ".jar",
        ".war", ".apk", ".iso", ".cpio", ".rpm", ".deb", ".dmg", ".wim",
    }
)  # fmt: skip
#: ZIP-based document formats a data file may legitimately be (e.g. a report going up as .xlsx).
OFFICE_ZIP_SUFFIXES = frozenset({".xlsx", ".docx", ".pptx", ".ods", ".odt"})
_ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x1f\x8b",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"\x04\x22\x4d\x18",
    b"MSCF\x00\x00\x00\x00",
)

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
_CHUNK = 2**20


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
# Public API


def read_manifest_unverified(data: bytes | Path) -> Manifest:
    """What a package *claims* (sender, sequence, files …), before any trust is checked.

    For display only ("发送方 X，第 3 号包"). The container passes the same safety checks as in
    :func:`verify_package` (default limits), so this may also raise ``unsafe_member``; an unreadable
    package, bad JSON or a manifest not in ``govshare-exchange/1`` raises ``malformed``.
    """
    raw = _load_package_bytes(data, DEFAULT_MAX_TOTAL_BYTES + CONTAINER_SLACK_BYTES)
    zf, members = _open_container(
        raw,
        max_member_bytes=DEFAULT_MAX_MEMBER_BYTES,
        max_total_bytes=DEFAULT_MAX_TOTAL_BYTES,
        max_ratio=DEFAULT_MAX_RATIO,
    )
    with zf:
        manifest_raw = _read_fixed_member(zf, members, MANIFEST_NAME)
    return _parse_manifest(_load_json(manifest_raw), manifest_raw)


def verify_package(
    data: bytes | Path,
    *,
    trusted_keys: Mapping[str, bytes],
    recipient_code: str,
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> VerifiedPackage:
    """Verify a package in the contract's order (see the module docstring) or raise PackageRefused.

    ``trusted_keys`` maps a sender's 12-digit code to its Ed25519 public key PEM, as configured at
    installation. The sequence number is not judged here: the caller compares
    ``result.manifest.sequence`` with the last one it applied. A configured key that is not a valid
    Ed25519 PEM raises :class:`UserError` (an installation problem, not the package's fault).
    """
    raw = _load_package_bytes(data, max_total_bytes + CONTAINER_SLACK_BYTES)
    package_sha256 = hashlib.sha256(raw).hexdigest()
    zf, members = _open_container(
        raw, max_member_bytes=max_member_bytes, max_total_bytes=max_total_bytes, max_ratio=max_ratio
    )
    with zf:
        # (1) signature: the sender code picks the key, so the manifest must be parsed first.
        manifest_raw = _read_fixed_member(zf, members, MANIFEST_NAME)
        signature_raw = _read_fixed_member(zf, members, SIGNATURE_NAME)
        document = _load_json(manifest_raw)
        sender_code = _peek_sender_code(document)
        _check_signature(manifest_raw, signature_raw, sender_code, document, trusted_keys)
        manifest = _parse_manifest(document, manifest_raw)

        # (2) recipient.
        if manifest.recipient.code != recipient_code:
            _refuse(
                "wrong_recipient",
                f"数据包写明的接收方是 {manifest.recipient.code}（{manifest.recipient.name}），"
                f"而本机登记的单位代码是 {recipient_code}。请确认数据包没有发错单位。",
            )

        # (3) sequence: manifest.sequence, judged by the caller.

        # (4) member list, then each listed file.
        listed = {entry.path for entry in manifest.files}
        unlisted = sorted(
            name for name in members if name.startswith(DATA_PREFIX) and name not in listed
        )
        if unlisted:
            more = f"（共 {len(unlisted)} 个）" if len(unlisted) > 1 else ""
            _refuse(
                "unsafe_member",
                f"成员“{_show(unlisted[0])}”不在 manifest.json 的文件清单中{more}；"
                "数据包只能包含清单列出的文件。",
            )
        contents: dict[str, bytes] = {}
        for entry in manifest.files:
            info = members.get(entry.path)
            if info is None:
                _refuse("checksum_mismatch", f"清单列出的文件“{_show(entry.path)}”不在数据包中。")
            content = _read_member(zf, info, corrupt_reason="checksum_mismatch")
            actual = hashlib.sha256(content).hexdigest()
            if actual != entry.sha256:
                _refuse(
                    "checksum_mismatch",
                    f"文件“{_show(entry.path)}”的 SHA-256 与清单不符："
                    f"清单为 {entry.sha256[:16]}…，实际为 {actual[:16]}…。文件在签发后被改动或已损坏。",
                )
            if _looks_like_archive(entry.path, content):
                _refuse(
                    "unsafe_member",
                    f"文件“{_show(entry.path)}”的内容是压缩包；数据包内不允许嵌套压缩包。",
                )
            contents[entry.path] = content
    return VerifiedPackage(manifest, package_sha256, MappingProxyType(contents))


def build_package(
    manifest: dict[str, Any],
    files: Mapping[str, bytes],
    private_key_pem: bytes,
    *,
    audit_anchor: str | None = None,
) -> bytes:
    """Build a signed package: fill in each file's ``sha256``, sign ``manifest.json``, return the ZIP.

    ``audit_anchor``: the audit chain head, for every package the township sends up. Write such a
    package through :func:`govshare_desktop.core.export.audited.audited_write`, which audits it
    and hands the head to the writer.

    ``manifest`` follows the contract (``format`` is filled in if absent; ``rows`` is the caller's);
    ``files`` maps each listed ``data/…`` path to its bytes. The manifest is serialised as UTF-8 JSON
    (``ensure_ascii=False``, ``indent=2``, key order as given) and must pass the same validation a
    receiver applies, else ``ValueError``. A private key that is not an unencrypted Ed25519 PEM raises
    :class:`UserError`.
    """
    key = _load_private_key(private_key_pem)
    document = copy.deepcopy(dict(manifest))
    document.setdefault("format", FORMAT)
    if audit_anchor is not None:
        document["audit_anchor"] = audit_anchor
    entries = document.get("files")
    if not isinstance(entries, list):
        raise ValueError("清单缺少文件列表 files（应为数组）。")
    listed: list[str] = []
    for index, entry in enumerate(entries):
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str):
            raise ValueError(f"清单 files[{index}] 缺少 path。")
        if path not in files:
            raise ValueError(f"清单列出的文件“{path}”没有提供内容。")
        entry["sha256"] = hashlib.sha256(files[path]).hexdigest()
        listed.append(path)
    extra = sorted(set(files) - set(listed))
    if extra:
        raise ValueError(f"文件“{extra[0]}”没有列入清单 files。")
    manifest_raw = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False).encode(
        "utf-8"
    )
    try:
        parsed = _parse_manifest(_load_json(manifest_raw), manifest_raw)
    except PackageRefused as exc:
        raise ValueError(f"要打包的清单不符合 {FORMAT}：{exc.problem}") from exc
    signature = base64.b64encode(key.sign(manifest_raw)) + b"\n"

    created = parsed.created_at  # the members' ZIP time, so that a rebuild gives the same bytes
    date_time = (1980, 1, 1, 0, 0, 0) if created.year < 1980 else created.timetuple()[:6]
    members = [(MANIFEST_NAME, manifest_raw), (SIGNATURE_NAME, signature)]
    members += [(path, bytes(files[path])) for path in listed]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, content)
    return buffer.getvalue()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (``-----BEGIN PUBLIC KEY-----``), else UserError."""
    try:
        key = serialization.load_pem_public_key(pem)
    except Exception as exc:
        raise UserError(
            "公钥无法读取：不是 PEM 格式的公钥（应以“-----BEGIN PUBLIC KEY-----”开头）。",
            detail=_exc_text(exc),
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(
            f"公钥类型不对：这是 {type(key).__name__.removeprefix('_')} 公钥，"
            f"{FORMAT} 数据包只使用 Ed25519 签名。"
        )
    return key


def public_key_fingerprint(pem: bytes) -> str:
    """SHA-256 of the raw 32-byte Ed25519 key, lowercase hex (for ``govshare trust list``)."""
    raw = load_public_key(pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()


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


def _load_package_bytes(data: bytes | Path, limit: int) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        path = Path(os.fsdecode(data))
        try:
            if path.stat().st_size > limit:
                _refuse("unsafe_member", f"数据包文件过大（超过 {_size(limit)}）。")
            with path.open("rb") as handle:
                raw = handle.read(limit + 1)
        except OSError as exc:
            raise UserError(
                f"无法读取数据包文件“{path.name}”：{exc.strerror or exc}", detail=str(path)
            ) from exc
    if len(raw) > limit:
        _refuse("unsafe_member", f"数据包文件过大（超过 {_size(limit)}）。")
    return raw


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 2**10:
        return f"{n / 2**10:.1f} KiB"
    return f"{n} 字节"


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


def _open_container(
    raw: bytes, *, max_member_bytes: int, max_total_bytes: int, max_ratio: int
) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """Open the ZIP and check its central directory; return the file members by name."""
    if not raw.startswith(b"PK\x03\x04"):
        _refuse("malformed", "文件不是 ZIP 格式的数据包（文件开头不是 ZIP 文件头）。")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except Exception as exc:
        raise PackageRefused(
            "malformed",
            "数据包文件已损坏或不完整（可能在复制或下载时被截断，ZIP 目录缺失或损坏）；"
            "请向发送单位重新获取该数据包。",
            detail=_exc_text(exc),
        ) from exc
    try:
        members = _check_members(
            infos,
            package_bytes=len(raw),
            max_member_bytes=max_member_bytes,
            max_total_bytes=max_total_bytes,
            max_ratio=max_ratio,
        )
    except BaseException:
        zf.close()
        raise
    return zf, members


def _check_members(
    infos: list[zipfile.ZipInfo],
    *,
    package_bytes: int,
    max_member_bytes: int,
    max_total_bytes: int,
    max_ratio: int,
) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > MAX_MEMBERS:
        _refuse("unsafe_member", f"数据包有 {len(infos)} 个成员，超过上限 {MAX_MEMBERS}。")
    seen: dict[str, str] = {}
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.orig_filename
        problem = _name_problem(name)
        if problem is None and info.filename != name:
            problem = "名称被 ZIP 库改写（含空字符或路径分隔符）"
        if problem:
            _refuse("unsafe_member", f"成员“{_show(name)}”{problem}。")
        key = unicodedata.normalize("NFC", name).casefold()
        if key in seen:
            if seen[key] == name:
                _refuse("unsafe_member", f"成员“{_show(name)}”在数据包中重复出现。")
            _refuse(
                "unsafe_member",
                f"成员“{_show(name)}”与“{_show(seen[key])}”只有大小写或字符写法不同，视为重复。",
            )
        seen[key] = name

        file_type = stat.S_IFMT(info.external_attr >> 16)
        is_dir = name.endswith("/")
        if file_type == stat.S_IFLNK:
            _refuse("unsafe_member", f"成员“{_show(name)}”是符号链接。")
        if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            _refuse("unsafe_member", f"成员“{_show(name)}”是特殊文件（设备、管道或套接字）。")
        if not is_dir and (file_type == stat.S_IFDIR or info.external_attr & 0x10):
            _refuse("unsafe_member", f"成员“{_show(name)}”标记为目录，但名称不以“/”结尾。")
        if info.flag_bits & 0x1:
            _refuse("unsafe_member", f"成员“{_show(name)}”已加密，无法校验。")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _refuse(
                "malformed",
                f"成员“{_show(name)}”使用了不支持的压缩方式（编号 {info.compress_type}），"
                "只接受“存储”或 deflate。",
            )

        if is_dir:
            if not name.startswith(DATA_PREFIX):
                _refuse("unsafe_member", f"成员“{_show(name)}”是 data/ 以外的目录。")
            if info.file_size:
                _refuse("unsafe_member", f"目录成员“{_show(name)}”带有内容。")
            continue
        if name not in (MANIFEST_NAME, SIGNATURE_NAME) and not name.startswith(DATA_PREFIX):
            _refuse(
                "unsafe_member",
                f"成员“{_show(name)}”不在 data/ 目录下，也不是 manifest.json 或 manifest.sig。",
            )
        if _is_nested_archive_name(name):
            _refuse("unsafe_member", f"成员“{_show(name)}”是压缩包；数据包内不允许嵌套压缩包。")

        size = info.file_size
        if size > max_member_bytes:
            _refuse(
                "unsafe_member",
                f"成员“{_show(name)}”解压后有 {_size(size)}，超过单个文件上限 {_size(max_member_bytes)}。",
            )
        total += size
        if total > max_total_bytes:
            _refuse(
                "unsafe_member",
                f"数据包解压后的总大小超过上限 {_size(max_total_bytes)}（到成员“{_show(name)}”为止）。",
            )
        if size > RATIO_FLOOR_BYTES and size > max_ratio * info.compress_size:
            ratio = size // max(info.compress_size, 1)
            _refuse(
                "unsafe_member",
                f"成员“{_show(name)}”的压缩比约为 {ratio}:1，超过上限 {max_ratio}:1，疑似压缩炸弹"
                f"（压缩后 {_size(info.compress_size)}，解压后 {_size(size)}）。",
            )
        members[name] = info
    if total > RATIO_FLOOR_BYTES and total > max_ratio * package_bytes:
        _refuse(
            "unsafe_member",
            f"数据包整体压缩比约为 {total // max(package_bytes, 1)}:1，超过上限 {max_ratio}:1，疑似压缩炸弹。",
        )
    for fixed, limit in (
        (MANIFEST_NAME, MAX_MANIFEST_BYTES),
        (SIGNATURE_NAME, MAX_SIGNATURE_BYTES),
    ):
        fixed_info = members.get(fixed)
        if fixed_info is not None and fixed_info.file_size > limit:
            _refuse(
                "unsafe_member",
                f"{fixed} 有 {_size(fixed_info.file_size)}，超过上限 {_size(limit)}。",
            )
    return members


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, corrupt_reason: str) -> bytes:
    """A member's bytes, reading at most one byte past its declared size."""
    declared = info.file_size
    buffer = bytearray()
    try:
        with zf.open(info) as handle:
            while len(buffer) <= declared:
                chunk = handle.read(min(_CHUNK, declared + 1 - len(buffer)))
                if not chunk:
                    break
                buffer += chunk
    except Exception as exc:
        raise PackageRefused(
            corrupt_reason,
            f"成员“{_show(info.orig_filename)}”无法解压，数据已损坏。",
            detail=_exc_text(exc),
        ) from exc
    if len(buffer) > declared:
        _refuse(
            "unsafe_member",
            f"成员“{_show(info.orig_filename)}”解压出的内容超过了 ZIP 目录声明的大小（{declared} 字节）。",
        )
    if len(buffer) < declared:
        _refuse(
            corrupt_reason,
            f"成员“{_show(info.orig_filename)}”解压出的内容（{len(buffer)} 字节）"
            f"少于 ZIP 目录声明的大小（{declared} 字节），数据已损坏。",
        )
    return bytes(buffer)


def _read_fixed_member(
    zf: zipfile.ZipFile, members: Mapping[str, zipfile.ZipInfo], name: str
) -> bytes:
    info = members.get(name)
    if info is None:
        what = "清单文件" if name == MANIFEST_NAME else "签名文件"
        _refuse("malformed", f"数据包中没有{what} {name}。")
    return _read_member(zf, info, corrupt_reason="malformed")


def _looks_like_archive(path: str, content: bytes) -> bool:
    if PurePosixPath(path).suffix.lower() in OFFICE_ZIP_SUFFIXES and content.startswith(
        b"PK\x03\x04"
    ):
        return False
    if content.startswith(_ARCHIVE_MAGIC):
        return True
    if content.startswith(b"BZh") and content[3:4].isdigit():
        return True
    return content[257:263] == b"ustar\x00" or content[257:265] == b"ustar  \x00"


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


def _check_signature(
    manifest_raw: bytes,
    signature_raw: bytes,
    sender_code: str,
    document: Mapping[str, Any],
    trusted_keys: Mapping[str, bytes],
) -> None:
    pem = trusted_keys.get(sender_code)
    if pem is None:
        claimed = document["sender"].get("name")
        named = f"（自称“{_show(claimed)}”）" if isinstance(claimed, str) and claimed else ""
        _refuse(
            "unknown_sender",
            f"发送方 {sender_code}{named}没有登记公钥，无法确认数据包的来源。"
            "请由系统管理员登记该单位的公钥后再导入。",
        )
    try:
        key = load_public_key(pem)
    except UserError as exc:
        raise UserError(
            f"发送方 {sender_code} 登记的公钥无效，无法校验数据包：{exc.message}", detail=exc.detail
        ) from exc
    signature = _decode_signature(signature_raw)
    if signature is None:
        _refuse(
            "signature_invalid", "manifest.sig 不是一行标准 base64 编码的 Ed25519 签名（64 字节）。"
        )
    try:
        key.verify(signature, manifest_raw)
    except InvalidSignature:
        _refuse(
            "signature_invalid",
            f"manifest.json 的签名与发送方 {sender_code} 登记的公钥不符："
            "数据包在签发后被改动，或不是该单位签发的。",
        )


def _decode_signature(raw: bytes) -> bytes | None:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    try:
        signature = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return signature if len(signature) == 64 else None


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


def _load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except Exception as exc:
        raise UserError(
            "私钥无法读取：不是未加密的 PEM 格式私钥（应以“-----BEGIN PRIVATE KEY-----”开头）。",
            detail=_exc_text(exc),
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"私钥类型不对：{FORMAT} 数据包只使用 Ed25519 签名。")
    return key
