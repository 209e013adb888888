"""Every file that leaves the application goes through :func:`audited_write`: the permission is
checked (unmasked personal data needs its own), the file is written beside its target, its SHA-256
and the record count go into the audit trail, and only then is it renamed into place. If the audit
entry cannot be written, the file never appears. The audit head at the time of writing is handed
to the writer, to be stored in the file's metadata (an anchor for ``govshare audit verify``).
Every exported file is private to its owner (mode 0600 where the system has POSIX modes): it may
hold personal data, and a shared office PC's other logins must not read it.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import read_manifest_unverified
from govshare_desktop.core.security.audit import GENESIS, Anchor, audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store

ANCHOR_PREFIX = "govshare-audit:"


def make_private(path: Path) -> None:
    """Readable and writable by its owner only (0600). On Windows this only clears read-only;
    there the file inherits the user's profile folder's access list."""
    os.chmod(path, 0o600)


def require_reason(masked: bool, reason: str) -> None:
    """Full personal data leaves only with a reason (recorded in the audit entry)."""
    if not masked and not reason.strip():
        raise UserError("导出含完整个人信息的报表须说明事由（例如：报送民政局审批）")


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    sha256: str
    forms: int  # how many forms (or list rows) it holds


def audited_write(
    store: Store,
    final: Path,
    write: Callable[[Path, str], Any],
    *,
    masked: bool,
    count: int,
    detail: dict[str, Any] | None = None,
    action: str = "export",
    permission: Action | None = None,
) -> ExportedFile:
    """``write(temp_path, anchor)`` makes the file; it is audited, then renamed to ``final``.
    ``permission``: what the export needs instead of EXPORT / EXPORT_UNMASKED (e.g. the audit
    trail's own export, which only the 审计管理员 may make)."""
    store.principal.require(permission or (Action.EXPORT if masked else Action.EXPORT_UNMASKED))
    if action == "print":
        store.principal.require(Action.PRINT)
    final = Path(final)
    if not final.parent.is_dir():
        raise UserError(f"文件夹 {final.parent} 不存在")
    trail = audit_trail(store)
    head = trail.head() or Anchor(0, GENESIS)  # 0: the trail was empty
    temp = final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")
    try:
        write(temp, str(head))
        make_private(temp)
        digest = _sha256(temp)
        trail.log(
            store.principal,
            action,
            final.name,
            detail={
                **(detail or {}),
                "path": str(final),
                "sha256": digest,
                "count": count,
                "masked": masked,
            },
        )
        os.replace(temp, final)
    except OSError as exc:
        raise UserError(
            f"无法写入文件 {final}：{exc.strerror or exc}（磁盘已满或没有写权限？）"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return ExportedFile(final, digest, count)


def read_anchor(path: Path) -> str | None:
    """The audit anchor stored in an exported .xlsx or .pdf, or in an outgoing exchange package's
    manifest (None if it has none)."""
    path = Path(path)
    text = None
    if path.suffix.lower() == ".zip":
        return read_manifest_unverified(path).audit_anchor
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook  # heavy: openpyxl loads only for workbooks

        text = load_workbook(path, read_only=True).properties.keywords
    elif path.suffix.lower() == ".pdf":  # reportlab writes the info dictionary uncompressed
        found = re.search(rb"/Keywords \((govshare-audit:\d+:[0-9a-f]{64})\)", path.read_bytes())
        text = found.group(1).decode("ascii") if found else None
    if text and str(text).startswith(ANCHOR_PREFIX):
        return str(text)[len(ANCHOR_PREFIX) :]
    return None


def _sha256(path: Path) -> str:
    """The file's digest, read in pieces: a township's batch of forms is hundreds of MB."""
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while piece := data.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()
