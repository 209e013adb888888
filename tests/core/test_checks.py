"""比对核查: every shipped check on a small township built record by record, with planted cases and
near misses beside them — each check finds exactly the planted people. Then the cases' life: found,
verified, closed, not reopened by the same evidence, reopened by new evidence, gone when the data is
fixed. And broken check files are refused naming file and field."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from govshare_desktop.core.checks.cases import move_case, run_checks
from govshare_desktop.core.checks.definitions import CheckError, load_checks, parse_check
from govshare_desktop.core.domain.idnumber import make
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    Batch,
    CheckCase,
    CheckCaseEvent,
    Enrollment,
    Household,
    Payment,
    Person,
)
from govshare_desktop.core.store.township import add_village, init_township

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 10, 0)
VILLAGE = "441900199201"
_serial = iter(range(1, 999))


def _id(born: date, male: bool = True) -> str:
    return make("441900", born, next(_serial), male=male)


class Township:
    """Records added straight into the store, each from a batch of its dataset."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as session:
            init_township(session, "441900199000", "青禾镇")
            add_village(session, VILLAGE, "东岭村")
            self.batches = {}
            for dataset in ("household", "person", "ss_enrollment", "ss_payment"):
                batch = Batch(
                    dataset=dataset,
                    source_department="测试",
                    as_of=TODAY,
                    imported_at=NOW,
                    imported_by="test",
                )
                session.add(batch)
                session.flush()
                self.batches[dataset] = batch.id

    def person(
        self,
        born: date,
        *,
        status: str = "normal",
        status_date: date | None = None,
        household: str = "H1",
        male: bool = True,
    ) -> str:
        number = _id(born, male)
        with self.store.transaction() as session:
            session.add(
                Person(
                    id_number=number,
                    name=f"测试{number[-4:]}",
                    sex_code="1" if male else "2",
                    birth_date=born,
                    household_no=household,
                    village_code=VILLAGE,
                    status=status,
                    status_date=status_date,
                    batch_id=self.batches["person"],
                    as_of=TODAY,
                )
            )
        return number

    def household(self, number: str, head: str) -> None:
        with self.store.transaction() as session:
            session.add(
                Household(
                    household_no=number,
                    head_id_number=head,
                    head_name="户主",
                    village_code=VILLAGE,
                    batch_id=self.batches["household"],
                    as_of=TODAY,
                )
            )

    def enrol(
        self, number: str, scheme: str, *, status: str = "1", receiving: bool = False
    ) -> None:
        with self.store.transaction() as session:
            session.add(
                Enrollment(
                    id_number=number,
                    name="x",
                    scheme_code=scheme,
                    status_code=status,
                    receiving=receiving,
                    batch_id=self.batches["ss_enrollment"],
                    as_of=TODAY,
                )
            )

    def paid(self, number: str, *months: int, fen: int = 20000) -> None:
        with self.store.transaction() as session:
            for month in months:
                session.add(
                    Payment(
                        id_number=number,
                        period=month,
                        total_fen=fen,
                        batch_id=self.batches["ss_payment"],
                        as_of=TODAY,
                    )
                )


def _hits(store: Store) -> dict[str, set[str]]:
    with store.sessions() as session:
        out: dict[str, set[str]] = {}
        for case in session.scalars(select(CheckCase).where(CheckCase.state == "open")):
            out.setdefault(case.check_id, set()).add(case.subject)
        return out


@pytest.fixture
def town(store: Store) -> Township:
    return Township(store)


def _pensioner(t: Township, born: date = date(1950, 3, 1), **kw) -> str:
    number = t.person(born, **kw)
    t.enrol(number, "170", receiving=True)
    return number


def test_each_check_finds_exactly_the_planted_people(town: Township) -> None:
    t = town
    planted: dict[str, set[str]] = {}
    # 死亡注销后仍领取: paid in 2026-10 after dying in 2026-08; control: last paid 2026-08
    dead_paid = _pensioner(t, status="deceased", status_date=date(2026, 8, 15))
    t.paid(dead_paid, 202607, 202608, 202609, 202610)
    dead_ok = _pensioner(t, status="deceased", status_date=date(2026, 8, 15))
    t.paid(dead_ok, 202607, 202608)
    dead_zero = _pensioner(t, status="deceased", status_date=date(2026, 8, 15))
    t.paid(dead_zero, 202608)
    t.paid(dead_zero, 202609, fen=0)  # a zero line is no payment
    planted["deceased_still_paid"] = {dead_paid}
    # 迁出后仍领取
    moved = _pensioner(t, status="moved_out", status_date=date(2026, 5, 2))
    t.paid(moved, 202605, 202606)
    moved_ok = _pensioner(t, status="moved_out", status_date=date(2026, 5, 2))
    t.paid(moved_ok, 202604, 202605)
    planted["moved_out_still_paid"] = {moved}
    # 适龄未参保: 16 today and 59 — control: 15 (birthday tomorrow), enrolled, 60
    sixteen = t.person(date(2010, 12, 2))
    fifty_nine = t.person(date(1967, 1, 1))
    t.person(date(2010, 12, 3))  # 15: sixteen tomorrow
    enrolled = t.person(date(1990, 1, 1))
    t.enrol(enrolled, "110")
    ended = t.person(date(1991, 1, 1))
    t.enrol(ended, "170", status="3")  # 终止缴费: not enrolled any more
    planted["working_age_no_pension"] = {sixteen, fifty_nine, ended}
    # 60 周岁以上未领取 (the pensioners above receive; deceased/moved people are not counted)
    sixty = t.person(date(1966, 12, 2))
    t.enrol(sixty, "170")  # enrolled, not receiving
    planted["over_60_not_receiving"] = {sixty}
    # 新生儿未参加居民医保
    baby = t.person(date(2026, 3, 1))
    baby_ok = t.person(date(2026, 4, 1))
    t.enrol(baby_ok, "390")
    t.person(date(2025, 12, 31))  # born last year
    planted["newborn_no_medical"] = {baby}
    # 同时参加职工和居民养老 (an ended one does not count)
    both = t.person(date(1980, 1, 1))
    t.enrol(both, "110")
    t.enrol(both, "170", status="2")
    one = t.person(date(1981, 1, 1))
    t.enrol(one, "110")
    t.enrol(one, "170", status="3")
    planted["both_pensions"] = {both}
    # 同一身份号码出现在两户: a member of H1 who heads H2; control: heads their own household
    twice = t.person(date(1970, 1, 1), household="H1")
    t.household("H2", twice)
    head = t.person(date(1971, 1, 1), household="H3")
    t.household("H3", head)
    for number in (twice, head):
        t.enrol(number, "170")
    planted["id_in_two_households"] = {twice}
    checks, problems = load_checks()
    assert problems == [] and set(planted) <= set(checks)
    result = run_checks(t.store, checks, today=TODAY, now=NOW)
    ran = {o.check.id for o in result.outcomes if o.skipped is None}
    assert ran == set(planted)  # the others join datasets this township has not imported
    assert _hits(t.store) == planted
    assert "新增待核实" in result.summary()


def test_a_case_lives_through_verification_closing_and_new_evidence(town: Township) -> None:
    t = town
    dead = _pensioner(t, status="deceased", status_date=date(2026, 8, 15))
    t.paid(dead, 202609)
    checks = {k: v for k, v in load_checks()[0].items() if k == "deceased_still_paid"}
    run_checks(t.store, checks, today=TODAY, now=NOW)
    with t.store.sessions() as session:
        case = session.scalar(select(CheckCase))
        assert case.state == "open" and '"PENSION_LAST_MONTH": 202609' in case.evidence
        assert t.batches["ss_payment"] in json.loads(case.batches)
    with pytest.raises(UserError, match="须写明理由"):
        move_case(t.store, case.id, "false_alarm", now=NOW)
    move_case(t.store, case.id, "village_verified", note="村委会上门核实：确已去世", now=NOW)
    move_case(t.store, case.id, "confirmed", note="报人社停发", now=NOW)
    with pytest.raises(UserError, match="不能改为"):
        move_case(t.store, case.id, "open", now=NOW)
    # the same evidence again: stays closed
    run_checks(t.store, checks, today=TODAY, now=NOW)
    assert _state(t.store, case.id) == "confirmed"
    # new evidence (another month paid): reopened, and it says why
    t.paid(dead, 202610)
    result = run_checks(t.store, checks, today=TODAY, now=NOW)
    assert result.outcomes[0].reopened == 1 and _state(t.store, case.id) == "open"
    # the data fixed (payments after death withdrawn): an open case is gone
    with t.store.transaction() as session:
        session.execute(update(Payment).where(Payment.period > 202608).values(total_fen=0))
    assert run_checks(t.store, checks, today=TODAY, now=NOW).outcomes[0].gone == 1
    with t.store.sessions() as session:
        events = [
            (e.from_state, e.to_state)
            for e in session.scalars(select(CheckCaseEvent).order_by(CheckCaseEvent.id))
        ]
    assert events == [
        (None, "open"),
        ("open", "village_verified"),
        ("village_verified", "confirmed"),
        ("confirmed", "open"),
        ("open", "gone"),
    ]


def _state(store: Store, case_id: int) -> str:
    with store.sessions() as session:
        return session.get(CheckCase, case_id).state


def test_a_check_waits_for_its_datasets(store: Store) -> None:
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    result = run_checks(store, load_checks()[0], today=TODAY, now=NOW)
    assert all(o.skipped and "尚未导入" in o.skipped for o in result.outcomes)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"condition": "NOPE > 1"}, "未知的事实“NOPE”"),
        ({"condition": "AGE >"}, "condition 有误"),
        ({"datasets": ["person"]}, "来自数据集 ss_payment"),
        ({"severity": "fatal"}, "severity"),
        ({"title": ""}, "缺少字段“title”"),
        ({"colour": "red"}, "未知字段“colour”"),
    ],
)
def test_a_broken_check_names_file_and_field(change: dict, expected: str, tmp_path: Path) -> None:
    document = {
        "id": "x",
        "title": "t",
        "department": "人社",
        "explanation": "e",
        "datasets": ["person", "ss_payment"],
        "condition": 'STATUS == "deceased" and PENSION_LAST_MONTH > STATUS_MONTH',
        "severity": "error",
        "action": "a",
    }
    document.update(change)
    with pytest.raises(CheckError, match=expected) as caught:
        parse_check(document, "bad.toml")
    assert "bad.toml" in caught.value.message
    (tmp_path / "bad.toml").write_text('id = "x"\ncondition = "(\n', encoding="utf-8")
    checks, problems = load_checks(tmp_path)
    assert checks == {} and "bad.toml" in str(problems[0])


def test_the_demo_townships_planted_anomalies_are_found(demo_store: Store) -> None:
    """The demo generator plants anomalies in the 民政, 医保, 殡葬, 卫健 and 残联 data and says who
    (core/demo_departments.py): each check finds the planted people — exactly, where the planting
    is the only way the condition can hold in the demo."""
    from govshare_desktop.core.demo_departments import planted_anomalies
    from govshare_desktop.core.security.permissions import Principal, Role

    planted = planted_anomalies(demo_store)
    clerk = demo_store.acting(Principal("clerk", Role.CLERK))
    result = run_checks(clerk, load_checks()[0], today=TODAY, now=NOW)
    assert all(o.skipped is None for o in result.outcomes)
    hits = _hits(demo_store)
    exact = {
        "elderly_allowance_mismatch": "elderly_allowance_under_80",
        "death_certificate_registry_normal": "death_certificate_registry_normal",
        "assistance_without_medical_subsidy": "assistance_without_medical_subsidy",
        "care_subsidy_without_severe_card": "care_subsidy_without_severe_card",
    }
    for check_id, kind in exact.items():
        assert planted[kind], f"the demo planted no {kind}"
        assert hits.get(check_id, set()) == set(planted[kind]), check_id
    paid_after_death = set(planted["pension_after_death"]) | set(
        planted["assistance_after_cremation"]
    )
    assert paid_after_death and hits["deceased_still_paid"] == paid_after_death
