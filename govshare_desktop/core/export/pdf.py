"""Forms to PDF with reportlab: A4 pages from :mod:`paging`, the CJK font embedded as a subset,
"第 X 页 共 Y 页" on every page, and an optional watermark (who printed it, and when).

The file is written next to the target and renamed into place, so a failed or cancelled export
never leaves half a PDF behind.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import CANCELLED, fonts
from govshare_desktop.core.export.paging import MM, Box, Page, layout, page_label
from govshare_desktop.core.forms.sheet import Sheet
from govshare_desktop.core.progress import Cancel, Progress

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas


def measure_with(font_name: str) -> Callable[[str, float], float]:
    from reportlab.pdfbase.pdfmetrics import stringWidth  # heavy: reportlab loads only for PDFs

    return lambda text, size: stringWidth(text, font_name, size)


def pages_for(sheets: Sequence[Sheet], *, font: str = "") -> list[Page]:
    """The pages the sheets take, measured with the embedded font."""
    fonts.register(font)
    return layout(sheets, measure_with(fonts.FONT_NAME))


def write_pdf(
    sheets: Sequence[Sheet],
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
    number of pages. ``progress(page, pages, label)`` every 20 pages; once ``cancel`` is set,
    :class:`~govshare_desktop.core.progress.Cancelled` and no file."""
    from reportlab.pdfgen.canvas import Canvas  # heavy: reportlab loads only for PDFs

    pages = pages_for(sheets, font=font)
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=".govshare-", suffix=".pdf", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        canvas = Canvas(
            str(temp),
            pagesize=(pages[0].width, pages[0].height),
            pageCompression=1,
            initialFontName=fonts.FONT_NAME,
        )
        canvas.setTitle(
            sheets[0].title if len(sheets) == 1 else f"{sheets[0].title}（{len(sheets)} 份）"
        )
        canvas.setAuthor(author)
        canvas.setCreator("govshare-desktop")
        canvas.setSubject(sheets[0].data.period.label)
        if anchor:  # the audit trail's head when this file was made (see core/security/audit)
            canvas.setKeywords(f"govshare-audit:{anchor}")
        for number, page in enumerate(pages, start=1):
            if cancel is not None:
                cancel.check(CANCELLED)
            canvas.setPageSize((page.width, page.height))
            draw_page(canvas, page, number, len(pages), watermark)
            canvas.showPage()
            if progress is not None and (number % 20 == 0 or number == len(pages)):
                progress(number, len(pages), f"正在生成 PDF：第 {number} 页，共 {len(pages)} 页")
        canvas.save()
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(
            f"无法写入 PDF 文件 {path}：{exc.strerror or exc}（磁盘已满或没有写权限？）"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return len(pages)


def draw_page(canvas: Canvas, page: Page, number: int, total: int, watermark: str | None) -> None:
    height = page.height
    if watermark:
        _watermark(canvas, page, watermark)
    canvas.setLineWidth(0.6)
    for box in page.boxes:
        if box.border:
            canvas.rect(box.x, height - box.y - box.h, box.w, box.h, stroke=1, fill=0)
        if box.lines:
            _text(canvas, box, height)
    canvas.setFont(fonts.FONT_NAME, 9)
    canvas.drawCentredString(page.width / 2, 8 * MM, page_label(number, total))


def _text(canvas: Canvas, box: Box, height: float) -> None:
    leading = box.leading
    block = len(box.lines) * leading
    pad = 2.5
    if box.valign == "bottom":
        first = height - box.y - box.h + pad + block - leading + box.size * 0.2
    else:
        first = height - box.y - (box.h - block) / 2 - box.size * 1.02
    text = canvas.beginText()
    text.setFont(fonts.FONT_NAME, box.size, leading)
    # The CJK fonts have no bold face: bold text is filled and stroked. The render mode and line
    # width belong to the graphics state (reportlab does not reset them), hence save/restore.
    if box.bold:
        canvas.saveState()
        text.setTextRenderMode(2)
        canvas.setLineWidth(box.size / 30)
    for index, line in enumerate(box.lines):
        y = first - index * leading
        if box.align == "center":
            x = box.x + (box.w - canvas.stringWidth(line, fonts.FONT_NAME, box.size)) / 2
        elif box.align == "right":
            x = box.x + box.w - pad - canvas.stringWidth(line, fonts.FONT_NAME, box.size)
        else:
            x = box.x + pad
        text.setTextOrigin(x, y)
        text.textOut(line)
    canvas.drawText(text)
    if box.bold:
        canvas.restoreState()


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
