"""The demo township's 民政, 医保, 殡葬, 卫健 and 残联 data: real demo persons, consistent with the
registry and with 人社's enrollments, and the planted anomalies — each condition holds for exactly
the persons :func:`planted_anomalies` names.

:data:`ANOMALY_SQL` is the condition of each kind (demo_departments.ANOMALIES) as a query; a check
test can compare what a check finds with ``planted_anomalies(store)[kind]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from govshare_desktop.core import demo
from govshare_desktop.core.demo_departments import ANOMALIES, SOURCES, planted_anomalies
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.store.engine import Store, open_store

ANOMALY_SQL = {
    "pension_after_death": """
        SELECT DISTINCT p.id_number FROM person p JOIN ss_payment s ON s.id_number = p.id_number
        WHERE p.status = 'deceased'
          AND s.period > CAST(strftime('%Y%m', p.status_date) AS INTEGER)""",
    "assistance_after_cremation": """
        SELECT DISTINCT a.id_number FROM assistance a JOIN cremation c ON c.id_number = a.id_number
        WHERE a.status_code = '1' AND a.end_date IS NULL""",
    "death_certificate_registry_normal": """
        SELECT d.id_number FROM death_certificate d JOIN person p ON p.id_number = d.id_number
        WHERE p.status = 'normal'""",
    "assistance_without_medical_subsidy": """
        SELECT DISTINCT a.id_number FROM assistance a
        JOIN medical_enrollment m ON m.id_number = a.id_number AND m.scheme_code = '390'
        WHERE a.status_code = '1' AND m.subsidy_code = '0'""",
    "care_subsidy_without_severe_card": """
        SELECT DISTINCT g.id_number FROM allowance_payment g
        LEFT JOIN disability_card d ON d.id_number = g.id_number
        WHERE g.category_code = '3' AND (d.id IS NULL OR d.level_code NOT IN ('1', '2'))""",
}


def _month_end(period: int) -> date:
    year, month = divmod(period, 100)
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def found(store: Store, kind: str) -> tuple[str, ...]:
    """Who the demo database holds in the condition of ``kind``."""
    with store.engine.connect() as conn:
        if kind == "elderly_allowance_under_80":
            rows = conn.execute(
                text("SELECT id_number, period FROM allowance_payment WHERE category_code = '1'")
            ).all()
            hits = {
                n
                for n, period in rows
                if _age_on(idnumber.parse(n).birth_date, _month_end(period)) < 80
            }
        else:
            hits = {r[0] for r in conn.execute(text(ANOMALY_SQL[kind]))}
    return tuple(sorted(hits))


@pytest.fixture(scope="module", params=[1, 7], ids=["seed1", "seed7"])
def generated(request, tmp_path_factory) -> Iterator[tuple[Store, demo.DemoSummary]]:  # type: ignore[no-untyped-def]
    store = open_store(tmp_path_factory.mktemp("demo") / "d.db")
    summary = demo.generate(store, households=300, seed=request.param)
    yield store, summary
    store.dispose()


def _rows(store: Store, sql: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def _column(store: Store, sql: str) -> set[Any]:
    return {next(iter(r.values())) for r in _rows(store, sql)}


def test_summary_counts_every_department_table(generated) -> None:  # type: ignore[no-untyped-def]
    store, summary = generated
    assert set(summary.departments) == set(SOURCES)
    for dataset, count in summary.departments.items():
        assert _rows(store, f"SELECT count(*) AS n FROM {dataset}")[0]["n"] == count, dataset
        assert count > 0, dataset


def test_recipients_are_demo_persons(generated) -> None:  # type: ignore[no-untyped-def]
    store, _ = generated
    persons = _column(store, "SELECT id_number FROM person")
    for table in ("assistance", "allowance_payment", "disability_card", "cremation"):
        assert _column(store, f"SELECT id_number FROM {table}") <= persons, table
    assert _column(store, "SELECT id_number FROM death_certificate") <= persons
    # names as the registry has them
    mismatched = _rows(
        store,
        "SELECT t.id_number FROM assistance t JOIN person p ON p.id_number = t.id_number "
        "WHERE p.name != t.name",
    )
    assert mismatched == []


def test_medical_mirrors_the_enrollments_of_hrss(generated) -> None:  # type: ignore[no-untyped-def]
    store, _ = generated
    medical = _rows(store, "SELECT id_number, scheme_code, start_date FROM medical_enrollment")
    hrss = _rows(
        store,
        "SELECT id_number, scheme_code, start_date FROM ss_enrollment "
        "WHERE scheme_code IN ('310', '390')",
    )
    key = lambda r: (r["id_number"], r["scheme_code"], r["start_date"])  # noqa: E731
    assert sorted(map(key, medical)) == sorted(map(key, hrss))


def test_deaths_are_certified_and_cremated(generated) -> None:  # type: ignore[no-untyped-def]
    store, _ = generated
    deceased = {
        r["id_number"]: r["status_date"]
        for r in _rows(store, "SELECT id_number, status_date FROM person WHERE status = 'deceased'")
    }
    cremated = _rows(store, "SELECT id_number, death_date, cremation_date FROM cremation")
    assert {r["id_number"]: r["death_date"] for r in cremated} == deceased
    assert all(r["death_date"] < r["cremation_date"] <= "2026-10-31" for r in cremated)
    certified = _column(store, "SELECT id_number FROM death_certificate")
    assert set(deceased) <= certified
    planted = set(planted_anomalies(store)["death_certificate_registry_normal"])
    assert certified == set(deceased) | planted


def test_rows_pass_the_import_checks(generated) -> None:  # type: ignore[no-untyped-def]
    store, _ = generated
    for sql in (
        "SELECT * FROM assistance WHERE end_date < start_date OR monthly_fen < 0",
        "SELECT * FROM assistance WHERE (end_date IS NULL) != (status_code = '1')",
        "SELECT * FROM allowance_payment WHERE amount_fen <= 0 OR period > 202610",
        "SELECT * FROM disability_card WHERE valid_until < issue_date OR issue_date > '2026-10-31'"
        " OR card_no != id_number || category_code || level_code",
        "SELECT * FROM death_certificate WHERE issue_date < death_date",
        "SELECT * FROM medical_enrollment WHERE personal_fen < 0",
    ):
        assert _rows(store, sql) == [], sql


def test_each_planted_anomaly_is_found_for_exactly_its_persons(generated) -> None:  # type: ignore[no-untyped-def]
    store, _ = generated
    planted = planted_anomalies(store)
    assert set(planted) == set(ANOMALIES)
    persons = _column(store, "SELECT id_number FROM person")
    for kind, ids in planted.items():
        assert ids, f"nothing planted for {kind}"
        assert set(ids) <= persons, kind
        assert found(store, kind) == ids, kind
    # one person per kind (the pension anomaly has two), no one planted twice
    everyone = [i for ids in planted.values() for i in ids]
    assert len(everyone) == len(set(everyone))
    assert len(planted["pension_after_death"]) == 2


def test_the_planted_cremated_person_is_dead_and_still_in_care(generated) -> None:  # type: ignore[no-untyped-def]
    store, _ = generated
    (number,) = planted_anomalies(store)["assistance_after_cremation"]
    [row] = _rows(
        store,
        "SELECT p.status, c.cremation_date, a.category_code FROM person p "
        "JOIN cremation c ON c.id_number = p.id_number "
        f"JOIN assistance a ON a.id_number = p.id_number WHERE p.id_number = '{number}'",
    )
    assert row["status"] == "deceased" and row["category_code"].startswith("1")  # 低保


def test_not_a_demo_database_has_no_planted_anomalies(store) -> None:  # type: ignore[no-untyped-def]
    assert planted_anomalies(store) == {kind: () for kind in ANOMALIES}


def test_the_departments_do_not_change_the_registry_or_social_security(tmp_path: Path) -> None:
    """The departments' data come from a random stream of their own: the persons, enrollments
    and payments are those the demo had before them (figures of seed 1, 300 households)."""
    store = open_store(tmp_path / "d.db")
    try:
        summary = demo.generate(store, households=300, seed=1)
        assert (summary.persons, summary.enrollments, summary.payments) == (969, 1584, 10670)
    finally:
        store.dispose()
