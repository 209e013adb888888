"""Benchmark: 上报 — making a form's signed report package (checks, form.pdf, values.csv with every
row, report.json, signature, kept in the outbox) — beside rendering the same form's PDF alone,
measured in the same run. Target: the package stays under 2x the time of its PDF alone.

Forms, on a demo township of 6,000 households (~20,000 persons):
  - the 花名册 that selects the most people: 65周岁及以上老年人健康管理花名册 (~3,500 persons);
  - the 统计表 with the most columns (6 each): 城乡居民基本养老保险参保情况统计表 and
    辖区人口基本情况统计表.

Each form is prefilled, then 上报 runs on it; between runs its FormStatus row and its package in
the outbox are deleted, so the same form goes up again. Package and PDF alone are interleaved, a
warm-up run of each first (fonts registered, the township key made); median of --runs.

    python bench/bench_report_package.py [--households 6000] [--runs 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import statistics
import sys
import tempfile
import time
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete

from govshare_desktop.core.demo import generate
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.reports.sending import render_pdf, submit_report
from govshare_desktop.core.store.models import FormStatus, OutboxPackage
from govshare_desktop.core.store.township import get_township

NOW = datetime(2027, 1, 5, 9, 30)
FORMS = (  # (template, period): the largest roster, then the two widest tables
    ("wj_elderly_health_roster", "2026"),
    ("rs_resident_pension_enrollment", "2026"),
    ("wj_population", "2026H2"),
)


def reset(pool: FormValues, template_id: str, area: str, period: Period, package_id: str) -> None:
    """The form back to never submitted, its package gone from the outbox."""
    with pool.store.transaction() as session:
        session.execute(
            delete(FormStatus).where(
                FormStatus.template == template_id,
                FormStatus.area == area,
                FormStatus.period == str(period),
            )
        )
        session.execute(delete(OutboxPackage).where(OutboxPackage.package_id == package_id))


def cell(text: str, width: int, *, left: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a CJK character takes two)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    room = " " * max(0, width - shown)
    return text + room if left else room + text


def values_csv_rows(content: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        text = package.read("data/values.csv").decode("utf-8")
    return sum(1 for _ in csv.reader(io.StringIO(text))) - 1  # less the header


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one package per form")
    args = parser.parse_args()

    from govshare_desktop.core.store.engine import open_tool_store

    store = open_tool_store(Path(tempfile.mkdtemp()) / "report.db")
    start = time.perf_counter()
    summary = generate(store, households=args.households, seed=1)
    print(
        f"demo township: {summary.households:,} households, {summary.persons:,} persons "
        f"({time.perf_counter() - start:.1f} s)"
    )
    catalog = load_catalog(store)
    pool = FormValues(store, catalog.dictionary, catalog.templates)
    township = get_township(store)
    assert township is not None
    area, user = township.code, store.principal.username
    prefilled: set[str] = set()

    print(f"\n上报 (median of {args.runs}) beside the form's PDF alone — target < 2x")
    print(
        "  "
        + cell("form", 34, left=True)
        + "".join(
            cell(h, w)
            for h, w in (
                ("rows", 6),
                ("values.csv rows", 17),
                ("package", 13),
                ("上报", 10),
                ("PDF alone", 11),
                ("ratio", 7),
                ("上报 − PDF", 12),
                ("collect", 9),
                ("vs export", 10),
            )
        )
    )
    results = []
    for template_id, period_text in FORMS:
        period = Period.parse(period_text)
        if period_text not in prefilled:
            pool.prefill(period, township_code=area, user=user, now=NOW)
            prefilled.add(period_text)
        data = pool.collect(template_id, area, period)
        filled, required = data.completeness()
        assert filled == required, f"{template_id}: {required - filled} values missing"

        package_times, pdf_times, collect_times = [], [], []
        content = b""
        for run in range(args.runs + 1):  # run 0 warms up
            start = time.perf_counter()
            sent = submit_report(pool, template_id, area, period, now=NOW)
            elapsed = time.perf_counter() - start
            assert sent.package is not None, f"{template_id}: went to review, not up"
            content = sent.package.content
            reset(pool, template_id, area, period, sent.package.package_id)

            start = time.perf_counter()
            data = pool.collect(template_id, area, period)
            collected = time.perf_counter()
            render_pdf(data, author=user)
            rendered = time.perf_counter()
            if run:
                package_times.append(elapsed)
                pdf_times.append(rendered - collected)
                collect_times.append(collected - start)

        package_s, pdf_s = statistics.median(package_times), statistics.median(pdf_times)
        collect_s = statistics.median(collect_times)
        ratio = package_s / pdf_s
        title = data.template.title
        results.append((title, ratio))
        print(
            f"  {cell(title, 34, left=True)}{len(data.subjects):>6,}"
            f"{values_csv_rows(content):>17,}{len(content):>11,} B"
            f"{package_s * 1000:>7.1f} ms{pdf_s * 1000:>8.1f} ms{ratio:>6.2f}x"
            f"{(package_s - pdf_s) * 1000:>9.1f} ms{collect_s * 1000:>6.1f} ms"
            f"{package_s / (collect_s + pdf_s):>9.2f}x"
        )

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            sent = submit_report(pool, template_id, area, period, now=NOW)
            profiler.disable()
            assert sent.package is not None
            reset(pool, template_id, area, period, sent.package.package_id)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    met = [title for title, ratio in results if ratio < 2]
    missed = [title for title, ratio in results if ratio >= 2]
    print(f"  target < 2x met by {len(met)} of {len(results)} forms" + (":" if missed else ""))
    for title in missed:
        print(f"    NOT met: {title}")
    print(
        "  上报 − PDF: reading and checking the form, values.csv, report.json, signing, the outbox row"
        "\n  and the audit entries, one transaction; collect: reading the form (not in PDF alone);"
        "\n  vs export: 上报 beside what 「导出 PDF」 does for the clerk (collect + PDF)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
