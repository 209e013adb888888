"""The audit trail's format: the event words, the values a verification returns, and how an entry
is hashed, signed (format 2) or MAC'd (format 1).

The design is described in :mod:`govshare_desktop.core.security.audit`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from govshare_desktop.core.errors import UserError

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
    "backup_open": "解开服务器备份",
    "trust": "登记发送方",
    "install_forms": "安装报表模板",
    "send": "写出数据包",
    "package": "签发数据包",
    "approve": "审核通过报表",
    "key_create": "生成本单位签名密钥",
    "key_rotate": "更换本单位签名密钥",
    "key_export": "导出本单位公钥",
    "key_sheet": "打印公钥登记单",
    "report_recipient": "设置上报单位代码",
    "report_review": "设置报表审核",
    "check_run": "比对核查",
    "check_case": "核查事项处理",
    "correction": "提出纠错",
    "correction_closed": "纠错已更正",
    "upgrade": "升级数据库",
    "laptop_checkout": "检出到笔记本",
    "laptop_checkin": "笔记本检入",
    "laptop_cancel": "作废笔记本检出",
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
