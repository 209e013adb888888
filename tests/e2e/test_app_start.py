"""Journey: a newcomer starts the app on an empty database and gets the labelled demo township,
encrypted, with an administrator and a demo 经办人; the next start signs in and keeps the data;
a second copy on the same database is refused."""

import os
import subprocess
import time
from pathlib import Path

from govshare_desktop.core.records import summary
from govshare_desktop.core.security import signin
from govshare_desktop.core.store.township import get_township
from tests.e2e.launch import command

ADMIN, CLERK = "Guanli#2026app", "Qingshui#2026app"


def test_first_start_with_demo_opens_window_and_keeps_data(tmp_path: Path) -> None:
    db = tmp_path / "first.db"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GOVSHARE_ADMIN_PASSWORD": ADMIN,
        "GOVSHARE_CLERK_PASSWORD": CLERK,
        "GOVSHARE_USER": "jingban",
        "GOVSHARE_PASSWORD": CLERK,
    }
    cmd = command("window", "--db", str(db), "--demo", "--demo-households", "40")
    first = subprocess.run(
        [*cmd, "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert "恢复密钥" in first.stderr  # shown once, in the terminal too
    assert not db.read_bytes().startswith(b"SQLite format 3")  # encrypted from the start
    signed = signin.sign_in(db, "jingban", CLERK)
    township = get_township(signed.store)
    assert township is not None and township.is_demo
    assert summary(signed.store).households == 40
    signed.store.dispose()
    # Second start: the data is there; nothing is generated again.
    second = subprocess.run(
        [*cmd, "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert "恢复密钥" not in second.stderr
    signed = signin.sign_in(db, "admin", ADMIN)
    assert summary(signed.store).households == 40
    signed.store.dispose()

    # A second copy of the app on the same database says so and exits.
    running = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        lock = Path(f"{db}.lock")
        while time.monotonic() < deadline and not (lock.exists() and lock.stat().st_size):
            time.sleep(0.2)
        time.sleep(1.0)
        other = subprocess.run(
            [*cmd, "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
        )
        assert other.returncode == 2 and "正在使用" in other.stderr
    finally:
        running.kill()
        running.wait()
