"""``kill -9`` at every step of setting up a database and of a backup, with real processes, real
files and real SQLCipher: what is left is whole (a database with its key file, a backup with its
key file) or recognised and cleared by the next run — never a traceback, never a hang."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from govshare_desktop.core.store.backup import backup_files, list_backups
from tests.e2e.cli import govshare
from tests.e2e.killing import kill_at
from tests.e2e.launch import command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP/SIGKILL")

BACKUP_STEPS = (
    "backup:copied",
    "backup:written",
    "backup:keys-renamed",
    "backup:renamed",
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _check_backups(out: Path) -> None:
    """Every backup offered is complete; no database stands without its key file."""
    for _, path in list_backups(out):
        assert Path(f"{path}.keys").is_file(), path
    for item in backup_files(out):
        assert Path(f"{item.path}.keys").is_file(), item.path
    for path in out.glob("govshare-*.db"):
        assert Path(f"{path}.keys").is_file(), f"{path} has no key file"


def test_a_backup_killed_at_any_step_is_whole_or_absent(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    govshare("demo", "--households", "20", "--seed", "3", db=db, user="admin", check=True)
    out = tmp_path / "backups"
    for step in (*BACKUP_STEPS, "backup:copied"):
        kill_at(step, "backup", "--out", str(out), db=db)
        _check_backups(out)
        temps = [p.name for p in out.iterdir() if p.name.startswith(".govshare-backup-")]
        # Only the temporaries of the backup just killed: each backup removes those of the
        # dead ones before it.
        assert len({name.split("-")[2] for name in temps}) <= 1, temps
    assert [p for p in out.iterdir() if p.name.startswith(".govshare-backup-")]
    made = govshare("backup", "--out", str(out), db=db, user="admin", check=True)
    # … are gone after the next backup, and so is the key file whose database never appeared.
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    _check_backups(out)
    names = sorted(p.name for p in out.iterdir())
    assert all(name.endswith((".db", ".db.keys")) for name in names), names
    assert len([n for n in names if n.endswith(".db")]) == len(list_backups(out)) == 2
    assert "已备份" in made.stdout
    for path in out.iterdir():  # private to their owner
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_an_encrypted_backup_without_its_key_file_is_incomplete(tmp_path: Path) -> None:
    """What an earlier version left when killed between its copy and the key file's: never
    offered for a restore, not the last backup, and removed by the next backup."""
    db = tmp_path / "office.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, user="admin", check=True)
    govshare("backup", db=db, user="admin", check=True)
    directory = tmp_path / "backups"
    [first] = [path for _, path in list_backups(directory)]
    legacy = directory / "govshare-20300101-000000.db"  # the newest by name
    first.rename(legacy)
    Path(f"{first}.keys").unlink()
    assert list_backups(directory) == [] and backup_files(directory) == []
    assert _mode(directory) == 0o700
    govshare("backup", db=db, user="admin", check=True)
    assert not legacy.exists()
    _check_backups(directory)
    assert len(list_backups(directory)) == 1


SETUP_STEPS = (
    "setup:copied",
    "setup:built",
    "setup:filled",
    "setup:shown",
    "setup:sealed",
    "setup:keys-renamed",
    "setup:renamed",
)
FAST_SETUP_STEPS = ("setup:shown", "setup:keys-renamed")  # the others run in the slow tier


def _usable(db: Path, households: int) -> None:
    from govshare_desktop.core.records import summary
    from govshare_desktop.core.security import signin
    from tests.e2e.cli import ADMIN_PASSWORD

    signed = signin.sign_in(db, "admin", ADMIN_PASSWORD)
    try:
        assert summary(signed.store).households == households
    finally:
        signed.store.dispose()


@pytest.mark.parametrize(
    "step",
    [
        pytest.param(step, marks=() if step in FAST_SETUP_STEPS else pytest.mark.slow)
        for step in SETUP_STEPS
    ],
)
def test_demo_killed_at_any_step_is_set_up_whole_or_again(tmp_path: Path, step: str) -> None:
    """Before the secrets are shown: only temporaries, cleared and set up again with a notice.
    After: the database is whole and usable (finished at the next start if killed between the
    two renames), and its recovery secret was printed by the run that made it."""
    from govshare_desktop.core.security import signin

    db = tmp_path / "new.db"
    out = kill_at(step, "demo", "--households", "10", db=db)
    keys = Path(f"{db}.keys")
    assert not (db.exists() and not keys.exists()), "a database without its key file"
    if signin.is_initialised(db):  # the secrets were shown before it became usable
        assert step in ("setup:keys-renamed", "setup:renamed")
        assert "恢复密钥" in out
        _usable(db, 10)
        return
    assert step not in ("setup:keys-renamed", "setup:renamed")
    assert not db.exists() and not keys.exists()
    again = govshare("demo", "--households", "10", db=db, user="admin")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and "恢复密钥" in again.stdout
    assert "上次设置数据库时程序被中断" in again.stderr
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(db.name)]
    assert sorted(name for name in left if name != "new.db.lock") == ["new.db", "new.db.keys"]
    _usable(db, 10)
    assert _mode(db) == 0o600 and _mode(keys) == 0o600


def _keyless_encrypted(db: Path) -> None:
    """What an earlier version killed during setup left: an encrypted database, no key file."""
    import os

    import sqlcipher3

    connection = sqlcipher3.connect(str(db))
    connection.execute(f"PRAGMA key = \"x'{os.urandom(32).hex()}'\"")
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()


@pytest.mark.parametrize("command", ["demo", pytest.param("init", marks=pytest.mark.slow)])
def test_a_database_left_without_keys_is_put_aside_and_set_up_again(
    tmp_path: Path, command: str
) -> None:
    pytest.importorskip("sqlcipher3")
    db = tmp_path / "old.db"
    _keyless_encrypted(db)
    original = db.read_bytes()
    args = (
        ["--households", "10"]
        if command == "demo"
        else ["--area", "441900199000", "--name", "青禾镇"]
    )
    result = govshare(command, *args, db=db, user="admin")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "没有它的密钥文件" in result.stderr and "恢复密钥" in result.stdout
    [aside] = tmp_path.glob("old.db.no-keys-*")
    assert aside.read_bytes() == original  # kept, never deleted
    assert govshare("info", db=db, check=True).returncode == 0


def test_a_key_file_without_its_database_is_put_aside(tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, user="admin", check=True)
    db.unlink()
    info = govshare("info", db=db)
    assert info.returncode == 2 and "不存在" in info.stderr and "Traceback" not in info.stderr
    result = govshare("demo", "--households", "10", db=db, user="admin")
    assert result.returncode == 0, result.stderr
    assert "密钥文件 gone.db.keys 在，但数据库 gone.db 不在" in result.stderr
    assert list(tmp_path.glob("gone.db.keys.no-database-*"))
    _usable(db, 10)


WINDOW_CLERK = "Wenshu#2026win"


def _window_env(tmp_path: Path) -> dict[str, str]:
    from tests.e2e.cli import ADMIN_PASSWORD

    return {
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GOVSHARE_CLERK_PASSWORD": WINDOW_CLERK,
        "GOVSHARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GOVSHARE_USER": "jingban",
        "GOVSHARE_PASSWORD": WINDOW_CLERK,
    }


@pytest.mark.parametrize("leftover", ["killed window", "keyless database"])
def test_the_window_sets_up_again_after_a_leftover(tmp_path: Path, leftover: str) -> None:
    """The window's first-run path: no traceback, no hang — a notice, then the demo."""
    import os
    import subprocess

    db = tmp_path / "win.db"
    window = ["--demo", "--demo-households", "10"]
    if leftover == "killed window":
        kill_at("setup:built", *window, db=db, program="window", env=_window_env(tmp_path))
    else:
        pytest.importorskip("sqlcipher3")
        _keyless_encrypted(db)
    started = subprocess.run(
        command("window", "--db", str(db), *window, "--quit-after-load"),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **_window_env(tmp_path)},
    )
    assert started.returncode == 0, started.stderr
    assert "Traceback" not in started.stderr and "上次设置未完成" in started.stderr
    assert "恢复密钥" in started.stderr
    _usable(db, 10)
