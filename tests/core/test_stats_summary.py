"""The 工作台's charts read from the summary (issue 20) are the charts counted from the records: 参保率
and 领取率 from ``summary_coverage`` (migration 0017), the pyramid from ``summary_person``, payments
from ``summary_payment`` — on a generated township, on many days (leap days, the first and last of
a month, the very days people turn 16, 60 or a band's age), for the township and each village; after
imports of payments, persons and enrollments; and when the records were changed behind the
summary's back (then the records are counted)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from govshare_desktop.core import stats_queries
from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.stats import Chart
from govshare_desktop.core.stats_queries import (
    coverage_chart,
    payments_chart,
    population_chart,
    years_before,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Enrollment, Person
from govshare_desktop.core.store.summary import coverage_rebuild, is_fresh, rebuild
from govshare_desktop.core.store.township import villages
from tests.core.forms import test_prefill_summary as prefill
from tests.core.forms.test_prefill_summary import NOW, _payment_file, _person_file

_township_template = prefill._township_template  # the generated township (1,500 households)
township = prefill.township  # a private copy of it

DAYS = [
    date(2026, 12, 3),
    date(2026, 10, 31),
    date(2026, 11, 1),
    date(2024, 2, 29),
    date(2025, 2, 28),
    date(2026, 3, 1),
    date(2025, 12, 31),
]


def _charts(store: Store, today: date, *, summary: bool, monkeypatch: Any) -> list[Chart]:
    """The three charts of the township and of each village, read from the summary or (as the
    code before it did) counted from the records."""
    with monkeypatch.context() as patch:
        if not summary:
            patch.setattr(stats_queries, "is_fresh", lambda _session: False)
        with store.sessions() as session:
            if summary:
                assert is_fresh(session)
            out = []
            for area in [None, *(v.code for v in villages(session))]:
                for make in (coverage_chart, population_chart, payments_chart):
                    out.append(make(session, today, area, "青禾镇"))
            return out


def _assert_same_charts(store: Store, monkeypatch: Any, days: list[date] = DAYS) -> None:
    for today in days:
        read = _charts(store, today, summary=True, monkeypatch=monkeypatch)
        counted = _charts(store, today, summary=False, monkeypatch=monkeypatch)
        assert read == counted, today


def _coverage_rows(db: Any) -> list[tuple]:
    return sorted(
        tuple(r)
        for r in db.execute(
            text("SELECT village_code, birth_date, enrolled, receiving, n FROM summary_coverage")
        )
    )


def _assert_coverage_as_rebuilt(store: Store) -> None:
    with store.sessions() as session, session.begin():
        refreshed = _coverage_rows(session)
        coverage_rebuild(session)
        assert _coverage_rows(session) == refreshed
        session.rollback()


def test_the_charts_from_the_summary_are_the_charts_counted_from_the_records(
    township, monkeypatch
) -> None:
    _assert_same_charts(township, monkeypatch)
    chart = _charts(township, DAYS[0], summary=True, monkeypatch=monkeypatch)
    coverage, population, payments = chart[:3]
    assert sum(coverage.series[0].bases) > 2000 and sum(population.series[0].values) > 1000
    assert sum(payments.series[0].values) > 0
    # The figures behind the charts too (a village's payments: its persons', whatever their status).
    with township.sessions() as session:
        village = villages(session)[0].code
        for area in (None, village):
            for today in DAYS[:3]:
                assert stats_queries.population_by_band(
                    session, today, area, summary=True
                ) == stats_queries.population_by_band(session, today, area, summary=False)
                months = stats_queries.month_window(session, today, summary=True)
                assert months == stats_queries.month_window(session, today, summary=False)
                assert stats_queries.payments_by_month(
                    session, months, area, summary=True
                ) == stats_queries.payments_by_month(session, months, area, summary=False)


def test_after_imports_of_payments_persons_and_enrollments(township, monkeypatch, tmp_path) -> None:
    path = _payment_file(township, tmp_path, 202610, skip=7, change=5)
    assert import_file(township, path, user="clerk", now=NOW).absent > 0
    path = _payment_file(township, tmp_path, 202611, skip=1000, change=3)
    import_file(township, path, user="clerk", now=NOW)
    _assert_same_charts(township, monkeypatch, DAYS[:2])
    moved = _person_file(township, tmp_path)  # paid people moved to another village, newcomers
    result = import_file(township, moved, user="clerk", now=NOW, full_snapshot=False)
    assert result.inserted and result.updated
    _assert_coverage_as_rebuilt(township)
    _assert_same_charts(township, monkeypatch, DAYS[:3])
    with township.sessions() as session:
        enrolled = list(
            session.execute(
                text(
                    "SELECT id_number, name FROM ss_enrollment WHERE scheme_code = '170'"
                    " ORDER BY id LIMIT 60"
                )
            )
        )
    path = tmp_path / "enrollment.csv"
    path.write_text(
        "公民身份号码,姓名,险种类型,缴费状态,待遇领取标志\n"
        + "".join(
            f"{w},{n},170,{('1', '2', '3')[i % 3]},{i % 2}\n" for i, (w, n) in enumerate(enrolled)
        ),
        "utf-8",
    )
    assert import_file(township, path, user="clerk", now=NOW).absent > 100  # a full snapshot
    _assert_coverage_as_rebuilt(township)
    _assert_same_charts(township, monkeypatch, DAYS[:3])


@pytest.mark.parametrize(
    "edit",
    [
        # an adult's 城乡居民养老保险 becomes a child's
        "UPDATE ss_enrollment SET id_number = (SELECT MIN(id_number) FROM person"
        " WHERE birth_date > '2015-01-01' AND id_number NOT IN (SELECT id_number FROM ss_enrollment))"
        " WHERE id = (SELECT MAX(id) FROM ss_enrollment WHERE scheme_code = '170'"
        " AND status_code = '1' AND absent_batch_id IS NULL AND id_number IN (SELECT id_number"
        " FROM person WHERE birth_date < '1990-01-01' AND status = 'normal'"
        " AND absent_batch_id IS NULL))",
        "UPDATE ss_enrollment SET receiving = NOT receiving WHERE id % 7 = 0",
        "UPDATE person SET birth_date = '1960-01-15' WHERE id % 11 = 0",
        "UPDATE person SET status = 'deceased', status_date = '2026-10-05' WHERE id % 40 = 0",
        "UPDATE ss_payment SET total_fen = total_fen + 1 WHERE period = 202610 AND id % 9 = 0",
    ],
    ids=["whose", "receiving", "born", "status", "amount"],
)
def test_records_changed_by_hand_are_counted_from_the_records(township, monkeypatch, edit) -> None:
    before = _charts(township, DAYS[0], summary=True, monkeypatch=monkeypatch)
    with township.transaction() as session:
        session.execute(text(edit))
        assert not is_fresh(session)
    with monkeypatch.context() as patch:  # what the window shows: the records' count
        patch.setattr(stats_queries, "is_fresh", lambda _session: False)
        after = _charts(township, DAYS[0], summary=False, monkeypatch=monkeypatch)
    with township.sessions() as session:
        village = villages(session)[0].code
        shown = (
            coverage_chart(session, DAYS[0], None, "青禾镇"),
            payments_chart(session, DAYS[0], village, "青禾镇"),
        )
    assert after != before and shown == (after[0], after[5])
    with township.transaction() as session:
        rebuild(session)
    _assert_same_charts(township, monkeypatch, DAYS[:1])


def _cut_days(days: list[date]) -> Iterator[date]:
    """The days around every age cut of these days: turning 16, 60 and each band's age."""
    for today in days:
        for years in (16, 60, *range(10, 100, 10)):
            cut = years_before(today, years)
            for delta in (-1, 0, 1):
                yield cut + timedelta(days=delta)
        yield years_before(today, 16).replace(day=1)


def test_birthdays_on_the_age_cuts(township, monkeypatch) -> None:
    """People born on the day before, on and after each cut (and on 29 February), enrolled in
    every way: the months that hold a cut are counted from the registry, exactly."""
    days = [*DAYS, date(2028, 2, 29), date(2027, 2, 28)]
    births = sorted(set(_cut_days(days)) | {date(1964, 2, 29), date(1968, 2, 29)})
    with township.transaction() as session:
        code = villages(session)[1].code
        batch = session.execute(text("SELECT MAX(id) FROM batch")).scalar_one()
        for serial, born in enumerate(births):
            who = idnumber.make("441998", born, serial % 500, male=serial % 2 == 0)
            session.add(
                Person(
                    id_number=who,
                    name="某",
                    sex_code="1" if serial % 2 == 0 else "2",
                    birth_date=born,
                    village_code=code if serial % 5 else None,
                    status="normal",
                    batch_id=batch,
                )
            )
            scheme = ("170", "170", "170", "110", None)[serial % 5]
            if scheme is not None:
                session.add(
                    Enrollment(
                        id_number=who,
                        name="某",
                        scheme_code=scheme,
                        status_code=("1", "2", "3")[serial % 3],
                        receiving=serial % 4 == 0,
                        batch_id=batch,
                    )
                )
        session.flush()
        assert not is_fresh(session)
        rebuild(session)
    _assert_same_charts(township, monkeypatch, days)


def test_the_migration_builds_the_coverage_summary(township) -> None:
    from alembic import command

    from govshare_desktop.core.store.migrate import _config

    with township.sessions() as session:
        before = _coverage_rows(session)
    with township.engine.begin() as conn:
        command.downgrade(_config(conn), "0016")
    with township.engine.begin() as conn:
        command.upgrade(_config(conn), "head")
    with township.sessions() as session:
        assert is_fresh(session) and _coverage_rows(session) == before and len(before) > 500
