"""Benchmark: every computed 一表通 element for every village for one period, on the 30,000-household
demo township, beside the same figures from hand-written SQL (one GROUP BY query per element).

    python bench/bench_forms.py --db PATH   # a database made by bench_township.py --keep / --db
    python bench/bench_forms.py             # generates a 30,000-household township first (~20 s)
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.compute import compute_area_values, other_subject
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.store.engine import open_store, open_tool_store

TOWNSHIP = "441900199000"
OTHER = other_subject(TOWNSHIP)  # 其他（未落户）: records with no village

# The same figures, written by hand as one GROUP BY per element (period 2026-10).
HAND_WRITTEN = {
    "P_TOTAL": "SELECT village_code, COUNT(*) FROM person WHERE absent_batch_id IS NULL AND birth_date <= '2026-10-31' AND (status = 'normal' OR status_date > '2026-10-31') GROUP BY village_code",
    "P_60PLUS": "SELECT village_code, COUNT(*) FROM person WHERE absent_batch_id IS NULL AND birth_date <= '1966-10-31' AND (status = 'normal' OR status_date > '2026-10-31') GROUP BY village_code",
    "P_80PLUS": "SELECT village_code, COUNT(*) FROM person WHERE absent_batch_id IS NULL AND birth_date <= '1946-10-31' AND (status = 'normal' OR status_date > '2026-10-31') GROUP BY village_code",
    "H_TOTAL": "SELECT village_code, COUNT(*) FROM household WHERE absent_batch_id IS NULL GROUP BY village_code",
    "I_RECEIVING": "SELECT village_code, COUNT(*) FROM ss_enrollment WHERE absent_batch_id IS NULL AND scheme_code = '170' AND receiving = 1 GROUP BY village_code",
    "I_PAID_TOTAL": "SELECT p.village_code, SUM(t.total_fen) FROM ss_payment t LEFT JOIN person p ON p.id_number = t.id_number WHERE t.absent_batch_id IS NULL AND t.period = 202610 GROUP BY p.village_code",
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    db = args.db
    if db is None:
        from govshare_desktop.core.demo import generate

        db = Path(tempfile.mkdtemp()) / "forms.db"
        generate(open_store(db), households=30_000, seed=1)
    store = open_tool_store(db)
    elements = list(load_dictionary().values())
    computed = [e for e in elements if e.compute is not None and e.level == "area"]
    period = Period.parse("2026-10")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        values = compute_area_values(store, elements, period, township_code=TOWNSHIP)
        runs.append(time.perf_counter() - start)
    ours = statistics.median(runs)
    raw = sqlite3.connect(db)
    hand_runs = []
    for _ in range(5):
        start = time.perf_counter()
        for sql in HAND_WRITTEN.values():
            raw.execute(sql).fetchall()
        hand_runs.append(time.perf_counter() - start)
    hand = statistics.median(hand_runs)
    # The hand-written queries cover a subset: scale to the number of computed elements for a fair ratio.
    hand_all = hand / len(HAND_WRITTEN) * len(computed)
    for code, sql in HAND_WRITTEN.items():
        expected = {v: n for v, n in raw.execute(sql).fetchall() if v}
        got = {v: n for v, n in values[code].items() if v not in (TOWNSHIP, OTHER) and n}
        assert got == expected, f"{code}: {got} != {expected}"
    print(
        f"一表通 prefill — {len(computed)} computed elements x {sum(v not in (TOWNSHIP, OTHER) for v in values[computed[0].code])} villages + township, period {period}"
    )
    print(
        f"  govshare compute_area_values (median of 5)   {ours * 1000:8.1f} ms   (target < 1000 ms)"
    )
    print(f"  hand-written GROUP BY, {len(HAND_WRITTEN)} elements           {hand * 1000:8.1f} ms")
    print(f"  hand-written, scaled to {len(computed)} elements           {hand_all * 1000:8.1f} ms")
    print(
        f"  ratio: {ours / hand_all:.2f}x (target < 2x); results checked equal for {', '.join(HAND_WRITTEN)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
