"""Journey: a newcomer starts the app on an empty database and gets the labelled demo township."""

import os
import subprocess
import sys
from pathlib import Path

from govshare_desktop.core.records import summary
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.core.store.township import get_township


def test_first_start_with_demo_opens_window_and_keeps_data(tmp_path: Path) -> None:
    db = tmp_path / "first.db"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_STATE_HOME": str(tmp_path / "state")}
    cmd = [
        sys.executable,
        "-m",
        "govshare_desktop",
        "--db",
        str(db),
        "--demo",
        "--demo-households",
        "40",
    ]
    first = subprocess.run(
        [*cmd, "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
    )
    assert first.returncode == 0, first.stderr
    store = open_store(db)
    township = get_township(store)
    assert township is not None and township.is_demo
    assert summary(store).households == 40
    store.dispose()
    # Second start: the data is there; nothing is generated again.
    second = subprocess.run(
        [*cmd, "--quit-after-load"], capture_output=True, text=True, env=env, timeout=120
    )
    assert second.returncode == 0, second.stderr
    store = open_store(db)
    assert summary(store).households == 40
    store.dispose()
