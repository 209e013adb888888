"""Signing out, the idle lock, looking people up and unmasking: what a signed-in person does that
changes nothing but must be on record."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from govshare_desktop.core.browse import PERSONS, Browser, Column, Query, format_cell
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.records import summary
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.location import disk_encryption_text
from govshare_desktop.core.store.migrate import current_revision
from govshare_desktop.core.store.search import HINT, SearchKind, classify
from govshare_desktop.core.store.township import get_township

log = logging.getLogger(__name__)

SEARCH_COLUMNS = ("id_number", "name", "sex", "age", "village")


def sign_out(ctx: Context) -> None:
    """The end of a session; a failure to record it is logged, and the session ends anyway."""
    if ctx.principal.role is None:
        return
    _quietly(ctx, "logout")


def lock(ctx: Context, why: str = "空闲超时") -> None:
    """The screen is locked (personal data already hidden by the caller). Never fails: locking must
    not depend on a write succeeding."""
    _quietly(ctx, "lock", why)


def unlock(ctx: Context) -> None:
    """The password was typed again (checked by the caller against the key file)."""
    _quietly(ctx, "unlock")


def _quietly(ctx: Context, action: str, what: str = "") -> None:
    try:
        ctx.audit(action, what)
    except Exception:
        log.exception("audit entry %r could not be written; going on all the same", action)


def unmask(ctx: Context, reason: str, where: str) -> None:
    """Full personal data on screen: the permission, a reason, and an entry — if the entry cannot be
    written, the data stays masked (the error reaches the caller)."""
    ctx.principal.require(Action.UNMASK)
    if not reason.strip():
        raise UserError("查看完整个人信息须说明事由")
    ctx.audit("unmask", where, {"reason": reason.strip()})


def searched(ctx: Context, text: str, *, page: str, results: int) -> None:
    """A search typed in the window, once the typing stopped."""
    ctx.audit("search", text, {"page": page, "results": results})


@dataclass(frozen=True)
class Found:
    columns: list[Column]
    rows: list[list[str]]  # as the clerk sees them (masked unless asked otherwise)


def search_people(
    ctx: Context, text: str, *, limit: int = 50, unmasked: bool = False, reason: str = ""
) -> Found:
    """People by name, ID fragment or pinyin initials, masked unless ``unmasked`` (which needs the
    permission and a reason); recorded with the number of results."""
    if classify(text).kind in (SearchKind.EMPTY, SearchKind.NOTHING):
        raise UserError(f"“{text}”中没有可查找的内容：{HINT}")
    ctx.principal.require(Action.UNMASK if unmasked else Action.VIEW)
    if unmasked and not reason.strip():
        raise UserError("显示完整的个人信息须说明事由（记入审计日志）")
    # The first ``limit`` people in the list's order: one page, never every hit (issue 20).
    found = Browser(ctx.store).page(Query(PERSONS, {"search": text}), limit=limit).rows
    today: date = ctx.now().date()
    shown = [c for c in PERSONS.columns if c.key in SEARCH_COLUMNS]
    indexes = [PERSONS.columns.index(c) + 1 for c in shown]  # after the row's id
    rows = [
        [
            format_cell(c, row[k], masked=not unmasked, today=today)
            for c, k in zip(shown, indexes, strict=True)
        ]
        for row in found
    ]
    detail: dict[str, Any] = {"results": len(found), "where": "search"}
    if unmasked:
        detail["reason"] = reason.strip()
    ctx.audit("unmask" if unmasked else "search", text, detail)
    return Found(shown, rows)


def overview(ctx: Context) -> list[str]:
    """What the database holds — township, counts, schema version, disk encryption — as lines."""
    store = ctx.store
    township = get_township(store)
    facts = summary(store)
    size = store.path.stat().st_size if store.path and store.path.exists() else None
    lines = [
        f"数据库：{store.url}" + (f"（{size / 1048576:.1f} MB）" if size is not None else ""),
        f"数据库版本：{current_revision(store.engine)}",
        "乡镇（街道）："
        + (
            f"{township.name}（{township.code}）" + ("【演示数据】" if township.is_demo else "")
            if township
            else "未初始化（运行 govshare init 或 govshare demo）"
        ),
        f"村（社区）：{facts.villages}",
        f"户籍户数：{facts.households}",
        f"户籍人数：{facts.persons}（正常 {facts.persons_normal}）",
        f"参保记录：{facts.enrollments}",
        f"待遇发放记录：{facts.payments}",
        *(f"{label}：{count}" for label, count in facts.departments),
        f"数据时点：{facts.as_of or '—'}",
    ]
    if store.path is not None:
        lines.append(f"磁盘加密：{disk_encryption_text(store.path)}")
    return lines
