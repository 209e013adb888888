"""Benchmark: what TLS costs a PC of the office (issue 18) — the same work over TLS
(``sslmode=verify-full`` against the server's certificate authority) and without (``sslmode=
disable``), against one server on this computer's loopback, so that only the encryption differs.

1. Raw, through psycopg alone (the baseline): a connection opened and closed (TCP, the TLS
   handshake, SCRAM), one ``SELECT 1`` round trip, and one-row transactions.
2. The program, as a 经办人 on the application role: signing in (``signin.sign_in``: the schema
   check, the keys' row, Argon2id, the audit entry), a search (``session.search_people``: a
   surname, a name, ID fragments of 4 and 8 digits, pinyin initials; the first page of rows and
   its audit entry), and saving 1,000 一表通 values (``forms.set_value`` for village cells: each
   one transaction with its version check, history and audit entry).

The two modes take turns at a fine grain — each connection, round trip, sign-in and search, and
each 100 transactions or saves, which of them goes first alternating — so that load from
elsewhere on the computer falls on both alike; the medians are printed. The server is the tests'
TLS server (tests/pg_tls.py: a private CA and a certificate made with ``cryptography``), made
durable like an office server (fsync and synchronous_commit on; ``--fast-server`` keeps the test
settings, which makes TLS's share of each figure larger). No figure is asserted; the
connections' encryption is (the server's ``pg_stat_ssl``).

    python bench/bench_tls.py [--households 3000] [--fast-server]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pg_tls: the tests' throwaway TLS server

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from govshare_desktop.core.demo import generate  # noqa: E402
from govshare_desktop.core.domain.period import Period  # noqa: E402
from govshare_desktop.core.forms.dictionary import load_dictionary  # noqa: E402
from govshare_desktop.core.forms.templates import load_templates  # noqa: E402
from govshare_desktop.core.forms.values import FormValues  # noqa: E402
from govshare_desktop.core.security import signin  # noqa: E402
from govshare_desktop.core.security.permissions import Role  # noqa: E402
from govshare_desktop.core.services import forms, session, setup  # noqa: E402
from govshare_desktop.core.services.context import Context  # noqa: E402
from govshare_desktop.core.store.engine import open_store  # noqa: E402
from govshare_desktop.core.store.township import villages  # noqa: E402
from tests.pg_tls import PASSWORD, ROLE, TlsServer, start_tls_server  # noqa: E402

NOW = datetime(2026, 11, 3, 9, 30)
ADMIN_PASSWORD = "Guanli#2026bench"
CLERK, CLERK_PASSWORD = "clerk", "Jingban#2026bench"
APP, APP_PASSWORD = "govshare_app", "bench-app-role-secret-1"
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
SAVES = 1000
CHUNK = 100
TLS, PLAIN = "TLS verify-full", "no TLS (disable)"


def _urls(server: TlsServer, database: str) -> dict[str, str]:
    """Each mode's URL for the application role: by the certificate's name at 127.0.0.1, or
    127.0.0.1 itself without TLS (allowed by the program for this computer only)."""
    app = {"user": APP, "password": APP_PASSWORD}
    return {
        TLS: server.url(database, **app),
        PLAIN: server.url(database, host="127.0.0.1", hostaddr=None, sslmode="disable", **app),
    }


def _conninfo(url: str, user: str | None = None, password: str | None = None) -> dict[str, Any]:
    """psycopg's keywords for ``url`` (the raw baseline connects as the program would)."""
    parsed = make_url(url)
    params: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": user or parsed.username,
        "password": password or parsed.password,
    }
    params.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    return params


def _township(server: TlsServer, households: int) -> tuple[str, str, str]:
    """The demo township on the server as its administrator sets it up (the owner, over TLS):
    the database's name, a person's name and ID number."""
    database = server.create_database(server.new_name("bench"))
    owner = server.url(database)
    started = time.perf_counter()
    store = open_store(owner)
    generate(store, households=households, seed=3)
    store.dispose()
    signin.initialise(owner, admin_password=ADMIN_PASSWORD, now=NOW).store.dispose()
    with server.connect() as connection:  # the server's administrator makes the role
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(APP), sql.Literal(APP_PASSWORD)
            )
        )
    setup.upgrade_server(owner, app_role=APP)  # grants it least privilege
    admin = signin.sign_in(_urls(server, database)[TLS], "admin", ADMIN_PASSWORD, now=NOW)
    signin.add_account(admin.store, CLERK, Role.CLERK, CLERK_PASSWORD, must_change=False, now=NOW)
    admin.store.dispose()
    with server.connect(database) as connection:
        row = connection.execute(
            "SELECT name, id_number FROM person ORDER BY id_number LIMIT 1 OFFSET 100"
        ).fetchone()
        people = connection.execute("SELECT count(*) FROM person").fetchone()
    assert row is not None and people is not None
    print(
        f"demo township: {households} households, {people[0]} people, set up over TLS in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return database, row[0], row[1]


def _check_encryption(urls: dict[str, str]) -> None:
    """Each mode is what it says: the server's own view of the connection."""
    for mode, url in urls.items():
        with psycopg.connect(**_conninfo(url)) as connection:
            found = connection.execute(
                "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone()
        assert found is not None and found[0] is (mode == TLS), (mode, found)
        print(f"  {mode:<18} the server reports: ssl={found[0]} {found[1] or ''} {found[2] or ''}")


def _median_ms(runs: list[float]) -> float:
    return statistics.median(runs) * 1000


def _turns(work: dict[str, Callable[[], object]], times: int) -> dict[str, list[float]]:
    """Each mode's ``work`` timed ``times`` times, the modes taking turns (which goes first
    alternates): load from elsewhere on the computer falls on both alike."""
    runs: dict[str, list[float]] = {mode: [] for mode in work}
    for i in range(times):
        for mode in list(work) if i % 2 == 0 else list(reversed(work)):
            started = time.perf_counter()
            work[mode]()
            runs[mode].append(time.perf_counter() - started)
    return runs


def _merge(into: dict[str, dict[str, list[float]]], key: str, runs: dict[str, list[float]]) -> None:
    for mode, found in runs.items():
        into[mode][key] = found


def _raw(urls: dict[str, str], owner_url: str, results: dict[str, dict[str, list[float]]]) -> None:
    """The baseline: psycopg alone, the modes taking turns."""
    conninfo = {mode: _conninfo(url) for mode, url in urls.items()}
    _merge(
        results,
        "connect",
        _turns({m: lambda c=c: psycopg.connect(**c).close() for m, c in conninfo.items()}, 40),
    )
    connections = {m: psycopg.connect(**c, autocommit=True) for m, c in conninfo.items()}
    try:
        work = {m: lambda c=c: c.execute("SELECT 1").fetchone() for m, c in connections.items()}
        _merge(results, "select 1", _turns(work, 2000))
    finally:
        for connection in connections.values():
            connection.close()
    owners = {
        m: psycopg.connect(
            **_conninfo(owner_url if m == TLS else url, user=ROLE, password=PASSWORD),
            autocommit=True,
        )
        for m, url in urls.items()
    }
    try:
        for m, connection in owners.items():
            table = sql.Identifier(f"bench_{'tls' if m == TLS else 'plain'}")
            connection.execute(
                sql.SQL("CREATE TEMP TABLE {} (id int PRIMARY KEY, value text)").format(table)
            )
            connection.execute(
                sql.SQL("INSERT INTO {} SELECT g, '' FROM generate_series(1, %s) g").format(table),
                (SAVES,),
            )

        def hundred(connection: psycopg.Connection, table: sql.Identifier, start: int) -> None:
            for i in range(start, start + CHUNK):
                with connection.transaction():
                    connection.execute(
                        sql.SQL("UPDATE {} SET value = %s WHERE id = %s").format(table), (str(i), i)
                    )

        chunks: dict[str, list[float]] = {m: [] for m in owners}
        for start in range(1, SAVES + 1, CHUNK):
            work = {
                m: lambda c=c, m=m, start=start: hundred(
                    c, sql.Identifier(f"bench_{'tls' if m == TLS else 'plain'}"), start
                )
                for m, c in owners.items()
            }
            for m, runs in _turns(work, 1).items():
                chunks[m] += runs
        _merge(results, "transactions", chunks)
    finally:
        for connection in owners.values():
            connection.close()


def _cells(store: Any, dictionary: dict[str, Any], saves: int) -> list[tuple[str, str, Period]]:
    """1,000 village cells of the elements a clerk types (integers), month after month."""
    with store.sessions() as found:
        codes_of_villages = [area.code for area in villages(found)]
    codes = [
        e.code
        for e in dictionary.values()
        if e.level == "area" and not e.computed and e.type == "integer"
    ]
    cells: list[tuple[str, str, Period]] = []
    month = 0
    while len(cells) < saves:
        period = Period.parse(f"{2026 - month // 12}-{12 - month % 12:02d}")
        cells += [(code, village, period) for village in codes_of_villages for code in codes]
        month += 1
    return cells[:saves]


def _program(
    urls: dict[str, str], typed: list[str], results: dict[str, dict[str, list[float]]]
) -> None:
    """The program as a 经办人, the modes taking turns: sign-in, searches, then 1,000 values
    saved by each, 100 at a time (the same cells: every save an update with its history)."""

    def sign_in_and_out(url: str) -> None:
        signin.sign_in(url, CLERK, CLERK_PASSWORD, now=NOW).store.dispose()

    _merge(
        results, "sign-in", _turns({m: lambda u=u: sign_in_and_out(u) for m, u in urls.items()}, 6)
    )
    clerks = {m: signin.sign_in(u, CLERK, CLERK_PASSWORD, now=NOW) for m, u in urls.items()}
    try:
        contexts = {m: Context(c.store, clock=lambda: NOW) for m, c in clerks.items()}
        searches: dict[str, list[float]] = {m: [] for m in urls}
        for typed_text in typed:
            work = {
                m: lambda c=c, t=typed_text: session.search_people(c, t)
                for m, c in contexts.items()
            }
            for m, runs in _turns(work, 6).items():
                searches[m] += runs
        _merge(results, "search", searches)
        dictionary = load_dictionary()
        templates, problems = load_templates(dictionary)
        assert not problems, problems
        pools = {m: FormValues(c.store, dictionary, templates) for m, c in clerks.items()}
        cells = _cells(clerks[TLS].store, dictionary, SAVES)
        for m in urls:  # first values (inserts) out of the way: every timed save is an update
            for code, village, period in cells:
                forms.set_value(contexts[m], pools[m], code, village, period, "0")

        def save(m: str, chunk: list[tuple[str, str, Period]]) -> None:
            value = "1" if m == TLS else "2"
            for code, village, period in chunk:
                forms.set_value(contexts[m], pools[m], code, village, period, value)

        chunks: dict[str, list[float]] = {m: [] for m in urls}
        for start in range(0, SAVES, CHUNK):
            chunk = cells[start : start + CHUNK]
            work = {m: lambda m=m, chunk=chunk: save(m, chunk) for m in urls}
            for m, runs in _turns(work, 1).items():
                chunks[m] += runs
        _merge(results, "saves", chunks)
    finally:
        for clerk in clerks.values():
            clerk.store.dispose()


def _report(results: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n  {'median, ms':<50}{PLAIN:>18}{TLS:>18}{'TLS adds':>12}{'':>8}")
    rows = [
        ("raw: connect + close (TCP, handshake, SCRAM)", "connect", 1),
        ("raw: SELECT 1 round trip", "select 1", 1),
        ("raw: one-row transaction (100 in a row, per one)", "transactions", CHUNK),
        ("program: sign-in (Argon2id included)", "sign-in", 1),
        ("program: one search (first page + audit)", "search", 1),
        ("program: one saved value (100 in a row, per one)", "saves", CHUNK),
    ]
    for label, key, per in rows:
        plain = _median_ms(results[PLAIN][key]) / per
        tls = _median_ms(results[TLS][key]) / per
        share = f"{(tls - plain) / plain * 100:+.0f} %" if plain else "—"
        print(f"  {label:<50}{plain:>18.3f}{tls:>18.3f}{tls - plain:>+12.3f}{share:>8}")
    for key, what in (
        ("transactions", "1,000 one-row transactions"),
        ("saves", "1,000 values saved"),
    ):
        plain, tls = (sum(results[m][key]) * 1000 for m in (PLAIN, TLS))
        print(
            f"  {what + ' (total, s)':<50}{plain / 1000:>18.2f}{tls / 1000:>18.2f}"
            f"{(tls - plain) / 1000:>+12.2f}{(tls - plain) / plain * 100:>+7.0f} %"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--fast-server", action="store_true", help="keep fsync=off (test settings)")
    args = parser.parse_args()
    server = start_tls_server(plain=True, options="" if args.fast_server else DURABLE)
    try:
        with server.connect() as connection:
            settings = {
                name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("server_version", "fsync", "synchronous_commit", "ssl")
            }
        print(f"PostgreSQL {settings.pop('server_version')} on loopback, {settings}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"this computer: {os.cpu_count()} CPUs, load average {load}")
        database, name, id_number = _township(server, args.households)
        urls = _urls(server, database)
        _check_encryption(urls)
        typed = ["王", name, id_number[-4:], id_number[-8:], "wf"]
        print(f"searches: {typed}; {SAVES} saves in chunks of {CHUNK}")
        warm: dict[str, dict[str, list[float]]] = {TLS: {}, PLAIN: {}}
        _raw(urls, server.url(database), warm)  # imports, mappers, the server's caches
        results: dict[str, dict[str, list[float]]] = {TLS: {}, PLAIN: {}}
        _raw(urls, server.url(database), results)
        _program(urls, typed, results)
        _report(results)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
