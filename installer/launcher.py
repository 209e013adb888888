"""Entry point of the frozen program (PyInstaller): one bundle, two executables.

``govshare-desktop`` (windowed on Windows) starts the window exactly as the installed
``govshare-desktop`` script does; ``govshare`` is the command line: a console program of its own on
Windows, a symlink to the same program elsewhere. The name it was started as decides.
"""

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()
    # Alembic imports the migration scripts from the (read-only, package-owned) program folder:
    # no __pycache__ there, which a later package upgrade would trip over.
    sys.dont_write_bytecode = True
    if Path(sys.argv[0]).stem.lower() == "govshare":
        from govshare_desktop.cli import main as cli_main

        return cli_main()
    from govshare_desktop.ui.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
