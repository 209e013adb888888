"""Benchmark: the 工作台's four charts as the panel counts them (through the use cases, read from the
预填/charts summary when it is fresh), each beside the plain query the charts ran before the summary
(counted from the records: the baseline), interleaved in the same run, with a raw sqlite3
``COUNT(*)`` of the payments as a floor of what a scan costs.

Per chart, p50 / worst of ``--runs`` runs (ms); then the whole panel (``stats.charts``: what the
clerk waits for before the 工作台 fills in), and what an import of persons or enrollments now pays
to count ``summary_coverage`` again (in a transaction rolled back), beside the person summary it
already counted.

    python bench/bench_charts.py --db /path/township_30k.sqlite --db /path/township_200k.sqlite
    python bench/bench_charts.py --households 3000             # generates one first

A ``--db`` is copied to a temporary directory first (opening it may migrate it).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govshare_desktop.core import stats_queries as q
from govshare_desktop.core.services import stats
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import open_tool_store
from govshare_desktop.core.store.summary import _persons, coverage_rebuild, is_fresh

NOW = datetime(2026, 12, 3, 9, 0)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def p50_worst(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f} {max(values):8.1f}"


def plain(store: Any, key: str, area: str | None) -> Callable[[], Any]:
    """The chart counted from the records, as before the summary (the completion chart has no
    summary: its baseline is itself)."""
    today = NOW.date()

    def run() -> Any:
        with store.sessions() as session:
            if key == "coverage":
                return q.coverage_by_village(session, today, summary=False)
            if key == "population":
                return q.population_by_band(session, today, area, summary=False)
            months = q.month_window(session, today, summary=False)
            return q.payments_by_month(session, months, area, summary=False)

    return run


def bench_township(db: Path, runs: int) -> None:
    store = open_tool_store(db)
    ctx = Context(store, clock=lambda: NOW)
    raw = sqlite3.connect(db)
    with store.sessions() as session:
        persons = session.execute(q.select(q.func.count()).select_from(q.Person)).scalar_one()
        payments = session.execute(q.select(q.func.count()).select_from(q.Payment)).scalar_one()
        fresh = is_fresh(session)
    areas = stats.areas(ctx)
    print(f"\n== {db.name}: {persons:,} persons, {payments:,} payments, summary fresh: {fresh}")
    print(f"{'chart':<22} {'panel p50':>9} {'worst':>8} | {'plain p50':>9} {'worst':>8}  (ms)")
    floor: list[float] = []
    for area_code, label in ((None, "全镇"), (areas[1][0], "一个村")):
        for name, chart in (
            ("coverage", stats.coverage),
            ("population", stats.population),
            ("payments", stats.payments),
            ("completion", stats.completion),
        ):
            fast, slow = [], []
            for _ in range(runs):
                fast.append(timed(lambda: chart(ctx, area_code)))  # noqa: B023
                if name != "completion":
                    slow.append(timed(plain(store, name, area_code)))
                floor.append(
                    timed(lambda: raw.execute("SELECT COUNT(*) FROM ss_payment").fetchone())
                )
            baseline = p50_worst(slow) if slow else f"{'(itself)':>17}"
            print(f"{name + ' ' + label:<22} {p50_worst(fast)} | {baseline}")
        panel = [timed(lambda: stats.charts(ctx, area_code)) for _ in range(runs)]  # noqa: B023
        print(f"{'whole panel ' + label:<22} {p50_worst(panel)}")
    print(f"{'raw COUNT(*) payments':<22} {p50_worst(floor)}")
    refresh, persons_refresh = [], []
    for _ in range(max(1, runs // 2)):
        with store.sessions() as session, session.begin():
            refresh.append(timed(lambda: coverage_rebuild(session)))
            persons_refresh.append(timed(lambda: _persons(session)))
            session.rollback()
    print(
        f"import refresh: summary_coverage {p50_worst(refresh)} | summary_person"
        f" {p50_worst(persons_refresh)}  (ms, paid by person and enrollment imports)"
    )
    raw.close()
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", action="append", type=Path, default=[], help="a township (copied)")
    parser.add_argument("--households", type=int, nargs="*", default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_charts_") as tmp:
        dbs = []
        for db in args.db:
            copy = Path(tmp) / db.name
            shutil.copyfile(db, copy)
            dbs.append(copy)
        for households in args.households or ([] if args.db else [3000]):
            from govshare_desktop.core.demo import generate  # lazy: only when generating

            path = Path(tmp) / f"township_{households}.sqlite"
            store = open_tool_store(path)
            print(f"generating {households:,} households …", flush=True)
            generate(store, households=households, seed=1)
            store.dispose()
            dbs.append(path)
        for db in dbs:
            bench_township(db, args.runs)
            db.unlink()


if __name__ == "__main__":
    main()
