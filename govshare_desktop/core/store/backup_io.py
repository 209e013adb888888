"""What every backup step stands on: the names of backup and temporary files, connections opened
with the right module (``sqlite3`` or ``sqlcipher3``), database errors told apart from bugs,
private temporary files, fsync, and leftovers of interrupted backups removed.

How a backup is made is described in :mod:`govshare_desktop.core.store.backup`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import private_dir
from govshare_desktop.core.store.engine import Store

Connect = Callable[[str], Any]
"""Opens a database file and returns a DB-API connection (``sqlite3``/``sqlcipher3``), keyed if
the database is encrypted."""

CANCELLED = "已取消备份，没有生成备份文件。"

BACKUP_DIR = "backups"
STALE_TEMP_AGE = 3600.0  # seconds: temp files without a process id older than this are removed
KEYS_SUFFIX = ".keys"  # the key file beside a database or a backup (security/vault.py)
REQUIRED_TABLES = ("alembic_version", "person", "household", "setting")
SQLITE_MAGIC = b"SQLite format 3\x00"

_STAMP = "%Y%m%d-%H%M%S"
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


def default_backup_dir(db_path: str | os.PathLike[str]) -> Path:
    """``<directory of the database>/backups``."""
    return Path(db_path).parent / BACKUP_DIR


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


def _local(moment: datetime) -> datetime:
    """Naive local time (backup names are local time)."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment
