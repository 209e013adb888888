"""The preview that is the import (issue 20): the wizard's preview of table files imports them for
real in one transaction and holds it; 「导入」 commits it, Back/Cancel/close roll it back. Proven
here: a held import committed leaves exactly what the plain import leaves (rows, counts, reports,
audit entries); while held nobody else sees anything; rolled back — or the program killed while
holding — nothing is left; a refused file in between leaves nothing and the next still goes in."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import imports
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.models import AuditEntry, Batch, Household, Payment, Person
from govshare_desktop.core.store.township import add_village, init_township
from tests.core.backflow.conftest import VILLAGES
from tests.core.use_cases import covers
from tests.samples import ENROLLMENT_CSV, PAYMENT_CSV, PERSON_WORKBOOK

NOW = datetime(2026, 11, 27, 10, 0)
FILES = [PERSON_WORKBOOK, ENROLLMENT_CSV, PAYMENT_CSV]


def _township(store):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        for code, name in VILLAGES:
            add_village(session, code, name)
    return store


def _content(store) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """What the import leaves, ids and batch numbers aside."""
    with store.sessions() as session:
        return {
            "person": sorted(tuple(r) for r in session.execute(
                select(Person.id_number, Person.name, Person.status, Person.household_no,
                       Person.village_code, Person.name_chars))),
            "household": sorted(tuple(r) for r in session.execute(
                select(Household.household_no, Household.head_name, Household.address))),
            "payment": sorted(tuple(r) for r in session.execute(
                select(Payment.id_number, Payment.period, Payment.total_fen))),
            "batch": sorted(tuple(r) for r in session.execute(
                select(Batch.dataset, Batch.file_name, Batch.rows_total, Batch.rows_inserted,
                       Batch.rows_rejected, Batch.note))),
        }  # fmt: skip


def _counts(results) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        (r.file, r.status, [(d.dataset, d.inserted, d.updated, d.rejected, d.absent, d.summary)
                            for d in r.datasets])
        for r in results
    ]  # fmt: skip


@covers("imports.hold_back_flow", "imports.commit_held")
def test_a_held_import_committed_is_the_import(store, tmp_path) -> None:
    from govshare_desktop.core.store.engine import open_store
    from tests.conftest import as_clerk

    held_store = _township(store)
    plain_store = _township(as_clerk(open_store(tmp_path / "plain.db")))
    plain = imports.import_back_flow(Context(plain_store, clock=lambda: NOW), FILES)
    ctx = Context(held_store, clock=lambda: NOW)
    held = imports.hold_back_flow(ctx, FILES)
    assert held.state == "held"
    assert _counts(held.results) == _counts(plain)  # the preview shows the import's counts
    # Nobody else sees the held rows.
    with held_store.sessions() as other:
        assert other.scalar(select(func.count(Person.id))) == 0
    committed = imports.commit_held(ctx, held)
    assert _counts(committed) == _counts(plain)
    assert all(d.batch_id for r in committed for d in r.datasets)
    assert _content(held_store) == _content(plain_store)
    with held_store.sessions() as session:
        imported = session.scalars(
            select(AuditEntry.object).where(AuditEntry.action == "import").order_by(AuditEntry.seq)
        ).all()
    assert imported == [f.name for f in FILES]
    assert audit_trail(held_store).verify(Principal("audit", Role.AUDITOR)).ok
    plain_store.dispose()


def test_a_held_import_rolled_back_leaves_nothing(store) -> None:
    township = _township(store)
    before = _content(township)
    held = imports.hold_back_flow(Context(township, clock=lambda: NOW), FILES)
    assert held.results[0].datasets[0].inserted > 0
    held.rollback()
    held.rollback()  # again: nothing
    assert held.state == "rolled_back"
    assert _content(township) == before
    with pytest.raises(RuntimeError):
        held.commit()


def test_a_refused_file_in_between_leaves_nothing_and_the_next_goes_in(store, tmp_path) -> None:
    township = _township(store)
    broken = tmp_path / "坏文件.csv"
    broken.write_text("完全,无关,的表头\n1,2,3\n", encoding="utf-8")
    ctx = Context(township, clock=lambda: NOW)
    held = imports.hold_back_flow(ctx, [PERSON_WORKBOOK, broken, ENROLLMENT_CSV])
    assert [r.status for r in held.results] == ["imported", "refused", "imported"]
    imports.commit_held(ctx, held)
    with township.sessions() as session:
        assert session.scalar(select(func.count(Batch.id))) == 2


def test_a_cancelled_hold_raises_and_keeps_nothing(store) -> None:
    township = _township(store)
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        imports.hold_back_flow(Context(township, clock=lambda: NOW, cancel=cancel), FILES)
    assert _content(township)["person"] == []


def test_a_program_killed_while_holding_leaves_nothing(store) -> None:
    township = _township(store)
    before = _content(township)
    path = township.path
    township.dispose()
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(Path(__file__).parents[3])!r})
        from govshare_desktop.core.store.engine import open_store
        from govshare_desktop.core.services import imports
        from govshare_desktop.core.services.context import Context
        from tests.conftest import as_clerk
        from tests.samples import PERSON_WORKBOOK
        store = as_clerk(open_store({str(path)!r}))
        held = imports.hold_back_flow(Context(store), [PERSON_WORKBOOK])
        print("held", held.results[0].datasets[0].inserted, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("held "), line
    finally:
        child.kill()  # SIGKILL: no rollback, no close
        child.wait()
    from govshare_desktop.core.store.engine import open_store
    from tests.conftest import as_clerk

    again = as_clerk(open_store(path))
    assert _content(again) == before
    with again.sessions() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    again.dispose()
