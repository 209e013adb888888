"""Where the database may live, and the one-writer rule (security.md R3, R4).

SQLite's locking, and WAL's shared memory in particular, work only on a local disk used by one
host: a database on a network share (UNC path, mapped network drive, NFS/CIFS/SSHFS mount…) can be
corrupted, so :func:`check_local` refuses it. Cloud-sync folders (OneDrive, 坚果云, 百度网盘,
Dropbox…) are local disks whose files a sync client may copy or replace while the program writes:
:func:`sync_folder_warning` returns a warning to show, not a refusal.

:func:`acquire_writer_lock` makes sure that only one process writes a database at a time — the
window, every ``govshare`` command (signing in writes the audit trail), a backup and a restore:
an exclusive OS lock on ``<db>.lock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows).
A second writer waits a little (``wait``) and then stops, naming who holds the lock and what it is
doing (the lock file says: process, login, computer, account, purpose, since when). The operating
system drops the lock when the process ends, however it ends, so a lock file left behind by a
crashed or killed program never blocks the next start. :func:`writer` is for code that must hold
the lock (a restore): it uses the lock this process already holds, or takes it.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import ntpath
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType

from govshare_desktop.core.errors import UserError

_IS_WINDOWS = os.name == "nt"

# GetDriveTypeW results
DRIVE_UNKNOWN = 0
DRIVE_NO_ROOT_DIR = 1
DRIVE_REMOVABLE = 2
DRIVE_FIXED = 3
DRIVE_REMOTE = 4
DRIVE_CDROM = 5
DRIVE_RAMDISK = 6

# Linux file-system types that live on another host (``fuse.`` prefixes are stripped first).
NETWORK_FS_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "smbnetfs",
        "ncp",
        "ncpfs",
        "sshfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "orangefs",
        "ocfs2",
        "gfs2",
        "coda",
        "davfs",
        "davfs2",
        "webdav",
        "curlftpfs",
        "rclone",
        "s3fs",
        "gcsfuse",
        "juicefs",
        "moosefs",
        "mfs",
        "gvfsd-fuse",
        "afpfs",
        "vboxsf",
        "vmhgfs",
    }
)

# Path components of folders that a cloud-sync client watches, with the service's name.
_SYNC_FOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^onedrive\b", re.IGNORECASE), "OneDrive"),
    (re.compile(r"^dropbox( \(.*\))?$", re.IGNORECASE), "Dropbox"),
    (re.compile(r"坚果云|^nutstore", re.IGNORECASE), "坚果云（Nutstore）"),
    (re.compile(r"百度网盘|^baidunetdisk|^baidusyncdisk", re.IGNORECASE), "百度网盘"),
    (re.compile(r"^icloud ?drive$|^mobile documents$", re.IGNORECASE), "iCloud Drive"),
    (re.compile(r"^google ?drive$|^my drive$|^我的云端硬盘$", re.IGNORECASE), "Google Drive"),
    (re.compile(r"^wps ?(云盘|cloud|drive)|^wps网盘", re.IGNORECASE), "WPS 云盘"),
    (re.compile(r"^(nextcloud|owncloud|seafile)$", re.IGNORECASE), "同步盘"),
)


class UnsafeLocationError(UserError):
    """The database is on a network share."""


class AlreadyRunning(UserError):
    """Another process holds the writer lock of this database."""

    def __init__(self, message: str, *, lock_path: Path, owner: LockOwner | None) -> None:
        super().__init__(message)
        self.lock_path = lock_path
        self.owner = owner


# ------------------------------------------------------------------------------------ location


def check_local(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UnsafeLocationError` if the database ``path`` is on a network share.

    Refused: UNC paths (``\\\\server\\share\\…``, ``//server/share/…``); on Windows, drives whose
    ``GetDriveTypeW`` is ``DRIVE_REMOTE`` (mapped network drives); on Linux, paths whose mount (the
    longest matching mount point in ``/proc/mounts``) has a network file-system type.
    """
    text = os.fspath(path)
    if _is_unc(text):
        raise _unsafe(text, "网络共享路径（UNC）")
    if _IS_WINDOWS:
        _check_windows(text)
    else:
        _check_posix(text)


def sync_folder_warning(path: str | os.PathLike[str]) -> str | None:
    """A Chinese warning if ``path`` lies inside a cloud-sync folder, else None."""
    text = os.fspath(path)
    for part in re.split(r"[\\/]+", text)[:-1]:
        for pattern, service in _SYNC_FOLDERS:
            if pattern.search(part.strip()):
                return (
                    f"数据库位于 {service} 同步文件夹中：{text}。同步软件可能在程序写入时复制或覆盖"
                    "数据库文件，导致数据损坏或丢失，还会把个人信息上传到网盘。"
                    "建议把数据库移到本机不同步的目录（例如默认位置）。"
                )
    return None


# ------------------------------------------------------------------ disk encryption (R11)


def volume_encrypted(path: str | os.PathLike[str]) -> bool | None:
    """Whether the volume holding ``path`` is encrypted by the operating system (BitLocker;
    LUKS/dm-crypt), or None when that cannot be told (no BitLocker on Windows Home, an overlay or
    network file system…).

    Defence in depth only (security.md R11): SQLCipher encrypts the database either way, but an
    unencrypted disk also leaves the logs, temp files and exports readable on a stolen PC. The
    program says so at setup and in ``govshare info``; it never refuses."""
    target = Path(path)
    while not target.exists() and target != target.parent:
        target = target.parent
    if _IS_WINDOWS:
        drive = ntpath.splitdrive(str(target.resolve()))[0]
        return _bitlocker_protection(drive) if drive else None
    if sys.platform.startswith("linux"):
        return _dm_crypt(os.stat(target).st_dev)
    return None


DISK_ENCRYPTION_ADVICE = (
    "建议开启磁盘加密（Windows：BitLocker；统信UOS/银河麒麟：全盘加密），"
    "作为数据库加密之外的第二道防线"
)


def disk_encryption_text(path: str | os.PathLike[str]) -> str:
    """``volume_encrypted`` for people: 已启用 / 未启用（advice） / 无法判断."""
    state = volume_encrypted(path)
    if state is None:
        return "无法判断"
    return "已启用" if state else f"未启用（{DISK_ENCRYPTION_ADVICE}）"


# System.Volume.BitLockerProtection, readable without administrator rights (manage-bde is not):
# 1 on, 2 off, 3 encrypting, 4 decrypting, 5 suspended, 6 on and locked; empty: no BitLocker.
_BITLOCKER_ON = {"1": True, "3": True, "6": True, "2": False, "4": False, "5": False}


def _bitlocker_protection(drive: str) -> bool | None:
    script = (
        f"(New-Object -ComObject Shell.Application).NameSpace('{drive}\\')"
        ".Self.ExtendedProperty('System.Volume.BitLockerProtection')"
    )
    try:
        out = _run_powershell(script)
    except (OSError, subprocess.SubprocessError):
        return None
    return _BITLOCKER_ON.get(out.strip())


def _run_powershell(script: str) -> str:
    """PowerShell's output for ``script`` (tests replace this function)."""
    done = subprocess.run(
        ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script],
        capture_output=True,
        text=True,
        timeout=15,
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
    )
    return done.stdout


def _dm_crypt(device: int, sysfs: Path = Path("/sys")) -> bool | None:
    """Is the block device (or anything under it: LVM on LUKS…) a dm-crypt mapping?"""
    node = sysfs / "dev" / "block" / f"{os.major(device)}:{os.minor(device)}"
    if not node.exists():  # not a block device: overlay, tmpfs, a btrfs subvolume's anonymous id
        return None

    def crypt(node: Path, depth: int) -> bool:
        uuid = node / "dm" / "uuid"
        with contextlib.suppress(OSError):
            if uuid.read_text().startswith("CRYPT-"):
                return True
        below = node / "slaves"
        if depth > 8 or not below.is_dir():
            return False
        return any(crypt(child.resolve(), depth + 1) for child in below.iterdir())

    return crypt(node.resolve(), 0)


def _unsafe(text: str, kind: str) -> UnsafeLocationError:
    return UnsafeLocationError(
        f"数据库不能放在网络共享上：{text}（{kind}）。SQLite 在网络文件系统上无法可靠地加锁，"
        "多台电脑或断网时可能损坏数据。请把数据库放在本机磁盘上，再用「备份」把副本保存到共享目录。"
    )


def _is_unc(text: str) -> bool:
    if text[:8].upper() in ("\\\\?\\UNC\\", "\\\\.\\UNC\\"):
        return True
    if text.startswith(("\\\\?\\", "\\\\.\\")):  # extended-length local path: \\?\C:\...
        return False
    return len(text) > 2 and text[:2] in ("\\\\", "//", "\\/", "/\\") and text[2] not in "\\/"


def _check_windows(text: str) -> None:
    full = text
    if _IS_WINDOWS and sys.platform == "win32":
        with contextlib.suppress(OSError, ValueError):
            full = os.path.realpath(text)  # a mapped drive or a link may resolve to a UNC path
        if _is_unc(full):
            raise _unsafe(text, f"网络共享路径 {full}")
    if full.startswith(("\\\\?\\", "\\\\.\\")):
        full = full[4:]
    drive, _ = ntpath.splitdrive(full)
    if len(drive) == 2 and drive[1] == ":" and _drive_type(drive + "\\") == DRIVE_REMOTE:
        raise _unsafe(text, f"{drive.upper()} 是映射的网络驱动器")


def _drive_type(root: str) -> int:
    """``GetDriveTypeW(root)`` (``root`` like ``Z:\\``); tests replace this function."""
    if sys.platform != "win32":
        return DRIVE_UNKNOWN
    import ctypes  # platform: Windows only

    return int(ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))


def _check_posix(text: str) -> None:
    try:
        full = os.path.realpath(os.path.expanduser(text))
    except (OSError, ValueError):
        return
    mount = _mount_of(full, _read_mounts())
    if mount is None:
        return
    point, fstype = mount
    base = fstype.lower()
    base = base[len("fuse.") :] if base.startswith("fuse.") else base
    if base in NETWORK_FS_TYPES:
        raise _unsafe(text, f"{point} 是网络文件系统 {fstype}")


def _mount_of(path: str, mounts: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The (mount point, fs type) with the longest mount point containing ``path``."""
    best: tuple[str, str] | None = None
    for point, fstype in mounts:
        prefix = point.rstrip("/")
        inside = path in (point, prefix) or path.startswith(prefix + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fstype)
    return best


def _read_mounts() -> list[tuple[str, str]]:
    """(mount point, fs type) of every mount, from ``/proc/self/mounts``; empty elsewhere."""
    for name in ("/proc/self/mounts", "/proc/mounts"):
        try:
            with open(name, encoding="utf-8", errors="surrogateescape") as fh:
                return parse_mounts(fh.read())
        except OSError:
            continue
    return []


def parse_mounts(text: str) -> list[tuple[str, str]]:
    """Parse ``/proc/mounts`` lines (octal escapes such as ``\\040`` for a space decoded)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
            mounts.append((point, fields[2]))
    return mounts


# --------------------------------------------------------------------------------- writer lock


@dataclass(frozen=True)
class LockOwner:
    pid: int
    user: str  # the operating-system login
    host: str
    since: str  # ISO time, local
    account: str = ""  # the signed-in account, once known
    purpose: str = ""  # what the holder is doing: 「窗口」, 「govshare import」…

    def describe(self) -> str:
        since = self.since.replace("T", " ")[:16]
        parts = [f"进程 {self.pid}", f"用户 {self.user}", f"计算机 {self.host}"]
        if self.account:
            parts.append(f"账户 {self.account}")
        if self.purpose:
            parts.append(f"正在{self.purpose}")
        return "，".join(parts) + f"，自 {since} 起"

    def as_json(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "user": self.user,
            "host": self.host,
            "since": self.since,
            "account": self.account,
            "purpose": self.purpose,
        }


# Windows byte-range locks are mandatory: lock one byte far past the owner text so that a second
# process can still read who holds the lock.
_WINDOWS_LOCK_OFFSET = 1 << 30


class WriterLock:
    """An exclusive lock on ``<db>.lock``, held until :meth:`release` (or the process ends)."""

    def __init__(self, path: Path, fd: int, owner: LockOwner) -> None:
        self.path = path
        self.owner = owner
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def note(self, *, account: str | None = None, purpose: str | None = None) -> None:
        """Say who (the signed-in account) holds the lock and what for, so that a second writer
        can name them."""
        self.owner = replace(
            self.owner,
            account=self.owner.account if account is None else account,
            purpose=self.owner.purpose if purpose is None else purpose,
        )
        if self._fd is not None:
            _write_owner(self._fd, self.owner)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        _HELD.pop(self.path, None)
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # nobody holds it now; the file itself stays (see _lock)
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


# The locks this process holds, by lock file: a second acquire in the same process still
# conflicts (two open files), but :func:`writer` and :func:`held_lock` find the one held.
_HELD: dict[Path, WriterLock] = {}
_POLL = 0.2  # seconds between tries while waiting


def lock_path_for(db_path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(db_path)}.lock")


def held_lock(db_path: str | os.PathLike[str]) -> WriterLock | None:
    """The writer lock of ``db_path`` that this process holds, if any."""
    lock = _HELD.get(lock_path_for(db_path))
    return lock if lock is not None and lock.held else None


def acquire_writer_lock(
    db_path: str | os.PathLike[str], *, wait: float = 0.0, purpose: str = ""
) -> WriterLock:
    """Take the single-writer lock of the database at ``db_path``, waiting up to ``wait``
    seconds for another process to finish, or raise :class:`AlreadyRunning` naming the holder.

    The lock file is never deleted (deleting it would let two processes lock two different files);
    a stale one is harmless because only the OS lock counts.
    """
    path = lock_path_for(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as exc:
        raise UserError(
            f"无法创建数据库锁文件 {path}：{exc.strerror or exc}（目录没有写权限？）"
        ) from None
    deadline = time.monotonic() + wait
    while not _lock(fd):
        if time.monotonic() >= deadline:
            os.close(fd)
            owner = read_lock_owner(path)
            who = f"（{owner.describe()}）" if owner else ""
            raise AlreadyRunning(
                f"另一个 govshare-desktop 程序{who}正在使用这个数据库：{db_path}。"
                "同一时间只能有一个程序写入它，以免数据丢失；请等它完成（或关闭它）后再试。",
                lock_path=path,
                owner=owner,
            )
        time.sleep(_POLL)
    owner = LockOwner(
        pid=os.getpid(),
        user=_user(),
        host=socket.gethostname(),
        since=datetime.now().isoformat(timespec="seconds"),
        purpose=purpose,
    )
    _write_owner(fd, owner)
    lock = WriterLock(path, fd, owner)
    _HELD[path] = lock
    return lock


@contextlib.contextmanager
def writer(
    db_path: str | os.PathLike[str], *, wait: float = 0.0, purpose: str = ""
) -> Iterator[WriterLock]:
    """Hold the writer lock for a block: the one this process holds already (kept afterwards),
    or taken for the block (released afterwards)."""
    held = held_lock(db_path)
    if held is not None:
        yield held
        return
    with acquire_writer_lock(db_path, wait=wait, purpose=purpose) as lock:
        yield lock


def _write_owner(fd: int, owner: LockOwner) -> None:
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(owner.as_json(), ensure_ascii=False).encode("utf-8") + b"\n")
    except OSError:
        pass  # the lock is what matters; the text only makes the message friendlier


def read_lock_owner(lock_path: str | os.PathLike[str]) -> LockOwner | None:
    """Who wrote the lock file (it may be stale: only a failed lock means it is held)."""
    try:
        with open(lock_path, "rb") as fh:
            data = json.loads(fh.read(4096).decode("utf-8"))
        return LockOwner(
            pid=int(data["pid"]),
            user=str(data["user"]),
            host=str(data["host"]),
            since=str(data["since"]),
            account=str(data.get("account") or ""),
            purpose=str(data.get("purpose") or ""),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt  # platform: Windows only

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    import fcntl  # platform: POSIX only

    try:
        # flock (not lockf): it belongs to the open file, so a second open in this same process
        # conflicts too.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt  # platform: Windows only

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl  # platform: POSIX only

    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry
        return "?"
