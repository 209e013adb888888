"""Several back-flow files in the clerk's order — tables and packages mixed — imported for real or
dry-run together.

    results = import_files(store, [Source(a), Source(b), Source(package)], user=..., dry_run=True)

The real run imports each file in its own transaction, as it comes: a refused or unreadable file
changes nothing and the next one still goes in. The dry run runs exactly that — the same files in
the same order, each seeing what the files before it changed — in ONE transaction that is rolled
back at the end (each file in a savepoint, so a refused one leaves no trace for the next), so its
counts are the real run's counts, file by file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.packages import PackageResult, import_package, is_package
from govshare_desktop.core.backflow.pipeline import (
    DatasetResult,
    ImportPlan,
    _audit_detail,
    plan_file,
    run_plan,
)
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store


@dataclass
class Source:
    """One file to import: a table (``plan`` as the clerk confirmed it, or planned here with the
    run's plan options) or a package (``package``: None → look at the file)."""

    path: Path
    plan: ImportPlan | None = None
    package: bool | None = None


@dataclass
class FileResult:
    """What one file did: its datasets, and for a package what became of it."""

    file: str
    status: (
        str  # imported | refused (a table), or a package's applied/already_received/held/refused
    )
    datasets: list[DatasetResult] = field(default_factory=list)
    package: PackageResult | None = None
    reason_code: str | None = None
    message: str = ""

    @property
    def refused(self) -> bool:
        return self.status == "refused"

    def as_json(self) -> dict[str, Any]:
        if self.package is not None:
            return self.package.as_json()
        if self.datasets:
            return self.datasets[0].as_json()
        return {
            "file": self.file,
            "status": self.status,
            "reason_code": self.reason_code,
            "message": self.message,
        }


def import_files(
    store: Store,
    sources: Sequence[Source],
    *,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    plan_options: Mapping[str, Any] | None = None,
) -> list[FileResult]:
    """Import ``sources`` in order; a dry run does the same in one transaction, rolled back."""
    store.principal.require(Action.IMPORT)
    now = now or datetime.now()
    options = dict(plan_options or {})

    def one(source: Source, session: Session | None) -> FileResult:
        return _one(store, source, session, user, dry_run, now, progress, cancel, options)

    if not dry_run:
        return [_guarded(source, partial(one, source, None)) for source in sources]
    results: list[FileResult] = []
    session = store.sessions()
    try:
        with session.begin():
            _begin(session)
            for source in sources:
                savepoint = session.begin_nested()
                result = _guarded(source, partial(one, source, session), savepoint.rollback)
                if savepoint.is_active:
                    savepoint.commit()
                results.append(result)
            session.rollback()
    finally:
        session.close()
    return results


def _one(
    store: Store,
    source: Source,
    session: Session | None,
    user: str,
    dry_run: bool,
    now: datetime,
    progress: Progress | None,
    cancel: Cancel | None,
    options: Mapping[str, Any],
) -> FileResult:
    path = Path(source.path)
    package = source.package if source.package is not None else is_package(path)
    if package:
        outcome = import_package(
            store,
            path,
            user=user,
            dry_run=dry_run,
            now=now,
            progress=progress,
            cancel=cancel,
            session=session,
        )
        return FileResult(
            file=path.name,
            status=outcome.status,
            datasets=_all_datasets(outcome),
            package=outcome,
            reason_code=outcome.reason_code,
            message=outcome.message,
        )
    plan = source.plan or plan_file(store, path, **options)
    result = run_plan(
        store,
        plan,
        user=user,
        dry_run=dry_run,
        now=now,
        progress=progress,
        cancel=cancel,
        session=session,
    )
    return FileResult(file=path.name, status="imported", datasets=[result])


def _all_datasets(package: PackageResult) -> list[DatasetResult]:
    """The package's datasets and those of the held packages it released, in order."""
    found = list(package.datasets)
    for released in package.released:
        found += _all_datasets(released)
    return found


def _guarded(
    source: Source,
    run: Callable[[], FileResult],
    on_refusal: Callable[[], None] | None = None,
) -> FileResult:
    """A file a clerk's error (bad file, wrong columns) stops is refused; the others go on. A
    cancel stops them all; a bug is not caught."""
    try:
        return run()
    except Cancelled:
        raise
    except UserError as exc:
        if on_refusal is not None:
            on_refusal()
        return FileResult(
            file=Path(source.path).name,
            status="refused",
            reason_code="unreadable",
            message=exc.message,
        )


def _begin(session: Session) -> None:
    """Start the SQLite transaction now: the DB-API module opens one lazily, before the first
    INSERT/UPDATE, so a SAVEPOINT issued first would start (and its RELEASE commit) a
    transaction of its own, outside the one to be rolled back."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN")


class HeldImport:
    """The real import of table files, done once and held uncommitted until the clerk decides:
    the wizard's preview shows its results and 「导入」 commits them (:meth:`commit`), so a large
    file is not imported twice; Back, Cancel or closing the wizard rolls it back
    (:meth:`rollback`).

    The files run as :func:`import_files` runs them for real (batches, change reports, rejected
    rows kept, the 预填 summary brought up to date), in ONE transaction, each file in a
    savepoint (a refused file leaves nothing, the next still goes in), on a thread of its own
    that keeps the session until the decision (SQLite connections stay on their thread). The
    audit entries are written at the commit, in the same transaction: the audit chain's row is
    locked by each entry, and holding it while a clerk reads the preview would stop every other
    clerk's audited work on a server.

    While held nobody else sees the rows (a killed program commits nothing: the database rolls
    the transaction back). On SQLite the file has one writer: the program's other writes wait
    for the decision (the wizard is modal there). On PostgreSQL the other clerks work on; only
    a write to the same records, or another import's summary refresh, waits for it.

    Packages are not held (their own checks and audit run inside the import): the wizard previews
    them with a dry run as before.
    """

    def __init__(
        self,
        store: Store,
        sources: Sequence[Source],
        *,
        user: str,
        now: datetime | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        plan_options: Mapping[str, Any] | None = None,
    ) -> None:
        store.principal.require(Action.IMPORT)
        self.store = store
        self.results: list[FileResult] = []
        self.state = "running"  # → held → committed | rolled_back (| failed)
        self._now = now or datetime.now()
        self._plans: list[ImportPlan | None] = []
        self._decision: queue.Queue[str] = queue.Queue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        work = partial(self._hold, list(sources), user, progress, cancel, dict(plan_options or {}))
        self._thread = threading.Thread(target=work, name="govshare-held-import", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:  # refused before holding (a cancel, a bug): nothing kept
            self._thread.join()
            error, self._error = self._error, None
            raise error
        self.state = "held"

    def commit(self) -> list[FileResult]:
        """Write the audit entries and commit: the import is done (its errors raised here)."""
        self._decide("commit")
        self.state = "committed"
        return self.results

    def rollback(self) -> None:
        """Leave the database as it was (again: nothing)."""
        if self.state == "held":
            self._decide("rollback")
            self.state = "rolled_back"

    def _decide(self, decision: str) -> None:
        if self.state != "held":
            raise RuntimeError(f"the import is {self.state}, not held")
        self._decision.put(decision)
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            self.state = "failed"
            raise error

    def _hold(
        self,
        sources: list[Source],
        user: str,
        progress: Progress | None,
        cancel: Cancel | None,
        options: dict[str, Any],
    ) -> None:
        session = self.store.sessions()
        try:
            with session.begin():
                _begin(session)
                for source in sources:
                    self.results.append(self._one(session, source, user, progress, cancel, options))
                self._ready.set()
                if self._decision.get() == "commit":
                    self._audit(session)
                else:
                    session.rollback()
        except BaseException as exc:  # handed to the caller: the constructor, commit()
            self._error = exc
        finally:
            session.close()
            self._ready.set()

    def _one(
        self,
        session: Session,
        source: Source,
        user: str,
        progress: Progress | None,
        cancel: Cancel | None,
        options: Mapping[str, Any],
    ) -> FileResult:
        plan: list[ImportPlan] = []

        def run() -> FileResult:
            plan.append(source.plan or plan_file(self.store, Path(source.path), **options))
            held = Source(source.path, plan=plan[0], package=False)
            return _one(self.store, held, session, user, False, self._now, progress, cancel, {})

        savepoint = session.begin_nested()
        result = _guarded(source, run, savepoint.rollback)
        if savepoint.is_active:
            savepoint.commit()
        self._plans.append(plan[0] if plan and not result.refused else None)
        return result

    def _audit(self, session: Session) -> None:
        trail = audit_trail(self.store)
        for plan, outcome in zip(self._plans, self.results, strict=True):
            if plan is None:
                continue
            detail = _audit_detail(plan, outcome.datasets[0])
            trail.record(
                session,
                self.store.principal,
                "import",
                plan.file_name,
                detail=detail,
                now=self._now,
            )
