"""Closing the window while work runs beside it: the clerk is asked, 否 keeps the window and the
work, 是 cancels the work and waits for it before the window closes — nothing is shown after."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.ui.tasks import run_task, running_tasks


def _answer(button: QMessageBox.StandardButton, seen: list[str], tries: int = 100) -> None:
    """Press ``button`` on the question when it appears (it runs its own event loop); looks
    ``tries`` times, 20 ms apart."""

    def answer(left: int = tries) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if left:
                QTimer.singleShot(20, lambda: answer(left - 1))
            return
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(20, answer)


def _waits_for_cancel(stopped: threading.Event):  # type: ignore[no-untyped-def]
    def work(progress: Progress, cancel: Cancel) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if cancel.cancelled:
                stopped.set()
                raise Cancelled("已取消导入，数据库未作任何修改。")
            time.sleep(0.01)
        return "finished"

    return work


def _settled(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """The window's own work beside it (the 工作台's charts, the counts) finished first."""
    qtbot.waitUntil(lambda: not running_tasks(window), timeout=20_000)


def test_closing_asks_and_no_keeps_the_work_running(qtbot, window) -> None:
    _settled(qtbot, window)
    stopped = threading.Event()
    shown: list[object] = []
    task = run_task(window, "正在导入……", _waits_for_cancel(stopped), shown.append, shown.append)
    assert running_tasks(window) == [task]
    seen: list[str] = []
    _answer(QMessageBox.StandardButton.No, seen)
    window.close()
    assert seen and "「导入」还没有完成" in seen[0] and "数据库保持开始之前的样子" in seen[0]
    assert window.isVisible() and not task.done and not stopped.is_set()

    _answer(QMessageBox.StandardButton.Yes, seen)
    window.close()
    assert len(seen) == 2
    assert stopped.is_set() and task.done  # waited for before the window closed
    assert not window.isVisible()
    assert shown == []  # no result, no error message over a closed window
    assert running_tasks() == []


def test_work_beside_the_window_is_stopped_without_asking(qtbot, window) -> None:
    stopped = threading.Event()
    task = run_task(window, "正在检查数据库……", _waits_for_cancel(stopped), print, quiet=True)
    seen: list[str] = []
    _answer(QMessageBox.StandardButton.No, seen, tries=5)  # would keep the window: never asked
    window.close()  # no question: a quiet task is the window's own business
    qtbot.wait(200)
    assert seen == [] and task.done and stopped.is_set()
    assert not window.isVisible()


def test_the_real_start_up_check_stops_when_the_window_closes(qtbot, window, demo_store) -> None:
    from govshare_desktop.core.store.backup import quick_check

    done: list[object] = []

    def check(progress: Progress, cancel: Cancel) -> list[str]:
        for _ in range(100_000):  # the check of a big township: long enough to be closed on
            quick_check(demo_store, full=True, cancel=cancel)
        return []

    task = run_task(window, "正在检查数据库……", check, done.append, done.append, quiet=True)
    qtbot.wait(100)
    window.close()
    assert task.done and done == [] and not window.isVisible()
