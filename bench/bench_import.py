"""Benchmark: back-flow import at scale, each figure beside a baseline measured in the same run.

1. 1,000,000 payment rows from CSV through the full pipeline (read → find header → map → check every
   row → diff against the store → insert, one transaction), versus bare ``csv.reader`` plus raw
   ``sqlite3.executemany`` of tuples into the same schema in one transaction. Target: within 2×,
   peak memory under 300 MB (each measured in its own process, peak RSS).
2. A 100,000-row × 15-column .xlsx read through the app's reader (header detection, streaming
   rows) versus python-calamine alone. Target: within 1.5×.

    python bench/bench_import.py [--rows 1000000] [--xlsx-rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HEADER = "社会保障号码,姓名,发放年月,基础养老金,个人账户养老金,实发金额,发放日期"


def make_csv(path: Path, rows: int) -> None:
    from govshare_desktop.core.domain import idnumber

    months = [y * 100 + m for y in range(2019, 2027) for m in range(1, 13)][-50:]
    people = rows // len(months) + 1
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(HEADER + "\n")
        for i in range(people):
            number = idnumber.make(
                "441900", date(1930 + i % 35, 1 + i % 12, 1 + i % 28), i % 499, male=i % 2 == 0
            )
            account = 3000 + (i * 37) % 12000
            for period in months:
                if written >= rows:
                    return
                basic = 23800 if period >= 202601 else 23300
                fh.write(
                    f"{number},测试{i},{period},{basic / 100:.2f},{account / 100:.2f},"
                    f"{(basic + account) / 100:.2f},{period // 100}-{period % 100:02d}-10\n"
                )
                written += 1


def make_xlsx(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(["青禾镇测试数据"])
    ws.append(["序号", "公民身份号码", "姓名", "性别", "民族", "出生日期", "户号", "与户主关系",
               "所属村（社区）", "住址", "人员状态", "变动日期", "联系电话", "备注一", "备注二"])  # fmt: skip
    for i in range(rows):
        ws.append([i + 1, f"44190019{i:010d}", f"姓名{i}", "男", "汉族", date(1960, 1, 1 + i % 28),
                   f"199201{i:05d}", "户主", "东岭村委会", f"东岭村{i}号", "正常", None,
                   f"138{i:08d}", "x", i * 1.5])  # fmt: skip
    wb.save(path)


# ---------------------------------------------------------------- measured in child processes


def child_baseline(csv_path: str, db: str) -> dict:
    import csv
    import sqlite3

    from govshare_desktop.core.store.engine import open_store

    open_store(db).dispose()  # the same schema, indexes and pragmas
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("INSERT INTO batch (id, dataset, source_department, imported_at, imported_by, rows_total,"
                 " rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_absent)"
                 " VALUES (1, 'ss_payment', 'x', '2026-11-01', 'bench', 0, 0, 0, 0, 0, 0)")  # fmt: skip
    sql = ("INSERT INTO ss_payment (id_number, period, basic_fen, account_fen, total_fen, paid_date,"
           " batch_id) VALUES (?, ?, ?, ?, ?, ?, 1)")  # fmt: skip
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        chunk = []
        for r in reader:
            chunk.append((r[0], int(r[2]), round(float(r[3]) * 100), round(float(r[4]) * 100),
                          round(float(r[5]) * 100), r[6]))  # fmt: skip
            if len(chunk) >= 5000:
                conn.executemany(sql, chunk)
                chunk = []
        conn.executemany(sql, chunk)
    conn.commit()
    return {"seconds": time.perf_counter() - start}


def child_read_only(csv_path: str) -> dict:
    import csv

    start = time.perf_counter()
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        count = sum(1 for _ in csv.reader(fh)) - 1
    return {"seconds": time.perf_counter() - start, "rows": count}


def child_pipeline(csv_path: str, db: str) -> dict:
    from govshare_desktop.core.backflow.pipeline import import_file
    from govshare_desktop.core.store.engine import open_tool_store
    from govshare_desktop.core.store.township import init_township

    store = open_tool_store(db)
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    start = time.perf_counter()
    result = import_file(store, csv_path, user="bench")
    return {
        "seconds": time.perf_counter() - start,
        "inserted": result.inserted,
        "rejected": result.rejected,
    }


def child_reimport(csv_path: str, db: str) -> dict:
    from govshare_desktop.core.backflow.pipeline import import_file
    from govshare_desktop.core.store.engine import open_tool_store

    store = open_tool_store(db)
    start = time.perf_counter()
    result = import_file(store, csv_path, user="bench")
    return {"seconds": time.perf_counter() - start, "unchanged": result.unchanged}


def child_calamine(xlsx: str) -> dict:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    sheet = CalamineWorkbook.from_path(xlsx).get_sheet_by_index(0)
    count = sum(1 for _ in sheet.iter_rows())
    return {"seconds": time.perf_counter() - start, "rows": count}


def child_reader(xlsx: str) -> dict:
    from govshare_desktop.core.backflow.fields import is_known_header
    from govshare_desktop.core.backflow.header import locate
    from govshare_desktop.core.backflow.readers import open_table

    start = time.perf_counter()
    source = open_table(xlsx)
    table = locate(source.rows, is_known_header)
    count = sum(1 for _ in table.data_rows())
    return {"seconds": time.perf_counter() - start, "rows": count}


def run_child(name: str, *args: str) -> dict:
    code = (
        f"import json, resource, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_import as b; "
        f"r = getattr(b, {name!r})(*sys.argv[1:]); "
        "r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; print(json.dumps(r))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-import-"))
    csv_path = work / "payments.csv"
    print(
        f"govshare-desktop import benchmark — {args.rows:,} payment rows, {args.xlsx_rows:,}-row xlsx"
    )
    started = time.perf_counter()
    make_csv(csv_path, args.rows)
    print(
        f"  generated {csv_path.stat().st_size / 1048576:.0f} MB CSV in {time.perf_counter() - started:.1f} s"
    )

    def best(name: str, *extra: str, fresh_db: str | None = None) -> dict:
        """Best of three (this machine's timings wander by a fifth from run to run)."""
        runs = []
        for _ in range(3):
            if fresh_db:
                for p in work.glob(fresh_db + "*"):
                    p.unlink()
            runs.append(run_child(name, *extra))
        return min(runs, key=lambda r: r["seconds"])

    read = best("child_read_only", str(csv_path))
    base = best("child_baseline", str(csv_path), str(work / "base.db"), fresh_db="base.db")
    pipe = best("child_pipeline", str(csv_path), str(work / "pipe.db"), fresh_db="pipe.db")
    again = run_child("child_reimport", str(csv_path), str(work / "pipe.db"))
    print(f"\n{args.rows:,}-row CSV import (best of 3)                 seconds   peak RSS")
    print(
        f"  baseline: csv.reader only                       {read['seconds']:8.2f}   {read['peak_mb']:6.0f} MB"
    )
    print(
        f"  baseline: csv.reader + raw sqlite3.executemany  {base['seconds']:8.2f}   {base['peak_mb']:6.0f} MB"
    )
    print(f"  govshare pipeline (inserted {pipe['inserted']:,}, rejected {pipe['rejected']})"
          f"{'':<3}{pipe['seconds']:8.2f}   {pipe['peak_mb']:6.0f} MB")  # fmt: skip
    print(f"  govshare re-import of the same file (unchanged {again['unchanged']:,})"
          f"{'':<1}{again['seconds']:6.2f}   {again['peak_mb']:6.0f} MB")  # fmt: skip
    print(f"  ratio pipeline / (read + raw insert): {pipe['seconds'] / base['seconds']:.2f}x (target < 2x);"
          f" peak {pipe['peak_mb']:.0f} MB (target < 300 MB)")  # fmt: skip

    xlsx = work / "people.xlsx"
    started = time.perf_counter()
    make_xlsx(xlsx, args.xlsx_rows)
    print(f"\n{args.xlsx_rows:,}-row x 15-column xlsx ({xlsx.stat().st_size / 1048576:.0f} MB,"
          f" written in {time.perf_counter() - started:.1f} s)")  # fmt: skip
    cal = min(
        (run_child("child_calamine", str(xlsx)) for _ in range(3)), key=lambda r: r["seconds"]
    )
    ours = min((run_child("child_reader", str(xlsx)) for _ in range(3)), key=lambda r: r["seconds"])
    print(
        f"  python-calamine alone                           {cal['seconds']:8.2f}   {cal['peak_mb']:6.0f} MB"
    )
    print(
        f"  govshare reader (header detection + rows)        {ours['seconds']:8.2f}   {ours['peak_mb']:6.0f} MB"
    )
    print(f"  ratio: {ours['seconds'] / cal['seconds']:.2f}x (target < 1.5x)")
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
