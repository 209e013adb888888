"""Importing back-flowed files, as the wizard and ``govshare import`` both do it: the files in the
clerk's order (tables and packages mixed), a dry run that is the real run rolled back, the status
words a clerk reads, and the workbook that goes back to the department that sent a file. The
wizard's preview of table files is the import itself, held uncommitted (:func:`hold_back_flow`)
until the clerk commits it (:func:`commit_held`) or goes back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from govshare_desktop.core.backflow.error_workbook import write_error_workbook
from govshare_desktop.core.backflow.pipeline import DatasetResult
from govshare_desktop.core.backflow.runner import FileResult, HeldImport, Source, import_files
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context

# What became of a package, said the same everywhere: (dry run, real run).
PACKAGE_STATUS = {
    "applied": ("可以导入", "已导入"),
    "already_received": ("已接收过，不会改动", "已接收过，未作修改"),
    "held": ("序号不连续，将暂存", "序号不连续，已暂存"),
    "refused": ("拒收", "已拒收"),
}


def import_back_flow(
    ctx: Context,
    sources: Sequence[Source | Path],
    *,
    dry_run: bool = False,
    plan_options: Mapping[str, Any] | None = None,
) -> list[FileResult]:
    """Import (or dry-run) ``sources`` in order as the signed-in account. Permission, one
    transaction per file (the dry run: one for all, rolled back) and the audit entries are the
    runner's; progress and cancel are the context's."""
    return import_files(
        ctx.store,
        [s if isinstance(s, Source) else Source(Path(s)) for s in sources],
        user=ctx.user,
        dry_run=dry_run,
        now=ctx.now(),
        progress=ctx.progress,
        cancel=ctx.cancel,
        plan_options=plan_options,
    )


def hold_back_flow(
    ctx: Context,
    sources: Sequence[Source | Path],
    *,
    plan_options: Mapping[str, Any] | None = None,
) -> HeldImport:
    """Import table files for real and hold the transaction: the preview that is the import
    (:class:`~govshare_desktop.core.backflow.runner.HeldImport`). :func:`commit_held` keeps it;
    ``held.rollback()`` leaves the database as it was."""
    return HeldImport(
        ctx.store,
        [s if isinstance(s, Source) else Source(Path(s)) for s in sources],
        user=ctx.user,
        now=ctx.now(),
        progress=ctx.progress,
        cancel=ctx.cancel,
        plan_options=plan_options,
    )


def commit_held(ctx: Context, held: HeldImport) -> list[FileResult]:
    """Keep a held import (its audit entries written, committed): what the import did, as
    :func:`import_back_flow` says it."""
    ctx.store.principal.require(Action.IMPORT)
    return held.commit()


def status_text(outcome: FileResult, *, dry_run: bool) -> str:
    """「可以导入」 / 「已导入」 / a package's fate / 「不能导入：…」, with the message."""
    if outcome.package is not None:
        words = PACKAGE_STATUS.get(outcome.package.status)
        text = words[0 if dry_run else 1] if words else outcome.package.status
        # what a task, reply or receipt package brought, in the clerk's words
        said = [outcome.package.message, *outcome.package.said]
        return text + "".join(
            f"：{line}" if i == 0 else f"；{line}" for i, line in enumerate(filter(None, said))
        )
    if outcome.refused:
        return f"不能导入：{outcome.message}"
    return "可以导入" if dry_run else "已导入"


def needs_sending_back(result: DatasetResult) -> bool:
    """Rejected rows or changed amounts: a workbook for the department that sent the file."""
    return bool(result.rejections or (result.report and result.report.amount_changes))


def write_send_back(ctx: Context, result: DatasetResult, folder: Path) -> Path:
    """The rejected rows and changed amounts of one file, as a workbook for the department that
    sent it (full data: audited, private — see ``error_workbook``)."""
    what = "未导入的行" if result.rejections else "金额变化"
    target = Path(folder) / f"{Path(result.file.split(':')[-1]).stem}_{what}.xlsx"
    return write_error_workbook(
        ctx.store,
        target,
        file_name=result.file,
        headers=result.headers,
        rejections=result.rejections,
        amount_changes=result.report.amount_changes if result.report else (),
    )
