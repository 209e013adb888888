"""The audit trail: append-only, hash-chained, and signed with one-time keys.

Format 2 (revision 0005 on). Every entry is signed with its own Ed25519 key, used once: entry *i*
names the public half of the key for entry *i+1* (``seal.next``), and the only private key that
exists is the one for the next entry, in ``audit_state``. Writing an entry signs it, names a fresh
key for the next one and overwrites the private key, in the caller's transaction. So anyone who
can run the program (every role) can append, but nobody — not a clerk holding the database key,
the program's source and their own password — can re-sign an entry already written: its key is
gone. Deleting, editing, reordering or inserting an entry before the head breaks a signature or
the chain; cutting the tail leaves a writer key that the remaining last entry does not name;
starting a fresh run of keys (``seal.key``: a *restart*) is reported wherever it is not the
trail's first format-2 entry. Verifying needs only public keys.

Backups never hold the writer key (:func:`~govshare_desktop.core.store.audit_tables.seal_copy`),
so an old copy cannot be used to re-sign what came after it; a restore carries the live trail and
its writer key into the restored database (:func:`~govshare_desktop.core.store.audit_tables.
carry_over`), so restoring data does not erase the record of what happened since. Those two steps
are plain SQL and belong to the store; everything that signs or verifies is here, above it.

The head ``(seq, mac)`` is also written into every exported file and outgoing package
(:meth:`AuditTrail.head`), and :meth:`AuditTrail.verify` checks the trail against such an anchor
and against the head of every backup beside the database: a trail rewritten whole (the one thing a
clerk with the file can still do) does not reach them.

Format 1 (before revision 0005): ``mac`` is HMAC-SHA256 under a key derived from the database key.
Such entries stay verifiable, but anyone holding the database key could recompute them; they are
accepted only before the first format-2 entry, which the upgrade writes.

Recording is part of the action: :meth:`AuditTrail.record` writes inside the caller's transaction
(the action and its entry commit together or not at all); :meth:`AuditTrail.log` commits an entry
on its own before an action outside the database (an export, a print) — if it fails, the action
must not happen, and :class:`AuditFailed` says so.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from govshare_desktop.core.security.audit_format import (
    EVENTS,
    FAILED,
    FORMAT_2,
    GENESIS,
    OK,
    REFUSED,
    RESTARTS,
    Anchor,
    AnchorCheck,
    AuditFailed,
    Problem,
    Verification,
    canonical,
    derive_key,
)
from govshare_desktop.core.security.audit_verify import _check_anchor, _check_chain, _check_writer
from govshare_desktop.core.security.audit_write import _write, append_raw
from govshare_desktop.core.security.permissions import Action, Principal
from govshare_desktop.core.store.audit_tables import STATE_ID
from govshare_desktop.core.store.backup import default_backup_dir
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry, AuditState

__all__ = [
    "EVENTS",
    "FAILED",
    "FORMAT_2",
    "GENESIS",
    "OK",
    "REFUSED",
    "RESTARTS",
    "Anchor",
    "AnchorCheck",
    "AuditFailed",
    "AuditTrail",
    "Problem",
    "Verification",
    "append_raw",
    "audit_trail",
    "canonical",
    "derive_key",
]


def audit_trail(store: Store) -> AuditTrail:
    """The audit trail of ``store``'s database, as its signed-in user writes and reads it.
    Without the database key (nobody signed in) nothing can be recorded: :class:`AuditFailed`."""
    if store.secret is None:
        raise AuditFailed("未登录：没有数据库密钥，无法写审计日志，操作未执行")
    return AuditTrail(store, derive_key(store.secret))


class AuditTrail:
    def __init__(self, store: Store, key: bytes) -> None:
        """``key``: the format-1 MAC key (:func:`derive_key`), only to verify old entries."""
        self.store = store
        self._key = key

    # ---------------------------------------------------------------- writing

    def record(
        self,
        session: Session,
        principal: Principal,
        action: str,
        obj: str = "",
        *,
        outcome: str = OK,
        detail: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """Append an entry inside the caller's transaction. On a server, where several PCs
        write, the writer key's row is locked first (``FOR UPDATE``; SQLite has one writer
        anyway): entries are appended one at a time, each after the head the one before wrote."""
        state = session.get(AuditState, STATE_ID, with_for_update=True)
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.mac, AuditEntry.seal)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).first()
        seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = now or datetime.now()
        role = principal.role.value if principal.role else "system"
        body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        written = _write(
            seq,
            previous,
            last[2] if last else None,
            last is not None,
            (state.seq, state.public_key, state.private_key) if state else None,
            canonical(seq, at, principal.username, role, action, obj, outcome, body),
        )
        entry = AuditEntry(
            seq=seq,
            at=at,
            username=principal.username,
            role=role,
            action=action,
            object=obj,
            outcome=outcome,
            detail=body,
            mac=written.mac,
            seal=written.seal,
        )
        session.add(entry)
        if state is None:
            state = AuditState(id=STATE_ID)
            session.add(state)
        state.seq = written.next_seq
        state.public_key = written.next_public
        state.private_key = written.next_private
        state.sealed = None
        session.flush()
        return entry

    def log(
        self,
        principal: Principal,
        action: str,
        obj: str = "",
        *,
        outcome: str = OK,
        detail: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """Append an entry in its own transaction; :class:`AuditFailed` if it cannot be written."""
        try:
            with self.store.transaction() as session:
                return self.record(
                    session, principal, action, obj, outcome=outcome, detail=detail, now=now
                )
        except (SQLAlchemyError, OSError) as exc:
            raise AuditFailed(
                f"审计日志无法写入（{exc.__class__.__name__}），操作未执行。请检查磁盘空间后重试。"
            ) from exc

    # ---------------------------------------------------------------- reading

    def head(self) -> Anchor | None:
        with self.store.sessions() as session:
            row = session.execute(
                select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
        return Anchor(row[0], row[1]) if row else None

    def entries(
        self,
        principal: Principal,
        *,
        action: str | None = None,
        username: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Entries for the audit viewer, newest first (审计管理员 only)."""
        principal.require(Action.READ_AUDIT)
        query = select(AuditEntry).order_by(AuditEntry.seq.desc())
        if action:
            query = query.where(AuditEntry.action == action)
        if username:
            query = query.where(AuditEntry.username == username)
        if since:
            query = query.where(AuditEntry.at >= since)
        if until:
            query = query.where(AuditEntry.at <= until)
        if limit:
            query = query.limit(limit)
        with self.store.sessions() as session:
            return list(session.scalars(query))

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        with self.store.engine.connect() as connection:
            yield from connection.execute(
                text(
                    "SELECT seq, at, username, role, action, object, outcome, detail, mac, seal"
                    " FROM audit_log ORDER BY seq"
                )
            )

    def _state(self) -> tuple[int, str, str | None, str | None] | None:
        with self.store.engine.connect() as connection:
            row = connection.execute(
                text("SELECT seq, public_key, private_key, sealed FROM audit_state WHERE id = :i"),
                {"i": STATE_ID},
            ).first()
        return (row[0], row[1], row[2], row[3]) if row else None

    def verify(
        self,
        principal: Principal,
        anchor: Anchor | None = None,
        *,
        backups: Path | None = None,
        source: str = "指定的锚点",
    ) -> Verification:
        """Check every entry's place and signature (or format-1 MAC), the writer key against
        the last entry (a cut tail), and the chain against ``anchor`` (from an export or a
        package) and against the head of every backup in ``backups`` (default: the ``backups``
        folder beside the database)."""
        principal.require(Action.VERIFY_AUDIT)
        result, next_key = _check_chain(self._rows(), self._key)
        result.anchors.append(_check_writer(result, next_key, self._state()))
        if anchor is not None:
            result.anchors.append(_check_anchor(result, anchor, source, self._macs()))
        for name, found in self._backup_heads(backups):
            if found is None:
                result.anchors.append(AnchorCheck(name, None, None, "备份无法读取，未用作锚点"))
            else:
                result.anchors.append(_check_anchor(result, found, f"备份 {name}", self._macs()))
        return result

    def _macs(self) -> dict[int, str]:
        if not hasattr(self, "_mac_cache"):
            with self.store.engine.connect() as connection:
                rows = connection.execute(text("SELECT seq, mac FROM audit_log"))
                self._mac_cache = {int(seq): str(mac) for seq, mac in rows}
        return self._mac_cache

    def _backup_heads(self, directory: Path | None) -> Iterator[tuple[str, Anchor | None]]:
        """The last entry of each backup (and safety copy) in ``directory``: read from the
        file's own trail, or for a server's dumps from the manifest beside each dump."""
        if self.store.server:
            from govshare_desktop.core.store import server_backup  # lazy: office mode only

            where = directory or server_backup.default_server_backup_dir(self.store.url)
            for name, head in server_backup.server_backup_heads(where):
                yield name, Anchor(*head) if head else None
            return
        if directory is None:
            if self.store.path is None:
                return
            directory = default_backup_dir(self.store.path)
        if not directory.is_dir():
            return

        connect = self.store.file_connect() or sqlite3.connect
        for path in sorted(directory.glob("govshare-*.db")):
            try:
                connection = connect(str(path))
                try:
                    row = connection.execute(
                        "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1"
                    ).fetchone()
                finally:
                    connection.close()
            except Exception:  # any driver's error: damaged, foreign or wrong key
                yield path.name, None
                continue
            if row is not None:
                yield path.name, Anchor(int(row[0]), str(row[1]))
