"""The query plans of the lists and the search (issue 20): every page a list shows comes from an
index in the sort's order — no full scan of a table, no temporary B-tree to sort — so the first rows
arrive in milliseconds at 200,000 households as at 300. SQLite plans these statements without
table statistics, so the small demo township gets the plans the large one gets; a statement or an
index (migration 0014) that changes them fails here.

在册人数 is kept on the household row and indexed (migration 0016); 待遇发放 of 全部 months sorted by
an amount or the date is merged from each month's (month, amount or date) index: no exceptions."""

from __future__ import annotations

import re

import pytest

from govshare_desktop.core.browse import DATASETS, PAYMENTS, Browser, Query
from govshare_desktop.core.store.search import Resolved

MONTH = 202610


def _plan(store, statements) -> list[str]:  # type: ignore[no-untyped-def]
    lines = []
    with store.engine.connect() as conn:
        driver = conn.connection.driver_connection
        for sql, params in statements:
            lines += [row[3] for row in driver.execute("EXPLAIN QUERY PLAN " + sql, params)]
    return lines


def _scans(lines: list[str]) -> list[str]:
    """Full scans of a table (a virtual FTS table is an index; ``hits`` a subquery's few rows)."""
    return [line for line in lines if re.fullmatch(r"SCAN \w+", line) and line != "SCAN hits"]


def _lists() -> list[Query]:
    queries = []
    for key, dataset in DATASETS.items():
        bases = [Query(dataset)]
        if key == PAYMENTS.key:  # a month; 全部 months (an amount or the date: merged)
            bases = [Query(dataset, {"period": MONTH}), Query(dataset)]
        if "village" in dataset.filters:
            bases.append(bases[0].with_filter(village="441900199201"))
        if "status" in dataset.filters:
            bases.append(bases[0].with_filter(status="normal"))
        for base in bases:
            for column in dataset.columns:
                if column.sort:
                    queries += [base.sorted_by(column.key), base.sorted_by(column.key, True)]
    return queries


def test_every_page_of_every_list_walks_an_index_in_the_sort_order(demo_store) -> None:
    browser = Browser(demo_store)
    checked = 0
    for query in _lists():
        query = browser.resolve(query)  # 全部 months by an amount: the months to merge
        first = browser.page(query, limit=5)
        assert first.after is not None
        statements = browser.page_statements(query) + browser.page_statements(query, first.after)
        lines = _plan(demo_store, statements)
        label = (query.dataset.key, dict(query.filters), query.sort, query.descending)
        assert not _scans(lines), (label, lines)
        assert not [line for line in lines if "TEMP B-TREE" in line], (label, lines)
        checked += 1
    assert checked > 100


SEARCHED = ["4", "44", "4419", "441900", "0312", "19", "3X", "王", "王芳", "zs", "z", "zsf"]
LONG_IDS = ["4419001990", "44190019900101", "1990010112"]  # 10+ digits: after the region code


@pytest.mark.parametrize("text", [*SEARCHED, *LONG_IDS])
def test_a_search_uses_an_index_and_sorts_only_its_few_hits(demo_store, text: str) -> None:
    """Few hits: looked up by their ids and sorted (a temporary B-tree of at most search.SMALL
    persons' rows). Broad: the list's sort index drives. Never a full scan."""
    for small in (3, 10_000):
        browser = Browser(demo_store, small=small)
        for dataset in DATASETS.values():
            query = Query(dataset, {"search": text})
            if dataset is PAYMENTS:
                query = query.with_filter(period=MONTH)
            resolved = browser.resolve(query)
            found = resolved.filters["search"]
            lines = _plan(demo_store, browser.page_sql(query))
            assert not _scans(lines), (dataset.key, text, small, lines)
            if isinstance(found, Resolved) and found.ids is None:
                assert not [line for line in lines if "TEMP B-TREE" in line], (text, lines)
