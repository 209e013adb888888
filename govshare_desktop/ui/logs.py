"""Logging for the desktop app: a rotating file in the per-user log directory (everything from
INFO up: the schema migrations, exports …), plus warnings and errors on stderr — a clerk who
starts the program from a terminal sees no English progress lines there.

Unhandled exceptions (a bug, not a :class:`UserError`) are logged with their traceback and shown to the
clerk in a dialog instead of vanishing in a Qt slot.
"""

# Imports inside functions — lazy: logging is set up before anything else loads.

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    from platformdirs import user_log_path

    return user_log_path("govshare-desktop", appauthor=False)


def setup_logging() -> Path | None:
    """Log to ``<user log dir>/govshare-desktop.log`` (5 × 1 MB). Returns the file, if writable."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.WARNING)  # INFO (e.g. alembic's "Running upgrade …") to the file only
    stderr.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(stderr)
    path = log_dir() / "govshare-desktop.log"
    try:
        from logging.handlers import RotatingFileHandler  # lazy: after the first paint

        from govshare_desktop.core.private_files import private_dir

        private_dir(path.parent)  # errors may quote file names: the owner's only (0700)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:  # a read-only profile must not stop the app
        logging.getLogger(__name__).warning("cannot write log file %s: %s", path, exc)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    return path


def install_excepthook() -> None:
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        from govshare_desktop.ui.errors import show_error

        show_error(None, exc)  # logs bugs with their traceback, shows user errors plainly

    sys.excepthook = hook
