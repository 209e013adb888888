"""Network shares refused, cloud-sync folders warned about, and the single-writer lock (R3, R4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store import location
from govshare_desktop.core.store.location import (
    DRIVE_FIXED,
    DRIVE_REMOTE,
    AlreadyRunning,
    UnsafeLocationError,
    acquire_writer_lock,
    check_local,
    lock_path_for,
    parse_mounts,
    read_lock_owner,
    sync_folder_warning,
)

REPO = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------- network shares


@pytest.mark.parametrize(
    "path",
    [
        r"\\srv\share\govshare.db",
        r"\\192.168.1.10\数据\govshare.db",
        "//srv/share/govshare.db",
        r"\\?\UNC\srv\share\govshare.db",
    ],
)
def test_unc_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafeLocationError) as caught:
        check_local(path)
    assert path in caught.value.message
    assert "网络共享" in caught.value.message
    assert isinstance(caught.value, UserError)


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Pretend to be on Windows where Z: is a mapped network drive."""
    asked: list[str] = []

    def drive_type(root: str) -> int:
        asked.append(root)
        return DRIVE_REMOTE if root.upper() == "Z:\\" else DRIVE_FIXED

    monkeypatch.setattr(location, "_IS_WINDOWS", True)
    monkeypatch.setattr(location, "_drive_type", drive_type)
    return asked


def test_mapped_network_drive_is_refused(windows: list[str]) -> None:
    with pytest.raises(UnsafeLocationError, match="Z: 是映射的网络驱动器") as caught:
        check_local(r"Z:\乡镇数据\govshare.db")
    assert r"Z:\乡镇数据\govshare.db" in caught.value.message
    with pytest.raises(UnsafeLocationError):
        check_local(r"\\?\z:\data\govshare.db")
    check_local(r"C:\Users\clerk\AppData\Local\govshare-desktop\govshare.db")
    check_local(r"\\?\C:\data\govshare.db")
    assert windows[-1] == "C:\\"


MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
nas:/export/township /mnt/nas nfs4 rw,vers=4.2 0 0
/dev/sdb1 /mnt/nas/usb ext4 rw 0 0
//srv/share /mnt/smb\\040共享 cifs rw 0 0
clerk@host:/data /home/clerk/remote fuse.sshfs rw 0 0
"""


@pytest.fixture
def mounts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(location, "_IS_WINDOWS", False)
    monkeypatch.setattr(location, "_read_mounts", lambda: parse_mounts(MOUNTS))


@pytest.mark.parametrize(
    ("path", "fstype"),
    [
        ("/mnt/nas/govshare.db", "nfs4"),
        ("/mnt/nas/deep/er/govshare.db", "nfs4"),
        ("/mnt/smb 共享/govshare.db", "cifs"),
        ("/home/clerk/remote/govshare.db", "fuse.sshfs"),
    ],
)
def test_network_mounts_are_refused(mounts: None, path: str, fstype: str) -> None:
    with pytest.raises(UnsafeLocationError, match=f"网络文件系统 {fstype}"):
        check_local(path)


@pytest.mark.parametrize(
    "path", ["/home/clerk/govshare.db", "/mnt/nas/usb/govshare.db", "/mnt/nasty/govshare.db"]
)
def test_local_mounts_are_accepted(mounts: None, path: str) -> None:
    check_local(path)  # longest mount point wins; /mnt/nasty is not inside /mnt/nas


@pytest.mark.parametrize(
    "fstype", ["nfs", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "fuse.davfs2"]
)
def test_every_network_type(monkeypatch: pytest.MonkeyPatch, fstype: str) -> None:
    monkeypatch.setattr(location, "_IS_WINDOWS", False)
    monkeypatch.setattr(location, "_read_mounts", lambda: [("/", "ext4"), ("/srv/x", fstype)])
    with pytest.raises(UnsafeLocationError):
        check_local("/srv/x/govshare.db")


def test_symlink_into_a_network_mount_is_refused(
    mounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(location.os.path, "realpath", lambda p: "/mnt/nas/govshare.db")
    with pytest.raises(UnsafeLocationError):
        check_local("/home/clerk/link.db")


@pytest.mark.skipif(os.name == "nt", reason="real Linux mounts")
def test_the_real_temp_directory_is_local(tmp_path: Path) -> None:
    check_local(tmp_path / "govshare.db")
    check_local(tmp_path / "not" / "yet" / "there.db")


def test_parse_mounts() -> None:
    assert parse_mounts(MOUNTS)[4] == ("/mnt/smb 共享", "cifs")
    assert parse_mounts("broken\n") == []


@pytest.mark.parametrize(
    ("path", "service"),
    [
        (r"C:\Users\clerk\OneDrive\文档\govshare.db", "OneDrive"),
        (r"C:\Users\clerk\OneDrive - 青禾镇人民政府\govshare.db", "OneDrive"),
        (r"D:\我的坚果云\govshare.db", "坚果云"),
        ("/home/clerk/Nutstore Files/govshare.db", "坚果云"),
        (r"D:\百度网盘同步空间\govshare.db", "百度网盘"),
        (r"D:\BaiduSyncdisk\govshare.db", "百度网盘"),
        ("/home/clerk/Dropbox/govshare.db", "Dropbox"),
    ],
)
def test_sync_folders_warn(path: str, service: str) -> None:
    warning = sync_folder_warning(path)
    assert warning is not None
    assert service in warning and path in warning


@pytest.mark.parametrize(
    "path",
    [
        r"C:\Users\clerk\AppData\Local\govshare-desktop\govshare.db",
        "/home/clerk/.local/share/govshare-desktop/govshare.db",
        "/home/clerk/dropbox-notes/govshare.db",
        "/home/clerk/OneDrive.db",  # the file name itself is not a folder
    ],
)
def test_ordinary_folders_do_not_warn(path: str) -> None:
    assert sync_folder_warning(path) is None


# ---------------------------------------------------------------------------------- writer lock


def test_lock_in_one_process(tmp_path: Path) -> None:
    db = tmp_path / "govshare.db"
    lock = acquire_writer_lock(db)
    assert lock.held and lock.path == tmp_path / "govshare.db.lock"
    owner = read_lock_owner(lock.path)
    assert owner is not None and owner.pid == os.getpid()
    with pytest.raises(AlreadyRunning) as caught:
        acquire_writer_lock(db)  # a second open file conflicts, even in the same process
    assert f"进程 {os.getpid()}" in caught.value.message
    assert str(db) in caught.value.message and "请等它完成" in caught.value.message
    lock.release()
    lock.release()  # twice is harmless
    assert not lock.held
    assert lock.path.exists()  # the file stays; only the OS lock counts
    with acquire_writer_lock(db) as again:
        assert again.held
    assert not again.held


def test_a_stale_lock_file_does_not_block(tmp_path: Path) -> None:
    db = tmp_path / "govshare.db"
    lock_path_for(db).write_text('{"pid": 999999, "user": "x", "host": "y", "since": "z"}')
    with acquire_writer_lock(db) as lock:
        assert read_lock_owner(lock.path) == lock.owner
    lock_path_for(db).write_bytes(b"\x00garbage")
    acquire_writer_lock(db).release()


HOLDER = """
import sys, time
from govshare_desktop.core.store.location import acquire_writer_lock
lock = acquire_writer_lock(sys.argv[1])
print("LOCKED", flush=True)
time.sleep(120)
"""


def test_lock_held_by_another_process_until_it_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "数据" / "govshare.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "LOCKED"
        with pytest.raises(AlreadyRunning) as caught:
            acquire_writer_lock(db)
        assert caught.value.owner is not None and caught.value.owner.pid == holder.pid
        assert f"进程 {holder.pid}" in caught.value.message
    finally:
        holder.kill()  # SIGKILL on POSIX: no clean-up runs in the holder
        holder.wait()
    # The OS dropped the lock with the process; its file (and text) are still there.
    assert read_lock_owner(lock_path_for(db)) is not None
    with acquire_writer_lock(db) as lock:
        assert lock.owner.pid == os.getpid()


def test_an_unwritable_lock_location_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="无法创建数据库锁文件"):
        acquire_writer_lock(blocker / "govshare.db")


# ------------------------------------------------------------------ disk encryption (R11)


def _sysfs_device(sysfs: Path, devno: str, name: str, uuid: str | None, slaves=()) -> Path:
    node = sysfs / "devices" / "virtual" / "block" / name
    node.mkdir(parents=True)
    if uuid is not None:
        (node / "dm").mkdir()
        (node / "dm" / "uuid").write_text(uuid + "\n")
    if slaves:
        (node / "slaves").mkdir()
        for slave in slaves:
            (node / "slaves" / slave.name).symlink_to(slave)
    link = sysfs / "dev" / "block" / devno
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(node)
    return node


def test_luks_below_lvm_counts_as_encrypted(tmp_path: Path) -> None:
    from govshare_desktop.core.store.location import _dm_crypt

    sysfs = tmp_path / "sys"
    luks = _sysfs_device(sysfs, "253:0", "dm-0", "CRYPT-LUKS2-0a1b2c-luks")
    _sysfs_device(sysfs, "253:1", "dm-1", "LVM-abcdef", slaves=[luks])
    _sysfs_device(sysfs, "8:1", "sda1", None)
    assert _dm_crypt(os.makedev(253, 1), sysfs) is True  # /home on LVM on LUKS
    assert _dm_crypt(os.makedev(253, 0), sysfs) is True
    assert _dm_crypt(os.makedev(8, 1), sysfs) is False  # a plain partition
    assert _dm_crypt(os.makedev(0, 45), sysfs) is None  # overlay/tmpfs: cannot tell


def test_bitlocker_state_from_the_shell_property(monkeypatch) -> None:
    from govshare_desktop.core.store import location

    for out, state in (("1\r\n", True), ("6", True), ("2\r\n", False), ("5", False), ("", None)):
        monkeypatch.setattr(location, "_run_powershell", lambda _script, out=out: out)
        assert location._bitlocker_protection("C:") is state, out

    def no_powershell(_script: str) -> str:
        raise FileNotFoundError("powershell.exe")

    monkeypatch.setattr(location, "_run_powershell", no_powershell)
    assert location._bitlocker_protection("C:") is None


def test_disk_encryption_is_reported_never_refused(tmp_path: Path, monkeypatch) -> None:
    from govshare_desktop.core.store import location

    for state, text in ((True, "已启用"), (False, "未启用（建议开启磁盘加密"), (None, "无法判断")):
        monkeypatch.setattr(location, "volume_encrypted", lambda _p, state=state: state)
        assert location.disk_encryption_text(tmp_path / "new" / "govshare.db").startswith(text)
    # The real check on this machine answers without raising, for a file that does not exist yet.
    monkeypatch.undo()
    assert location.volume_encrypted(tmp_path / "new" / "govshare.db") in (True, False, None)
