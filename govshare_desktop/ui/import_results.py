"""What the import wizard shows, worked out from its files without Qt: one :class:`Item` per file
(its plan, the dry run's and the import's results), the summary rows, the preview's changes and
refusals, and the change report (masked, as everywhere on screen). The import itself is the use
case ``services.imports.import_back_flow``; the preview of table files is their import held
uncommitted (``hold_back_flow``), which 「导入」 commits (``commit_held``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from govshare_desktop.core.backflow.pipeline import DatasetResult, ImportPlan
from govshare_desktop.core.backflow.runner import FileResult, HeldImport, Source
from govshare_desktop.core.domain.masking import mask_id_number, mask_name
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.services.checks import after_import
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.services.imports import (
    commit_held,
    hold_back_flow,
    import_back_flow,
    status_text,
)
from govshare_desktop.core.store.engine import Store


@dataclass
class Item:
    """One file in the wizard: a table (with its plan) or a package."""

    path: Path
    package: bool
    plan: ImportPlan | None = None
    error: str | None = None
    preview: list[DatasetResult] = field(default_factory=list)
    preview_status: str = ""
    results: list[DatasetResult] = field(default_factory=list)
    status: str = ""
    message: str = ""


SUMMARY_HEADERS = [
    "文件",
    "数据类型",
    "读取行数",
    "新增",
    "更新",
    "未变",
    "拒收",
    "本次不再包含",
    "状态",
]


def summary_rows(items: Sequence[Item], *, preview: bool) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for item in items:
        results = item.preview if preview else item.results
        status = item.preview_status if preview else item.status
        if not results:
            rows.append([item.path.name, "", "", "", "", "", "", "", status])
        for result in results:
            rows.append(
                [
                    result.file,
                    result.title,
                    result.rows_read,
                    result.inserted,
                    result.updated,
                    result.unchanged,
                    result.rejected,
                    result.absent,
                    status,
                ]
            )
    return rows


def import_items(
    store: Store,
    items: Sequence[Item],
    *,
    dry_run: bool,
    now: datetime,
    progress: Progress,
    cancel: Cancel,
) -> list[tuple[list[DatasetResult], str, str]]:
    """Import (or dry-run) the wizard's files in their order: per file its dataset results, a
    status and a message. The dry run runs them all in one transaction, rolled back, so the
    preview's counts are the import's counts — the second file sees what the first one changed."""
    ctx = Context(store, clock=lambda: now, progress=progress, cancel=cancel)
    done = import_back_flow(ctx, _sources(items), dry_run=dry_run)
    return _per_item(ctx, items, done, dry_run=dry_run)


def hold_items(
    store: Store, items: Sequence[Item], *, now: datetime, progress: Progress, cancel: Cancel
) -> tuple[HeldImport | None, list[tuple[list[DatasetResult], str, str]]]:
    """The preview of table files: their import, done and held uncommitted (what it did, in the
    preview's words). With a package among the files: (None, the dry run's results) instead."""
    if any(item.package for item in items):
        return None, import_items(
            store, items, dry_run=True, now=now, progress=progress, cancel=cancel
        )
    ctx = Context(store, clock=lambda: now, progress=progress, cancel=cancel)
    held = hold_back_flow(ctx, _sources(items))
    return held, _per_item(ctx, items, held.results, dry_run=True)


def commit_items(
    store: Store,
    held: HeldImport,
    items: Sequence[Item],
    *,
    now: datetime,
    progress: Progress,
    cancel: Cancel,
) -> list[tuple[list[DatasetResult], str, str]]:
    """「导入」 after a held preview: commit it, and say what it did as :func:`import_items`."""
    ctx = Context(store, clock=lambda: now, progress=progress, cancel=cancel)
    done = commit_held(ctx, held)
    return _per_item(ctx, items, done, dry_run=False)


def _sources(items: Sequence[Item]) -> list[Source]:
    return [
        Source(item.path, plan=item.plan, package=item.package)
        for item in items
        if item.package or item.plan is not None
    ]


def _per_item(
    ctx: Context, items: Sequence[Item], done: Sequence[FileResult], *, dry_run: bool
) -> list[tuple[list[DatasetResult], str, str]]:
    outcomes = iter(done)
    found: list[tuple[list[DatasetResult], str, str]] = []
    for item in items:
        if not item.package and item.plan is None:
            found.append(([], f"无法读取：{item.error}", ""))
            continue
        outcome = next(outcomes)
        found.append((outcome.datasets, status_text(outcome, dry_run=dry_run), outcome.message))
    checked = None if dry_run else after_import(ctx, list(done))
    if checked is not None and found:  # said under the last file: the checks ran over all
        datasets, status, message = found[-1]
        found[-1] = (datasets, status, "\n".join(filter(None, [message, checked.summary()])))
    return found


def preview_rows(items: Sequence[Item]) -> tuple[list[list[Any]], list[list[Any]]]:
    """The dry run's field changes and the rows it would refuse (at most 500 of each a file)."""
    change_rows: list[list[Any]] = []
    rejection_rows: list[list[Any]] = []
    for item in items:
        for result in item.preview:
            report = result.report
            if report is not None:
                for change in report.field_changes[:500]:
                    change_rows.append(
                        [
                            result.file,
                            change["key"],
                            change["name"],
                            change["field"],
                            change["old"],
                            change["new"],
                        ]
                    )
            for rejection in result.rejections[:500]:
                rejection_rows.append(
                    [
                        result.file,
                        rejection.row,
                        rejection.column,
                        rejection.reason_code,
                        rejection.message,
                    ]
                )
    return change_rows, rejection_rows


def report_html(items: Sequence[Item]) -> str:
    """The change report: a heading per file, its lines, and the people a clerk must act on
    (masked, as everywhere on screen)."""
    parts: list[str] = []
    for item in items:
        if item.message:
            parts.append(f"<p><b>{escape(item.path.name)}</b>：{escape(item.message)}</p>")
        for result in item.results:
            report = result.report
            if report is None:
                continue
            parts.append(f"<p><b>{escape(result.file)}</b>（{escape(result.title)}）</p><ul>")
            parts += [f"<li>{escape(line)}</li>" for line in report.lines()]
            people = [
                ("死亡注销", report.deaths),
                ("迁出注销", report.moved_out),
                ("新出生", report.births),
                ("新迁入", report.move_ins),
                ("死亡后仍有待遇发放", report.deceased_still_paid),
            ]
            for title, entries in people:
                for entry in entries[:50]:
                    who = f"{mask_name(entry.get('name'))}（{mask_id_number(entry.get('id_number'))}）"
                    when = entry.get("date") or entry.get("died") or entry.get("birth_date") or ""
                    parts.append(f"<li>{title}：{escape(who)} {escape(str(when))}</li>")
            for change in report.ss_changes[:50]:
                who = f"{mask_name(change['name'])}（{mask_id_number(change['id_number'])}）"
                parts.append(
                    f"<li>社保：{escape(who)} {escape(change['scheme'])} {escape(change['field'])}"
                    f" {escape(change['old'])} → {escape(change['new'])}</li>"
                )
            for kept in report.kept[:50]:
                what = "户" if kept["dataset"] == "household" else "人员"
                who = (
                    kept["key"]
                    if kept["dataset"] == "household"
                    else f"{mask_name(kept['name'])}（{mask_id_number(kept['key'].split('|')[0])}）"
                )
                rows = "、".join(str(r) for r in kept["rows"])
                parts.append(
                    f"<li>保持原样（第 {escape(rows)} 行被拒收）：{what} {escape(who)}</li>"
                )
            amounts = report.amount_change_lines(
                lambda i: f"{mask_name(i['name'])}（{mask_id_number(i['id_number'])}）"
            )
            parts += [f"<li>金额变化：{escape(line)}</li>" for line in amounts[:50]]
            if report.amount_change_count > 50:
                parts.append(f"<li>…… 另有 {report.amount_change_count - 50} 条金额变化</li>")
            parts.append("</ul>")
    return "".join(parts)
