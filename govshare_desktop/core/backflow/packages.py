"""Importing ``govshare-exchange/1`` back-flow packages: trust, sequence, then every dataset in one
transaction.

Order (../shared/reference/exchange-format.md): signature with the sender's key registered here
(never one taken from the package), recipient, sequence, then each file's size and SHA-256 — all in
:func:`~govshare_desktop.core.exchange.package.verify_package` — before any data is read.
Sequence per sender: ``last + 1`` is applied; a later one is held until the gap is filled;
``<= last`` was already received and changes nothing.
"""

from __future__ import annotations

import hashlib
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.pipeline import DatasetResult, plan_table, run_plan
from govshare_desktop.core.backflow.readers import ZIP_HEAD_BYTES, local_names, open_table_bytes
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.outbox import make_receipt
from govshare_desktop.core.exchange.package import (
    CHECK_NAMES,
    PackageRefused,
    Party,
    VerifiedPackage,
    read_manifest_unverified,
    verify_package,
)
from govshare_desktop.core.exchange.trust import trusted_keys
from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.core.reports.incoming import apply_loop_package
from govshare_desktop.core.security.audit import OK, REFUSED, AuditFailed, audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import PackageReceipt, TrustedSender
from govshare_desktop.core.store.township import get_township, validate_township_code

# Households before persons (persons link to them), the registry before what joins it.
DATASET_ORDER = (
    "household",
    "person",
    "ss_enrollment",
    "ss_payment",
    "medical_enrollment",
    "assistance",
    "allowance_payment",
    "disability_card",
    "death_certificate",
    "cremation",
)
# The kinds a township applies (exchange-format.md, "All kinds, both directions").
APPLIED_KINDS = ("backflow", "report_task", "reply", "receipt", "calendar", "catalog")
UP_KINDS = ("report", "correction", "share_request")


@dataclass
class PackageResult:
    file: str
    kind: str | None = None
    sequence: int | None = None
    status: str = "refused"  # applied | already_received | held | refused
    reason_code: str | None = None
    message: str = ""
    sender: str | None = None
    sender_verified: bool = False  # the sender's signature checked (else only what it claims)
    package_id: str | None = None
    sha256: str | None = None  # of the package file
    datasets: list[DatasetResult] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # what a task, reply or receipt package changed
    released: list[PackageResult] = field(default_factory=list)  # held packages applied after this

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "kind": self.kind,
            "sequence": self.sequence,
            "status": self.status,
            "datasets": [d.as_json() for d in self.datasets],
        }
        if self.reason_code:
            data["reason_code"] = self.reason_code
        if self.message:
            data["message"] = self.message
        if self.said:
            data["said"] = list(self.said)
        if self.released:
            data["released"] = [r.as_json() for r in self.released]
        return data


def is_package(path: Path) -> bool:
    """A ZIP with ``manifest.json`` at its root (an .xlsx is a ZIP too, without one) — or one cut
    short whose first members are a package's: imported as a package, it is refused as damaged."""
    try:
        with zipfile.ZipFile(path) as zf:
            return "manifest.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        pass
    try:
        with Path(path).open("rb") as f:
            head = f.read(ZIP_HEAD_BYTES)
    except OSError:
        return False
    return any(
        n in ("manifest.json", "manifest.sig") or n.startswith("data/") for n in local_names(head)
    )


# ---------------------------------------------------------------- import


def import_package(
    store: Store,
    path: Path | str,
    *,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    session: Session | None = None,
) -> PackageResult:
    """Verify and apply one package in one transaction (rolled back on a dry run).

    ``session``: run inside the caller's transaction instead (a dry run over several files); the
    caller then commits or rolls back, and held packages this one releases are applied in it too.
    """
    path = Path(path)
    data = path.read_bytes()
    return _import_bytes(
        store, data, path.name, user, dry_run, now or datetime.now(), progress, cancel, session
    )


def _import_bytes(
    store: Store,
    data: bytes,
    file_name: str,
    user: str,
    dry_run: bool,
    now: datetime,
    progress: Progress | None,
    cancel: Cancel | None,
    session: Session | None = None,
) -> PackageResult:
    """Every outcome is audited (a real run): applied, already received, held and refused, each
    in the transaction of whatever else the import writes; a refused package writes only that."""
    store.principal.require(Action.IMPORT)
    result = PackageResult(file=file_name, sha256=hashlib.sha256(data).hexdigest())
    package = _verify(store, data, result)
    if package is None:
        _audit(store, result, dry_run, now, session)
        return result
    run = (store, package, data, file_name, user, dry_run, now, progress, cancel)
    if session is not None:
        savepoint = session.begin_nested()
        try:
            _apply_package(session, result, *run)
        except (Cancelled, AuditFailed):
            raise
        except UserError as exc:
            savepoint.rollback()
            _refused_while_applying(result, exc)
            _audit(store, result, dry_run, now, session)
            _acknowledge(store, session, result, None, dry_run, now)
            return result
        savepoint.commit()
        if result.status == "applied":
            result.released = _release_held(
                store, result.sender or "", user, dry_run, now, progress, cancel, session
            )
        return result
    own = store.sessions()
    try:
        with own.begin():
            _apply_package(own, result, *run)
            if dry_run:
                if result.status == "applied":  # what the real run would release, too
                    result.released = _release_held(
                        store, result.sender or "", user, True, now, progress, cancel, own
                    )
                own.rollback()
    except (Cancelled, AuditFailed):
        raise
    except UserError as exc:  # rolled back: nothing of the package stays but its audit entry
        _refused_while_applying(result, exc)
        _audit(store, result, dry_run, now, None)
        if not dry_run and result.sender_verified and result.kind != "receipt":
            with store.transaction() as acknowledging:
                _acknowledge(store, acknowledging, result, None, dry_run, now)
        return result
    finally:
        own.close()
    if not dry_run and result.status == "applied":
        result.released = _release_held(
            store, result.sender or "", user, False, now, progress, cancel
        )
    return result


def _acknowledge(
    store: Store,
    session: Session,
    result: PackageResult,
    sender: Party | None,
    dry_run: bool,
    now: datetime,
) -> None:
    """The receipt going back for a package received from a verified sender (applied, already
    received, or refused for its content); receipts themselves are not acknowledged."""
    if dry_run or not result.sender_verified or result.kind == "receipt":
        return
    if result.package_id is None or result.sequence is None or result.sender is None:
        return
    if sender is None:
        known = session.get(TrustedSender, result.sender)
        sender = Party(result.sender, known.name if known else result.sender)
    make_receipt(
        store,
        session,
        sender,
        package_id=result.package_id,
        sequence=result.sequence,
        kind=result.kind or "",
        status=result.status if result.status != "held" else "applied",
        reason_code=result.reason_code,
        now=now,
    )


def _refused_while_applying(result: PackageResult, exc: UserError) -> None:
    """A package whose data turned out unusable while being applied: refused as a whole."""
    result.datasets = []
    result.status = "refused"
    if isinstance(exc, PackageRefused):
        result.reason_code, result.message = exc.reason_code, exc.message
    else:
        result.reason_code = "malformed"
        result.message = (
            f"数据包未通过{CHECK_NAMES['malformed']}，已整体拒收，没有导入任何数据：{exc.message}"
        )


def _audit(
    store: Store,
    result: PackageResult,
    dry_run: bool,
    now: datetime,
    session: Session | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The audit entry of one package: who (the principal), file, SHA-256, sender, sequence, what
    became of it and why. In ``session`` (the import's transaction) or, for a refusal that wrote
    nothing else, in a transaction of its own. A dry run records nothing."""
    if dry_run:
        return
    detail: dict[str, Any] = {
        "package": result.package_id,
        "sha256": result.sha256,
        "sender": result.sender,
        "sender_verified": result.sender_verified,
        "sequence": result.sequence,
        "status": result.status,
    }
    if result.reason_code:
        detail["reason_code"] = result.reason_code
    if result.message:
        detail["reason"] = result.message
    detail.update(extra or {})
    outcome = REFUSED if result.status == "refused" else OK
    if session is None:
        audit_trail(store).log(
            store.principal, "import", result.file, outcome=outcome, detail=detail, now=now
        )
    else:
        audit_trail(store).record(
            session, store.principal, "import", result.file, outcome=outcome, detail=detail, now=now
        )


def _verify(store: Store, data: bytes, result: PackageResult) -> VerifiedPackage | None:
    """The package if it may be applied here; otherwise None, with ``result`` saying why."""
    township = get_township(store)
    if township is None:
        raise UserError("尚未设置本乡镇（街道），请先初始化数据库（govshare init）")
    try:
        claimed = read_manifest_unverified(data)
        result.kind, result.sequence, result.sender = (
            claimed.kind,
            claimed.sequence,
            claimed.sender.code,
        )
        result.package_id = claimed.package_id
    except PackageRefused:
        pass  # verify_package below says why
    with store.sessions() as session:
        keys = trusted_keys(session)
    try:
        package = verify_package(
            data, trusted_keys=keys, recipient_code=validate_township_code(township.code)
        )
    except PackageRefused as exc:
        result.status, result.reason_code, result.message = "refused", exc.reason_code, exc.message
        return None
    manifest = package.manifest
    result.kind, result.sequence, result.sender = (
        manifest.kind,
        manifest.sequence,
        manifest.sender.code,
    )
    result.package_id, result.sender_verified = manifest.package_id, True
    if manifest.kind not in APPLIED_KINDS:
        result.status, result.reason_code = "refused", "malformed"
        result.message = (
            f"数据包类型为“{manifest.kind}”：这是{'本单位发出的' if manifest.kind in UP_KINDS else ''}"
            f"数据包，本程序不接收这一类（可导入：{'、'.join(APPLIED_KINDS)}）"
        )
        return None
    return package


def _apply_package(
    session: Session,
    result: PackageResult,
    store: Store,
    package: VerifiedPackage,
    data: bytes,
    file_name: str,
    user: str,
    dry_run: bool,
    now: datetime,
    progress: Progress | None,
    cancel: Cancel | None,
) -> None:
    """Sequence check and every dataset, in ``session``'s transaction (committed by the caller)."""
    manifest = package.manifest
    last = _last_applied(session, manifest.sender.code)
    known = session.get(PackageReceipt, manifest.package_id)
    if manifest.sequence <= last or (known is not None and known.status == "applied"):
        result.status = "already_received"
        result.message = (
            f"该数据包（{manifest.sender.name} 第 {manifest.sequence} 号）已经接收过，"
            "本次没有作任何修改"
        )
        _audit(store, result, dry_run, now, session, {"last_applied": last})
        _acknowledge(store, session, result, manifest.sender, dry_run, now)
        return
    if manifest.sequence > last + 1:
        if known is None:
            session.add(_receipt(package, file_name, "held", now, held=data))
            session.flush()
        result.status = "held"
        result.message = (
            f"数据包序号为 {manifest.sequence}，但上一个已接收的是第 {last} 号；"
            f"已暂存，待第 {last + 1} 号数据包导入后自动导入"
        )
        _audit(store, result, dry_run, now, session, {"last_applied": last})
        return
    if known is not None:  # a held package now due: it becomes the applied receipt
        known.status, known.applied_at, known.held_bytes = "applied", now, None
    else:
        session.add(_receipt(package, file_name, "applied", now))
    session.flush()
    if manifest.kind == "backflow":
        result.datasets = _apply_files(
            store, session, package, file_name, user, dry_run, now, progress, cancel
        )
    else:
        result.said = apply_loop_package(session, package, user=user, now=now)
    result.status = "applied"
    datasets = [
        {"dataset": d.dataset, "batch": d.batch_id, "rows": d.rows_read} for d in result.datasets
    ]
    _audit(store, result, dry_run, now, session, {"datasets": datasets})
    _acknowledge(store, session, result, manifest.sender, dry_run, now)


def _apply_files(
    store: Store,
    session: Session,
    package: VerifiedPackage,
    file_name: str,
    user: str,
    dry_run: bool,
    now: datetime,
    progress: Progress | None,
    cancel: Cancel | None,
) -> list[DatasetResult]:
    manifest = package.manifest
    files = sorted(
        manifest.files,
        key=lambda f: DATASET_ORDER.index(f.dataset) if f.dataset in DATASET_ORDER else 99,
    )
    results = []
    for entry in files:
        if entry.dataset not in DATASET_ORDER:
            raise UserError(f"数据包中的文件 {entry.path} 的数据集“{entry.dataset}”无法识别")
        source = open_table_bytes(
            package.read(entry.path), entry.path, encoding=entry.encoding or None
        )
        if entry.format.strip().lower() != source.kind:
            raise PackageRefused(
                "manifest_mismatch",
                f"清单写明文件“{entry.path}”的格式为“{entry.format}”，实际是 {source.kind} 文件。",
            )
        plan = plan_table(
            store,
            source,
            file_name=f"{file_name}:{entry.path}",
            sha256=entry.sha256,
            dataset=entry.dataset,
            source_department=entry.source_department or manifest.sender.name,
            as_of=manifest.as_of,
            full_snapshot=entry.mode != "delta",
            package_id=manifest.package_id,
        )
        done = run_plan(
            store,
            plan,
            user=user,
            dry_run=dry_run,
            now=now,
            progress=progress,
            cancel=cancel,
            session=session,
        )
        if entry.rows is not None and done.rows_read != entry.rows:
            raise PackageRefused(
                "manifest_mismatch",
                f"清单写明文件“{entry.path}”有 {entry.rows:,} 行数据，实际读到 {done.rows_read:,} 行"
                "（数据包不完整或清单有误）。",
            )
        results.append(done)
    return results


def _release_held(
    store: Store,
    sender: str,
    user: str,
    dry_run: bool,
    now: datetime,
    progress: Progress | None,
    cancel: Cancel | None,
    session: Session | None = None,
) -> list[PackageResult]:
    """Held packages of ``sender`` now due, in sequence order: each in its own transaction, or
    all in ``session``'s (a dry run)."""
    released: list[PackageResult] = []
    while True:
        with nullcontext(session) if session is not None else store.sessions() as reading:
            last = _last_applied(reading, sender)
            held = reading.scalar(
                select(PackageReceipt).where(
                    PackageReceipt.sender_code == sender,
                    PackageReceipt.status == "held",
                    PackageReceipt.sequence == last + 1,
                )
            )
            if held is None or held.held_bytes is None:
                return released
            data, name = held.held_bytes, held.file_name
        result = _import_bytes(store, data, name, user, dry_run, now, progress, cancel, session)
        released.append(result)
        if result.status != "applied":
            return released


def _last_applied(session: Session, sender: str) -> int:
    value = session.scalar(
        select(func.max(PackageReceipt.sequence)).where(
            PackageReceipt.sender_code == sender, PackageReceipt.status == "applied"
        )
    )
    return int(value or 0)


def _receipt(
    package: VerifiedPackage,
    file_name: str,
    status: str,
    now: datetime,
    *,
    held: bytes | None = None,
) -> PackageReceipt:
    manifest = package.manifest
    return PackageReceipt(
        package_id=manifest.package_id,
        sender_code=manifest.sender.code,
        recipient_code=manifest.recipient.code,
        kind=manifest.kind,
        sequence=manifest.sequence,
        status=status,
        file_name=file_name,
        sha256=package.sha256 or hashlib.sha256(held or b"").hexdigest(),
        received_at=now,
        applied_at=now if status == "applied" else None,
        held_bytes=held,
    )
