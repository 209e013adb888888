"""Run long core work off the UI thread, with a progress dialog that appears only after a delay.

Core functions take ``progress(done, total, label)`` and a cancel token (:mod:`govshare_desktop.core.
progress`); :func:`run_task` calls ``work(progress, cancel)`` on the global ``QThreadPool`` — the
progress reaches the dialog through a signal, the dialog's 取消 sets the token — and hands the result
(or the exception: :class:`~govshare_desktop.core.progress.Cancelled` after a cancel) back on the GUI
thread.

Signals of :class:`_Bridge`: ``progressed(int, int, str)``, ``finished(object)``, ``failed(object)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QElapsedTimer,
    QEventLoop,
    QObject,
    QRunnable,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import QProgressDialog, QWidget

from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.ui.errors import show_error

log = logging.getLogger(__name__)

Work = Callable[[Progress, Cancel], Any]
"""``work(progress, cancel)``: the core call, with the task's progress sink and cancel token."""

SHOW_AFTER_MS = 500


def single_shot_timer(parent: QObject, interval_ms: int) -> QTimer:
    """A single-shot timer with the given interval, owned by ``parent``."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    return timer


class _Bridge(QObject):
    progressed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, work: Work, bridge: _Bridge, cancel: Cancel) -> None:
        super().__init__()
        self._work = work
        self._bridge = bridge
        self._cancel = cancel

    def run(self) -> None:
        try:
            result = self._work(self._bridge.progressed.emit, self._cancel)
        except BaseException as exc:  # handed to the GUI thread, which decides what to show
            self._bridge.failed.emit(exc)
        else:
            self._bridge.finished.emit(result)


class Task(QObject):
    """A running piece of work. Keep a reference until it has finished (run_task does)."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        work: Work,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        """``quiet``: work beside the window that shows no progress dialog (the caller says it
        in the status bar)."""
        super().__init__(parent)
        self.title = title
        self.quiet = quiet
        self._cancel = Cancel()
        self._bridge = _Bridge()
        self._dialog = QProgressDialog(title, "取消", 0, 0, parent)
        self._dialog.setWindowTitle(title)
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(SHOW_AFTER_MS)
        self._dialog.setAutoClose(False)
        self._dialog.setAutoReset(False)
        self._dialog.canceled.connect(self._cancel.cancel)
        self._dialog.reset()  # hidden until progress arrives after the delay
        self._on_success = on_success
        self._on_failure = on_failure
        self.done = False
        self._bridge.progressed.connect(self._on_progress)
        self._bridge.finished.connect(self._finish)
        self._bridge.failed.connect(self._fail)
        self._show_timer = single_shot_timer(self, SHOW_AFTER_MS)
        self._show_timer.timeout.connect(self._dialog.show)
        if not quiet:
            self._show_timer.start()
        _RUNNING.append(self)
        QThreadPool.globalInstance().start(_Runnable(work, self._bridge, self._cancel))

    def cancel(self) -> None:
        self._cancel.cancel()

    def abandon(self) -> None:
        """Cancel the work and forget what was to follow it: the window that asked for it is
        closing, so neither a result nor a failure is shown (the work itself leaves nothing
        behind once cancelled — the core's promise)."""
        self._on_success = lambda _result: None
        self._on_failure = lambda _exc: None
        self._cancel.cancel()

    def _on_progress(self, done: int, total: int, label: str) -> None:
        self._dialog.setMaximum(max(total, 0))
        self._dialog.setValue(min(done, total) if total else 0)
        self._dialog.setLabelText(label)

    def _close(self) -> None:
        self.done = True
        if self in _RUNNING:
            _RUNNING.remove(self)
        self._show_timer.stop()
        # reset() stops the dialog's own timer, which the first progress armed (setValue at the
        # minimum): left running, it showed the dialog again over the message that follows —
        # whose event loop runs before the deferred delete below.
        self._dialog.reset()
        self._dialog.hide()
        self._dialog.deleteLater()

    def _finish(self, result: Any) -> None:
        self._close()
        self._on_success(result)

    def _fail(self, exc: BaseException) -> None:
        self._close()
        if self._on_failure is not None:
            self._on_failure(exc)
        else:
            parent = self.parent()
            show_error(parent if isinstance(parent, QWidget) else None, exc)


_RUNNING: list[Task] = []  # started, not yet finished or failed (the GUI thread's view)


def running_tasks(parent: QObject | None = None) -> list[Task]:
    """The tasks still at work: all of them, or those ``parent`` or one of its children owns."""
    return [t for t in _RUNNING if parent is None or _owned_by(t, parent)]


def _owned_by(task: Task, owner: QObject) -> bool:
    node = task.parent()
    while node is not None:
        if node is owner:
            return True
        node = node.parent()
    return False


def abandon_tasks(tasks: list[Task], *, timeout_ms: int = 30_000) -> bool:
    """Cancel ``tasks`` and wait (events flowing) until each has stopped, so that no worker
    thread still uses the database when the window closes and its store is disposed of.
    False when one did not stop within ``timeout_ms``."""
    for task in tasks:
        task.abandon()
    timer = QElapsedTimer()
    timer.start()
    while any(not t.done for t in tasks):
        if timer.elapsed() > timeout_ms:
            log.warning("tasks still running at close: %s", [t.title for t in tasks if not t.done])
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QThread.msleep(10)
    return True


def run_task(
    parent: QWidget | None,
    title: str,
    work: Work,
    on_success: Callable[[Any], None],
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    quiet: bool = False,
) -> Task:
    return Task(parent, title, work, on_success, on_failure, quiet=quiet)
