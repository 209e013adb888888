"""Backups and restore of the SQLite database, through SQLite's online backup API only.

Never a file copy: a copy of a WAL database taken while it is open can miss the ``-wal`` file or
catch a transaction half-written (security.md R5). A backup is made like this:

1. ``Connection.backup()`` from a raw DB-API connection of the live engine (stdlib ``sqlite3`` or
   ``sqlcipher3``; the destination is opened by the same module) into a hidden temporary file in
   the backup directory. One step (``pages=-1``) by default; with a ``progress`` callback, steps
   of :data:`STEP_PAGES` pages inside one read transaction on the source, so that the copy is one
   consistent snapshot and a busy writer can neither corrupt nor starve it (WAL: the writer is not
   blocked either);
2. ``PRAGMA journal_mode=DELETE`` on the copy (a backup is one self-contained file) and
   ``PRAGMA integrity_check``, which must say ``ok``;
3. fsync; the database's key file (``<db>.keys``, if it has one) is copied beside it under a
   temporary name too and fsynced; then ``os.replace`` of the key file to
   ``govshare-YYYYmmdd-HHMMSS.db.keys`` and *then* of the copy to ``govshare-YYYYmmdd-HHMMSS.db``,
   fsync of the directory. The database's name appearing is the commit: a process killed at any
   step leaves temporaries (removed by the next backup once their process is gone: its id is in
   their name) or a key file without its database (removed by the next backup), never a
   database without its key file;
4. only the newest ``generations`` complete files of that name pattern are kept. Nothing else in
   the directory is ever deleted (``govshare-before-restore-…`` and ``govshare-before-upgrade-…``
   safety copies included) except leftovers of an interrupted backup.

Any failure (disk full, no write permission, cancelled via ``progress``) leaves no backup file.
An encrypted backup without its key file beside it (left by an earlier version killed between
its two renames) is incomplete: never listed, never counted as the last backup, and removed by
the next one. Backup files, their key files and the backup folder are private to their owner.

Encrypted databases (SQLCipher): pass ``connect``, a callable that opens a path with the
``sqlcipher3`` module and applies the same key. It is used for every connection these functions
open themselves (the destination of a backup, the backup file when verifying or restoring, the live
file when given as a path).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.store.backup_copy import STEP_PAGES, BackupResult, _backup_into
from govshare_desktop.core.store.backup_files import (
    GENERATIONS,
    BackupFile,
    _prune,
    backup_due,
    backup_files,
    last_backup_time,
    list_backups,
)
from govshare_desktop.core.store.backup_io import (
    _BEFORE_UPGRADE_PREFIX,
    _STAMP,
    BACKUP_DIR,
    CANCELLED,
    KEYS_SUFFIX,
    REQUIRED_TABLES,
    SQLITE_MAGIC,
    STALE_TEMP_AGE,
    Connect,
    DamagedDatabase,
    _local,
    _opened,
    _store_connection,
    default_backup_dir,
)
from govshare_desktop.core.store.backup_restore import restore
from govshare_desktop.core.store.backup_verify import account_role, quick_check, verify_backup
from govshare_desktop.core.store.engine import Store

__all__ = [
    "BACKUP_DIR",
    "CANCELLED",
    "GENERATIONS",
    "KEYS_SUFFIX",
    "REQUIRED_TABLES",
    "SQLITE_MAGIC",
    "STALE_TEMP_AGE",
    "STEP_PAGES",
    "BackupFile",
    "BackupResult",
    "Connect",
    "DamagedDatabase",
    "account_role",
    "backup",
    "backup_before_upgrade",
    "backup_due",
    "backup_files",
    "default_backup_dir",
    "last_backup_time",
    "list_backups",
    "quick_check",
    "restore",
    "verify_backup",
]


# --------------------------------------------------------------------------------------- backup


def backup(
    store_or_path: Store | str | os.PathLike[str],
    directory: str | os.PathLike[str] | None = None,
    *,
    generations: int | None = GENERATIONS,
    now: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    connect: Connect | None = None,
) -> BackupResult:
    """Back the live database up into ``directory`` (default ``<db dir>/backups``).

    Safe while the program (or another connection) is reading and writing. ``generations=None``
    keeps every backup. Raises :class:`UserError` naming the directory when the copy cannot be
    written; no partial file is left behind. ``progress(pages_done, pages_total, label)`` between
    steps of the copy; once ``cancel`` is set, :class:`~govshare_desktop.core.progress.Cancelled`
    and no file.
    """
    if generations is not None and generations < 1:
        raise ValueError("generations must be at least 1 (or None to keep every backup)")
    stamp = _local(now or datetime.now()).strftime(_STAMP)
    if isinstance(store_or_path, Store):
        db_path = store_or_path.path
        if db_path is None:
            raise UserError(
                f"只能备份 SQLite 数据库文件，当前数据库是 {store_or_path.engine.url!r}。"
            )
        target_dir = Path(directory) if directory else default_backup_dir(db_path)
        with _store_connection(store_or_path) as source:
            result = _backup_into(
                source,
                target_dir,
                f"govshare-{stamp}",
                connect=connect,
                progress=progress,
                cancel=cancel,
            )
    else:
        db_path = Path(store_or_path)
        if not db_path.is_file():
            raise UserError(f"找不到要备份的数据库文件：{db_path}")
        target_dir = Path(directory) if directory else default_backup_dir(db_path)
        with _opened(db_path, connect, "要备份的数据库") as source:
            result = _backup_into(
                source,
                target_dir,
                f"govshare-{stamp}",
                connect=connect,
                progress=progress,
                cancel=cancel,
            )
    if generations is not None:
        _prune(target_dir, keep=generations, newest=result.path)
    return result


def backup_before_upgrade(
    store: Store, revision: str, *, now: datetime | None = None
) -> BackupResult:
    """The copy taken before a newer program migrates the database (schema ``revision``):
    ``<db dir>/backups/govshare-before-upgrade-<revision>-<time>.db``. Never pruned. If it cannot
    be made, the migration does not run and the database stays as it was."""
    db_path = store.path
    if db_path is None:
        raise UserError("只能备份本机的 SQLite 数据库文件")
    stamp = _local(now or datetime.now()).strftime(_STAMP)
    directory = default_backup_dir(db_path)
    try:
        with _store_connection(store) as source:
            return _backup_into(
                source,
                directory,
                f"{_BEFORE_UPGRADE_PREFIX}{revision}-{stamp}",
                connect=store.file_connect(),
                progress=None,
            )
    except UserError as exc:
        raise UserError(
            f"新版本程序需要升级数据库结构，升级前的备份未能完成，数据库未作任何改动。{exc.message}",
            detail=exc.detail,
        ) from None
