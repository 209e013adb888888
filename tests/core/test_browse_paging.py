"""Keyset paging and the first screenful of a search (issue 20): paging through every page of a
list gives exactly the rows of the one full ``ORDER BY`` query, for every sortable column in both
directions, with NULLs in the sort columns; a search answered from its index (few hits) or by
walking the list's order (broad) finds the same rows as the search index alone."""

from __future__ import annotations

import threading

import pytest

from govshare_desktop.core import keyset
from govshare_desktop.core.browse import (
    DATASETS,
    PAYMENTS,
    PERSONS,
    Browser,
    Interrupt,
    Interrupted,
    Query,
)
from govshare_desktop.core.store.search import Resolved

MONTH = 202610


def _with_nulls(store) -> None:  # type: ignore[no-untyped-def]
    """NULLs in every nullable sort column, on rows spread through the lists."""
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE person SET village_code = NULL, household_no = NULL, ethnicity_code = NULL"
                " WHERE id % 7 = 0"
            )
        )
        conn.execute(
            text("UPDATE person SET relationship_code = NULL, status_date = NULL WHERE id % 5 = 0")
        )
        conn.execute(
            text(
                "UPDATE household SET village_code = NULL, address = NULL, head_name = NULL,"
                " head_id_number = NULL, as_of = NULL WHERE id % 6 = 0"
            )
        )
        conn.execute(
            text(
                "UPDATE ss_enrollment SET grade_fen = NULL, start_date = NULL, village_code = NULL"
                " WHERE id % 3 = 0"
            )
        )
        conn.execute(text("UPDATE ss_payment SET paid_date = NULL WHERE id % 4 = 0"))


def _paged(browser: Browser, query: Query, limit: int) -> list[int]:
    got: list[int] = []
    after = None
    while True:
        page = browser.page(query, after, limit)
        assert len(page.rows) <= limit
        got += [row[0] for row in page.rows]
        if page.after is None:
            return got
        assert len(page.rows) == limit
        after = page.after


def _lists() -> list[Query]:
    out = []
    for key, dataset in DATASETS.items():
        filters = {"period": MONTH} if key == PAYMENTS.key else {}
        out.append(Query(dataset, filters))
        if key == PAYMENTS.key:  # 全部 months: an amount or the date merged from each month's index
            out.append(Query(dataset))
        if "village" in dataset.filters:
            out.append(Query(dataset, {**filters, "village": "441900199201"}))
    return out


@pytest.mark.parametrize("query", _lists(), ids=lambda q: f"{q.dataset.key}-{len(q.filters)}")
def test_every_page_of_every_sort_is_the_full_order(any_demo_store, query: Query) -> None:
    _with_nulls(any_demo_store)
    browser = Browser(any_demo_store)
    limit = 17 if browser.dialect == "sqlite" else 29  # fewer round trips to the server
    if query.dataset is PAYMENTS and not query.filters:
        limit = 700  # every payment of the township
    for column in query.dataset.columns:
        if column.sort is None:
            continue
        for descending in (False, True):
            sorted_query = query.sorted_by(column.key, descending)
            full = browser.ids(sorted_query)
            assert _paged(browser, sorted_query, limit) == full, (column.key, descending)
    assert len(full) > limit  # several pages


SEARCHES = ["4", "44", "4419", "441900", "19", "0312", "3X", "王", "芳", "王芳", "欧阳", "zs", "z"]


@pytest.mark.parametrize("small", [3, 10_000], ids=["broad", "from-index"])
def test_a_search_finds_the_rows_the_search_index_finds(any_demo_store, small: int) -> None:
    """Broad (walking the list's own order, checked row by row) or from the search index, paged:
    the same rows in the same order as the one statement over the search index, and the count."""
    plain = Browser(any_demo_store)
    browser = Browser(any_demo_store, small=small)
    for dataset in DATASETS.values():
        for text in SEARCHES:
            queries = [Query(dataset, {"search": text})]
            if dataset is PAYMENTS:  # a month, and 全部 months by an amount (merged)
                queries = [queries[0].with_filter(period=MONTH), queries[0].sorted_by("total")]
            for query in queries:
                full = plain.ids(query)
                assert _paged(browser, query, 150) == full, (dataset.key, text)
                resolved = browser.resolve(query)
                assert isinstance(resolved.filters["search"], Resolved)
                assert browser.count(resolved) == len(full) == plain.count(query)


def test_broad_and_few_hits_are_told_apart(demo_store) -> None:
    browser = Browser(demo_store, small=50)
    with demo_store.engine.connect() as conn:
        name = conn.exec_driver_sql("SELECT name FROM person ORDER BY id LIMIT 1").scalar()
    broad = browser.resolve(Query(PERSONS, {"search": "4419"})).filters["search"]
    few = browser.resolve(Query(PERSONS, {"search": name})).filters["search"]
    assert broad.ids is None
    # 「4419」 begins 50 and more ID numbers: broad without asking the trigram index
    assert Browser(demo_store, small=50)._prefix_is_broad(broad.search, None)
    assert few.ids is not None and 0 < len(few.ids) < 50
    page = browser.page(Query(PERSONS, {"search": "4419"}, sort="id_number"), limit=10)
    assert [r[1][:4] for r in page.rows] == ["4419"] * 10 and page.after is not None


def test_a_broad_search_whose_hits_are_far_down_the_order_falls_back(demo_store) -> None:
    """The walk is stopped at its deadline and the search's index answers (same rows)."""
    import govshare_desktop.core.browse as browse

    browser = Browser(demo_store, small=3)
    query = Query(PERSONS, {"search": "王"}, sort="id_number")
    expected = Browser(demo_store).ids(query)
    original = browse.WALK_MS
    browse.WALK_MS = 0  # every walk is too long
    try:
        assert len(expected) > 3
        assert [r[0] for r in browser.page(query, limit=1000).rows] == expected
    finally:
        browse.WALK_MS = original


def test_keyset_conditions_for_nulls_and_directions() -> None:
    terms = [("t.a", False), ("t.b", False), ("t.id", False)]
    # SQLite, ascending: NULLs first, so one row-value covers it all
    assert keyset.after(terms, ("x", "y", 5), "sqlite") == [
        ("(t.a, t.b, t.id) > (:k0, :k1, :k2)", {"k0": "x", "k1": "y", "k2": 5})
    ]
    # PostgreSQL, ascending: NULLs last, after each term's values
    conditions = [c for c, _ in keyset.after(terms, ("x", "y", 5), "postgresql")]
    assert conditions == [
        "t.a = :k0 AND (t.b, t.id) > (:k1, :k2)",
        "t.a = :k0 AND t.b IS NULL",
        "t.a > :k0",
        "t.a IS NULL",
    ]
    # a NULL key: on SQLite (descending: NULLs last) nothing follows it on that term
    down = [("t.a", True), ("t.id", True)]
    assert [c for c, _ in keyset.after(down, (None, 9), "sqlite")] == ["t.a IS NULL AND t.id < :k1"]
    assert [c for c, _ in keyset.after(down, ("x", 9), "sqlite", frozenset({"t.a"}))] == [
        "(t.a, t.id) < (:k0, :k1)"
    ]


def test_an_interrupt_stops_a_running_statement(demo_store) -> None:
    browser = Browser(demo_store)
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
    )
    interrupt = Interrupt()
    outcome: list[BaseException] = []
    started = threading.Event()

    def run() -> None:
        started.set()
        try:
            browser._run(endless, {}, interrupt)
        except BaseException as exc:  # the outcome is checked on the test's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    started.wait()
    while interrupt._connection is None and worker.is_alive():
        worker.join(0.01)  # until the statement runs
    interrupt()
    worker.join(10)
    assert not worker.is_alive() and isinstance(outcome[0], Interrupted)
    with pytest.raises(Interrupted):  # once interrupted, nothing more starts
        browser.page(Query(PERSONS), interrupt=interrupt)


def test_an_id_fragment_finds_every_number_holding_it(any_demo_store) -> None:
    """Every fragment of real ID numbers — from the first digit (as typed), from the middle, with
    a lowercase x, none — finds exactly the persons whose number holds it (a fragment of 10 or
    more characters is looked up by its part after the region code: search.REGION), through the
    search's own statement, the probe and the broad walk alike."""
    from sqlalchemy import text

    from govshare_desktop.core.store.search import SearchKind, classify

    with any_demo_store.engine.connect() as conn:
        numbers = dict(conn.exec_driver_sql("SELECT id, id_number FROM person").fetchall())
    sample = sorted(numbers.values())[:: max(1, len(numbers) // 5)]
    fragments = {"4419001", "99999999999", "1234567890"}
    for number in sample:
        fragments |= {number[:n] for n in range(3, 19)}  # typed from the first digit
        fragments |= {number[s : s + n] for s in (2, 6, 8) for n in (10, 11, 12)}  # the middle
    with_x = [n for n in numbers.values() if n.endswith("X")]
    fragments |= {n[-11:].lower() for n in with_x[:2]}
    for small in (3, 10_000):
        browser = Browser(any_demo_store, small=small)
        for fragment in sorted(fragments):
            if classify(fragment).kind is not SearchKind.ID_FRAGMENT:
                continue  # 15 or 18 valid digits: the number itself (an old one converted)
            expected = sorted(i for i, n in numbers.items() if fragment.upper() in n.upper())
            query = Query(PERSONS, {"search": fragment}, sort="id_number")
            sql, params = classify(fragment).sql(browser.dialect)
            with any_demo_store.engine.connect() as conn:
                direct = sorted(conn.execute(text(sql), params).scalars())
            assert direct == expected, fragment
            assert sorted(_paged(browser, query, 150)) == expected, (fragment, small)
            assert browser.count(browser.resolve(query)) == len(expected), fragment
