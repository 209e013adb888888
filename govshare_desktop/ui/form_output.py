"""Exporting and printing forms from the window: Excel, PDF, and printing with a preview and the
printer dialog (no detour through another program).

Printing draws the same A4 pages as the PDF (:mod:`govshare_desktop.core.export.paging`) with
QPainter, in the same embedded font, so what is previewed is what the PDF holds. Exports run off
the UI thread with progress and cancel; a form exports as it is shown — masked while the window
masks personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QObject, QRectF, Qt
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontDatabase,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPaintEngine,
    QPainter,
    QPen,
)
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QMenu, QPushButton, QWidget

from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.export.paging import MM, Page, page_label
from govshare_desktop.core.export.pdf import Sheets
from govshare_desktop.core.progress import Cancel, Cancelled, Progress
from govshare_desktop.core.services.output import export_forms, forms_to_print
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.exported import ExportedMessage, show_exported
from govshare_desktop.ui.settings import export_folder, remember_export
from govshare_desktop.ui.tasks import run_task
from govshare_desktop.ui.usecases import context

log = logging.getLogger(__name__)

SheetsSource = Callable[[Progress], Sheets]


# ---------------------------------------------------------------- printing


@lru_cache(maxsize=1)
def _qt_family() -> str:
    """The embedded PDF font, loaded into Qt, so the printout uses the same glyphs."""
    choice = fonts.register()
    font_id = QFontDatabase.addApplicationFont(str(choice.path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    name = choice.name.lower()
    for family in families:  # a .ttc holds several faces: take the one the PDF uses
        if family.replace(" ", "").lower() in name or name in family.replace(" ", "").lower():
            return family
    return families[0] if families else QFont().family()


def paint_pages(printer: QPrinter, pages: Sequence[Page], watermark: str | None = None) -> None:
    """Draw the pages on ``printer`` (a real printer, the preview or a PDF file).

    The job's orientation is the first page's. Qt lets only a PDF change the page layout once
    printing has begun (a printer or the preview refuses with a warning), so a later page of the
    other orientation is drawn turned a quarter on the job's paper there."""
    family = _qt_family()
    painter = QPainter()
    k = 1.0
    for number, page in enumerate(pages, start=1):
        orientation = _orientation(page)
        if number == 1:
            printer.setFullPage(True)
            printer.setPageLayout(_a4(orientation))
            if not painter.begin(printer):
                raise OSError("打印机无法开始打印")
            k = printer.resolution() / 72.0
        else:
            if printer.paintEngine().type() == QPaintEngine.Type.Pdf:
                printer.setPageLayout(_a4(orientation))
            printer.newPage()
        turned = orientation != printer.pageLayout().orientation()
        if turned:
            painter.save()
            painter.translate(page.height * k, 0)
            painter.rotate(90)
        # Page coordinates are points; fonts are sized in points by the device itself, so the
        # geometry is scaled by hand rather than with a painter transform.
        _paint_page(painter, page, number, len(pages), family, watermark, k)
        if turned:
            painter.restore()
    if painter.isActive():
        painter.end()


def _orientation(page: Page) -> QPageLayout.Orientation:
    if page.width > page.height:
        return QPageLayout.Orientation.Landscape
    return QPageLayout.Orientation.Portrait


def _a4(orientation: QPageLayout.Orientation) -> QPageLayout:
    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), orientation, QMarginsF(0, 0, 0, 0))


def _paint_page(
    painter: QPainter,
    page: Page,
    number: int,
    total: int,
    family: str,
    watermark: str | None,
    k: float,
) -> None:
    def rect(x: float, y: float, w: float, h: float) -> QRectF:
        return QRectF(x * k, y * k, w * k, h * k)

    if watermark:
        painter.save()
        painter.setPen(QPen(Qt.GlobalColor.lightGray))
        font = QFont(family)
        font.setPointSizeF(16)
        painter.setFont(font)
        for y in range(0, int(page.height), int(55 * MM)):
            for x in range(0, int(page.width), int(75 * MM)):
                painter.save()
                painter.translate(x * k, y * k)
                painter.rotate(-30)
                painter.drawText(0, 0, watermark)
                painter.restore()
        painter.restore()
    painter.setPen(QPen(Qt.GlobalColor.black, 0.6 * k))
    for box in page.boxes:
        cell = rect(box.x, box.y, box.w, box.h)
        if box.border:
            painter.drawRect(cell)
        if not box.lines:
            continue
        font = QFont(family)
        font.setPointSizeF(box.size)
        font.setBold(box.bold)
        painter.setFont(font)
        horizontal = {
            "left": Qt.AlignmentFlag.AlignLeft,
            "center": Qt.AlignmentFlag.AlignHCenter,
            "right": Qt.AlignmentFlag.AlignRight,
        }[box.align]
        vertical = (
            Qt.AlignmentFlag.AlignBottom
            if box.valign == "bottom"
            else Qt.AlignmentFlag.AlignVCenter
        )
        pad = 2.5 * k
        painter.drawText(
            cell.adjusted(pad, pad, -pad, -pad), int(horizontal | vertical), "\n".join(box.lines)
        )
    font = QFont(family)
    font.setPointSizeF(9)
    painter.setFont(font)
    painter.drawText(
        rect(0, page.height - 12 * MM, page.width, 6 * MM),
        int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter),
        page_label(number, total),
    )


class PrintPreview(QPrintPreviewDialog):
    """The print preview of some pages; its print button opens the printer dialog.

    The dialog does not own the printer it is given (Qt leaves that to the caller), so it keeps
    it here, as ``_printer``: a printer owned by a local variable is deleted when the function
    that made it returns, and the next paint then writes through a dangling pointer (a
    segmentation fault). (Not ``self.printer``: that would hide the dialog's own ``printer()``.)
    """

    def __init__(self, parent: QWidget | None, title: str, pages: Sequence[Page]) -> None:
        self._printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        self._printer.setDocName(title)
        super().__init__(self._printer, parent)
        self.pages = pages
        self.painted = 0  # how many times the preview asked for the pages (for the tests)
        self.setObjectName("print_preview")
        self.setWindowTitle(f"打印预览 — {title}（共 {len(pages)} 页）")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.paintRequested.connect(self._paint)
        self.resize(1000, 800)

    def _paint(self, printer: QPrinter) -> None:
        paint_pages(printer, self.pages)
        self.painted += 1


def printable(
    sheets: Sheets, progress: Progress | None = None, cancel: Cancel | None = None
) -> tuple[str, list[Page]]:
    """(title, pages) of the sheets: a batch is read and laid out here, form by form (off the UI
    thread: the preview only paints)."""
    from govshare_desktop.core.export.forms import describe  # lazy: the exporters, when printing
    from govshare_desktop.core.export.pdf import iter_pages  # lazy: the PDF layout, when printing

    title = describe(sheets)[0]
    pages: list[Page] = []
    for page in iter_pages(sheets):
        if cancel is not None:
            cancel.check("已取消打印。")
        pages.append(page)
        if progress is not None and len(pages) % 50 == 0:
            progress(len(pages), len(sheets), f"正在准备打印：{len(pages)} 页")
    log.info("print preview: %s, %d forms, %d pages", title, len(sheets), len(pages))
    return title, pages


def preview(parent: QWidget | None, sheets: Sheets) -> PrintPreview:
    """A print preview of the sheets (the pages of their PDF)."""
    return PrintPreview(parent, *printable(sheets))


# ---------------------------------------------------------------- the buttons


def _window_prints(widget: QWidget) -> bool:
    """Whether ``widget``'s window has its own Ctrl+P (the main window's 文件 → 打印, which
    prints the form the page shows)."""
    keys = QKeySequence("Ctrl+P")
    return any(a.shortcut() == keys for a in widget.window().findChildren(QAction))


class FormOutput(QObject):
    """「导出」 and 「打印」 for the form(s) a widget shows.

    ``source(progress)`` returns the sheets (it may take a while: it runs off the UI thread);
    ``name()`` proposes a file name without extension."""

    def __init__(
        self,
        parent: QWidget,
        store: Store,
        source: SheetsSource,
        name: Callable[[], str],
        *,
        batch: bool = False,
        reason: Callable[[], str] = lambda: "",
    ) -> None:
        """``reason()``: why full personal data is shown (given when the window was unmasked);
        recorded with an unmasked export."""
        super().__init__(parent)
        self.widget = parent
        self.store = store
        self.reason = reason
        self.source = source
        self.name = name
        self.batch = batch
        self.ask_path: Callable[[str, str], str] = self._ask_path  # replaced in tests
        self.open_preview: PrintPreview | None = None
        self.notify: Callable[[str], Any] = self._show_exported  # replaced in tests
        self.exported_message: ExportedMessage | None = None
        self.last_written: list[Path] = []
        self.task: Any = None

    def buttons(self) -> list[QPushButton]:
        export = QPushButton("导出…" if not self.batch else "批量导出…", self.widget)
        export.setObjectName("export_form")
        menu = QMenu(export)
        menu.addAction("Excel 工作簿（.xlsx）…", lambda: self.export("xlsx"))
        menu.addAction("PDF（.pdf）…", lambda: self.export("pdf"))
        menu.addAction("PDF（加水印：导出人、时间）…", lambda: self.export("pdf", watermark=True))
        export.setMenu(menu)
        printing = QPushButton("打印…", self.widget)
        printing.setObjectName("print_form")
        if not _window_prints(self.widget):  # else two Ctrl+P: Qt would run neither
            printing.setShortcut("Ctrl+P")
        printing.setToolTip("打印预览，再选打印机（Ctrl+P）")
        printing.clicked.connect(self.print_)
        return [export, printing]

    def _ask_path(self, suggested: str, fmt: str) -> str:
        """The file, in the folder this user last exported to (文档/govshare 导出 at first)."""
        filters = {"xlsx": "Excel 工作簿 (*.xlsx)", "pdf": "PDF 文件 (*.pdf)"}
        folder = export_folder(self.store.principal.username)
        path, _ = QFileDialog.getSaveFileName(
            self.widget, "导出到", str(folder / suggested), filters[fmt]
        )
        return path

    def _show_exported(self, text: str) -> None:
        """Where the export went, with 「打开文件」 and 「打开所在文件夹」."""
        if self.last_written:
            self.exported_message = show_exported(self.widget, text, self.last_written[0])

    def export(self, fmt: str, *, watermark: bool = False) -> None:
        target = self.ask_path(f"{self.name()}.{fmt}", fmt)
        if not target:
            return
        path = Path(target)
        if path.suffix.lower() != f".{fmt}":
            path = path.with_name(path.name + f".{fmt}")
        remember_export(self.store.principal.username, path)

        def work(progress: Progress, cancel: Cancel) -> list[ExportedFile]:
            ctx = context(self.store).running(progress, cancel)
            return export_forms(
                ctx, self.source(progress), path, fmt=fmt, watermark=watermark, reason=self.reason()
            )

        def done(written: list[ExportedFile]) -> None:
            self.last_written = [f.path for f in written]
            for f in written:
                log.info("exported %s (%d forms) sha256=%s", f.path, f.forms, f.sha256)
            forms = sum(f.forms for f in written)
            self.notify(f"已导出 {forms} 份，保存在：\n{path}")

        self.task = run_task(self.widget, "正在导出……", work, done, self._failed)

    def export_workbook(self, name: str, fill: Callable[[Path, Progress, Cancel], Path]) -> None:
        """Fill a department's own workbook (表样) — ``fill(path, progress, cancel)`` writes it —
        off the UI thread."""
        target = self.ask_path(f"{self.name()}-{name}.xlsx", "xlsx")
        if not target:
            return
        path = Path(target)
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        remember_export(self.store.principal.username, path)

        def done(written: Path) -> None:
            self.last_written = [written]
            log.info("filled department workbook %s -> %s", name, written)
            self.notify(f"已按部门表样“{name}”导出，保存在：\n{written}")

        self.task = run_task(
            self.widget,
            "正在填写部门表样……",
            lambda progress, cancel: fill(path, progress, cancel),
            done,
            self._failed,
        )

    def print_(self) -> None:
        def work(progress: Progress, cancel: Cancel) -> tuple[str, list[Page]]:
            # Permission and the audit entry before the preview opens (see forms_to_print).
            sheets = forms_to_print(context(self.store), self.source(progress))
            return printable(sheets, progress, cancel)

        self.task = run_task(
            self.widget,
            "正在准备打印……",
            work,
            self._show_preview,
            self._failed,
        )

    def _show_preview(self, laid_out: tuple[str, list[Page]]) -> None:
        """Open the preview window-modal, without blocking the event loop: the window stays
        responsive (the idle lock still fires) and the dialog deletes itself when closed."""
        self.open_preview = PrintPreview(self.widget, *laid_out)
        self.open_preview.destroyed.connect(self._preview_closed)
        self.open_preview.open()

    def _preview_closed(self) -> None:
        self.open_preview = None

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        show_error(self.widget, exc)
