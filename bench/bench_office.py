"""Benchmark: office mode (issue 18) — the township on a PostgreSQL server beside the same township
in a SQLite file, each figure beside a baseline measured in the same run.

1. Clerks: 5 processes (``multiprocessing`` spawn) enter 一表通 village values at once on the server
   (think time 0), as the window does it: each save names the version the clerk holds; a save after
   another clerk's change of the same cell is refused (StaleValue), the clerk takes the value shown
   and saves again. Most cells belong to one clerk; ``--overlap`` of the saves go to 3 cells every
   clerk types into. p50/p95/max per save and the refusals; then the same while one more process
   imports payments. Baselines: one clerk alone (the same saves) on the server and on the SQLite
   file, and a raw UPDATE of one row (psycopg / sqlite3).
2. Search: the same typed strings (a surname, a 2-character name, ID fragments of 4 and 8 digits,
   pinyin initials) through Browser.ids() + the first page of rows, on the server and on the file;
   baseline: the same two statements through the bare driver (psycopg / sqlite3).
3. Import: 1,000,000 payment rows (the back-flow CSV of bench_import.py: 50 months for each of
   20,000 people of the registry, ID numbers and names as there) of the 50 months before the demo's
   payments (an older history sent down: a payment file is a full list for its months, so months the
   township already holds would mark its own payments absent). Through import_file on the server,
   into the demo township (1.1 M payments of other months) and into an empty township (where the
   rows are outside the registry, which the importer keeps), beside parsing the CSV alone and
   parse + ``COPY`` (psycopg ``cursor.copy()``) of the same rows into a table built like ss_payment
   (its indexes and foreign keys, the rows ss_payment holds already). Target: import ≤ 2 × (parse +
   COPY). ``--profile`` runs the imports under cProfile (slower: to see where the time goes).

The server is a throwaway one started with pg_ctl as the tests start theirs (tests/pg_server.py),
made durable like an office server (fsync, synchronous_commit on; ``--fast-server`` keeps the test
settings), unless ``--url`` names an empty database to fill.

    python bench/bench_office.py [--households 30000] [--saves 200] [--overlap 0.1]
        [--rows 1000000] [--import-while-entering 200000] [--import-into both|demo|empty]
        [--repeat 2] [--url postgresql://…] [--fast-server] [--profile] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pg_server: the tests' throwaway server

from govshare_desktop.core.browse import PERSONS, Browser, Query  # noqa: E402
from govshare_desktop.core.domain.period import Period  # noqa: E402
from govshare_desktop.core.forms.dictionary import load_dictionary  # noqa: E402
from govshare_desktop.core.forms.templates import load_templates  # noqa: E402
from govshare_desktop.core.forms.values import FormValues, StaleValue  # noqa: E402
from govshare_desktop.core.security.permissions import Principal, Role  # noqa: E402
from govshare_desktop.core.store.engine import open_store  # noqa: E402

P = Period.parse("2026-10")
SEED = 7
HEADER = "社会保障号码,姓名,发放年月,基础养老金,个人账户养老金,实发金额,发放日期"
COPY_COLUMNS = "id_number, period, basic_fen, account_fen, total_fen, paid_date, batch_id, as_of"
SEARCHES = 100
WHERE = {"demo": "the demo township (its payments already there)", "empty": "an empty township"}
PAGE = 200  # rows of the first page (ui/table_model.py PAGE_SIZE)
spawn = multiprocessing.get_context("spawn")


# ---------------------------------------------------------------- figures


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (seconds) in ms."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000


def line(label: str, times: Sequence[float], extra: str = "") -> None:
    print(f"  {label:<50} {pct(times, 50):8.2f} {pct(times, 95):8.2f} "
          f"{max(times) * 1000:8.1f}  {extra}")  # fmt: skip


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def in_child(function: Callable[..., dict], *args: Any) -> dict:
    """Run ``function(*args)`` in a fresh spawned process; its peak RSS added (MB)."""
    with spawn.Pool(1) as pool:
        return pool.apply(_measured, (function, *args))


def _measured(function: Callable[..., dict], *args: Any) -> dict:
    result = function(*args)
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork + exec.
    status = Path("/proc/self/status").read_text()
    result["peak_mb"] = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    return result


# ---------------------------------------------------------------- clerks


def _pool(store: Any) -> FormValues:
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert not problems, problems
    return FormValues(store, dictionary, templates)


def cells_of(
    villages: list[str], clerks: int
) -> tuple[list[list[tuple[str, str]]], list[tuple[str, str]]]:
    """Each clerk's own cells (entered village values, dealt round) and the cells all share."""
    dictionary = load_dictionary()
    entered = sorted(c for c, e in dictionary.items() if e.level == "area" and not e.computed)
    hot = [(element, villages[0]) for element in entered]
    rest = [(element, v) for v in villages[1:] for element in entered]
    return [rest[k::clerks] for k in range(clerks)], hot


def _typed(element: str, rng: random.Random) -> str:
    if "PHONE" in element:
        return f"0769-{rng.randrange(10**7, 10**8)}"
    return str(rng.randrange(1, 10**6))


def clerk(url: str, name: str, key: bytes, own: list, hot: list, saves: int, overlap: float,
          seed: int, start: Any, delay: float) -> dict:  # fmt: skip
    """One clerk typing ``saves`` values as fast as the program takes them."""
    store = open_store(url).acting(Principal(name, Role.CLERK), key)
    pool = _pool(store)
    held: dict[tuple[str, str], int] = {}  # the version the clerk's window shows
    subjects = sorted({s for _, s in own + hot})
    for element, by in pool.values(P, subjects).items():
        for subject, row in by.items():
            held[(element, subject)] = row.version
    rng = random.Random(seed)
    saved: list[float] = []
    refused: list[float] = []
    if start is not None:
        start.wait()
    time.sleep(delay)
    began = time.time()
    for _ in range(saves):
        cell = rng.choice(hot) if rng.random() < overlap else rng.choice(own)
        value = _typed(cell[0], rng)
        while True:
            t = time.perf_counter()
            try:
                row = pool.set(*cell, P, value, user=name, now=datetime.now(),
                               seen=held.get(cell, 0))  # fmt: skip
            except StaleValue as exc:  # another clerk's value is shown; the clerk types again
                refused.append(time.perf_counter() - t)
                held[cell] = exc.current.version
                continue
            saved.append(time.perf_counter() - t)
            held[cell] = row.version
            break
    ended = time.time()
    store.dispose()
    return {"saved": saved, "refused": refused, "began": began, "ended": ended}


def importer(url: str, key: bytes, path: str, start: Any) -> dict:
    from govshare_desktop.core.backflow import pipeline
    from govshare_desktop.core.backflow.pipeline import import_file

    refresh = pipeline.refresh_summary
    refreshing: list[float] = []

    def timed_refresh(*args: Any, **kwargs: Any) -> Any:  # the 预填 summary's share, shown
        began = time.perf_counter()
        try:
            return refresh(*args, **kwargs)
        finally:
            refreshing.append(time.perf_counter() - began)

    pipeline.refresh_summary = timed_refresh  # type: ignore[assignment]
    store = open_store(url).acting(Principal("shebao", Role.CLERK), key)
    if start is not None:
        start.wait()
    began = time.time()
    result = import_file(store, Path(path), user="shebao")
    ended = time.time()
    store.dispose()
    return {"inserted": result.inserted, "rejected": result.rejected, "absent": result.absent,
            "began": began, "ended": ended, "seconds": ended - began,
            "summary": sum(refreshing)}  # fmt: skip


def run_clerks(url: str, own: list, hot: list, args: argparse.Namespace,
               payments: Path | None = None) -> tuple[list[dict], dict | None]:  # fmt: skip
    key = os.urandom(32)
    n = len(own)
    with spawn.Manager() as manager, spawn.Pool(n + (payments is not None)) as workers:
        start = manager.Barrier(n + (payments is not None))
        delay = 1.0 if payments is not None else 0.0  # the import is under way when they type
        jobs = [workers.apply_async(clerk, (url, f"clerk{k}", key, own[k], hot, args.saves,
                                            args.overlap, SEED + k, start, delay))
                for k in range(n)]  # fmt: skip
        imp = workers.apply_async(importer, (url, key, str(payments), start)) if payments else None
        results = [job.get(timeout=3600) for job in jobs]
        return results, imp.get(timeout=3600) if imp else None


def raw_updates_pg(url: str, saves: int) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        (row_id,) = conn.execute("SELECT min(id) FROM form_value").fetchone()  # type: ignore[misc]
        for n in range(saves):
            t = time.perf_counter()
            conn.execute("UPDATE form_value SET value = %s, version = version + 1 WHERE id = %s",
                         (str(n), row_id))  # fmt: skip
            times.append(time.perf_counter() - t)
    return times


def raw_updates_sqlite(path: Path, saves: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # as the program opens its files
    (row_id,) = conn.execute("SELECT min(id) FROM form_value").fetchone()
    times = []
    for n in range(saves):
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE form_value SET value = ?, version = version + 1 WHERE id = ?",
                     (str(n), row_id))  # fmt: skip
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t)
    conn.close()
    return times


def bench_clerks(url: str, db: Path, villages: list[str], args: argparse.Namespace,
                 payments: Path | None) -> None:  # fmt: skip
    own, hot = cells_of(villages, args.clerks)
    print(f"\n1. Clerks entering village values (period {P}; {args.saves} saves each, think time 0;"
          f" {args.overlap:.0%} of saves into {len(hot)} cells all share)")  # fmt: skip
    print(f"  {'':<50} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    results, _ = run_clerks(url, own, hot, args)
    saved = [t for r in results for t in r["saved"]]
    refused = [t for r in results for t in r["refused"]]
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    line(f"server: {args.clerks} clerks at once, per save", saved,
         f"{len(saved)} saved in {wall:.1f} s ({len(saved) / wall:.0f}/s), "
         f"{len(refused)} stale refusals")  # fmt: skip
    if refused:
        line("  (the refused saves themselves)", refused)
    if payments is not None:
        results, imp = run_clerks(url, own, hot, args, payments)
        assert imp is not None
        saved = [t for r in results for t in r["saved"]]
        refused = [t for r in results for t in r["refused"]]
        during = all(r["ended"] < imp["ended"] for r in results)
        line(f"server: {args.clerks} clerks while 1 process imports", saved,
             f"{len(refused)} stale refusals; all saves done before the import ended: "
             f"{'yes' if during else 'NO'}")  # fmt: skip
        print(f"  {'':<50} (import of {imp['inserted']:,} payments beside them: "
              f"{imp['seconds']:.1f} s)")  # fmt: skip
    one = run_clerks(url, [own[0] + own[1]], hot, args)[0][0]
    line("baseline: 1 clerk alone on the server", one["saved"], f"{len(one['refused'])} refusals")
    alone = run_clerks(str(db), [own[0] + own[1]], hot, args)[0][0]
    line("baseline: 1 clerk alone on the SQLite file", alone["saved"])
    line("baseline: raw psycopg UPDATE of one row (autocommit)", raw_updates_pg(url, args.saves))
    line("baseline: raw sqlite3 UPDATE of one row (WAL)", raw_updates_sqlite(db, args.saves))


# ---------------------------------------------------------------- search


def search_inputs(db: Path) -> dict[str, list[str]]:
    rng = random.Random(42)
    conn = sqlite3.connect(db)
    people = conn.execute("SELECT id_number, name, name_initials FROM person").fetchall()
    conn.close()
    sample = [rng.choice(people) for _ in range(SEARCHES)]
    two = [p[1] for p in people if len(p[1]) == 2]
    return {
        "surname (1 character, 王)": [p[1][0] for p in sample],
        "name (2 characters, 王芳)": [rng.choice(two) for _ in range(SEARCHES)],
        "ID fragment (4 digits)": [p[0][(i := rng.randrange(0, 14)) : i + 4] for p in sample],
        "ID fragment (8 digits)": [p[0][(i := rng.randrange(0, 10)) : i + 8] for p in sample],
        "pinyin initials (wf)": [p[2] for p in sample],
    }


def statements(query: Query, dialect: str) -> tuple[str, dict[str, Any]]:
    """The statement Browser.ids runs (kept in step with core/browse.py)."""
    where, params = query.where(dialect)
    order = query.order_by()
    return f"SELECT t.id FROM {query.dataset.from_sql_for(where, order)}{where}{order}", params


def page_sql(ids: list[int]) -> str:
    select_list = ", ".join(c.sql for c in PERSONS.columns)
    inline = ", ".join(str(int(i)) for i in ids) or "NULL"
    return f"SELECT t.id, {select_list} FROM {PERSONS.from_sql} WHERE t.id IN ({inline})"


def timed(fn: Callable[[str], int], inputs: list[str]) -> tuple[list[float], list[int]]:
    for value in inputs[:10]:  # warm the caches and the connection pool
        fn(value)
    times, found = [], []
    for value in inputs:
        t = time.perf_counter()
        found.append(fn(value))
        times.append(time.perf_counter() - t)
    return times, found


def bench_search(url: str, db: Path) -> None:
    import psycopg

    print(f"\n2. Search: Browser.ids() + first page of {PAGE} rows, {SEARCHES} typed strings each"
          "  (p50 / p95 ms; matches p50)")  # fmt: skip
    print(f"  {'kind':<28} {'server app':>15} {'raw psycopg':>15}   {'file app':>15} "
          f"{'raw sqlite3':>15}  {'matches':>7}")  # fmt: skip
    pg_store, file_store = open_store(url), open_store(db)
    pg_browser, file_browser = Browser(pg_store), Browser(file_store)
    raw_pg = psycopg.connect(dsn(url), autocommit=True)
    raw_file = sqlite3.connect(db)

    def app(browser: Browser) -> Callable[[str], int]:
        def run(value: str) -> int:
            ids = browser.ids(Query(PERSONS, {"search": value}))
            browser.rows(PERSONS, ids[:PAGE])
            return len(ids)

        return run

    def on_pg(value: str) -> int:
        sql, params = statements(Query(PERSONS, {"search": value}), "postgresql")
        ids = [r[0] for r in raw_pg.execute(re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql), params)]
        raw_pg.execute(page_sql(ids[:PAGE])).fetchall()
        return len(ids)

    def on_file(value: str) -> int:
        sql, params = statements(Query(PERSONS, {"search": value}), "sqlite")
        ids = [r[0] for r in raw_file.execute(sql, params)]
        raw_file.execute(page_sql(ids[:PAGE])).fetchall()
        return len(ids)

    for kind, inputs in search_inputs(db).items():
        cols = [timed(fn, inputs) for fn in (app(pg_browser), on_pg, app(file_browser), on_file)]
        figures = "".join(f"{pct(t, 50):7.2f}/{pct(t, 95):7.2f} " for t, _ in cols)
        print(f"  {kind:<28} {figures} {sorted(cols[0][1])[len(inputs) // 2]:7d}")
    raw_pg.close()
    raw_file.close()
    pg_store.dispose()
    file_store.dispose()


# ---------------------------------------------------------------- import


def months(first: int, count: int) -> list[int]:
    """``count`` months (YYYYMM) from ``first`` on."""
    year, month = divmod(first, 100)
    out = []
    for n in range(count):
        y, m = divmod(month - 1 + n, 12)
        out.append((year + y) * 100 + m + 1)
    return out


def make_csv(path: Path, rows: int, people: list[tuple[str, str]], periods: list[int]) -> None:
    """Payment rows in the back-flow format of bench_import.py: ``periods`` for each person in
    turn (ID numbers and names of the registry), until ``rows``."""
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(HEADER + "\n")
        for i, (number, name) in enumerate(people):
            account = 3000 + (i * 37) % 12000
            for period in periods:
                if written >= rows:
                    return
                basic = 23800 if period >= 202601 else 23300
                fh.write(
                    f"{number},{name},{period},{basic / 100:.2f},{account / 100:.2f},"
                    f"{(basic + account) / 100:.2f},{period // 100}-{period % 100:02d}-10\n"
                )
                written += 1
    if written < rows:
        raise SystemExit(f"only {written:,} rows: too few people for {rows:,} (more --households)")


def registry(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    people = conn.execute("SELECT id_number, name FROM person ORDER BY id").fetchall()
    conn.close()
    return people


def _parsed(csv_path: str, batch: int) -> Any:
    """The CSV's rows as the importer reads them: csv module, amounts to fen, dates."""
    as_of = date(2026, 10, 31)
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for r in reader:
            yield (r[0], int(r[2]), round(float(r[3]) * 100), round(float(r[4]) * 100),
                   round(float(r[5]) * 100), date.fromisoformat(r[6]), batch, as_of)  # fmt: skip


def parse_only(csv_path: str) -> dict:
    start = time.perf_counter()
    count = sum(1 for _ in _parsed(csv_path, 1))
    return {"seconds": time.perf_counter() - start, "rows": count}


def parse_and_copy(url: str, csv_path: str) -> dict:
    """parse + COPY into ``bench_copy``: built like ss_payment (indexes, foreign keys to batch)
    and holding the same rows ss_payment holds now (not timed)."""
    import psycopg

    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE TABLE bench_copy (LIKE ss_payment INCLUDING ALL)")
        conn.execute("INSERT INTO bench_copy SELECT * FROM ss_payment")
        for column in ("batch_id", "absent_batch_id"):
            conn.execute(f"ALTER TABLE bench_copy ADD FOREIGN KEY ({column}) REFERENCES batch (id)")
        conn.execute("VACUUM ANALYZE bench_copy")
        (batch,) = conn.execute(  # type: ignore[misc]
            "INSERT INTO batch (dataset, source_department, imported_at, imported_by, rows_total,"
            " rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_absent) VALUES"
            " ('ss_payment', 'bench', now(), 'bench', 0, 0, 0, 0, 0, 0) RETURNING id"
        ).fetchone()
        start = time.perf_counter()
        sql = f"COPY bench_copy ({COPY_COLUMNS}) FROM STDIN"
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(sql) as copy:
            for row in _parsed(csv_path, batch):
                copy.write_row(row)
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bench_copy")
    return {"seconds": seconds}


def import_rows(url: str, csv_path: str, profile: str | None) -> dict:
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(importer, url, os.urandom(32), csv_path, None)
        profiler.dump_stats(profile)
        return result
    return importer(url, os.urandom(32), csv_path, None)


def checkpoint(url: str) -> None:
    """Start a timed step with nothing left to write back (where allowed: a superuser)."""
    import psycopg

    try:
        with psycopg.connect(dsn(url), autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error:
        pass


def bench_import(
    targets: dict[str, Callable[[int], str]], csv_path: Path, args: argparse.Namespace
) -> None:
    """``targets``: for each kind of township, a database to import into for run ``n`` (a copy
    of the same one each run)."""
    print(f"\n3. Import of {args.rows:,} payment rows on the server (one process each, best of "
          f"{args.repeat}; peak RSS)")  # fmt: skip
    parse = min((in_child(parse_only, str(csv_path)) for _ in range(args.repeat)),
                key=lambda r: r["seconds"])  # fmt: skip
    print(f"  {'baseline: parse alone (csv + fen + dates)':<58} {parse['seconds']:8.2f} s "
          f"{parse['peak_mb']:6.0f} MB")  # fmt: skip
    for label, database in targets.items():
        bases, runs = [], []
        for n in range(args.repeat):
            url = database(n)
            checkpoint(url)
            bases.append(in_child(parse_and_copy, url, str(csv_path)))
            checkpoint(url)
            profile = str(csv_path.with_name(f"import_{label}.prof")) if args.profile else None
            runs.append(in_child(import_rows, url, str(csv_path), profile))
        base = min(bases, key=lambda r: r["seconds"])
        ours = min(runs, key=lambda r: r["seconds"])
        copy = base["seconds"] - parse["seconds"]
        print(f"  into {WHERE[label]}:")
        print(
            f"    {'baseline: parse + COPY into a table like ss_payment':<56} "
            f"{base['seconds']:8.2f} s {base['peak_mb']:6.0f} MB   (COPY ≈ {copy:.2f} s)"
        )
        what = f"import_file (inserted {ours['inserted']:,}, {ours['absent']} absent)"
        print(f"    {what:<56} {ours['seconds']:8.2f} s {ours['peak_mb']:6.0f} MB   "
              f"(of which the 预填 summary's refresh {ours.get('summary', 0):.2f} s)")  # fmt: skip
        each = ", ".join(
            f"{a['seconds']:.1f}/{b['seconds']:.1f}" for a, b in zip(runs, bases, strict=True)
        )
        print(f"    ratio import / (parse + COPY): {ours['seconds'] / base['seconds']:.2f}x "
              f"(target ≤ 2x; each run, import/baseline s: {each})")  # fmt: skip
        if args.profile:
            show_profile(str(csv_path.with_name(f"import_{label}.prof")))


def show_profile(path: str) -> None:
    import pstats

    print(f"    profile ({path}), top by own time:")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime")
    width = getattr(stats, "total_tt", 0) or 1
    for func, (_, calls, own, cumulative, _) in sorted(
        stats.stats.items(),
        key=lambda item: item[1][2],
        reverse=True,  # type: ignore[attr-defined]
    )[:15]:
        where = f"{Path(func[0]).name}:{func[1]}({func[2]})"
        print(f"      {own:7.2f} s {own / width:5.0%}  cum {cumulative:7.2f} s  "
              f"{calls:>9,}  {where}")  # fmt: skip


# ---------------------------------------------------------------- set-up


def durable(_folder: Path) -> str:
    """An office server keeps what it committed: the test server's fsync=off undone (the later
    of two ``-c`` options wins)."""
    return "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


def settings(url: str) -> str:
    import psycopg

    with psycopg.connect(dsn(url)) as conn:
        shown = [f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                 for name in ("server_version", "fsync", "synchronous_commit",
                              "shared_buffers")]  # fmt: skip
    return ", ".join(shown)


def generate_both(url: str, db: Path, households: int) -> list[str]:
    from govshare_desktop.core.demo import generate
    from govshare_desktop.core.store.township import villages

    for where in (url, str(db)):
        store = open_store(where)
        summary = generate(store, households=households, seed=SEED)
        print(f"  demo township on {'the server' if where == url else 'the SQLite file'}: "
              f"{summary.households:,} households, {summary.persons:,} persons, "
              f"{summary.payments:,} payments in {summary.seconds:.1f} s")  # fmt: skip
        with store.sessions() as session:
            codes = [v.code for v in villages(session)]
        store.dispose()
    return codes


def empty_township(url: str) -> None:
    from govshare_desktop.core.store.township import init_township

    store = open_store(url)
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    store.dispose()


def copies(server: Any, url: str) -> Callable[[int], str]:
    """The database of ``url`` for run ``n``: on the bench's own server a fresh copy each run
    (CREATE DATABASE … TEMPLATE), else the database itself, once."""

    def database(n: int) -> str:
        if server is None:
            if n:
                raise SystemExit("--repeat needs the bench's own server (no --url)")
            return url
        template = url.rsplit("/", 1)[1]
        return server.url(server.create_database(f"{template}_run{n}", template=template))

    return database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--clerks", type=int, default=5)
    parser.add_argument("--saves", type=int, default=200, help="per clerk")
    parser.add_argument("--overlap", type=float, default=0.1, help="share of saves to shared cells")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--import-while-entering", type=int, default=200_000, metavar="ROWS",
                        help="payments imported while the clerks type (0: not)")  # fmt: skip
    parser.add_argument("--import-into", choices=("both", "demo", "empty"), default="both")
    parser.add_argument(
        "--url", help="an empty PostgreSQL database to fill (else a throwaway server)"
    )
    parser.add_argument("--fast-server", action="store_true", help="keep fsync=off (test settings)")
    parser.add_argument("--repeat", type=int, default=2, help="import runs (best of)")
    parser.add_argument("--profile", action="store_true", help="cProfile the imports")
    parser.add_argument("--only", choices=("all", "import"), default="all",
                        help="import: the import figures alone (no clerks, no search)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the files (and print where)")
    args = parser.parse_args()
    if args.url:
        args.repeat = 1  # one database to import into

    work = Path(tempfile.mkdtemp(prefix="govshare-bench-office-"))
    server = None
    try:
        if args.url:
            url, empty_url = args.url, None
        else:
            from tests.pg_server import start_server

            server = start_server(None if args.fast_server else durable)
            url = server.url(server.create_database("office"))
            empty_url = server.url(server.create_database("office_empty"))
        print(f"govshare-desktop office benchmark — {os.cpu_count()} CPUs "
              f"(load {os.getloadavg()[0]:.1f}); PostgreSQL {settings(url)}")  # fmt: skip
        db = work / "township.db"
        villages = generate_both(url, db, args.households)
        people = registry(db)
        payments = None
        # months before the demo's (no payment of it is absent)
        if args.import_while_entering and args.only == "all":
            payments = work / "payments_while_entering.csv"
            make_csv(payments, args.import_while_entering, people, months(201307, 50))
        if args.only == "all":
            bench_clerks(url, db, villages, args, payments)
            bench_search(url, db)
        big = work / "payments.csv"
        started = time.perf_counter()
        make_csv(big, args.rows, people, months(201709, 50))
        print(f"\n  ({big.stat().st_size / 1048576:.0f} MB CSV written in "
              f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
        if args.import_into in ("both", "empty") and empty_url:
            empty_township(empty_url)
        targets: dict[str, Callable[[int], str]] = {}
        for label, where in (("demo", url), ("empty", empty_url)):
            if args.import_into in ("both", label) and where:
                targets[label] = copies(server, where)
        bench_import(targets, big, args)
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"\nkept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
