"""Restoring a backup: a safety copy of the database it replaces (damaged or not), the audit trail
carried over, and the verified copy swapped in under the writer lock.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import fsync_dir, private_copy
from govshare_desktop.core.store.audit_tables import carry_over
from govshare_desktop.core.store.backup_copy import _backup_into
from govshare_desktop.core.store.backup_io import (
    _BEFORE_RESTORE_PREFIX,
    _DISK_HINT,
    _RESTORE_TEMP_PREFIX,
    _SIDECARS,
    _STAMP,
    KEYS_SUFFIX,
    Connect,
    DamagedDatabase,
    _closing,
    _free_name,
    _fsync_file,
    _is_db_error,
    _local,
    _mkdir,
    _mkstemp,
    _open,
    _opened,
    _reason,
    _remove_temp,
    default_backup_dir,
)
from govshare_desktop.core.store.backup_verify import _check_rows, verify_backup
from govshare_desktop.core.store.location import writer

# -------------------------------------------------------------------------------------- restore


def restore(
    backup_path: str | os.PathLike[str],
    db_path: str | os.PathLike[str],
    *,
    connect: Connect | None = None,
    before: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
) -> Path | None:
    """Replace the database at ``db_path`` by the backup at ``backup_path``.

    The caller must first dispose its engine (``store.dispose()``) and every other connection to
    the database: the file is swapped underneath. Steps:

    1. :func:`verify_backup` (refused: nothing happens);
    2. a safety backup of the current database into ``before`` (default ``<db dir>/backups``),
       named ``govshare-before-restore-YYYYmmdd-HHMMSS.db``; made with the backup API and kept even
       if the current database is damaged (if SQLite cannot read it at all, its files are copied
       as they are, since nothing has it open);
    3. the backup is copied with the backup API into a temporary file beside the database, checked,
       fsynced; the old database's ``-wal``/``-shm``/``-journal`` files (checkpointed first) are
       moved aside and the copy is renamed over the database with ``os.replace``.

    The swap happens under the database's writer lock (the one this process holds, or taken
    here): while another process — the window, an import — holds it, the restore is refused and
    names it. On any failure the current database is left as it was. Returns the safety backup's
    path (None if there was no database at ``db_path``).
    """
    source = Path(backup_path).resolve()
    target = Path(db_path).resolve()
    if source == target:
        raise UserError(f"不能用数据库文件本身恢复它自己：{target}")
    verify_backup(source, connect=connect)

    # No other process may have the database open while it is swapped: an import running there
    # would go on writing into the replaced file and report rows that are then nowhere.
    with writer(target, purpose="从备份恢复"):
        return _swap_in(source, target, connect, before, now)


def _swap_in(
    source: Path,
    target: Path,
    connect: Connect | None,
    before: str | os.PathLike[str] | None,
    now: datetime | None,
) -> Path | None:
    safety: Path | None = None
    if target.exists():
        directory = Path(before) if before else default_backup_dir(target)
        stamp = _local(now or datetime.now()).strftime(_STAMP)
        safety = _safety_backup(target, directory, _BEFORE_RESTORE_PREFIX + stamp, connect)
    else:
        _mkdir(target.parent, "数据库")

    temp = _mkstemp(target.parent, _RESTORE_TEMP_PREFIX, "数据库")
    moved: list[tuple[Path, Path]] = []  # (aside, original) sidecars of the old database
    swapped = False
    try:
        with (
            _opened(source, connect, "备份文件", readonly=True) as src,
            _closing(_open(temp, connect)) as dst,
        ):
            src.backup(dst)
            _carry_audit_trail(target, dst, connect)
            problems = _check_rows(dst, full=True)
        if problems:
            raise UserError(
                f"从备份复制出的数据库未通过完整性检查，已放弃恢复：{source}。当前数据库没有改变。",
                detail="\n".join(problems[:10]),
            )
        _fsync_file(temp)
        # A stale -wal or -journal beside the new file would be applied to it: move them aside
        # (the safety backup has checkpointed the WAL), and back again if the swap fails.
        for suffix in _SIDECARS:
            sidecar = Path(f"{target}{suffix}")
            if sidecar.exists():
                aside = Path(f"{target}{suffix}.before-restore")
                os.replace(sidecar, aside)
                moved.append((aside, sidecar))
        os.replace(temp, target)
        swapped = True
    except UserError:
        raise
    except Exception as exc:
        if not (isinstance(exc, OSError) or _is_db_error(exc)):
            raise
        hint = (
            "（数据库仍被其他程序打开、磁盘空间不足或没有写权限？）"
            if isinstance(exc, OSError) or "full" in str(exc)
            else ""
        )
        raise UserError(f"恢复失败：{_reason(exc)}。当前数据库没有改变：{target}{hint}") from None
    finally:
        if not swapped:
            for aside, sidecar in reversed(moved):
                with contextlib.suppress(OSError):
                    os.replace(aside, sidecar)
        _remove_temp(temp)
    fsync_dir(target.parent)
    for aside, _ in moved:
        with contextlib.suppress(OSError):
            aside.unlink()
    return safety


def _carry_audit_trail(live_path: Path, restored: Any, connect: Connect | None) -> None:
    """The audit entries written since the backup, and the trail's writer key, go into the
    restored copy (:func:`govshare_desktop.core.store.audit_tables.carry_over`): restoring data
    does not erase the record of what happened. A live database that cannot be read gives nothing
    (the trail then starts a new run of keys, which ``audit verify`` reports)."""
    if not live_path.exists():
        return
    try:
        with _opened(live_path, connect, "数据库", readonly=True) as live:
            carry_over(live, restored)
    except UserError:
        return
    except Exception as exc:
        if not _is_db_error(exc):
            raise


def _safety_backup(db_path: Path, directory: Path, stem: str, connect: Connect | None) -> Path:
    """Back up the database about to be replaced, even if it is damaged; checkpoint its WAL."""
    with _opened(db_path, connect, "当前数据库") as live:
        try:
            result = _backup_into(
                live, directory, stem, connect=connect, progress=None, require_ok=False
            )
        except DamagedDatabase:
            return _copy_damaged(db_path, directory, stem)
        except UserError as exc:
            raise UserError(f"恢复前无法备份当前数据库，已放弃恢复。{exc.message}") from None
        try:
            busy = live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except Exception as exc:
            if not _is_db_error(exc):
                raise
            busy = None  # damaged: the safety copy has what there is
        if busy is not None and busy[0]:
            result.path.unlink(missing_ok=True)
            raise UserError(
                f"数据库正在被使用（另一个程序或窗口仍打开着它），不能恢复：{db_path}。"
                "请关闭其他 govshare-desktop 程序后再试。"
            )
        return result.path


def _copy_damaged(db_path: Path, directory: Path, stem: str) -> Path:
    """Byte copy of a database SQLite cannot read (nothing has it open: the caller disposed it),
    private to its owner; its key file and -wal first, so that the database never stands alone."""
    _mkdir(directory, "备份")
    final = _free_name(directory, stem)
    copied: list[Path] = []
    try:
        for suffix in (KEYS_SUFFIX, "-wal", ""):
            src = Path(f"{db_path}{suffix}")
            if src.exists():
                dst = Path(f"{final}{suffix}")
                copied.append(dst)
                private_copy(src, dst)
    except OSError as exc:
        for path in copied:
            path.unlink(missing_ok=True)
        raise UserError(
            f"恢复前无法备份当前数据库到 {directory}：{_reason(exc)}{_DISK_HINT}已放弃恢复。"
        ) from None
    fsync_dir(directory)
    return final
