"""Forms to PDF with reportlab: A4 pages from :mod:`paging`, the CJK font embedded as a subset,
"第 X 页 共 Y 页" on every page, and an optional watermark (who printed it, and when).

The file is written next to the target and renamed into place, so a failed or cancelled export
never leaves half a PDF behind.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import CANCELLED, fonts
from govshare_desktop.core.export.paging import A4, MM, Box, Measure, Page, layout, page_label
from govshare_desktop.core.forms.sheet import Sheet
from govshare_desktop.core.progress import Cancel, Progress

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas


def measure_with(font_name: str) -> Measure:
    """``measure(text, size)`` in the embedded font, remembered: a batch of forms measures the
    same labels, headings and signature lines on every page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth  # heavy: reportlab loads only for PDFs

    widths: dict[tuple[str, float], float] = {}

    def measure(text: str, size: float) -> float:
        width = widths.get((text, size))
        if width is None:
            if len(widths) > 10_000:  # names and addresses: bounded, whatever the batch
                widths.clear()
            width = widths[(text, size)] = stringWidth(text, font_name, size)
        return width

    return measure


def pages_for(sheets: Iterable[Sheet], *, font: str = "") -> list[Page]:
    """The pages the sheets take, measured with the embedded font."""
    return list(iter_pages(sheets, font=font))


def iter_pages(sheets: Iterable[Sheet], *, font: str = "") -> Iterator[Page]:
    """The pages of the sheets one after another, each sheet laid out when its turn comes (a
    streamed batch is never held whole)."""
    fonts.register(font)
    measure = measure_with(fonts.FONT_NAME)
    for sheet in sheets:
        yield from layout([sheet], measure)


class Sheets(Protocol):
    """Sheets to write: a list, or a streamed batch (:class:`~govshare_desktop.core.export.
    batch.FormBatch`) that knows its size and title before it is read."""

    def __iter__(self) -> Iterator[Sheet]: ...

    def __len__(self) -> int: ...


def batch_title(sheets: Sheets) -> str:
    title = getattr(sheets, "title", None)
    if title is None:
        title = next(iter(sheets)).title
    return str(title) if len(sheets) == 1 else f"{title}（{len(sheets)} 份）"


def write_pdf(
    sheets: Sheets,
    path: Path,
    *,
    watermark: str | None = None,
    font: str = "",
    author: str = "",
    anchor: str = "",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Write the sheets (one form, or a batch: each form on its own page) to ``path``; returns the
    number of pages. The pages go to the file as they are drawn (:mod:`pdf_stream`): a batch is
    read once, form by form, in the memory of one page. ``progress(form, forms, label)`` every
    20 forms; once ``cancel`` is set, :class:`~govshare_desktop.core.progress.Cancelled` and no
    file."""
    from govshare_desktop.core.export.pdf_stream import (  # heavy: reportlab, only for PDFs
        streamed_canvas,
    )

    path = Path(path)
    total = len(sheets)
    title = batch_title(sheets)
    handle, temp_name = tempfile.mkstemp(prefix=".govshare-", suffix=".pdf", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        fonts.register(font)
        with open(temp, "wb") as out:
            canvas = streamed_canvas(out, A4, fonts.FONT_NAME)
            canvas.setTitle(title)
            canvas.setAuthor(author)
            canvas.setCreator("govshare-desktop")
            if anchor:  # the audit trail's head when this file was made (see core/security/audit)
                canvas.setKeywords(f"govshare-audit:{anchor}")
            measure = measure_with(fonts.FONT_NAME)
            widths: list[float] = []
            for number, sheet in enumerate(sheets, start=1):
                if cancel is not None:
                    cancel.check(CANCELLED)
                if number == 1:
                    canvas.setSubject(sheet.data.period.label)
                for page in layout([sheet], measure):
                    canvas.setPageSize((page.width, page.height))
                    draw_page(canvas, page, watermark, measure)
                    canvas.showPage()
                    widths.append(page.width)
                if progress is not None and (number % 20 == 0 or number == total):
                    progress(number, total, f"正在生成 PDF：第 {number} 份，共 {total} 份")
            if not widths:
                raise UserError("没有可以导出的报表")
            canvas._doc.add_labels(
                lambda page, pages: _label(canvas, widths[page - 1], page, pages)
            )
            canvas.save()
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(
            f"无法写入 PDF 文件 {path}：{exc.strerror or exc}（磁盘已满或没有写权限？）"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return len(widths)


def _label(canvas: Canvas, width: float, number: int, total: int) -> str:
    """The drawing operators of one page's label (第 X 页 共 Y 页), as the page would end."""
    code = canvas._code
    start = len(code)
    canvas.setFont(fonts.FONT_NAME, 9)
    canvas.drawCentredString(width / 2, 8 * MM, page_label(number, total))
    operators = "\n".join(code[start:]) + "\n"
    del code[start:]
    return operators


def draw_page(
    canvas: Canvas, page: Page, watermark: str | None, measure: Measure | None = None
) -> None:
    """The page's boxes; its label is drawn at the end of the file (see :func:`write_pdf`)."""
    drawer = _Drawer.of(canvas, measure or measure_with(fonts.FONT_NAME))
    height = page.height
    if watermark:
        _watermark(canvas, page, watermark)
    canvas.setLineWidth(0.6)
    for box in page.boxes:
        if box.border:
            drawer.rect(box.x, height - box.y - box.h, box.w, box.h)
        if box.lines:
            drawer.text(box, height)


class _Drawer:
    """The operators of a form's rectangles and text, written straight into the canvas's page —
    what ``canvas.rect`` and a text object write, less their cost: a batch draws the same
    numbers (every form's cells are at the same places) and the same labels on every page, so
    numbers are formatted and strings encoded for the font's subsets once per document."""

    def __init__(self, canvas: Canvas, measure: Measure) -> None:
        from reportlab.lib.rl_accel import escapePDF, fp_str  # heavy: reportlab, only for PDFs
        from reportlab.pdfbase.pdfmetrics import getFont  # heavy: reportlab, only for PDFs

        self.canvas = canvas
        self.doc = canvas._doc
        self.font = getFont(fonts.FONT_NAME)
        self.measure = measure
        self._fp_str = fp_str
        self._escape = escapePDF
        self.numbers: dict[float, str] = {}
        self.strings: dict[str, list[tuple[int, str]]] = {}
        self.subsets: dict[int, str] = {}

    @classmethod
    def of(cls, canvas: Canvas, measure: Measure) -> _Drawer:
        drawer = getattr(canvas, "_govshare_drawer", None)
        if drawer is None or drawer.doc is not canvas._doc:
            drawer = cls(canvas, measure)
            canvas._govshare_drawer = drawer
        return drawer

    def fp(self, value: float) -> str:
        text = self.numbers.get(value)
        if text is None:
            if len(self.numbers) > 20_000:
                self.numbers.clear()
            text = self.numbers[value] = self._fp_str(value)
        return text

    def encoded(self, line: str) -> list[tuple[int, str]]:
        """(subset, escaped bytes) runs of ``line`` in the embedded font (reportlab's split)."""
        runs = self.strings.get(line)
        if runs is None:
            if len(self.strings) > 10_000:
                self.strings.clear()
            runs = self.strings[line] = [
                (subset, self._escape(chunk))
                for subset, chunk in self.font.splitString(line, self.doc)
            ]
        return runs

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        fp = self.fp
        self.canvas._code.append(f"n {fp(x)} {fp(y)} {fp(w)} {fp(h)} re S")

    def text(self, box: Box, height: float) -> None:
        """A text object, as ``canvas.beginText`` … ``drawText`` writes it."""
        canvas, fp = self.canvas, self.fp
        leading = box.leading
        block = len(box.lines) * leading
        pad = 2.5
        if box.valign == "bottom":
            first = height - box.y - box.h + pad + block - leading + box.size * 0.2
        else:
            first = height - box.y - (box.h - block) / 2 - box.size * 1.02
        code = ["BT"]
        # The CJK fonts have no bold face: bold text is filled and stroked. The render mode and
        # line width belong to the graphics state (reportlab does not reset them): save/restore.
        if box.bold:
            canvas.saveState()
            code.append("2 Tr")
            canvas.setLineWidth(box.size / 30)
        font_operator = f"{fp(box.size)} Tf {fp(leading)} TL"
        current = -1
        for index, line in enumerate(box.lines):
            y = first - index * leading
            if box.align == "center":
                x = box.x + (box.w - self.measure(line, box.size)) / 2
            elif box.align == "right":
                x = box.x + box.w - pad - self.measure(line, box.size)
            else:
                x = box.x + pad
            code.append(f"1 0 0 1 {fp(x)} {fp(y)} Tm")
            for subset, chunk in self.encoded(line):
                if subset != current:
                    code.append(f"{self.subset_name(subset)} {font_operator}")
                    current = subset
                code.append(f"({chunk}) Tj")
        code.append("ET")
        canvas._code.append(" ".join(code))
        if box.bold:
            canvas.restoreState()

    def subset_name(self, subset: int) -> str:
        name = self.subsets.get(subset)
        if name is None:
            name = self.subsets[subset] = self.font.getSubsetInternalName(subset, self.doc)
        return name


def _watermark(canvas: Canvas, page: Page, text: str) -> None:
    canvas.saveState()
    canvas.setFillColorRGB(0.55, 0.55, 0.55, alpha=0.18)
    canvas.setFont(fonts.FONT_NAME, 16)
    step_x, step_y = 75 * MM, 55 * MM
    for row in range(math.ceil(page.height / step_y) + 1):
        for column in range(math.ceil(page.width / step_x) + 1):
            canvas.saveState()
            canvas.translate(column * step_x + (row % 2) * step_x / 2, row * step_y)
            canvas.rotate(30)
            canvas.drawString(0, 0, text)
            canvas.restoreState()
    canvas.restoreState()
