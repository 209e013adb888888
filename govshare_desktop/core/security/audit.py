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

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import crypto
from govshare_desktop.core.security.permissions import Action, Principal
from govshare_desktop.core.store.audit_tables import STATE_ID
from govshare_desktop.core.store.backup import default_backup_dir
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry, AuditState

GENESIS = "0" * 64
OK, FAILED, REFUSED = "ok", "failed", "refused"
FORMAT_2 = b"govshare-audit/2"

# What is recorded (action codes; the Chinese label is for the viewer)
EVENTS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "lock": "锁定",
    "unlock": "解锁",
    "account_locked": "账户被锁定",
    "unmask": "查看完整个人信息",
    "search": "查找",
    "import": "导入",
    "export": "导出",
    "print": "打印",
    "submit": "上报报表",
    "return": "退回报表",
    "user_add": "新增用户",
    "user_change": "修改用户",
    "password_change": "修改密码",
    "backup": "备份",
    "restore": "恢复备份",
    "trust": "登记发送方",
    "send": "发送数据包",
    "upgrade": "升级数据库",
}


# Why a run of one-time keys started afresh (``seal.why``)
RESTARTS = {
    "setup": "新建的审计日志",
    "upgrade": "升级到签名格式",
    "format1": "此前的记录是旧格式，却没有升级时写入的衔接记录",
    "emptied": "审计日志被清空",
    "missing": "写入密钥缺失",
    "backup": "数据库是备份副本（备份不含写入密钥）",
    "mismatch": "写入密钥与日志末尾不符",
}


class AuditFailed(UserError):
    """The audit entry could not be written, so the action was not carried out."""


@dataclass(frozen=True)
class Anchor:
    """The head of the chain as written into an export or package: ``seq:mac``."""

    seq: int
    mac: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.mac}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, mac = text.strip().partition(":")
        if not seq.isdigit() or len(mac) != 64:
            raise UserError(f"审计锚点“{text}”格式不对，应为“序号:64位十六进制”")
        return cls(int(seq), mac.lower())


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # altered | missing | restart | truncated | rewritten | replaced
    message: str


@dataclass(frozen=True)
class AnchorCheck:
    """One place outside the chain that says how far it reached, and whether it still does."""

    source: str  # what it is: 写入密钥, a backup's file name, 导出文件 …
    anchor: Anchor | None
    reached: bool | None  # None: could not be read (not counted as a problem)
    message: str


@dataclass
class Verification:
    entries: int
    head: Anchor | None
    problems: list[Problem] = field(default_factory=list)
    anchors: list[AnchorCheck] = field(default_factory=list)
    format1: int = 0  # entries written before the upgrade (HMAC under the database key)

    @property
    def ok(self) -> bool:
        return not self.problems


def derive_key(secret: bytes) -> bytes:
    """The format-1 MAC key, derived from the database key (never stored)."""
    return hmac.new(secret, b"govshare-desktop audit trail v1", hashlib.sha256).digest()


def audit_trail(store: Store) -> AuditTrail:
    """The audit trail of ``store``'s database, as its signed-in user writes and reads it.
    Without the database key (nobody signed in) nothing can be recorded: :class:`AuditFailed`."""
    if store.secret is None:
        raise AuditFailed("未登录：没有数据库密钥，无法写审计日志，操作未执行")
    return AuditTrail(store, derive_key(store.secret))


def canonical(
    seq: int,
    at: datetime,
    username: str,
    role: str,
    action: str,
    obj: str,
    outcome: str,
    detail: str,
) -> bytes:
    fields = [
        seq,
        at.isoformat(timespec="microseconds"),
        username,
        role,
        action,
        obj,
        outcome,
        detail,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _mac(key: bytes, previous: str, body: bytes) -> str:
    """Format 1."""
    return hmac.new(key, previous.encode("ascii") + b"|" + body, hashlib.sha256).hexdigest()


def _digest(previous: str, body: bytes, next_key: str, restart: dict[str, str] | None) -> str:
    """Format 2: the entry's ``mac`` (what anchors name, and what its one-time key signs)."""
    start = ":".join(restart[k] for k in ("key", "why", "was") if k in restart) if restart else ""
    parts = [FORMAT_2, previous.encode("ascii"), body, next_key.encode("ascii"), start.encode()]
    return hashlib.sha256(b"|".join(parts)).hexdigest()


def _seal(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        seal = json.loads(raw)
    except ValueError:
        return {}
    return seal if isinstance(seal, dict) else {}


@dataclass(frozen=True)
class _Written:
    mac: str
    seal: str
    next_seq: int
    next_public: str
    next_private: str


def _write(
    seq: int,
    previous: str,
    last_seal: str | None,
    has_last: bool,
    state: tuple[int, str, str | None] | None,
    body: bytes,
    upgrade: bool = False,
) -> _Written:
    """Sign entry ``seq`` with the writer key in ``state`` (seq, public, private), or with a
    fresh key (a restart) where that key is not the one the last entry names. ``upgrade``: the
    migration's entry that follows the format-1 entries."""
    private, restart = _writer_key(seq, last_seal, has_last, state, upgrade)
    next_private, next_public = crypto.new_signing_key()
    mac = _digest(previous, body, next_public.hex(), restart)
    seal: dict[str, str] = {
        "next": next_public.hex(),
        "sig": crypto.sign(private, bytes.fromhex(mac)).hex(),
    }
    if restart:
        seal.update(restart)
    return _Written(
        mac,
        json.dumps(seal, sort_keys=True, separators=(",", ":")),
        seq + 1,
        next_public.hex(),
        next_private.hex(),
    )


def _writer_key(
    seq: int,
    last_seal: str | None,
    has_last: bool,
    state: tuple[int, str, str | None] | None,
    upgrade: bool = False,
) -> tuple[bytes, dict[str, str] | None]:
    why, was = None, None
    if not has_last:
        why = "setup" if state is None else "emptied"
    elif last_seal is None:
        why = "upgrade" if upgrade else "format1"
    elif state is None:
        why = "missing"
    else:
        state_seq, public, private = state
        named = (_seal(last_seal) or {}).get("next")
        if private is None:
            why = "backup"
        elif state_seq != seq or public != named or not _pair(private, public):
            why = "mismatch"
        else:
            return bytes.fromhex(private), None
    if state is not None and state[0] > seq:
        was = str(state[0])  # the writer key was for a later entry: the tail was cut
    private_key, public_key = crypto.new_signing_key()
    restart = {"key": public_key.hex(), "why": str(why)}
    if was:
        restart["was"] = was
    return private_key, restart


def _pair(private: str, public: str) -> bool:
    try:
        return crypto.signing_public(bytes.fromhex(private)).hex() == public
    except ValueError:
        return False


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
        """Append an entry inside the caller's transaction."""
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.mac, AuditEntry.seal)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).first()
        seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
        state = session.get(AuditState, STATE_ID)
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
        """The last entry of each backup (and safety copy) in ``directory``."""
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


def _check_chain(rows: Iterator[tuple[Any, ...]], key: bytes) -> tuple[Verification, str | None]:
    """Every entry in place and signed; and the key the last entry names (None: the last
    entry is in format 1, or there is none)."""
    problems: list[Problem] = []
    previous, expected, count, format1 = GENESIS, 1, 0, 0
    last: Anchor | None = None
    next_key: str | None = None  # the public key the last format-2 entry named
    signed = False  # a format-2 entry has been seen
    for seq, at, username, role, action, obj, outcome, detail, mac, raw_seal in rows:
        count += 1
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        gap = seq != expected
        if gap:
            problems.append(
                Problem(
                    expected,
                    "missing",
                    f"第 {expected}–{seq - 1} 条审计记录缺失（被删除）"
                    if seq > expected + 1
                    else f"第 {expected} 条审计记录缺失（被删除）",
                )
            )
        body = canonical(seq, at, username, role, action, obj, outcome, detail)
        altered = Problem(
            seq,
            "altered",
            f"第 {seq} 条审计记录被改动、调换顺序，或不是本程序写入（{at:%Y-%m-%d %H:%M}）",
        )
        seal = _seal(raw_seal)
        if seal is None:
            format1 += 1
            if signed:
                problems.append(
                    Problem(
                        seq,
                        "altered",
                        f"第 {seq} 条是升级前格式的记录，却在签名记录之后：日志被改写",
                    )
                )
            elif not gap and not hmac.compare_digest(_mac(key, previous, body), mac):
                problems.append(altered)
            next_key = None
        else:
            restart: dict[str, str] | None = (
                {k: str(seal[k]) for k in ("key", "why", "was") if k in seal}
                if "key" in seal
                else None
            )
            # A run of keys starts once: at the first entry, or where the upgrade's own entry
            # follows the format-1 entries. Anywhere else the keys before it were lost.
            bridged = seq == 1 or (
                restart is not None
                and restart["why"] == "upgrade"
                and (username, action) == ("system", "upgrade")
            )
            if restart and (signed or not bridged):
                problems.append(_restart(seq, restart, signed))
            public = restart["key"] if restart else next_key
            if not gap and not _signed_entry(previous, body, seal, restart, public, mac):
                problems.append(altered)
            signed, next_key = True, str(seal.get("next", ""))
        previous, expected, last = mac, seq + 1, Anchor(seq, mac)
    return Verification(count, last, problems, format1=format1), next_key


def _restart(seq: int, restart: dict[str, str], signed: bool) -> Problem:
    why = restart.get("why", "")
    if not signed and why == "format1":
        return Problem(
            seq,
            "rewritten",
            f"第 1–{seq - 1} 条是旧格式的记录，其后却没有升级时写入的衔接记录："
            "日志被用数据库密钥改写（旧格式的密钥可由数据库密钥推出）",
        )
    was = int(restart["was"]) if restart.get("was", "").isdigit() else 0
    lost = (
        f"写入密钥表明原有记录已写到第 {was - 1} 条，第 {seq}–{was - 1} 条不见了"
        if was > seq
        else f"第 {seq - 1} 条之后的记录可能被截断或改写，或数据库被替换"
    )
    return Problem(
        seq,
        "restart",
        f"第 {seq} 条起审计记录另起一套签名密钥（记录的原因：{RESTARTS.get(why, why)}）：{lost}",
    )


def _signed_entry(
    previous: str,
    body: bytes,
    seal: dict[str, str],
    restart: dict[str, str] | None,
    public: str | None,
    mac: str,
) -> bool:
    try:
        if public is None or _digest(previous, body, seal["next"], restart) != mac:
            return False
        return crypto.signature_valid(
            bytes.fromhex(public), bytes.fromhex(seal["sig"]), bytes.fromhex(mac)
        )
    except (KeyError, ValueError, TypeError):
        return False


def _check_writer(
    result: Verification,
    next_key: str | None,
    state: tuple[int, str, str | None, str | None] | None,
) -> AnchorCheck:
    """The writer key says how far the trail was written: the last entry must name it."""
    source = "写入密钥（数据库内）"
    last = result.head
    problem: Problem | None = None
    if last is None:
        if state is not None:
            problem = Problem(
                1, "truncated", f"审计日志被清空：写入密钥表明已写到第 {state[0] - 1} 条"
            )
    elif next_key is None:
        problem = Problem(
            last.seq,
            "rewritten",
            f"第 {last.seq} 条之后没有签名格式的记录：升级时写入的记录被删除，"
            "或日志被用数据库密钥整体改写",
        )
    elif state is None:
        problem = Problem(
            last.seq + 1,
            "truncated",
            f"写入密钥缺失：审计日志可能在第 {last.seq} 条之后被截断，或数据库被替换",
        )
    else:
        seq, public, private, sealed = state
        if seq > last.seq + 1:
            problem = Problem(
                last.seq + 1,
                "truncated",
                f"审计日志在第 {last.seq} 条之后被截断：写入密钥表明已写到第 {seq - 1} 条，"
                f"第 {last.seq + 1}–{seq - 1} 条不见了",
            )
        elif seq != last.seq + 1 or public != next_key:
            problem = Problem(
                last.seq + 1,
                "truncated",
                f"写入密钥不是第 {last.seq} 条记录所指定的：日志末尾被截断或改写",
            )
        elif private is None:
            problem = Problem(
                last.seq + 1,
                "replaced",
                f"数据库是{sealed or '备份'}时的副本（副本不含写入密钥），不是经「恢复备份」换入的："
                f"第 {last.seq} 条之后的记录可能被丢弃",
            )
        elif not _pair(private, public):
            problem = Problem(last.seq + 1, "replaced", "写入密钥被替换：与其公钥不符")
    if problem is not None:
        result.problems.append(problem)
        return AnchorCheck(source, last, False, problem.message)
    if last is None:
        return AnchorCheck(source, None, True, "审计日志为空")
    return AnchorCheck(source, last, True, f"写入密钥属于第 {last.seq + 1} 条：日志末尾完整")


def _check_anchor(
    result: Verification, anchor: Anchor, source: str, macs: dict[int, str]
) -> AnchorCheck:
    if anchor.seq == 0:  # exported while the trail was empty
        return AnchorCheck(source, anchor, True, "导出时审计日志为空")
    last = result.head
    if last is None or anchor.seq > last.seq:
        message = (
            f"审计日志在第 {last.seq if last else 0} 条之后被截断："
            f"{source}记录的最新序号为 {anchor.seq}"
        )
        result.problems.append(Problem(anchor.seq, "truncated", message))
        return AnchorCheck(source, anchor, False, message)
    if macs.get(anchor.seq) != anchor.mac:
        message = f"第 {anchor.seq} 条审计记录与{source}中记录的不一致：日志被改写"
        result.problems.append(Problem(anchor.seq, "rewritten", message))
        return AnchorCheck(source, anchor, False, message)
    return AnchorCheck(source, anchor, True, f"日志包含{source}记录的第 {anchor.seq} 条")


# ---------------------------------------------------------------- copies of the database


def append_raw(
    connection: Connection,
    username: str,
    role: str,
    action: str,
    obj: str = "",
    *,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Append an entry through a Core connection (the migration that brings format 2)."""
    log = sa.table(
        "audit_log",
        *(sa.column(n) for n in ("seq", "username", "role", "action", "object")),
        *(sa.column(n) for n in ("outcome", "detail", "mac", "seal")),
        sa.column("at", sa.DateTime()),
    )
    last = connection.execute(
        text("SELECT seq, mac, seal FROM audit_log ORDER BY seq DESC LIMIT 1")
    ).first()
    state_row = connection.execute(
        text("SELECT seq, public_key, private_key FROM audit_state WHERE id = :i"), {"i": STATE_ID}
    ).first()
    seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = now or datetime.now()
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    written = _write(
        seq,
        previous,
        last[2] if last else None,
        last is not None,
        (state_row[0], state_row[1], state_row[2]) if state_row else None,
        canonical(seq, at, username, role, action, obj, OK, body),
        upgrade=action == "upgrade",
    )
    connection.execute(
        sa.insert(log).values(
            seq=seq,
            at=at,
            username=username,
            role=role,
            action=action,
            object=obj,
            outcome=OK,
            detail=body,
            mac=written.mac,
            seal=written.seal,
        )
    )
    connection.execute(
        text(
            "INSERT INTO audit_state (id, seq, public_key, private_key, sealed)"
            " VALUES (:i, :s, :pub, :priv, NULL) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,"
            " public_key = excluded.public_key, private_key = excluded.private_key, sealed = NULL"
        ),
        {
            "i": STATE_ID,
            "s": written.next_seq,
            "pub": written.next_public,
            "priv": written.next_private,
        },
    )
