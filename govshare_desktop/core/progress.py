"""Long work in the core: how it says how far it has got, and how it is asked to stop.

Every long core function (an import, the demo data, an export, a backup or restore) takes two
optional keyword arguments, the same everywhere:

* ``progress: Progress`` — ``progress(done, total, label)``: ``done`` of ``total`` steps (``total``
  0: not known yet), ``label`` says in Chinese what is being done. It is called from the worker
  thread and must return quickly; the window's task helper (``ui/tasks.py``) turns it into a signal.
* ``cancel: Cancel`` — a token whoever started the work sets (the dialog's 取消 button, Ctrl+C).
  The function looks at it between steps (:meth:`Cancel.check`) and stops with :class:`Cancelled`,
  leaving nothing behind: no file written, nothing applied to the database.

Nothing else: no second signature, no event-like or callable stand-ins, one error for "stopped
because asked to".
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from govshare_desktop.core.errors import UserError

Progress = Callable[[int, int, str], None]
"""``progress(done, total, label)``."""

CANCELLED = "已取消，未作任何修改。"


class Cancelled(UserError):
    """The work stopped because it was asked to; it left nothing behind. The message says what
    was not done (e.g. 「已取消导出，没有生成文件。」)."""

    def __init__(self, message: str = CANCELLED) -> None:
        super().__init__(message)


class Cancel:
    """A cancel token: set once from any thread, read by the work between its steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop (it stops at its next look)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self, message: str = CANCELLED) -> None:
        """Raise :class:`Cancelled` (with ``message``: what was not done) if asked to stop."""
        if self._event.is_set():
            raise Cancelled(message)


def check(cancel: Cancel | None, message: str = CANCELLED) -> None:
    """:meth:`Cancel.check` for functions whose ``cancel`` is optional."""
    if cancel is not None:
        cancel.check(message)


def report(progress: Progress | None, done: int, total: int, label: str = "") -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(done, total, label)
