"""The print preview of forms, a page at a time: 第 N 页 共 M 页, 上一页/下一页 (PgUp/PgDn), a page
number to jump to, zoom, 水印, and 打印… (Ctrl+P) through the system's printer dialog; Esc closes.

Only the page on screen is laid out and painted, from a :class:`~govshare_desktop.core.export.
page_source.PageSource` that reads the few forms around it: the first page of a township's batch
shows as soon as whom it covers is read, and the preview holds a few dozen pages whatever the
batch's size (Qt's own preview keeps a picture of every page). The number of pages is counted off
the UI thread while the clerk looks (an estimate, said as such, until then); the printout streams
the pages to the printer (:mod:`~govshare_desktop.ui.print_job`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QShortcut, QWheelEvent
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QScrollArea,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.export.page_source import PageSource
from govshare_desktop.core.progress import Cancelled
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.page_painting import page_image
from govshare_desktop.ui.print_job import StreamedPrint
from govshare_desktop.ui.tasks import Task, run_task

log = logging.getLogger(__name__)

FIT_PAGE, FIT_WIDTH = "page", "width"
ZOOMS = [("整页", FIT_PAGE), ("适合宽度", FIT_WIDTH)] + [
    (f"{z}%", z) for z in (50, 75, 100, 125, 150, 200)
]
MARGIN = 16  # around the page, in pixels


class _PageView(QWidget):
    """The page's image on a grey desk."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setAutoFillBackground(False)

    def show_image(self, image: QImage) -> None:
        self.image = image
        ratio = image.devicePixelRatio() or 1.0
        size = QSize(round(image.width() / ratio), round(image.height() / ratio))
        self.setMinimumSize(size + QSize(2 * MARGIN, 2 * MARGIN))
        self.update()

    def paintEvent(self, _event: QEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0x80, 0x80, 0x80))
        if not self.image.isNull():
            ratio = self.image.devicePixelRatio() or 1.0
            w, h = self.image.width() / ratio, self.image.height() / ratio
            x = max(MARGIN, (self.width() - w) / 2)
            y = max(MARGIN, (self.height() - h) / 2)
            painter.fillRect(int(x) + 3, int(y) + 3, int(w), int(h), QColor(0x50, 0x50, 0x50))
            painter.drawImage(int(x), int(y), self.image)
        painter.end()


class PagedPreview(QDialog):
    """The preview of ``source``'s pages (see the module). ``watermark``: the text 水印 adds."""

    def __init__(self, parent: QWidget | None, source: PageSource, *, watermark: str = "") -> None:
        super().__init__(parent)
        self.source = source
        self.watermark_text = watermark
        self.printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        self.printer.setDocName(source.title)
        # ``ask_printer(printer, pages)``: the printer dialog (replaced in tests); True to print.
        self.ask_printer: Callable[[QPrinter, int], bool] = self._ask_printer
        self.current = 0  # the page shown, 0-based
        self.painted = 0  # pages rendered (tests)
        self.job: StreamedPrint | None = None
        self.count_task: Task | None = None
        self.setObjectName("print_preview")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._build()
        self.resize(900, 960)
        self._count_poll = QTimer(self)
        self._count_poll.setInterval(250)
        self._count_poll.timeout.connect(self._update_count)
        self._start_count()
        self._update_count()
        self.show_page(0)

    # ---------------------------------------------------------------- building

    def _build(self) -> None:
        bar = QToolBar(self)
        bar.setObjectName("preview_toolbar")
        self.first_action = self._action(bar, "首页", "Ctrl+Home", lambda: self.show_page(0))
        self.previous_action = self._action(
            bar, "上一页", QKeySequence.StandardKey.MoveToPreviousPage, self.previous_page
        )
        self.page_box = QSpinBox(self)
        self.page_box.setObjectName("preview_page")
        self.page_box.setPrefix("第 ")
        self.page_box.setSuffix(" 页")
        self.page_box.setKeyboardTracking(False)  # 跳到: typed, then Enter
        wide = self.page_box.fontMetrics().horizontalAdvance("第 8,888,888 页")
        self.page_box.setMinimumWidth(wide + 24)
        self.page_box.setToolTip("输入页码后按回车跳到该页")
        self.page_box.valueChanged.connect(lambda value: self.show_page(value - 1))
        bar.addWidget(self.page_box)
        self.total_label = QLabel(self)
        self.total_label.setObjectName("preview_total")
        bar.addWidget(self.total_label)
        self.next_action = self._action(
            bar, "下一页", QKeySequence.StandardKey.MoveToNextPage, self.next_page
        )
        self.last_action = self._action(bar, "末页", "Ctrl+End", self.last_page)
        bar.addSeparator()
        self._action(bar, "缩小", QKeySequence.StandardKey.ZoomOut, lambda: self._step_zoom(-1))
        self.zoom_box = QComboBox(self)
        self.zoom_box.setObjectName("preview_zoom")
        for text, value in ZOOMS:
            self.zoom_box.addItem(text, value)
        self.zoom_box.currentIndexChanged.connect(lambda _index: self._render())
        bar.addWidget(self.zoom_box)
        self._action(bar, "放大", QKeySequence.StandardKey.ZoomIn, lambda: self._step_zoom(1))
        bar.addSeparator()
        self.watermark_action = QAction("水印", self)
        self.watermark_action.setCheckable(True)
        self.watermark_action.setToolTip(f"在每页印上打印人和时间：{self.watermark_text}")
        self.watermark_action.toggled.connect(lambda _on: self._render())
        bar.addAction(self.watermark_action)
        self.print_action = self._action(bar, "打印…", "Ctrl+P", self.print_)
        self.print_action.setToolTip("选择打印机并打印（Ctrl+P）")
        self.view = _PageView(self)
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setWidget(self.view)
        self.scroller.viewport().installEventFilter(self)
        self.status = QLabel(self)
        self.status.setObjectName("preview_status")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addWidget(bar)
        layout.addWidget(self.scroller, 1)
        layout.addWidget(self.status)

    def _action(
        self,
        bar: QToolBar,
        text: str,
        keys: str | QKeySequence.StandardKey,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        bar.addAction(action)
        # A window-wide shortcut: PgUp/PgDn turn the page even when the page box or the scroll
        # area has the focus (they would scroll or step the number instead).
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        action.setToolTip(f"{text}（{QKeySequence(keys).toString()}）")
        return action

    # ---------------------------------------------------------------- pages

    @property
    def pages(self) -> int:
        return self.source.total().pages

    def show_page(self, number: int) -> None:
        """Show page ``number`` (0-based; clamped to the pages there are)."""
        self.current = max(0, min(number, self.pages - 1))
        if self.page_box.value() != self.current + 1:
            self.page_box.blockSignals(True)
            self.page_box.setValue(self.current + 1)
            self.page_box.blockSignals(False)
        self._render()
        self.scroller.verticalScrollBar().setValue(0)

    def next_page(self) -> None:
        self.show_page(self.current + 1)

    def previous_page(self) -> None:
        self.show_page(self.current - 1)

    def last_page(self) -> None:
        self.show_page(self.pages - 1)

    def _zoom(self, page_width: float, page_height: float) -> float:
        value = self.zoom_box.currentData()
        viewport = self.scroller.viewport().size()
        dpi = self.logicalDpiX()
        width_px, height_px = page_width / 72 * dpi, page_height / 72 * dpi
        room = viewport.width() - 2 * MARGIN
        if not self.scroller.verticalScrollBar().isVisible():
            room -= self.scroller.verticalScrollBar().sizeHint().width()  # it will be, when wider
        if value == FIT_WIDTH:
            return max(0.1, room / width_px)
        if value == FIT_PAGE:
            fit_width = (viewport.width() - 2 * MARGIN) / width_px
            return max(0.1, min(fit_width, (viewport.height() - 2 * MARGIN) / height_px))
        return float(value) / 100

    def _step_zoom(self, step: int) -> None:
        index = self.zoom_box.currentIndex()
        if index < 2:  # from a fit: the nearest fixed zoom
            page = self.source.page(self.current)
            zoom = self._zoom(page.width, page.height) * 100
            fixed = [i for i, (_, v) in enumerate(ZOOMS) if isinstance(v, int)]
            index = min(fixed, key=lambda i: abs(int(ZOOMS[i][1]) - zoom))
        else:
            index = max(2, min(len(ZOOMS) - 1, index + step))
        self.zoom_box.setCurrentIndex(index)

    def _render(self) -> None:
        total = self.source.total()
        page = self.source.page(self.current)
        ratio = self.devicePixelRatioF() or 1.0
        dpi = self.logicalDpiX() * self._zoom(page.width, page.height)
        mark = self.watermark_text if self.watermark_action.isChecked() else None
        image = page_image(page, self.current + 1, total.pages, dpi * ratio, mark)
        image.setDevicePixelRatio(ratio)
        self.view.show_image(image)
        self.painted += 1
        self._update_buttons()

    def _update_buttons(self) -> None:
        pages = self.pages
        self.previous_action.setEnabled(self.current > 0)
        self.first_action.setEnabled(self.current > 0)
        self.next_action.setEnabled(self.current < pages - 1)
        self.last_action.setEnabled(self.current < pages - 1)

    def resizeEvent(self, event: QEvent) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.zoom_box.currentData() in (FIT_PAGE, FIT_WIDTH):
            QTimer.singleShot(0, self._render)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The wheel past the page's end turns the page (as a book's preview does)."""
        if event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            bar = self.scroller.verticalScrollBar()
            down = event.angleDelta().y() < 0
            if down and bar.value() >= bar.maximum() and self.current < self.pages - 1:
                self.next_page()
                return True
            if not down and bar.value() <= bar.minimum() and self.current > 0:
                self.previous_page()
                bar.setValue(bar.maximum())
                return True
        return super().eventFilter(watched, event)

    # ---------------------------------------------------------------- the count

    def _start_count(self) -> None:
        if self.source.total().exact:
            return
        # Owned by the window, not the dialog: a closing window waits for it (abandon_tasks),
        # and a closed preview cancels it.
        source = self.source
        self.count_task = run_task(
            self.parentWidget(),
            "正在统计页数……",
            lambda _progress, cancel: source.count(cancel=cancel),
            lambda _pages: None,
            _quietly,
            quiet=True,
        )
        self._count_poll.start()

    def _update_count(self) -> None:
        total = self.source.total()
        forms = f"{total.forms:,} 份，" if total.forms > 1 else ""
        if total.exact:
            self._count_poll.stop()
            self.total_label.setText(f" 共 {total.pages:,} 页 ")
            self.status.setText(f" {forms}共 {total.pages:,} 页")
        else:
            share = total.counted * 100 // max(1, total.forms)
            self.total_label.setText(f" 共约 {total.pages:,} 页 ")
            self.status.setText(f" {forms}正在统计页数（{share}%）……")
        self.setWindowTitle(f"打印预览 — {self.source.title}（共 {total.pages} 页）")
        self.page_box.setRange(1, max(1, total.pages))
        if total.exact and self.count_task is not None:
            self.count_task = None
            self._render()  # the label's 共 Y 页 is now exact
        else:
            self._update_buttons()

    # ---------------------------------------------------------------- printing

    def _ask_printer(self, printer: QPrinter, pages: int) -> bool:
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印")
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintCurrentPage, True)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintToFile, True)
        dialog.setMinMax(1, max(1, pages))
        return dialog.exec() == QDialog.DialogCode.Accepted

    def print_(self) -> None:
        """The printer dialog, then the pages it asks for, streamed to the printer."""
        if self.job is not None:
            return
        if not self.ask_printer(self.printer, self.pages):
            return
        first, last = 1, None
        chosen = self.printer.printRange()
        if chosen == QPrinter.PrintRange.PageRange and self.printer.fromPage() > 0:
            first, last = self.printer.fromPage(), self.printer.toPage() or None
        elif chosen == QPrinter.PrintRange.CurrentPage:
            first = last = self.current + 1
        mark = self.watermark_text if self.watermark_action.isChecked() else None
        self.job = StreamedPrint(
            self, self.source, self.printer, first, last, watermark=mark,
            task_parent=self.parentWidget(),
        )  # fmt: skip
        self.job.finished.connect(self._printed)
        self.job.failed.connect(self._print_failed)
        self.print_action.setEnabled(False)
        self.job.start()

    def _printed(self, pages: int) -> None:
        log.info("printed %s: %d pages", self.source.title, pages)
        self.job = None
        self.accept()  # as Qt's own preview does once the job is sent

    def _print_failed(self, exc: BaseException) -> None:
        self.job = None
        self.print_action.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.status.setText(" 已取消打印。")
        else:
            show_error(self, exc)

    def done(self, result: int) -> None:
        """Closing (Esc, the close button, after printing): stop what still runs for it."""
        if self.job is not None:
            self.job.stop()
        if self.count_task is not None:
            self.count_task.cancel()
            self.count_task = None
        self._count_poll.stop()
        super().done(result)


def _quietly(exc: BaseException) -> None:
    """A count that failed: the estimate stays (printing counts again, and says why it fails)."""
    if not isinstance(exc, Cancelled):
        log.warning("counting the pages failed: %s", exc)
