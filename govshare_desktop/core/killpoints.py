"""Named steps where a test can stop this process, to kill it there (``kill -9``) and check that
what is left on disk is whole: setting up a database, writing a backup.

Never active in the product. :func:`reached` does something only when **both**

* the environment variable ``GOVSHARE_TEST_KILLPOINTS`` names a marker file, and
* that marker file exists, belongs to the user running the program, is writable by nobody else,
  and starts with the line :data:`MAGIC` followed by the names of the steps to stop at;

and never in a frozen (installed) program. A test writes the marker into its own temporary
directory. When a listed step is reached, ``KILLPOINT <name>`` goes to stderr and the process
stops itself (``SIGSTOP``); the test sees it stopped (``waitpid(…, WUNTRACED)``) and kills it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

ENV = "GOVSHARE_TEST_KILLPOINTS"
MAGIC = "govshare-test-killpoints/1"


def reached(name: str) -> None:
    """The step ``name`` was reached: stop here if a test asked for it (see the module doc)."""
    marker = os.environ.get(ENV)
    if not marker or getattr(sys, "frozen", False) or not hasattr(os, "getuid"):
        return
    if name not in _requested(Path(marker)):
        return

    print(f"KILLPOINT {name}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)


def _requested(marker: Path) -> set[str]:
    try:
        info = marker.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            return set()
        lines = marker.read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return set()
    return set(lines[1:]) if lines[:1] == [MAGIC] else set()
