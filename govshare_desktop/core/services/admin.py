"""What the administrators do: accounts (系统管理员), senders' keys, backups and restore, and the
audit trail (审计管理员). Each checks its permission and is recorded in the audit trail by the core
function it calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.export.audit_trail import export_entries
from govshare_desktop.core.export.audited import ExportedFile, read_anchor
from govshare_desktop.core.security import safekeeping, server_safekeeping, signin
from govshare_desktop.core.security.audit import Anchor, Verification
from govshare_desktop.core.security.permissions import Role
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.backup import (
    BackupFile,
    BackupResult,
    backup_files,
    default_backup_dir,
)
from govshare_desktop.core.store.models import Account, AuditEntry, TrustedSender

# ---------------------------------------------------------------- accounts


def list_accounts(ctx: Context) -> list[Account]:
    return signin.list_accounts(ctx.store)


def add_account(
    ctx: Context,
    username: str,
    role: Role,
    password: str,
    *,
    display_name: str = "",
    expires_at: date | None = None,
) -> Account:
    """A new account, whose holder sets their own password at first sign-in."""
    return signin.add_account(
        ctx.store,
        username,
        role,
        password,
        display_name=display_name,
        expires_at=expires_at,
        now=ctx.now(),
    )


def change_account(
    ctx: Context,
    username: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> None:
    """Set a role, lock or unlock an account, or reset its password."""
    signin.change_account(
        ctx.store, username, role=role, disabled=disabled, password=password, now=ctx.now()
    )


def change_own_password(ctx: Context, old: str, new: str) -> None:
    signin.change_password(ctx.store, old, new, now=ctx.now())


# ---------------------------------------------------------------- senders


def trust_sender(ctx: Context, pem: bytes, *, code: str, name: str) -> TrustedSender:
    """Accept packages from ``code`` signed with this public key (系统管理员)."""
    return register_sender(ctx.store, pem, code=code, name=name, now=ctx.now())


def trusted_senders(ctx: Context) -> list[TrustedSender]:
    """The senders' keys (public: no permission beyond being signed in)."""
    with ctx.store.sessions() as session:
        return list(session.scalars(select(TrustedSender).order_by(TrustedSender.code)))


# ---------------------------------------------------------------- backups


def back_up(
    ctx: Context, directory: Path | None = None, *, generations: int = 7, automatic: bool = False
) -> BackupResult:
    """A backup (with its key file) into ``directory`` (default: ``backups`` beside the database).
    ``automatic``: the daily backup, made for whoever is signed in. On a server: a pg_dump."""
    keeper = server_safekeeping if ctx.store.server else safekeeping
    return keeper.backup_now(
        ctx.store,
        directory,
        generations=generations,
        now=ctx.now(),
        automatic=automatic,
        progress=ctx.progress,
        cancel=ctx.cancel,
    )


def backup_folder(ctx: Context) -> Path:
    """Where backups go unless another folder is chosen: ``backups`` beside the database file,
    or this PC's folder for the server's dumps."""
    if ctx.store.path is None:
        return server_safekeeping.backup_folder(ctx.store)
    return default_backup_dir(ctx.store.path)


def list_backups(ctx: Context, directory: Path | None = None) -> list[BackupFile]:
    """The backups in ``directory`` (default :func:`backup_folder`) a restore could start from,
    newest first: a file's ``.db`` copies, or a server's ``.dump`` files."""
    folder = Path(directory) if directory else backup_folder(ctx)
    if ctx.store.server:
        return server_safekeeping.backup_files(ctx.store, folder)
    return backup_files(folder)


def restore(ctx: Context, backup: Path) -> Path | None:
    """Replace the database by ``backup`` (checked first); returns the safety copy. The store of
    ``ctx`` is closed: sign in again afterwards. On a server: from one of its dumps."""
    if ctx.store.server:
        return server_safekeeping.restore_from(ctx.store, Path(backup), now=ctx.now())
    return safekeeping.restore_from(ctx.store, Path(backup), now=ctx.now())


def open_server_backup(ctx: Context, backup: Path, target: Path) -> None:
    """A sealed server dump opened into the file ``target`` (系统管理员), for the server's
    administrator to restore by hand with pg_restore; recorded in the audit trail."""
    if not ctx.store.server:
        raise UserError("只有服务器上的数据库的备份（.dump）需要解开；本机数据库的备份直接恢复")
    server_safekeeping.open_dump(ctx.store, Path(backup), Path(target), now=ctx.now())


def restore_unreadable(db: Path, backup: Path, username: str, password: str) -> Path | None:
    """Restore a database too damaged to sign in to (a 系统管理员 of the backup)."""
    return safekeeping.restore_unreadable(Path(db), Path(backup), username, password)


# ---------------------------------------------------------------- the audit trail


def verify_audit(
    ctx: Context,
    *,
    against: Path | None = None,
    anchor: str | None = None,
    backups: Path | None = None,
) -> Verification:
    """Check the trail — against an exported file's or package's anchor, or a given one."""
    found, source = (Anchor.parse(anchor) if anchor else None), "指定的锚点"
    if against is not None:
        text = read_anchor(Path(against))
        if text is None:
            raise UserError(f"文件 {against} 中没有审计锚点（不是本程序导出的文件？）")
        found, source = Anchor.parse(text), f"文件 {Path(against).name}"
    return ctx.trail().verify(ctx.principal, found, source=source, backups=backups)


def audit_entries(
    ctx: Context,
    *,
    action: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries, newest first (审计管理员)."""
    return ctx.trail().entries(
        ctx.principal, action=action, username=username, since=since, until=until, limit=limit
    )


def export_audit(ctx: Context, path: Path, entries: Sequence[AuditEntry]) -> ExportedFile:
    """The entries shown, to .xlsx (审计管理员; itself recorded in the trail)."""
    return export_entries(ctx.store, Path(path), list(entries))
