"""Loading, while the sign-in dialog waits for the clerk to type, the modules the signed-in window
needs: the 工作台's sources, the lists, the charts' core —
and SQLAlchemy's mappers configured: about half a second that would otherwise come after 登录 is
pressed, leaving the key derivation, opening the database, reading the 工作台 and painting.

Only the core and the libraries below it load here: never Qt (widgets are made and their modules
loaded on the GUI thread). The dialog waits for the loading to end (:func:`wait`) before it signs
in, so the GUI thread never imports at the same time as this thread (no two threads in one
circular import). A module that fails to load is left to fail again, with its real error, where
it is used; a frozen program loads what it bundles like any other.
"""

# Imports inside functions — lazy: what this module loads is the point of it.

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

MODULES = (
    "govshare_desktop.core.store.migrate",
    "govshare_desktop.core.services.session",
    "govshare_desktop.core.services.admin",
    "govshare_desktop.core.services.laptop",
    "govshare_desktop.core.services.home",  # the 工作台's sources
    "govshare_desktop.core.forms.templates",
    "govshare_desktop.core.records",  # the status bar
    "govshare_desktop.core.browse",  # the lists
    "govshare_desktop.core.store.township",
    "govshare_desktop.core.services.stats",  # the 工作台's charts
    "govshare_desktop.core.export.charts_plots",
)

_thread: threading.Thread | None = None


def start() -> None:
    """Begin loading :data:`MODULES` on a thread of its own (once; again is a no-op)."""
    global _thread
    if _thread is not None:
        return
    _thread = threading.Thread(target=_load, name="govshare-preload", daemon=True)
    _thread.start()


def wait() -> None:
    """Until the loading has ended (at once if it never started)."""
    if _thread is not None:
        _thread.join()


def _load() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # it fails again where it is used, with the window's own handling
            log.debug("preloading %s failed", name, exc_info=True)
    try:
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # the first ORM query's 0.1–0.2 s of working out the relationships
    except Exception:
        log.debug("configuring the mappers failed", exc_info=True)
