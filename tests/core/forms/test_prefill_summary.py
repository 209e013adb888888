"""The 预填 summary (issue 20) gives the same values as the records themselves: for every kind of
computed element, several periods, on a generated township; after imports of payments, persons,
households and enrollments; after imports that were rolled back; and when something wrote the
records behind its back (then it is not read). A refresh leaves the summary exactly as a rebuild
from the records would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from govshare_desktop.core.backflow.pipeline import import_file, plan_file, run_plan
from govshare_desktop.core.demo import generate
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms import compute
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.vocabulary import Computation
from govshare_desktop.core.store.engine import Store, open_store
from govshare_desktop.core.store.summary import is_fresh, rebuild
from tests.conftest import as_clerk, copy_of, township_template

T = "441900199000"
NOW = datetime(2026, 12, 2, 9, 0)
PERIODS = ["2026-10", "2026-11", "2026Q3", "2026H1", "2025", "2024-02", "2026-02", "2022Q1"]
PAY_HEADER = "社会保障号码,发放年月,基础养老金,个人账户养老金,实发金额"
SUMMARY_TABLES = {
    "summary_person": "village_code, sex_code, birth_date, status, status_date, n",
    "summary_household": "village_code, household_type, n",
    "summary_enrollment": "village_code, scheme_code, status_code, receiving, n",
    "summary_payment": "village_code, period, payments, total_fen, basic_fen, account_fen",
    "summary_payee": "id_number, year, village_code, months",
}


@dataclass(frozen=True)
class Element:
    code: str
    compute: Computation
    level: str = "area"


def _c(aggregate: str, dataset: str, column: str | None = None, **where: Any) -> Computation:
    return Computation(aggregate, dataset, column, where)


# Beyond the shipped dictionary: every filter and aggregate the summary answers, and some it does
# not (relationship, ethnicity, registry, a distinct count of a column that repeats), which are
# computed from the records beside it.
EXTRA = [
    Element("X_ALL_PERSONS", _c("count", "person")),
    Element("X_DISTINCT_IDS", _c("count_distinct", "person", "id_number", status="normal")),
    Element("X_HOUSEHOLDS_OF_PERSONS", _c("count_distinct", "person", "household_no")),
    Element("X_WOMEN_18_59", _c("count", "person", sex="2", age_min=18, age_max=59)),
    Element("X_GONE", _c("count", "person", status=["deceased", "moved_out"])),
    Element("X_NORMAL_OR_DEAD", _c("count", "person", status=["normal", "deceased"])),
    Element("X_CHANGED", _c("count", "person", status_in_period=True)),
    Element("X_HEADS", _c("count", "person", relationship="02", status="normal")),
    Element("X_HAN", _c("count", "person", ethnicity="01")),
    Element("X_HOUSEHOLD_NOS", _c("count_distinct", "household", "household_no")),
    Element("X_FAMILY", _c("count", "household", household_type=["1", "2"])),
    Element("X_ENROLLED", _c("count", "ss_enrollment")),
    Element("X_ENROLLED_PEOPLE", _c("count_distinct", "ss_enrollment", "id_number")),
    Element("X_PENSIONERS", _c("count_distinct", "ss_enrollment", "id_number", scheme="170")),
    Element("X_STOPPED", _c("count", "ss_enrollment", status_code=["2", "3"], receiving=False)),
    Element("X_OUTSIDERS", _c("count", "ss_enrollment", scheme="170", registry="out")),
    Element("X_PAYMENTS", _c("count", "ss_payment", period_in=True)),
    Element("X_PAYMENTS_EVER", _c("count", "ss_payment")),
    Element("X_BASIC", _c("sum", "ss_payment", "basic_fen", period_in=True)),
    Element("X_ACCOUNT", _c("sum", "ss_payment", "account_fen", period_in=True)),
    Element("X_TOTAL_EVER", _c("sum", "ss_payment", "total_fen")),
    Element("X_PAYEES_EVER", _c("count_distinct", "ss_payment", "id_number")),
]
ELEMENTS = [
    *(e for e in load_dictionary().values() if e.compute is not None and e.level == "area"),
    *EXTRA,
]


def _values(store: Store, period: str, *, summary: bool, monkeypatch: Any) -> dict:
    with monkeypatch.context() as patch:
        if not summary:
            patch.setattr(compute, "is_fresh", lambda _session: False)
        return compute.compute_area_values(store, ELEMENTS, Period.parse(period), township_code=T)


def _assert_same_values(store: Store, monkeypatch: Any, periods: list[str] = PERIODS) -> None:
    with store.sessions() as session:
        assert is_fresh(session)
    for period in periods:
        read = _values(store, period, summary=True, monkeypatch=monkeypatch)
        counted = _values(store, period, summary=False, monkeypatch=monkeypatch)
        assert read == counted, period


def _summary(db: Any) -> dict[str, list[tuple]]:
    return {
        table: sorted(
            tuple(row) for row in db.execute(text(f"SELECT {columns} FROM {table}")).all()
        )
        for table, columns in SUMMARY_TABLES.items()
    }


def _assert_as_rebuilt(store: Store) -> None:
    """The summary as the refreshes left it equals the one counted again from the records."""
    with store.sessions() as session, session.begin():
        refreshed = _summary(session)
        rebuild(session)
        assert _summary(session) == refreshed
        session.rollback()


@pytest.fixture(scope="module")
def _township_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return township_template(tmp_path_factory, "summary", households=1_500, seed=5)


@pytest.fixture
def township(_township_template: Path, tmp_path: Path) -> Iterator[Store]:
    yield from copy_of(_township_template, tmp_path)


def _people(store: Store, sql: str) -> list[tuple]:
    with store.sessions() as session:
        return list(session.execute(text(sql)).all())


def _payment_file(store: Store, tmp_path: Path, month: int, *, skip: int, change: int) -> Path:
    """The payments of ``month`` as a file would bring them again: every ``skip``-th person left
    out (marked absent by the import), every ``change``-th with a new amount; plus new payments
    for people of the registry who had none."""
    paid = _people(
        store,
        "SELECT id_number, basic_fen, account_fen, total_fen FROM ss_payment"
        f" WHERE period = {month} AND absent_batch_id IS NULL ORDER BY id_number",
    )
    unpaid = _people(
        store,
        "SELECT id_number FROM person WHERE id_number NOT IN (SELECT id_number FROM ss_payment)"
        " ORDER BY id_number LIMIT 25",
    )
    lines = [PAY_HEADER]
    for i, (who, basic, account, total) in enumerate(paid):
        if i % skip == 0:
            continue
        if i % change == 0:
            basic, total = basic + 1000, total + 1000
        lines.append(f"{who},{month},{basic / 100:.2f},{account / 100:.2f},{total / 100:.2f}")
    lines += [f"{who},{month},100.00,0.00,100.00" for (who,) in unpaid]
    path = tmp_path / f"pay_{month}.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _person_file(store: Store, tmp_path: Path) -> Path:
    """Persons, not a full snapshot: paid people moved to another village, and people paid but
    not in the registry (outsiders) joining it."""
    villages = [v for (v,) in _people(store, "SELECT code FROM area WHERE level = 'village'")]
    moved = _people(
        store,
        "SELECT p.id_number, p.name, p.village_code FROM person p WHERE p.id_number IN"
        " (SELECT id_number FROM ss_payment) ORDER BY p.id_number LIMIT 30",
    )
    outsiders = _people(
        store,
        "SELECT DISTINCT id_number FROM ss_payment WHERE id_number NOT IN"
        " (SELECT id_number FROM person) ORDER BY id_number LIMIT 10",
    )
    assert moved and outsiders
    lines = ["公民身份号码,姓名,所属村（社区）代码"]
    for who, name, village in moved:
        lines.append(f"{who},{name},{villages[(villages.index(village) + 1) % len(villages)]}")
    lines += [f"{who},新来{i},{villages[i % len(villages)]}" for i, (who,) in enumerate(outsiders)]
    path = tmp_path / "persons.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


# ---------------------------------------------------------------- the proof


def test_the_summary_gives_every_elements_values_as_the_records_do(township, monkeypatch) -> None:
    assert len(ELEMENTS) >= 40
    _assert_same_values(township, monkeypatch)
    _assert_as_rebuilt(township)
    october = _values(township, "2026-10", summary=True, monkeypatch=monkeypatch)
    assert october["P_TOTAL"][T] > 3000 and october["I_PAID_PEOPLE"][T] > 100


def test_imports_of_payments_refresh_their_months(township, monkeypatch, tmp_path) -> None:
    for month, skip, change in ((202610, 7, 5), (202611, 1000, 3), (202609, 2, 1000)):
        result = import_file(
            township, _payment_file(township, tmp_path, month, skip=skip, change=change),
            user="clerk", now=NOW,
        )  # fmt: skip
        assert result.inserted + result.updated + result.absent > 0
        _assert_as_rebuilt(township)
    _assert_same_values(township, monkeypatch)


def test_imports_of_persons_move_their_payments(township, monkeypatch, tmp_path) -> None:
    result = import_file(
        township, _person_file(township, tmp_path), user="clerk", now=NOW, full_snapshot=False
    )
    assert result.inserted == 10 and result.updated == 30
    _assert_as_rebuilt(township)
    _assert_same_values(township, monkeypatch)
    # A full snapshot of a few people: everybody else is no longer in the registry.
    path = tmp_path / "few.csv"
    few = _people(township, "SELECT id_number, name FROM person ORDER BY id LIMIT 5")
    path.write_text("公民身份号码,姓名\n" + "".join(f"{w},{n}\n" for w, n in few), "utf-8")
    assert import_file(township, path, user="clerk", now=NOW).absent > 3000
    _assert_as_rebuilt(township)
    _assert_same_values(township, monkeypatch, ["2026-10", "2025"])


def test_an_import_that_moves_many_people_counts_the_payments_again(
    township, monkeypatch, tmp_path
) -> None:
    from govshare_desktop.core.store import summary

    monkeypatch.setattr(summary, "MOVES_COUNTED_AGAIN", 5)
    path = _person_file(township, tmp_path)
    assert import_file(township, path, user="clerk", now=NOW, full_snapshot=False).updated == 30
    _assert_as_rebuilt(township)
    _assert_same_values(township, monkeypatch, ["2026-10", "2025"])


def test_imports_of_enrollments_and_households(township, monkeypatch, tmp_path) -> None:
    enrolled = _people(
        township,
        "SELECT id_number, name FROM ss_enrollment WHERE scheme_code = '170' ORDER BY id LIMIT 40",
    )
    path = tmp_path / "enrollment.csv"
    path.write_text(
        "公民身份号码,姓名,险种类型,缴费状态,待遇领取标志\n"
        + "".join(f"{w},{n},170,{'2' if i % 3 else '1'},{i % 2}\n" for i, (w, n) in enumerate(enrolled)),
        "utf-8",
    )  # fmt: skip
    assert import_file(township, path, user="clerk", now=NOW).absent > 100
    _assert_as_rebuilt(township)
    households = _people(township, "SELECT household_no FROM household ORDER BY id LIMIT 50")
    path = tmp_path / "households.csv"
    path.write_text("户号,户别\n" + "".join(f"{h},2\n" for (h,) in households), "utf-8")
    import_file(township, path, user="clerk", now=NOW, full_snapshot=False)
    _assert_as_rebuilt(township)
    _assert_same_values(township, monkeypatch, ["2026-10"])


def test_a_rolled_back_import_leaves_the_summary_as_it_was(township, monkeypatch, tmp_path) -> None:
    with township.sessions() as session:
        before = _summary(session)
    path = _payment_file(township, tmp_path, 202610, skip=3, change=2)
    import_file(township, path, user="clerk", now=NOW, dry_run=True)
    # In the caller's transaction (as a package does), refreshed, then rolled back.
    plan = plan_file(township, path)
    with township.sessions() as session:
        with session.begin():
            run_plan(township, plan, user="clerk", now=NOW, session=session)
            assert _summary(session) != before  # refreshed in the transaction
            session.rollback()
        assert _summary(session) == before
    _assert_same_values(township, monkeypatch, ["2026-10", "2026Q4"])


def test_records_written_behind_its_back_are_counted_from_the_records(
    township, monkeypatch, tmp_path
) -> None:
    with township.transaction() as session:
        session.execute(
            text(
                "INSERT INTO ss_payment (id_number, period, basic_fen, account_fen, total_fen,"
                " batch_id) SELECT id_number, 202612, 1, 0, 1, batch_id FROM ss_payment"
                " WHERE period = 202610"
            )
        )
        assert not is_fresh(session)
    read = _values(township, "2026-12", summary=True, monkeypatch=monkeypatch)
    assert read["I_PAID_TOTAL"][T] > 100  # not the summary's 0: computed from the records
    assert read == _values(township, "2026-12", summary=False, monkeypatch=monkeypatch)
    # The next import finds writes it did not make: it counts the whole summary again.
    path = tmp_path / "pay.csv"
    who = _people(township, "SELECT id_number FROM person ORDER BY id LIMIT 1")[0][0]
    path.write_text(f"{PAY_HEADER}\n{who},202611,1.00,0.00,1.00\n", "utf-8")
    import_file(township, path, user="clerk", now=NOW)
    _assert_as_rebuilt(township)
    _assert_same_values(township, monkeypatch, ["2026-12", "2026Q4"])


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE person SET village_code = (SELECT MIN(code) FROM area WHERE level = 'village')"
        " WHERE id IN (SELECT id FROM person ORDER BY id DESC LIMIT 50)",
        "UPDATE person SET status = 'deceased', status_date = '2026-10-05' WHERE id % 40 = 0",
        "UPDATE ss_payment SET total_fen = total_fen + 1 WHERE period = 202610 AND id % 9 = 0",
        "UPDATE ss_enrollment SET receiving = NOT receiving WHERE id % 7 = 0",
        "UPDATE household SET absent_batch_id = batch_id WHERE id % 5 = 0",
        "DELETE FROM ss_payment WHERE period = 202609",
    ],
    ids=["village", "status", "amount", "receiving", "absent", "delete"],
)
def test_records_changed_by_hand_are_counted_from_the_records(township, monkeypatch, edit) -> None:
    before = _values(township, "2026Q4", summary=True, monkeypatch=monkeypatch)
    with township.transaction() as session:
        session.execute(text("UPDATE person SET household_id = household_id"))  # not summarised
        assert is_fresh(session)
        session.execute(text(edit))
        assert not is_fresh(session)
    after = _values(township, "2026Q4", summary=True, monkeypatch=monkeypatch)
    assert after != before and after == _values(
        township, "2026Q4", summary=False, monkeypatch=monkeypatch
    )


def test_the_migration_builds_the_summary_from_the_records(township) -> None:
    from alembic import command

    from govshare_desktop.core.store.migrate import _config

    with township.engine.begin() as conn:
        command.downgrade(_config(conn), "0013")
    with township.engine.connect() as conn:
        assert "summary_person" not in {
            r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))
        }
    with township.engine.begin() as conn:
        command.upgrade(_config(conn), "head")
    _assert_as_rebuilt(township)
    with township.sessions() as session:
        assert is_fresh(session) and len(_summary(session)["summary_person"]) > 1000


def test_birthdays_and_status_dates_at_the_edges_of_periods(store, monkeypatch) -> None:
    """Born on the 28th or 29th of February, on the first or last day of a month; status changed
    on the first or last day of the period, or the day after: the summary keeps dates at the
    resolution that tells these apart."""
    from govshare_desktop.core.domain import idnumber
    from govshare_desktop.core.store.models import Batch, Person
    from govshare_desktop.core.store.township import add_village, init_township

    births = [date(2008, 2, 28), date(2008, 2, 29), date(2008, 3, 1), date(2007, 2, 28),
              date(2010, 2, 28), date(1966, 10, 31), date(1966, 11, 1), date(1946, 2, 1)]  # fmt: skip
    changes = [None, date(2026, 10, 1), date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 1),
               date(2024, 2, 29), date(2026, 2, 28), date(2026, 3, 1)]  # fmt: skip
    with store.transaction() as session:
        init_township(session, T, "青禾镇")
        add_village(session, "441900199201", "东岭村委会")
        batch = Batch(dataset="person", source_department="t", imported_at=NOW, imported_by="t")
        session.add(batch)
        session.flush()
        serial = 100
        for birth in births:
            for change in changes:
                for status in ("normal", "deceased", "moved_out") if change else ("normal",):
                    serial += 1
                    session.add(
                        Person(
                            id_number=idnumber.make("441900", birth, serial, male=serial % 2 == 0),
                            name="某",
                            sex_code="1" if serial % 2 == 0 else "2",
                            birth_date=birth,
                            village_code="441900199201",
                            status=status,
                            status_date=change,
                            batch_id=batch.id,
                        )
                    )
        session.flush()
        rebuild(session)
    elements = [Element("E", _c("count", "person", status="normal"))]
    for n in (16, 17, 18, 19, 59, 60, 79, 80):
        elements.append(Element(f"MIN{n}", _c("count", "person", age_min=n, status="normal")))
        elements.append(Element(f"MAX{n}", _c("count", "person", age_max=n)))
    elements += [
        Element("DIED", _c("count", "person", status="deceased", status_in_period=True)),
        Element("LEFT", _c("count", "person", status=["moved_out", "deceased"])),
    ]
    periods = ["2026-02", "2024-02", "2025-02", "2026-10", "2026Q4", "2026Q1", "2026-09", "2026"]
    for period in periods:
        read = compute.compute_area_values(store, elements, Period.parse(period), township_code=T)
        with monkeypatch.context() as patch:
            patch.setattr(compute, "is_fresh", lambda _session: False)
            counted = compute.compute_area_values(
                store, elements, Period.parse(period), township_code=T
            )
        assert read == counted, period
    assert read["MIN18"][T] > 0


def test_a_laptops_database_has_the_summary_of_its_village(tmp_path, monkeypatch) -> None:
    """Check-out copies one village's records into the laptop's database (check-in brings back
    values, never records): the copy gets its own summary, so the laptop's 预填 reads it too."""
    from tests.core.test_laptop import Laptop, Office, check_out, make_office

    office = Office(make_office(tmp_path / "office" / "gov.db"))
    out = tmp_path / "laptop" / "村.db"
    out.parent.mkdir()
    check_out(office, out)
    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)
    _assert_same_values(lap.ctx.store, monkeypatch, ["2026-10", "2025"])
    _assert_as_rebuilt(lap.ctx.store)
    assert _values(lap.ctx.store, "2026-10", summary=True, monkeypatch=monkeypatch)["P_TOTAL"][T]
    lap.ctx.store.dispose()


@pytest.mark.slow
def test_a_larger_township_too(tmp_path, monkeypatch) -> None:
    store = as_clerk(open_store(tmp_path / "large.db"))
    generate(store, households=20_000, seed=2)
    _assert_same_values(store, monkeypatch, ["2026-10", "2026Q2", "2025", "2024-02"])
    path = _payment_file(store, tmp_path, 202610, skip=11, change=4)
    import_file(store, path, user="clerk", now=NOW)
    _assert_as_rebuilt(store)
    _assert_same_values(store, monkeypatch, ["2026-10", "2026"])
    store.dispose()
