"""The background task runner: results come back on the GUI thread; cancel and failure are handled."""

import threading
import time

from PySide6.QtWidgets import QWidget

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.ui.tasks import run_task


def test_result_arrives_on_gui_thread_with_progress(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    results = []
    worker_threads = []

    def work(progress, cancel):
        worker_threads.append(threading.current_thread())
        for i in range(3):
            progress(i + 1, 3, "处理中")
        return 42

    task = run_task(parent, "测试", work, lambda r: results.append((r, threading.current_thread())))
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert results == [(42, threading.main_thread())]
    assert worker_threads[0] is not threading.main_thread()


def test_cancel_reaches_the_work(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    failures = []
    started = threading.Event()

    def work(progress: Progress, cancel: Cancel) -> str:
        started.set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            cancel.check("已取消测试")
            time.sleep(0.01)
        return "not cancelled"

    task = run_task(parent, "测试", work, lambda r: failures.append(r), failures.append)
    started.wait(2)
    task.cancel()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert len(failures) == 1 and isinstance(failures[0], Cancelled)
    assert isinstance(failures[0], UserError) and failures[0].message == "已取消测试"


def test_failure_is_handed_to_the_handler(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    failures = []

    def work(progress, cancel):
        raise ValueError("bug")

    task = run_task(parent, "测试", work, lambda r: None, failures.append)
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert isinstance(failures[0], ValueError)
