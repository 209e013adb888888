"""Restoring a server backup (office mode, issue 18): the dump checked, a safety dump of the live
database, then the dump's rows in place of the live ones — in one transaction, as whichever
database user the program connects as.

What is checked (:func:`check_dump`) before anything changes: the dump's SHA-256 against its
manifest and against the audit trail's record of that backup (a manifest rewritten with the dump
does not pass); that it is a govshare dump of *this* township (the township code read from the
dump's own ``setting`` rows, not only from the manifest) at this program's schema revision; and
that the dump's audit trail is the beginning of the live one.

How: not ``pg_restore --clean``, which drops and recreates every table and so must connect as
their owner — the program on a PC connects as the application role, which owns nothing and may
not drop a table (:mod:`govshare_desktop.core.store.server_roles`). The schema is the same (same
revision, checked), so only rows change: on the program's own connection, in one transaction,
the tables are locked against writers (readers go on), emptied (DELETE, children first) and
filled with the ``COPY`` data that ``pg_restore --data-only`` reads out of the dump (referenced
tables first). Any failure rolls it all back: the database is as it was. Another PC holding a
lock for longer than :data:`LOCK_TIMEOUT` makes the restore fail rather than wait.

What is not restored — it stays live:

* the audit trail (``audit_log``, ``audit_state``): it only ever grows (its triggers refuse
  UPDATE, DELETE and TRUNCATE, and the application role may only INSERT), so the live trail holds
  the dump's and every entry since — restoring data does not erase the record of what happened
  (a file restore carries the live trail over for the same reason);
* ``key_vault``, the accounts' keys (a file restore keeps the live key file too: passwords
  changed since the backup stay changed);
* ``alembic_version`` (the same revision), the sequences (the live ones are ahead of the dump's,
  as sequences never go back: new rows get new numbers), extensions, functions, indexes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import file_sha256
from govshare_desktop.core.store.backup_copy import BackupResult
from govshare_desktop.core.store.backup_io import (
    _BEFORE_RESTORE_PREFIX,
    _STAMP,
    SQLITE_MAGIC,
    _is_db_error,
    _local,
)
from govshare_desktop.core.store.dump_sealing import DumpSealing
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.migrate import SCHEMA_HEAD
from govshare_desktop.core.store.models import Base
from govshare_desktop.core.store.server_backup import (
    _CLIENT_HINT,
    FORMAT,
    KEPT_TABLES,
    MANIFEST_SUFFIX,
    ToolFailed,
    _live_facts,
    _run,
    _tool,
    backup_server,
    tool_major,
)
from govshare_desktop.core.store.township import KEY_TOWNSHIP_CODE

LOCK_TIMEOUT = "30s"
REVISION_TABLE = "alembic_version"


@dataclass(frozen=True)
class CheckedDump:
    """A dump that :func:`check_dump` found fit to restore into the store's database."""

    path: Path
    manifest: dict[str, Any]
    township: str
    revision: str
    audit_head: tuple[int, str] | None  # the dump's last audit entry (seq, mac)


def check_dump(
    store: Store, path: str | os.PathLike[str], sealing: DumpSealing | None = None
) -> CheckedDump:
    """Check that ``path`` is an intact govshare dump of this township that this program can
    restore into the server database of ``store``; raise :class:`UserError` saying why not.
    ``sealing`` opens a sealed dump."""
    path = Path(path)
    manifest = _manifest(path)
    facts = _live_facts(store)
    if manifest.get("township") != facts["township"]:
        raise UserError(
            f"该备份属于另一个乡镇（街道）（区划代码 {manifest.get('township')}），"
            f"不是本数据库的乡镇（街道）{facts['township']}，不能恢复：{path}"
        )
    digest = file_sha256(path)
    if digest != manifest.get("sha256") or _recorded_elsewhere(store, path.name, digest):
        raise UserError(
            f"备份文件已被改动或已损坏（SHA-256 与备份时记录的不符），不能恢复：{path}",
            detail=f"记录的 SHA-256：{manifest.get('sha256')}\n文件的 SHA-256：{digest}",
        )
    tool = _tool("pg_restore")
    made_by = int(manifest.get("pg_dump") or 0)
    if tool_major(tool) < made_by:
        raise UserError(
            f"该备份由 PostgreSQL {made_by} 版的 pg_dump 生成，本机的 pg_restore（{tool}）"
            f"版本较旧，读不了它。{_CLIENT_HINT}"
        )
    with _opened(path, manifest, sealing) as readable:
        settings, revision, head = _read_dump(tool, readable)
    if settings.get(KEY_TOWNSHIP_CODE) != facts["township"]:
        raise UserError(
            f"备份文件中的乡镇（街道）（{settings.get(KEY_TOWNSHIP_CODE) or '无'}）与其说明文件"
            f"或本数据库（{facts['township']}）不符，不能恢复：{path}"
        )
    if revision != facts["revision"] or revision != SCHEMA_HEAD:
        raise UserError(
            f"该备份的数据库版本（{revision}）与服务器上的数据库（{facts['revision']}）不同，"
            f"本程序不能把它直接恢复到服务器上：{path}。可由系统管理员先用 govshare restore 备份文件 "
            "--open-to 文件 把它解开，再由服务器管理员用 pg_restore 把解开的文件恢复到一个新建的空"
            "数据库，然后用本程序连接那个数据库（程序会升级它）。"
        )
    if head is not None and not _in_live_trail(store, head):
        raise UserError(
            f"该备份的审计日志不是本数据库审计日志的前段（备份来自另一个数据库，"
            f"或本数据库是重新建立的），不能恢复：{path}"
        )
    return CheckedDump(path, manifest, facts["township"], revision, head)


def open_dump_to(
    store: Store, path: str | os.PathLike[str], target: Path, sealing: DumpSealing
) -> None:
    """The plaintext of this township's sealed dump ``path`` into the new file ``target``, for
    the server's administrator to restore by hand with pg_restore (a dump of another schema
    revision, see :func:`check_dump`): its manifest, township and SHA-256 are checked first."""
    path = Path(path)
    manifest = _manifest(path)
    township = _live_facts(store)["township"]
    if manifest.get("township") != township:
        raise UserError(
            f"该备份属于另一个乡镇（街道）（区划代码 {manifest.get('township')}），不能解开：{path}"
        )
    if file_sha256(path) != manifest.get("sha256"):
        raise UserError(f"备份文件已被改动或已损坏（SHA-256 与备份时记录的不符）：{path}")
    if not manifest.get("sealed"):
        raise UserError(f"这份备份没有加密，pg_restore 可以直接读取它：{path}")
    sealing.write_opened(path, manifest, target)


@contextlib.contextmanager
def _opened(path: Path, manifest: dict[str, Any], sealing: DumpSealing | None) -> Iterator[Path]:
    """The dump as pg_restore reads it: itself (in the clear), or opened by ``sealing``."""
    if not manifest.get("sealed"):
        yield path
        return
    if sealing is None:
        raise UserError(f"这份备份已加密，须由本乡镇（街道）的账户登录后恢复：{path}")
    with sealing.opened(path, manifest) as readable:
        yield readable


def _manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"找不到备份文件：{path}")
    with contextlib.suppress(OSError), path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
            raise UserError(
                f"这是本机数据库文件的备份（.db），不能恢复到服务器上的数据库：{path}。"
                "服务器上的数据库只能从它自己的备份（.dump）恢复。"
            )
    beside = Path(f"{path}{MANIFEST_SUFFIX}")
    try:
        manifest = json.loads(beside.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"找不到备份的说明文件 {beside.name}（它与备份同时生成，须放在同一文件夹），"
            f"无法核对备份，不能恢复：{path}"
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"备份的说明文件无法读取：{beside}（{exc}），不能恢复") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(f"该文件不是本程序生成的服务器数据库备份，不能恢复：{path}")
    return manifest


def _recorded_elsewhere(store: Store, name: str, digest: str) -> bool:
    """Whether the audit trail records a backup called ``name`` but never with this SHA-256
    (the manifest alone could have been rewritten with the dump)."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT detail FROM audit_log WHERE action = 'backup' AND object = :n"),
            {"n": name},
        ).scalars()
        recorded = [_sha256_of(str(detail)) for detail in rows]
    recorded = [value for value in recorded if value]
    return bool(recorded) and digest not in recorded


def _sha256_of(detail: str) -> str | None:
    try:
        value = json.loads(detail)
    except ValueError:
        return None
    return str(value.get("sha256")) if isinstance(value, dict) and value.get("sha256") else None


def _in_live_trail(store: Store, head: tuple[int, str]) -> bool:
    with store.engine.connect() as connection:
        mac = connection.execute(
            text("SELECT mac FROM audit_log WHERE seq = :s"), {"s": head[0]}
        ).scalar()
    return mac == head[1]


def _read_dump(tool: Path, path: Path) -> tuple[dict[str, str], str | None, tuple[int, str] | None]:
    """From the dump's own data: the settings, the schema revision and the last audit entry."""
    try:
        done = _run(
            [
                str(tool),
                "--data-only",
                "--table=setting",
                "--table=alembic_version",
                "--table=audit_log",
                "--file=-",
                str(path),
            ],
            what="pg_restore",
        )
    except ToolFailed as exc:
        raise UserError(
            f"该文件不是 pg_dump 生成的备份，或已损坏，不能恢复：{path}", detail=exc.said
        ) from None
    tables = _copy_rows(done.stdout.splitlines())
    settings = {row["key"]: row["value"] for row in tables.get("setting", [])}
    versions = [row["version_num"] for row in tables.get("alembic_version", [])]
    audit = [(int(row["seq"]), row["mac"]) for row in tables.get("audit_log", [])]
    return settings, versions[0] if versions else None, max(audit) if audit else None


_COPY = re.compile(r"^COPY (?:[\w\"]+\.)?\"?(\w+)\"? \((.*)\) FROM stdin;$")
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_rows(lines: list[str]) -> dict[str, list[dict[str, str]]]:
    """The rows of the ``COPY … FROM stdin`` blocks in pg_restore's SQL output, by table."""
    tables: dict[str, list[dict[str, str]]] = {}
    current: tuple[str, list[str]] | None = None
    for line in lines:
        if current is None:
            match = _COPY.match(line)
            if match:
                columns = [name.strip().strip('"') for name in match.group(2).split(",")]
                current = (match.group(1), columns)
                tables.setdefault(current[0], [])
            continue
        if line == "\\.":
            current = None
            continue
        values = [_unescape(value) for value in line.split("\t")]
        tables[current[0]].append(dict(zip(current[1], values, strict=False)))
    return tables


def _unescape(value: str) -> str:
    if value == "\\N":
        return ""

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 8))
        if match.group(2):
            return chr(int(match.group(2), 16))
        return _ESCAPES.get(match.group(3), match.group(3))

    return _ESCAPE.sub(one, value)


def restore_server(
    store: Store,
    backup_path: str | os.PathLike[str],
    *,
    before: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    checked: CheckedDump | None = None,
    sealing: DumpSealing | None = None,
) -> BackupResult:
    """Restore the dump at ``backup_path`` into the server database of ``store`` (see the module
    doc): checked (:func:`check_dump`, unless ``checked``), a safety dump of the live database
    into ``before`` (default: the folder of the dump restored), then the dump's rows in place of
    the live ones, in one transaction. Returns the safety dump. On any failure the database is
    as it was."""
    checked = checked or check_dump(store, backup_path, sealing)
    stamp = _local(now or datetime.now()).strftime(_STAMP)
    try:
        safety = backup_server(
            store,
            before or checked.path.parent,
            generations=None,
            now=now,
            stem=f"{_BEFORE_RESTORE_PREFIX}{stamp}",
            sealing=sealing,
        )
    except UserError as exc:
        raise UserError(f"恢复前无法备份当前数据库，已放弃恢复。{exc.message}") from None
    tool = _tool("pg_restore")
    with (
        _opened(checked.path, checked.manifest, sealing) as readable,
        tempfile.TemporaryDirectory(prefix="govshare-restore-") as work,
    ):
        toc = _run([str(tool), "--list", str(readable)], what="pg_restore").stdout
        entries = _data_entries(toc)
        order = _restore_order(entries, checked.path)
        listing = Path(work) / "restore.list"
        listing.write_text("".join(f"{entries[name]}\n" for name in order), encoding="utf-8")
        errors = Path(work) / "pg_restore.err"
        started = time.monotonic()
        try:
            _replace_rows(store, tool, readable, listing, errors, order)
        except ToolFailed as exc:
            raise UserError(_restore_failed(exc.said, time.monotonic() - started)) from None
        except Exception as exc:
            if not _is_db_error(exc):
                raise
            raise UserError(_restore_failed(str(exc), time.monotonic() - started)) from None
    return safety


_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ")


def _data_entries(toc: str) -> dict[str, str]:
    """The dump's TABLE DATA entries by table, but for the tables that stay live."""
    found = {}
    for line in toc.splitlines():
        match = _DATA.match(line)
        if match and match.group(2) not in (*KEPT_TABLES, REVISION_TABLE):
            found[match.group(2)] = line
    return found


def _restore_order(entries: dict[str, str], path: Path) -> list[str]:
    """The tables to restore, referenced ones first: the program's tables, all in the dump."""
    known = [table.name for table in Base.metadata.sorted_tables]
    wanted = [name for name in known if name not in (*KEPT_TABLES, REVISION_TABLE)]
    missing = [name for name in wanted if name not in entries]
    unknown = sorted(set(entries) - set(wanted))
    if missing or unknown:
        raise UserError(
            f"备份中的数据表与本程序的不符（缺少：{'、'.join(missing) or '无'}；"
            f"多出：{'、'.join(unknown) or '无'}），不能恢复：{path}"
        )
    return wanted


def _replace_rows(
    store: Store, tool: Path, path: Path, listing: Path, errors: Path, order: list[str]
) -> None:
    """In one transaction on the store's own connection: the tables locked against writers
    (readers go on), emptied children first, then filled from the dump's COPY data as
    ``pg_restore --data-only`` writes it, referenced tables first."""
    with errors.open("wb") as err:
        process = subprocess.Popen(
            [str(tool), "--data-only", f"--use-list={listing}", "--file=-", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    raw = store.engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            names = ", ".join(_ident(name) for name in order)
            cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            for name in reversed(order):
                cursor.execute(f"DELETE FROM {_ident(name)}")
            assert process.stdout is not None
            filled = _copy_in(cursor, process.stdout)
        if process.wait() != 0 or set(filled) != set(order):
            said = errors.read_text(encoding="utf-8", errors="replace").strip()
            raise ToolFailed("pg_restore", said or f"只读出了 {len(filled)} 张表的数据")
        raw.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            raw.rollback()
        raw.invalidate()  # perhaps left in the middle of a COPY: never back into the pool
        if process.poll() is None:
            process.kill()
        raise
    finally:
        if process.stdout is not None:
            process.stdout.close()
        process.wait()
        raw.close()


def _copy_in(cursor: Any, stream: IO[bytes]) -> list[str]:
    """Feed each ``COPY … FROM stdin`` block of pg_restore's output to the server as it comes;
    the tables filled."""
    filled: list[str] = []
    copy: Any = None
    block: Any = None
    for line in stream:
        if block is None:
            match = _COPY.match(line.decode("utf-8", "replace").rstrip("\n"))
            if match is not None:
                statement = line.decode("utf-8").rstrip().removesuffix(";")
                block = cursor.copy(statement.replace(" FROM stdin", " FROM STDIN"))
                copy = block.__enter__()
                filled.append(match.group(1))
            continue
        if line.rstrip(b"\r\n") == b"\\.":
            block.__exit__(None, None, None)
            block = copy = None
            continue
        copy.write(line)
    if block is not None:
        raise ToolFailed("pg_restore", "备份文件的数据不完整（被截断）")
    return filled


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _restore_failed(said: str, seconds: float) -> str:
    if "lock timeout" in said or "锁超时" in said:
        return (
            f"恢复失败：数据库正被其他电脑上的程序使用，等了 {seconds:.0f} 秒仍不能独占它。"
            "服务器上的数据库没有改变。请让其他人暂时退出本程序后再试。"
        )
    return f"恢复失败：{said.strip()}。服务器上的数据库没有改变（恢复在一个事务中进行）。"
