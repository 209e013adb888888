"""Benchmark: the print preview and the printout of a batch of 登记表 (城乡居民养老保险参保登记表) —
what the clerk waits for and the memory it takes, each measurement in a child process of its own
so that its peak RSS (VmHWM) is its own, interleaved with its baselines in the same run.

For each size (``--forms``, default 1,000 and 20,000; ``--every`` adds the whole township):

* ``preview``  the paged preview (ui/print_preview.py): from the click (whom the batch covers
  read, as the window reads it) to page 1 painted; then to the page count being exact (counted
  off the UI thread); then 50 pages turned at random; peak RSS.
* ``print``    the same preview, its pages counted, then 打印 to a PDF-file QPrinter (it stands in
  for the printer): from the click on 打印 to the last page on the printer, pages a second, peak
  RSS. (打印 clicked before the count has finished waits for the rest of it.)
* ``pdf``      baseline: the streamed reportlab PDF of core/export (``write_pdf``, what
  「导出 PDF」 writes) of the same forms, peak RSS.
* ``old``      baseline (``--old-max`` forms at most, 1,000 by default): the previous path — every
  page laid out into a list, then Qt's QPrintPreviewDialog painting them all (it keeps a picture
  of every page) — the click to page 1, then printing those pages to a PDF-file QPrinter.

    python bench/bench_print.py [--db township.sqlite] [--households 3000] [--forms 1000 20000]
                                [--every] [--repeat 2]

``--db``: a ready-made township (copied first; the copy is read and thrown away). Without it a
township of ``--households`` is generated; a size larger than its batch repeats the batch's
people (the forms are read the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import rss_mb, township

TEMPLATE = "rs_resident_pension_registration"
MODES = ("old", "preview", "print", "pdf")


def _pool(db: Path) -> Any:
    """The window's 一表通 values on the township (open before the clock starts)."""
    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.forms.templates import load_templates
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.store.engine import open_tool_store

    dictionary = load_dictionary()
    return FormValues(open_tool_store(db), dictionary, load_templates(dictionary)[0])


def _batch(pool: Any, forms: int) -> Any:
    """The click: the township's batch read as the window reads it (whom it covers), cut to
    ``forms`` (a village's worth, in village order) or repeated up to it."""
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.export.batch import FormBatch, form_batch

    period = Period.parse("2026-10")
    batch = form_batch(pool, TEMPLATE, period, masked=True)
    if forms <= 0 or forms == len(batch):
        return batch
    keys = list(batch.keys)
    keys = (keys * (forms // len(keys) + 1))[:forms]
    return FormBatch(pool, batch.template, period, keys, masked=True)


def _wait(app: Any, until: Any, timeout: float = 3600) -> None:
    from PySide6.QtCore import QEventLoop

    deadline = time.perf_counter() + timeout
    while not until():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if time.perf_counter() > deadline:
            raise TimeoutError("the preview did not get there in time")


def child(mode: str, db: Path, forms: int, work: Path) -> dict[str, Any]:
    """One measurement (see the module), in this process."""
    from PySide6.QtPrintSupport import QPrinter
    from PySide6.QtWidgets import QApplication

    from govshare_desktop.core.export import fonts
    from govshare_desktop.ui.page_painting import qt_family

    app = QApplication.instance() or QApplication([])
    fonts.register()
    qt_family()  # the font loaded into Qt before the clock starts, as in a running window
    _warm(app)
    pool = _pool(db)
    before, _ = rss_mb()
    out: dict[str, Any] = {"mode": mode, "rss_before": before}
    target = work / f"{mode}-{forms}.pdf"
    start = time.perf_counter()
    batch = _batch(pool, forms)
    out["forms"] = len(batch)
    if mode == "pdf":
        from govshare_desktop.core.export.pdf import write_pdf

        out["pages"] = write_pdf(batch, target)
        out["seconds"] = time.perf_counter() - start
    elif mode == "old":
        _old(app, batch, start, target, out)
    else:
        _paged(app, batch, start, target, out, print_at_once=mode == "print")
    _, out["peak"] = rss_mb()
    if target.exists():
        out["pdf_mb"] = target.stat().st_size / 1e6
        target.unlink()
    del QPrinter
    return out


def _warm(app: Any) -> None:
    """What a running window has loaded already (so the RSS before is the window's, and the
    figures are the batch's): the modules, reportlab, Qt's printing and a window shown."""
    from PySide6.QtPrintSupport import QPrinter
    from PySide6.QtWidgets import QDialog

    import govshare_desktop.core.export.pdf_stream
    import govshare_desktop.ui.form_output  # noqa: F401
    from govshare_desktop.core.export import fonts
    from govshare_desktop.core.export.pdf import measure_with

    measure_with(fonts.FONT_NAME)("预热", 10.5)
    QPrinter(QPrinter.PrinterMode.HighResolution).pageLayout()
    dialog = QDialog()
    dialog.show()
    app.processEvents()
    dialog.close()


def _paged(
    app: Any, batch: Any, start: float, target: Path, out: dict[str, Any], *, print_at_once: bool
) -> None:
    from PySide6.QtPrintSupport import QPrinter

    from govshare_desktop.core.export.page_source import PageSource
    from govshare_desktop.ui.print_preview import PagedPreview

    preview = PagedPreview(None, PageSource(batch))
    preview.show()
    _wait(app, lambda: preview.painted >= 1 and preview.isVisible())
    app.processEvents()
    out["first_page"] = time.perf_counter() - start
    if print_at_once:
        # The clerk looks at the first pages while they are counted, then prints.
        _wait(app, lambda: preview.source.total().exact)
        out["counted"] = time.perf_counter() - start

        def ask(printer: QPrinter, _pages: int) -> bool:
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(target))
            return True

        printed: list[int] = []
        preview.ask_printer = ask
        clicked = time.perf_counter()
        preview.print_()
        job = preview.job
        assert job is not None
        job.finished.connect(printed.append)
        _wait(app, lambda: bool(printed))
        out["seconds"] = time.perf_counter() - clicked
        out["pages"] = printed[0]
        out["max_queued"] = job.max_queued
        return
    _wait(app, lambda: preview.source.total().exact)
    out["counted"] = time.perf_counter() - start
    pages = preview.source.total().pages
    out["pages"] = pages
    turns = []
    for number in random.Random(1).sample(range(pages), min(50, pages)):
        clock = time.perf_counter()
        preview.show_page(number)
        app.processEvents()
        turns.append(time.perf_counter() - clock)
    out["turn_p50"] = statistics.median(turns)
    out["turn_worst"] = max(turns)
    out["held_pages"] = preview.source.held_pages
    preview.close()
    app.processEvents()


def _old(app: Any, batch: Any, start: float, target: Path, out: dict[str, Any]) -> None:
    """The previous path: every page laid out, then Qt's preview painting them all."""
    from PySide6.QtPrintSupport import QPrinter

    from govshare_desktop.core.export.pdf import iter_pages
    from govshare_desktop.ui.form_output import PrintPreview, paint_pages

    pages = list(iter_pages(batch))
    dialog = PrintPreview(None, batch.title, pages)
    dialog.open()
    _wait(app, lambda: dialog.painted >= 1)
    app.processEvents()
    out["first_page"] = time.perf_counter() - start
    out["pages"] = len(pages)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(target))
    clicked = time.perf_counter()
    paint_pages(printer, pages)
    out["seconds"] = time.perf_counter() - clicked
    dialog.close()
    app.processEvents()


def run_child(mode: str, db: Path, forms: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(db), "--forms", str(forms)],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} {forms}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(forms: int, runs: dict[str, list[dict[str, Any]]]) -> None:
    def best(mode: str, key: str) -> str:
        values = [r[key] for r in runs.get(mode, []) if key in r]
        if not values:
            return "—"
        return f"{min(values):7.2f} s (median {statistics.median(values):.2f})"

    def peak(mode: str) -> str:
        rows = runs.get(mode, [])
        if not rows:
            return "—"
        top = max(r["peak"] for r in rows)
        return f"{top:5.0f} MB (+{top - min(r['rss_before'] for r in rows):.0f})"

    any_run = next(iter(runs.values()))[0]
    print(f"\n{any_run['forms']:,} 登记表, {any_run.get('pages', '?'):,} pages")
    print(f"  {'':<34}{'time':<30}peak RSS (+ over the process before)")
    if "old" in runs:
        print(f"  {'old preview: click to page 1':<34}{best('old', 'first_page'):<30}{peak('old')}")
        print(f"  {'old printing to a PDF QPrinter':<34}{best('old', 'seconds'):<30}")
    print(f"  {'preview: click to page 1':<34}{best('preview', 'first_page'):<30}{peak('preview')}")
    print(f"  {'preview: page count exact':<34}{best('preview', 'counted'):<30}")
    turns = runs.get("preview", [])
    if turns:
        p50 = statistics.median(r["turn_p50"] for r in turns) * 1000
        worst = max(r["turn_worst"] for r in turns) * 1000
        held = max(r["held_pages"] for r in turns)
        print(
            f"  {'preview: a page turned':<34}p50 {p50:.0f} ms, worst {worst:.0f} ms; {held} pages held"
        )
    print(f"  {'print: 打印 to last page (PDF)':<34}{best('print', 'seconds'):<30}{peak('print')}")
    print(f"  {'  its preview: click to page 1':<34}{best('print', 'first_page'):<30}")
    whole = [r["counted"] + r["seconds"] for r in runs.get("print", [])]
    if whole:
        print(f"  {'  click to page 1 + count + print':<34}{min(whole):7.2f} s")
    print(f"  {'baseline: streamed reportlab PDF':<34}{best('pdf', 'seconds'):<30}{peak('pdf')}")
    printing = [r["seconds"] for r in runs.get("print", [])]
    writing = [r["seconds"] for r in runs.get("pdf", [])]
    if printing and writing:
        print(
            f"  printing / the PDF writer: {min(printing) / min(writing):.2f}x, with the count "
            f"{min(whole) / min(writing):.2f}x (best of each)"
        )
    if printing:
        rate = max(r["pages"] / r["seconds"] for r in runs["print"])
        queued = max(r["max_queued"] for r in runs["print"])
        print(
            f"  printing: {rate:.0f} pages a second; at most {queued} pages waiting for the painter"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--db", type=Path, help="a ready-made township (a copy is used)")
    parser.add_argument("--forms", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--every", action="store_true", help="also the whole township's batch")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--old-max", type=int, default=1000)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        work = Path(tempfile.mkdtemp(prefix="bench-print-child-"))
        try:
            print(json.dumps(child(args.child, args.db, args.forms[0], work)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-print-"))
    try:
        db = township(args.db, args.households, work)
        print(f"township: {args.db or f'{args.households:,} households (generated)'}")
        sizes = list(args.forms) + ([0] if args.every else [])
        for forms in sizes:
            runs: dict[str, list[dict[str, Any]]] = {}
            modes = [m for m in MODES if m != "old" or 0 < forms <= args.old_max]
            for _ in range(args.repeat if forms else 1):
                for mode in modes:  # interleaved: each round runs every mode once
                    runs.setdefault(mode, []).append(run_child(mode, db, forms))
            report(forms, runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
