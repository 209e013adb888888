"""TEST ONLY: start ``govshare`` or the window as the end-to-end tests do — with the test suite's
cheap Argon2id profile (:mod:`tests.kdf`) — and otherwise exactly as the product starts::

    python tests/e2e/launch.py cli ARGS…      # govshare ARGS…  (govshare_desktop.cli.main)
    python tests/e2e/launch.py window ARGS…   # python -m govshare_desktop ARGS…

The profile is switched inside this process before the program runs; nothing the product reads
(no environment variable, no file) can switch it. A plain ``python -m govshare_desktop.cli`` makes
full-strength hashes (tests/core/security/test_kdf_profile.py checks). Tests about the hashing
itself run the product directly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve()


def command(program: str, *args: str) -> list[str]:
    """The command line that runs ``program`` ("cli" or "window") with ``args``."""
    if program not in ("cli", "window"):
        raise ValueError(program)
    return [sys.executable, str(LAUNCHER), program, *args]


def main(argv: Sequence[str]) -> int:
    program, *args = argv
    from tests.kdf import use_cheap_kdf

    use_cheap_kdf()
    sys.argv = [sys.argv[0], *args]
    if program == "cli":
        from govshare_desktop.cli import main as run
    elif program == "window":
        from govshare_desktop.ui.app import main as run
    else:
        raise SystemExit(f"launch.py: cli or window, not {program!r}")
    return int(run(args))


if __name__ == "__main__":
    # Run as a file: the repository (for ``tests``), not this folder, first on the path.
    sys.path[0] = str(REPO)
    sys.exit(main(sys.argv[1:]))
