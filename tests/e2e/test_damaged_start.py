"""Journey: the database file was damaged (a bad sector, a half-copied file). The start-up check
finds it; the window opens read-only — the clerk can still look things up, nothing more is
written — and says to restore a backup."""

import os
import subprocess
from pathlib import Path

import pytest

from govshare_desktop.core.security.permissions import Action, PermissionDenied, Principal, Role
from tests.e2e.launch import command

ADMIN, CLERK = "Guanli#2026dmg", "Qingshui#2026dmg"


def test_a_damaged_database_opens_read_only(tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GOVSHARE_ADMIN_PASSWORD": ADMIN,
        "GOVSHARE_CLERK_PASSWORD": CLERK,
        "GOVSHARE_USER": "jingban",
        "GOVSHARE_PASSWORD": CLERK,
    }
    cmd = command("window", "--db", str(db), "--demo-households", "60")
    made = subprocess.run(
        [*cmd, "--demo", "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
    )
    assert made.returncode == 0, made.stderr
    good = db.read_bytes()
    pages = len(good) // 4096
    seen: list[str] = []
    # A page of resident data, from the middle outwards (where the tables lie depends on the
    # schema): never a hang, never a silent write — read-only if the damage spares what the
    # window needs first, otherwise a refusal that says to restore. The read-only start must be
    # among the outcomes.
    for page in (pages // 2, pages * 2 // 3, pages * 3 // 4, pages * 5 // 6, pages - 2):
        data = bytearray(good)
        data[page * 4096 + 1000 : page * 4096 + 1064] = bytes(64)
        db.write_bytes(bytes(data))
        started = subprocess.run(
            [*cmd, "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
        )
        read_only = "数据库检查发现损坏" in started.stderr and "只读" in started.stderr
        refused = started.returncode == 2 and "govshare restore" in started.stderr
        assert (read_only and started.returncode == 0) or refused, started.stderr
        seen.append("read-only" if read_only else "refused")
        if read_only:
            break
    assert seen[-1] == "read-only", seen


def test_read_only_allows_reading_and_refuses_writing() -> None:
    principal = Principal("li", Role.CLERK, read_only=True)
    assert principal.may(Action.VIEW) and not principal.may(Action.EDIT_FORMS)
    with pytest.raises(PermissionDenied, match="只读"):
        principal.require(Action.IMPORT)
    principal.require(Action.EXPORT)  # reading out what is there stays possible
