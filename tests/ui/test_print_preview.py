"""The paged print preview of a batch of 登记表 (issue 20): page 1 and the count show at once, the
pages turn (buttons, PgUp/PgDn, the page number), only the pages around the one shown are held,
and printing streams every page, in order, to a real PDF-file printer whose pages (pdfinfo) and
text (pdftotext) are the batch's; 取消 leaves no file under the chosen name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QPushButton

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.batch import FormBatch, form_batch
from govshare_desktop.core.export.page_source import CHUNK, HELD_CHUNKS, PageSource
from govshare_desktop.core.export.pdf import pages_for
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.ui.print_preview import PagedPreview

P = Period.parse("2026-10")
TEMPLATE = "rs_resident_pension_registration"


def _pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def _pdf_text(path: Path, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(out.stdout.split())


def _long_batch(pool: FormValues, copies: int) -> FormBatch:
    """The township's batch repeated ``copies`` times: a batch longer than the demo township
    holds, read the same way (every key is a real person)."""
    batch = form_batch(pool, TEMPLATE, P)
    return FormBatch(pool, batch.template, P, list(batch.keys) * copies)


def _to_pdf(preview: PagedPreview, path: Path) -> None:
    def ask(printer: QPrinter, _pages: int) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(path))
        return True

    preview.ask_printer = ask


def test_the_page_source_lays_out_page_k_alone_and_counts(pool: FormValues) -> None:
    batch = _long_batch(pool, 3)
    source = PageSource(batch)
    total = source.total()
    assert (total.pages, total.exact, total.forms) == (len(batch), False, len(batch))
    far = len(batch) - 2
    page = source.page(far)
    assert source.laid_out <= CHUNK  # the chunk around it, nothing before
    name = next(iter(batch.part(far, far + 1))).data.area[-4:]
    assert any(name in line for box in page.boxes for line in box.lines)
    assert source.count() == len(pages_for(batch)) == source.total().pages
    assert source.total().exact and source.held_pages <= HELD_CHUNKS * CHUNK
    # The stream: every page in order, labelled with the whole count.
    numbers = [(n, t) for n, t, _ in source.stream()]
    assert numbers == [(n, source.total().pages) for n in range(1, source.total().pages + 1)]
    assert [n for n, _, _ in source.stream(5, 7)] == [5, 6, 7]
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(PageSource(batch).stream(cancel=cancel))


def test_a_roster_of_many_pages_is_one_form(pool: FormValues) -> None:
    from govshare_desktop.core.export.forms import form_sheets

    sheets = form_sheets(pool, "wj_elderly_health_roster", P)
    source = PageSource(sheets)
    pages = pages_for(sheets)
    assert source.count() == len(pages) > 1
    for k in (0, len(pages) - 1):
        assert source.page(k).boxes == pages[k].boxes


def test_the_preview_shows_page_one_turns_and_prints_in_order(
    qtbot, pool: FormValues, tmp_path: Path
) -> None:
    batch = _long_batch(pool, 4)
    preview = PagedPreview(None, PageSource(batch), watermark="clerk 2026-11-03 09:30")
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitExposed(preview)
    assert preview.painted >= 1 and preview.current == 0
    assert preview.page_box.value() == 1
    assert f"{len(batch):,} 页" in preview.total_label.text()  # 共约 … then 共 …
    qtbot.waitUntil(lambda: preview.source.total().exact, timeout=30000)
    qtbot.waitUntil(lambda: "共 " in preview.total_label.text(), timeout=5000)
    pages = preview.source.total().pages
    assert f"共 {pages} 页" in preview.windowTitle()
    # Turning: the button, PgDn/PgUp, the page number, the last page.
    preview.next_action.trigger()
    assert preview.current == 1
    qtbot.keyClick(preview, Qt.Key.Key_PageDown)
    assert preview.current == 2 and preview.page_box.value() == 3
    qtbot.keyClick(preview.page_box, Qt.Key.Key_PageUp)  # the page box has the focus
    assert preview.current == 1
    preview.page_box.setValue(pages - 5)
    assert preview.current == pages - 6
    preview.last_action.trigger()
    assert preview.current == pages - 1 and not preview.next_action.isEnabled()
    assert preview.source.held_pages <= HELD_CHUNKS * CHUNK < pages
    assert preview.source.laid_out < pages  # the count laid the rest out and dropped them
    grabbed = preview.grab()
    assert not grabbed.isNull()
    grabbed.save(str(tmp_path / "preview.png"))

    target = tmp_path / "printed.pdf"
    _to_pdf(preview, target)
    with qtbot.waitSignal(preview.destroyed, timeout=60000):
        qtbot.keyClick(preview, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert _pdf_pages(target) == pages
    people = [sheet.data.area for sheet in batch]
    for number in (1, 2, pages // 2, pages):
        text = _pdf_text(target, number)
        assert f"第 {number} 页 共 {pages} 页" in text
        assert people[number - 1][-4:] in text  # one form a page, in the batch's order
    assert not list(tmp_path.glob(".govshare-*"))


def test_printing_a_page_range_and_cancelling(qtbot, pool: FormValues, tmp_path: Path) -> None:
    batch = _long_batch(pool, 2)
    preview = PagedPreview(None, PageSource(batch))
    qtbot.addWidget(preview)
    preview.show()
    target = tmp_path / "range.pdf"

    def ask(printer: QPrinter, _pages: int) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setFromTo(3, 5)
        return True

    preview.ask_printer = ask
    with qtbot.waitSignal(preview.destroyed, timeout=60000):
        preview.print_action.trigger()
    assert _pdf_pages(target) == 3
    assert "第 3 页" in _pdf_text(target, 1) and "第 5 页" in _pdf_text(target, 3)

    # 取消 while printing: no file under the chosen name, none left beside it, the preview open.
    preview = PagedPreview(None, PageSource(_long_batch(pool, 6)))
    qtbot.addWidget(preview)
    preview.show()
    cancelled = tmp_path / "cancelled.pdf"
    _to_pdf(preview, cancelled)
    preview.print_action.trigger()
    job = preview.job
    assert job is not None
    qtbot.waitUntil(lambda: job.printed >= 3, timeout=60000)
    (button,) = job.dialog.findChildren(QPushButton)
    assert button.text() == "取消"
    with qtbot.waitSignal(job.failed, timeout=5000):
        button.click()
    assert not cancelled.exists() and not list(tmp_path.glob(".govshare-*"))
    assert job.max_queued <= 32 and preview.isVisible() and preview.job is None
    assert "已取消打印" in preview.status.text() and preview.print_action.isEnabled()

    # The window closing abandons the worker (abandon_tasks): the printout stops the same way.
    preview.print_action.trigger()
    job = preview.job
    assert job is not None and job.task is not None
    qtbot.waitUntil(lambda: job.printed >= 1, timeout=60000)
    with qtbot.waitSignal(job.failed, timeout=10000):
        job.task.abandon()
    assert not cancelled.exists() and not list(tmp_path.glob(".govshare-*"))
    preview.close()
