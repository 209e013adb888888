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
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package_container import (
    CONTAINER_SLACK_BYTES,
    DEFAULT_MAX_MEMBER_BYTES,
    DEFAULT_MAX_RATIO,
    DEFAULT_MAX_TOTAL_BYTES,
    _load_package_bytes,
    _looks_like_archive,
    _open_container,
    _read_fixed_member,
    _read_member,
)
from govshare_desktop.core.exchange.package_manifest import (
    CHECK_NAMES,
    DATA_PREFIX,
    FORMAT,
    KINDS,
    MANIFEST_NAME,
    REASONS,
    SIGNATURE_NAME,
    Manifest,
    PackageFile,
    PackageRefused,
    Party,
    VerifiedPackage,
    _exc_text,
    _load_json,
    _parse_manifest,
    _peek_sender_code,
    _refuse,
    _show,
)

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
