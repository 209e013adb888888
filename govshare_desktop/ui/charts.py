"""The 工作台's charts on screen: 参保率 and 领取率 per village, the population pyramid, pension
payments by month and 一表通 completion, for the township (全镇) or one village, with 「打印…」,
「导出 Excel…」 and 「导出 PDF…」.

Each chart is laid out by the core (:func:`~govshare_desktop.core.export.charts_plots.draw_chart`)
into boxes, rules and text, and painted here with QPainter — the same shapes the PDF draws with
reportlab and the printout paints on the printer's page, so the three look alike. Text is measured
with the font it is painted in; body text is at least 10.5 pt. Pointing at a bar shows its figures
in full (参保 123 人，应参保 145 人). No chart library: QtCharts is not in the frozen build.

Signals of :class:`ChartsPanel`: ``reloaded()`` — the charts were worked out again (another area
chosen, or :meth:`ChartsPanel.reload`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QLineF, QMarginsF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontInfo,
    QFontMetricsF,
    QHelpEvent,
    QPageLayout,
    QPageSize,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.browse import Interrupt
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.export.charts_layout import Box, Rule, Shape, Text
from govshare_desktop.core.export.charts_plots import draw_chart
from govshare_desktop.core.export.paging import page_label
from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.core.services import stats
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.stats import COMPLETION, COVERAGE, PAYMENTS, POPULATION, Chart, ChartSet
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.tasks import Task, run_task
from govshare_desktop.ui.usecases import context

log = logging.getLogger(__name__)

BODY_PT = 10.5  # the smallest body text
FORMATS = {"xlsx": "Excel 工作簿 (*.xlsx)", "pdf": "PDF 文件 (*.pdf)"}


class Fonts:
    """Fonts of one family at any size in device pixels (fractional sizes rounded), and their
    widths measured on the device they paint on."""

    def __init__(self, family: str, device: Any = None) -> None:
        self.family = family
        self.device = device
        self._fonts: dict[tuple[int, bool], QFont] = {}

    def font(self, size: float, bold: bool = False) -> QFont:
        key = (max(1, round(size)), bold)
        if key not in self._fonts:
            font = QFont(self.family)
            font.setPixelSize(key[0])
            font.setBold(bold)
            self._fonts[key] = font
        return self._fonts[key]

    def measure(self, text: str, size: float) -> float:
        font = self.font(size)
        metrics = (
            QFontMetricsF(font, self.device) if self.device is not None else QFontMetricsF(font)
        )
        return metrics.horizontalAdvance(text)


def paint_shapes(painter: QPainter, shapes: Sequence[Shape], fonts: Fonts) -> None:
    """Paint laid-out shapes (coordinates in the painter's current units)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    for shape in shapes:
        if isinstance(shape, Box):
            painter.fillRect(QRectF(shape.x, shape.y, shape.w, shape.h), QColor(shape.fill))
        elif isinstance(shape, Rule):
            pen = QPen(QColor(shape.color), shape.width)
            if shape.dash:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QLineF(shape.x1, shape.y1, shape.x2, shape.y2))
        elif isinstance(shape, Text):
            font = fonts.font(shape.size, shape.bold)
            painter.setFont(font)
            painter.setPen(QColor(shape.color))
            x = shape.x
            if shape.anchor != "start":
                width = QFontMetricsF(font, painter.device()).horizontalAdvance(shape.text)
                x -= width / 2 if shape.anchor == "middle" else width
            painter.drawText(QPointF(x, shape.y), shape.text)


def body_pixels(widget: QWidget) -> float:
    """The body text size in pixels: the widget's font, never under 10.5 pt."""
    least = BODY_PT * widget.logicalDpiY() / 72
    return max(float(QFontInfo(widget.font()).pixelSize()), least)


class ChartView(QWidget):
    """One chart, painted to the widget's size; its figures as tooltips."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart: Chart | None = None
        self.shapes: list[Shape] = []
        self.setMinimumSize(420, 300)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def set_chart(self, chart: Chart | None) -> None:
        self.chart = chart
        self.setAccessibleName(chart.title if chart else "")
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#FFFFFF"))
        if self.chart is not None:
            fonts = Fonts(self.font().family(), self)
            self.shapes = draw_chart(
                self.chart, self.width(), self.height(), fonts.measure, body_pixels(self)
            )
            paint_shapes(painter, self.shapes, fonts)
        painter.end()

    def tip_at(self, x: float, y: float) -> str:
        for shape in reversed(self.shapes):
            if not isinstance(shape, Box) or not shape.tip:
                continue
            if shape.x <= x <= shape.x + shape.w and shape.y <= y <= shape.y + shape.h:
                return shape.tip
        return ""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tip_at(event.pos().x(), event.pos().y())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)


def paint_chart_pages(printer: QPrinter, chart_set: ChartSet, family: str) -> None:
    """Each chart on its own landscape page of ``printer``: the area and the day at the top, the
    page number at the foot."""
    painter = QPainter()
    printer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(15, 15, 15, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    if not painter.begin(printer):
        raise OSError("打印机无法开始打印")
    fonts = Fonts(family, printer)
    k = printer.resolution() / 72  # device pixels per point
    page = printer.pageLayout().paintRectPixels(printer.resolution())
    width, height = float(page.width()), float(page.height())
    total = len(chart_set.charts)
    for number, chart in enumerate(chart_set.charts, start=1):
        if number > 1:
            printer.newPage()
        small = 9 * k
        head = [Text(0, small, chart_set.subtitle, small, "#595959")]
        foot = [
            Text(width / 2, height - small * 0.3, page_label(number, total), small, anchor="middle")
        ]
        painter.save()
        painter.translate(0, small * 1.8)
        shapes = draw_chart(chart, width, height - small * 3.8, fonts.measure, BODY_PT * k)
        paint_shapes(painter, shapes, fonts)
        painter.restore()
        paint_shapes(painter, head + foot, fonts)
    painter.end()


class ChartsPreview(QPrintPreviewDialog):
    """The print preview of the charts; its print button opens the printer dialog. The dialog
    keeps its printer (Qt does not own it: see :class:`~govshare_desktop.ui.form_output.
    PrintPreview`)."""

    def __init__(self, parent: QWidget | None, chart_set: ChartSet, family: str) -> None:
        self._printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        self._printer.setDocName(f"统计图-{chart_set.area_name}")
        super().__init__(self._printer, parent)
        self.chart_set = chart_set
        self.family = family
        self.painted = 0  # how many times the preview asked for the pages (for the tests)
        self.setObjectName("charts_print_preview")
        self.setWindowTitle(f"打印预览 — 统计图（{chart_set.area_name}）")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.paintRequested.connect(self._paint)
        self.resize(1000, 760)

    def _paint(self, printer: QPrinter) -> None:
        paint_chart_pages(printer, self.chart_set, self.family)
        self.painted += 1


class ChartsTask(Task):
    """The charts worked out beside the window: cancelled or abandoned (another area chosen, the
    window closing: :func:`~govshare_desktop.ui.tasks.abandon_tasks`), the statement it is
    running is interrupted at once instead of the next chart not being started."""

    def __init__(self, parent: QWidget, work: Any, done: Any, failed: Any) -> None:
        self.interrupt = Interrupt()
        stop = self.interrupt
        super().__init__(
            parent, "正在统计……", lambda p, c: work(p, c, stop), done, failed, quiet=True
        )

    def cancel(self) -> None:
        self.interrupt()
        super().cancel()

    def abandon(self) -> None:
        self.interrupt()
        super().abandon()


class ChartsPanel(QWidget):
    """The four charts of the township or one village, with the area chooser and the buttons."""

    reloaded = Signal()

    def __init__(
        self,
        store: Store,
        *,
        today: Callable[[], date] = date.today,
        parent: QWidget | None = None,
        background: bool = False,
    ) -> None:
        """``background``: the charts are worked out off the UI thread (the 工作台: at the
        largest townships they read millions of rows), shown when ready; :attr:`reloaded`
        says when."""
        super().__init__(parent)
        self.setObjectName("charts_panel")
        self.store = store
        self.today = today
        self.background = background
        self.loading: Any = None  # the task working the charts out (background)
        self.chart_set: ChartSet | None = None
        self.ask_path: Callable[[str, str], str] = self._ask_path  # replaced in tests
        self.notify: Callable[[str], Any] = lambda text: QMessageBox.information(
            self, "已导出", text
        )
        self.last_written: Path | None = None
        self.task: Any = None
        self.preview: ChartsPreview | None = None
        self._build()
        self._fill_areas()
        self.area.currentIndexChanged.connect(self.reload)
        self.reload()

    def context(self) -> Context:
        """The use-case context, on the panel's day (the window's clock in tests)."""
        today = self.today
        return replace(
            context(self.store), clock=lambda: datetime.combine(today(), datetime.now().time())
        )

    def _build(self) -> None:
        self.area = QComboBox(self)
        self.area.setObjectName("charts_area")
        self.area.setToolTip("选择全镇，或只看一个村（社区）")
        self.print_button = QPushButton("打印…", self)
        self.print_button.setObjectName("charts_print")
        self.print_button.clicked.connect(self.print_)
        self.xlsx_button = QPushButton("导出 Excel…", self)
        self.xlsx_button.setObjectName("charts_export_xlsx")
        self.xlsx_button.setToolTip("每张图一个工作表：图中的数字，和可在 Excel/WPS 中修改的图表")
        self.xlsx_button.clicked.connect(lambda: self.export("xlsx"))
        self.pdf_button = QPushButton("导出 PDF…", self)
        self.pdf_button.setObjectName("charts_export_pdf")
        self.pdf_button.setToolTip("每张图一页（A4 横向）")
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.message = QLabel(self)
        self.message.setObjectName("charts_message")
        self.message.setWordWrap(True)
        self.message.hide()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("统计范围：", self))
        bar.addWidget(self.area)
        bar.addStretch(1)
        for button in (self.print_button, self.xlsx_button, self.pdf_button):
            bar.addWidget(button)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        self.views: dict[str, ChartView] = {}
        for key in (COVERAGE, POPULATION, PAYMENTS, COMPLETION):
            view = ChartView(self)
            view.setObjectName(f"chart_{key}")
            self.views[key] = view
        self.columns = 0
        self.set_columns(2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addLayout(self.grid, 1)

    def set_columns(self, columns: int) -> None:
        """The charts two a row, or one under another where the room is narrow."""
        if columns == self.columns:
            return
        self.columns = columns
        for n, view in enumerate(self.views.values()):
            self.grid.removeWidget(view)
            self.grid.addWidget(view, n // columns, n % columns)

    def _fill_areas(self) -> None:
        try:
            found = stats.areas(self.context())
        except UserError as exc:
            self._unavailable(exc.message)
            return
        self.area.blockSignals(True)
        for code, name in found:
            self.area.addItem(name, code)
        self.area.blockSignals(False)

    def _unavailable(self, text: str) -> None:
        self.message.setText(f"无法显示统计图：{text}")
        self.message.show()
        for widget in (self.area, self.print_button, self.xlsx_button, self.pdf_button):
            widget.setEnabled(False)

    def reload(self) -> None:
        """Work the charts out again for the chosen area (after an import, or on another day)."""
        if self.area.count() == 0:
            return
        ctx, area = self.context(), self.area.currentData()
        if not self.background:
            try:
                self._show(stats.charts(ctx, area))
            except UserError as exc:
                self._unavailable(exc.message)
            return
        if self.loading is not None:
            self.loading.abandon()  # superseded by this area
        self.message.setText("正在统计……")
        self.message.show()

        def work(_progress: Progress, cancel: Cancel, interrupt: Interrupt) -> ChartSet:
            return stats.charts(ctx.running(None, cancel), area, interrupt)

        def failed(exc: BaseException) -> None:
            self.loading = None
            if isinstance(exc, UserError) and not isinstance(exc, Cancelled):
                self._unavailable(exc.message)

        def done(chart_set: ChartSet) -> None:
            self.loading = None
            self.message.hide()
            self._show(chart_set)

        self.loading = ChartsTask(self, work, done, failed)

    def _show(self, chart_set: ChartSet) -> None:
        self.chart_set = chart_set
        for chart in chart_set.charts:
            self.views[chart.key].set_chart(chart)
        self.reloaded.emit()

    def select_area(self, code: str) -> None:
        """Show the charts of ``code`` (the township or one of its villages)."""
        index = self.area.findData(code)
        if index < 0:
            raise UserError(f"区划代码“{code}”不是本乡镇（街道）或其下的村（社区）")
        self.area.setCurrentIndex(index)

    # ---------------------------------------------------------------- output

    def _file_name(self) -> str:
        assert self.chart_set is not None
        return f"统计图-{self.chart_set.area_name}-{self.chart_set.today.isoformat()}"

    def _ask_path(self, suggested: str, fmt: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "导出到", suggested, FORMATS[fmt])
        return path

    def export(self, fmt: str) -> None:
        if self.chart_set is None:
            return
        target = self.ask_path(f"{self._file_name()}.{fmt}", fmt)
        if not target:
            return
        path = Path(target)
        if path.suffix.lower() != f".{fmt}":
            path = path.with_name(path.name + f".{fmt}")
        chart_set, ctx = self.chart_set, self.context()

        def work(progress: Progress, cancel: Cancel) -> ExportedFile:
            return stats.export_charts(ctx.running(progress, cancel), chart_set, path, fmt=fmt)

        def done(written: ExportedFile) -> None:
            self.last_written = written.path
            log.info("exported charts %s sha256=%s", written.path, written.sha256)
            self.notify(f"已导出 {written.forms} 张统计图，保存在：\n{written.path}")

        self.task = run_task(self, "正在导出统计图……", work, done, self._failed)

    def print_(self) -> None:
        if self.chart_set is None:
            return
        try:
            chart_set = stats.charts_to_print(self.context(), self.chart_set)
        except UserError as exc:
            show_error(self, exc)
            return
        self.preview = ChartsPreview(self, chart_set, self.font().family())
        self.preview.destroyed.connect(self._preview_closed)
        self.preview.open()

    def _preview_closed(self) -> None:
        self.preview = None

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Cancelled):
            show_error(self, exc)
