"""Benchmark: 1,000 individual forms (城乡居民养老保险参保登记表) into one PDF through the app's
exporter, beside a bare reportlab loop drawing the same cells (same positions and text, measured
in the same run), and the time to collect the 1,000 forms from the store.

    python bench/bench_export_forms.py [--forms 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from govshare_desktop.core.demo import generate
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.paging import MM, page_label
from govshare_desktop.core.export.pdf import pages_for, write_pdf
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.sheet import build_sheet
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.store.engine import open_tool_store

TEMPLATE = "rs_resident_pension_registration"


def bare_loop(pages, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The least a PDF of these cells costs: rectangles and strings at known places."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=(pages[0].width, pages[0].height), pageCompression=1)
    for number, page in enumerate(pages, start=1):
        for box in page.boxes:
            top = page.height - box.y
            if box.border:
                canvas.rect(box.x, top - box.h, box.w, box.h)
            canvas.setFont(fonts.FONT_NAME, box.size)
            for index, line in enumerate(box.lines):
                canvas.drawString(box.x + 2.5, top - box.size * 1.5 - index * box.leading, line)
        canvas.setFont(fonts.FONT_NAME, 9)
        canvas.drawCentredString(page.width / 2, 8 * MM, page_label(number, len(pages)))
        canvas.showPage()
    canvas.save()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forms", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    store = open_tool_store(work / "bench.db")
    generate(store, households=max(300, args.forms // 2), seed=1)
    dictionary = load_dictionary()
    pool = FormValues(store, dictionary, load_templates(dictionary)[0])
    period = Period.parse("2026-10")
    fonts.register()
    print(f"font: {fonts.find_cjk_font()}")

    start = time.perf_counter()
    batch = pool.collect_each(TEMPLATE, period)[: args.forms]
    sheets = [build_sheet(data) for data in batch]
    collect = time.perf_counter() - start
    print(f"collect {len(sheets)} forms from the store and lay out their sheets: {collect:.2f} s")

    ours, bare = [], []
    for _ in range(3):
        start = time.perf_counter()
        pages = write_pdf(sheets, work / "ours.pdf")
        ours.append(time.perf_counter() - start)
        laid_out = pages_for(sheets)
        start = time.perf_counter()
        bare_loop(laid_out, work / "bare.pdf")
        bare.append(time.perf_counter() - start)
    ours_s, bare_s = min(ours), min(bare)
    print(
        f"app exporter (layout + draw): {ours_s:.2f} s for {pages} pages ({ours_s / len(sheets) * 1000:.1f} ms per form)"
    )
    print(
        f"bare reportlab loop, same cells: {bare_s:.2f} s ({bare_s / len(sheets) * 1000:.1f} ms per form)"
    )
    print(f"ratio: {ours_s / bare_s:.2f}x (target ≤ 1.5x)")
    print(f"PDF size: {(work / 'ours.pdf').stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
