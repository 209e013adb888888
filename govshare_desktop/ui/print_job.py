"""A printout streamed page by page: the pages are read and laid out off the UI thread and painted
on the printer on the UI thread, in slices between events.

Why the painting stays on the UI thread: Qt allows a QPainter on a QPrinter in another thread, but
the printer (its dialog, its native device on Windows) was made on the UI thread, and a printer's
engine is not safe to hand between threads on every platform; the costly part — the database
queries and the text measuring of the layout — is what the worker does. Painting a page takes a
few milliseconds, so slices of at most :data:`SLICE_MS` keep the window responsive (the progress
dialog's 取消, the idle lock). The pages wait in a queue of at most :data:`QUEUED` pages: the
memory of a few pages, whatever the batch's size.

A printer that writes a PDF file (「打印到文件」, or the tests) writes a temporary file beside the
target, renamed into place when the last page is done: a cancelled or failed printout leaves no
half file under the name the clerk chose.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QProgressDialog, QWidget

from govshare_desktop.core.export.page_source import PRINT_CANCELLED, PageSource
from govshare_desktop.core.progress import Cancel, Cancelled, Progress, check
from govshare_desktop.ui.page_painting import PagePainter
from govshare_desktop.ui.tasks import Task, run_task

log = logging.getLogger(__name__)

QUEUED = 32  # pages laid out and waiting for the painter
SLICE_MS = 40  # painting between two looks at the event queue
_DONE = object()


class StreamedPrint(QObject):
    """Pages ``first`` to ``last`` (1-based, inclusive; ``last`` None: to the end) of ``source``
    printed on ``printer``. ``finished(pages)`` once the last is on the printer;
    ``failed(exception)`` — :class:`~govshare_desktop.core.progress.Cancelled` after 取消."""

    finished = Signal(int)
    failed = Signal(object)

    def __init__(
        self,
        parent: QWidget,
        source: PageSource,
        printer: QPrinter,
        first: int = 1,
        last: int | None = None,
        *,
        watermark: str | None = None,
        task_parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.printer = printer
        self.first, self.last = first, last
        self.painter = PagePainter(printer, watermark)
        self.pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUED)
        self.printed = 0
        self.max_queued = 0  # the most pages waiting at once (tests: bounded)
        self.counting: tuple[int, int, str] | None = None
        self.done = False
        self.task: Task | None = None
        self._task_parent = task_parent if task_parent is not None else parent
        self._target: Path | None = None
        self._temp: Path | None = None
        self.dialog = QProgressDialog("正在准备打印……", "取消", 0, 0, parent)
        self.dialog.setWindowTitle("打印")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(300)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.stop)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._slice)

    def start(self) -> None:
        if self.printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
            name = self.printer.outputFileName()
            if name:
                self._target = Path(name)
                handle, temp = tempfile.mkstemp(
                    prefix=".govshare-", suffix=".pdf", dir=self._target.parent
                )
                os.close(handle)
                self._temp = Path(temp)
                self.printer.setOutputFileName(temp)
        self.task = run_task(
            self._task_parent, "正在打印……", self._produce, _ignore, _ignore, quiet=True
        )
        self.timer.start(0)

    # ---------------------------------------------------------------- the worker

    def _produce(self, _progress: Progress, cancel: Cancel) -> None:
        """Lay the pages out in order and queue them (waiting while the queue is full)."""

        def counting(done: int, total: int, label: str) -> None:
            self.counting = (done, total, label)

        try:
            stream = self.source.stream(self.first, self.last, progress=counting, cancel=cancel)
            for item in stream:
                self._put(item, cancel)
                self.counting = None
            self._put(_DONE, cancel)
        except Cancelled:
            raise
        except Exception as exc:  # to the UI thread, which stops the printout
            self._put(exc, cancel)

    def _put(self, item: Any, cancel: Cancel) -> None:
        while True:
            check(cancel, PRINT_CANCELLED)
            try:
                self.pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    # ---------------------------------------------------------------- the UI thread

    def _slice(self) -> None:
        """Paint the queued pages for at most SLICE_MS, then let events through."""
        clock = QElapsedTimer()
        clock.start()
        self.max_queued = max(self.max_queued, self.pages.qsize())
        while clock.elapsed() < SLICE_MS:
            try:
                item = self.pages.get_nowait()
            except queue.Empty:
                if self.task is not None and self.task.done:  # stopped without a last page:
                    self._abort(Cancelled(PRINT_CANCELLED))  # the window closing cancelled it
                    return
                self.timer.setInterval(10)  # the worker is behind: do not spin
                self._say()
                return
            if item is _DONE:
                self._finish()
                return
            if isinstance(item, BaseException):
                self._abort(item)
                return
            number, total, page = item
            try:
                self.painter.add(page, number, total)
            except OSError as exc:
                self._abort(exc)
                return
            self.printed += 1
        self.timer.setInterval(0)
        self._say()

    def _say(self) -> None:
        if self.counting is not None and not self.printed:
            done, total, label = self.counting
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))
            self.dialog.setLabelText(label)
            return
        pages = self.source.total().pages
        last = pages if self.last is None else min(self.last, pages)
        wanted = max(1, last - self.first + 1)
        self.dialog.setMaximum(wanted)
        self.dialog.setValue(min(self.printed, wanted))
        self.dialog.setLabelText(f"正在打印：第 {self.printed} 页，共 {wanted} 页")

    def stop(self) -> None:
        """取消: the worker stops, the printer drops the job, no file is left."""
        if not self.done:
            self._abort(Cancelled(PRINT_CANCELLED))

    def _abort(self, exc: BaseException) -> None:
        self.done = True
        self.timer.stop()
        if self.task is not None:
            self.task.cancel()
        self.painter.abort()
        self._drain()
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
        self._restore_name()
        self._close_dialog()
        log.info("printing stopped after %d pages: %s", self.printed, exc)
        self.failed.emit(exc)

    def _finish(self) -> None:
        self.done = True
        self.timer.stop()
        self.painter.end()
        if self._temp is not None and self._target is not None:
            if self.printed:
                os.replace(self._temp, self._target)
            else:
                self._temp.unlink(missing_ok=True)
        self._restore_name()
        self._close_dialog()
        log.info("printed %d pages", self.printed)
        self.finished.emit(self.printed)

    def _drain(self) -> None:
        while True:
            try:
                self.pages.get_nowait()
            except queue.Empty:
                return

    def _restore_name(self) -> None:
        if self._target is not None:
            self.printer.setOutputFileName(str(self._target))

    def _close_dialog(self) -> None:
        self.dialog.reset()
        self.dialog.hide()
        self.dialog.deleteLater()


def _ignore(_result: object) -> None:
    """The worker's own end: what it made went through the queue."""
