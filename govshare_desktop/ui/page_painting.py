"""The forms' A4 pages (:mod:`govshare_desktop.core.export.paging`) drawn with QPainter in the PDF's
own embedded font — on a printer, a PDF-file printer, or an image for the print preview — so what
is previewed and printed is what the PDF holds.

A page's coordinates are points; fonts are sized in points by the device itself (a printer's
1200 dpi, an image's dots per metre), so the geometry is scaled by hand (``k`` device units a
point) rather than with a painter transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QImage,
    QPageLayout,
    QPageSize,
    QPaintEngine,
    QPainter,
    QPen,
)
from PySide6.QtPrintSupport import QPrinter

from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.paging import MM, Page, page_label


@lru_cache(maxsize=1)
def qt_family() -> str:
    """The embedded PDF font, loaded into Qt, so the printout uses the same glyphs."""
    choice = fonts.register()
    font_id = QFontDatabase.addApplicationFont(str(choice.path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    name = choice.name.lower()
    for family in families:  # a .ttc holds several faces: take the one the PDF uses
        if family.replace(" ", "").lower() in name or name in family.replace(" ", "").lower():
            return family
    return families[0] if families else QFont().family()


class PagePainter:
    """Pages drawn on ``printer`` one after another, each forgotten once drawn (a streamed
    printout holds none of them).

    The job's orientation is the first page's. Qt lets only a PDF change the page layout once
    printing has begun (a printer refuses with a warning), so a later page of the other
    orientation is drawn turned a quarter on the job's paper there."""

    def __init__(self, printer: QPrinter, watermark: str | None = None) -> None:
        self.printer = printer
        self.watermark = watermark
        self.painter = QPainter()
        self.family = qt_family()
        self.k = 1.0
        self.pages = 0

    def add(self, page: Page, number: int, total: int) -> None:
        """Draw ``page`` (labelled 第 ``number`` 页 共 ``total`` 页) on a page of its own."""
        printer, painter = self.printer, self.painter
        orientation = _orientation(page)
        if self.pages == 0:
            printer.setFullPage(True)
            printer.setPageLayout(_a4(orientation))
            if not painter.begin(printer):
                raise OSError("打印机无法开始打印")
            self.k = printer.resolution() / 72.0
        else:
            if printer.paintEngine().type() == QPaintEngine.Type.Pdf:
                printer.setPageLayout(_a4(orientation))
            printer.newPage()
        turned = orientation != printer.pageLayout().orientation()
        if turned:
            painter.save()
            painter.translate(page.height * self.k, 0)
            painter.rotate(90)
        paint_page(painter, page, number, total, self.family, self.watermark, self.k)
        if turned:
            painter.restore()
        self.pages += 1

    def end(self) -> None:
        if self.painter.isActive():
            self.painter.end()

    def abort(self) -> None:
        """Stop the job where it is (a printer drops it, as far as the system can)."""
        if self.painter.isActive():
            self.printer.abort()
            self.painter.end()


def paint_pages(printer: QPrinter, pages: Sequence[Page], watermark: str | None = None) -> None:
    """Draw the pages on ``printer`` (a real printer, the stock preview or a PDF file)."""
    painter = PagePainter(printer, watermark)
    for number, page in enumerate(pages, start=1):
        painter.add(page, number, len(pages))
    painter.end()


def page_image(
    page: Page, number: int, total: int, dpi: float, watermark: str | None = None
) -> QImage:
    """The page as an image at ``dpi`` (the preview's zoom: the screen's dpi times the zoom)."""
    width = max(1, round(page.width / 72 * dpi))
    height = max(1, round(page.height / 72 * dpi))
    image = QImage(width, height, QImage.Format.Format_RGB32)
    dots = round(dpi / 0.0254)
    image.setDotsPerMeterX(dots)  # fonts in points come out at this dpi
    image.setDotsPerMeterY(dots)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    paint_page(painter, page, number, total, qt_family(), watermark, dpi / 72)
    painter.end()
    return image


def _orientation(page: Page) -> QPageLayout.Orientation:
    if page.width > page.height:
        return QPageLayout.Orientation.Landscape
    return QPageLayout.Orientation.Portrait


def _a4(orientation: QPageLayout.Orientation) -> QPageLayout:
    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), orientation, QMarginsF(0, 0, 0, 0))


def paint_page(
    painter: QPainter,
    page: Page,
    number: int,
    total: int,
    family: str,
    watermark: str | None,
    k: float,
) -> None:
    """One page with ``painter`` at ``k`` device units a point."""

    def rect(x: float, y: float, w: float, h: float) -> QRectF:
        return QRectF(x * k, y * k, w * k, h * k)

    if watermark:
        _watermark(painter, page, family, watermark, k)
    painter.setPen(QPen(Qt.GlobalColor.black, 0.6 * k))
    pad = 2.5 * k
    for box in page.boxes:
        cell = rect(box.x, box.y, box.w, box.h)
        if box.border:
            painter.drawRect(cell)
        if not box.lines:
            continue
        painter.setFont(_font(family, box.size, box.bold))
        painter.drawText(
            cell.adjusted(pad, pad, -pad, -pad), _FLAGS[box.align, box.valign], "\n".join(box.lines)
        )
    painter.setFont(_font(family, 9, False))
    painter.drawText(
        rect(0, page.height - 12 * MM, page.width, 6 * MM),
        _FLAGS["center", "middle"],
        page_label(number, total),
    )


_HORIZONTAL = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "center": Qt.AlignmentFlag.AlignHCenter,
    "right": Qt.AlignmentFlag.AlignRight,
}
_VERTICAL = {"middle": Qt.AlignmentFlag.AlignVCenter, "bottom": Qt.AlignmentFlag.AlignBottom}
# A box's alignment as drawText's flags, made once (a batch draws thousands of boxes a second).
_FLAGS = {(h, v): int(ha | va) for h, ha in _HORIZONTAL.items() for v, va in _VERTICAL.items()}


@lru_cache(maxsize=64)
def _font(family: str, size: float, bold: bool) -> QFont:
    """The font of a box (a form uses a handful of sizes: made once, not once a box). Used on
    the UI thread only; a QFont is a value, sized in points by the device it draws on."""
    font = QFont(family)
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


def _watermark(painter: QPainter, page: Page, family: str, text: str, k: float) -> None:
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
            painter.drawText(0, 0, text)
            painter.restore()
    painter.restore()
