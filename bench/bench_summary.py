"""Benchmark: what keeping the 预填/工作台 summary costs an import of persons or enrollments — the
refresh inside the import's transaction (core/store/summary.py ``refresh_after_import``), as the
import runs it (each row the batch touched, core/store/summary_delta.py), beside the full recount
it did before (every person, household and enrollment counted again: the baseline), in the same
run, interleaved, on the same file.

    python bench/bench_summary.py --db /tmp/me/township_200k.sqlite --in-place   # a copy of yours
    python bench/bench_summary.py --db /work/bench_data/township_30k.sqlite   # copied to a temp dir
    python bench/bench_summary.py --households 3000                          # generates one
    make bench-summary ARGS="--db PATH --runs 5"

The files: a changes-only file of ``--persons`` persons (births, deaths, moves to another
village), a changes-only file of as many enrollments (stopped, receiving, new), and with
``--full`` a full file of every person of the township with every other one moved (more than a
fifth of the rows touched: the refresh counts everything again, and must not be slower than the
baseline). Every import is rolled back: the township is left as it was (only a migration of an
older township, on open, stays). The first run of each file checks the refreshed summary equal to
the one counted again from the records.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import text

from govshare_desktop.core.backflow import pipeline
from govshare_desktop.core.backflow.plan import plan_file
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.store import summary, summary_delta
from govshare_desktop.core.store.engine import Store, open_tool_store

NOW = datetime(2026, 12, 2, 9, 0)
PERSON_HEADER = "公民身份号码,姓名,所属村（社区）代码,人员状态,变动日期"
ENROLLMENT_HEADER = "社会保障号码,姓名,险种,缴费状态,待遇领取标志"
TABLES = {
    "summary_person": "village_code, sex_code, birth_date, status, status_date, n",
    "summary_household": "village_code, household_type, n",
    "summary_enrollment": "village_code, scheme_code, status_code, receiving, n",
    "summary_coverage": "village_code, birth_date, enrolled, receiving, n",
    "summary_payment": "village_code, period, payments, total_fen, basic_fen, account_fen",
}


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.sessions() as session:
        return [tuple(r) for r in session.execute(text(sql))]


def person_file(store: Store, work: Path, persons: int) -> Path:
    """Births, deaths and moves: a fifth new, two fifths deceased, two fifths moved."""
    villages = [v for (v,) in _rows(store, "SELECT code FROM area WHERE level = 'village'")]
    known = _rows(
        store,
        "SELECT id_number, name, village_code FROM person WHERE status = 'normal'"
        f" AND absent_batch_id IS NULL AND village_code IS NOT NULL LIMIT {persons}",
    )
    born = persons // 5
    lines = [
        f"{idnumber.make('445381', date(2026, 3, 1 + i % 28), i // 28, male=i % 2 == 0)},"
        f"新生{i},{villages[i % len(villages)]},正常,"
        for i in range(born)
    ]
    for i, (who, name, village) in enumerate(known[: persons - born]):
        if i % 2:
            lines.append(f"{who},{name},{village},死亡注销,2026-10-{1 + i % 28:02d}")
        else:
            moved = villages[(villages.index(village) + 1) % len(villages)]
            lines.append(f"{who},{name},{moved},正常,")
    path = work / "persons_delta.csv"
    path.write_text(PERSON_HEADER + "\n" + "\n".join(lines) + "\n", "utf-8")
    return path


def enrollment_file(store: Store, work: Path, count: int) -> Path:
    held = _rows(
        store,
        "SELECT id_number, name, status_code, receiving FROM ss_enrollment"
        f" WHERE scheme_code = '170' AND absent_batch_id IS NULL LIMIT {count}",
    )
    lines = [
        f"{w},{n},170,{'3' if i % 2 else s},{int(r) if i % 2 else 1 - int(r)}"
        for i, (w, n, s, r) in enumerate(held)
    ]
    path = work / "enrollments_delta.csv"
    path.write_text(ENROLLMENT_HEADER + "\n" + "\n".join(lines) + "\n", "utf-8")
    return path


def full_file(store: Store, work: Path) -> Path:
    villages = [v for (v,) in _rows(store, "SELECT code FROM area WHERE level = 'village'")]
    lines = []
    status = {"normal": "正常", "deceased": "死亡注销", "moved_out": "迁出注销"}
    for i, (who, name, village, state, day) in enumerate(
        _rows(
            store,
            "SELECT id_number, name, village_code, status, status_date FROM person"
            " WHERE absent_batch_id IS NULL AND village_code IS NOT NULL",
        )
    ):
        if i % 2 == 0:
            village = villages[(villages.index(village) + 1) % len(villages)]
        lines.append(f"{who},{name},{village},{status[state]},{day or ''}")
    path = work / "persons_full.csv"
    path.write_text(PERSON_HEADER + "\n" + "\n".join(lines) + "\n", "utf-8")
    return path


@contextmanager
def full_recount() -> Iterator[None]:
    """The refresh as it was before: every table the dataset touches counted again."""
    with (
        mock.patch.object(summary_delta, "persons", lambda *a: None),
        mock.patch.object(summary_delta, "households", lambda *a: False),
        mock.patch.object(summary_delta, "enrollments", lambda *a: False),
    ):
        yield


def one_import(store: Store, path: Path, *, full: bool, check: bool) -> tuple[float, float]:
    """The import of ``path`` in a transaction rolled back: (its seconds, the refresh's)."""
    spent: dict[str, float] = {}
    real = pipeline.refresh_summary

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        real(*args, **kwargs)
        spent["refresh"] = time.perf_counter() - started

    plan = plan_file(store, path)
    if path.name.endswith("_delta.csv"):
        plan = replace(plan, full_snapshot=False)
    with store.sessions() as session, session.begin():
        with (
            mock.patch.object(pipeline, "refresh_summary", timed),
            full_recount() if full else _nothing(),
        ):
            started = time.perf_counter()
            result = pipeline.run_plan(store, plan, user="bench", now=NOW, session=session)
            seconds = time.perf_counter() - started
        assert result.rejected == 0, result.rejections[:3]
        if check:
            _check(session)
        session.rollback()
    return seconds, spent["refresh"]


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _check(session: Any) -> None:
    def tables() -> dict[str, list[tuple[Any, ...]]]:
        return {
            t: sorted(tuple(r) for r in session.execute(text(f"SELECT {c} FROM {t}")))
            for t, c in TABLES.items()
        }

    refreshed = tables()
    summary.rebuild(session)
    assert tables() == refreshed, "the refreshed summary differs from the full count"


def _figures(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.3f} s, p90 {p90:.3f} s, worst {ordered[-1]:.3f} s"


def bench_file(store: Store, label: str, path: Path, runs: int) -> None:
    rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    got: dict[str, list[tuple[float, float]]] = {"delta": [], "full": []}
    for run in range(runs):
        for kind in ("delta", "full") if run % 2 == 0 else ("full", "delta"):
            got[kind].append(one_import(store, path, full=kind == "full", check=run == 0))
    print(f"{label} ({rows:,} rows), {runs} runs each, interleaved:")
    for kind, name in (("delta", "refresh as the import runs it"), ("full", "full recount")):
        imports, refreshes = zip(*got[kind], strict=True)
        print(f"  {name:30} refresh {_figures(list(refreshes))}; import {_figures(list(imports))}")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a township (copied first unless --in-place)")
    parser.add_argument("--in-place", action="store_true", help="use --db itself (a copy of yours)")
    parser.add_argument("--households", type=int, default=3000, help="without --db: generate")
    parser.add_argument("--persons", type=int, default=100, help="rows of the changes-only files")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also a full file of every person")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_summary_") as tmp:
        work = Path(tmp)
        if args.db and args.in_place:
            db = Path(args.db)
        elif args.db:
            db = work / "township.sqlite"
            shutil.copyfile(args.db, db)
        else:
            from govshare_desktop.core.demo import generate  # lazy: only without --db

            db = work / "township.sqlite"
            generate(open_tool_store(db), households=args.households, seed=1)
        started = time.perf_counter()
        store = open_tool_store(db)
        print(f"township {db} opened in {time.perf_counter() - started:.1f} s", end="; ")
        persons = _rows(store, "SELECT COUNT(*) FROM person")[0][0]
        print(f"{persons:,} persons")
        files: list[tuple[str, Callable[[], Path]]] = [
            (f"changes-only file of {args.persons} persons into the township",
             lambda: person_file(store, work, args.persons)),
            (f"changes-only file of {args.persons} enrollments into the township",
             lambda: enrollment_file(store, work, args.persons)),
        ]  # fmt: skip
        if args.full:
            files.append(
                ("full file of every person, every other one moved", lambda: full_file(store, work))
            )
        for label, make in files:
            bench_file(store, label, make(), args.runs)
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
