"""Benchmark: search and the record lists as a clerk uses them, through the window's own table model
(and its query worker) in an offscreen QApplication, each beside raw sqlite3 running the same
first-page SQL on its own connection in the same run.

Per interaction, p50 / p90 / worst of:

- ``ui ms``: how long the UI thread is busy with it (the window is frozen that long);
- ``rows ms``: from the interaction to the first rows in the model (what the clerk waits for);
- ``raw ms``: raw sqlite3 executing the same first-page statement(s);
- ``count ms``: from the interaction to the exact count of matching rows (the paged model counts
  after the first rows; the old one counted by listing every id before showing anything).

Interactions: typing an ID from its first digit (「4」「44」「441」… 18 characters, every keystroke
waited for, as if the clerk paused), a 1-character surname, pinyin initials, 3-character names that
exist; opening each list; filtering by village; sorting the person list by each sortable column (both
directions). Then the RSS of a separate process with the real MainWindow on the township, the person
list open and a search done.

    python bench/bench_browse.py --db /path/township.sqlite    # a ready-made township (copied)
    python bench/bench_browse.py --households 3000              # generates one first
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from govshare_desktop.core.browse import (
    DATASETS,
    ENROLLMENTS,
    HOUSEHOLDS,
    PAYMENTS,
    PERSONS,
    Browser,
    Query,
)
from govshare_desktop.core.store.engine import open_tool_store

TODAY = date(2026, 11, 26)
ROWS_SHOWN = 40  # what a window shows at once: every cell of these is read


def stats(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90, ordered[-1]


class Bench:
    def __init__(self, db: Path) -> None:
        from PySide6.QtWidgets import QApplication, QTableView

        from govshare_desktop.ui.table_model import SqlTableModel

        self.app = QApplication.instance() or QApplication([])
        self.store = open_tool_store(db)
        self.browser = Browser(self.store)
        self.raw = sqlite3.connect(db)
        self.view = QTableView()
        self.view.resize(1200, 800)
        self.model = SqlTableModel(self.browser, Query(PERSONS), today=TODAY, load=True)
        self.view.setModel(self.model)
        self.view.show()
        self.settle()
        self.new = hasattr(self.model, "arrived")  # the paged model with its query worker
        self.lines: list[tuple[str, list[float], list[float], list[float]]] = []
        self.counts: list[float] = []

    # ------------------------------------------------------------ waiting for the model

    def settle(self) -> None:
        """Until the model's current query has its first rows (the old model: at once)."""
        from PySide6.QtCore import QEventLoop

        waiting = getattr(self.model, "waiting", None)
        if waiting is None:
            return
        while self.model.waiting:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    def show_rows(self) -> None:
        for r in range(min(ROWS_SHOWN, self.model.rowCount())):
            for c in range(self.model.columnCount()):
                self.model.data(self.model.index(r, c))

    def timed(self, act: Callable[[], object]) -> tuple[float, float]:
        """(UI-thread ms, ms to the first rows shown) of one interaction."""
        start = time.perf_counter()
        act()
        ui = time.perf_counter() - start
        self.settle()
        shown = time.perf_counter()
        self.show_rows()  # on the UI thread too: part of the time the window is busy
        self.app.processEvents()
        end = time.perf_counter()
        self.counts.append(self.wait_count(start))
        return (ui + end - shown) * 1000, (end - start) * 1000

    def wait_count(self, start: float) -> float:
        """ms from the interaction to the exact count (the old model: counted with the ids)."""
        from PySide6.QtCore import QEventLoop

        if not self.new:
            return float("nan")
        while self.model.count is None:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        return (time.perf_counter() - start) * 1000

    # ------------------------------------------------------------ raw baseline

    def raw_first_page(self, query: Query) -> float:
        """ms for raw sqlite3 to run the statement(s) the app runs for the first rows."""
        statements = self.first_page_sql(query)
        start = time.perf_counter()
        found: list[Any] = []
        for sql, params in statements:
            found = self.raw.execute(sql, params).fetchall()
        rows_sql = getattr(self.browser, "rows_sql", None)
        if rows_sql is not None:  # the paged browser: then the page's columns by id
            self.raw.execute(rows_sql(query.dataset, [r[0] for r in found[:200]])).fetchall()
        return (time.perf_counter() - start) * 1000

    def first_page_sql(self, query: Query) -> list[tuple[str, dict[str, Any]]]:
        page_sql = getattr(self.browser, "page_sql", None)
        if page_sql is not None:  # the paged browser: its own statements for the first page
            statements = list(page_sql(query, 200))
            search = query.filters.get("search")
            if search and len(statements) > 2:  # the probe, then the first that fills the page
                statements = statements[:2]
            return statements
        # before: every id in order, then the first 200 rows
        where, params = query.where("sqlite")
        order = query.order_by()
        ids_sql = f"SELECT t.id FROM {query.dataset.from_sql_for(where, order)}{where}{order}"
        ids = [r[0] for r in self.raw.execute(ids_sql, params).fetchall()[:200]]
        cols = ", ".join(c.sql for c in query.dataset.columns)
        rows_sql = (
            f"SELECT t.id, {cols} FROM {query.dataset.from_sql} "
            f"WHERE t.id IN ({', '.join(map(str, ids)) or 'NULL'})"
        )
        return [(ids_sql, params), (rows_sql, {})]

    # ------------------------------------------------------------ interactions

    def use(self, query: Query) -> None:
        """A model of ``query``'s dataset in the view (a new one, shown, if it is another's)."""
        from govshare_desktop.ui.table_model import SqlTableModel

        if self.model.query.dataset is not query.dataset:
            getattr(self.model, "stop", lambda: None)()  # as a window's page would be gone
            self.model = SqlTableModel(self.browser, query, today=TODAY)
            self.view.setModel(self.model)
            self.settle()

    def run(self, label: str, queries: Iterable[Query], repeat: int = 1) -> None:
        ui, rows, raw = [], [], []
        for query in queries:
            self.use(query)
            for _ in range(repeat):
                self.model.set_query(Query(query.dataset, {"search": "x"}))  # change, then back
                self.settle()
                u, r = self.timed(lambda q=query: self.model.set_query(q))
                ui.append(u)
                rows.append(r)
                raw.append(self.raw_first_page(query))
        self.record(label, ui, rows, raw)

    def record(self, label: str, ui: list[float], rows: list[float], raw: list[float]) -> None:
        counts, self.counts = self.counts, []
        self.lines.append((label, ui, rows, raw))
        self.print_line(label, ui, rows, raw, counts)

    @staticmethod
    def print_line(
        label: str, ui: list[float], rows: list[float], raw: list[float], counts: list[float]
    ) -> None:
        def fmt(values: list[float]) -> str:
            if not values or values[0] != values[0]:  # none, or NaN: not measured
                return f"{'—':>7} {'—':>7} {'—':>7}"
            p50, p90, worst = stats(values)
            return f"{p50:7.1f} {p90:7.1f} {worst:7.1f}"

        print(
            f"  {label:<36} {len(ui):>4}  {fmt(ui)}   {fmt(rows)}   {fmt(raw)}   {fmt(counts)}",
            flush=True,
        )

    def typing(self, label: str, texts: list[str], base: Query) -> None:
        """Each text typed one character at a time, every keystroke waited for."""
        ui, rows, raw = [], [], []
        self.use(base)
        for text_ in texts:
            self.model.set_query(base)
            self.settle()
            for n in range(1, len(text_) + 1):
                query = base.with_filter(search=text_[:n])
                u, r = self.timed(lambda q=query: self.model.set_query(q))
                ui.append(u)
                rows.append(r)
                raw.append(self.raw_first_page(query))
        self.record(label, ui, rows, raw)

    def open_list(self, label: str, query: Query, repeat: int = 5) -> None:
        from govshare_desktop.ui.table_model import SqlTableModel

        ui, rows, raw = [], [], []
        for _ in range(repeat):

            def build(q: Query = query) -> None:
                getattr(self.model, "stop", lambda: None)()  # the last list's count not wanted
                self.model = SqlTableModel(self.browser, q, today=TODAY)
                self.view.setModel(self.model)

            u, r = self.timed(build)
            ui.append(u)
            rows.append(r)
            raw.append(self.raw_first_page(query))
        self.record(label, ui, rows, raw)

    def sort(self, label: str, query: Query, repeat: int = 2) -> None:
        from PySide6.QtCore import Qt

        self.use(query)
        self.model.set_query(query)
        self.settle()
        ui, rows, raw = [], [], []
        columns = [i for i, c in enumerate(query.dataset.columns) if c.sort]
        for _ in range(repeat):
            for column in columns:
                for order in (Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder):
                    u, r = self.timed(lambda c=column, o=order: self.model.sort(c, o))
                    ui.append(u)
                    rows.append(r)
                    raw.append(self.raw_first_page(self.model.query))
        self.record(label, ui, rows, raw)


def inputs(db: Path, seed: int = 7) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    rng = random.Random(seed)
    count = conn.execute("SELECT MAX(id) FROM person").fetchone()[0]

    def sample(sql: str, n: int) -> list[str]:
        found: list[str] = []
        while len(found) < n:
            row = conn.execute(sql, (rng.randint(1, count),)).fetchone()
            if row and row[0] not in found:
                found.append(row[0])
        return found

    out = {
        "ids": sample("SELECT id_number FROM person WHERE id >= ? LIMIT 1", 4),
        "surnames": [
            r[0]
            for r in conn.execute(
                "SELECT substr(name, 1, 1) s FROM person GROUP BY s ORDER BY COUNT(*) DESC LIMIT 12"
            )
        ],
        "initials": sample(
            "SELECT substr(name_initials, 1, 3) FROM person WHERE id >= ? AND length(name) = 3"
            " LIMIT 1",
            12,
        ),
        "names": sample(
            "SELECT name FROM person WHERE id >= ? AND length(name) = 3 LIMIT 1",
            12,
        ),
        "villages": [r[0] for r in conn.execute("SELECT DISTINCT village_code FROM person")][:4],
        "period": [str(conn.execute("SELECT MAX(period) FROM ss_payment").fetchone()[0] or "")],
    }
    conn.close()
    return out


def bench(db: Path) -> None:
    b = Bench(db)
    got = inputs(db)
    print(f"\n{'interaction':<38} {'n':>4}  {'ui ms p50/p90/worst':>23}   "
          f"{'rows ms p50/p90/worst':>23}   {'raw ms p50/p90/worst':>23}   "
          f"{'count ms p50/p90/worst':>23}")  # fmt: skip
    everyone = Query(PERSONS)
    b.typing("ID typed from its 1st digit", got["ids"], everyone)
    b.run("1-character surname", [everyone.with_filter(search=s) for s in got["surnames"]])
    b.run("pinyin initials", [everyone.with_filter(search=s) for s in got["initials"]])
    b.run("3-character name (exists)", [everyone.with_filter(search=s) for s in got["names"]])
    period = int(got["period"][0]) if got["period"][0] else None
    for dataset in (PERSONS, HOUSEHOLDS, ENROLLMENTS, PAYMENTS):
        query = Query(dataset)
        if dataset is PAYMENTS and period:
            b.open_list("open 待遇发放 (latest month)", query.with_filter(period=period))
        b.open_list(f"open {dataset.title}{' (全部)' if dataset is PAYMENTS else ''}", query)
    for dataset in (PERSONS, HOUSEHOLDS, ENROLLMENTS):
        b.run(
            f"filter {dataset.title} by village",
            [Query(dataset, {"village": v}) for v in got["villages"]],
            repeat=2,
        )
    b.sort("sort 人员 by each column", everyone)
    b.sort("sort 户籍 by each column", Query(HOUSEHOLDS))
    b.sort("sort 参保 by each column", Query(ENROLLMENTS))
    if period:
        b.sort("sort 待遇发放 (latest month)", Query(PAYMENTS, {"period": period}))
    b.sort("sort 待遇发放 (全部)", Query(PAYMENTS))
    b.run("search 王 in 待遇发放 (全部)", [Query(PAYMENTS, {"search": "王"})])
    assert set(DATASETS) == {"person", "household", "ss_enrollment", "ss_payment"}


def rss_child(db: Path) -> None:
    """The real MainWindow on the township, the person list open, a search done: print RSS."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from govshare_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    store = open_tool_store(db)
    window = MainWindow(store, today=lambda: TODAY)
    window.resize(1400, 900)
    window.show()
    window.show_page("person")
    view = window.views["person"]
    for text_ in ("王", "4419", "zs"):
        window.search.setText(text_)
        window._apply_filters()
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if view.model.query.filters.get("search") == text_ and not getattr(
                view.model, "waiting", False
            ):
                break
        for r in range(min(40, view.model.rowCount())):
            view.model.data(view.model.index(r, 0))
        app.processEvents()
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    print(f"RSS {fields['VmRSS'].strip()}  peak {fields['VmHWM'].strip()}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", type=Path, help="a ready-made township (it is copied, never written)"
    )
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--no-rss", action="store_true")
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_browse_") as tmp:
        db = Path(tmp) / "township.sqlite"
        if args.db:
            shutil.copyfile(args.db, db)
        else:
            from govshare_desktop.core.demo import generate

            store = open_tool_store(db)
            start = time.perf_counter()
            generate(store, households=args.households, seed=1)
            store.engine.dispose()
            print(
                f"generated {args.households:,} households in {time.perf_counter() - start:.0f} s"
            )
        open_tool_store(db).engine.dispose()  # migrated to this version (indexes made once)
        conn = sqlite3.connect(db)
        people = conn.execute("SELECT COUNT(*) FROM person").fetchone()[0]
        payments = conn.execute("SELECT COUNT(*) FROM ss_payment").fetchone()[0]
        conn.close()
        print(f"township: {people:,} persons, {payments:,} payments ({db.stat().st_size >> 20} MB)")
        bench(db)
        if not args.no_rss:
            out = subprocess.run(
                [sys.executable, __file__, "--rss-child", str(db)],
                capture_output=True,
                text=True,
                check=False,
            )
            print(f"\nMainWindow, person list open, searches done: {out.stdout.strip()}")
            if out.returncode:
                print(out.stderr[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
