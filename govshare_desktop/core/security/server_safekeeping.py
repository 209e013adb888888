"""Backups and restore of a township's database on a PostgreSQL server, as the signed-in user:
permission checked and audited as for a file (:mod:`.safekeeping`), the work done by
:mod:`govshare_desktop.core.store.server_backup` (pg_dump) and
:mod:`govshare_desktop.core.store.server_restore`.

Two differences from a file, both on purpose:

* **Only a 系统管理员 backs up a server.** A file backup copies the file that is already on the
  clerk's PC; a server backup copies every township resident's data from the server onto the PC
  that runs it. (The daily automatic backup is a file's; a server is backed up by its
  administrator, with the program or the server's own tools.)
* **Dumps are sealed.** pg_dump's output is sealed under the township's key as it is written
  (:mod:`.server_sealed`): no resident's data lies on the PC's disk in the clear.
* **The audit trail stays one.** A restore never replaces the live trail (the server's restore
  keeps it), so the attempt, the safety dump and the result are all entries of the same trail.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security.audit import FAILED, audit_trail
from govshare_desktop.core.security.permissions import Action, PermissionDenied, Role
from govshare_desktop.core.security.server_sealed import TownshipSealing
from govshare_desktop.core.store import server_backup, server_restore
from govshare_desktop.core.store.backup import BackupFile, BackupResult
from govshare_desktop.core.store.engine import Store


def backup_folder(store: Store) -> Path:
    """Where this PC keeps the server's backups unless told otherwise."""
    return server_backup.default_server_backup_dir(store.url)


def backup_files(store: Store, directory: Path | None = None) -> list[BackupFile]:
    """The dumps a restore could start from in ``directory`` (default :func:`backup_folder`)."""
    return server_backup.server_backup_files(directory or backup_folder(store))


def backup_now(
    store: Store,
    directory: Path | None = None,
    *,
    generations: int = 7,
    now: datetime | None = None,
    automatic: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> BackupResult:
    """Dump the server's database into ``directory`` (default :func:`backup_folder`), keeping
    ``generations`` dumps; audited like a file backup. Cancelled: no file, no audit entry."""
    store.principal.require(Action.BACKUP)
    if store.principal.role is not Role.SYSADMIN:
        raise PermissionDenied(
            "数据库在单位服务器上：备份会把全乡镇的数据导出到本机，只能由系统管理员进行"
            "（服务器也可由其管理员用 pg_dump 备份）"
        )
    now = now or datetime.now()
    result = server_backup.backup_server(
        store,
        directory,
        generations=generations,
        now=now,
        progress=progress,
        cancel=cancel,
        sealing=_sealing(store),
    )
    audit_trail(store).log(
        store.principal,
        "backup",
        result.path.name,
        detail={
            "sha256": result.sha256,
            "size": result.size,
            "automatic": automatic,
            "server": True,
        },
        now=now,
    )
    return result


def restore_from(store: Store, backup_file: Path, *, now: datetime | None = None) -> Path:
    """Restore the server's database from the dump ``backup_file`` (系统管理员): checked first,
    a safety dump beside it, then the rows in one transaction. Returns the safety dump. The
    attempt, the safety dump and the restore are written into the (kept) audit trail; ``store``
    is disposed of afterwards, as after a file restore: sign in again."""
    store.principal.require(Action.RESTORE)
    now = now or datetime.now()
    sealing = _sealing(store)
    checked = server_restore.check_dump(store, backup_file, sealing)
    trail = audit_trail(store)
    name = Path(backup_file).name
    trail.log(store.principal, "restore", name, detail={"stage": "start", "server": True}, now=now)
    try:
        try:
            safety = server_restore.restore_server(
                store, backup_file, now=now, checked=checked, sealing=sealing
            )
        except UserError as exc:  # nothing changed: say so in the trail
            trail.log(
                store.principal,
                "restore",
                name,
                outcome=FAILED,
                detail={"stage": "failed", "server": True, "reason": exc.message},
                now=now,
            )
            raise
        trail.log(
            store.principal,
            "backup",
            safety.path.name,
            detail={"sha256": safety.sha256, "size": safety.size, "before_restore": name},
            now=now,
        )
        trail.log(
            store.principal,
            "restore",
            name,
            detail={
                "stage": "done",
                "server": True,
                "sha256": checked.manifest.get("sha256"),
                "safety_copy": str(safety.path),
            },
            now=now,
        )
    finally:
        store.dispose()
    return safety.path


def open_dump(
    store: Store, backup_file: Path, target: Path, *, now: datetime | None = None
) -> None:
    """The plaintext of a sealed dump into ``target`` (系统管理员), for a restore by hand; the
    plaintext holds every resident's data, so it is recorded in the audit trail where it went."""
    store.principal.require(Action.RESTORE)
    server_restore.open_dump_to(store, backup_file, target, TownshipSealing(store))
    audit_trail(store).log(
        store.principal,
        "backup_open",
        Path(backup_file).name,
        detail={"target": str(target), "server": True},
        now=now or datetime.now(),
    )


def _sealing(store: Store) -> TownshipSealing | None:
    """The township's sealing of dumps; None for a store that holds no database key (a tool's,
    not signed in), whose dumps stay in the clear as before."""
    return TownshipSealing(store) if store.secret else None
