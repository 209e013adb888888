"""The outbox: every package the township makes — reports, receipts, later corrections and share
requests — signed with the township's key, numbered per recipient, kept with its bytes and written
to a folder the clerk chooses (a USB stick, a shared folder) never half-written.

``sequence`` counts per (township, recipient) pair from 1 (exchange-format.md, "All kinds, both
directions"); the numbering is taken inside the transaction that stores the package, under the
database's single writer, and a UNIQUE (recipient, sequence) constraint backs it. Each package is
audited when made (with its SHA-256 and the audit head it carries) and again each time it is written
to a folder. The recipient's receipt, when it comes back, is recorded on the package's row.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import Party, build_package
from govshare_desktop.core.exchange.township_key import ensure_key, signing_pem
from govshare_desktop.core.private_files import fsync_dir, private_write
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry, OutboxPackage
from govshare_desktop.core.store.township import get_township

KIND_LABELS = {
    "report": "报表",
    "correction": "纠错",
    "share_request": "共享申请",
    "receipt": "回执",
}
RECEIPT_LABELS = {
    None: "待回执",
    "applied": "已接收",
    "already_received": "已接收（重复）",
    "refused": "被拒收",
}


@dataclass
class Outgoing:
    """What one package going up carries: ``files`` maps each ``data/…`` path to its bytes,
    ``entries`` gives each file's manifest entry beyond path and SHA-256."""

    kind: str
    recipient: Party
    subject: str
    files: Mapping[str, bytes]
    entries: Mapping[str, Mapping[str, Any]]
    refers_to: str | None = None
    replaces: str | None = None
    as_of: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more manifest fields, if any


def next_sequence(session: Session, recipient_code: str) -> int:
    last = session.scalar(
        select(func.max(OutboxPackage.sequence)).where(
            OutboxPackage.recipient_code == recipient_code
        )
    )
    return (last or 0) + 1


def _audit_head(session: Session) -> str:
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return f"{row[0]}:{row[1]}" if row else f"0:{'0' * 64}"


def file_name_for(kind: str, sender: str, recipient: str, sequence: int) -> str:
    """``441900199000-441900000002_000003_report.zip``: ASCII, one per sequence, and a folder of
    them sorted by name is in the order the recipient must apply them."""
    return f"{sender}-{recipient}_{sequence:06d}_{kind}.zip"


def make_package(
    store: Store,
    session: Session,
    outgoing: Outgoing,
    *,
    now: datetime,
    audit_as: tuple[str, str, dict[str, Any]] | None = None,
) -> OutboxPackage:
    """Sign and keep one package in ``session``'s transaction (the caller's unit of work: a
    report's package and the form's status change commit together, or neither does). Audited
    as 签发数据包, or — ``audit_as=(action, object, detail)`` — as the caller's action (上报: one
    entry that says what was done and which package it made)."""
    if store.secret is None:
        raise UserError("没有登录，不能签发数据包")
    township = get_township(session)
    if township is None:
        raise UserError("尚未设置本乡镇（街道），请先初始化数据库（govshare init）")
    key = ensure_key(session, store.secret, user=store.principal.username, now=now)
    sequence = next_sequence(session, outgoing.recipient.code)
    package_id = str(uuid.uuid4())
    manifest: dict[str, Any] = {
        "format": "govshare-exchange/1",
        "package_id": package_id,
        "kind": outgoing.kind,
        "sender": {"code": township.code, "name": township.name},
        "recipient": {"code": outgoing.recipient.code, "name": outgoing.recipient.name},
        "sequence": sequence,
        "created_at": now.astimezone().isoformat(timespec="seconds"),
    }
    if outgoing.as_of:
        manifest["as_of"] = outgoing.as_of
    manifest.update(outgoing.extra)
    manifest["files"] = [
        {"path": path, "source_department": township.name, **dict(outgoing.entries.get(path, {}))}
        for path in outgoing.files
    ]
    anchor = _audit_head(session)
    content = build_package(
        manifest, outgoing.files, signing_pem(key, store.secret), audit_anchor=anchor
    )
    row = OutboxPackage(
        package_id=package_id,
        kind=outgoing.kind,
        recipient_code=outgoing.recipient.code,
        recipient_name=outgoing.recipient.name,
        sequence=sequence,
        subject=outgoing.subject,
        refers_to=outgoing.refers_to,
        replaces=outgoing.replaces,
        created_by=store.principal.username,
        created_at=now,
        key_fingerprint=key.fingerprint,
        file_name=file_name_for(outgoing.kind, township.code, outgoing.recipient.code, sequence),
        sha256=_sha256(content),
        content=content,
    )
    session.add(row)
    session.flush()
    detail = {
        "package": package_id,
        "kind": outgoing.kind,
        "recipient": outgoing.recipient.code,
        "sequence": sequence,
        "sha256": row.sha256,
        "subject": outgoing.subject,
        "key": key.fingerprint,
        "anchor": anchor,
    }
    action, what, extra = audit_as or ("package", package_id, {})
    audit_trail(store).record(
        session, store.principal, action, what, detail={**extra, **detail}, now=now
    )
    return row


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_package(store: Store, package_id: str, directory: Path, *, now: datetime) -> Path:
    """Write a kept package into ``directory`` (temp file, fsync, rename, fsync the folder): a
    reader of the folder sees the whole package or none. Audited; the row remembers where."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"文件夹 {directory} 不存在（U 盘是否已插好？）")
    with store.transaction() as session:
        row = session.get(OutboxPackage, package_id)
        if row is None:
            raise UserError(f"发件箱中没有数据包 {package_id}")
        final = directory / row.file_name
        temp = directory / f".{row.file_name}.{uuid.uuid4().hex[:8]}.part"
        try:
            private_write(temp, row.content)
            os.replace(temp, final)
            fsync_dir(directory)
        except OSError as exc:
            raise UserError(
                f"无法把数据包写入 {directory}：{exc.strerror or exc}（磁盘已满、U 盘已拔出或没有写权限？）"
            ) from None
        finally:
            temp.unlink(missing_ok=True)
        row.written_to, row.written_at = str(directory), now
        audit_trail(store).record(
            session,
            store.principal,
            "send",
            row.package_id,
            detail={"path": str(final), "sha256": row.sha256, "kind": row.kind},
            now=now,
        )
    return final


def unwritten(session: Session) -> list[OutboxPackage]:
    """Packages made but never written to a folder yet (receipts waiting to go up, …)."""
    return list(
        session.scalars(
            select(OutboxPackage)
            .where(OutboxPackage.written_at.is_(None))
            .order_by(OutboxPackage.recipient_code, OutboxPackage.sequence)
        )
    )


@dataclass(frozen=True)
class OutboxEntry:
    """One row of the outbox as shown (no bytes)."""

    package_id: str
    kind: str
    recipient_code: str
    recipient_name: str
    sequence: int
    subject: str
    created_at: datetime
    created_by: str
    file_name: str
    sha256: str
    written_to: str | None
    written_at: datetime | None
    receipt_status: str | None
    receipt_reason: str | None
    receipt_at: datetime | None
    replaces: str | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def receipt_label(self) -> str:
        if self.kind == "receipt":
            return "—"
        return RECEIPT_LABELS.get(self.receipt_status, self.receipt_status or "")

    def as_json(self) -> dict[str, Any]:
        return {
            "package_id": self.package_id,
            "kind": self.kind,
            "recipient": {"code": self.recipient_code, "name": self.recipient_name},
            "sequence": self.sequence,
            "subject": self.subject,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "created_by": self.created_by,
            "file": self.file_name,
            "sha256": self.sha256,
            "written_to": self.written_to,
            "written_at": self.written_at.isoformat(timespec="seconds")
            if self.written_at
            else None,
            "receipt": self.receipt_status,
            "receipt_reason": self.receipt_reason,
            "replaces": self.replaces,
        }


def outbox_entries(session: Session) -> list[OutboxEntry]:
    """Newest first."""
    columns = [getattr(OutboxPackage, name) for name in OutboxEntry.__dataclass_fields__]
    rows = session.execute(
        select(*columns).order_by(OutboxPackage.created_at.desc(), OutboxPackage.sequence.desc())
    )
    return [OutboxEntry(*row) for row in rows]


def make_receipt(
    store: Store,
    session: Session,
    received: Party,
    *,
    package_id: str,
    sequence: int,
    kind: str,
    status: str,
    reason_code: str | None,
    now: datetime,
) -> OutboxPackage:
    """The ``receipt`` package for a package received from ``received``: applied,
    already_received or refused (exchange-format.md). Receipts are not themselves acknowledged."""
    document = {
        "package_id": package_id,
        "sequence": sequence,
        "received_at": now.astimezone().isoformat(timespec="seconds"),
        "status": status,
        "reason_code": reason_code,
    }
    label = {"applied": "已接收", "already_received": "重复，已接收过", "refused": "拒收"}[status]
    return make_package(
        store,
        session,
        Outgoing(
            kind="receipt",
            recipient=received,
            subject=f"回执：{received.name}第 {sequence} 号{_KIND_NAMES.get(kind, kind)}包 {label}",
            files={"data/receipt.json": json.dumps(document, ensure_ascii=False).encode("utf-8")},
            entries={"data/receipt.json": file_entry("receipt", "json")},
            refers_to=package_id,
        ),
        now=now,
    )


_KIND_NAMES = {
    "backflow": "回流数据",
    "report_task": "报表任务",
    "reply": "答复",
    "catalog": "目录",
    "calendar": "日历",
}


def file_entry(dataset: str, fmt: str) -> dict[str, Any]:
    """A manifest file entry for a file the township makes (its ``source_department`` is filled
    in by :func:`make_package`: the township itself)."""
    return {
        "dataset": dataset,
        "format": fmt,
        "encoding": "utf-8" if fmt in ("json", "csv") else "binary",
    }
