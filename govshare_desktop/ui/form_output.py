"""Exporting and printing forms from the window: Excel, PDF, and printing with a preview and the
printer dialog (no detour through another program).

Printing draws the same A4 pages as the PDF (:mod:`govshare_desktop.core.export.paging`) with
QPainter, in the same embedded font (:mod:`~govshare_desktop.ui.page_painting`), so what is
previewed is what the PDF holds. 「打印…」 opens :class:`~govshare_desktop.ui.print_preview.
PagedPreview`, which lays out only the page it shows and prints page by page, so a township's
batch of 登记表 is never held whole. Exports run off the UI thread with progress and cancel; a form
exports as it is shown — masked while the window masks personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QMenu, QPushButton, QWidget

from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.export.page_source import PageSource
from govshare_desktop.core.export.paging import Page
from govshare_desktop.core.export.pdf import Sheets
from govshare_desktop.core.progress import Cancel, Cancelled, Progress, check
from govshare_desktop.core.services.output import export_forms, forms_to_print
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.errors import show_error
from govshare_desktop.ui.exported import ExportedMessage, show_exported
from govshare_desktop.ui.page_painting import paint_pages
from govshare_desktop.ui.print_preview import PagedPreview
from govshare_desktop.ui.settings import export_folder, remember_export
from govshare_desktop.ui.tasks import run_task
from govshare_desktop.ui.usecases import context

log = logging.getLogger(__name__)

SheetsSource = Callable[[Progress], Sheets]


# ---------------------------------------------------------------- printing


__all__ = ["FormOutput", "PagedPreview", "PrintPreview", "paint_pages"]


class PrintPreview(QPrintPreviewDialog):
    """Qt's own print preview of a few pages held in memory (a single page such as the 账户交接单;
    the forms use :class:`PagedPreview`); its print button opens the printer dialog.

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
        self.open_preview: PagedPreview | None = None
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
        """The print preview: whom the forms cover is read off the UI thread (a batch's ID
        numbers, not its forms), then the preview lays out the page it shows."""

        def work(progress: Progress, cancel: Cancel) -> PageSource:
            # Permission and the audit entry before the preview opens (see forms_to_print).
            sheets = forms_to_print(context(self.store), self.source(progress))
            check(cancel, "已取消打印。")
            return PageSource(sheets)

        self.task = run_task(
            self.widget,
            "正在准备打印……",
            work,
            self._show_preview,
            self._failed,
        )

    def _show_preview(self, source: PageSource) -> None:
        """Open the preview window-modal, without blocking the event loop: the window stays
        responsive (the idle lock still fires) and the dialog deletes itself when closed."""
        mark = f"{self.store.principal.username} {datetime.now():%Y-%m-%d %H:%M}"
        log.info("print preview: %s, %d forms", source.title, source.forms)
        self.open_preview = PagedPreview(self.widget, source, watermark=mark)
        self.open_preview.destroyed.connect(self._preview_closed)
        self.open_preview.open()

    def _preview_closed(self) -> None:
        self.open_preview = None

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        show_error(self.widget, exc)
