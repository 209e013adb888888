"""The log folder is its owner's only (0700), even if an earlier version made it open."""

from __future__ import annotations

import logging
import stat
import sys
from pathlib import Path

import pytest

from govshare_desktop.ui import logs


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_log_folder_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "log"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setattr(logs, "log_dir", lambda: folder)
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert logs.setup_logging() == folder / "govshare-desktop.log"
    finally:
        for handler in root.handlers[len(before) :]:
            handler.close()
        root.handlers[:] = before
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
