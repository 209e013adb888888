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
