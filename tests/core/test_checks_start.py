"""比对核查: where a check's query starts. A condition that cannot hold without some records
(``CARE_SUBSIDY == 1``) starts from them — worked out on the rule's tree with SQL's NULL — and finds
the same people as the query over every person. And the age and the months read from the date's
stored text agree with the calendar (birthdays today and tomorrow, 29 February)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from govshare_desktop.core.checks import sql
from govshare_desktop.core.checks.cases import find_hits
from govshare_desktop.core.checks.definitions import DATASETS, load_checks, parse_check
from govshare_desktop.core.checks.facts import FACTS, FactQuery
from govshare_desktop.core.checks.sql import can_hold, needed_records, to_sql
from govshare_desktop.core.domain.idnumber import make
from govshare_desktop.core.forms.expr import parse
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Batch, Person
from govshare_desktop.core.store.township import add_village, init_township

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("condition", "known", "may"),
    [
        ("CARE == 1 and CARD == 0", {"CARE": 0}, False),
        ("CARE == 1 and CARD == 0", {"CARD": 0}, True),
        ("CARE == 1 or CARD == 0", {"CARE": 0}, True),
        ("FIRST < T80 or LAST > DIED", {"FIRST": None, "LAST": None}, False),
        ("FIRST < T80 or LAST > DIED", {"FIRST": None}, True),
        ("DIED > 0 and (PAID > DIED or ACTIVE == 1)", {"DIED": None}, False),
        ("not (CARE == 1)", {"CARE": 0}, True),
        ("not (DIED > 0)", {"DIED": None}, False),  # not NULL is NULL
        ("not (DIED > 0 and X == 1)", {"DIED": None}, True),  # false or unknown: not may be true
        ("CARE != 1", {"CARE": 0}, True),
        ("CARE in (1, 2)", {"CARE": 0}, False),
        ("CARE not in (1, 2)", {"CARE": 0}, True),
        ("CARE in (1, null)", {"CARE": 0}, False),
        ("coalesce(LAST, 0) == 0", {"LAST": None}, True),
        ("coalesce(LAST, X) > 5", {"LAST": None}, True),
        ("LAST * 0 == 0", {"LAST": None}, False),
        ("CARE + 1 > 1", {"CARE": 0}, False),
        ("CARE / 0 > 1 or CARE - 1 < 0", {"CARE": 0}, True),
        ("sum(CARE, X) > 0", {"CARE": 0}, True),  # not worked out: may
        ("empty(LAST)", {"LAST": None}, True),
        ('CARE == "1"', {"CARE": 0}, True),  # text beside a number: not worked out
        ("0 < CARE < 2", {"CARE": 0}, False),
        ("-CARE < 0", {"CARE": 0}, False),
        ("CARE == true", {"CARE": 0}, False),
    ],
)
def test_whether_a_condition_can_hold_with_some_facts_known(
    condition: str, known: dict, may: bool
) -> None:
    assert can_hold(parse(condition), known) is may


def test_each_shipped_check_starts_from_the_few_records_it_needs() -> None:
    checks, problems = load_checks()
    assert not problems
    starts = {cid: [r.label for r in needed_records(c.condition)] for cid, c in checks.items()}
    assert starts == {
        "assistance_without_medical_subsidy": ["救助在保"],  # 居民医保无资助: most persons
        "both_pensions": ["参加企业职工养老"],  # 城乡居民养老: not few
        "care_subsidy_without_severe_card": ["护理补贴发放"],
        "death_certificate_registry_normal": ["死亡医学证明"],
        "deceased_still_paid": ["已知死亡"],
        "elderly_allowance_mismatch": ["高龄津贴发放"],
        "id_in_two_households": [],
        "moved_out_still_paid": [],
        "newborn_no_medical": [],
        "over_60_not_receiving": [],
        "working_age_no_pension": [],
    }
    care = checks["care_subsidy_without_severe_card"]
    query = FactQuery(TODAY)
    columns = {name: FACTS[name].column(query) for name in care.facts}
    assert "person.id_number IN (SELECT allowance_payment.id_number" in str(
        to_sql(care.condition, columns)
    )


EXTRA = [
    ("CARE_SUBSIDY == 1", True),
    ("ELDERLY_ALLOWANCE_LAST_MONTH > 0 and AGE < 90", True),
    ("CREMATED == 1 or DEATH_CERTIFIED == 1", False),  # either: neither alone is needed
    ("DIED_MONTH > 202001", True),
    ("ASSISTANCE_ACTIVE == 1 and MEDICAL_NO_SUBSIDY == 0", True),
    ("EMPLOYEE_PENSION == 1 and AGE >= 50", True),
    ("RECEIVING_PENSION in (1) and AGE < 62", True),
    ("ALLOWANCE_LAST_MONTH - 202600 > 0", True),
    ("coalesce(ALLOWANCE_LAST_MONTH, 0) == 0 and AGE > 95", False),
    ("not (SEVERE_CARD == 0) and AGE > 40", True),  # not (0 == 0) is false
    ("MEDICAL_NO_SUBSIDY == 1 and AGE == 30", False),  # not few: over every person
]


def test_starting_from_the_records_finds_the_same_people(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = list(load_checks()[0].values())
    for condition, _starts in EXTRA:
        document = {
            "id": "extra",
            "title": "t",
            "department": "d",
            "explanation": "e",
            "datasets": list(DATASETS),
            "condition": condition,
            "severity": "warning",
            "action": "a",
        }
        checks.append(parse_check(document, "extra.toml"))
    found = 0
    for check in checks:
        with demo_store.sessions() as session:
            started = find_hits(session, check, TODAY)
            with monkeypatch.context() as patch:
                patch.setattr(sql, "needed_records", lambda expression: [])
                everyone = find_hits(session, check, TODAY)
        assert sorted((h.subject, h.evidence_text, h.batches) for h in started) == sorted(
            (h.subject, h.evidence_text, h.batches) for h in everyone
        ), check.condition.source  # in another order: the query has no ORDER BY
        found += bool(started)
    assert found >= 10  # the comparison is about people, not empty lists
    for condition, starts in EXTRA:
        assert bool(needed_records(parse(condition))) is starts, condition


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1966, 11, 26), date(2026, 11, 26), 60),  # the birthday today
        (date(1966, 11, 27), date(2026, 11, 26), 59),  # tomorrow
        (date(1966, 12, 1), date(2026, 11, 26), 59),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2026, 1, 1), date(2026, 12, 31), 0),
    ],
)
def test_age_and_months_read_from_the_dates_text(
    store: Store, born: date, today: date, age: int
) -> None:
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
        add_village(session, "441900199201", "东岭村")
        batch = Batch(
            dataset="person",
            source_department="测试",
            as_of=today,
            imported_at=datetime(2026, 1, 1),
            imported_by="test",
        )
        session.add(batch)
        session.flush()
        session.add(
            Person(
                id_number=make("441900", born, 1, male=True),
                name="测试",
                sex_code="1",
                birth_date=born,
                household_no="H1",
                village_code="441900199201",
                status="moved_out",
                status_date=date(2025, 7, 31),
                batch_id=batch.id,
                as_of=today,
            )
        )
    q = FactQuery(today)
    names = ("AGE", "BIRTH_YEAR", "TURNS_80_MONTH", "STATUS_MONTH")
    with store.sessions() as session:
        row = session.execute(select(*(FACTS[n].column(q) for n in names))).one()
    assert tuple(row) == (age, born.year, (born.year + 80) * 100 + born.month, 202507)
