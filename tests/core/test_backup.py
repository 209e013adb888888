"""Backups through SQLite's backup API, verification and restore (security.md R5–R7), on real files."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.store import backup as backup_mod
from govshare_desktop.core.store import backup_copy
from govshare_desktop.core.store.backup import (
    backup,
    backup_due,
    last_backup_time,
    list_backups,
    quick_check,
    restore,
    verify_backup,
)
from govshare_desktop.core.store.engine import Store, open_store

TABLES = ("setting", "area", "household", "person", "ss_enrollment", "ss_payment")
REPO = Path(__file__).resolve().parents[2]


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def live_snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1")]
            for t in TABLES
        }


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def mutate(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ss_payment WHERE id % 3 = 0")
        conn.exec_driver_sql("UPDATE person SET name = name || '改' WHERE id % 5 = 0")
        conn.exec_driver_sql("INSERT INTO setting(key, value) VALUES ('mutated', 'yes')")


# ----------------------------------------------------------------------------------- backing up


def test_backup_copies_a_wal_database_completely(demo_store: Store) -> None:
    expected = live_snapshot(demo_store)
    with demo_store.engine.begin() as conn:  # a fresh commit that lives only in the -wal file
        conn.exec_driver_sql("INSERT INTO setting(key, value) VALUES ('in_wal', '1')")
    expected["setting"] = sorted([*expected["setting"], ("in_wal", "1")])
    assert demo_store.path is not None
    result = backup(demo_store, now=datetime(2026, 11, 27, 9, 30, 5))

    assert result.path == demo_store.path.parent / "backups" / "govshare-20261127-093005.db"
    assert files(result.path.parent) == [result.path.name]  # no temp file, no -journal left
    data = result.path.read_bytes()
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.pages * 4096 == len(data)
    assert data[18:20] == b"\x01\x01"  # rollback-journal mode: one self-contained file
    if os.name == "posix":
        assert result.path.stat().st_mode & 0o077 == 0  # personal data: owner only
    assert snapshot(result.path) == expected
    verify_backup(result.path)


def _writer(path: Path, stop: threading.Event, done: list[int]) -> None:
    """Commits keep three things in step: w-rows, w_count and one person's phone."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO setting(key, value) VALUES (?, ?)", (f"w{n:06d}", "x" * 300))
            conn.execute("INSERT OR REPLACE INTO setting(key, value) VALUES ('w_count', ?)", (n,))
            conn.execute("UPDATE person SET phone = ? WHERE id = ?", (f"p{n}", n % 900 + 1))
            conn.execute("UPDATE ss_payment SET paid_date = ? WHERE id = ?", (n, n * 37 % 10000))
            conn.execute("COMMIT")
            done[0] = n
    finally:
        conn.close()


def assert_consistent(copy: Path) -> int:
    assert integrity(copy) == "ok"
    conn = sqlite3.connect(copy)
    try:
        rows = conn.execute("SELECT count(*) FROM setting WHERE key LIKE 'w0%'").fetchone()[0]
        count = conn.execute("SELECT value FROM setting WHERE key = 'w_count'").fetchone()
        n = int(count[0]) if count else 0
        assert rows == n
        if n:
            phone = conn.execute("SELECT phone FROM person WHERE id = ?", (n % 900 + 1,))
            assert phone.fetchone()[0] == f"p{n}"
            assert conn.execute("SELECT count(*) FROM person").fetchone()[0] == 988
        return n
    finally:
        conn.close()


@pytest.mark.parametrize("stepped", [False, True], ids=["one-step", "stepped-with-progress"])
def test_backup_while_another_connection_writes(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch, stepped: bool
) -> None:
    assert demo_store.path is not None
    monkeypatch.setattr(backup_copy, "STEP_PAGES", 8)
    stop, done = threading.Event(), [0]
    thread = threading.Thread(target=_writer, args=(demo_store.path, stop, done))
    thread.start()
    calls: list[tuple[int, int]] = []

    def progress(pages: int, total: int, _label: str) -> None:
        calls.append((pages, total))
        time.sleep(0.003)  # let the writer commit between steps
        assert len(calls) < 1000, "the copy keeps restarting"

    try:
        while done[0] < 20:
            time.sleep(0.01)
        before = done[0]
        result = backup(demo_store, progress=progress if stepped else None)
        after = done[0]
    finally:
        stop.set()
        thread.join()
    assert after > before  # the writer really committed during the backup
    if stepped:
        total = calls[-1][1]
        assert calls[-1] == (total, total)
        assert len(calls) <= total // 8 + 2  # one read snapshot: the copy never restarted
        assert [p for p, _ in calls] == sorted(p for p, _ in calls)
    copied = assert_consistent(result.path)
    assert before <= copied <= after


WRITER_PROCESS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
n = 0
while True:
    n += 1
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO setting(key, value) VALUES (?, ?)", (f"w{n:06d}", "x" * 300))
    conn.execute("INSERT OR REPLACE INTO setting(key, value) VALUES ('w_count', ?)", (n,))
    conn.execute("UPDATE person SET phone = ? WHERE id = ?", (f"p{n}", n % 900 + 1))
    conn.execute("COMMIT")
    if n == 10:
        print("WRITING", flush=True)
"""


def test_backup_while_another_process_writes(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_store.path is not None
    monkeypatch.setattr(backup_copy, "STEP_PAGES", 16)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER_PROCESS, str(demo_store.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "WRITING"
        results = [
            backup(demo_store, progress=lambda *_: time.sleep(0.002), generations=None),
            backup(demo_store, generations=None),
        ]
    finally:
        writer.kill()
        writer.wait()
    for result in results:
        assert assert_consistent(result.path) >= 10


KILLED_BACKUP = """
import sys, time
from govshare_desktop.core.store import backup as b, backup_copy
from govshare_desktop.core.store.engine import open_store
backup_copy.STEP_PAGES = 4
store = open_store(sys.argv[1])
def progress(done, total, label):
    print("STEP", done, total, flush=True)
    time.sleep(0.05)
b.backup(store, sys.argv[2], progress=progress)
print("DONE", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_backup_killed_midway_leaves_database_intact_and_no_backup(
    demo_store: Store, tmp_path: Path
) -> None:
    assert demo_store.path is not None
    expected = live_snapshot(demo_store)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_BACKUP, str(demo_store.path), str(out)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    for _ in range(3):
        line = process.stdout.readline()
        assert line.startswith("STEP"), line
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    assert integrity(demo_store.path) == "ok"
    assert live_snapshot(demo_store) == expected
    left = files(out)
    assert list_backups(out) == []
    assert left and all(name.startswith(".govshare-backup-") for name in left)  # the hidden temp

    # The next backup works; a temp file from a dead backup is cleared once it is old.
    for name in left:
        os.utime(out / name, (time.time() - 7200, time.time() - 7200))
    result = backup(demo_store, out)
    assert files(out) == [result.path.name]
    assert snapshot(result.path) == expected


# ---------------------------------------------------------------------------- generations, clock


def test_only_the_newest_generations_are_kept(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    foreign = ["govshare-notes.db", "other.db", "govshare-before-restore-20200101-000000.db"]
    for name in foreign:
        (out / name).write_bytes(b"not ours")
    start = datetime(2026, 11, 1, 8, 0)
    made = [backup(store, out, generations=3, now=start + timedelta(days=i)) for i in range(6)]
    kept = [path.name for _, path in list_backups(out)]
    assert kept == [r.path.name for r in reversed(made[-3:])]
    assert set(files(out)) == set(kept) | set(foreign)

    # The clock was put back: the new backup is kept, the oldest by name goes.
    late = backup(store, out, generations=3, now=datetime(2026, 10, 1, 8, 0))
    assert late.path.exists()
    assert sorted(p.name for _, p in list_backups(out)) == sorted(
        [late.path.name, made[-1].path.name, made[-2].path.name]
    )

    with pytest.raises(ValueError):
        backup(store, out, generations=0)


def test_two_backups_in_the_same_second_are_both_kept(store: Store) -> None:
    now = datetime(2026, 11, 27, 9, 0, 0)
    first, second = backup(store, now=now), backup(store, now=now)
    assert first.path.name == "govshare-20261127-090000.db"
    assert second.path.name == "govshare-20261127-090000-2.db"
    assert [p for _, p in list_backups(first.path.parent)] == [second.path, first.path]


def test_backup_due_follows_the_clock(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    monday = datetime(2026, 11, 23, 9, 0)
    assert last_backup_time(out) is None  # no directory yet
    assert backup_due(out, monday)
    backup(store, out, now=monday)
    assert last_backup_time(out) == monday
    assert not backup_due(out, monday + timedelta(hours=8))
    assert not backup_due(out, monday + timedelta(hours=23, minutes=59))
    assert backup_due(out, monday + timedelta(days=1))
    assert backup_due(out, monday + timedelta(hours=2), every=timedelta(hours=1))
    assert backup_due(out, monday - timedelta(days=3))  # the newest backup lies in the future
    aware = (monday + timedelta(hours=1)).astimezone(timezone.utc)  # the same moment, in UTC
    assert not backup_due(out, aware)


# ------------------------------------------------------------------------------------- failures


def test_a_full_disk_leaves_no_file(demo_store: Store, tmp_path: Path) -> None:
    def tiny_disk(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA max_page_count = 20")  # SQLITE_FULL after 20 pages
        return conn

    out = tmp_path / "out"
    with pytest.raises(UserError) as caught:
        backup(demo_store, out, connect=tiny_disk)
    assert str(out) in caught.value.message
    assert "磁盘空间不足" in caught.value.message
    assert "未生成备份文件" in caught.value.message
    assert files(out) == []


def test_an_unwritable_directory_is_named(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UserError) as caught:
        backup(store, blocker / "backups")
    assert str(blocker / "backups") in caught.value.message
    assert files(tmp_path) == sorted(["a-file", "govshare.db", *_sidecars(tmp_path)])


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only directories"
)
def test_a_read_only_directory_is_named(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        with pytest.raises(UserError, match="没有写权限"):
            backup(store, out)
    finally:
        out.chmod(0o700)
    assert files(out) == []


def _sidecars(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith("govshare.db-")]


def test_a_failing_rename_leaves_no_file(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_mod.os, "replace", no_space)
    with pytest.raises(UserError, match="No space left on device"):
        backup(store)
    assert store.path is not None
    assert files(store.path.parent / "backups") == []


def test_cancelling_from_progress_leaves_no_file(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_copy, "STEP_PAGES", 16)

    cancel = Cancel()

    def progress(done: int, total: int, _label: str) -> None:
        if done >= 64:
            cancel.cancel()  # 取消 pressed: the next step stops the copy

    with pytest.raises(Cancelled, match="已取消备份"):
        backup(demo_store, progress=progress, cancel=cancel)
    assert demo_store.path is not None
    assert files(demo_store.path.parent / "backups") == []
    with demo_store.engine.begin() as conn:  # the pooled connection is usable again
        conn.exec_driver_sql("INSERT INTO setting(key, value) VALUES ('after', '1')")


def test_backup_of_a_closed_database_by_path(demo_store: Store, tmp_path: Path) -> None:
    assert demo_store.path is not None
    expected = live_snapshot(demo_store)
    demo_store.dispose()
    result = backup(demo_store.path, tmp_path / "out")
    assert snapshot(result.path) == expected
    with pytest.raises(UserError, match="找不到要备份的数据库文件"):
        backup(tmp_path / "missing.db")


# ---------------------------------------------------------------------------------- verification


@pytest.fixture
def good_backup(demo_store: Store, tmp_path: Path) -> Path:
    return backup(demo_store, tmp_path / "out").path


def test_verify_accepts_a_good_backup(good_backup: Path) -> None:
    before = good_backup.read_bytes()
    verify_backup(good_backup)
    assert good_backup.read_bytes() == before
    assert files(good_backup.parent) == [good_backup.name]  # opened read-only: nothing created


def test_verify_rejects_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.db"
    path.write_bytes(random.Random(1).randbytes(64 * 1024))
    with pytest.raises(UserError, match="不是 SQLite 数据库") as caught:
        verify_backup(path)
    assert str(path) in caught.value.message


def test_verify_rejects_a_truncated_file(good_backup: Path) -> None:
    data = good_backup.read_bytes()
    good_backup.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="不完整（被截断）") as caught:
        verify_backup(good_backup)
    assert str(good_backup) in caught.value.message


def test_verify_rejects_a_damaged_file(good_backup: Path) -> None:
    conn = sqlite3.connect(good_backup)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ss_payment'").fetchone()
    conn.close()
    data = bytearray(good_backup.read_bytes())
    start = (root[0] - 1) * 4096
    data[start : start + 4096] = random.Random(2).randbytes(4096)
    good_backup.write_bytes(bytes(data))
    with pytest.raises(UserError, match="已损坏") as caught:
        verify_backup(good_backup)
    assert str(good_backup) in caught.value.message


def test_verify_rejects_a_database_of_another_program(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts(name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="不是 govshare 数据库") as caught:
        verify_backup(path)
    assert "person" in caught.value.message
    assert str(path) in caught.value.message


def test_verify_rejects_empty_missing_and_newer(good_backup: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(UserError, match="是空的"):
        verify_backup(empty)
    with pytest.raises(UserError, match="找不到备份文件"):
        verify_backup(tmp_path / "nope.db")
    conn = sqlite3.connect(good_backup)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="更新版本"):
        verify_backup(good_backup)


def test_quick_check(demo_store: Store) -> None:
    assert quick_check(demo_store) == []
    assert quick_check(demo_store, full=True) == []
    assert demo_store.path is not None
    with demo_store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'ss_payment'"
        ).scalar()
    demo_store.dispose()
    with demo_store.path.open("r+b") as fh:  # a page of the payments table turns to garbage
        fh.seek((root - 1) * 4096)
        fh.write(random.Random(3).randbytes(4096))
    damaged = open_store(demo_store.path)
    try:
        assert quick_check(damaged) != []
        assert quick_check(demo_store.path) != []
    finally:
        damaged.dispose()


# --------------------------------------------------------------------------------------- restore


def test_restore_round_trip(demo_store: Store) -> None:
    assert demo_store.path is not None
    db = demo_store.path
    expected = live_snapshot(demo_store)
    made = backup(demo_store, now=datetime(2026, 11, 27, 9, 0))
    mutate(demo_store)
    mutated = live_snapshot(demo_store)
    assert mutated != expected
    demo_store.dispose()

    safety = restore(made.path, db, now=datetime(2026, 11, 27, 10, 0))

    assert safety == db.parent / "backups" / "govshare-before-restore-20261127-100000.db"
    assert snapshot(safety) == mutated  # the state just before the restore is kept
    verify_backup(safety)
    assert not [p for p in db.parent.iterdir() if ".before-restore" in p.name]
    assert not [p for p in db.parent.iterdir() if p.name.startswith(".govshare-restore-")]
    assert [p for _, p in list_backups(db.parent / "backups")] == [made.path]  # not a generation
    reopened = open_store(db)
    try:
        assert live_snapshot(reopened) == expected
        assert quick_check(reopened, full=True) == []
        with reopened.engine.begin() as conn:  # writable, back in WAL mode
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            conn.exec_driver_sql("INSERT INTO setting(key, value) VALUES ('after', '1')")
    finally:
        reopened.dispose()


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8192] = random.Random(4).randbytes(8192)
    path.write_bytes(bytes(data))


def test_a_corrupt_backup_leaves_the_database_untouched(demo_store: Store) -> None:
    assert demo_store.path is not None
    db = demo_store.path
    made = backup(demo_store)
    mutate(demo_store)
    demo_store.dispose()
    _damage(made.path)
    before = db.read_bytes()
    listing = files(db.parent)
    with pytest.raises(UserError, match="已损坏"):
        restore(made.path, db)
    assert db.read_bytes() == before
    assert files(db.parent) == listing
    assert files(db.parent / "backups") == [made.path.name]  # no safety copy either


def test_a_failing_swap_leaves_the_database_untouched(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_store.path is not None
    db = demo_store.path
    made = backup(demo_store)
    mutate(demo_store)
    demo_store.dispose()
    stale = Path(f"{db}-journal")
    stale.write_bytes(b"")  # a leftover (not hot) journal: moved aside for the swap, then back
    before = db.read_bytes()
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst) == db:
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(backup_mod.os, "replace", replace)
    with pytest.raises(UserError, match="当前数据库没有改变"):
        restore(made.path, db)
    assert db.read_bytes() == before
    assert stale.exists()
    assert not [p for p in db.parent.iterdir() if ".govshare-restore-" in p.name]
    assert not [p for p in db.parent.iterdir() if ".before-restore" in p.name]
    assert integrity(db) == "ok"

    monkeypatch.setattr(backup_mod.os, "replace", real_replace)
    restore(made.path, db)
    assert not stale.exists()


def test_restore_refused_while_the_database_is_in_use(demo_store: Store) -> None:
    assert demo_store.path is not None
    db = demo_store.path
    made = backup(demo_store)
    mutate(demo_store)  # frames in the -wal that a checkpoint would have to copy
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM person").fetchone()  # holds an old snapshot
    try:
        with pytest.raises(UserError, match="正在被使用"):
            restore(made.path, db, connect=lambda p: sqlite3.connect(p, timeout=0.1))
    finally:
        reader.close()
    assert ("mutated", "yes") in live_snapshot(demo_store)["setting"]
    assert files(db.parent / "backups") == [made.path.name]


def test_restore_over_an_unreadable_database_keeps_its_bytes(demo_store: Store) -> None:
    assert demo_store.path is not None
    db = demo_store.path
    expected = live_snapshot(demo_store)
    made = backup(demo_store)
    demo_store.dispose()
    garbage = random.Random(5).randbytes(8192)
    db.write_bytes(garbage)
    safety = restore(made.path, db)
    assert safety is not None and safety.read_bytes() == garbage
    assert snapshot(db) == expected


def test_restore_where_there_is_no_database_yet(good_backup: Path, tmp_path: Path) -> None:
    db = tmp_path / "new" / "govshare.db"
    assert restore(good_backup, db) is None
    assert snapshot(db) == snapshot(good_backup)
    with pytest.raises(UserError, match="本身"):
        restore(db, db)


# -------------------------------------------------------------------------------------- SQLCipher


def test_encrypted_backup_and_restore(tmp_path: Path) -> None:
    sqlcipher3 = pytest.importorskip("sqlcipher3")
    from sqlalchemy import URL, create_engine
    from sqlalchemy.orm import sessionmaker

    from govshare_desktop.core.store.migrate import upgrade

    key = "correct horse"
    db = tmp_path / "secret.db"
    engine = create_engine(URL.create("sqlite+pysqlcipher", password=key, database=str(db)))
    upgrade(engine)
    store = Store(url=f"sqlite+pysqlcipher:///{db}", engine=engine, sessions=sessionmaker(engine))

    def keyed(secret: str) -> Any:
        def connect(path: str) -> Any:
            conn = sqlcipher3.connect(path)
            conn.execute(f"PRAGMA key = '{secret}'")
            return conn

        return connect

    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO setting(key, value) VALUES ('marker', '440000199001011234')"
        )
    with pytest.raises(ValueError, match="connect"):
        backup(store)
    made = backup(store, connect=keyed(key), progress=lambda *_: None)
    assert b"SQLite format 3" not in made.path.read_bytes()[:16]
    assert b"440000199001011234" not in made.path.read_bytes()
    verify_backup(made.path, connect=keyed(key))
    with pytest.raises(UserError, match="密钥不正确"):
        verify_backup(made.path, connect=keyed("wrong"))
    with pytest.raises(UserError, match="不是 SQLite 数据库"):
        verify_backup(made.path)
    assert quick_check(store, full=True) == []

    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM setting")
    engine.dispose()
    safety = restore(made.path, db, connect=keyed(key))
    assert safety is not None
    verify_backup(safety, connect=keyed(key))
    check = keyed(key)(str(db))
    try:
        assert check.execute("SELECT value FROM setting WHERE key = 'marker'").fetchone() == (
            "440000199001011234",
        )
    finally:
        check.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_backups_safety_copies_and_their_key_files_are_private(demo_store: Store) -> None:
    """Everything a backup or a restore writes holds personal data or keys: 0600, in a 0700
    folder; a database's key file goes with each copy of it."""
    import stat

    assert demo_store.path is not None
    keys = Path(f"{demo_store.path}.keys")
    keys.write_text("{}", encoding="utf-8")
    keys.chmod(0o644)
    made = backup(demo_store)
    demo_store.dispose()
    restore(made.path, demo_store.path)
    directory = made.path.parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    names = sorted(p.name for p in directory.iterdir())
    assert len(names) == 4 and all(
        Path(directory / n).name.endswith((".db", ".keys")) for n in names
    )
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
