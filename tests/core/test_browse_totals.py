"""合计 of a list (issue 19): the money columns summed by the database over every row the filters
select — the same rows as the count, whatever the view has loaded."""

from __future__ import annotations

from govshare_desktop.core.browse import ENROLLMENTS, PAYMENTS, Browser, Query


def test_the_payments_total_is_the_sum_of_the_rows_selected(demo_store) -> None:
    browser = Browser(demo_store)
    everything = Query(PAYMENTS)
    with demo_store.engine.connect() as conn:
        basic, account, total, rows = conn.exec_driver_sql(
            "SELECT SUM(basic_fen), SUM(account_fen), SUM(total_fen), COUNT(*) FROM ss_payment"
        ).one()
    assert browser.totals(everything) == {"basic": basic, "account": account, "total": total}
    assert total > 0 and rows == browser.count(everything)
    october = everything.with_filter(period=202610)
    listed = [row for row in browser.iter_rows(october)]
    column = PAYMENTS.column_index("total")
    summed = browser.totals(october)
    assert summed["total"] == sum(row[column] for row in listed) < total
    searched = october.with_filter(search="王")
    some = [row for row in browser.iter_rows(searched)]
    assert 0 < len(some) < len(listed)
    assert browser.totals(searched)["total"] == sum(row[column] for row in some)
    nobody = october.with_filter(search="441900000000000000")
    assert browser.totals(nobody) == {"basic": 0, "account": 0, "total": 0}


def test_a_list_without_totals_has_none(demo_store) -> None:
    assert Browser(demo_store).totals(Query(ENROLLMENTS)) == {}
