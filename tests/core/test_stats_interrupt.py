"""A chart being counted stops at once when asked to (the 工作台 closing, another area chosen): the
statement running is interrupted (SQLite: ``Connection.interrupt()`` or its progress handler
seeing the cancel; PostgreSQL: tests/pg/test_pg_charts.py), the call raises ``Cancelled``, and the
store is as usable as before. The chart's statement is slowed on purpose: a recursive count that
would run for minutes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from govshare_desktop.core import stats_queries
from govshare_desktop.core.browse import Interrupt
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.services import stats
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store

SLOW_SQL = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000)"
    " SELECT COUNT(*) FROM c"
)
NOW = datetime(2026, 11, 26, 10, 0)


def slow_coverage(monkeypatch: Any, sql: str = SLOW_SQL) -> threading.Event:
    """The 参保率 chart's count made slow (minutes); the event is set as its statement starts."""
    started = threading.Event()
    counted = stats_queries.coverage_by_village

    def slow(session: Any, today: Any, **kw: Any) -> Any:
        started.set()
        session.execute(text(sql)).all()
        return counted(session, today, **kw)

    monkeypatch.setattr(stats_queries, "coverage_by_village", slow)
    return started


def run_stopped(store: Store, started: threading.Event, stop: Callable[[], None], **kw: Any) -> Any:
    """stats.charts on a thread, stopped by ``stop()`` once its slow statement runs: what it
    raised (None: it did not end within 30 s — the statement was not interrupted)."""
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            stats.charts(
                Context(store, clock=lambda: NOW, cancel=kw.get("cancel")),
                None,
                kw.get("interrupt"),
            )
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    assert started.wait(30)
    stop()
    thread.join(30)
    return None if thread.is_alive() else (outcome[0] if outcome else "finished")


@pytest.mark.parametrize("by", ["interrupt", "cancel"])
def test_a_chart_stops_midway(demo_store, monkeypatch, by) -> None:
    started = slow_coverage(monkeypatch)
    interrupt, cancel = Interrupt(), Cancel()
    stop = interrupt if by == "interrupt" else cancel.cancel
    raised = run_stopped(demo_store, started, stop, interrupt=interrupt, cancel=cancel)
    assert isinstance(raised, Cancelled) and raised.message == stats_queries.STOPPED
    monkeypatch.undo()
    # The connection it used is back in the pool, unhindered: the charts are counted again.
    chart_set = stats.charts(Context(demo_store, clock=lambda: NOW), None, Interrupt())
    assert sum(chart_set.chart("coverage").series[0].bases) > 100


def test_a_stop_before_the_chart_starts_it_not(demo_store, monkeypatch) -> None:
    started = slow_coverage(monkeypatch)
    interrupt = Interrupt()
    interrupt()
    with pytest.raises(Cancelled):
        stats.charts(Context(demo_store, clock=lambda: NOW), None, interrupt)
    assert not started.is_set()
