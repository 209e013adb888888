"""Benchmark: back-flow import as the clerk waits for it, each figure beside a baseline measured in
the same run, every run in its own process on its own fresh file.

1. A person workbook (.xlsx, 15 columns as a 公安 export has them, every row valid: ID numbers
   with their check digits, sex and birth date as the ID says, households of 1–5 with their 户主)
   at each of ``--rows`` (1,000 to show the fixed costs, 10,000 and 100,000):
   * the import: ``import_files`` as ``govshare import`` calls it, from the file to the rows
     committed (the limits scan, reading, header, every check, households, the FTS5 search index,
     member counts, change report, rejected rows, the 预填 summary, audit entry);
   * the dry run (``govshare import --dry-run``: the import rolled back);
   * the wizard's way: the preview is the import held uncommitted, 「导入」 commits it — the
     preview, the commit and the two together (what the clerk waits for in all);
   * the baseline: python-calamine reads the workbook, then raw ``sqlite3`` writes the same rows
     into the same tables of the same kind of database (its indexes and its triggers: FTS5 and
     each household's member_count) in one transaction — the households, then the persons with
     their household_id — the faster of a plain executemany and the same rows through a
     temporary table (one ``INSERT … SELECT`` per 20,000: FTS5 flushes once a statement). Its
     initials come from the app's own ``pinyin.initials``. It checks nothing and does not
     refresh the 预填 summary (the import's share of that is printed beside it); the bench
     compares the rows both wrote (persons, households with their member counts, FTS5 integrity);
   * python-calamine's read alone, to show what reading costs.
   Every kind runs once a round, ``--repeat`` rounds (interleaved: a busy moment of the machine
   hits all of them). Target: import ≤ 1.5 × the baseline.
2. ``--csv-rows`` payment rows from CSV (1,000,000; 0: skipped): the whole import against
   ``csv.reader`` + raw ``executemany`` of the same rows; a re-import of the same file.

p50 and best of ``--repeat`` runs (3) for every figure.

    python bench/bench_import.py [--rows 10000,100000] [--repeat 3] [--csv-rows 1000000]
        [--encrypted]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HEADER = "社会保障号码,姓名,发放年月,基础养老金,个人账户养老金,实发金额,发放日期"
PERSON_HEADER = ["序号", "公民身份号码", "姓名", "性别", "民族", "出生日期", "户号", "与户主关系",
                 "所属村（社区）", "住址", "人员状态", "变动日期", "联系电话", "备注一", "备注二"]  # fmt: skip
VILLAGES = ["东岭村委会", "西岭村委会", "南塘社区居委会", "北山村委会", "河背村委会"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅金凤"
RELATION = ["户主", "配偶", "子", "女", "孙子"]
TOWNSHIP = ("441900199000", "青禾镇")


# ---------------------------------------------------------------- files


def person_rows(rows: int) -> list[list[object]]:
    """``rows`` valid person rows: households of 1–5, the first member the 户主."""
    from govshare_desktop.core.domain import idnumber

    out: list[list[object]] = []
    household = 0
    i = 0
    while i < rows:
        household += 1
        size = 1 + household % 5
        village = VILLAGES[household % len(VILLAGES)]
        number = f"4419001990{household:08d}"
        for member in range(min(size, rows - i)):
            birth = date(1930, 1, 1) + timedelta(days=(i * 7919) % 30000)
            male = (i % 2) == 0
            sequence = (i // 2) % 499 + 1
            id_number = idnumber.make("441900", birth, sequence, male=male)
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + GIVEN[i % 13]
            out.append([i + 1, id_number, name, "男" if male else "女", "汉族", birth, number,
                        RELATION[member], village, f"{village}{household}号", "正常", None,
                        f"138{i:08d}", "", ""])  # fmt: skip
            i += 1
    ids = [r[1] for r in out]
    if len(set(ids)) != len(ids):  # a repeated ID would be rejected as a duplicate: never
        raise SystemExit("bench_import: generated ID numbers repeat")
    return out


def make_xlsx(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人员")
    ws.append(["青禾镇户籍人口信息"])
    ws.append(PERSON_HEADER)
    for row in person_rows(rows):
        ws.append(row)
    wb.save(path)


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


# ---------------------------------------------------------------- measured in child processes


def _township(db: str, encrypted: str) -> object:
    """A fresh township in ``db`` (the schema, its indexes and triggers), not timed."""
    from govshare_desktop.core.store.engine import open_tool_store
    from govshare_desktop.core.store.township import init_township

    store = open_tool_store(db, encrypted=encrypted == "1")
    with store.transaction() as session:
        init_township(session, *TOWNSHIP)
    return store


def child_import(path: str, encrypted: str, dry: str, db: str) -> dict:
    """The import (or its preview) as the wizard runs it: from the file to the committed rows."""
    from govshare_desktop.core.backflow import pipeline
    from govshare_desktop.core.backflow.runner import Source, import_files

    store = _township(db, encrypted)
    refresh, spent = pipeline.refresh_summary, [0.0]

    def timed_refresh(*args: object, **options: object) -> None:  # how long the 预填 summary takes
        begun = time.perf_counter()
        refresh(*args, **options)  # type: ignore[arg-type]
        spent[0] += time.perf_counter() - begun

    pipeline.refresh_summary = timed_refresh  # type: ignore[assignment]
    start = time.perf_counter()
    [outcome] = import_files(store, [Source(Path(path))], user="bench", dry_run=dry == "1")  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    result = outcome.datasets[0]
    return {"seconds": seconds, "inserted": result.inserted, "rejected": result.rejected,
            "households": result.summary.get("households_inserted", 0), "summary": spent[0]}  # fmt: skip


def child_held(path: str, encrypted: str, db: str) -> dict:
    """The wizard's way: the preview imports and holds (timed), 「导入」 commits (timed)."""
    from govshare_desktop.core.services import imports
    from govshare_desktop.core.services.context import Context

    store = _township(db, encrypted)
    ctx = Context(store)  # type: ignore[arg-type]
    start = time.perf_counter()
    held = imports.hold_back_flow(ctx, [Path(path)])
    preview = time.perf_counter() - start
    imports.commit_held(ctx, held)
    return {"seconds": time.perf_counter() - start, "preview": preview,
            "commit": time.perf_counter() - start - preview}  # fmt: skip


def child_calamine(path: str) -> dict:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
    count = sum(1 for _ in sheet.iter_rows())
    return {"seconds": time.perf_counter() - start, "rows": count}


def child_raw_persons(path: str, encrypted: str, staged: str, db: str) -> dict:
    """python-calamine + raw inserts of the same rows into the same tables: the households first
    (户号, 类型, 住址, 村, 户主 as the rows say), then the persons pointing at them (household_id),
    so that the schema's triggers keep the FTS5 indexes and each household's member_count as
    the import leaves them. Initials through the app's own pinyin.initials."""
    from python_calamine import CalamineWorkbook

    from govshare_desktop.core.domain import pinyin

    store = _township(db, encrypted)
    engine = store.engine  # type: ignore[attr-defined]
    start = time.perf_counter()
    rows = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()[2:]
    # new villages numbered as the import numbers them: township + 901… in order of appearance
    villages = {
        v: f"{TOWNSHIP[0][:9]}{901 + k}" for k, v in enumerate(dict.fromkeys(r[8] for r in rows))
    }
    relation = {"户主": "02", "配偶": "10", "子": "20", "女": "30", "孙子": "41"}
    households: dict[str, list[object]] = {}
    for r in rows:
        household = households.setdefault(r[6], [r[6], "1", r[9], villages[r[8]], None, None])
        if r[7] == "户主":
            household[4:6] = [r[1], r[2]]
    connection = engine.raw_connection()
    cursor = connection.cursor()
    cursor.execute("INSERT INTO batch (dataset, source_department, imported_at, imported_by,"
                   " rows_total, rows_inserted, rows_updated, rows_unchanged, rows_rejected,"
                   " rows_absent) VALUES ('person', 'x', '2026-11-01', 'bench',"
                   " 0, 0, 0, 0, 0, 0)")  # fmt: skip
    batch = cursor.lastrowid
    for village, code in villages.items():
        cursor.execute("INSERT OR IGNORE INTO area (code, name, level, parent_code, needs_review)"
                       " VALUES (?, ?, 'village', ?, 1)", (code, village, TOWNSHIP[0]))  # fmt: skip
    cursor.executemany("INSERT INTO household (household_no, household_type, address, village_code,"
                       " head_id_number, head_name, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(*h, batch) for h in households.values()])  # fmt: skip
    ids = dict(cursor.execute("SELECT household_no, id FROM household").fetchall())
    persons = []
    for r in rows:
        birth = r[5] if isinstance(r[5], date) else date.fromisoformat(str(r[5])[:10])
        persons.append((r[1], r[2], "1" if r[3] == "男" else "2", "01", birth.isoformat(),
                        r[6], ids[r[6]], relation[r[7]], villages[r[8]], "normal", str(r[12]),
                        pinyin.initials(r[2]), pinyin.spaced(r[2]), batch))  # fmt: skip
    columns = ("id_number, name, sex_code, ethnicity_code, birth_date, household_no,"
               " household_id, relationship_code, village_code, status, phone, name_initials,"
               " name_chars, batch_id")  # fmt: skip
    marks = ", ".join("?" * 14)
    if staged == "1":
        cursor.execute(f"CREATE TEMP TABLE stage ({columns})")
        for begin in range(0, len(persons), 20_000):
            cursor.executemany(f"INSERT INTO temp.stage VALUES ({marks})",
                               persons[begin : begin + 20_000])  # fmt: skip
            cursor.execute(
                f"INSERT INTO person ({columns}) SELECT * FROM temp.stage ORDER BY rowid"
            )
            cursor.execute("DELETE FROM temp.stage")
    else:
        cursor.executemany(f"INSERT INTO person ({columns}) VALUES ({marks})", persons)
    connection.commit()
    seconds = time.perf_counter() - start
    connection.close()
    return {"seconds": seconds, "rows": len(persons)}


def child_same_rows(raw_db: str, import_db: str, encrypted: str) -> dict:
    """Whether the baseline wrote what the import wrote: every person's columns (its household by
    户号), every household's with its member_count, and the FTS5 indexes' integrity."""
    from sqlalchemy import text

    person = ("SELECT p.id_number, p.name, p.sex_code, p.ethnicity_code, p.birth_date,"
              " p.household_no, h.household_no, p.relationship_code, p.village_code, p.status,"
              " p.status_date, p.phone, p.name_initials, p.name_chars FROM person p"
              " LEFT JOIN household h ON h.id = p.household_id")  # fmt: skip
    household = ("SELECT household_no, household_type, address, village_code, head_id_number,"
                 " head_name, member_count FROM household")  # fmt: skip
    found = []
    for db in (raw_db, import_db):
        from govshare_desktop.core.store.engine import open_tool_store

        store = open_tool_store(db, encrypted=encrypted == "1")
        with store.sessions() as session:
            for fts in ("person_name_fts", "person_id_fts"):
                session.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')"))
            found.append((set(session.execute(text(person)).all()),
                          set(session.execute(text(household)).all())))  # fmt: skip
    return {"same": found[0] == found[1], "persons": len(found[1][0]),
            "households": len(found[1][1])}  # fmt: skip


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


def child_pipeline(csv_path: str, db: str) -> dict:
    from govshare_desktop.core.backflow.pipeline import import_file

    store = _township(db, "0")
    start = time.perf_counter()
    result = import_file(store, csv_path, user="bench")  # type: ignore[arg-type]
    return {"seconds": time.perf_counter() - start, "inserted": result.inserted,
            "rejected": result.rejected}  # fmt: skip


def child_reimport(csv_path: str, db: str) -> dict:
    from govshare_desktop.core.backflow.pipeline import import_file
    from govshare_desktop.core.store.engine import open_tool_store

    store = open_tool_store(db)
    start = time.perf_counter()
    result = import_file(store, csv_path, user="bench")
    return {"seconds": time.perf_counter() - start, "unchanged": result.unchanged}


# ---------------------------------------------------------------- running


def run_child(name: str, *args: str) -> dict:
    code = (
        f"import json, resource, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import bench_import as b; r = getattr(b, sys.argv[1])(*sys.argv[2:]); "
        "r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
        "print(json.dumps(r))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, name, *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def repeated(repeat: int, work: Path, name: str, *args: str, db: str | None = None) -> list[dict]:
    """``repeat`` runs, each on a fresh database file ``db`` (in ``work``)."""
    runs = []
    for _ in range(repeat):
        if db:
            for stale in work.glob(db + "*"):
                stale.unlink()
        runs.append(run_child(name, *args, *((str(work / db),) if db else ())))
    return runs


def figures(label: str, runs: list[dict], note: str = "") -> float:
    seconds = [r["seconds"] for r in runs]
    p50, best = statistics.median(seconds), min(seconds)
    peak = max(r["peak_mb"] for r in runs)
    print(f"  {label:<58} {p50:7.2f} {best:7.2f}  {peak:6.0f} MB  {note}")
    return p50


def bench_workbook(rows: int, args: argparse.Namespace, work: Path) -> None:
    xlsx = work / f"persons_{rows}.xlsx"
    started = time.perf_counter()
    make_xlsx(xlsx, rows)
    print(f"\n{rows:,}-row person workbook, 15 columns ({xlsx.stat().st_size / 1048576:.1f} MB, "
          f"written in {time.perf_counter() - started:.1f} s){' — encrypted' * args.encrypted}")  # fmt: skip
    print(f"  {'':<58} {'p50 s':>7} {'best s':>7}  peak RSS")
    enc = "1" if args.encrypted else "0"
    path = str(xlsx)
    kinds = {  # name → (child, its arguments, its database file): one run of each per round
        "read": ("child_calamine", (path,), None),
        "plain": ("child_raw_persons", (path, enc, "0"), "raw.db"),
        "staged": ("child_raw_persons", (path, enc, "1"), "raw.db"),
        "import": ("child_import", (path, enc, "0"), "import.db"),
        "dry": ("child_import", (path, enc, "1"), "preview.db"),
        "held": ("child_held", (path, enc), "held.db"),
    }
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for _ in range(args.repeat):  # interleaved: a busy minute hits every kind alike
        for kind, (child, child_args, db) in kinds.items():
            runs[kind] += repeated(1, work, child, *child_args, db=db)
    same = (  # an encrypted file's key was random: not opened again
        None
        if args.encrypted
        else run_child("child_same_rows", str(work / "raw.db"), str(work / "import.db"), enc)
    )
    read = figures("python-calamine read alone", runs["read"])
    raw_plain = figures("baseline: calamine + raw executemany (households, persons)", runs["plain"])
    raw_staged = figures("baseline: calamine + raw insert via a temporary table", runs["staged"])
    base = min(raw_plain, raw_staged)
    done = runs["import"][0]
    what = f"({done['inserted']:,} persons, {done['households']:,} households, {done['rejected']} rejected)"
    ours = figures("import, file → committed rows", runs["import"], what)
    summary = statistics.median(r["summary"] for r in runs["import"])
    print(f"  {'  of which the 预填 summary refresh (not in the baseline)':<58} {summary:7.2f}")
    seen = figures("preview (dry run: govshare import --dry-run)", runs["dry"])
    held = runs["held"]
    figures("wizard: preview (the import, held)", [{**r, "seconds": r["preview"]} for r in held])
    figures("wizard: 「导入」 after it (commit)", [{**r, "seconds": r["commit"]} for r in held])
    wizard = figures("wizard: preview + 「导入」", held)
    if done["rejected"] or done["inserted"] != rows:
        raise SystemExit(f"bench_import: {done['rejected']} rows rejected, {done['inserted']} in")
    if same is not None:
        print(f"  the baseline's rows and the import's are the same: {same['same']} "
              f"({same['persons']:,} persons, {same['households']:,} households compared)")  # fmt: skip
    print(f"  import / baseline: {ours / base:.2f}x (target ≤ 1.5x); dry run / baseline: "
          f"{seen / base:.2f}x; wizard preview + 「导入」 / baseline: {wizard / base:.2f}x; "
          f"import / calamine read: {ours / read:.1f}x")  # fmt: skip


def bench_csv(rows: int, args: argparse.Namespace, work: Path) -> None:
    csv_path = work / "payments.csv"
    started = time.perf_counter()
    make_csv(csv_path, rows)
    print(f"\n{rows:,}-row payment CSV ({csv_path.stat().st_size / 1048576:.0f} MB, "
          f"written in {time.perf_counter() - started:.1f} s)")  # fmt: skip
    print(f"  {'':<58} {'p50 s':>7} {'best s':>7}  peak RSS")
    base = figures(
        "baseline: csv.reader + raw sqlite3.executemany",
        repeated(args.repeat, work, "child_baseline", str(csv_path), db="base.db"),
    )
    pipe_runs = repeated(args.repeat, work, "child_pipeline", str(csv_path), db="pipe.db")
    pipe = figures("import, file → committed rows", pipe_runs,
                   f"(inserted {pipe_runs[0]['inserted']:,}, rejected {pipe_runs[0]['rejected']})")  # fmt: skip
    again = run_child("child_reimport", str(csv_path), str(work / "pipe.db"))
    figures("re-import of the same file", [again], f"(unchanged {again['unchanged']:,})")
    print(f"  import / baseline: {pipe / base:.2f}x (target < 2x)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="1000,10000,100000", help="person workbook sizes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="0: no payment CSV")
    parser.add_argument("--encrypted", action="store_true", help="SQLCipher files, as the app's")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-import-"))
    print(f"govshare-desktop import benchmark — {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}; each run in its own process on a fresh file")  # fmt: skip
    try:
        for rows in (int(r) for r in args.rows.split(",") if r):
            bench_workbook(rows, args, work)
        if args.csv_rows:
            bench_csv(args.csv_rows, args, work)
    finally:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
