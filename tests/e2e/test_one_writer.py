"""One writer at a time, with real processes: a second ``govshare`` command waits for the first or
stops naming it; a restore is refused while another process has the database; a busy database is
reported as busy, never as damaged; a connection left on a replaced file writes nothing. Rows are
counted afterwards: nothing reported as imported is lost."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.store.location import lock_path_for, read_lock_owner
from tests.e2e.cli import cli_env, connect, govshare, provision
from tests.e2e.launch import command

REPO = Path(__file__).resolve().parents[2]
HEADER = ["社会保障号码", "姓名", "发放年月", "基础养老金", "个人账户养老金", "实发金额"]


def _payments(path: Path, people: int, period: str) -> Path:
    """A payment CSV of ``people`` rows for one month (big enough to take a few seconds)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(people):
            born = date(1930, 1, 1) + timedelta(days=i // 400)
            number = idnumber.make("441900", born, i % 400, male=i % 2 == 0)
            out.writerow([number, f"测试{i}", period, "150.00", "12.34", "162.34"])
    return path


def _count(db: Path, table: str = "ss_payment") -> int:
    connection = connect(db)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def _start(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command("cli", *args, "--db", str(db)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli_env(), **(env or {})},
        cwd=REPO,
    )


def _wait_for_holder(db: Path, purpose: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owner = read_lock_owner(lock_path_for(db))
        if owner is not None and purpose in owner.purpose and owner.account:
            return owner.as_json()
        time.sleep(0.05)
    raise AssertionError(f"nobody took the lock for {purpose!r}")


@pytest.fixture
def office(tmp_path: Path, demo_store) -> Path:
    db = Path(demo_store.path)
    demo_store.dispose()
    provision(db)
    return db


@pytest.mark.parametrize("rounds", [1, pytest.param(5, marks=pytest.mark.slow)])
def test_a_second_command_waits_or_names_the_first_and_no_row_is_lost(
    office: Path, tmp_path: Path, rounds: int
) -> None:
    before = _count(office)
    first = _payments(tmp_path / "first.csv", 150_000, "203001")
    second = _payments(tmp_path / "second.csv", 500, "203002")
    backup = govshare("backup", "--out", str(tmp_path / "backups"), db=office, check=True)
    backup_file = backup.stdout.split("已备份：")[1].split("（")[0]
    for round_ in range(rounds):
        running = _start("import", str(first), db=office)
        holder = _wait_for_holder(office, "govshare import")
        assert holder["account"] == "clerk" and holder["pid"] == running.pid
        # A second import does not wait long enough: it stops, naming the first.
        refused = govshare("import", str(second), db=office, env={"GOVSHARE_LOCK_WAIT": "0.2"})
        assert refused.returncode == 2, refused.stderr
        assert f"进程 {running.pid}" in refused.stderr and "账户 clerk" in refused.stderr
        assert "正在执行 govshare import" in refused.stderr and "已损坏" not in refused.stderr
        # A restore is refused while the import runs (it would swap the file under it).
        restore = govshare("restore", backup_file, db=office, user="admin")
        assert running.poll() is None, "the import finished too soon for this test to mean much"
        assert restore.returncode == 2 and "正在执行 govshare import" in restore.stderr
        # One that waits long enough goes after it.
        waiting = govshare("import", str(second), db=office, env={"GOVSHARE_LOCK_WAIT": "300"})
        out, err = running.communicate(timeout=300)
        assert running.returncode == 0, err
        assert waiting.returncode == 0, waiting.stderr
        expected = before + 150_000 + 500 if round_ == 0 else before + 150_500
        assert _count(office) == expected  # everything reported, and nothing more
    assert "新增 150000" in out or "未变 150000" in out


HOLD = """
import sys, time
import sqlcipher3
connection = sqlcipher3.connect(sys.argv[1], isolation_level=None)
connection.execute(f"PRAGMA key = \\"x'{sys.argv[2]}'\\"")
connection.execute("BEGIN IMMEDIATE")
connection.execute("CREATE TABLE IF NOT EXISTS foreign_tool (x)")
print("HOLDING", flush=True)
time.sleep(120)
"""


def test_a_busy_database_is_busy_not_damaged(office: Path) -> None:
    """Another program (not govshare: it takes no writer lock) holds a write transaction: signing
    in cannot write its audit entry. That is 「正忙」, to try again — not damage to restore."""
    from govshare_desktop.core.security.vault import Vault
    from tests.e2e.cli import ADMIN_PASSWORD

    key = Vault.load(office).unlock("admin", ADMIN_PASSWORD, datetime.now())
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(office), key.hex()], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HOLDING"
        busy = govshare("info", db=office)
        assert busy.returncode == 2
        assert "正忙" in busy.stderr and "已损坏" not in busy.stderr, busy.stderr
        assert "恢复" not in busy.stderr
    finally:
        holder.kill()
        holder.wait()
    assert govshare("info", db=office).returncode == 0


def test_the_command_line_waits_for_the_window(office: Path, tmp_path: Path) -> None:
    window = subprocess.Popen(
        command("window", "--db", str(office)),
        env={**cli_env(), "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        holder = _wait_for_holder(office, "使用窗口")
        assert holder["account"] == "clerk" and holder["pid"] == window.pid
        before = _count(office)
        refused = govshare(
            "import",
            str(_payments(tmp_path / "p.csv", 10, "203003")),
            db=office,
            env={"GOVSHARE_LOCK_WAIT": "0.2"},
        )
        assert refused.returncode == 2 and "正在使用窗口" in refused.stderr
        assert _count(office) == before
    finally:
        window.kill()
        window.wait()
    assert govshare("info", db=office).returncode == 0  # the OS dropped the lock with it


def test_a_connection_on_a_replaced_file_writes_nothing(tmp_path: Path) -> None:
    """Inside one process: a store opened before a restore must not write into the old file."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.security.safekeeping import backup_now, restore_from
    from govshare_desktop.core.store.engine import DatabaseReplaced
    from govshare_desktop.core.store.township import add_village, init_township

    db = tmp_path / "gov.db"
    setup = signin.initialise(db, admin_password="Guanli#2026one")
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    signin.add_account(setup.store, "li", Role.CLERK, "Qingshui#2026one", must_change=False)
    backup = backup_now(setup.store, tmp_path / "backups").path
    long_lived = signin.sign_in(db, "li", "Qingshui#2026one").store
    with long_lived.transaction() as session:
        add_village(session, "441900199201", "东岭村委会")  # the connection is open now
    restore_from(setup.store, backup)
    with pytest.raises(DatabaseReplaced, match="已被替换"), long_lived.transaction() as session:
        add_village(session, "441900199202", "西塘村委会")
    long_lived.dispose()
    again = signin.sign_in(db, "li", "Qingshui#2026one").store
    try:
        with again.sessions() as session:
            from sqlalchemy import select

            from govshare_desktop.core.store.models import Area

            codes = set(session.scalars(select(Area.code)))
        assert "441900199202" not in codes and "441900199201" not in codes  # as backed up
    finally:
        again.dispose()


def test_lock_owner_text_names_account_and_purpose(tmp_path: Path) -> None:
    from govshare_desktop.core.store.location import acquire_writer_lock, held_lock, writer

    db = tmp_path / "g.db"
    with acquire_writer_lock(db, purpose="执行 govshare import") as lock:
        lock.note(account="li")
        data = json.loads(lock.path.read_text(encoding="utf-8"))
        assert data["account"] == "li" and data["purpose"] == "执行 govshare import"
        assert held_lock(db) is lock
        with writer(db) as inner:  # the lock this process holds, kept afterwards
            assert inner is lock
        assert lock.held
    assert held_lock(db) is None
    with writer(db, purpose="从备份恢复") as taken:
        assert taken.held
    assert not taken.held and os.path.exists(lock_path_for(db))
