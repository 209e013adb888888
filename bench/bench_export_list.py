"""Benchmark: a 100,000-row × 15-column person list to .xlsx, beside a bare XlsxWriter loop measured in
the same run.

- **govshare exporter**: ``core.export.lists.export_list`` on the whole person list of a demo township
  of ~30,500 households (~100,000 persons), 15 columns (the 人员 page's 13 plus 户别 and 住址 from the
  household): the SQL query in the window's order, every cell converted to its kind (codes to labels,
  dates to Excel dates, ages, masks), column widths, the workbook, the atomic rename and the SHA-256.
- **bare XlsxWriter loop**: the fastest plain writer over the *same* rows, fetched and converted to
  their final cell values before the clock starts: one typed ``write_string``/``write_number`` call
  per cell, ``constant_memory`` mode, the same header, frozen pane and autofilter.

Each figure is the best of three runs, each in its own process, the two sides interleaved; CPU time
is shown beside wall time because it wanders less on a busy machine. Peak memory growth is the process's
peak RSS during the export minus its RSS just before it (imports done, database open; on Linux the
peak is reset through /proc/self/clear_refs first).
Targets: exporter within 1.3× of the bare loop; peak memory growth under 60 MB.

    python bench/bench_export_list.py [--households 30500] [--db PATH] [--runs 3]

The demo township is generated once (about 20 s) and kept in the temporary directory for later runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 26)


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def start_peak() -> float:
    """Reset the peak RSS where Linux allows it (clear_refs 5); return the RSS to measure from."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # growth above the peak
    return _status_mb("VmRSS") or 0.0


def peak_mb() -> float:
    return _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def person_list():  # type: ignore[no-untyped-def]
    """The 人员 page's columns plus two from the household: 15 columns."""
    from govshare_desktop.core.browse import PERSONS, Column
    from govshare_desktop.core.domain import codes

    extra = (
        Column("household_type", "户别", "h.household_type", None, "code", codes.HOUSEHOLD_TYPE),
        Column("address", "住址", "h.address", None, mask="address", width=260),
    )
    columns = PERSONS.columns[:8] + extra + PERSONS.columns[8:]
    joins = {**PERSONS.joins, "h": "LEFT JOIN household h ON h.id = t.household_id"}
    return dataclasses.replace(PERSONS, key="person_bench", columns=columns, joins=joins)


# ---------------------------------------------------------------- measured in child processes


def child_exporter(db: str, out: str, masked: str) -> dict:
    from govshare_desktop.core.browse import Query
    from govshare_desktop.core.export.lists import export_list
    from govshare_desktop.core.store.engine import open_tool_store

    store = open_tool_store(db)
    query = Query(person_list())
    before = start_peak()
    cpu, start = time.process_time(), time.perf_counter()
    result = export_list(store, query, out, masked=masked == "1", today=TODAY)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "rows": result.rows,
        "columns": len(query.dataset.columns),
        "growth_mb": peak_mb() - before,
        "size_mb": Path(out).stat().st_size / 1048576,
    }


def child_fetch_only(db: str) -> dict:
    """Only the rows out of SQLite, in the window's order (Browser.iter_rows), nothing written."""
    from govshare_desktop.core.browse import Browser, Query
    from govshare_desktop.core.store.engine import open_tool_store

    store = open_tool_store(db)
    start = time.perf_counter()
    rows = sum(1 for _ in Browser(store).iter_rows(Query(person_list())))
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _final_values(db: str, masked: bool) -> tuple[list, list[tuple]]:
    """Every cell as the workbook holds it: (kind per column, rows of str / float / int / None)."""
    from govshare_desktop.core.browse import Browser, Query, format_cell
    from govshare_desktop.core.domain import idnumber
    from govshare_desktop.core.store.engine import open_tool_store

    dataset = person_list()
    epoch = date(1899, 12, 30).toordinal()
    kinds = []
    for column in dataset.columns:
        if masked and column.mask:
            kinds.append("text")
        elif column.kind == "money":
            kinds.append("money")
        elif column.kind == "date":
            kinds.append("date")
        elif column.kind in ("age", "int"):
            kinds.append("number")
        else:
            kinds.append("text")

    def final(column, kind, value):  # type: ignore[no-untyped-def]
        if value is None or value == "":
            return None
        if kind == "money":
            return int(value) / 100
        if kind == "date":
            return date.fromisoformat(str(value)[:10]).toordinal() - epoch
        if kind == "number":
            if column.kind == "age":
                return idnumber.age_on(date.fromisoformat(str(value)[:10]), TODAY)
            return value
        return format_cell(column, value, masked=masked, today=TODAY)

    store = open_tool_store(db)
    plan = list(zip(dataset.columns, kinds, strict=True))
    rows = [
        tuple(final(c, k, v) for (c, k), v in zip(plan, raw, strict=True))
        for raw in Browser(store).iter_rows(Query(dataset))
    ]
    store.dispose()
    return kinds, rows


def child_bare(db: str, out: str, masked: str) -> dict:
    import xlsxwriter

    dataset = person_list()
    kinds, rows = _final_values(db, masked == "1")  # before the clock starts
    gc.collect()
    gc.freeze()  # the 1.5 M pre-fetched values would otherwise slow every collection down
    cpu, start = time.process_time(), time.perf_counter()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = workbook.add_worksheet(dataset.title)
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, column in enumerate(dataset.columns):
        sheet.write_string(0, col, column.header, bold)
    sheet.freeze_panes(1, 0)
    writers = []
    for kind in kinds:
        if kind == "text":
            writers.append((sheet.write_string, None))
        elif kind == "money":
            writers.append((sheet.write_number, money))
        elif kind == "date":
            writers.append((sheet.write_number, day))
        else:
            writers.append((sheet.write_number, None))
    plan = list(enumerate(writers))
    row = 0
    for row, values in enumerate(rows, start=1):
        for col, (write, fmt) in plan:
            value = values[col]
            if value is not None:
                write(row, col, value, fmt)
    sheet.autofilter(0, 0, row, len(kinds) - 1)
    workbook.close()
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "rows": row}


def run_child(name: str, *args: str) -> dict:
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import bench_export_list as b; print(json.dumps(getattr(b, {name!r})(*sys.argv[1:])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_township(db: Path, households: int) -> None:
    from govshare_desktop.core.demo import generate
    from govshare_desktop.core.records import summary
    from govshare_desktop.core.store.engine import open_tool_store

    if db.exists():
        store = open_tool_store(db)
        persons = summary(store).persons
        store.dispose()
        print(f"  reusing {db} ({persons:,} persons)")
        return
    started = time.perf_counter()
    store = open_tool_store(db)
    result = generate(store, households=households, seed=1)
    store.dispose()
    print(
        f"  generated {result.households:,} households, {result.persons:,} persons"
        f" in {time.perf_counter() - started:.1f} s ({db})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=30_500)
    parser.add_argument(
        "--db", help="an existing demo township to reuse (default: cached in TMPDIR)"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db = Path(args.db or Path(tempfile.gettempdir()) / f"govshare-bench-list-{args.households}.db")
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-list-"))
    print("govshare-desktop list export benchmark")
    ensure_township(db, args.households)

    fetch = min(
        (run_child("child_fetch_only", str(db)) for _ in range(args.runs)),
        key=lambda r: r["seconds"],
    )
    results = {}
    for masked in ("1", "0"):
        bare_runs, our_runs = [], []
        for _ in range(args.runs):  # interleaved, so that both see the same machine
            bare_runs.append(run_child("child_bare", str(db), str(work / "bare.xlsx"), masked))
            our_runs.append(run_child("child_exporter", str(db), str(work / "ours.xlsx"), masked))
        results[masked] = (bare_runs, our_runs)
    ours = results["1"][1][0]
    print(
        f"\n{ours['rows']:,}-row x {ours['columns']}-column person list to .xlsx"
        f" ({ours['size_mb']:.1f} MB), best of {args.runs}"
    )
    print(f"  {'':<52}{'wall s':>8}{'CPU s':>8}   peak RSS growth")
    print(f"  {'rows out of SQLite only (Browser.iter_rows)':<52}{fetch['seconds']:8.2f}")
    for masked, label in (("1", "masked (default)"), ("0", "unmasked")):
        bare_runs, our_runs = results[masked]
        bare = {k: min(r[k] for r in bare_runs) for k in ("seconds", "cpu")}
        ours = {k: min(r[k] for r in our_runs) for k in ("seconds", "cpu", "growth_mb")}
        print(f"  {label}:")
        print(
            f"    {'bare XlsxWriter loop, values pre-converted':<50}"
            f"{bare['seconds']:8.2f}{bare['cpu']:8.2f}"
        )
        print(
            f"    {'govshare exporter (query + convert + write)':<50}"
            f"{ours['seconds']:8.2f}{ours['cpu']:8.2f}   {ours['growth_mb']:6.1f} MB"
        )
        print(
            f"    ratio: {ours['seconds'] / bare['seconds']:.2f}x wall,"
            f" {ours['cpu'] / bare['cpu']:.2f}x CPU (target < 1.3x);"
            f" peak growth {ours['growth_mb']:.1f} MB (target < 60 MB)"
        )
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
