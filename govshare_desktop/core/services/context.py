"""What every use case receives: who is acting (the signed-in store), a clock, and for long work a
progress sink and a cancel check.

The command line and the window build a :class:`Context` once a user has signed in and pass it to
the use-case functions in :mod:`govshare_desktop.core.services`; tests build one around a test
store. The acting identity is always ``store.principal`` — the signed-in account — never the
operating-system login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security.audit import AuditTrail, audit_trail

if TYPE_CHECKING:
    from govshare_desktop.core.security.permissions import Principal
    from govshare_desktop.core.store.engine import Store


@dataclass(frozen=True)
class Context:
    store: Store
    clock: Callable[[], datetime] = datetime.now
    progress: Progress | None = None
    cancel: Cancel | None = None

    @property
    def principal(self) -> Principal:
        return self.store.principal

    @property
    def user(self) -> str:
        """The signed-in account's name, as written into values, history and files."""
        return self.store.principal.username

    def now(self) -> datetime:
        return self.clock()

    def running(self, progress: Progress | None, cancel: Cancel | None) -> Context:
        """The same context for one piece of background work."""
        return replace(self, progress=progress, cancel=cancel)

    def trail(self) -> AuditTrail:
        """The audit trail, written and read as the signed-in account."""

        return audit_trail(self.store)

    def audit(self, action: str, what: str = "", detail: dict[str, Any] | None = None) -> None:
        """One entry in the audit trail, in its own transaction (use cases that change data
        record theirs inside their own transaction instead)."""
        self.trail().log(self.principal, action, what, detail=detail, now=self.now())
