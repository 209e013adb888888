"""Checking a backup file before it is trusted: the SQLite header, ``quick_check`` or
``integrity_check``, the tables and schema revision it must have, and who may restore it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.store.backup_io import (
    REQUIRED_TABLES,
    SQLITE_MAGIC,
    Connect,
    _is_db_error,
    _opened,
    _store_connection,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.migrate import MIGRATIONS_DIR, SCHEMA_HEAD

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
    cancel: Cancel | None = None,
) -> list[str]:
    """Problems found by ``PRAGMA quick_check`` (``integrity_check`` and, for SQLCipher,
    ``cipher_integrity_check`` when ``full``); an empty list means the database is intact.

    ``quick_check`` is meant for every start-up, ``full=True`` for a weekly check. Once ``cancel``
    is set the check stops within milliseconds — SQLite's progress handler aborts the pragma —
    and :class:`~govshare_desktop.core.progress.Cancelled` is raised: a stopped check found
    nothing either way, and is never reported as damage.
    """
    try:
        if isinstance(store_or_path, Store):
            with _store_connection(store_or_path) as conn:
                return _check_rows(conn, full=full, cancel=cancel)
        with _opened(Path(store_or_path), connect, "数据库") as conn:
            return _check_rows(conn, full=full, cancel=cancel)
    except UserError:
        raise
    except Exception as exc:
        if not _is_db_error(exc):
            raise
        if cancel is not None and cancel.cancelled:
            raise Cancelled(CHECK_CANCELLED) from exc
        return [str(exc)]


CHECK_CANCELLED = "已停止数据库检查。"
PROGRESS_STEPS = 20_000  # SQLite virtual-machine steps between two looks at the cancel token


def _check_rows(conn: Any, *, full: bool, cancel: Cancel | None = None) -> list[str]:
    if cancel is None:
        return _pragma_rows(conn, full=full)
    # The handler interrupts the pragma (OperationalError: interrupted) once the token is set;
    # it is taken off again, the connection may go back to a pool.
    conn.set_progress_handler(lambda: int(cancel.cancelled), PROGRESS_STEPS)
    try:
        return _pragma_rows(conn, full=full)
    finally:
        conn.set_progress_handler(None, PROGRESS_STEPS)


def _pragma_rows(conn: Any, *, full: bool) -> list[str]:
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
