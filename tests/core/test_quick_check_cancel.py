"""The start-up integrity check can be stopped (the window closing): it stops at once, says
"cancelled", and is never taken for damage."""

from __future__ import annotations

import threading

import pytest

from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.store.backup import quick_check
from govshare_desktop.core.store.engine import Store


def test_a_cancelled_check_raises_cancelled_not_damage(demo_store: Store) -> None:
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled, match="已停止数据库检查"):
        quick_check(demo_store, cancel=cancel)
    with pytest.raises(Cancelled):
        quick_check(demo_store, full=True, cancel=cancel)


def test_an_uncancelled_check_is_the_check_and_the_connection_is_clean_afterwards(
    demo_store: Store,
) -> None:
    assert quick_check(demo_store, cancel=Cancel()) == []
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        quick_check(demo_store, cancel=cancel)
    # The handler was taken off the pooled connection: later statements run to the end.
    with demo_store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM ss_payment").scalar()
    assert quick_check(demo_store) == []


def test_cancelling_from_another_thread_stops_a_running_check(demo_store: Store) -> None:
    cancel = Cancel()
    outcome: list[object] = []
    started = threading.Event()

    def run() -> None:
        started.set()
        try:
            # Full checks, over and over, until the token stops one midway.
            for _ in range(10_000):
                quick_check(demo_store, full=True, cancel=cancel)
        except Cancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    started.wait()
    cancel.cancel()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
