"""Verifying the audit trail: the hash chain, the signatures and restarts, the writer key, and
anchors (the head written into exports, packages and backups).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from govshare_desktop.core.security import crypto
from govshare_desktop.core.security.audit_format import (
    GENESIS,
    RESTARTS,
    Anchor,
    AnchorCheck,
    Problem,
    Verification,
    _digest,
    _mac,
    _seal,
    canonical,
)
from govshare_desktop.core.security.audit_write import _pair


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
