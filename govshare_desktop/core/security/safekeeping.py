"""Backups and restore as the signed-in user: permission checked, audited, and encrypted copies
made and read with the database key (through :mod:`govshare_desktop.core.store.backup`, which
only ever uses the SQLite backup API).

A backup is useless without the key file, so each backup gets a copy of the current one beside it
(``…db.keys``): the database key never changes (a password change re-wraps it), so any key file
of this database opens any of its backups, with the passwords or the recovery secret of the time.
The backup module writes that copy before the backup's own name appears (a backup is complete
with its key file or not there at all), private to the owner like the backup itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import private_dir
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action, PermissionDenied, Principal, Role
from govshare_desktop.core.security.signin import DatabaseUnreadable, sign_in, unlock_key
from govshare_desktop.core.store import backup as backups
from govshare_desktop.core.store.engine import Store, keyed_connect, open_store


def backup_now(
    store: Store,
    directory: Path | None = None,
    *,
    generations: int = 7,
    now: datetime | None = None,
    automatic: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> backups.BackupResult:
    """Back up the database (and its key file) into ``directory`` (default: ``backups`` beside
    the database), keeping ``generations`` copies. ``automatic``: the daily backup, which runs
    for whoever is signed in. Cancelled (``cancel``): no file, no audit entry."""
    if not automatic:
        store.principal.require(Action.BACKUP)
    if store.path is None:
        raise UserError("只能备份本机的 SQLite 数据库文件")
    now = now or datetime.now()
    if directory is None:  # the program's own folder: private even if an earlier version made it
        private_dir(backups.default_backup_dir(store.path))
    result = backups.backup(
        store,
        directory,
        generations=generations,
        now=now,
        progress=progress,
        cancel=cancel,
        connect=store.file_connect(),
    )
    audit_trail(store).log(
        store.principal,
        "backup",
        result.path.name,
        detail={"sha256": result.sha256, "size": result.size, "automatic": automatic},
        now=now,
    )
    return result


def restore_from(store: Store, backup_file: Path, *, now: datetime | None = None) -> Path | None:
    """Replace the live database by ``backup_file`` after checking it (right key, integrity).
    Disposes ``store``; on any failure the live database is untouched. The restore is written
    into the audit trail of the database as it is afterwards (and the attempt into the current
    one first). Returns the safety copy of the database as it was."""
    store.principal.require(Action.RESTORE)
    if store.path is None:
        raise UserError("只能恢复本机的 SQLite 数据库文件")
    now = now or datetime.now()
    connect = store.file_connect()
    backups.verify_backup(backup_file, connect=connect)
    audit_trail(store).log(
        store.principal, "restore", Path(backup_file).name, detail={"stage": "start"}
    )
    store.dispose()
    safety = backups.restore(backup_file, store.path, connect=connect, now=now)
    restored = open_store(
        store.path,
        key=store.secret if store.encrypted else None,
        before_upgrade=backups.backup_before_upgrade,
    ).acting(store.principal, store.secret)
    try:
        audit_trail(restored).log(
            store.principal,
            "restore",
            Path(backup_file).name,
            detail={"stage": "done", "safety_copy": str(safety) if safety else None},
            now=now,
        )
    finally:
        restored.dispose()
    return safety


def restore_unreadable(
    db: Path, backup_file: Path, username: str, password: str, *, now: datetime | None = None
) -> Path | None:
    """Restore a database that cannot be read at all, so that nobody can sign in to it.

    The password unlocks the key (a wrong one counts towards the lockout as at sign-in). Who may
    restore cannot be read from the damaged database, so it is read from the backup: there,
    ``username`` must be an active 系统管理员. The damaged file is kept as the safety copy; the
    restore is written into the restored database's audit trail. Returns the safety copy."""
    now = now or datetime.now()
    try:  # only for what signing in cannot open: otherwise the restore is the current 系统管理员's
        sign_in(db, username, password, now=now).store.dispose()
    except DatabaseUnreadable:
        pass
    else:
        raise UserError(
            "数据库可以正常打开：请登录后由系统管理员在「备份与恢复」中恢复（或用 govshare restore）"
        )
    vault, dek = unlock_key(db, username, password, now)
    connect = keyed_connect(dek) if vault.cipher == "sqlcipher" else None
    backups.verify_backup(backup_file, connect=connect)
    if backups.account_role(backup_file, username, connect=connect) != Role.SYSADMIN.value:
        raise PermissionDenied(
            f"“{username}”在该备份中不是有效的系统管理员账户，不能恢复数据库；"
            "请用系统管理员账户，或联系技术支持"
        )
    safety = backups.restore(backup_file, db, connect=connect, now=now)
    principal = Principal(username, Role.SYSADMIN)
    restored = open_store(
        db, key=dek if connect else None, before_upgrade=backups.backup_before_upgrade
    ).acting(principal, dek)
    try:
        audit_trail(restored).log(
            principal,
            "restore",
            Path(backup_file).name,
            detail={
                "stage": "done",
                "unreadable": True,
                "safety_copy": str(safety) if safety else None,
            },
            now=now,
        )
    finally:
        restored.dispose()
    return safety
