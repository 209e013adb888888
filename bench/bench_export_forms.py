"""Benchmark: 登记表 (城乡居民养老保险参保登记表) to one PDF — what the clerk waits for, from the
click to the file: collecting the forms from the store, laying them out, drawing them and
writing the file, through the app's own service (``output.export_template``, audited like any
export) — beside a bare reportlab loop with its own query (the same people's fields read by ID,
drawn at the same places with the same font), measured in the same run.

1. 1,000 forms chosen by ID (the CLI's ``--subject``), best and median of ``--repeat`` runs,
   each beside the bare loop.
2. Every eligible person of the township into one PDF (``--every``), in a child process so that
   its peak RSS (VmHWM) is its own: the time, forms a second and the peak beside the RSS of the
   same process before the export. The bare loop is not run at this size: reportlab's own
   document keeps every page until it is saved (~30 KB a page), which is what the app's streamed
   writer avoids.

    python bench/bench_export_forms.py [--households 3000] [--db township.sqlite] [--every]

``--db``: a ready-made township (copied first; the copy is exported from and thrown away).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import rss_mb, township

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.batch import form_batch
from govshare_desktop.core.export.paging import MM, Page, page_label
from govshare_desktop.core.export.pdf import measure_with, pages_for
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.sheet import VALUE, build_sheet
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.services import output
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import open_tool_store

TEMPLATE = "rs_resident_pension_registration"
PERIOD = Period.parse("2026-10")
# What the bare program reads for each person, in the form's order of value cells.
FIELDS = {
    "P_NAME": "t.name",
    "P_SEX": "CASE t.sex_code WHEN '1' THEN '男' WHEN '2' THEN '女' ELSE '' END",
    "P_BIRTH_DATE": "t.birth_date",
    "P_ID_NUMBER": "t.id_number",
    "P_PHONE": "t.phone",
    "P_VILLAGE": "(SELECT a.name FROM area a WHERE a.code = t.village_code)",
    "P_HOUSEHOLD_NO": "t.household_no",
    "I_REG_IDENTITY": "''",
    "I_REG_GRADE": "''",
}


def open_pool(db: Path) -> FormValues:
    store = open_tool_store(db)
    dictionary = load_dictionary()
    return FormValues(store, dictionary, load_templates(dictionary)[0])


def form_template(pool: FormValues, key: str) -> tuple[Page, list[str]]:
    """One laid-out form whose value cells hold markers (#0, #1, …), and the element of each:
    the fixed layout a bare program would have drawn by hand."""
    (data,) = form_batch(pool, TEMPLATE, PERIOD, subjects=[key]).forms()
    sheet = build_sheet(data)
    codes: list[str] = []
    for where, cell in sorted(sheet.cells.items()):
        if cell.role == VALUE and cell.element is not None:
            sheet.cells[where] = type(cell)(**{**cell.__dict__, "text": f"#{len(codes)}"})
            codes.append(cell.element)
    (page,) = pages_for([sheet])
    return page, codes


def bare_loop(
    pool: FormValues, keys: list[str], page: Page, codes: list[str], path: Path, *, a85: bool
) -> None:
    """The least these forms cost: the people's fields by ID (500 a query), rectangles and strings
    at known places on reportlab's canvas, one page each. ``a85``: reportlab's default of
    ASCII85-encoding every compressed page stream (the app's streams are binary, as with
    ``a85=False``)."""
    from reportlab import rl_config
    from reportlab.pdfgen.canvas import Canvas

    rl_config.useA85 = int(a85)

    select_list = ", ".join(["t.id_number", *(FIELDS[c] for c in codes)])
    rows: dict[str, tuple[Any, ...]] = {}
    with pool.store.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT {select_list} FROM person t WHERE t.id_number IN ({marks})"
            for row in cursor.execute(sql, chunk):
                rows[row[0]] = row[1:]
    canvas = Canvas(str(path), pagesize=(page.width, page.height), pageCompression=1)
    for number, key in enumerate(keys, start=1):
        values = rows[key]
        for box in page.boxes:
            top = page.height - box.y
            if box.border:
                canvas.rect(box.x, top - box.h, box.w, box.h)
            canvas.setFont(fonts.FONT_NAME, box.size)
            for index, line in enumerate(box.lines):
                if line.startswith("#"):
                    line = str(values[int(line[1:])] or "")
                canvas.drawString(box.x + 2.5, top - box.size * 1.5 - index * box.leading, line)
        canvas.setFont(fonts.FONT_NAME, 9)
        canvas.drawCentredString(page.width / 2, 8 * MM, page_label(number, len(keys)))
        canvas.showPage()
    canvas.save()
    rl_config.useA85 = 1


def app_export(pool: FormValues, path: Path, subjects: list[str] | None) -> float:
    """Click to file through the service the window and the CLI use (audited, one PDF)."""
    ctx = Context(pool.store)
    start = time.perf_counter()
    (written,) = output.export_template(
        ctx, pool, TEMPLATE, PERIOD, path, fmt="pdf", subjects=subjects, masked=True
    )
    seconds = time.perf_counter() - start
    assert written.forms == (len(subjects) if subjects else written.forms)
    return seconds


def thousand(pool: FormValues, work: Path, forms: int, repeat: int) -> None:
    keys = list(form_batch(pool, TEMPLATE, PERIOD).keys)
    step = max(1, len(keys) // forms)
    chosen = keys[::step][:forms]  # spread over the township's villages
    page, codes = form_template(pool, chosen[0])
    measure_with(fonts.FONT_NAME)("预热", 10.5)
    ours: list[float] = []
    bare: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeat):
        ours.append(app_export(pool, work / "ours.pdf", chosen))
        for a85 in (True, False):
            start = time.perf_counter()
            bare_loop(pool, chosen, page, codes, work / "bare.pdf", a85=a85)
            bare[a85].append(time.perf_counter() - start)
    print(f"\n{len(chosen):,} 登记表 chosen by ID into one PDF, {repeat} runs (click to file)")
    rows = (
        ("app (export_template)", ours),
        ("bare reportlab + query", bare[True]),
        ("  the same, no ASCII85", bare[False]),
    )
    for label, times in rows:
        print(
            f"  {label:<24} best {min(times):6.2f} s  median {statistics.median(times):6.2f} s"
            f"  ({min(times) / len(chosen) * 1000:.2f} ms a form)"
        )
    for label, times in rows[1:]:
        print(
            f"  ratio to {label.strip():<22} best {min(ours) / min(times):.2f}x  median "
            f"{statistics.median(ours) / statistics.median(times):.2f}x  (target ≤ 1.5x)"
        )
    print(
        f"  PDF size: app {(work / 'ours.pdf').stat().st_size / 1e6:.1f} MB, "
        f"bare {(work / 'bare.pdf').stat().st_size / 1e6:.1f} MB"
    )


def every(db: Path, work: Path) -> dict[str, float]:
    """Every eligible person's form into one PDF (run in a child process: see main)."""
    pool = open_pool(db)
    fonts.register()
    before, _ = rss_mb()
    seconds = app_export(pool, work / "every.pdf", None)
    after, peak = rss_mb()
    forms = len(form_batch(pool, TEMPLATE, PERIOD))
    return {
        "forms": forms,
        "seconds": seconds,
        "rss_before": before,
        "rss_after": after,
        "peak": peak,
        "size": (work / "every.pdf").stat().st_size / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--db", type=Path, help="a ready-made township (a copy is used)")
    parser.add_argument("--forms", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every", action="store_true", help="also every eligible person's form")
    parser.add_argument("--child-every", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_every:  # the child process of --every
        print(json.dumps(every(args.child_every, args.child_every.parent)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-export-forms-"))
    try:
        db = township(args.db, args.households, work)
        pool = open_pool(db)
        fonts.register()
        print(
            f"font: {fonts.find_cjk_font()}; township: {args.db or f'{args.households:,} households'}"
        )
        thousand(pool, work, args.forms, args.repeat)
        pool.store.dispose()
        if args.every:
            child = subprocess.run(
                [sys.executable, __file__, "--child-every", str(db)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ},
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"\nEvery eligible person's 登记表 into one PDF ({result['forms']:,} forms)")
            print(
                f"  click to file {result['seconds']:.1f} s "
                f"({result['forms'] / result['seconds']:.0f} forms a second), "
                f"PDF {result['size']:.0f} MB"
            )
            print(
                f"  RSS: {result['rss_before']:.0f} MB before, peak {result['peak']:.0f} MB "
                f"(+{result['peak'] - result['rss_before']:.0f} MB; target: peak < 250 MB)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
