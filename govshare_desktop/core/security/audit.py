"""The audit trail: append-only and hash-chained.

Each entry's ``mac`` is HMAC-SHA256, under a key derived from the database key, over the previous
entry's ``mac`` and this entry's fields. Triggers refuse UPDATE and DELETE. So :meth:`verify`
names an entry that was edited, deleted (a gap in ``seq``), reordered, or appended by anything
other than this program (without the key nobody can compute a valid ``mac``).

A chain alone cannot show that its tail was cut off or that it was rewritten whole by someone
holding the key: the head ``(seq, mac)`` is therefore also written into every exported file and
outgoing package (:meth:`head`), and :meth:`verify` checks the chain against such an anchor.

Recording is part of the action: :meth:`record` writes inside the caller's transaction (the
action and its entry commit together or not at all); :meth:`log` commits an entry on its own
before an action outside the database (an export, a print) — if it fails, the action must not
happen, and :class:`AuditFailed` says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security.permissions import Action, Principal
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry

GENESIS = "0" * 64
OK, FAILED, REFUSED = "ok", "failed", "refused"

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
    kind: str  # altered | missing | truncated | rewritten
    message: str


@dataclass
class Verification:
    entries: int
    head: Anchor | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def derive_key(secret: bytes) -> bytes:
    """The audit MAC key, derived from the database key (never stored)."""
    return hmac.new(secret, b"govshare-desktop audit trail v1", hashlib.sha256).digest()


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
    return hmac.new(key, previous.encode("ascii") + b"|" + body, hashlib.sha256).hexdigest()


class AuditTrail:
    def __init__(self, store: Store, key: bytes) -> None:
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
            select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = now or datetime.now()
        role = principal.role.value if principal.role else "system"
        body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        mac = _mac(
            self._key,
            previous,
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
            mac=mac,
        )
        session.add(entry)
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
                    "SELECT seq, at, username, role, action, object, outcome, detail, mac"
                    " FROM audit_log ORDER BY seq"
                )
            )

    def verify(self, principal: Principal, anchor: Anchor | None = None) -> Verification:
        """Check every entry's place and MAC, and the chain against an anchor from an export."""
        principal.require(Action.VERIFY_AUDIT)
        problems: list[Problem] = []
        previous, expected, count, last = GENESIS, 1, 0, None
        macs: dict[int, str] = {}
        for seq, at, username, role, action, obj, outcome, detail, mac in self._rows():
            count += 1
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            if seq != expected:
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
            if not hmac.compare_digest(_mac(self._key, previous, body), mac):
                problems.append(
                    Problem(
                        seq,
                        "altered",
                        f"第 {seq} 条审计记录被改动、调换顺序，或不是本程序写入（{at:%Y-%m-%d %H:%M}）",
                    )
                )
            previous, expected, last = mac, seq + 1, Anchor(seq, mac)
            macs[seq] = mac
        if anchor is not None and anchor.seq > 0:  # seq 0: exported while the trail was empty
            if last is None or anchor.seq > last.seq:
                problems.append(
                    Problem(
                        anchor.seq,
                        "truncated",
                        f"审计日志在第 {last.seq if last else 0} 条之后被截断："
                        f"导出文件记录的最新序号为 {anchor.seq}",
                    )
                )
            elif macs.get(anchor.seq) != anchor.mac:
                problems.append(
                    Problem(
                        anchor.seq,
                        "rewritten",
                        f"第 {anchor.seq} 条审计记录与导出文件中记录的不一致：日志被整体改写",
                    )
                )
        return Verification(count, last, problems)


def export_entries(store: Store, path: Any, entries: list[AuditEntry]) -> Any:
    """The 审计管理员's export of (filtered) entries to .xlsx — itself audited."""
    from pathlib import Path

    from govshare_desktop.core.export.audited import audited_write
    from govshare_desktop.core.export.form_xlsx import put_text

    def write(temp: Path, anchor: str) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "审计日志"
        workbook.properties.keywords = f"govshare-audit:{anchor}"
        headers = ["序号", "时间", "用户", "角色", "操作", "对象", "结果", "详情", "校验码"]
        for column, header in enumerate(headers, start=1):
            cell = sheet.cell(row=1, column=column, value=header)
            cell.font = Font(bold=True)
        for row, entry in enumerate(entries, start=2):
            sheet.cell(row=row, column=1, value=entry.seq)
            sheet.cell(row=row, column=2, value=entry.at).number_format = "yyyy-mm-dd hh:mm:ss"
            texts = [
                entry.username,
                entry.role,
                EVENTS.get(entry.action, entry.action),
                entry.object,
                entry.outcome,
                entry.detail,
                entry.mac,
            ]
            for column, value in enumerate(texts, start=3):
                put_text(sheet.cell(row=row, column=column), value)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:I{max(1, len(entries)) + 1}"
        for letter, width in zip("ABCDEFGHI", (8, 20, 12, 10, 16, 30, 8, 60, 20), strict=True):
            sheet.column_dimensions[letter].width = width
        workbook.save(temp)

    return audited_write(
        store,
        Path(path),
        write,
        masked=True,
        count=len(entries),
        detail={"kind": "audit trail"},
        permission=Action.READ_AUDIT,
    )
