"""Benchmark: 比对核查 — every shipped check (resources/checks/*.toml) on a demo township of 30,000
households (~100,000 persons, ~160,000 enrollments, ~1.1 M payments), beside the same conditions
written by hand, measured in the same run.

- ``find_hits(session, check, today)``: the engine's one SQL query per check, each check and all
  of them together;
- ``run_checks(store, checks, ...)`` end to end: the first run (every case created) and a second
  (nothing new), the cases deleted before each first run;
- baseline: one hand-written statement per check through plain sqlite3 on the same file —
  started from the smallest set (the persons of a status, or a small dataset's rows), the other
  records found by the indexed ID number, dates read from their stored text, the same filters
  (``absent_batch_id IS NULL``) and the same columns out (the person, the facts, the newest
  batch). Each returns the same set of ID numbers as the engine, or the run says MISMATCH.

Targets: every check together under 2 s after an import, and within 1.5x of the hand SQL.
Median of --runs (after one warm-up run of each side).

    python bench/bench_checks.py [--households 30000] [--runs 5] [--db PATH] [--keep] [--plans]
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

from sqlalchemy import delete, event

from govshare_desktop.core.checks.cases import find_hits, run_checks
from govshare_desktop.core.checks.definitions import Check, load_checks
from govshare_desktop.core.demo import generate
from govshare_desktop.core.store.engine import open_tool_store
from govshare_desktop.core.store.models import CheckCase, CheckCaseEvent

TODAY = date(2026, 11, 26)  # the demo's data are as of 2026-10-31
NOW = datetime(2026, 11, 26, 9, 30)
TARGET_TOTAL_S = 2.0
TARGET_RATIO = 1.5


def _before(years: int) -> str:
    """The birth date (as stored, 'YYYY-MM-DD') on or before which a person is ``years`` old
    TODAY — compared as text, so 29 February needs no special case."""
    return f"{TODAY.year - years:04d}-{TODAY.month:02d}-{TODAY.day:02d}"


PARAMS = {
    "year": TODAY.year,
    "year_start": f"{TODAY.year:04d}-01-01",
    "next_year_start": f"{TODAY.year + 1:04d}-01-01",
    "born_60": _before(60),  # AGE >= 60  <=>  birth_date <= born_60
    "born_16": _before(16),
    "mmdd": f"{TODAY.month:02d}-{TODAY.day:02d}",
}
# Dates are read from their stored YYYY-MM-DD text, as the engine does (strftime parses it again).
AGE = "(:year - CAST(substr(p.birth_date, 1, 4) AS INTEGER) - (substr(p.birth_date, 6, 5) > :mmdd))"
MONTH = "(CAST(substr({0}, 1, 4) AS INTEGER) * 100 + CAST(substr({0}, 6, 2) AS INTEGER))"
LAST_PAID = (
    "(SELECT MAX(t.period) FROM ss_payment t WHERE t.id_number = p.id_number"
    " AND t.absent_batch_id IS NULL AND t.total_fen > 0)"
)
LAST_ALLOWANCE = (
    "(SELECT MAX(a.period) FROM allowance_payment a WHERE a.id_number = p.id_number"
    " AND a.absent_batch_id IS NULL AND a.amount_fen > 0)"
)
KNOWN_DEATHS = f"""
deaths AS (SELECT id_number, MIN(m) AS m FROM (
    SELECT id_number, {MONTH.format("COALESCE(death_date, cremation_date)")} AS m FROM cremation
    WHERE absent_batch_id IS NULL
    UNION ALL SELECT id_number, {MONTH.format("death_date")} FROM death_certificate
    WHERE absent_batch_id IS NULL) GROUP BY id_number)"""
# the earliest known death month: the registry's 注销, 火化, 医学证明 (999999: none)
DIED = (
    f"MIN(COALESCE(CASE WHEN p.status = 'deceased' THEN {MONTH.format('p.status_date')} END,"
    " 999999), COALESCE(d.m, 999999))"
)

# The same conditions as resources/checks/*.toml, written by hand: one statement per check.
HAND: dict[str, str] = {
    "both_pensions": """
SELECT p.id_number, p.name, p.village_code, p.batch_id, 1, 1, MAX(e.batch_id, r.batch_id)
FROM ss_enrollment e JOIN person p ON p.id_number = e.id_number
JOIN ss_enrollment r ON r.id_number = e.id_number AND r.scheme_code = '170'
WHERE e.scheme_code = '110' AND e.status_code != '3' AND e.absent_batch_id IS NULL
  AND r.status_code != '3' AND r.absent_batch_id IS NULL AND p.absent_batch_id IS NULL""",
    "deceased_still_paid": f"""
WITH {KNOWN_DEATHS.strip()}
SELECT p.id_number, p.name, p.village_code, p.batch_id
FROM person p LEFT JOIN deaths d ON d.id_number = p.id_number
WHERE p.absent_batch_id IS NULL AND {DIED} < 999999
  AND p.id_number IN (SELECT id_number FROM deaths UNION ALL SELECT id_number FROM person
                      WHERE status = 'deceased' AND absent_batch_id IS NULL)
  AND ({LAST_PAID} > {DIED} OR {LAST_ALLOWANCE} > {DIED}
       OR EXISTS (SELECT 1 FROM assistance s WHERE s.id_number = p.id_number
                  AND s.absent_batch_id IS NULL AND s.status_code = '1' AND s.end_date IS NULL))""",
    "id_in_two_households": """
SELECT p.id_number, p.name, p.village_code, p.batch_id, COUNT(h.id), MAX(h.batch_id)
FROM person p JOIN household h ON h.head_id_number = p.id_number
WHERE p.absent_batch_id IS NULL AND h.absent_batch_id IS NULL
  AND h.household_no != COALESCE(p.household_no, '')
GROUP BY p.id_number""",
    "moved_out_still_paid": f"""
SELECT p.id_number, p.name, p.village_code, p.batch_id
FROM person p WHERE p.status = 'moved_out' AND p.absent_batch_id IS NULL
  AND ({LAST_PAID} > {MONTH.format("p.status_date")}
       OR {LAST_ALLOWANCE} > {MONTH.format("p.status_date")})""",
    "assistance_without_medical_subsidy": """
SELECT DISTINCT p.id_number, p.name, p.village_code, p.batch_id
FROM assistance s JOIN person p ON p.id_number = s.id_number
WHERE s.absent_batch_id IS NULL AND s.status_code = '1' AND s.end_date IS NULL
  AND p.absent_batch_id IS NULL
  AND EXISTS (SELECT 1 FROM medical_enrollment m WHERE m.id_number = p.id_number
              AND m.absent_batch_id IS NULL AND m.scheme_code = '390' AND m.subsidy_code = '0')""",
    "care_subsidy_without_severe_card": """
SELECT DISTINCT p.id_number, p.name, p.village_code, p.batch_id
FROM allowance_payment a JOIN person p ON p.id_number = a.id_number
WHERE a.absent_batch_id IS NULL AND a.category_code = '3' AND a.amount_fen > 0
  AND p.absent_batch_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM disability_card c WHERE c.id_number = p.id_number
                  AND c.absent_batch_id IS NULL AND c.level_code IN ('1', '2'))""",
    "death_certificate_registry_normal": """
SELECT p.id_number, p.name, p.village_code, p.batch_id
FROM death_certificate c JOIN person p ON p.id_number = c.id_number
WHERE c.absent_batch_id IS NULL AND p.absent_batch_id IS NULL AND p.status = 'normal'""",
    "elderly_allowance_mismatch": f"""
WITH {KNOWN_DEATHS.strip()},
paid AS (SELECT id_number, MIN(period) AS first, MAX(period) AS last FROM allowance_payment
         WHERE absent_batch_id IS NULL AND category_code = '1' AND amount_fen > 0
         GROUP BY id_number)
SELECT p.id_number, p.name, p.village_code, p.batch_id
FROM paid JOIN person p ON p.id_number = paid.id_number LEFT JOIN deaths d ON d.id_number = p.id_number
WHERE p.absent_batch_id IS NULL
  AND (paid.first < {MONTH.format("p.birth_date")} + 8000 OR paid.last > {DIED})""",
    "newborn_no_medical": """
SELECT p.id_number, p.name, p.village_code, p.batch_id, :year, 0, p.status, :year, MAX(e.batch_id)
FROM person p LEFT JOIN ss_enrollment e ON e.id_number = p.id_number AND e.absent_batch_id IS NULL
WHERE p.status = 'normal' AND p.absent_batch_id IS NULL
  AND p.birth_date >= :year_start AND p.birth_date < :next_year_start
GROUP BY p.id_number
HAVING COALESCE(MAX(e.scheme_code = '390' AND e.status_code != '3'), 0) = 0""",
    "over_60_not_receiving": f"""
SELECT p.id_number, p.name, p.village_code, p.batch_id, {AGE}, 0, p.status, MAX(e.batch_id)
FROM person p LEFT JOIN ss_enrollment e ON e.id_number = p.id_number AND e.absent_batch_id IS NULL
WHERE p.status = 'normal' AND p.absent_batch_id IS NULL AND p.birth_date <= :born_60
GROUP BY p.id_number HAVING COALESCE(MAX(e.receiving = 1), 0) = 0""",
    "working_age_no_pension": f"""
SELECT p.id_number, p.name, p.village_code, p.batch_id, {AGE}, 0, p.status, MAX(e.batch_id)
FROM person p LEFT JOIN ss_enrollment e ON e.id_number = p.id_number AND e.absent_batch_id IS NULL
WHERE p.status = 'normal' AND p.absent_batch_id IS NULL
  AND p.birth_date > :born_60 AND p.birth_date <= :born_16
GROUP BY p.id_number
HAVING COALESCE(MAX(e.scheme_code IN ('110', '170') AND e.status_code != '3'), 0) = 0""",
}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def clear_cases(store: Any) -> None:
    with store.transaction() as session:
        session.execute(delete(CheckCaseEvent))
        session.execute(delete(CheckCase))


def township(args: argparse.Namespace) -> Path:
    """The database to measure on: a copy of --db, or a new demo township (timed)."""
    directory = Path(tempfile.mkdtemp(prefix="bench_checks_"))
    db = directory / "checks.db"
    if args.db is not None:
        for suffix in ("", "-wal"):  # the write-ahead log too, if it was left behind
            if Path(f"{args.db}{suffix}").exists():
                shutil.copyfile(f"{args.db}{suffix}", f"{db}{suffix}")
        print(f"township: a copy of {args.db}")
        return db
    store = open_tool_store(db)
    seconds, summary = timed(lambda: generate(store, households=args.households, seed=1))
    store.dispose()
    print(
        f"Generation: {summary.households:,} households, {summary.persons:,} persons, "
        f"{summary.enrollments:,} enrollments, {summary.payments:,} payments in {seconds:.1f} s"
    )
    return db


def engine_plans(store: Any, raw: sqlite3.Connection, checks: dict[str, Check]) -> None:
    """Each check's engine SQL and SQLite's plan for it (the statement find_hits runs)."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        for check in checks.values():
            seen.clear()
            with store.sessions() as session:
                find_hits(session, check, TODAY)
            statement, params = seen[-1]
            print(f"\n-- {check.id}: engine query plan")
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, params):
                print(f"     {row[3]}")
            if check.id in HAND:
                print(f"-- {check.id}: hand SQL query plan")
                for row in raw.execute("EXPLAIN QUERY PLAN " + HAND[check.id], PARAMS):
                    print(f"     {row[3]}")
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def measure_queries(
    store: Any, raw: sqlite3.Connection, checks: dict[str, Check], runs: int
) -> tuple[
    dict[str, list[float]], dict[str, list[float]], list[float], list[float], dict[str, Any]
]:
    """Per check, the engine's and the hand SQL's times, interleaved; all checks together; and
    the last run's results (engine hits, hand rows) for the comparison."""
    engine_times: dict[str, list[float]] = {c: [] for c in checks}
    hand_times: dict[str, list[float]] = {c: [] for c in checks}
    engine_all, hand_all = [], []
    results: dict[str, Any] = {}
    for run in range(runs + 1):  # run 0 warms the caches up
        total_engine = total_hand = 0.0
        with store.sessions() as session:
            for check in checks.values():
                seconds, hits = timed(lambda c=check: find_hits(session, c, TODAY))
                if check.id in HAND:  # the ratio compares like with like
                    total_engine += seconds
                rows: list[Any] | None = None
                if check.id in HAND:
                    sql = HAND[check.id]
                    hand_s, rows = timed(lambda s=sql: raw.execute(s, PARAMS).fetchall())
                    total_hand += hand_s
                    if run:
                        hand_times[check.id].append(hand_s)
                if run:
                    engine_times[check.id].append(seconds)
                results[check.id] = (hits, rows)
        if run:
            engine_all.append(total_engine)
            hand_all.append(total_hand)
    return engine_times, hand_times, engine_all, hand_all, results


def measure_together(store: Any, checks: dict[str, Check], runs: int) -> list[float]:
    """Every check's find_hits back to back in one session, as run_checks does."""
    times = []
    for _ in range(runs):
        with store.sessions() as session:
            seconds, _ = timed(lambda s=session: [find_hits(s, c, TODAY) for c in checks.values()])
        times.append(seconds)
    return times


def measure_run_checks(
    store: Any, checks: dict[str, Check], runs: int
) -> tuple[list[float], list[float], int, int]:
    """run_checks end to end: a first run on no cases, then a second one on the same data."""
    first, second = [], []
    created = again = 0
    for _ in range(runs):
        clear_cases(store)
        seconds, result = timed(lambda: run_checks(store, checks, today=TODAY, now=NOW))
        first.append(seconds)
        created = sum(o.new for o in result.outcomes)
        seconds, result = timed(lambda: run_checks(store, checks, today=TODAY, now=NOW))
        second.append(seconds)
        again = sum(o.new + o.reopened + o.gone for o in result.outcomes)
    return first, second, created, again


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=5, help="median of this many (at least 3)")
    parser.add_argument("--db", type=Path, help="a demo township to copy instead of generating")
    parser.add_argument("--keep", action="store_true", help="keep the database and say where")
    parser.add_argument("--plans", action="store_true", help="print each query's plan")
    args = parser.parse_args()
    runs = max(args.runs, 3)

    db = township(args)
    store = open_tool_store(db)
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA temp_store = MEMORY")  # as the app's connections have it
    checks, problems = load_checks()
    if problems:
        for problem in problems:
            print(f"broken check: {problem}")
        return 1
    if args.plans:
        engine_plans(store, raw, checks)

    engine_times, hand_times, engine_all, hand_all, results = measure_queries(
        store, raw, checks, runs
    )
    together = measure_together(store, checks, runs)
    first, second, created, again = measure_run_checks(store, checks, runs)

    print(f"\nChecks on {TODAY} — median of {runs} (after a warm-up run), engine beside hand SQL")
    print(f"  {'check':<26}{'hits':>7}{'engine':>13}{'hand SQL':>13}{'ratio':>8}   same IDs")
    mismatches = []
    for check in checks.values():
        hits, rows = results[check.id]
        engine_s = statistics.median(engine_times[check.id])
        if rows is None:
            print(f"  {check.id:<26}{len(hits):>7,}{ms(engine_s)}   (no hand SQL for this check)")
            continue
        hand_s = statistics.median(hand_times[check.id])
        same = {h.subject for h in hits} == {r[0] for r in rows} and len(hits) == len(rows)
        if not same:
            mismatches.append(check.id)
        print(
            f"  {check.id:<26}{len(hits):>7,}{ms(engine_s)}{ms(hand_s)}{engine_s / hand_s:>7.2f}x"
            f"   {'OK' if same else f'MISMATCH (hand SQL: {len(rows):,})'}"
        )
    engine_total, hand_total = statistics.median(engine_all), statistics.median(hand_all)
    together_s = statistics.median(together)
    print(
        f"  {'sum of the checks':<33}{ms(engine_total)}{ms(hand_total)}"
        f"{engine_total / hand_total:>7.2f}x"
    )
    print(f"  {'all checks in one session':<33}{ms(together_s)}")
    first_s, second_s = statistics.median(first), statistics.median(second)
    print("\nrun_checks end to end (the queries, the cases, one transaction and its audit entry)")
    print(f"  {f'first run ({created:,} cases created)':<38}{ms(first_s)}")
    print(f"  {f'second run ({again:,} new, reopened or gone)':<38}{ms(second_s)}")

    ratio = engine_total / hand_total
    print("\nTargets")
    print(
        f"  all checks under {TARGET_TOTAL_S:.0f} s after an import: queries {together_s:.2f} s, "
        f"run_checks {second_s:.2f} s (first run {first_s:.2f} s) — "
        + ("met" if max(together_s, second_s) < TARGET_TOTAL_S else "NOT met")
    )
    print(
        f"  within {TARGET_RATIO}x of hand SQL: {ratio:.2f}x — "
        + ("met" if ratio <= TARGET_RATIO else "NOT met")
    )
    if mismatches:
        print(f"  MISMATCH between engine and hand SQL: {', '.join(mismatches)}")
    raw.close()
    store.dispose()
    if args.keep:
        print(f"\ndatabase kept: {db}")
    else:
        shutil.rmtree(db.parent, ignore_errors=True)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
