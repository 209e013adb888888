"""The backups in a folder: complete generations and safety copies, the newest one's time, whether
the daily backup is due, and pruning to the newest generations.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from govshare_desktop.core.store.backup_io import _COMMIT, _STAMP, KEYS_SUFFIX, SQLITE_MAGIC, _local

GENERATIONS = 7
_GENERATION = re.compile(r"^govshare-(\d{8}-\d{6})(?:-(\d+))?\.db$")


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
