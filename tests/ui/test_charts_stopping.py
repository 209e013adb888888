"""The 工作台's charts panel stops the chart it is counting at once: when the window closes
(``abandon_tasks``: closing does not wait for the count) and when another area is chosen (the new
area's charts follow). The count is slowed on purpose (tests/core/test_stats_interrupt.py)."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool

from govshare_desktop.ui.charts import ChartsPanel, ChartsTask
from govshare_desktop.ui.tasks import abandon_tasks, running_tasks
from tests.conftest import TODAY
from tests.core.test_stats_interrupt import slow_coverage

VILLAGE = "441900199201"


def _loading_panel(qtbot, store, monkeypatch):  # type: ignore[no-untyped-def]
    started = slow_coverage(monkeypatch)
    panel = ChartsPanel(store, today=lambda: TODAY, background=True)
    qtbot.addWidget(panel)
    panel.show()
    assert isinstance(panel.loading, ChartsTask)
    qtbot.waitUntil(started.is_set, timeout=10_000)
    return panel


def test_closing_stops_the_chart_being_counted(qtbot, demo_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    panel = _loading_panel(qtbot, demo_store, monkeypatch)
    task = panel.loading
    assert running_tasks(panel) == [task] and panel.message.text() == "正在统计……"
    # The count would take minutes; the close waits for its statement to be interrupted only.
    assert abandon_tasks(running_tasks(panel), timeout_ms=10_000)
    assert task.done and task.interrupt.requested and not running_tasks(panel)
    assert QThreadPool.globalInstance().waitForDone(5_000)  # no worker left using the database


def test_another_area_stops_the_count_and_shows_its_charts(qtbot, demo_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    panel = _loading_panel(qtbot, demo_store, monkeypatch)
    first = panel.loading
    monkeypatch.undo()  # the next count is quick
    with qtbot.waitSignal(panel.reloaded, timeout=10_000):
        panel.select_area(VILLAGE)
    qtbot.waitUntil(lambda: first.done, timeout=10_000)
    assert first.interrupt.requested and panel.loading is None
    assert panel.chart_set is not None and panel.chart_set.area == VILLAGE
    assert panel.message.isHidden()


def test_the_window_closes_while_its_charts_are_counted(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.charts_panel is not None, timeout=5_000)
    panel = window.charts_panel
    qtbot.waitUntil(lambda: panel.loading is None, timeout=10_000)  # the first count is done
    started = slow_coverage(monkeypatch)
    panel.reload()
    qtbot.waitUntil(started.is_set, timeout=10_000)
    task = panel.loading
    window.close()  # the count is quiet: no question asked
    assert window.isHidden() and task.done and not running_tasks(window)
    assert QThreadPool.globalInstance().waitForDone(5_000)
