"""Backups of a township's database on a PostgreSQL server (office mode, issue 18), with the
server's own tools: ``pg_dump --format=custom`` to back up, ``pg_restore`` to restore.

A backup is made like a file backup (:mod:`govshare_desktop.core.store.backup`):

1. ``pg_dump`` writes the dump into a hidden temporary file in the backup folder (its process id in
   its name, so that a later backup removes it once that process is gone). ``audit_state`` — the
   audit trail's writer key — is left out (``--exclude-table-data``): as no file backup holds the
   writer key, nobody holding a dump can re-sign what was written after it;
2. fsync, SHA-256; a small manifest beside it (``<dump>.json``: format, township code, schema
   revision, server and pg_dump versions, size, SHA-256), written first under a temporary name;
3. ``os.replace`` of the manifest to ``govshare-YYYYmmdd-HHMMSS.dump.json`` and *then* of the
   dump to ``govshare-YYYYmmdd-HHMMSS.dump``, fsync of the folder: a dump never stands without
   its manifest (a dump without one is incomplete: not listed, removed by the next backup);
4. only the newest ``generations`` complete dumps are kept; ``govshare-before-restore-…``
   safety copies are never pruned.

A restore is :mod:`govshare_desktop.core.store.server_restore`'s.

The tools: ``pg_dump``/``pg_restore`` beside the program (the Windows bundle), on ``PATH``, else the
newest under ``/usr/lib/postgresql/*/bin`` (Debian) or ``C:\\Program Files\\PostgreSQL\\*\\bin``.
Their major version must be at least the server's. The password is never on a command line: libpq
reads it from its password file (``PGPASSFILE``, ``~/.pgpass``); a password written in the URL is
handed to the child process alone, in its ``PGPASSWORD``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import (
    file_sha256,
    fsync_dir,
    make_private,
    private_dir,
    private_write,
)
from govshare_desktop.core.progress import Cancel, Progress, check
from govshare_desktop.core.store.backup_copy import BackupResult
from govshare_desktop.core.store.backup_files import GENERATIONS, BackupFile
from govshare_desktop.core.store.backup_io import (
    _COMMIT,
    _DISK_HINT,
    _STAMP,
    _TEMP_PREFIX,
    CANCELLED,
    _fsync_file,
    _local,
    _mkdir,
    _mkstemp,
    _reason,
    _remove_stale_temps,
)
from govshare_desktop.core.store.dump_sealing import DumpSealing
from govshare_desktop.core.store.engine import Store, default_db_path
from govshare_desktop.core.store.township import KEY_TOWNSHIP_CODE

DUMP_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".json"  # the manifest beside a dump: <dump>.json
FORMAT = "govshare-server-backup"
SERVER_BACKUPS = "server-backups"  # under the per-user data folder
KEPT_TABLES = ("audit_log", "audit_state", "key_vault")  # never restored: they stay live
_GENERATION = re.compile(r"^govshare-(\d{8}-\d{6})(?:-(\d+))?\.dump$")
_SAFETY = re.compile(r"^govshare-before-restore-(\d{8}-\d{6})(?:-\d+)?\.dump$")
_VERSION = re.compile(r"\(PostgreSQL\)\s*(\d+)(?:\.(\d+))?")
_CLIENT_HINT = (
    "请安装 PostgreSQL 客户端工具（版本不低于服务器的）：Windows 上把 pg_dump.exe、pg_restore.exe "
    "及其 DLL 放在本程序所在文件夹，或安装 PostgreSQL 并把它的 bin 文件夹加入 PATH；"
    "统信 UOS、麒麟等 Linux 上安装 postgresql-client 软件包。"
)


# ------------------------------------------------------------------------------------ the tools


def find_tool(name: str) -> Path | None:
    """``pg_dump`` or ``pg_restore``: beside the program (Windows), on PATH, else the newest
    under the PostgreSQL installation folders; None if there is none."""
    exe = f"{name}.exe" if os.name == "nt" else name
    if os.name == "nt":
        here = Path(sys.executable).parent
        for candidate in (here / exe, here / "pgsql" / "bin" / exe):
            if candidate.is_file():
                return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    pattern = (
        os.path.join(os.environ.get("PROGRAMFILES", r"C:\Program Files"), "PostgreSQL", "*", "bin")
        if os.name == "nt"
        else "/usr/lib/postgresql/*/bin"
    )
    candidates = [Path(folder) / exe for folder in glob.glob(pattern)]
    candidates = [path for path in candidates if path.is_file()]
    if not candidates:
        return None
    return max(candidates, key=lambda path: _numbers(path.parent.parent.name))


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _tool(name: str) -> Path:
    found = find_tool(name)
    if found is None:
        raise UserError(f"未找到 {name}：{_CLIENT_HINT}")
    return found


def tool_major(tool: Path) -> int:
    """The major version of a PostgreSQL client tool (``pg_dump --version``)."""
    done = _run([str(tool), "--version"], what=tool.name)
    match = _VERSION.search(done.stdout)
    if match is None:
        raise UserError(f"无法识别 {tool} 的版本（{done.stdout.strip()}）。{_CLIENT_HINT}")
    return int(match.group(1))


def server_version(store: Store) -> tuple[int, str]:
    """The server's major version and its version as shown (``15.18``)."""
    with store.engine.connect() as connection:
        number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
        shown = str(connection.execute(text("SHOW server_version")).scalar_one()).split()[0]
    return number // 10000, shown


def _checked_tool(name: str, server_major: int, server_shown: str) -> Path:
    """The tool, if it is new enough for the server (pg_dump refuses an older client)."""
    tool = _tool(name)
    major = tool_major(tool)
    if major < server_major:
        raise UserError(
            f"本机的 {name}（{tool}）是 PostgreSQL {major} 版，数据库服务器是 {server_shown} 版："
            f"{name} 只能用于不比它新的服务器。请安装 PostgreSQL {server_major} 或更新版本的"
            f"客户端工具。{_CLIENT_HINT}"
        )
    return tool


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The connection string for the tools (the URL without its password and driver) and the
    environment of the child process (``PGPASSWORD`` when the URL holds a password)."""
    parsed = make_url(url)
    password = parsed.password
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return plain.render_as_string(hide_password=False), env


def _run(
    argv: Sequence[str],
    *,
    what: str,
    env: dict[str, str] | None = None,
    cancel: Cancel | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a tool; its failure is a :class:`UserError` with the tool's last lines. With
    ``cancel``, the tool is stopped once it is set (then :class:`Cancelled`)."""
    check(cancel, CANCELLED)
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except OSError as exc:
        raise UserError(f"无法运行 {what}（{argv[0]}）：{_reason(exc)}。{_CLIENT_HINT}") from None
    while True:
        try:
            out, err = process.communicate(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.cancelled:
                process.kill()
                process.communicate()
                cancel.check(CANCELLED)
    done = subprocess.CompletedProcess(list(argv), process.returncode, out, err)
    if done.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        raise ToolFailed(what, "\n".join(lines[-5:]) or f"退出码 {done.returncode}")
    return done


class DumpFailed(UserError):
    """pg_dump, writing to a pipe, ended with an error: ``said`` is what it wrote last."""

    def __init__(self, said: str) -> None:
        super().__init__(f"pg_dump 未能完成：{said}")
        self.said = said


class ToolFailed(UserError):
    """A PostgreSQL tool ended with an error: ``said`` is what it wrote last."""

    def __init__(self, what: str, said: str) -> None:
        super().__init__(f"{what} 未能完成：{said}")
        self.said = said


# --------------------------------------------------------------------------------------- backup


def default_server_backup_dir(url: str) -> Path:
    """This PC's folder for the backups of the server database ``url``:
    ``<per-user data folder>/server-backups/<host>_<port>_<database>``."""
    parsed = make_url(url)
    parts = [parsed.host or "local", str(parsed.port or 5432), parsed.database or "postgres"]
    name = "_".join(re.sub(r"[^0-9A-Za-z._-]+", "-", part) for part in parts)
    return default_db_path().parent / SERVER_BACKUPS / name


def backup_server(
    store: Store,
    directory: str | os.PathLike[str] | None = None,
    *,
    generations: int | None = GENERATIONS,
    now: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    stem: str | None = None,
    sealing: DumpSealing | None = None,
) -> BackupResult:
    """Dump the server database of ``store`` into ``directory`` (default:
    :func:`default_server_backup_dir`) as described in the module doc; keep the newest
    ``generations`` (None: all). ``stem``: another name (the safety copy before a restore).
    ``sealing``: how the dump is sealed as it is written (None: in the clear).
    Raises :class:`UserError` when the tool is missing or too old, the server refuses, or the
    folder cannot be written; no partial file is left behind."""
    if generations is not None and generations < 1:
        raise ValueError("generations must be at least 1 (or None to keep every backup)")
    if not store.server:
        raise ValueError("backup_server is for a server database; a file uses backup.backup")
    target_dir = Path(directory) if directory else private_dir(default_server_backup_dir(store.url))
    major, shown = server_version(store)
    tool = _checked_tool("pg_dump", major, shown)
    facts = _live_facts(store)
    head = _audit_head(store)  # before the dump: the dump holds at least this entry
    unreadable = _unreadable_sequences(store)
    stamp = _local(now or datetime.now()).strftime(_STAMP)
    _mkdir(target_dir, "备份")
    _remove_stale_temps(target_dir)
    temp = _mkstemp(target_dir, f"{_TEMP_PREFIX}{os.getpid()}-", "备份")
    temp_manifest = Path(f"{temp}{MANIFEST_SUFFIX}")
    if progress is not None:
        progress(0, 0, "正在用 pg_dump 备份服务器上的数据库……")
    try:
        try:
            sealed = _dump_into(store, tool, temp, ["audit_state", *unreadable], cancel, sealing)
            check(cancel, CANCELLED)  # asked to stop while it ran: no backup after all
            make_private(temp)
            _fsync_file(temp)
            size = temp.stat().st_size
            digest = file_sha256(temp)
            manifest = {
                "format": FORMAT,
                "version": 1,
                **facts,
                "server_version": shown,
                "sequence_values": not unreadable,
                "audit_head": head,
                "sealed": sealed,
                "pg_dump": tool_major(tool),
                "made_at": (now or datetime.now()).isoformat(timespec="seconds"),
                "size": size,
                "sha256": digest,
            }
            private_write(temp_manifest, json.dumps(manifest, ensure_ascii=False).encode())
            with _COMMIT:
                final = _free_name(target_dir, stem or f"govshare-{stamp}")
                os.replace(temp_manifest, f"{final}{MANIFEST_SUFFIX}")  # the manifest first
                os.replace(temp, final)
        except (ToolFailed, DumpFailed) as exc:
            raise UserError(
                f"备份服务器上的数据库失败：pg_dump 报告：{exc.said}。未生成备份文件。"
            ) from None
        except OSError as exc:
            raise UserError(
                f"无法在 {target_dir} 中创建备份：{_reason(exc)}{_DISK_HINT}未生成备份文件。"
            ) from None
    finally:
        temp.unlink(missing_ok=True)
        temp_manifest.unlink(missing_ok=True)
    fsync_dir(target_dir)
    if generations is not None:
        _prune(target_dir, keep=generations, newest=final)
    return BackupResult(path=final, size=size, sha256=digest, pages=0)


def _dump_into(
    store: Store,
    tool: Path,
    temp: Path,
    no_data: list[str],
    cancel: Cancel | None,
    sealing: DumpSealing | None,
) -> str | None:
    """pg_dump of the store's database into ``temp``, without the rows of ``no_data``: sealed
    by ``sealing`` as it is written — returns how, for the manifest — or in the clear (None)."""
    conninfo, env = libpq_target(store.url)
    argv = [
        str(tool),
        "--format=custom",
        "--no-password",
        *(f"--exclude-table-data={name}" for name in no_data),
        f"--dbname={conninfo}",
    ]
    if sealing is not None:
        sealing.dump(argv, env, temp, cancel)
        return sealing.name
    _run([*argv, f"--file={temp}"], what="pg_dump", env=env, cancel=cancel)
    return None


def _live_facts(store: Store) -> dict[str, str]:
    """What the manifest says the dump is of: the township, the schema revision, the database."""
    with store.engine.connect() as connection:
        code = connection.execute(
            text("SELECT value FROM setting WHERE key = :k"), {"k": KEY_TOWNSHIP_CODE}
        ).scalar()
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        database = connection.execute(text("SELECT current_database()")).scalar()
    if not code:
        raise UserError("服务器上的数据库还没有设置乡镇（街道），不能备份")
    return {"township": str(code), "revision": str(revision), "database": str(database)}


def _audit_head(store: Store) -> dict[str, object]:
    """The audit trail's last entry as the manifest keeps it: an anchor that ``audit verify``
    checks the server's trail against later (a cut or rewritten tail shows), as the head inside
    a file backup is. ``seq`` 0: the trail was empty."""
    with store.engine.connect() as connection:
        row = connection.execute(
            text("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
        ).first()
    return {"seq": int(row[0]), "mac": str(row[1])} if row else {"seq": 0, "mac": ""}


def server_backup_heads(
    directory: str | os.PathLike[str],
) -> Iterator[tuple[str, tuple[int, str] | None]]:
    """Each dump's audit head from its manifest, newest first: ``(name, (seq, mac))``, or
    ``(name, None)`` when the manifest cannot be read or predates the head (made before it was
    recorded)."""
    for item in server_backup_files(directory):
        try:
            manifest = json.loads(Path(f"{item.path}{MANIFEST_SUFFIX}").read_text("utf-8"))
            head = manifest["audit_head"]
            yield item.path.name, (int(head["seq"]), str(head["mac"]))
        except (OSError, ValueError, KeyError, TypeError):
            yield item.path.name, None


def _unreadable_sequences(store: Store) -> list[str]:
    """The sequences whose values the connected user may not read (the application role may
    only use them): their values are left out of the dump. A restore by the program does not need
    them (the live sequences are ahead); one by hand into an empty database would have to set
    them (README)."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege(oid, 'SELECT')"
                " ELSE false END ORDER BY 1"
            )
        ).scalars()
        return [str(name) for name in rows]


def _free_name(directory: Path, stem: str) -> Path:
    candidate = directory / f"{stem}{DUMP_SUFFIX}"
    counter = 2
    while candidate.exists() or Path(f"{candidate}{MANIFEST_SUFFIX}").exists():
        candidate = directory / f"{stem}-{counter}{DUMP_SUFFIX}"
        counter += 1
    return candidate


# ------------------------------------------------------------------------------ the backups held


def _dated(directory: Path, pattern: re.Pattern[str]) -> Iterator[tuple[datetime, Path, int]]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not entry.is_file():
            continue
        with contextlib.suppress(ValueError):
            number = int(match.group(2) or 1) if pattern is _GENERATION else 1
            yield datetime.strptime(match.group(1), _STAMP), Path(entry.path), number


def _complete(path: Path) -> bool:
    return Path(f"{path}{MANIFEST_SUFFIX}").is_file()


def list_server_backups(directory: str | os.PathLike[str]) -> list[tuple[datetime, Path]]:
    """The complete dumps made by :func:`backup_server` in ``directory``, newest first."""
    found = [item for item in _dated(Path(directory), _GENERATION) if _complete(item[1])]
    found.sort(key=lambda item: (item[0], item[2]), reverse=True)
    return [(when, path) for when, path, _ in found]


def server_backup_files(directory: str | os.PathLike[str]) -> list[BackupFile]:
    """Every dump in ``directory`` a restore could start from, newest first: the generations and
    the safety copies taken before a restore (as :func:`backup_files` for a file)."""
    found = [
        BackupFile(when, "备份", path, _size(path)) for when, path in list_server_backups(directory)
    ]
    found += [
        BackupFile(when, "恢复前", path, _size(path))
        for when, path, _ in _dated(Path(directory), _SAFETY)
        if _complete(path)
    ]
    found.sort(key=lambda item: item.when, reverse=True)
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _prune(directory: Path, *, keep: int, newest: Path) -> None:
    """Keep the newest ``keep`` complete dumps; remove older ones, dumps without a manifest and
    manifests whose dump is gone."""
    with _COMMIT:
        others = [path for _, path in list_server_backups(directory) if path != newest]
        doomed = others[keep - 1 :]
        doomed += [
            path
            for _, path, _ in _dated(directory, _GENERATION)
            if path != newest and not _complete(path)
        ]
        for path in doomed:
            with contextlib.suppress(OSError):
                Path(f"{path}{MANIFEST_SUFFIX}").unlink(missing_ok=True)  # no longer complete
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            for entry in os.scandir(directory):
                name = entry.name.removesuffix(MANIFEST_SUFFIX)
                orphan = name != entry.name and _GENERATION.match(name)
                if orphan and not (directory / name).exists():
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
