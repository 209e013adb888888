"""The package's ZIP container read defensively: size limits, member names (no traversal, no
Windows-reserved or invisible names), no nested archives, no zip bombs, members read within
their declared sizes.
"""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package_manifest import (
    DATA_PREFIX,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    PackageRefused,
    _exc_text,
    _is_nested_archive_name,
    _name_problem,
    _refuse,
    _show,
)

DEFAULT_MAX_MEMBER_BYTES = 512 * 2**20
DEFAULT_MAX_TOTAL_BYTES = 2 * 2**30
DEFAULT_MAX_RATIO = 200
MAX_MEMBERS = 1000
MAX_MANIFEST_BYTES = 2**20
MAX_SIGNATURE_BYTES = 1024
#: Members up to this size are not ratio-checked one by one (a tiny file can compress "too well"
#: harmlessly); they still count towards the total and the whole package's ratio.
RATIO_FLOOR_BYTES = 2**20
#: The package file itself may exceed ``max_total_bytes`` by this much (headers, stored members).
CONTAINER_SLACK_BYTES = 64 * 2**20
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
_CHUNK = 2**20


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
        _check_member_name(info, seen)
        if not _check_member_kind(info):
            continue  # a directory under data/
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


def _check_member_name(info: zipfile.ZipInfo, seen: dict[str, str]) -> None:
    """A safe name, not met before in any case or Unicode spelling (``seen``: folded -> name)."""
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


def _check_member_kind(info: zipfile.ZipInfo) -> bool:
    """A plain file or directory, unencrypted, stored or deflated, where the format puts it, and
    no archive. False for a (checked, empty) directory under data/."""
    name = info.orig_filename
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
        return False
    if name not in (MANIFEST_NAME, SIGNATURE_NAME) and not name.startswith(DATA_PREFIX):
        _refuse(
            "unsafe_member",
            f"成员“{_show(name)}”不在 data/ 目录下，也不是 manifest.json 或 manifest.sig。",
        )
    if _is_nested_archive_name(name):
        _refuse("unsafe_member", f"成员“{_show(name)}”是压缩包；数据包内不允许嵌套压缩包。")
    return True


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
