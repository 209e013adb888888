"""Benchmark: what encryption and accounts cost, measured in the same run.

Both sides run on the same SQLite library — sqlcipher3's bundled one (the plain copy is opened
through sqlcipher3 without a key), so the ratio is the cost of encryption alone, not of two SQLite
versions; both versions are printed.

1. Search: the same searches (name, ID fragment, pinyin initials, surname) through the app's
   browse layer on an encrypted and a plain copy of the same demo township. Target: within 1.3×.
2. Import: the same payment CSV imported into an encrypted and a plain database. Target: 1.3×.
3. Sign-in: Argon2id verification, key unwrapping and opening the encrypted database. Target: < 1 s.

    python bench/bench_security.py [--households 10000] [--rows 200000]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.browse import PERSONS, Browser, Query
from govshare_desktop.core.demo import generate
from govshare_desktop.core.security import signin
from govshare_desktop.core.store import engine as engine_module
from govshare_desktop.core.store.engine import Store, open_tool_store
from govshare_desktop.core.store.township import init_township

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import make_csv


@contextlib.contextmanager
def sqlcipher_library():  # type: ignore[no-untyped-def]
    """Plain (unkeyed) SQLite files opened through sqlcipher3's DB-API module: the SQLite library
    the encrypted run uses, so that the comparison is of encryption alone."""
    from sqlcipher3 import dbapi2

    plain = engine_module.create_engine

    def create_engine(url, **kw):  # type: ignore[no-untyped-def]
        if str(url).startswith("sqlite:"):
            kw.setdefault("module", dbapi2)
        return plain(url, **kw)

    engine_module.create_engine = create_engine  # type: ignore[assignment]
    try:
        yield
    finally:
        engine_module.create_engine = plain


def open_bench_store(path: Path, encrypted: bool) -> Store:
    """An encrypted store (SQLCipher under a random key), or a plain one on the same library."""
    if encrypted:
        store = open_tool_store(path, encrypted=True)
    else:
        with sqlcipher_library():
            store = open_tool_store(path)
    assert store.encrypted == encrypted, "sqlcipher3 is not installed"
    return store


def library(store) -> str:  # type: ignore[no-untyped-def]
    """The SQLite (and SQLCipher) version a store's connections run on."""
    with store.engine.connect() as connection:
        sqlite = connection.exec_driver_sql("SELECT sqlite_version()").scalar()
        cipher = connection.exec_driver_sql("PRAGMA cipher_version").scalar()
        module = connection.connection.dbapi_connection.__class__.__module__
    return f"SQLite {sqlite}, SQLCipher {cipher or '-'} ({module})"


def searches(store, count: int = 100) -> list[str]:  # type: ignore[no-untyped-def]
    with store.engine.connect() as connection:
        people = connection.exec_driver_sql(
            "SELECT name, id_number, name_initials FROM person ORDER BY id LIMIT 5000"
        ).all()
    rng = random.Random(7)
    picks = [rng.choice(people) for _ in range(count)]
    return (
        [p[0] for p in picks[:25]]
        + [p[1][-6:] for p in picks[25:50]]
        + [p[2] for p in picks[50:75] if p[2]]
        + [p[0][0] for p in picks[75:]]
    )


def search_ms(store, inputs: list[str]) -> float:  # type: ignore[no-untyped-def]
    browser = Browser(store)
    times = []
    for text in inputs:
        start = time.perf_counter()
        browser.ids(Query(PERSONS, {"search": text}))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    stores = {}
    for label, encrypted in (("plain", False), ("encrypted", True)):
        store = open_bench_store(work / f"{label}.db", encrypted)
        print(f"{label:<10} {library(store)}")
        generate(store, households=args.households, seed=1)
        stores[label] = store
    inputs = searches(stores["plain"])
    print(f"Search — median of {len(inputs)} searches, {args.households:,} households")
    figures = {label: min(search_ms(s, inputs) for _ in range(3)) for label, s in stores.items()}
    for label, ms in figures.items():
        print(f"  {label:<10} {ms:7.2f} ms")
    print(f"  ratio      {figures['encrypted'] / figures['plain']:.2f}x (target ≤ 1.3x)")

    csv = work / "payments.csv"
    make_csv(csv, args.rows)
    print(f"\nImport — {args.rows:,} payment rows from CSV, one transaction")
    seconds = {}
    for label, encrypted in (("plain", False), ("encrypted", True)):
        store = open_bench_store(work / f"import-{label}.db", encrypted)
        with store.transaction() as session:
            init_township(session, "441900199000", "青禾镇")
        start = time.perf_counter()
        import_file(store, csv, user="bench")
        seconds[label] = time.perf_counter() - start
        store.dispose()
        print(f"  {label:<10} {seconds[label]:7.2f} s")
    print(f"  ratio      {seconds['encrypted'] / seconds['plain']:.2f}x (target ≤ 1.3x)")

    db = work / "login.db"
    signin.initialise(db, admin_password="Guanli#2026bench").store.dispose()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        signed = signin.sign_in(db, "admin", "Guanli#2026bench", now=datetime.now())
        with signed.store.engine.connect() as connection:
            connection.exec_driver_sql("SELECT COUNT(*) FROM person").scalar()
        times.append(time.perf_counter() - start)
        signed.store.dispose()
    print(
        f"\nSign-in (Argon2id check, key unwrap, open and first query): median {statistics.median(times) * 1000:.0f} ms (target < 1 s)"
    )
    for store in stores.values():
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
