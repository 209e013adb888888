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

import contextlib
import hashlib
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.killpoints import reached
from govshare_desktop.core.private_files import fsync_dir, private_copy, private_dir
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.store.audit_tables import carry_over, seal_copy
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.location import writer
from govshare_desktop.core.store.migrate import MIGRATIONS_DIR, SCHEMA_HEAD

Connect = Callable[[str], Any]
"""Opens a database file and returns a DB-API connection (``sqlite3``/``sqlcipher3``), keyed if
the database is encrypted."""

CANCELLED = "已取消备份，没有生成备份文件。"

BACKUP_DIR = "backups"
GENERATIONS = 7
STEP_PAGES = 1024  # pages per backup step when progress is reported (4 MiB with 4 KiB pages)
STALE_TEMP_AGE = 3600.0  # seconds: temp files without a process id older than this are removed
KEYS_SUFFIX = ".keys"  # the key file beside a database or a backup (security/vault.py)
REQUIRED_TABLES = ("alembic_version", "person", "household", "setting")
SQLITE_MAGIC = b"SQLite format 3\x00"

_STAMP = "%Y%m%d-%H%M%S"
_GENERATION = re.compile(r"^govshare-(\d{8}-\d{6})(?:-(\d+))?\.db$")
_BEFORE_RESTORE_PREFIX = "govshare-before-restore-"
_BEFORE_UPGRADE_PREFIX = "govshare-before-upgrade-"
_TEMP_PREFIX = ".govshare-backup-"
_RESTORE_TEMP_PREFIX = ".govshare-restore-"
_TEMP_SUFFIX = ".tmp"
_TEMP_PID = re.compile(r"^\.govshare-backup-(\d+)-")
_COMMIT = threading.Lock()  # one commit (renames and pruning) at a time in this process
_SIDECARS = ("-wal", "-shm", "-journal")
_DISK_HINT = "（磁盘空间不足、目录不存在或没有写权限？）"
_DAMAGED = re.compile(r"not a database|malformed|corrupt|encrypted", re.IGNORECASE)


class DamagedDatabase(UserError):
    """The database being backed up cannot be read by SQLite (or the key is wrong)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes
    sha256: str  # hex digest of the backup file
    pages: int  # database pages copied


def default_backup_dir(db_path: str | os.PathLike[str]) -> Path:
    """``<directory of the database>/backups``."""
    return Path(db_path).parent / BACKUP_DIR


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


def list_backups(directory: str | os.PathLike[str]) -> list[tuple[datetime, Path]]:
    """The backups made by :func:`backup` in ``directory``, newest first (by the time in the name)."""
    found = [
        item for item in _dated_files(directory, _GENERATION, stamp_group=1) if _complete(item[2])
    ]
    found.sort(key=lambda item: (item[0], int(item[1].group(2) or 1)), reverse=True)
    return [(when, path) for when, _, path in found]


@dataclass(frozen=True)
class BackupFile:
    when: datetime  # local time, from the name
    kind: str  # 备份 (daily or by hand), 升级前 (before a migration), 恢复前 (before a restore)
    path: Path
    size: int


_SAFETY_COPY = re.compile(
    r"^govshare-before-(upgrade-[0-9a-z_]+|restore)-(\d{8}-\d{6})(?:-\d+)?\.db$"
)


def backup_files(directory: str | os.PathLike[str]) -> list[BackupFile]:
    """Every backup in ``directory`` a restore could start from, newest first: the generations
    and the safety copies taken before an upgrade or a restore."""
    found = [BackupFile(when, "备份", path, _size(path)) for when, path in list_backups(directory)]
    for when, match, path in _dated_files(directory, _SAFETY_COPY, stamp_group=2):
        if not _complete(path):
            continue
        kind = "恢复前" if match.group(1) == "restore" else "升级前"
        found.append(BackupFile(when, kind, path, _size(path)))
    found.sort(key=lambda item: item.when, reverse=True)
    return found


def _dated_files(
    directory: str | os.PathLike[str], pattern: re.Pattern[str], *, stamp_group: int
) -> list[tuple[datetime, re.Match[str], Path]]:
    """The files in ``directory`` whose names match ``pattern``, with the time in their name."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    found = []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not entry.is_file():
            continue
        try:
            when = datetime.strptime(match.group(stamp_group), _STAMP)
        except ValueError:
            continue
        found.append((when, match, Path(entry.path)))
    return found


def _complete(path: Path) -> bool:
    """A backup is complete when it is plain SQLite or has its key file beside it: an encrypted
    backup whose key file is missing was left by an interrupted backup."""
    if Path(f"{path}{KEYS_SUFFIX}").is_file():
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def last_backup_time(directory: str | os.PathLike[str]) -> datetime | None:
    """When the newest backup in ``directory`` was made (local time, from its name), or None."""
    backups = list_backups(directory)
    return backups[0][0] if backups else None


def backup_due(
    directory: str | os.PathLike[str], now: datetime, every: timedelta = timedelta(days=1)
) -> bool:
    """True if there is no backup yet, the newest is at least ``every`` old, or it lies in the
    future (the clock was wrong or has been put back)."""
    last = last_backup_time(directory)
    if last is None:
        return True
    current = _local(now)
    return current - last >= every or last > current + timedelta(minutes=5)


# --------------------------------------------------------------------------------------- checks


def verify_backup(path: str | os.PathLike[str], *, connect: Connect | None = None) -> None:
    """Check that ``path`` is an intact govshare database this program can open.

    ``connect`` opens encrypted files (with the key). Raises :class:`UserError` saying what is
    wrong: missing, empty, not a database (or wrong key), truncated, damaged, not a govshare
    database, or written by a newer program.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到备份文件：{path}")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"备份文件是空的：{path}")
    if connect is None:
        _check_plain_header(path, size)
    try:
        with _opened(path, connect, "备份文件", readonly=True) as conn:
            problems = _check_rows(conn, full=True)
            if problems:
                raise UserError(
                    f"备份文件已损坏，不能使用：{path}", detail="\n".join(problems[:10])
                )
            tables = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            missing = [name for name in REQUIRED_TABLES if name not in tables]
            if missing:
                raise UserError(
                    f"该文件是数据库，但不是 govshare 数据库（缺少表：{'、'.join(missing)}）：{path}"
                )
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except UserError:
        raise
    except Exception as exc:
        if not _is_db_error(exc):
            raise
        raise _unreadable(path, exc, encrypted=connect is not None) from None
    if row is None or not row[0]:
        raise UserError(f"备份文件缺少数据库版本信息，不是完整的 govshare 数据库：{path}")
    if not _known_revision(str(row[0])):
        raise UserError(
            f"该备份由更新版本的程序创建（数据库版本 {row[0]}），当前程序无法使用它：{path}。"
            "请安装最新版本的 govshare-desktop。"
        )


def account_role(
    path: str | os.PathLike[str], username: str, *, connect: Connect | None = None
) -> str | None:
    """The role of an active account ``username`` in the (verified) backup at ``path``, or None."""
    with _opened(Path(path), connect, "备份文件", readonly=True) as conn:
        try:
            row = conn.execute(
                "SELECT role, disabled FROM account WHERE username = ?", (username,)
            ).fetchone()
        except Exception as exc:
            if not _is_db_error(exc):
                raise
            return None  # a backup from before accounts existed
    return None if row is None or row[1] else str(row[0])


def quick_check(
    store_or_path: Store | str | os.PathLike[str],
    *,
    full: bool = False,
    connect: Connect | None = None,
) -> list[str]:
    """Problems found by ``PRAGMA quick_check`` (``integrity_check`` and, for SQLCipher,
    ``cipher_integrity_check`` when ``full``); an empty list means the database is intact.

    ``quick_check`` is meant for every start-up, ``full=True`` for a weekly check.
    """
    try:
        if isinstance(store_or_path, Store):
            with _store_connection(store_or_path) as conn:
                return _check_rows(conn, full=full)
        with _opened(Path(store_or_path), connect, "数据库") as conn:
            return _check_rows(conn, full=full)
    except UserError:
        raise
    except Exception as exc:
        if not _is_db_error(exc):
            raise
        return [str(exc)]


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
    _fsync_dir(target.parent)
    for aside, _ in moved:
        with contextlib.suppress(OSError):
            aside.unlink()
    return safety


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
    module = _module_of(source)
    opener = connect
    if opener is None:
        if module is not sqlite3:
            raise ValueError(
                f"{module.__name__} connections need a connect callable that applies the key"
            )
        opener = sqlite3.connect
    _mkdir(directory, "备份")
    _remove_stale_temps(directory)
    temp = _mkstemp(directory, f"{_TEMP_PREFIX}{os.getpid()}-", "备份")
    temp_keys = Path(f"{temp}{KEYS_SUFFIX}")
    try:
        try:
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
            digest = _sha256(temp)
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
    _fsync_dir(directory)
    return final


def _prune(directory: Path, *, keep: int, newest: Path) -> None:
    """Keep the newest ``keep`` complete backups; remove older ones, incomplete ones (an
    encrypted database without its key file) and key files whose database is gone."""
    with _COMMIT:
        others = [path for _, path in list_backups(directory) if path != newest]
        doomed = others[keep - 1 :]
        doomed += [
            path
            for _, _, path in _dated_files(directory, _GENERATION, stamp_group=1)
            if path != newest and not _complete(path)
        ]
        for path in doomed:
            with contextlib.suppress(OSError):
                path.unlink()
            with contextlib.suppress(OSError):
                Path(f"{path}{KEYS_SUFFIX}").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            for entry in os.scandir(directory):
                name = entry.name.removesuffix(KEYS_SUFFIX)
                if (
                    name != entry.name
                    and _GENERATION.match(name)
                    and not (directory / name).exists()
                ):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _check_rows(conn: Any, *, full: bool) -> list[str]:
    pragma = "integrity_check" if full else "quick_check"
    rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}").fetchall()]
    problems = [] if rows == ["ok"] else rows
    if full:  # SQLCipher: HMAC of every page; plain SQLite ignores the unknown pragma
        problems += [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
    return problems


def _check_plain_header(path: Path, size: int) -> None:
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise UserError(f"该文件不是 SQLite 数据库（也可能是加密的数据库或已严重损坏）：{path}")
    if len(header) < 100:
        raise UserError(f"备份文件不完整（被截断）：{path}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    if counter_valid and pages and size < pages * page_size:
        raise UserError(
            f"备份文件不完整（被截断）：{path}，应有 {pages * page_size} 字节，实际只有 {size} 字节。"
        )


def _unreadable(path: Path, exc: BaseException, *, encrypted: bool) -> UserError:
    text = str(exc)
    if "not a database" in text or "encrypted" in text.lower():
        if encrypted:
            return UserError(f"无法打开备份文件：密钥不正确，或者它不是本程序的数据库：{path}")
        return UserError(f"该文件不是 SQLite 数据库（也可能是加密的数据库）：{path}")
    if "malformed" in text or "corrupt" in text:
        return UserError(f"备份文件已损坏，不能使用：{path}", detail=text)
    return UserError(f"无法读取备份文件：{path}（{text}）")


def _known_revision(revision: str) -> bool:
    if revision == SCHEMA_HEAD:
        return True
    from alembic.config import Config  # heavy: alembic, only for a revision not ours
    from alembic.script import ScriptDirectory  # heavy: alembic, only for a revision not ours

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        ScriptDirectory.from_config(config).get_revision(revision)
    except Exception:  # alembic raises several types for an unknown revision
        return False
    return True


@contextlib.contextmanager
def _store_connection(store: Store) -> Iterator[Any]:
    """The DB-API connection under one pooled connection of the store's engine."""
    raw = store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        if conn is None or not hasattr(conn, "backup"):
            raise UserError(f"只能备份 SQLite 数据库文件，当前数据库是 {store.engine.url!r}。")
        yield conn
    finally:
        raw.close()


@contextlib.contextmanager
def _opened(
    path: Path, connect: Connect | None, what: str, *, readonly: bool = False
) -> Iterator[Any]:
    try:
        if connect is not None:
            conn = connect(str(path))
        elif readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        else:
            conn = sqlite3.connect(str(path))
    except Exception as exc:
        if not _is_db_error(exc):
            raise
        raise UserError(f"无法打开{what}：{path}（{exc}）") from None
    with _closing(conn):
        yield conn


def _open(path: Path, connect: Connect | None) -> Any:
    return (connect or sqlite3.connect)(str(path))


@contextlib.contextmanager
def _closing(conn: Any) -> Iterator[Any]:
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _module_of(conn: Any) -> ModuleType:
    name = type(conn).__module__
    module = sys.modules.get(name)
    if module is None or not hasattr(module, "Error"):
        raise TypeError(f"not a DB-API connection: {type(conn)!r}")
    return module


def _is_db_error(exc: BaseException) -> bool:
    """A DB-API error from sqlite3, sqlcipher3 or any other driver module."""
    if isinstance(exc, sqlite3.Error):
        return True
    module = sys.modules.get(type(exc).__module__)
    error = getattr(module, "Error", None)
    return isinstance(error, type) and isinstance(exc, error)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    if "full" in text:
        return "磁盘空间不足（database or disk is full）"
    return text or type(exc).__name__


def _mkdir(directory: Path, what: str) -> None:
    try:
        if directory.exists():
            return
        private_dir(directory)
    except OSError as exc:
        raise UserError(
            f"无法创建{what}目录 {directory}：{_reason(exc)}{_DISK_HINT}未生成{what}文件。"
        ) from None


def _mkstemp(directory: Path, prefix: str, what: str) -> Path:
    try:
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=_TEMP_SUFFIX, dir=directory)
    except OSError as exc:
        raise UserError(
            f"无法在 {directory} 中写入{what}文件：{_reason(exc)}{_DISK_HINT}未生成{what}文件。"
        ) from None
    os.close(handle)
    return Path(name)


def _free_name(directory: Path, stem: str) -> Path:
    candidate = directory / f"{stem}.db"
    counter = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{counter}.db"
        counter += 1
    return candidate


def _remove_temp(path: Path) -> None:
    for suffix in ("", *_SIDECARS):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _remove_stale_temps(directory: Path) -> None:
    """Temp files (and their key files and journals) left by a backup whose process died: its
    process id is in their name. Names without one (earlier versions) go once an hour old."""
    limit = time.time() - STALE_TEMP_AGE
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if not entry.name.startswith(_TEMP_PREFIX):
                continue
            owner = _TEMP_PID.match(entry.name)
            if owner is not None:
                stale = not _process_alive(int(owner.group(1)))
            else:
                stale = entry.stat().st_mtime < limit
            if stale:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        import ctypes  # platform: Windows only

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and (
                code.value == 259  # STILL_ACTIVE
            )
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync; NTFS journals the rename
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local(moment: datetime) -> datetime:
    """Naive local time (backup names are local time)."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment
