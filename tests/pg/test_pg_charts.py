"""The 工作台's charts on PostgreSQL read from the summary (``summary_coverage`` of migration 0017,
``summary_person``, ``summary_payment``) equal the charts counted from the records, as on SQLite
(tests/core/test_stats_summary.py) — the summary's month arithmetic is PostgreSQL's own there."""

from __future__ import annotations

from sqlalchemy import text

from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.store.summary import is_fresh
from tests.core.forms.test_prefill_summary import NOW, _payment_file, _person_file
from tests.core.test_stats_summary import (
    DAYS,
    _assert_coverage_as_rebuilt,
    _assert_same_charts,
)


def test_the_charts_from_the_summary_are_the_records_charts(
    pg_demo_store, monkeypatch, tmp_path
) -> None:
    store = pg_demo_store
    _assert_same_charts(store, monkeypatch)
    _assert_coverage_as_rebuilt(store)
    import_file(store, _payment_file(store, tmp_path, 202610, skip=7, change=5), user="c", now=NOW)
    moved = _person_file(store, tmp_path)
    assert import_file(store, moved, user="c", now=NOW, full_snapshot=False).updated > 0
    _assert_coverage_as_rebuilt(store)
    _assert_same_charts(store, monkeypatch, DAYS[:4])


def test_an_enrollment_given_to_another_person_marks_the_summary(pg_demo_store) -> None:
    with pg_demo_store.transaction() as session:
        session.execute(
            text(
                "UPDATE ss_enrollment SET id_number = (SELECT MIN(id_number) FROM person"
                " WHERE id_number NOT IN (SELECT id_number FROM ss_enrollment))"
                " WHERE id = (SELECT MAX(id) FROM ss_enrollment)"
            )
        )
        assert not is_fresh(session)


def test_a_chart_stops_midway_on_the_server(pg_demo_store, monkeypatch) -> None:
    """The chart's query is cancelled on the server (psycopg's cancel) and the store goes on."""
    from govshare_desktop.core.browse import Interrupt
    from govshare_desktop.core.progress import Cancelled
    from tests.core.test_stats_interrupt import run_stopped, slow_coverage

    started = slow_coverage(monkeypatch, "SELECT pg_sleep(120)")
    interrupt = Interrupt()
    raised = run_stopped(pg_demo_store, started, interrupt, interrupt=interrupt)
    assert isinstance(raised, Cancelled)
    monkeypatch.undo()
    _assert_same_charts(pg_demo_store, monkeypatch, DAYS[:1])
