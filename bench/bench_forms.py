"""Benchmark: 预填 of a period as the clerk waits for it — the service call behind 「按回流数据预填」, from
the click to every computed 一表通 element stored for every village and the township — beside the
same figures from hand-written SQL (one GROUP BY per element, every element written out), and the
same computation from the records (no summary: how prefill worked before issue 20). Then what
keeping the summary costs an import: its refresh per 100,000 payments, and a real import of a
month of payments with the refresh's share of it.

    python bench/bench_forms.py --db /work/bench_data/township_200k.sqlite   # copied, never written
    python bench/bench_forms.py --households 30000                          # generates one (~10 s)
    make bench-forms ARGS="--db PATH --runs 7"

Every figure is p50 / p90 / worst of ``--runs`` runs, each on another period (months of 2026, years
2025 back), each checked equal to the hand-written SQL for every element and area. The copy is
opened with the program's own code: a township older than the summary (migration 0015) is
migrated first, and that is timed too.
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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import text

from govshare_desktop.core.backflow import pipeline
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms import compute
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.services import forms
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store import summary
from govshare_desktop.core.store.engine import Store, open_store, open_tool_store

TOWNSHIP = "441900199000"
NOW = datetime(2026, 12, 2, 9, 0)


# ---------------------------------------------------------------- the hand-written SQL


def _before(day: date, years: int) -> str:
    try:
        return day.replace(year=day.year - years).isoformat()
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28).isoformat()


def hand_written(period: Period) -> dict[str, str]:
    """Every computed element of the shipped dictionary as one GROUP BY of its own, the way a
    database clerk would write it. (Person, household and enrollment tables read NOT INDEXED: the
    faster of the two plans, so that the baseline is the best SQL, not SQLite's first choice.)"""
    end, start = period.end.isoformat(), period.start.isoformat()
    low = period.start.year * 100 + period.start.month
    high = period.end.year * 100 + period.end.month
    alive = f"birth_date <= '{end}' AND (status = 'normal' OR status_date > '{end}')"
    person = (
        "SELECT village_code, COUNT(*) FROM person NOT INDEXED WHERE absent_batch_id IS NULL AND"
    )
    changed = (
        f"birth_date <= '{end}' AND (status_date IS NULL OR status_date <= '{end}')"
        f" AND status_date BETWEEN '{start}' AND '{end}'"
    )
    enrolled = "SELECT village_code, COUNT(*) FROM ss_enrollment NOT INDEXED WHERE absent_batch_id IS NULL AND"
    paid = (
        "FROM ss_payment t LEFT JOIN person p ON p.id_number = t.id_number"
        f" WHERE t.absent_batch_id IS NULL AND t.period BETWEEN {low} AND {high}"
    )
    return {
        "P_TOTAL": f"{person} {alive} GROUP BY village_code",
        "P_MALE": f"{person} {alive} AND sex_code = '1' GROUP BY village_code",
        "P_FEMALE": f"{person} {alive} AND sex_code = '2' GROUP BY village_code",
        "P_UNDER18": f"{person} {alive} AND birth_date > '{_before(period.end, 18)}' GROUP BY village_code",
        "P_60PLUS": f"{person} {alive} AND birth_date <= '{_before(period.end, 60)}' GROUP BY village_code",
        "P_80PLUS": f"{person} {alive} AND birth_date <= '{_before(period.end, 80)}' GROUP BY village_code",
        "P_16PLUS": f"{person} {alive} AND birth_date <= '{_before(period.end, 16)}' GROUP BY village_code",
        "P_DIED": f"{person} status = 'deceased' AND {changed} GROUP BY village_code",
        "P_MOVED_OUT": f"{person} status = 'moved_out' AND {changed} GROUP BY village_code",
        "H_TOTAL": "SELECT village_code, COUNT(*) FROM household NOT INDEXED WHERE absent_batch_id IS NULL GROUP BY village_code",
        "H_COLLECTIVE": "SELECT village_code, COUNT(*) FROM household NOT INDEXED WHERE absent_batch_id IS NULL AND household_type = '2' GROUP BY village_code",
        "I_RESIDENT_PENSION": f"{enrolled} scheme_code = '170' GROUP BY village_code",
        "I_EMPLOYEE_PENSION": f"{enrolled} scheme_code = '110' GROUP BY village_code",
        "I_PAYING": f"{enrolled} scheme_code = '170' AND status_code = '1' GROUP BY village_code",
        "I_RECEIVING": f"{enrolled} scheme_code = '170' AND receiving = 1 GROUP BY village_code",
        "I_MEDICAL": f"{enrolled} scheme_code = '390' GROUP BY village_code",
        "I_PAID_TOTAL": f"SELECT p.village_code, SUM(t.total_fen) {paid} GROUP BY p.village_code",
        "I_PAID_PEOPLE": f"SELECT p.village_code, COUNT(DISTINCT t.id_number) {paid} GROUP BY p.village_code",
        # A distinct count's township total is its own query (not the sum of the villages').
        "I_PAID_PEOPLE total": f"SELECT NULL, COUNT(DISTINCT t.id_number) {paid}",
    }  # fmt: skip


def run_hand(raw: sqlite3.Connection, period: Period) -> dict[str, dict[Any, int]]:
    return {
        code: {village: int(n or 0) for village, n in raw.execute(sql).fetchall()}
        for code, sql in hand_written(period).items()
    }


def check_equal(ours: dict[str, dict[str, int]], hand: dict[str, dict[Any, int]], villages: set[str]) -> None:  # fmt: skip
    """Every element for every village, 其他 and the township: the same numbers."""
    other = compute.other_subject(TOWNSHIP)
    for code, values in ours.items():
        rows = hand[code]
        expected = {v: rows.get(v, 0) for v in villages}
        expected[other] = sum(n for v, n in rows.items() if v not in villages)
        expected[TOWNSHIP] = sum(rows.values())
        if code == "I_PAID_PEOPLE":
            expected[TOWNSHIP] = hand["I_PAID_PEOPLE total"][None]
        if values != expected:
            raise AssertionError(f"{code}: {values} != {expected}")


# ---------------------------------------------------------------- timing


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def spread(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:8.1f}  p90 {p90 * 1000:8.1f}"
        f"  worst {ordered[-1] * 1000:8.1f} ms"
    )


def prepare(args: argparse.Namespace, work: Path) -> Path:
    db = work / "township.sqlite"
    if args.db is not None:
        source = args.db
        for suffix in ("-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                raise SystemExit(
                    f"{source} is open elsewhere ({suffix}): copy it when it is closed"
                )
        shutil.copyfile(source, db)
        return db
    from govshare_desktop.core.demo import generate

    seconds, _ = timed(lambda: generate(open_store(db), households=args.households, seed=1))
    print(f"generated {args.households:,} households in {seconds:.1f} s")
    return db


def periods(kind: str, runs: int) -> list[Period]:
    if kind == "month":
        return [Period.parse(f"2026-{m:02d}") for m in range(10, 0, -1)][:runs]
    return [Period.parse(str(y)) for y in range(2025, 2021, -1)][: min(runs, 4)]


def bench_prefill(store: Store, raw: sqlite3.Connection, kind: str, runs: int) -> None:
    catalog = load_catalog(store)
    pool = FormValues(store, catalog.dictionary, catalog.templates)
    ctx = Context(store, clock=lambda: NOW)
    elements = list(catalog.dictionary.values())
    computed = [e for e in elements if e.compute is not None and e.level == "area"]
    with store.sessions() as session:
        villages = {code for (code,) in session.execute(text("SELECT code FROM area WHERE level = 'village'"))}  # fmt: skip
    figures: dict[str, list[float]] = {}
    chosen = periods(kind, runs)
    for period in chosen:
        seconds, done = timed(lambda p=period: forms.prefill(ctx, pool, p))
        figures.setdefault("service", []).append(seconds)
        seconds, ours = timed(
            lambda p=period: compute.compute_area_values(store, elements, p, township_code=TOWNSHIP)
        )
        figures.setdefault("summary", []).append(seconds)
        with mock.patch.object(compute, "is_fresh", lambda _session: False):
            seconds, records = timed(
                lambda p=period: compute.compute_area_values(
                    store, elements, p, township_code=TOWNSHIP
                )
            )
        figures.setdefault("records", []).append(seconds)
        seconds, hand = timed(lambda p=period: run_hand(raw, p))
        figures.setdefault("hand", []).append(seconds)
        assert ours == records, period
        check_equal(ours, hand, villages)
        assert done.report.inserted == len(computed) * (len(villages) + 2), done.report
    values = len(computed) * (len(villages) + 2)
    print(
        f"\n预填 of a {kind} ({', '.join(str(p) for p in chosen)}): {len(computed)} computed elements"
        f" x ({len(villages)} villages + 其他 + township) = {values} values, each checked equal"
    )
    print(
        f"  「按回流数据预填」 service, click → stored   {spread(figures['service'])}   (target < 1 s)"
    )
    print(f"  compute_area_values from the summary     {spread(figures['summary'])}")
    print(
        f"  compute_area_values from the records     {spread(figures['records'])}   (before issue 20)"
    )
    print(f"  hand-written SQL, {len(hand_written(chosen[0]))} statements          {spread(figures['hand'])}")  # fmt: skip
    ratio = statistics.median(figures["service"]) / statistics.median(figures["hand"])
    print(f"  service / hand-written SQL (p50): {ratio:.2f}x")


def bench_refresh(store: Store, runs: int) -> None:
    """The summary's refresh steps alone, in a transaction rolled back each time."""
    with store.sessions() as session:
        paid = session.execute(text("SELECT COUNT(*) FROM ss_payment WHERE period = 202610")).scalar_one()  # fmt: skip
        persons = session.execute(text("SELECT COUNT(*) FROM person")).scalar_one()
    steps: dict[str, Callable[[Any], None]] = {
        f"payments of one month ({paid:,})": lambda s: (
            summary._payees(s, {202610}),
            summary._payments(s, {202610}),
        ),
        f"persons ({persons:,}) and households": lambda s: (
            summary._persons(s),
            summary._households(s),
            summary._move_payees(s, -1),
        ),
        "enrollments": summary._enrollments,
        "everything (rebuild: migration, demo)": summary.rebuild,
    }
    print("\nWhat the summary costs (its refresh steps, each rolled back):")
    for label, step in steps.items():
        seconds = []
        for _ in range(max(1, runs // 2) if "rebuild" in label else runs):
            with store.sessions() as session, session.begin():
                seconds.append(timed(lambda s=session, run=step: run(s))[0])
                session.rollback()
        print(f"  {label:42s} {spread(seconds)}")
        if label.startswith("payments"):
            per = statistics.median(seconds) / paid * 100_000
            print(f"  → per 100,000 payments imported: {per * 1000:.0f} ms")


def bench_import(store: Store, work: Path) -> None:
    """A real import of a month of payments (everyone paid in October, paid again in November),
    with the refresh's share timed inside it."""
    with store.sessions() as session:
        rows = session.execute(
            text(
                "SELECT id_number, basic_fen, account_fen, total_fen FROM ss_payment"
                " WHERE period = 202610 AND absent_batch_id IS NULL"
            )
        ).all()
    path = work / "青禾镇_养老金发放_202611.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("社会保障号码,发放年月,基础养老金,个人账户养老金,实发金额\n")
        for who, basic, account, total in rows:
            out.write(f"{who},202611,{basic / 100:.2f},{account / 100:.2f},{total / 100:.2f}\n")
    spent: list[float] = []
    refresh = pipeline.refresh_summary

    def counted(*args: Any, **kwargs: Any) -> None:
        seconds, _ = timed(lambda: refresh(*args, **kwargs))
        spent.append(seconds)

    with mock.patch.object(pipeline, "refresh_summary", counted):
        seconds, result = timed(lambda: pipeline.import_file(store, path, user="bench", now=NOW))
    print(
        f"\nImport of {result.inserted:,} payments (a new month): {seconds:.1f} s, of which the"
        f" summary's refresh {spent[0] * 1000:.0f} ms ({spent[0] / seconds:.1%};"
        f" {spent[0] / max(1, result.inserted) * 100_000 * 1000:.0f} ms per 100,000 payments)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="a township to copy (never written)")
    parser.add_argument("--households", type=int, default=3_000, help="generated when no --db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-import", action="store_true", help="leave out the real import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_forms_") as tmp:
        work = Path(tmp)
        db = prepare(args, work)
        seconds, store = timed(lambda: open_tool_store(db))
        with store.sessions() as session:
            counts = session.execute(
                text(
                    "SELECT (SELECT COUNT(*) FROM household), (SELECT COUNT(*) FROM person),"
                    " (SELECT COUNT(*) FROM ss_payment)"
                )
            ).one()
        print(
            f"township: {counts[0]:,} households, {counts[1]:,} persons, {counts[2]:,} payments;"
            f" opened in {seconds:.1f} s (migrations included, if it was older)"
        )
        raw = sqlite3.connect(db)
        for kind in ("month", "year"):
            bench_prefill(store, raw, kind, args.runs)
        bench_refresh(store, args.runs)
        if not args.no_import:
            bench_import(store, work)
        raw.close()
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
