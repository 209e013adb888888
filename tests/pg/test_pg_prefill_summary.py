"""The 预填 summary on PostgreSQL (issue 20): built by the demo generator, refreshed by imports
(payments through COPY, persons who move with their payments), rolled back with an import, marked
dirty by the triggers when a record is changed by hand — and always giving the values the records
give, as on SQLite (tests/core/forms/test_prefill_summary.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from govshare_desktop.core.backflow.pipeline import import_file, plan_file, run_plan
from govshare_desktop.core.store.summary import is_fresh
from tests.core.forms.test_prefill_summary import (
    NOW,
    _assert_as_rebuilt,
    _assert_same_values,
    _payment_file,
    _person_file,
    _summary,
    _values,
)

PERIODS = ["2026-10", "2026Q3", "2025", "2024-02"]


def test_the_demo_townships_summary_gives_the_records_values(pg_demo_store, monkeypatch) -> None:
    _assert_same_values(pg_demo_store, monkeypatch, PERIODS)
    _assert_as_rebuilt(pg_demo_store)


def test_imports_refresh_it_and_a_rollback_takes_the_refresh_back(
    pg_demo_store, monkeypatch, tmp_path
) -> None:
    store = pg_demo_store
    for month, skip, change in ((202610, 7, 5), (202611, 1000, 3)):
        path = _payment_file(store, tmp_path, month, skip=skip, change=change)
        import_file(store, path, user="clerk", now=NOW)
        _assert_as_rebuilt(store)
    persons = _person_file(store, tmp_path)
    result = import_file(store, persons, user="clerk", now=NOW, full_snapshot=False)
    assert result.inserted > 0 and result.updated > 0
    _assert_as_rebuilt(store)
    _assert_same_values(store, monkeypatch, ["2026-10", "2026-11", "2026Q4", "2025"])
    with store.sessions() as session:
        before = _summary(session)
    plan = plan_file(store, _payment_file(store, tmp_path, 202610, skip=2, change=3))
    with store.sessions() as session:
        with session.begin():
            run_plan(store, plan, user="clerk", now=NOW, session=session)
            assert _summary(session) != before
            session.rollback()
        assert _summary(session) == before and is_fresh(session)


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE person SET status = 'deceased', status_date = '2026-10-05' WHERE id % 40 = 0",
        "UPDATE ss_payment SET total_fen = total_fen + 1 WHERE period = 202610 AND id % 9 = 0",
        "DELETE FROM ss_payment WHERE period = 202610 AND id % 9 = 0",
    ],
    ids=["status", "amount", "delete"],
)
def test_a_record_changed_by_hand_is_counted_from_the_records(
    pg_demo_store, monkeypatch, edit
) -> None:
    store = pg_demo_store
    with store.transaction() as session:
        session.execute(text("UPDATE person SET household_id = household_id"))  # not summarised
        assert is_fresh(session)
        session.execute(text(edit))
        assert not is_fresh(session)
    read = _values(store, "2026Q4", summary=True, monkeypatch=monkeypatch)
    assert read == _values(store, "2026Q4", summary=False, monkeypatch=monkeypatch)
