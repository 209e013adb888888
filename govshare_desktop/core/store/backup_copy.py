"""One backup made: the online-backup copy into a temporary file, its check, fsync, the key file and
the two renames that commit it, and old generations pruned.

The steps are described in :mod:`govshare_desktop.core.store.backup`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.killpoints import reached
from govshare_desktop.core.private_files import file_sha256, fsync_dir, private_copy
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.store.audit_tables import seal_copy
from govshare_desktop.core.store.backup_io import (
    _COMMIT,
    _DAMAGED,
    _DISK_HINT,
    _TEMP_PREFIX,
    CANCELLED,
    KEYS_SUFFIX,
    Connect,
    DamagedDatabase,
    _closing,
    _free_name,
    _fsync_file,
    _is_db_error,
    _mkdir,
    _mkstemp,
    _module_of,
    _open,
    _reason,
    _remove_stale_temps,
    _remove_temp,
)
from govshare_desktop.core.store.backup_verify import _check_rows

STEP_PAGES = 1024  # pages per backup step when progress is reported (4 MiB with 4 KiB pages)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes
    sha256: str  # hex digest of the backup file
    pages: int  # database pages copied


# ------------------------------------------------------------------------------------ internals


def _backup_into(
    source: Any,
    directory: Path,
    stem: str,
    *,
    connect: Connect | None,
    progress: Progress | None,
    cancel: Cancel | None = None,
    require_ok: bool = True,
) -> BackupResult:
    """Copy the open ``source`` connection into ``directory/<stem>.db`` (see the module doc)."""
    opener = _opener(source, connect)
    _mkdir(directory, "备份")
    _remove_stale_temps(directory)
    temp = _mkstemp(directory, f"{_TEMP_PREFIX}{os.getpid()}-", "备份")
    temp_keys = Path(f"{temp}{KEYS_SUFFIX}")
    try:
        try:
            mode, pages, problems = _copy_into(source, temp, opener, progress, cancel)
            if require_ok and problems:
                raise DamagedDatabase(
                    "备份副本未通过完整性检查，当前数据库可能已损坏，未生成备份文件。"
                    "请尽快从以前的备份恢复。",
                    detail="\n".join(problems[:10]),
                )
            if mode is None or str(mode[0]).lower() != "delete":
                raise sqlite3.OperationalError(f"cannot leave WAL mode on the copy ({mode})")
            _fsync_file(temp)
            size = temp.stat().st_size
            digest = file_sha256(temp)
            keys = _key_file_of(source)
            if keys is not None:
                private_copy(keys, temp_keys)
            reached("backup:written")
            with _COMMIT:
                final = _free_name(directory, stem)
                if keys is not None:  # the key file first: a database never stands without it
                    os.replace(temp_keys, f"{final}{KEYS_SUFFIX}")
                    reached("backup:keys-renamed")
                os.replace(temp, final)
                reached("backup:renamed")
        except UserError:
            raise
        except Exception as exc:
            if not (isinstance(exc, OSError) or _is_db_error(exc)):
                raise
            if _is_db_error(exc) and _DAMAGED.search(str(exc)):
                # The destination is a fresh file: only the source can be unreadable.
                raise DamagedDatabase(
                    f"当前数据库已损坏或无法读取，未生成备份文件：{exc}。请从以前的备份恢复。"
                ) from None
            raise UserError(
                f"无法在 {directory} 中创建备份：{_reason(exc)}{_DISK_HINT}未生成备份文件。"
            ) from None
    finally:
        _remove_temp(temp)
        temp_keys.unlink(missing_ok=True)
    fsync_dir(directory)
    return BackupResult(path=final, size=size, sha256=digest, pages=pages)


def _opener(source: Any, connect: Connect | None) -> Connect:
    """What opens the destination: ``connect``, or ``sqlite3.connect`` for a plain database."""
    if connect is not None:
        return connect
    module = _module_of(source)
    if module is not sqlite3:
        raise ValueError(
            f"{module.__name__} connections need a connect callable that applies the key"
        )
    return sqlite3.connect


def _copy_into(
    source: Any, temp: Path, opener: Connect, progress: Progress | None, cancel: Cancel | None
) -> tuple[Any, int, list[str]]:
    """Steps 1 and 2 of the module doc into the file ``temp``: the copy (its audit writer key
    sealed), out of WAL mode and checked. Returns the journal mode it reports, its page count and
    the problems found."""
    module = _module_of(source)
    with _closing(_open(temp, opener)) as dest:
        if _module_of(dest) is not module:
            raise TypeError(
                f"backup destination opened by {_module_of(dest).__name__}, "
                f"the source by {module.__name__}: use the same module"
            )
        _copy(source, dest, progress, cancel)
        _seal_audit_writer(dest)
        reached("backup:copied")
        mode = dest.execute("PRAGMA journal_mode=DELETE").fetchone()
        pages = int(dest.execute("PRAGMA page_count").fetchone()[0])
        try:
            problems = _check_rows(dest, full=True)
        except Exception as exc:
            if not _is_db_error(exc):
                raise
            problems = [str(exc)]
    return mode, pages, problems


def _key_file_of(source: Any) -> Path | None:
    """The key file of the database open on ``source`` (``<file>.keys``), if there is one."""
    for row in source.execute("PRAGMA database_list").fetchall():
        if row[1] == "main" and row[2]:
            keys = Path(f"{row[2]}{KEYS_SUFFIX}")
            return keys if keys.is_file() else None
    return None


def _seal_audit_writer(copy: Any) -> None:
    """No copy holds the audit trail's writer key (:func:`govshare_desktop.core.store.
    audit_tables.seal_copy`): whoever reads a backup later cannot re-sign what was written after
    it."""
    try:
        seal_copy(copy)
    except Exception as exc:
        if not _is_db_error(exc):
            raise  # a damaged source: the integrity check that follows says so


def _copy(source: Any, dest: Any, progress: Progress | None, cancel: Cancel | None) -> None:
    if progress is None and cancel is None:
        # One step reads every page inside one read transaction: a consistent snapshot.
        source.backup(dest, pages=-1)
        return

    def report(_status: int, remaining: int, total: int) -> None:
        if cancel is not None:
            cancel.check(CANCELLED)  # raised through sqlite3's backup: the copy stops
        if progress is not None:
            progress(total - remaining, total, "正在备份数据库……")

    # Steps: hold one read transaction over all of them, so each step reads the same snapshot.
    # Without it a commit by another connection between two steps restarts the copy, and a busy
    # writer could keep restarting it for ever.
    opened = not source.in_transaction
    if opened:
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
    try:
        source.backup(dest, pages=STEP_PAGES, progress=report, sleep=0.05)
    finally:
        if opened:
            source.rollback()
